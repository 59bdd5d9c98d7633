// SPDX-License-Identifier: MIT
// Unit tests of IndexSet: membership, the next member at or after a value
// across word and summary-level boundaries, growth that keeps what was in
// it, and seeded runs of random operations checked against a std::set.
#include "rudp/core/index_set.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <set>

using namespace rudp::core;

TEST_CASE("IndexSet: empty", "[core]") {
  IndexSet set;
  CHECK(set.empty());
  CHECK_FALSE(set.contains(0));
  CHECK_FALSE(set.next(0).has_value());
  set.erase(5);  // nothing to erase
  CHECK(set.empty());
}

TEST_CASE("IndexSet: insert, erase and next within one word", "[core]") {
  IndexSet set;
  set.insert(3);
  set.insert(40);
  CHECK_FALSE(set.empty());
  CHECK(set.contains(3));
  CHECK_FALSE(set.contains(4));
  CHECK(set.next(0) == 3u);
  CHECK(set.next(3) == 3u);
  CHECK(set.next(4) == 40u);
  CHECK_FALSE(set.next(41).has_value());
  set.erase(3);
  CHECK(set.next(0) == 40u);
  set.erase(40);
  CHECK(set.empty());
}

TEST_CASE("IndexSet: next crosses words and summary levels", "[core]") {
  IndexSet set;
  // 64 values per word, 4096 per level-1 word, 262144 per level-2 word.
  for (const std::uint32_t v : {0u, 63u, 64u, 4095u, 4096u, 262'143u, 262'144u, 1'000'000u}) set.insert(v);
  CHECK(set.next(1) == 63u);
  CHECK(set.next(65) == 4095u);
  CHECK(set.next(4097) == 262'143u);
  CHECK(set.next(262'145) == 1'000'000u);
  CHECK_FALSE(set.next(1'000'001).has_value());
  CHECK_FALSE(set.next(5'000'000).has_value());  // beyond anything ever inserted
  set.erase(262'143);
  set.erase(262'144);
  CHECK(set.next(4097) == 1'000'000u);
  for (const std::uint32_t v : {0u, 63u, 64u, 4095u, 4096u, 1'000'000u}) set.erase(v);
  CHECK(set.empty());
  CHECK_FALSE(set.next(0).has_value());
}

TEST_CASE("IndexSet: growing keeps the members and their summaries", "[core]") {
  IndexSet set;
  set.insert(10);  // one word
  set.insert(100'000);  // two more levels appear above it
  CHECK(set.next(0) == 10u);
  CHECK(set.next(11) == 100'000u);
  set.erase(10);
  CHECK(set.next(0) == 100'000u);
}

TEST_CASE("IndexSet: random operations agree with a model", "[core]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    IndexSet set;
    std::set<std::uint32_t> model;
    // Values cluster in a few areas so words, summaries and gaps all occur.
    const std::uint32_t spread = seed % 2 == 0 ? 300 : 300'000;
    for (int step = 0; step < 5000; ++step) {
      const auto v = static_cast<std::uint32_t>(rng() % spread);
      if (rng() % 2 == 0) {
        set.insert(v);
        model.insert(v);
      } else {
        set.erase(v);
        model.erase(v);
      }
      REQUIRE(set.empty() == model.empty());
      const auto probe = static_cast<std::uint32_t>(rng() % (spread + 100));
      REQUIRE(set.contains(probe) == model.contains(probe));
      const auto it = model.lower_bound(probe);
      REQUIRE(set.next(probe) == (it == model.end() ? std::nullopt : std::optional<std::uint32_t>(*it)));
    }
  }
}
