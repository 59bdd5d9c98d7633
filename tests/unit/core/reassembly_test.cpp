// SPDX-License-Identifier: MIT
// Unit tests of Reassembly, the receiver's side of the unreliable modes:
// unfragmented messages pass at once; fragments are collected in any order
// within a byte budget (payload plus kFragmentOverhead each) and a timeout
// counted from the first arrival; the oldest partial message is evicted to
// make room; inconsistent numbering drops the partial; unreliable-sequenced
// messages never go back to an older one. Seeded runs: a flood of first
// fragments never takes more than the budget, and shuffled fragments of many
// messages give each one back exactly once, sequenced ones only forward.
#include "rudp/core/reassembly.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "queue_test_support.hpp"

using namespace rudp;
using namespace rudp::core;
using namespace rudp::core::test;
using namespace std::chrono_literals;

namespace {

const Instant t0 = Instant{} + 1s;

Instant at(std::int64_t ms) { return t0 + std::chrono::milliseconds(ms); }

wire::DataFrame fragment(ChannelId channel, std::uint64_t sequence, std::uint32_t index, std::uint32_t count,
                         std::span<const std::byte> payload, DeliveryMode mode = DeliveryMode::unreliable) {
  return wire::DataFrame{mode, channel, sequence, index, count, true, payload};
}

/// The bytes `payload` costs while held.
constexpr std::size_t charge(std::size_t payload) { return payload + kFragmentOverhead; }

}  // namespace

TEST_CASE("Reassembly: an unfragmented message passes at once", "[core]") {
  Reassembly reassembly(1000, 100ms);
  const auto payload = bytes_of("whole");
  const auto message = reassembly.on_frame(fragment(1, 0, 0, 1, payload), t0);
  REQUIRE(message.has_value());
  CHECK(*message == payload);
  // Again (the unfragmented unreliable message carries no number): again delivered.
  CHECK(reassembly.on_frame(fragment(1, 0, 0, 1, payload), t0).has_value());
  const auto empty = reassembly.on_frame(fragment(1, 0, 0, 1, {}), t0);
  REQUIRE(empty.has_value());
  CHECK(empty->empty());
  CHECK(reassembly.held() == 0u);
  CHECK_FALSE(reassembly.next_expiry().has_value());
  CHECK(reassembly.dropped() == 0u);
}

TEST_CASE("Reassembly: fragments in any order give the whole message on the last", "[core]") {
  Reassembly reassembly(10'000, 100ms);
  const auto message = pattern(250);
  const auto piece = [&](std::uint32_t i) { return std::span(message).subspan(100 * i, i < 2 ? 100 : 50); };

  CHECK_FALSE(reassembly.on_frame(fragment(3, 7, 2, 3, piece(2)), at(0)).has_value());
  CHECK(reassembly.held() == charge(50));
  CHECK_FALSE(reassembly.on_frame(fragment(3, 7, 0, 3, piece(0)), at(1)).has_value());
  // A repeat is ignored and costs nothing more.
  CHECK_FALSE(reassembly.on_frame(fragment(3, 7, 0, 3, piece(0)), at(2)).has_value());
  CHECK(reassembly.held() == charge(50) + charge(100));
  // Same number, another channel: another message.
  CHECK_FALSE(reassembly.on_frame(fragment(4, 7, 1, 2, piece(1)), at(2)).has_value());
  CHECK(reassembly.held() == charge(50) + 2 * charge(100));

  const auto whole = reassembly.on_frame(fragment(3, 7, 1, 3, piece(1)), at(3));
  REQUIRE(whole.has_value());
  CHECK(*whole == message);
  CHECK(reassembly.held() == charge(100));  // channel 4's fragment
  CHECK(reassembly.dropped() == 0u);
}

TEST_CASE("Reassembly: a partial message is dropped once as old as the timeout", "[core]") {
  Reassembly reassembly(10'000, 100ms);
  const auto payload = pattern(10);
  CHECK_FALSE(reassembly.next_expiry().has_value());
  REQUIRE_FALSE(reassembly.on_frame(fragment(0, 1, 0, 3, payload), at(0)).has_value());
  REQUIRE_FALSE(reassembly.on_frame(fragment(0, 2, 0, 2, payload), at(30)).has_value());
  // The timeout runs from the first arrival; later fragments do not renew it.
  REQUIRE_FALSE(reassembly.on_frame(fragment(0, 1, 1, 3, payload), at(90)).has_value());
  CHECK(reassembly.next_expiry() == std::optional<Instant>(at(100)));

  reassembly.expire(at(100) - 1ns);
  CHECK(reassembly.held() == 3 * charge(10));
  reassembly.expire(at(100));
  CHECK(reassembly.dropped() == 1u);
  CHECK(reassembly.held() == charge(10));
  CHECK(reassembly.next_expiry() == std::optional<Instant>(at(130)));

  // The dropped message's last fragment starts it over: it cannot complete.
  CHECK_FALSE(reassembly.on_frame(fragment(0, 1, 2, 3, payload), at(101)).has_value());
  // A frame arriving late enough drops what timed out before it is taken.
  const auto whole = reassembly.on_frame(fragment(0, 2, 1, 2, payload), at(130));
  CHECK_FALSE(whole.has_value());  // its first fragment was dropped at 130
  CHECK(reassembly.dropped() == 2u);
  reassembly.expire(at(1000));
  CHECK(reassembly.held() == 0u);
  CHECK_FALSE(reassembly.next_expiry().has_value());
  CHECK(reassembly.dropped() == 4u);
}

TEST_CASE("Reassembly: the oldest partial message makes room for a new one", "[core]") {
  const std::size_t size = 36;  // a charge of 100
  Reassembly reassembly(3 * charge(size), 1s);
  const auto payload = pattern(size);
  for (std::uint64_t s = 0; s < 3; ++s) {
    REQUIRE_FALSE(reassembly.on_frame(fragment(0, s, 0, 2, payload), at(static_cast<std::int64_t>(s))).has_value());
  }
  CHECK(reassembly.held() == 3 * charge(size));
  CHECK(reassembly.next_expiry() == std::optional<Instant>(at(1000)));

  // A fourth partial message: message 0, the oldest, goes.
  CHECK_FALSE(reassembly.on_frame(fragment(0, 3, 0, 2, payload), at(10)).has_value());
  CHECK(reassembly.held() == 3 * charge(size));
  CHECK(reassembly.dropped() == 1u);
  CHECK(reassembly.next_expiry() == std::optional<Instant>(at(1001)));

  // A fragment larger than the whole budget is dropped, and evicts nothing.
  const auto huge = pattern(3 * charge(size));
  CHECK_FALSE(reassembly.on_frame(fragment(0, 9, 0, 2, huge), at(11)).has_value());
  CHECK(reassembly.held() == 3 * charge(size));
  CHECK(reassembly.dropped() == 2u);

  // The newest two still complete.
  const auto three = reassembly.on_frame(fragment(0, 3, 1, 2, payload), at(12));
  REQUIRE(three.has_value());
  CHECK(three->size() == 2 * size);
  CHECK(reassembly.held() <= 3 * charge(size));
  const auto two = reassembly.on_frame(fragment(0, 2, 1, 2, payload), at(13));
  REQUIRE(two.has_value());
  CHECK(reassembly.held() <= charge(size));
}

// The fragment that completes a message frees room rather than taking it, so
// it must not make room first: that would evict the oldest partial, perhaps
// its own message, keeping the last fragment alone as a partial that can
// never complete.
TEST_CASE("Reassembly: the fragment that completes a message does not evict that message", "[core]") {
  const std::size_t size = 36;  // a charge of 100
  Reassembly reassembly(2 * charge(size), 1s);
  const auto payload = pattern(size);
  REQUIRE_FALSE(reassembly.on_frame(fragment(0, 1, 0, 2, payload), at(0)).has_value());
  REQUIRE_FALSE(reassembly.on_frame(fragment(0, 2, 0, 2, payload), at(1)).has_value());
  const auto one = reassembly.on_frame(fragment(0, 1, 1, 2, payload), at(2));
  CAPTURE(reassembly.held(), reassembly.dropped());
  CHECK(one.has_value());
  CHECK(reassembly.on_frame(fragment(0, 2, 1, 2, payload), at(3)).has_value());
}

TEST_CASE("Reassembly: inconsistent numbering drops the partial message", "[core]") {
  Reassembly reassembly(10'000, 1s);
  const auto payload = pattern(20);
  SECTION("another count") {
    REQUIRE_FALSE(reassembly.on_frame(fragment(0, 5, 0, 3, payload), at(0)).has_value());
    CHECK_FALSE(reassembly.on_frame(fragment(0, 5, 1, 2, payload), at(1)).has_value());
  }
  SECTION("another mode") {
    const auto sequenced = DeliveryMode::unreliable_sequenced;
    REQUIRE_FALSE(reassembly.on_frame(fragment(0, 5, 0, 2, payload), at(0)).has_value());
    CHECK_FALSE(reassembly.on_frame(fragment(0, 5, 1, 2, payload, sequenced), at(1)).has_value());
  }
  CHECK(reassembly.dropped() == 1u);
  CHECK(reassembly.held() == 0u);
  CHECK_FALSE(reassembly.next_expiry().has_value());
  // The number is free again: a consistent message with it goes through.
  REQUIRE_FALSE(reassembly.on_frame(fragment(0, 5, 1, 2, payload), at(2)).has_value());
  const auto whole = reassembly.on_frame(fragment(0, 5, 0, 2, payload), at(3));
  REQUIRE(whole.has_value());
  CHECK(whole->size() == 40u);
}

TEST_CASE("Reassembly: an unreliable-sequenced message never follows a newer one", "[core]") {
  Reassembly reassembly(10'000, 1s);
  const auto sequenced = DeliveryMode::unreliable_sequenced;
  const auto payload = pattern(10);

  CHECK(reassembly.on_frame(fragment(1, 5, 0, 1, payload, sequenced), at(0)).has_value());
  CHECK_FALSE(reassembly.on_frame(fragment(1, 3, 0, 1, payload, sequenced), at(1)).has_value());
  CHECK_FALSE(reassembly.on_frame(fragment(1, 5, 0, 1, payload, sequenced), at(1)).has_value());  // not twice
  CHECK(reassembly.stale() == 2u);
  // Another channel has its own order; plain unreliable messages have none.
  CHECK(reassembly.on_frame(fragment(2, 1, 0, 1, payload, sequenced), at(2)).has_value());
  CHECK(reassembly.on_frame(fragment(1, 1, 0, 2, payload), at(2)) == std::nullopt);
  CHECK(reassembly.on_frame(fragment(1, 1, 1, 2, payload), at(2)).has_value());

  // An older fragmented message is refused from its first fragment on.
  CHECK_FALSE(reassembly.on_frame(fragment(1, 4, 0, 2, payload, sequenced), at(3)).has_value());
  CHECK(reassembly.held() == 0u);
  CHECK(reassembly.stale() == 3u);

  // One overtaken while it was being put together is dropped once whole.
  REQUIRE_FALSE(reassembly.on_frame(fragment(1, 7, 0, 2, payload, sequenced), at(4)).has_value());
  CHECK(reassembly.on_frame(fragment(1, 8, 0, 1, payload, sequenced), at(5)).has_value());
  CHECK_FALSE(reassembly.on_frame(fragment(1, 7, 1, 2, payload, sequenced), at(6)).has_value());
  CHECK(reassembly.stale() == 4u);

  // Newer ones still pass, fragmented or not.
  REQUIRE_FALSE(reassembly.on_frame(fragment(1, 9, 1, 2, payload, sequenced), at(7)).has_value());
  const auto nine = reassembly.on_frame(fragment(1, 9, 0, 2, payload, sequenced), at(8));
  REQUIRE(nine.has_value());
  CHECK(nine->size() == 20u);
  CHECK_FALSE(reassembly.on_frame(fragment(1, 9, 0, 1, payload, sequenced), at(9)).has_value());
}

TEST_CASE("Reassembly: a flood of first fragments never takes more than the budget", "[core]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  const auto limit = static_cast<std::size_t>(uniform(rng, 2'000, 30'000));
  const Duration timeout = std::chrono::milliseconds(uniform(rng, 5, 500));
  Reassembly reassembly(limit, timeout);
  CAPTURE(limit, timeout.count());
  Instant now = t0;
  std::uint64_t legit_sent = 0, legit_whole = 0;
  std::uint64_t next_legit = 1'000'000;

  for (int step = 0; step < 30'000; ++step) {
    CAPTURE(step);
    if (uniform(rng, 0, 49) == 0) {
      // A real message whose fragments arrive together, in any order: it fits
      // the budget, so the flood before it cannot keep it from completing.
      const auto count = static_cast<std::uint32_t>(uniform(rng, 2, 8));
      const std::size_t piece = std::min<std::size_t>(limit / count - kFragmentOverhead, 200);
      const auto message = pattern(piece * count, static_cast<std::size_t>(step));
      std::vector<std::uint32_t> order(count);
      for (std::uint32_t i = 0; i < count; ++i) order[i] = i;
      std::shuffle(order.begin(), order.end(), rng);
      const auto mode = coin(rng) ? DeliveryMode::unreliable : DeliveryMode::unreliable_sequenced;
      const std::uint64_t sequence = next_legit++;
      std::optional<std::vector<std::byte>> whole;
      for (std::size_t k = 0; k < order.size(); ++k) {
        const std::uint32_t i = order[k];
        whole = reassembly.on_frame(
            fragment(200, sequence, i, count, std::span(message).subspan(i * piece, piece), mode), now);
        REQUIRE(reassembly.held() <= limit);
        if (k + 1 < order.size()) CHECK_FALSE(whole.has_value());
      }
      ++legit_sent;
      REQUIRE(whole.has_value());
      CHECK(*whole == message);
      ++legit_whole;
    } else {
      // Junk: a first fragment of a message that never completes.
      const auto channel = static_cast<ChannelId>(uniform(rng, 0, 199));
      const std::uint64_t sequence = uniform(rng, 0, 3) == 0 ? uniform(rng, 0, 20) : uniform(rng, 0, wire::kMaxVarint);
      const auto count = static_cast<std::uint32_t>(uniform(rng, 2, wire::kMaxFragmentCount));
      const auto index = static_cast<std::uint32_t>(uniform(rng, 0, count - 1));
      const auto payload = pattern(static_cast<std::size_t>(uniform(rng, 0, 1200)));
      const auto mode = static_cast<DeliveryMode>(uniform(rng, 0, 1));
      const auto result = reassembly.on_frame(fragment(channel, sequence, index, count, payload, mode), now);
      CHECK_FALSE(result.has_value());
    }
    REQUIRE(reassembly.held() <= limit);
    if (const auto expiry = reassembly.next_expiry()) {
      CHECK(*expiry > now);
      CHECK(*expiry <= now + timeout);
    }
    if (uniform(rng, 0, 9) == 0) {
      now += std::chrono::milliseconds(uniform(rng, 0, 20));
      if (coin(rng)) reassembly.expire(now);
    }
  }
  CHECK(legit_whole == legit_sent);
  CHECK(reassembly.dropped() > 0u);
  reassembly.expire(now + timeout);
  CHECK(reassembly.held() == 0u);
  CHECK_FALSE(reassembly.next_expiry().has_value());
}

TEST_CASE("Reassembly: shuffled fragments give each message once, sequenced ones only forward", "[core]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  Reassembly reassembly(std::size_t{1} << 30, std::chrono::hours(1));

  struct Message {
    ChannelId channel;
    std::uint64_t sequence;
    DeliveryMode mode;
    std::vector<std::byte> bytes;
    std::size_t piece;
    std::uint32_t count;
    std::set<std::uint32_t> arrived;
  };
  struct Arrival {
    std::size_t message;
    std::uint32_t index;
  };
  std::vector<Message> messages;
  std::vector<Arrival> arrivals;
  for (std::size_t m = 0; m < 300; ++m) {
    Message msg;
    msg.channel = static_cast<ChannelId>(uniform(rng, 0, 3));
    msg.mode = msg.channel < 2 ? DeliveryMode::unreliable_sequenced : DeliveryMode::unreliable;
    msg.sequence = m;  // numbered in send order, shared space per channel
    msg.count = static_cast<std::uint32_t>(uniform(rng, 1, 6));
    msg.piece = static_cast<std::size_t>(uniform(rng, 1, 50));
    msg.bytes = pattern(msg.piece * msg.count, m);
    for (std::uint32_t i = 0; i < msg.count; ++i) {
      arrivals.push_back({m, i});
      if (uniform(rng, 0, 9) == 0 && msg.count > 1) arrivals.push_back({m, i});  // a repeat
    }
    messages.push_back(std::move(msg));
  }
  // Reordered within a window of about 20 arrivals, as a network would.
  for (std::size_t i = 0; i < arrivals.size(); ++i) {
    const std::size_t j = std::min(arrivals.size() - 1, i + static_cast<std::size_t>(uniform(rng, 0, 20)));
    std::swap(arrivals[i], arrivals[j]);
  }

  std::map<ChannelId, std::uint64_t> newest;  // newest sequenced message delivered, per channel
  std::vector<int> delivered(messages.size(), 0);
  for (const Arrival& a : arrivals) {
    Message& m = messages[a.message];
    CAPTURE(a.message, a.index, m.count, m.channel);
    const bool repeat = m.arrived.contains(a.index);
    const bool complete_before = m.arrived.size() == m.count;
    // Repeats of a message already whole are the packet layer's to drop
    // (duplicate packet numbers); only repeats within a partial come here.
    if (complete_before) continue;
    m.arrived.insert(a.index);
    const bool completes = !repeat && m.arrived.size() == m.count;
    const auto result = reassembly.on_frame(
        fragment(m.channel, m.count == 1 && m.mode == DeliveryMode::unreliable ? 0 : m.sequence, a.index, m.count,
                 std::span(m.bytes).subspan(a.index * m.piece, m.piece), m.mode),
        t0);
    bool expected = completes;
    if (m.mode == DeliveryMode::unreliable_sequenced && newest.contains(m.channel) &&
        m.sequence <= newest[m.channel]) {
      expected = false;
    }
    CHECK(result.has_value() == expected);
    if (result) {
      CHECK(*result == m.bytes);
      ++delivered[a.message];
      if (m.mode == DeliveryMode::unreliable_sequenced) newest[m.channel] = m.sequence;
    }
  }
  for (std::size_t m = 0; m < messages.size(); ++m) {
    CAPTURE(m);
    CHECK(delivered[m] <= 1);
    if (messages[m].mode == DeliveryMode::unreliable) CHECK(delivered[m] == 1);
  }
  // Each sequenced channel delivered its newest message.
  for (const auto& [channel, sequence] : newest) {
    std::uint64_t last = 0;
    for (const Message& m : messages) {
      if (m.channel == channel) last = std::max(last, m.sequence);
    }
    CHECK(sequence == last);
  }
  CHECK(reassembly.dropped() == 0u);
  // What is left is partial sequenced messages overtaken by newer ones.
  reassembly.expire(t0 + std::chrono::hours(1));
  CHECK(reassembly.held() == 0u);
}
