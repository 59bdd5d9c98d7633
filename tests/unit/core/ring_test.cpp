// SPDX-License-Identifier: MIT
// Unit tests of Ring: nothing allocated until the first push, and only the
// first buffer kept once empty; order kept across wrap-around, growth and shrinking;
// every element destroyed exactly once; move-only elements; copies; pushing
// an element of its own while full; the iterators with standard algorithms;
// erase_if and resize; and seeded runs of random operations checked against
// std::deque.
#include "rudp/core/ring.hpp"

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <vector>

using namespace rudp::core;

namespace {

// Counts live instances, to show each is destroyed once.
struct Counted {
  static inline int live = 0;
  int value = 0;
  Counted(int v = 0) : value(v) { ++live; }  // NOLINT: implicit on purpose, for brevity below
  Counted(const Counted& o) : value(o.value) { ++live; }
  Counted(Counted&& o) noexcept : value(o.value) { ++live; }
  Counted& operator=(const Counted&) = default;
  Counted& operator=(Counted&&) noexcept = default;
  ~Counted() { --live; }
};

template <class T>
std::vector<T> contents(const Ring<T>& ring) {
  return std::vector<T>(ring.begin(), ring.end());
}

}  // namespace

TEST_CASE("Ring: allocates on the first push and once empty keeps only its first buffer", "[core]") {
  Ring<std::uint64_t> ring;
  CHECK(ring.empty());
  CHECK(ring.capacity() == 0u);
  ring.push_back(1);
  CHECK(ring.capacity() == 8u);  // 64 bytes' worth
  ring.pop_front();
  CHECK(ring.empty());
  CHECK(ring.capacity() == 8u);  // kept for the next push
  ring.push_back(2);
  CHECK(ring.capacity() == 8u);
  ring.clear();
  CHECK(ring.capacity() == 0u);  // clear() frees it
  for (std::uint64_t i = 0; i < 9; ++i) ring.push_back(i);
  CHECK(ring.capacity() == 16u);
  while (!ring.empty()) ring.pop_front();
  CHECK(ring.capacity() == 8u);  // drained through the halving to the first size
  Ring<std::array<std::byte, 200>> large;
  large.emplace_back();
  CHECK(large.capacity() == 1u);  // at least one element, however large
}

TEST_CASE("Ring: FIFO order across wrap-around and growth", "[core]") {
  Ring<int> ring;
  int next_in = 0;
  int next_out = 0;
  // Keep 5 to 9 elements while pushing 1000: the head walks round the buffer.
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 5; ++i) ring.push_back(next_in++);
    while (ring.size() > static_cast<std::size_t>(5 + round % 5)) {
      REQUIRE(ring.front() == next_out++);
      ring.pop_front();
    }
    REQUIRE(ring.back() == next_in - 1);
    for (std::size_t i = 0; i < ring.size(); ++i) REQUIRE(ring[i] == next_out + static_cast<int>(i));
  }
  CHECK(ring.capacity() == 16u);
}

TEST_CASE("Ring: pushing one of its own elements while full", "[core]") {
  Ring<std::vector<int>> ring;
  ring.push_back({1, 2, 3});
  ring.push_back({1, 2, 3});
  REQUIRE(ring.size() == ring.capacity());  // a 24-byte element: the first buffer holds two
  ring.push_back(ring.front());             // the copy is made before anything moves
  ring.push_back(ring.back());
  REQUIRE(ring.size() == ring.capacity());
  ring.push_back(ring[1]);
  CHECK(ring.size() == 5u);
  for (const auto& v : ring) CHECK(v == std::vector<int>{1, 2, 3});
}

TEST_CASE("Ring: shrinks as it drains, keeping the order", "[core]") {
  Ring<int> ring;
  for (int i = 0; i < 1000; ++i) ring.push_back(i);
  CHECK(ring.capacity() == 1024u);
  for (int i = 0; i < 990; ++i) ring.pop_front();
  CHECK(ring.capacity() <= 64u);
  CHECK(contents(ring) == std::vector<int>{990, 991, 992, 993, 994, 995, 996, 997, 998, 999});
  while (ring.size() > 1) ring.pop_back();
  CHECK(ring.front() == 990);
  ring.pop_back();
  CHECK(ring.capacity() == 16u);  // the first size for int: 64 bytes
}

TEST_CASE("Ring: every element is destroyed once", "[core]") {
  Counted::live = 0;
  {
    Ring<Counted> ring;
    for (int i = 0; i < 100; ++i) ring.emplace_back(i);
    CHECK(Counted::live == 100);
    for (int i = 0; i < 70; ++i) ring.pop_front();  // shrinks on the way
    CHECK(Counted::live == 30);
    Ring<Counted> copy = ring;
    CHECK(Counted::live == 60);
    Ring<Counted> moved = std::move(copy);
    CHECK(Counted::live == 60);
    CHECK(moved.front().value == 70);
    ring.clear();
    CHECK(Counted::live == 30);
    CHECK(ring.capacity() == 0u);
  }
  CHECK(Counted::live == 0);
}

TEST_CASE("Ring: move-only elements", "[core]") {
  Ring<std::unique_ptr<int>> ring;
  for (int i = 0; i < 20; ++i) ring.push_back(std::make_unique<int>(i));
  ring.pop_front();
  CHECK(*ring.front() == 1);
  Ring<std::unique_ptr<int>> other;
  other = std::move(ring);
  CHECK(ring.empty());  // NOLINT: a moved-from Ring is empty
  CHECK(other.size() == 19u);
  CHECK(*other.back() == 19);
}

TEST_CASE("Ring: copies are independent", "[core]") {
  Ring<int> a;
  for (int i = 0; i < 5; ++i) a.push_back(i);
  a.pop_front();
  Ring<int> b = a;
  b.push_back(9);
  a = b;
  a.pop_back();
  CHECK(contents(a) == std::vector<int>{1, 2, 3, 4});
  CHECK(contents(b) == std::vector<int>{1, 2, 3, 4, 9});
}

TEST_CASE("Ring: iterators work with the standard algorithms", "[core]") {
  Ring<int> ring;
  for (int i = 0; i < 12; ++i) ring.push_back(i);
  for (int i = 0; i < 6; ++i) ring.pop_front();
  for (int i = 12; i < 20; ++i) ring.push_back(i);  // wraps round: 6..19
  const Ring<int>& view = ring;
  CHECK(std::lower_bound(view.begin(), view.end(), 11) - view.begin() == 5);
  CHECK(*std::find_if(ring.begin(), ring.end(), [](int v) { return v % 7 == 0; }) == 7);
  CHECK(std::vector<int>(ring.rbegin(), ring.rbegin() + 3) == std::vector<int>{19, 18, 17});
  CHECK(ring.end() - ring.begin() == 14);
  CHECK((ring.begin() + 3)[2] == 11);
  Ring<int>::const_iterator it = ring.begin();  // iterator converts to const_iterator
  CHECK(*++it == 7);
  for (int& v : ring) v *= 2;
  CHECK(ring.front() == 12);
  CHECK(std::is_sorted(ring.begin(), ring.end()));
}

TEST_CASE("Ring: erase_if keeps the order of the rest and resize grows and shrinks", "[core]") {
  Ring<int> ring;
  for (int i = 0; i < 10; ++i) ring.push_back(i);
  ring.pop_front();
  CHECK(ring.erase_if([](int v) { return v % 3 == 0; }) == 3u);
  CHECK(contents(ring) == std::vector<int>{1, 2, 4, 5, 7, 8});
  ring.resize(8);
  CHECK(contents(ring) == std::vector<int>{1, 2, 4, 5, 7, 8, 0, 0});
  ring.resize(2);
  CHECK(contents(ring) == std::vector<int>{1, 2});
  Ring<bool> flags;
  flags.resize(100);
  CHECK(flags.size() == 100u);
  CHECK(std::none_of(flags.begin(), flags.end(), [](bool b) { return b; }));
}

TEST_CASE("Ring: random operations agree with std::deque", "[core]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    Ring<std::uint64_t> ring;
    std::deque<std::uint64_t> model;
    for (int step = 0; step < 5000; ++step) {
      // Phases of growth and of draining, so both reallocations happen often.
      const bool growing = (step / 500) % 2 == 0;
      const auto op = rng() % 10;
      if (op < (growing ? 6u : 3u)) {
        const std::uint64_t v = rng();
        ring.push_back(v);
        model.push_back(v);
      } else if (!model.empty() && op < 8) {
        ring.pop_front();
        model.pop_front();
      } else if (!model.empty() && op < 9) {
        ring.pop_back();
        model.pop_back();
      } else if (!model.empty()) {
        const std::size_t i = rng() % model.size();
        ring[i] = model[i] = rng();
      }
      REQUIRE(ring.size() == model.size());
      REQUIRE(std::equal(ring.begin(), ring.end(), model.begin(), model.end()));
      // Never more than four times what it holds, beyond the first size.
      REQUIRE(ring.capacity() >= ring.size());
      REQUIRE(ring.capacity() <= std::max<std::size_t>(8, 4 * ring.size()));
    }
  }
}
