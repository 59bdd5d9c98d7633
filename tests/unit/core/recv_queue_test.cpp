// SPDX-License-Identifier: MIT
// Unit tests of RecvQueue, one channel's reliable receive space: ordered
// delivery in sequence order, unordered delivery as soon as a message is whole,
// fragments, duplicates, credit in chunk_cost units, SKIPs (what arrived of the
// message dropped, credit accounted as the sender charged it), and the
// violations (beyond credit, beyond kMaxReliableSpan, inconsistent numbering,
// empty fragments). Then seeded runs: hostile frames that must never crash or
// break the credit bound, and a SendQueue feeding a RecvQueue through a lossy,
// reordering, duplicating wire, with deadlines and re-send limits, checked for
// exactly-once (in order when ordered) delivery and equal credit on both sides.
#include "rudp/core/recv_queue.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "queue_test_support.hpp"
#include "rudp/core/inbox.hpp"
#include "rudp/core/receipts.hpp"
#include "rudp/core/send_queue.hpp"
#include "rudp/wire/limits.hpp"

using namespace rudp;
using namespace rudp::core;
using namespace rudp::core::test;
using namespace std::chrono_literals;

namespace {

constexpr ChannelId kChannel = 4;
constexpr std::uint64_t kWindow = 100'000;

/// A reliable DATA frame of kChannel; its payload is a view of `payload`.
wire::DataFrame chunk(std::uint64_t sequence, std::span<const std::byte> payload, std::uint32_t index = 0,
                      std::uint32_t count = 1, DeliveryMode mode = DeliveryMode::reliable_ordered) {
  return wire::DataFrame{mode, kChannel, sequence, index, count, true, payload};
}

ChunkVerdict offer(RecvQueue& queue, Inbox& inbox, std::uint64_t sequence, std::string_view text,
                   std::uint32_t index = 0, std::uint32_t count = 1,
                   DeliveryMode mode = DeliveryMode::reliable_ordered) {
  const auto payload = bytes_of(text);
  return queue.on_chunk(chunk(sequence, payload, index, count, mode), inbox);
}

ChunkVerdict skip(RecvQueue& queue, Inbox& inbox, std::uint64_t sequence, std::uint64_t count, std::uint64_t cost) {
  return queue.on_skip(wire::SkipFrame{kChannel, sequence, count, cost}, inbox);
}

/// The next whole message as text; REQUIREs that one is ready.
std::string next_message(Inbox& inbox) {
  std::vector<std::byte> buffer(4096);
  const auto size = inbox.read_message(buffer);
  REQUIRE(size.has_value());
  return text_of(std::span(buffer).first(*size));
}

/// Every message ready, as text.
std::vector<std::string> all_messages(Inbox& inbox) {
  std::vector<std::string> out;
  while (inbox.readable()) out.push_back(next_message(inbox));
  return out;
}

using Texts = std::vector<std::string>;

}  // namespace

TEST_CASE("RecvQueue: ordered chunks arriving out of order are delivered in order", "[core]") {
  RecvQueue queue(kChannel);
  Inbox inbox(kWindow, 0);
  CHECK(queue.channel() == kChannel);
  CHECK(offer(queue, inbox, 2, "c") == ChunkVerdict::accepted);
  CHECK_FALSE(inbox.readable());
  CHECK(offer(queue, inbox, 0, "a") == ChunkVerdict::accepted);
  REQUIRE(inbox.next().has_value());
  CHECK(inbox.next()->channel == kChannel);
  CHECK(inbox.next()->mode == DeliveryMode::reliable_ordered);
  CHECK(all_messages(inbox) == Texts{"a"});  // 1 is missing

  CHECK(offer(queue, inbox, 1, "bb") == ChunkVerdict::accepted);
  CHECK(all_messages(inbox) == Texts{"bb", "c"});
  CHECK(inbox.buffered_bytes() == 0u);
}

TEST_CASE("RecvQueue: fragments are reassembled into one message", "[core]") {
  RecvQueue queue(kChannel);
  Inbox inbox(kWindow, 0);
  CHECK(offer(queue, inbox, 3, "ld", 2, 3) == ChunkVerdict::accepted);
  CHECK(offer(queue, inbox, 1, "hello", 0, 3) == ChunkVerdict::accepted);
  CHECK_FALSE(inbox.readable());
  CHECK(offer(queue, inbox, 0, "x") == ChunkVerdict::accepted);
  CHECK(all_messages(inbox) == Texts{"x"});  // fragment 1 is missing
  CHECK(offer(queue, inbox, 2, ", wor", 1, 3) == ChunkVerdict::accepted);
  REQUIRE(inbox.next().has_value());
  CHECK(inbox.next()->size == 12u);
  CHECK(all_messages(inbox) == Texts{"hello, world"});
  for (std::uint64_t s = 0; s < 4; ++s) CHECK(queue.has_chunk(s));
  CHECK_FALSE(queue.has_chunk(4));
}

TEST_CASE("RecvQueue: an unordered message is delivered as soon as it is whole", "[core]") {
  RecvQueue queue(kChannel);
  Inbox inbox(kWindow, 0);
  const auto unordered = DeliveryMode::reliable_unordered;
  // 0 is missing throughout.
  CHECK(offer(queue, inbox, 1, "u", 0, 1, unordered) == ChunkVerdict::accepted);
  REQUIRE(inbox.next().has_value());
  CHECK(inbox.next()->mode == unordered);
  CHECK(all_messages(inbox) == Texts{"u"});
  CHECK(queue.has_chunk(1));
  CHECK(offer(queue, inbox, 1, "u", 0, 1, unordered) == ChunkVerdict::duplicate);

  CHECK(offer(queue, inbox, 3, "d", 1, 2, unordered) == ChunkVerdict::accepted);
  CHECK(offer(queue, inbox, 4, "o") == ChunkVerdict::accepted);  // ordered: waits for 0..3
  CHECK_FALSE(inbox.readable());
  CHECK(offer(queue, inbox, 2, "c", 0, 2, unordered) == ChunkVerdict::accepted);
  CHECK(all_messages(inbox) == Texts{"cd"});  // still before 0
  CHECK(offer(queue, inbox, 0, "z") == ChunkVerdict::accepted);
  CHECK(all_messages(inbox) == Texts{"z", "o"});
  CHECK(offer(queue, inbox, 3, "d", 1, 2, unordered) == ChunkVerdict::duplicate);
}

TEST_CASE("RecvQueue: duplicates are recognised and cost nothing", "[core]") {
  RecvQueue queue(kChannel);
  Inbox inbox(kWindow, 0);
  CHECK(offer(queue, inbox, 0, "a") == ChunkVerdict::accepted);
  CHECK(offer(queue, inbox, 2, "c") == ChunkVerdict::accepted);
  const std::uint64_t used = inbox.used();
  CHECK(used == 2 * chunk_cost(1));

  CHECK(queue.has_chunk(0));
  CHECK_FALSE(queue.has_chunk(1));
  CHECK(queue.has_chunk(2));
  CHECK(offer(queue, inbox, 2, "c") == ChunkVerdict::duplicate);  // buffered
  CHECK(offer(queue, inbox, 0, "a") == ChunkVerdict::duplicate);  // delivered, unread
  CHECK(next_message(inbox) == "a");
  CHECK(offer(queue, inbox, 0, "a") == ChunkVerdict::duplicate);  // read
  // A repeat is recognised by its sequence number, whatever else it says.
  CHECK(offer(queue, inbox, 2, "", 1, 5, DeliveryMode::reliable_unordered) == ChunkVerdict::duplicate);
  CHECK(inbox.used() == used);
  CHECK_FALSE(inbox.readable());
}

TEST_CASE("RecvQueue: a chunk beyond the credit limit is a violation", "[core]") {
  const std::uint64_t window = chunk_cost(10) + chunk_cost(5);
  RecvQueue queue(kChannel);
  Inbox inbox(window, 0);
  CHECK(offer(queue, inbox, 1, "12345") == ChunkVerdict::accepted);
  CHECK(offer(queue, inbox, 0, "0123456789") == ChunkVerdict::accepted);
  CHECK(inbox.used() == inbox.limit());  // exactly at the limit is allowed

  // Even an empty chunk costs its bookkeeping; a refused chunk charges nothing.
  CHECK(offer(queue, inbox, 2, "") == ChunkVerdict::violation);
  CHECK(inbox.used() == window);
  CHECK_FALSE(queue.has_chunk(2));

  // Reading a message gives back what it cost.
  CHECK(next_message(inbox) == "0123456789");
  CHECK(inbox.limit() == window + chunk_cost(10));
  CHECK(offer(queue, inbox, 2, "abcdefghijk") == ChunkVerdict::violation);  // one byte too many
  CHECK(offer(queue, inbox, 2, "abcdefghij") == ChunkVerdict::accepted);
  CHECK(inbox.used() == inbox.limit());
}

TEST_CASE("RecvQueue: a SKIP lets ordered delivery pass an abandoned message", "[core]") {
  RecvQueue queue(kChannel);
  Inbox inbox(kWindow, 0);
  // Message A is chunks 0..2 of 4 bytes each; 1 never comes. B is chunk 3.
  const std::uint64_t cost = 3 * chunk_cost(4);
  REQUIRE(offer(queue, inbox, 0, "aaaa", 0, 3) == ChunkVerdict::accepted);
  REQUIRE(offer(queue, inbox, 2, "cccc", 2, 3) == ChunkVerdict::accepted);
  REQUIRE(offer(queue, inbox, 3, "b") == ChunkVerdict::accepted);
  CHECK_FALSE(inbox.readable());
  CHECK(inbox.used() == 2 * chunk_cost(4) + chunk_cost(1));

  CHECK(skip(queue, inbox, 0, 3, cost) == ChunkVerdict::accepted);
  CHECK(all_messages(inbox) == Texts{"b"});
  // The receiver's account now shows what the sender charged: A's whole cost
  // (used and given back, since A is gone) and B's.
  CHECK(inbox.used() == cost + chunk_cost(1));
  CHECK(inbox.limit() == kWindow + inbox.used());
  CHECK(inbox.buffered_bytes() == 0u);

  // A late re-send of A, or the SKIP again, changes nothing.
  for (std::uint64_t s = 0; s < 3; ++s) CHECK(queue.has_chunk(s));
  CHECK(offer(queue, inbox, 1, "bbbb", 1, 3) == ChunkVerdict::duplicate);
  CHECK(skip(queue, inbox, 0, 3, cost) == ChunkVerdict::duplicate);
  CHECK(inbox.used() == cost + chunk_cost(1));
  CHECK_FALSE(inbox.readable());
}

TEST_CASE("RecvQueue: a SKIP ahead of the message's chunks charges and releases its cost", "[core]") {
  RecvQueue queue(kChannel);
  Inbox inbox(kWindow, 0);
  const std::uint64_t cost = 2 * chunk_cost(7);
  CHECK(skip(queue, inbox, 1, 2, cost) == ChunkVerdict::accepted);  // 0 still missing
  CHECK(inbox.used() == cost);
  CHECK(inbox.limit() == kWindow + cost);
  CHECK(queue.has_chunk(1));
  CHECK(queue.has_chunk(2));
  CHECK_FALSE(queue.has_chunk(0));
  CHECK(offer(queue, inbox, 2, "1234567", 1, 2) == ChunkVerdict::duplicate);
  CHECK(offer(queue, inbox, 3, "after") == ChunkVerdict::accepted);
  CHECK_FALSE(inbox.readable());
  CHECK(offer(queue, inbox, 0, "first") == ChunkVerdict::accepted);
  CHECK(all_messages(inbox) == Texts{"first", "after"});
  CHECK(inbox.used() == cost + chunk_cost(5) + chunk_cost(5));
  CHECK(inbox.limit() == kWindow + inbox.used());
}

TEST_CASE("RecvQueue: a SKIP of a message already delivered is a duplicate", "[core]") {
  RecvQueue queue(kChannel);
  Inbox inbox(kWindow, 0);
  SECTION("ordered, the floor has passed it") {
    REQUIRE(offer(queue, inbox, 0, "ab", 0, 2) == ChunkVerdict::accepted);
    REQUIRE(offer(queue, inbox, 1, "cd", 1, 2) == ChunkVerdict::accepted);
    const std::uint64_t used = inbox.used();
    CHECK(skip(queue, inbox, 0, 2, 2 * chunk_cost(2)) == ChunkVerdict::duplicate);
    CHECK(inbox.used() == used);
    CHECK(all_messages(inbox) == Texts{"abcd"});
  }
  SECTION("unordered, delivered beyond a gap") {
    const auto unordered = DeliveryMode::reliable_unordered;
    REQUIRE(offer(queue, inbox, 1, "ab", 0, 2, unordered) == ChunkVerdict::accepted);
    REQUIRE(offer(queue, inbox, 2, "cd", 1, 2, unordered) == ChunkVerdict::accepted);
    const std::uint64_t used = inbox.used();
    const std::uint64_t limit = inbox.limit();
    CHECK(skip(queue, inbox, 1, 2, 2 * chunk_cost(2)) == ChunkVerdict::duplicate);
    CHECK(inbox.used() == used);
    CHECK(inbox.limit() == limit);
    CHECK(all_messages(inbox) == Texts{"abcd"});
  }
}

TEST_CASE("RecvQueue: a SKIP of an unordered message drops what arrived of it", "[core]") {
  RecvQueue queue(kChannel);
  Inbox inbox(kWindow, 0);
  const auto unordered = DeliveryMode::reliable_unordered;
  REQUIRE(offer(queue, inbox, 0, "x") == ChunkVerdict::accepted);
  REQUIRE(offer(queue, inbox, 2, "22", 1, 3, unordered) == ChunkVerdict::accepted);
  REQUIRE(offer(queue, inbox, 4, "next", 0, 1, unordered) == ChunkVerdict::accepted);
  const std::uint64_t cost = 3 * chunk_cost(2);
  CHECK(skip(queue, inbox, 1, 3, cost) == ChunkVerdict::accepted);
  CHECK(all_messages(inbox) == Texts{"x", "next"});
  CHECK(inbox.used() == chunk_cost(1) + cost + chunk_cost(4));
  CHECK(inbox.limit() == kWindow + inbox.used());
  CHECK(offer(queue, inbox, 1, "11", 0, 3, unordered) == ChunkVerdict::duplicate);
  CHECK(offer(queue, inbox, 3, "33", 2, 3, unordered) == ChunkVerdict::duplicate);
  CHECK_FALSE(inbox.readable());
}

TEST_CASE("RecvQueue: a SKIP whose cost is less than what arrived, or beyond credit, is a violation", "[core]") {
  RecvQueue queue(kChannel);
  SECTION("less than the chunks that arrived cost") {
    Inbox inbox(kWindow, 0);
    REQUIRE(offer(queue, inbox, 0, "aaaa", 0, 2) == ChunkVerdict::accepted);
    CHECK(skip(queue, inbox, 0, 2, chunk_cost(4) - 1) == ChunkVerdict::violation);
  }
  SECTION("more than the credit left") {
    Inbox inbox(3 * chunk_cost(4), 0);
    REQUIRE(offer(queue, inbox, 0, "aaaa", 0, 2) == ChunkVerdict::accepted);
    REQUIRE(offer(queue, inbox, 2, "bbbb") == ChunkVerdict::accepted);
    // The message's other chunk fits, the SKIP claims more.
    CHECK(skip(queue, inbox, 0, 2, 2 * chunk_cost(4) + chunk_cost(4) + 1) == ChunkVerdict::violation);
    CHECK(inbox.used() <= inbox.limit());
  }
  SECTION("exactly the credit left is fine") {
    Inbox inbox(3 * chunk_cost(4), 0);
    REQUIRE(offer(queue, inbox, 0, "aaaa", 0, 2) == ChunkVerdict::accepted);
    REQUIRE(offer(queue, inbox, 2, "bbbb") == ChunkVerdict::accepted);
    CHECK(skip(queue, inbox, 0, 2, 2 * chunk_cost(4)) == ChunkVerdict::accepted);
    CHECK(all_messages(inbox) == Texts{"bbbb"});
  }
  SECTION("a huge cost") {
    Inbox inbox(kWindow, 0);
    CHECK(skip(queue, inbox, 0, 1, wire::kMaxVarint) == ChunkVerdict::violation);
    CHECK(inbox.used() <= inbox.limit());
  }
}

TEST_CASE("RecvQueue: nothing is recorded beyond kMaxReliableSpan of the delivery floor", "[core]") {
  constexpr std::uint64_t span = wire::kMaxReliableSpan;
  RecvQueue queue(kChannel);
  Inbox inbox(kWindow, 0);
  SECTION("single chunks") {
    CHECK(offer(queue, inbox, span, "x") == ChunkVerdict::violation);
    CHECK(inbox.used() == 0u);
    CHECK(offer(queue, inbox, span - 1, "x") == ChunkVerdict::accepted);
    CHECK(offer(queue, inbox, wire::kMaxVarint, "x") == ChunkVerdict::violation);
    // Delivering 0 moves the span on by one.
    CHECK(offer(queue, inbox, 0, "0") == ChunkVerdict::accepted);
    CHECK(offer(queue, inbox, span, "x") == ChunkVerdict::accepted);
    CHECK(offer(queue, inbox, span + 1, "x") == ChunkVerdict::violation);
  }
  SECTION("a message's last chunk counts") {
    CHECK(offer(queue, inbox, span - 2, "a", 0, 3) == ChunkVerdict::violation);
    CHECK(offer(queue, inbox, span - 1, "b", 1, 3) == ChunkVerdict::violation);
    CHECK(offer(queue, inbox, span - 2, "a", 0, 2) == ChunkVerdict::accepted);
    CHECK(offer(queue, inbox, span - 1, "b", 1, 2) == ChunkVerdict::accepted);
  }
  SECTION("SKIPs") {
    CHECK(skip(queue, inbox, span - 1, 2, 2 * chunk_cost(0)) == ChunkVerdict::violation);
    CHECK(skip(queue, inbox, span, 1, chunk_cost(0)) == ChunkVerdict::violation);
    CHECK(skip(queue, inbox, span - 2, 2, 2 * chunk_cost(0)) == ChunkVerdict::accepted);
    CHECK(skip(queue, inbox, wire::kMaxVarint - 4, 5, 5 * chunk_cost(0)) == ChunkVerdict::violation);
  }
}

TEST_CASE("RecvQueue: inconsistent fragment numbering is a violation", "[core]") {
  RecvQueue queue(kChannel);
  Inbox inbox(kWindow, 0);
  const auto unordered = DeliveryMode::reliable_unordered;
  SECTION("fragments disagree on the count, found once all the fragments claimed are in") {
    CHECK(offer(queue, inbox, 0, "a", 0, 3) == ChunkVerdict::accepted);
    CHECK(offer(queue, inbox, 2, "c", 2, 3) == ChunkVerdict::accepted);
    CHECK(offer(queue, inbox, 1, "b", 1, 2) == ChunkVerdict::violation);
  }
  SECTION("a later fragment claims fewer fragments than the first") {
    CHECK(offer(queue, inbox, 0, "a", 0, 2) == ChunkVerdict::accepted);
    CHECK(offer(queue, inbox, 2, "c", 2, 3) == ChunkVerdict::violation);
  }
  SECTION("fragments disagree on the mode") {
    CHECK(offer(queue, inbox, 0, "a", 0, 2) == ChunkVerdict::accepted);
    CHECK(offer(queue, inbox, 1, "b", 1, 2, unordered) == ChunkVerdict::violation);
  }
  SECTION("fragments disagree on the mode, unordered first") {
    CHECK(offer(queue, inbox, 0, "a", 0, 2, unordered) == ChunkVerdict::accepted);
    CHECK(offer(queue, inbox, 1, "b", 1, 2) == ChunkVerdict::violation);
  }
  SECTION("the mismatch is found as soon as two neighbouring chunks disagree") {
    CHECK(offer(queue, inbox, 1, "b", 1, 3) == ChunkVerdict::accepted);
    CHECK(offer(queue, inbox, 2, "c", 2, 2) == ChunkVerdict::violation);
  }
  SECTION("unordered fragments claiming one first chunk with different counts") {
    // Both claim chunk 0 as their message's first; chunk 0 itself never came.
    // (RecvQueue::complete() once read through pending_.find(0) == end() here;
    // a build with -D_GLIBCXX_DEBUG reports such reads.)
    CHECK(offer(queue, inbox, 2, "c", 2, 3, unordered) == ChunkVerdict::accepted);
    CHECK(offer(queue, inbox, 1, "b", 1, 2, unordered) == ChunkVerdict::violation);
  }
  SECTION("the first fragment would come before the channel's first chunk") {
    CHECK(offer(queue, inbox, 0, "b", 1, 2) == ChunkVerdict::violation);
    CHECK(inbox.used() == 0u);
  }
  SECTION("the first fragment would come before what was delivered") {
    CHECK(offer(queue, inbox, 0, "a") == ChunkVerdict::accepted);
    CHECK(offer(queue, inbox, 1, "c", 2, 3) == ChunkVerdict::violation);
    CHECK(offer(queue, inbox, 2, "c", 2, 3) == ChunkVerdict::violation);
  }
  SECTION("a fragment of a fragmented message is empty") {
    CHECK(offer(queue, inbox, 0, "", 0, 2) == ChunkVerdict::violation);
    CHECK(offer(queue, inbox, 1, "", 1, 2) == ChunkVerdict::violation);
    CHECK(inbox.used() == 0u);
    CHECK(offer(queue, inbox, 0, "") == ChunkVerdict::accepted);  // an empty message is one empty chunk
    CHECK(all_messages(inbox) == Texts{""});
  }
}

// A chunk that claims to start a message inside the range an earlier chunk
// claims for its own message is a violation as soon as both are in; accepted,
// the message could never complete and the channel would stall for good.
TEST_CASE("RecvQueue: overlapping fragment numbering is caught once the chunks it claims are in", "[core]") {
  struct Arrival {
    std::uint64_t sequence;
    std::uint32_t index;
    std::uint32_t count;
  };
  using Scenario = std::vector<Arrival>;
  const Scenario scenario = GENERATE(
      // 0 is "first of two"; 1 is "a message of its own".
      Scenario{{0, 0, 2}, {1, 0, 1}},
      // 0 is "first of three"; 1 is "second of two": both messages' chunks 0..1 are in.
      Scenario{{0, 0, 3}, {1, 1, 2}},
      // 1 is "second of two", 2 "a message of its own", 0 "first of three".
      Scenario{{1, 1, 2}, {2, 0, 1}, {0, 0, 3}});
  const auto mode = GENERATE(DeliveryMode::reliable_ordered, DeliveryMode::reliable_unordered);
  CAPTURE(mode);
  RecvQueue queue(kChannel);
  Inbox inbox(kWindow, 0);
  bool caught = false;
  for (const Arrival& a : scenario) {
    const ChunkVerdict verdict = offer(queue, inbox, a.sequence, "x", a.index, a.count, mode);
    CAPTURE(a.sequence, a.index, a.count, verdict);
    caught = caught || verdict == ChunkVerdict::violation;
  }
  CHECK(caught);
}

TEST_CASE("RecvQueue: hostile frames never break the credit bound or crash", "[core]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  RecvQueue queue(kChannel);
  Inbox inbox(uniform(rng, 0, 3000), 0);
  std::uint64_t violations = 0, accepted = 0, duplicates = 0;

  // Sequence numbers near the start, so that frames collide, with now and
  // then one far away.
  const auto sequence = [&](std::uint64_t count) -> std::uint64_t {
    switch (uniform(rng, 0, 19)) {
      case 0: return uniform(rng, wire::kMaxReliableSpan - 40, wire::kMaxReliableSpan + 40);
      case 1: return wire::kMaxVarint - (count - 1);
      default: return uniform(rng, 0, 60);
    }
  };
  for (int step = 0; step < 20'000; ++step) {
    CAPTURE(step);
    const std::uint64_t used = inbox.used();
    const std::uint64_t limit = inbox.limit();
    const std::size_t buffered = inbox.buffered_bytes();
    const std::uint64_t choice = uniform(rng, 0, 9);
    if (choice < 6) {
      const auto count = static_cast<std::uint32_t>(
          uniform(rng, 0, 9) == 0 ? uniform(rng, 2, wire::kMaxFragmentCount) : uniform(rng, 1, 4));
      const auto index = static_cast<std::uint32_t>(uniform(rng, 0, count - 1));
      const std::uint64_t s = sequence(count);
      const auto mode = coin(rng) ? DeliveryMode::reliable_ordered : DeliveryMode::reliable_unordered;
      const auto payload = pattern(static_cast<std::size_t>(uniform(rng, 0, 3) == 0 ? 0 : uniform(rng, 1, 40)));
      CAPTURE(s, index, count, payload.size());
      const bool had = queue.has_chunk(s);
      const ChunkVerdict verdict = queue.on_chunk(chunk(s, payload, index, count, mode), inbox);
      CAPTURE(verdict);
      if (had) CHECK(verdict == ChunkVerdict::duplicate);
      if (verdict == ChunkVerdict::accepted) {
        CHECK(inbox.used() == used + chunk_cost(payload.size()));
        CHECK(queue.has_chunk(s));
        ++accepted;
      }
      if (verdict == ChunkVerdict::duplicate) {
        CHECK(inbox.used() == used);
        ++duplicates;
      }
      if (verdict == ChunkVerdict::violation) ++violations;
    } else if (choice < 8) {
      const std::uint64_t count = uniform(rng, 1, 4);
      const std::uint64_t s = sequence(count);
      const std::uint64_t cost = uniform(rng, 0, 9) == 0 ? wire::kMaxVarint : uniform(rng, 0, 6) * chunk_cost(10);
      CAPTURE(s, count, cost);
      const ChunkVerdict verdict = queue.on_skip(wire::SkipFrame{kChannel, s, count, cost}, inbox);
      CAPTURE(verdict);
      if (verdict == ChunkVerdict::accepted) {
        CHECK(inbox.limit() == limit + cost);  // all of it charged and given back
        CHECK(inbox.used() <= used + cost);
        for (std::uint64_t i = 0; i < count; ++i) CHECK(queue.has_chunk(s + i));
        ++accepted;
      }
      if (verdict == ChunkVerdict::duplicate) {
        CHECK(inbox.used() == used);
        CHECK(inbox.limit() == limit);
        ++duplicates;
      }
      if (verdict == ChunkVerdict::violation) ++violations;
    } else {
      std::vector<std::byte> out(static_cast<std::size_t>(uniform(rng, 0, 100)));
      const std::size_t n = inbox.read(out);
      CHECK(n <= buffered);
    }
    REQUIRE(inbox.used() <= inbox.limit());
    CHECK(inbox.limit() >= limit);  // credit is never taken back
  }
  CHECK(accepted > 0u);
  CHECK(duplicates > 0u);
  CHECK(violations > 0u);
}

namespace {

/// One frame on the wire between a SendQueue and a RecvQueue.
struct Transmission {
  bool is_skip = false;
  OwnedFrame data;
  wire::SkipFrame skip{};
};

/// `size` (>= 8) bytes whose first eight are `id`, little-endian.
std::vector<std::byte> tagged(std::size_t id, std::size_t size) {
  auto bytes = pattern(size, id);
  for (std::size_t i = 0; i < 8; ++i) bytes[i] = std::byte(static_cast<std::uint8_t>(id >> (8 * i)));
  return bytes;
}

std::size_t id_of(std::span<const std::byte> bytes) {
  std::size_t id = 0;
  for (std::size_t i = 0; i < 8; ++i) id |= std::size_t{std::to_integer<std::uint8_t>(bytes[i])} << (8 * i);
  return id;
}

}  // namespace

TEST_CASE("RecvQueue fed by a SendQueue over a lossy wire: exactly once, in order when ordered, equal credit",
          "[core]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  constexpr ChannelId ch = 6;
  constexpr std::size_t kMessages = 200;
  SendQueue sender(ch);
  RecvQueue receiver(ch);
  Receipts receipts;
  // At least the cost of the largest message (400 bytes in chunks of 8).
  const std::uint64_t window = uniform(rng, 2'500, 10'000);
  Inbox inbox(window, 0);
  const std::uint64_t loss = uniform(rng, 5, 30);      // percent of frames lost
  const std::uint64_t ack_loss = uniform(rng, 0, 20);  // percent of ACKs lost: spurious re-sends
  const Duration one_way = std::chrono::milliseconds(uniform(rng, 0, 5));
  CAPTURE(window, loss, ack_loss);

  struct Message {
    std::vector<std::byte> bytes;
    DeliveryMode mode = DeliveryMode::reliable_ordered;
    bool deadline = false;
    bool limit = false;
    bool keyed = false;
    bool receipt = false;
    bool doomed = false;  // every transmission of it is lost, and it may not be re-sent
    std::optional<std::uint64_t> first_sequence;
    std::vector<std::size_t> deliveries;  // positions in the order of delivery
  };
  std::vector<Message> messages;
  std::map<std::uint64_t, std::vector<ReceiptOutcome>> outcomes;  // by tag, the message's index
  std::vector<Transmission> in_flight;  // sent; fate not decided yet
  std::vector<Transmission> late;       // declared lost to the sender, still to arrive
  std::uint64_t charged = 0;            // credit the sender charged (sum of NextData::credit)
  std::uint64_t advertised = inbox.limit();
  std::set<std::uint64_t> doomed_chunks;  // chunks of doomed messages
  std::size_t delivered = 0, empty_delivered = 0, skips_accepted = 0;
  QueueNews news;
  Instant now = Instant{} + 1s;

  const auto receive = [&](const Transmission& t) {
    const ChunkVerdict verdict = t.is_skip ? receiver.on_skip(t.skip, inbox) : receiver.on_chunk(t.data.view(), inbox);
    CAPTURE(t.is_skip, t.data.sequence, t.skip.sequence);
    REQUIRE(verdict != ChunkVerdict::violation);
    if (t.is_skip && verdict == ChunkVerdict::accepted) ++skips_accepted;
    REQUIRE(inbox.used() <= inbox.limit());
  };
  const auto read = [&] {
    const auto info = inbox.next();
    if (!info) return;
    std::vector<std::byte> buffer(info->size);
    const auto size = inbox.read_message(buffer);
    REQUIRE(size.has_value());
    REQUIRE(*size == info->size);
    CHECK(info->channel == ch);
    if (buffer.empty()) {
      ++empty_delivered;
    } else {
      REQUIRE(buffer.size() >= 8u);
      const std::size_t id = id_of(buffer);
      CAPTURE(id);
      REQUIRE(id < messages.size());
      CHECK(buffer == messages[id].bytes);
      CHECK(info->mode == messages[id].mode);
      messages[id].deliveries.push_back(delivered);
    }
    ++delivered;
  };
  const auto settled = [&] {
    return messages.size() == kMessages && sender.all_acked() && in_flight.empty() && late.empty();
  };

  for (int step = 0; step < 300'000 && !settled(); ++step) {
    CAPTURE(step);
    const std::uint64_t choice = uniform(rng, 0, 19);
    if (choice < 3) {
      if (messages.size() == kMessages) continue;
      const std::size_t id = messages.size();
      Message m;
      m.mode = coin(rng) ? DeliveryMode::reliable_ordered : DeliveryMode::reliable_unordered;
      // One message in 20 is doomed: the wire loses all of it, so it must be
      // abandoned and skipped.
      m.doomed = id % 20 == 5;
      const std::size_t size =
          uniform(rng, 0, 7) == 0 && !m.doomed ? 0 : static_cast<std::size_t>(uniform(rng, 8, 400));
      if (size > 0) m.bytes = tagged(id, size);
      MessageOptions options;
      options.mode = m.mode;
      if (m.doomed) {
        options.max_retransmits = 0;
      } else {
        if (uniform(rng, 0, 3) == 0) options.deadline = now + std::chrono::milliseconds(uniform(rng, 0, 300));
        if (uniform(rng, 0, 3) == 0) options.max_retransmits = static_cast<unsigned>(uniform(rng, 0, 3));
        // Every keyed message asks for a receipt, so each one superseded is known.
        if (uniform(rng, 0, 5) == 0) options.supersede_key = uniform(rng, 1, 3);
      }
      if (options.supersede_key || coin(rng)) options.receipt = receipts.open(ch, id, 1);
      m.deadline = options.deadline.has_value();
      m.limit = options.max_retransmits.has_value();
      m.keyed = options.supersede_key.has_value();
      m.receipt = options.receipt.has_value();
      const auto chunk_size = static_cast<std::size_t>(uniform(rng, 8, 120));
      const Pushed pushed = sender.push(m.bytes, options, chunk_size);
      CHECK(pushed.superseded == pushed.replaced_receipt.has_value());
      if (pushed.replaced_receipt) receipts.resolve(*pushed.replaced_receipt, ReceiptOutcome::superseded);
      messages.push_back(std::move(m));
    } else if (choice < 9) {
      sender.expire(now, one_way, receipts, news);
      if (const auto s = sender.peek_skip()) {
        sender.on_skip_sent();
        in_flight.push_back(Transmission{true, {}, *s});
        continue;
      }
      const auto next = sender.peek();
      if (!next) continue;
      // A reliable message starts only within the credit last advertised.
      if (next->credit > 0 && charged + next->credit > advertised) continue;
      charged += next->credit;
      if (next->credit > 0 && !next->frame.payload.empty()) {
        const std::size_t id = id_of(next->frame.payload);
        REQUIRE(id < messages.size());
        CHECK_FALSE(messages[id].first_sequence.has_value());
        messages[id].first_sequence = next->frame.sequence;
        if (messages[id].doomed) {
          for (std::uint32_t i = 0; i < next->frame.fragment_count; ++i) doomed_chunks.insert(next->frame.sequence + i);
        }
      }
      Transmission t{false, OwnedFrame(next->frame), {}};
      CHECK_FALSE(sender.on_sent().has_value());
      in_flight.push_back(std::move(t));
    } else if (choice < 15) {
      if (in_flight.empty()) continue;
      const auto i = static_cast<std::size_t>(uniform(rng, 0, in_flight.size() - 1));
      const Transmission t = in_flight[i];
      in_flight[i] = in_flight.back();
      in_flight.pop_back();
      bool acked = false;
      if (!t.is_skip && doomed_chunks.contains(t.data.sequence)) {
        // Lost for good.
      } else if (uniform(rng, 0, 99) < loss) {
        if (uniform(rng, 0, 2) == 0) late.push_back(t);  // only delayed, in truth
      } else {
        receive(t);
        if (uniform(rng, 0, 9) == 0) receive(t);  // duplicated on the way
        acked = uniform(rng, 0, 99) >= ack_loss;
      }
      if (t.is_skip) {
        if (acked) {
          sender.on_skip_acked(t.skip.sequence);
        } else {
          sender.on_skip_lost(t.skip);
        }
      } else if (acked) {
        sender.on_acked(t.data.sequence, receipts);
      } else {
        sender.on_lost(t.data.sequence);
      }
    } else if (choice < 16) {
      if (late.empty()) continue;
      const auto i = static_cast<std::size_t>(uniform(rng, 0, late.size() - 1));
      receive(late[i]);
      late.erase(late.begin() + static_cast<std::ptrdiff_t>(i));
    } else if (choice < 18) {
      read();
      if (coin(rng)) advertised = inbox.limit();  // a CREDIT frame
    } else {
      now += std::chrono::milliseconds(uniform(rng, 0, 3));
    }
    while (const auto r = receipts.poll()) outcomes[r->tag].push_back(r->outcome);
  }
  REQUIRE(settled());
  while (inbox.readable()) read();
  CAPTURE(news.expired, news.abandoned, skips_accepted, delivered);

  std::size_t empty_pushed = 0, empty_required = 0, doomed = 0;
  for (std::size_t id = 0; id < messages.size(); ++id) {
    const Message& m = messages[id];
    CAPTURE(id, m.mode, m.bytes.size(), m.deadline, m.limit, m.keyed, m.first_sequence.has_value());
    const auto& o = outcomes[id];
    CHECK(o.size() == (m.receipt ? 1u : 0u));  // exactly one outcome per receipt
    const bool superseded = !o.empty() && o[0] == ReceiptOutcome::superseded;
    if (!o.empty()) {
      CAPTURE(o[0]);
      if (o[0] == ReceiptOutcome::expired) CHECK(m.deadline);
      if (o[0] == ReceiptOutcome::lost) CHECK(m.limit);
      if (superseded) CHECK(m.keyed);
    }
    const bool required = !superseded && !m.deadline && !m.limit;  // nothing could abandon it
    if (m.doomed) {
      CHECK(m.first_sequence.has_value());
      CHECK(m.deliveries.empty());
      if (m.receipt) CHECK(o == std::vector<ReceiptOutcome>{ReceiptOutcome::lost});
      ++doomed;
    }
    if (m.bytes.empty()) {
      empty_pushed += superseded ? 0 : 1;
      empty_required += required ? 1 : 0;
      continue;
    }
    CHECK(m.deliveries.size() <= 1u);
    if (superseded) CHECK(m.deliveries.empty());
    if (required) CHECK(m.deliveries.size() == 1u);
    if (!o.empty() && o[0] == ReceiptOutcome::acknowledged) CHECK(m.deliveries.size() == 1u);
    if (!m.deliveries.empty()) CHECK(m.first_sequence.has_value());
  }
  CHECK(empty_delivered >= empty_required);
  CHECK(empty_delivered <= empty_pushed);

  // An ordered message comes after every message that began before it.
  for (const Message& m : messages) {
    if (m.mode != DeliveryMode::reliable_ordered || m.deliveries.empty()) continue;
    for (const Message& x : messages) {
      if (x.deliveries.empty() || *x.first_sequence >= *m.first_sequence) continue;
      CAPTURE(*x.first_sequence, *m.first_sequence);
      CHECK(x.deliveries[0] < m.deliveries[0]);
    }
  }

  // Both sides' credit accounts agree, and all of it came back once read.
  CHECK(inbox.used() == charged);
  CHECK(inbox.limit() == window + inbox.used());
  CHECK(sender.buffered() == 0u);
  CHECK(receipts.open_count() == 0u);
  // Each doomed message was abandoned, and its SKIP taken by the receiver.
  CHECK(news.abandoned >= doomed);
  CHECK(skips_accepted >= doomed);
  CHECK(doomed == kMessages / 20);
}

// kMaxReliableSpan counts from the first chunk the receiver is still missing,
// and the sender from its oldest unacknowledged chunk, which is never beyond
// it: when the message at the floor arrived in part (chunk 0 of 0..1 here),
// the sender may send chunk kMaxReliableSpan, and the receiver must take it.
TEST_CASE("RecvQueue: a sender at the edge of the span while the floor message is partly in is no violation",
          "[core]") {
  SendQueue sender(kChannel);
  RecvQueue receiver(kChannel);
  Inbox inbox(std::uint64_t{1} << 24, 0);
  Receipts receipts;
  sender.push(pattern(2), MessageOptions{}, 1);  // chunks 0 and 1
  const SentData head = send_next(sender);
  REQUIRE(receiver.on_chunk(head.frame.view(), inbox) == ChunkVerdict::accepted);
  sender.on_acked(head.frame.sequence, receipts);
  send_next(sender);  // chunk 1: on its way, fate unknown

  for (std::uint64_t i = 0; i < wire::kMaxReliableSpan; ++i) sender.push(pattern(1, i), MessageOptions{}, 1);
  std::uint64_t last = 0;
  std::optional<std::uint64_t> refused;
  while (sender.has_pending()) {
    const SentData sent = send_next(sender);
    last = sent.frame.sequence;
    if (receiver.on_chunk(sent.frame.view(), inbox) == ChunkVerdict::violation && !refused) refused = last;
  }
  CAPTURE(last, refused.value_or(0));
  CHECK(last == wire::kMaxReliableSpan);  // chunk 1, the first missing, + span - 1
  CHECK_FALSE(refused.has_value());
}

// An abandoned message's chunks stay in the sender's span until the receiver
// acknowledges their SKIP: with the SKIP delayed, the sender must not run
// kMaxReliableSpan beyond the receiver's first missing chunk.
TEST_CASE("RecvQueue: a sender at the edge of the span while its SKIP is on the way is no violation",
          "[core]") {
  SendQueue sender(kChannel);
  RecvQueue receiver(kChannel);
  Inbox inbox(std::uint64_t{1} << 24, 0);
  Receipts receipts;
  MessageOptions once;
  once.max_retransmits = 0;
  sender.push(pattern(1), once, 1);
  const SentData lost = send_next(sender);  // never arrives
  sender.on_lost(lost.frame.sequence);
  QueueNews news;
  sender.expire(Instant{}, Duration::zero(), receipts, news);
  REQUIRE(news.abandoned == 1u);
  const auto skip_frame = sender.peek_skip();
  REQUIRE(skip_frame.has_value());
  sender.on_skip_sent();  // on its way, arrives last

  for (std::uint64_t i = 0; i < wire::kMaxReliableSpan; ++i) sender.push(pattern(1, i), MessageOptions{}, 1);
  std::uint64_t last = 0;
  std::optional<std::uint64_t> refused;
  while (sender.has_pending()) {
    const SentData sent = send_next(sender);
    last = sent.frame.sequence;
    if (receiver.on_chunk(sent.frame.view(), inbox) == ChunkVerdict::violation && !refused) refused = last;
  }
  const ChunkVerdict skipped = receiver.on_skip(*skip_frame, inbox);
  CAPTURE(last, refused.value_or(0), skipped);
  CHECK_FALSE(refused.has_value());
  CHECK(skipped == ChunkVerdict::accepted);
}
