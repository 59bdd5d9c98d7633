// SPDX-License-Identifier: MIT
// Unit tests of DeadlineHeap: the earliest deadline with its id, ties broken
// by the smaller id, deadlines moved both ways and removed from any place,
// and seeded runs of random operations checked against a std::map model.
#include "rudp/core/deadline_heap.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <utility>

using namespace rudp;
using namespace rudp::core;
using namespace std::chrono_literals;

namespace {

Instant at(std::chrono::milliseconds ms) { return Instant{} + ms; }

}  // namespace

TEST_CASE("DeadlineHeap: empty, then the earliest of what was set", "[core]") {
  DeadlineHeap heap;
  CHECK(heap.empty());
  CHECK_FALSE(heap.earliest().has_value());
  CHECK_FALSE(heap.deadline(0).has_value());
  heap.set(7, at(30ms));
  heap.set(2, at(10ms));
  heap.set(5, at(20ms));
  CHECK(heap.size() == 3u);
  CHECK(heap.earliest() == std::pair{at(10ms), std::uint32_t{2}});
  CHECK(heap.deadline(7) == at(30ms));
  CHECK_FALSE(heap.deadline(3).has_value());
  CHECK_FALSE(heap.deadline(1000).has_value());
}

TEST_CASE("DeadlineHeap: equal deadlines come out smallest id first", "[core]") {
  DeadlineHeap heap;
  for (const std::uint32_t id : {9u, 4u, 6u, 1u, 8u}) heap.set(id, at(5ms));
  for (const std::uint32_t id : {1u, 4u, 6u, 8u, 9u}) {
    REQUIRE(heap.earliest() == std::pair{at(5ms), id});
    heap.erase(id);
  }
  CHECK(heap.empty());
}

TEST_CASE("DeadlineHeap: a deadline moves earlier and later", "[core]") {
  DeadlineHeap heap;
  heap.set(0, at(10ms));
  heap.set(1, at(20ms));
  heap.set(2, at(30ms));
  heap.set(2, at(5ms));  // earlier: now the earliest
  CHECK(heap.earliest() == std::pair{at(5ms), std::uint32_t{2}});
  heap.set(2, at(40ms));  // later: 0 is the earliest again
  CHECK(heap.earliest() == std::pair{at(10ms), std::uint32_t{0}});
  heap.set(0, at(10ms));  // unchanged
  CHECK(heap.size() == 3u);
  CHECK(heap.deadline(2) == at(40ms));
}

TEST_CASE("DeadlineHeap: erase from the top, the middle and the end, and of absent ids", "[core]") {
  DeadlineHeap heap;
  for (std::uint32_t id = 0; id < 10; ++id) heap.set(id, at(std::chrono::milliseconds(10 * (10 - id))));
  heap.erase(9);   // the earliest
  heap.erase(0);   // the latest
  heap.erase(5);   // somewhere between
  heap.erase(5);   // already gone
  heap.erase(77);  // never there
  CHECK(heap.size() == 7u);
  for (const std::uint32_t id : {8u, 7u, 6u, 4u, 3u, 2u, 1u}) {
    REQUIRE(heap.earliest().has_value());
    CHECK(heap.earliest()->second == id);
    heap.erase(id);
  }
  CHECK(heap.empty());
}

TEST_CASE("DeadlineHeap: random operations agree with a model", "[core]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    DeadlineHeap heap;
    std::map<std::uint32_t, Instant> model;
    for (int step = 0; step < 5000; ++step) {
      const auto id = static_cast<std::uint32_t>(rng() % 200);
      if (rng() % 3 == 0) {
        heap.erase(id);
        model.erase(id);
      } else {
        const Instant t = at(std::chrono::milliseconds(rng() % 100));  // small range: many ties
        heap.set(id, t);
        model[id] = t;
      }
      REQUIRE(heap.size() == model.size());
      std::set<std::pair<Instant, std::uint32_t>> order;
      for (const auto& [i, t] : model) order.emplace(t, i);
      if (order.empty()) {
        REQUIRE_FALSE(heap.earliest().has_value());
      } else {
        REQUIRE(heap.earliest() == *order.begin());
      }
      const auto probe = static_cast<std::uint32_t>(rng() % 200);
      const auto it = model.find(probe);
      REQUIRE(heap.deadline(probe) == (it == model.end() ? std::nullopt : std::optional<Instant>(it->second)));
    }
  }
}
