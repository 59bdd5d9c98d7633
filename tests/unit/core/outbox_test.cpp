// SPDX-License-Identifier: MIT
// Unit tests of Outbox, the choice of which channel sends next: channels are
// created on first use and keep their configuration; a higher priority class
// always goes first; within a class busy channels share the link by weight
// (stride scheduling, measured in payload bytes); a channel whose next frame
// is not allowed (no credit) is passed over without holding back the others;
// and a channel coming back from idle earns nothing for the time it was idle.
#include "rudp/core/outbox.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "queue_test_support.hpp"

using namespace rudp;
using namespace rudp::core;
using namespace rudp::core::test;

namespace {

struct Picked {
  ChannelId channel = 0;
  std::size_t bytes = 0;
};

const auto kAll = [](const NextData&) { return true; };

/// Picks, sends and accounts for the next frame, as the connection does.
template <class Allowed>
std::optional<Picked> send_one(Outbox& outbox, Allowed&& allowed) {
  auto picked = outbox.pick(allowed);
  if (!picked) return std::nullopt;
  auto [queue, next] = *picked;
  const auto peeked = queue->peek();
  REQUIRE(peeked.has_value());
  CHECK(peeked->frame == next.frame);  // pick() offers what the queue would send
  CHECK(allowed(next));
  const std::size_t bytes = next.frame.payload.size();
  queue->on_sent();
  outbox.on_sent(*queue, bytes);
  return Picked{queue->channel(), bytes};
}

MessageOptions unreliable() {
  MessageOptions o;
  o.mode = DeliveryMode::unreliable;
  return o;
}

/// Queues `frames` unreliable frames of `size` bytes on `channel`.
void fill(Outbox& outbox, ChannelId channel, std::size_t frames, std::size_t size) {
  const auto message = pattern(frames * size, channel);
  outbox.queue(channel).push(message, unreliable(), size);
}

ChannelConfig config(std::uint8_t priority, std::uint8_t weight) {
  ChannelConfig c;
  c.priority = priority;
  c.weight = weight;
  return c;
}

/// Payload bytes each channel sends in `frames` frames.
std::map<ChannelId, std::size_t> share(Outbox& outbox, std::size_t frames) {
  std::map<ChannelId, std::size_t> bytes;
  for (std::size_t i = 0; i < frames; ++i) {
    const auto picked = send_one(outbox, kAll);
    REQUIRE(picked.has_value());
    bytes[picked->channel] += picked->bytes;
  }
  return bytes;
}

}  // namespace

TEST_CASE("Outbox: channels are created on first use and keep their configuration", "[core]") {
  Outbox outbox;
  CHECK_FALSE(outbox.pick(kAll).has_value());
  CHECK(outbox.all_acked());
  CHECK(outbox.buffered() == 0u);

  const ChannelConfig defaults = outbox.config(9);
  CHECK(defaults.mode == DeliveryMode::reliable_ordered);
  CHECK(defaults.priority == 0);
  CHECK(defaults.weight == 1);

  SendQueue& nine = outbox.queue(9);
  CHECK(nine.channel() == 9);
  CHECK(&outbox.queue(9) == &nine);
  ChannelConfig c = config(3, 7);
  c.mode = DeliveryMode::unreliable_sequenced;
  outbox.configure(9, c);
  CHECK(outbox.config(9).mode == DeliveryMode::unreliable_sequenced);
  CHECK(outbox.config(9).priority == 3);
  CHECK(outbox.config(9).weight == 7);
  CHECK(&outbox.queue(9) == &nine);  // configuring keeps the queue

  // A channel configured before its first message keeps its configuration.
  outbox.configure(2, config(1, 4));
  CHECK(outbox.config(2).weight == 4);
  CHECK(outbox.queue(2).channel() == 2);

  // The totals cover every channel.
  outbox.queue(9).push(pattern(30), MessageOptions{}, 100);
  outbox.queue(2).push(pattern(20), unreliable(), 100);
  CHECK(outbox.buffered() == 50u);
  CHECK_FALSE(outbox.all_acked());
  std::size_t visited = 0;
  outbox.for_each([&](SendQueue&) { ++visited; });
  CHECK(visited == 2u);
}

TEST_CASE("Outbox: SKIPs and acknowledgements are seen over all channels", "[core]") {
  Outbox outbox;
  Receipts receipts;
  MessageOptions once;
  once.max_retransmits = 0;
  outbox.queue(1).push(pattern(10), once, 100);
  outbox.queue(2).push(pattern(10), MessageOptions{}, 100);
  REQUIRE(send_one(outbox, kAll).has_value());
  REQUIRE(send_one(outbox, kAll).has_value());
  CHECK_FALSE(outbox.has_skips());
  outbox.queue(1).on_lost(0);
  QueueNews news;
  outbox.for_each([&](SendQueue& q) { q.expire(Instant{}, Duration::zero(), receipts, news); });
  CHECK(news.abandoned == 1u);
  CHECK(outbox.has_skips());
  outbox.queue(1).on_skip_sent();
  CHECK_FALSE(outbox.has_skips());
  outbox.queue(1).on_skip_acked(0);
  CHECK_FALSE(outbox.all_acked());  // channel 2's chunk is still out
  outbox.queue(2).on_acked(0, receipts);
  CHECK(outbox.all_acked());
  CHECK_FALSE(outbox.pick(kAll).has_value());
}

TEST_CASE("Outbox: a higher priority class always goes first", "[core]") {
  Outbox outbox;
  outbox.configure(1, config(1, 1));
  outbox.configure(2, config(0, 255));
  outbox.configure(3, config(2, 1));
  fill(outbox, 2, 5, 100);
  fill(outbox, 1, 5, 100);
  fill(outbox, 3, 5, 100);

  std::vector<ChannelId> order;
  while (const auto picked = send_one(outbox, kAll)) {
    order.push_back(picked->channel);
    // A channel of a higher class that gets data goes next, whatever was sent before.
    if (order.size() == 7) fill(outbox, 3, 1, 10);
  }
  const std::vector<ChannelId> expected = {3, 3, 3, 3, 3, 1, 1, 3, 1, 1, 1, 2, 2, 2, 2, 2};
  CHECK(order == expected);
}

TEST_CASE("Outbox: busy channels of one class share the link by weight", "[core]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  Outbox outbox;
  const auto channels = static_cast<std::size_t>(uniform(rng, 2, 4));
  std::map<ChannelId, std::uint8_t> weights;
  for (std::size_t i = 0; i < channels; ++i) {
    const auto channel = static_cast<ChannelId>(10 + i);
    // Weights up to 8: their strides (255 / weight) are within 3% of exact.
    const auto weight = static_cast<std::uint8_t>(uniform(rng, 1, 8));
    weights[channel] = weight;
    outbox.configure(channel, config(1, weight));
    // Enough of every size that no channel runs dry.
    for (int m = 0; m < 40; ++m) fill(outbox, channel, 100, static_cast<std::size_t>(uniform(rng, 20, 200)));
  }
  // A channel of a lower class, with data: it gets nothing meanwhile.
  fill(outbox, 99, 100, 100);

  const auto bytes = share(outbox, 3000);
  CHECK_FALSE(bytes.contains(99));
  std::uint64_t total_weight = 0;
  std::size_t total_bytes = 0;
  for (const auto& [channel, weight] : weights) total_weight += weight;
  for (const auto& [channel, sent] : bytes) total_bytes += sent;
  for (const auto& [channel, weight] : weights) {
    const double expected = static_cast<double>(weight) / static_cast<double>(total_weight);
    const double actual = static_cast<double>(bytes.at(channel)) / static_cast<double>(total_bytes);
    CAPTURE(static_cast<int>(channel), static_cast<int>(weight), expected, actual);
    CHECK(std::abs(actual - expected) <= 0.05 * expected);
  }
}

// Passes advance by bytes * (stride / weight) in integers; the stride must be
// large enough that weights near 255 still share in proportion (with a stride
// of 255, weights 128 and 255 shared 1:1).
TEST_CASE("Outbox: large weights share the link by weight too", "[core]") {
  using Weights = std::pair<std::uint8_t, std::uint8_t>;
  const Weights weights = GENERATE(Weights{128, 255}, Weights{64, 128}, Weights{170, 255}, Weights{100, 150});
  CAPTURE(static_cast<int>(weights.first), static_cast<int>(weights.second));
  Outbox outbox;
  outbox.configure(1, config(0, weights.first));
  outbox.configure(2, config(0, weights.second));
  fill(outbox, 1, 5000, 100);
  fill(outbox, 2, 5000, 100);
  const auto bytes = share(outbox, 4000);
  const double expected = static_cast<double>(weights.second) / static_cast<double>(weights.first);
  const double actual = static_cast<double>(bytes.at(2)) / static_cast<double>(bytes.at(1));
  CAPTURE(expected, actual);
  CHECK(std::abs(actual - expected) <= 0.1 * expected);
}

TEST_CASE("Outbox: a channel whose next frame is not allowed is passed over", "[core]") {
  Outbox outbox;
  outbox.configure(1, config(2, 1));
  outbox.configure(2, config(0, 1));
  outbox.configure(3, config(0, 1));
  // Channel 1 (highest class) waits on credit for a reliable message.
  outbox.queue(1).push(pattern(50), MessageOptions{}, 100);
  fill(outbox, 2, 4, 10);
  fill(outbox, 3, 4, 10);
  const auto no_credit = [](const NextData& next) { return next.credit == 0; };

  std::vector<ChannelId> order;
  for (int i = 0; i < 4; ++i) {
    const auto picked = send_one(outbox, no_credit);
    REQUIRE(picked.has_value());
    order.push_back(picked->channel);
  }
  CHECK(std::count(order.begin(), order.end(), 1) == 0);
  CHECK(std::count(order.begin(), order.end(), 2) == 2);  // the others share as usual
  CHECK(std::count(order.begin(), order.end(), 3) == 2);

  // Within a class too: channel 2 is not allowed, 3 goes on alone.
  const auto not_two = [&](const NextData& next) { return next.credit == 0 && next.frame.channel != 2; };
  CHECK(send_one(outbox, not_two)->channel == 3);
  CHECK(send_one(outbox, not_two)->channel == 3);
  CHECK_FALSE(send_one(outbox, not_two).has_value());  // only 1 and 2 have data, neither allowed

  // Credit comes: channel 1 goes first again.
  CHECK(send_one(outbox, kAll)->channel == 1);
  CHECK(send_one(outbox, kAll)->channel == 2);
  CHECK(send_one(outbox, kAll)->channel == 2);
  CHECK_FALSE(send_one(outbox, kAll).has_value());
}

TEST_CASE("Outbox: a channel coming back from idle earns nothing for the idle time", "[core]") {
  const bool idle_first = GENERATE(false, true);  // which channel the Outbox made first
  CAPTURE(idle_first);
  constexpr ChannelId busy = 1;
  constexpr ChannelId idle = 2;

  // The busy channel sends alone for `alone` frames, then the idle one gets
  // data; returns who sends the next 400 frames.
  const auto after_idle = [&](int alone) {
    Outbox outbox;
    outbox.queue(idle_first ? idle : busy);
    outbox.queue(idle_first ? busy : idle);
    fill(outbox, busy, 3000, 100);
    for (int i = 0; i < alone; ++i) REQUIRE(send_one(outbox, kAll)->channel == busy);
    fill(outbox, idle, 1000, 100);
    std::vector<ChannelId> order;
    for (int i = 0; i < 400; ++i) order.push_back(send_one(outbox, kAll)->channel);
    return order;
  };

  const auto order = after_idle(1000);
  // Equal weights and frames: the newcomer neither takes over nor waits; it
  // starts where the class is, at most one frame ahead (the frame under way).
  CHECK(order[0] == idle);
  long lead = 0;  // idle's frames less busy's
  for (std::size_t i = 0; i < order.size(); ++i) {
    CAPTURE(i);
    lead += order[i] == idle ? 1 : -1;
    CHECK(lead >= -1);
    CHECK(lead <= 2);
  }
  // What it gets does not depend on how long it was idle.
  CHECK(after_idle(3) == order);
  CHECK(after_idle(200) == order);
}
