// SPDX-License-Identifier: MIT
// Unit tests of AckTracker: ranges built from arrivals in and out of order,
// duplicate detection (including below the floor), the ACK timing policy,
// ACK frames written within a byte budget (decoded back and compared with
// ranges()), the ack delay field, and pruning once the peer has our ACK.
#include "rudp/core/ack_tracker.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <variant>
#include <vector>

#include "../wire/wire_test_support.hpp"
#include "rudp/wire/limits.hpp"

using namespace rudp;
using namespace rudp::core;
using namespace rudp::wire;
using namespace std::chrono_literals;
using rudp::wire::test::Rng;
using rudp::wire::test::test_seeds;
using rudp::wire::test::uniform;

namespace {

const Instant t0 = Instant{} + 1ms;

// Large enough for an ACK frame of kMaxAckRanges ranges of 8-byte varints.
constexpr std::size_t kBufferSize = 8192;

/// A policy that never acknowledges because of the packet count, so that
/// only gaps and the delay make an ACK due.
constexpr AckPolicy kDelayOnly{1000, 25ms};

struct DecodedAck {
  std::uint64_t ack_delay = 0;
  std::vector<AckRange> ranges;
};

/// Decodes the single ACK frame in `bytes`.
DecodedAck decode_ack(std::span<const std::byte> bytes) {
  Reader reader(bytes);
  Frame frame;
  REQUIRE(decode_frame(reader, frame) == errc{});
  CHECK(reader.empty());
  const auto* ack = std::get_if<AckFrame>(&frame);
  REQUIRE(ack != nullptr);
  DecodedAck out{ack->ack_delay, {}};
  for (const AckRange& r : ack->ranges) out.ranges.push_back(r);
  return out;
}

/// Bytes an ACK frame of the first `count` of `ranges` takes.
std::size_t ack_size(std::uint64_t ack_delay, std::span<const AckRange> ranges, std::size_t count) {
  std::vector<std::byte> buffer(kBufferSize);
  Writer writer(buffer);
  REQUIRE(write_ack_frame(writer, ack_delay, ranges.first(count)));
  return writer.position();
}

/// The maximal runs of `numbers`, newest first: what ranges() should hold.
std::vector<AckRange> runs_of(const std::set<std::uint64_t>& numbers) {
  std::vector<AckRange> out;
  for (auto it = numbers.rbegin(); it != numbers.rend(); ++it) {
    if (!out.empty() && out.back().smallest == *it + 1) {
      out.back().smallest = *it;
    } else {
      out.push_back({*it, *it});
    }
  }
  return out;
}

}  // namespace

TEST_CASE("AckTracker: in-order arrivals extend one range", "[core]") {
  AckTracker tracker(kDelayOnly);
  CHECK_FALSE(tracker.largest().has_value());
  CHECK(tracker.ranges().empty());
  CHECK_FALSE(tracker.has_news());
  for (std::uint64_t n = 0; n < 5; ++n) CHECK(tracker.on_packet(n, true, t0));

  CHECK(tracker.ranges() == std::vector<AckRange>{{0, 4}});
  CHECK(tracker.largest() == 4u);
  CHECK(tracker.has_news());
  // In order, nothing forces an early ACK: it waits for the delay.
  CHECK_FALSE(tracker.ack_due(t0 + 4ms));
  CHECK(tracker.next_deadline() == t0 + 25ms);
}

TEST_CASE("AckTracker: a gap makes a new range and the ACK due at once", "[core]") {
  AckTracker tracker(kDelayOnly);
  REQUIRE(tracker.on_packet(0, true, t0));
  CHECK_FALSE(tracker.ack_due(t0));

  REQUIRE(tracker.on_packet(2, true, t0 + 1ms));
  CHECK(tracker.ranges() == std::vector<AckRange>{{2, 2}, {0, 0}});
  CHECK(tracker.largest() == 2u);
  CHECK(tracker.ack_due(t0 + 1ms));
  CHECK(tracker.next_deadline() == t0);  // due since the first unacknowledged arrival

  std::vector<std::byte> buffer(kBufferSize);
  Writer writer(buffer);
  REQUIRE(tracker.write_ack(writer, t0 + 1ms, buffer.size()) == 2u);
  CHECK_FALSE(tracker.ack_due(t0 + 1ms));

  SECTION("a reordered packet that fills the gap is acknowledged at once too") {
    REQUIRE(tracker.on_packet(1, true, t0 + 2ms));
    CHECK(tracker.ranges() == std::vector<AckRange>{{0, 2}});
    CHECK(tracker.ack_due(t0 + 2ms));
  }
  SECTION("a jump past the next number is acknowledged at once") {
    REQUIRE(tracker.on_packet(7, true, t0 + 2ms));
    CHECK(tracker.ranges() == std::vector<AckRange>{{7, 7}, {2, 2}, {0, 0}});
    CHECK(tracker.ack_due(t0 + 2ms));
  }
}

TEST_CASE("AckTracker: duplicates are rejected and change nothing", "[core]") {
  AckTracker tracker(AckPolicy{2, 25ms});
  REQUIRE(tracker.on_packet(3, true, t0));
  REQUIRE(tracker.on_packet(4, true, t0));
  std::vector<std::byte> buffer(kBufferSize);
  Writer writer(buffer);
  REQUIRE(tracker.write_ack(writer, t0, buffer.size()));
  REQUIRE_FALSE(tracker.has_news());

  CHECK_FALSE(tracker.on_packet(3, true, t0 + 1ms));
  CHECK_FALSE(tracker.on_packet(4, true, t0 + 1ms));
  CHECK(tracker.ranges() == std::vector<AckRange>{{3, 4}});
  CHECK_FALSE(tracker.has_news());
  CHECK_FALSE(tracker.ack_due(t0 + 1s));
  CHECK_FALSE(tracker.next_deadline().has_value());

  // A duplicate does not count towards packets_before_ack either.
  REQUIRE(tracker.on_packet(5, true, t0 + 2ms));
  CHECK_FALSE(tracker.on_packet(5, true, t0 + 2ms));
  CHECK_FALSE(tracker.ack_due(t0 + 2ms));
}

TEST_CASE("AckTracker: beyond kMaxAckRanges the oldest range falls below the floor", "[core]") {
  AckTracker tracker;
  // kMaxAckRanges + 1 isolated packets: 0, 2, 4, ...
  for (std::uint64_t i = 0; i <= kMaxAckRanges; ++i) REQUIRE(tracker.on_packet(2 * i, true, t0));

  REQUIRE(tracker.ranges().size() == kMaxAckRanges);
  CHECK(tracker.ranges().front() == AckRange{2 * kMaxAckRanges, 2 * kMaxAckRanges});
  CHECK(tracker.ranges().back() == AckRange{2, 2});
  // Packet 0 was forgotten, so it now counts as a duplicate.
  CHECK_FALSE(tracker.on_packet(0, true, t0));
  CHECK(tracker.ranges().size() == kMaxAckRanges);
  // Packet 1 never arrived and is above the floor: it joins the oldest range.
  CHECK(tracker.on_packet(1, true, t0));
  CHECK(tracker.ranges().back() == AckRange{1, 2});
}

TEST_CASE("AckTracker: ranges merge when a gap fills", "[core]") {
  AckTracker tracker;
  for (const std::uint64_t n : {0u, 1u, 3u, 4u, 6u, 9u}) REQUIRE(tracker.on_packet(n, false, t0));
  REQUIRE(tracker.ranges() == std::vector<AckRange>{{9, 9}, {6, 6}, {3, 4}, {0, 1}});

  REQUIRE(tracker.on_packet(2, false, t0));  // joins both neighbours
  CHECK(tracker.ranges() == std::vector<AckRange>{{9, 9}, {6, 6}, {0, 4}});
  REQUIRE(tracker.on_packet(8, false, t0));  // joins the range above
  CHECK(tracker.ranges() == std::vector<AckRange>{{8, 9}, {6, 6}, {0, 4}});
  REQUIRE(tracker.on_packet(5, false, t0));  // joins the range below and the one above
  CHECK(tracker.ranges() == std::vector<AckRange>{{8, 9}, {0, 6}});
  REQUIRE(tracker.on_packet(7, false, t0));
  CHECK(tracker.ranges() == std::vector<AckRange>{{0, 9}});
}

TEST_CASE("AckTracker: any arrival order gives the runs of what arrived", "[core]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);

  // About four in five of 0..199 arrive, shuffled, a few of them twice.
  std::vector<std::uint64_t> arrivals;
  for (std::uint64_t n = 0; n < 200; ++n) {
    if (uniform(rng, 0, 4) != 0) arrivals.push_back(n);
  }
  const std::size_t distinct = arrivals.size();
  for (std::size_t i = 0; i < distinct / 10; ++i) arrivals.push_back(arrivals[uniform(rng, 0, distinct - 1)]);
  std::shuffle(arrivals.begin(), arrivals.end(), rng);

  AckTracker tracker;
  std::set<std::uint64_t> seen;
  for (const std::uint64_t n : arrivals) {
    CAPTURE(n);
    const bool fresh = !seen.contains(n);
    CHECK(tracker.on_packet(n, true, t0) == fresh);
    seen.insert(n);
    REQUIRE(tracker.ranges() == runs_of(seen));
    CHECK(tracker.largest() == *seen.rbegin());
  }
}

TEST_CASE("AckTracker: ack delay policy", "[core]") {
  SECTION("one ack-eliciting packet waits for max_ack_delay") {
    AckTracker tracker(AckPolicy{2, 25ms});
    REQUIRE(tracker.on_packet(0, true, t0));
    CHECK_FALSE(tracker.ack_due(t0));
    CHECK(tracker.next_deadline() == t0 + 25ms);
    CHECK_FALSE(tracker.ack_due(t0 + 25ms - 1ns));
    CHECK(tracker.ack_due(t0 + 25ms));
    // A later arrival does not move the deadline of the first.
    REQUIRE(tracker.on_packet(1, false, t0 + 10ms));
    CHECK(tracker.next_deadline() == t0 + 25ms);
  }
  SECTION("packets_before_ack ack-eliciting packets make it due at once") {
    AckTracker tracker(AckPolicy{2, 25ms});
    REQUIRE(tracker.on_packet(0, true, t0));
    REQUIRE(tracker.on_packet(1, true, t0 + 1ms));
    CHECK(tracker.ack_due(t0 + 1ms));
    CHECK(tracker.next_deadline() == t0);
  }
  SECTION("packets that are not ack-eliciting never make an ACK due") {
    AckTracker tracker(AckPolicy{2, 25ms});
    for (std::uint64_t n = 0; n < 5; ++n) REQUIRE(tracker.on_packet(n, false, t0));
    REQUIRE(tracker.on_packet(9, false, t0));  // not even after a gap
    CHECK_FALSE(tracker.ack_due(t0 + 1s));
    CHECK_FALSE(tracker.next_deadline().has_value());
    CHECK(tracker.has_news());
  }
  SECTION("a zero max_ack_delay acknowledges at once") {
    AckTracker tracker(AckPolicy{2, 0ms});
    REQUIRE(tracker.on_packet(0, true, t0));
    CHECK(tracker.ack_due(t0));
    CHECK(tracker.next_deadline() == t0);
  }
  SECTION("ack_immediately makes what has arrived due now") {
    AckTracker tracker(AckPolicy{2, 25ms});
    tracker.ack_immediately();
    CHECK_FALSE(tracker.ack_due(t0));  // nothing owed yet
    REQUIRE(tracker.on_packet(0, true, t0));
    tracker.ack_immediately();
    CHECK(tracker.ack_due(t0));
  }
  SECTION("writing the ACK settles what was owed") {
    AckTracker tracker(AckPolicy{2, 25ms});
    REQUIRE(tracker.on_packet(0, true, t0));
    REQUIRE(tracker.on_packet(2, true, t0));
    REQUIRE(tracker.ack_due(t0));
    std::vector<std::byte> buffer(kBufferSize);
    Writer writer(buffer);
    REQUIRE(tracker.write_ack(writer, t0 + 1ms, buffer.size()) == 2u);
    CHECK_FALSE(tracker.ack_due(t0 + 1s));
    CHECK_FALSE(tracker.next_deadline().has_value());
    CHECK_FALSE(tracker.has_news());
    // The count starts over.
    REQUIRE(tracker.on_packet(3, true, t0 + 2ms));
    CHECK_FALSE(tracker.ack_due(t0 + 2ms));
    CHECK(tracker.next_deadline() == t0 + 2ms + 25ms);
  }
}

TEST_CASE("AckTracker: write_ack with nothing received writes nothing", "[core]") {
  AckTracker tracker;
  std::vector<std::byte> buffer(kBufferSize);
  Writer writer(buffer);
  CHECK_FALSE(tracker.write_ack(writer, t0, buffer.size()).has_value());
  CHECK(writer.position() == 0u);
}

TEST_CASE("AckTracker: write_ack writes the newest ranges that fit the budget", "[core]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);

  // 150 ranges whose numbers, lengths and gaps take varints of several sizes.
  AckTracker tracker;
  std::uint64_t next = uniform(rng, 0, 1) == 0 ? uniform(rng, 0, 1000) : uniform(rng, 1u << 30, 1u << 31);
  bool all_new = true;
  for (int i = 0; i < 150; ++i) {
    const std::uint64_t length = uniform(rng, 0, 3) == 0 ? uniform(rng, 0, 20'000) : uniform(rng, 0, 5);
    for (std::uint64_t n = next; n <= next + length; ++n) all_new = tracker.on_packet(n, true, t0) && all_new;
    next += length + 2 + (uniform(rng, 0, 3) == 0 ? uniform(rng, 0, 1'000'000) : uniform(rng, 0, 60));
  }
  REQUIRE(all_new);
  const std::vector<AckRange> ranges = tracker.ranges();
  REQUIRE(ranges.size() == 150u);

  const std::size_t smallest_frame = ack_size(0, ranges, 1);
  const std::size_t whole_frame = ack_size(0, ranges, ranges.size());
  for (std::size_t budget = 0; budget <= whole_frame + 1; ++budget) {
    CAPTURE(budget);
    std::vector<std::byte> buffer(kBufferSize);
    Writer writer(buffer);
    const auto largest = tracker.write_ack(writer, t0, budget);
    if (budget < smallest_frame) {
      CHECK_FALSE(largest.has_value());
      CHECK(writer.position() == 0u);
      continue;
    }
    REQUIRE(largest == ranges.front().largest);
    CHECK(writer.position() <= budget);
    const DecodedAck ack = decode_ack(writer.written());
    CHECK(ack.ack_delay == 0u);
    REQUIRE(ack.ranges.size() <= ranges.size());
    CHECK(ack.ranges == std::vector<AckRange>(ranges.begin(), ranges.begin() + static_cast<std::ptrdiff_t>(ack.ranges.size())));
    // No more ranges would have fitted.
    if (ack.ranges.size() < ranges.size()) CHECK(ack_size(0, ranges, ack.ranges.size() + 1) > budget);
    CHECK(tracker.ranges() == ranges);
  }
}

TEST_CASE("AckTracker: ack_delay counts 8 us units since the largest arrived", "[core]") {
  AckTracker tracker;
  REQUIRE(tracker.on_packet(5, true, t0));
  REQUIRE(tracker.on_packet(3, true, t0 + 1ms));  // older: does not restart the delay

  const auto delay_at = [&](Instant now) {
    std::vector<std::byte> buffer(kBufferSize);
    Writer writer(buffer);
    REQUIRE(tracker.write_ack(writer, now, buffer.size()) == 5u);
    return decode_ack(writer.written()).ack_delay;
  };
  CHECK(delay_at(t0) == 0u);
  CHECK(delay_at(t0 + 7us) == 0u);
  CHECK(delay_at(t0 + 8us) == 1u);
  CHECK(delay_at(t0 + 15us) == 1u);
  CHECK(delay_at(t0 + 2ms) == 250u);
  CHECK(delay_at(t0 + 1000s) == kMaxAckDelay);  // clamped
  CHECK(delay_at(t0 - 1ms) == 0u);               // a clock that went back never makes it negative
}

TEST_CASE("AckTracker: on_ack_acknowledged forgets ranges the peer knows of", "[core]") {
  AckTracker tracker;
  for (std::uint64_t n = 1; n <= 5; ++n) REQUIRE(tracker.on_packet(n, true, t0));
  for (std::uint64_t n = 10; n <= 15; ++n) REQUIRE(tracker.on_packet(n, true, t0));
  for (std::uint64_t n = 20; n <= 25; ++n) REQUIRE(tracker.on_packet(n, true, t0));
  REQUIRE(tracker.ranges() == std::vector<AckRange>{{20, 25}, {10, 15}, {1, 5}});

  SECTION("below every range, nothing is forgotten") {
    tracker.on_ack_acknowledged(0);
    CHECK(tracker.ranges() == std::vector<AckRange>{{20, 25}, {10, 15}, {1, 5}});
  }
  SECTION("the range holding it stays, those below go") {
    tracker.on_ack_acknowledged(12);
    CHECK(tracker.ranges() == std::vector<AckRange>{{20, 25}, {10, 15}});
    CHECK_FALSE(tracker.on_packet(4, true, t0));  // forgotten, so below the floor
    CHECK_FALSE(tracker.on_packet(11, true, t0));
    CHECK(tracker.on_packet(7, true, t0));  // never arrived: still new
  }
  SECTION("up to the smallest of a range, the ranges below it go") {
    tracker.on_ack_acknowledged(20);
    CHECK(tracker.ranges() == std::vector<AckRange>{{20, 25}});
  }
  SECTION("acknowledging the newest range leaves only it") {
    tracker.on_ack_acknowledged(25);
    CHECK(tracker.ranges() == std::vector<AckRange>{{20, 25}});
    CHECK_FALSE(tracker.on_packet(12, true, t0));
    CHECK(tracker.on_packet(17, true, t0));
    CHECK(tracker.ranges() == std::vector<AckRange>{{20, 25}, {17, 17}});
  }
}
