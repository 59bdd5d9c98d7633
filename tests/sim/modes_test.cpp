// SPDX-License-Identifier: MIT
// Channels and delivery modes on the simulated network, each checked as the
// property its mode promises, under loss, reordering, duplication and
// corruption, over several seeds: ordered = exactly once, in order;
// unordered = exactly once; sequenced = never backwards, never twice;
// unreliable = never twice, never corrupted. Then deadlines, re-send
// limits, supersede keys, receipts, priorities and weights, head-of-line
// independence of channels, a live mode switch, and a hostile peer's
// partial fragments.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "heap_counter.hpp"
#include "rudp/core/random.hpp"
#include "rudp/wire/packet.hpp"
#include "scenario.hpp"

using namespace rudp;
using namespace rudp::test;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kSeeds = 5;

/// A message: its id in the first 8 bytes, then bytes derived from the id,
/// so the receiver can tell which message it got and whether it is intact.
std::vector<std::byte> message_bytes(std::uint64_t id, std::size_t size) {
  std::vector<std::byte> bytes = pattern(std::max<std::size_t>(size, 8), id);
  std::memcpy(bytes.data(), &id, sizeof id);
  return bytes;
}

/// The id of an intact message, or nullopt when its bytes are not what was sent.
std::optional<std::uint64_t> message_id(std::span<const std::byte> bytes) {
  if (bytes.size() < 8) return std::nullopt;
  std::uint64_t id = 0;
  std::memcpy(&id, bytes.data(), sizeof id);
  const auto expected = message_bytes(id, bytes.size());
  if (!std::equal(bytes.begin(), bytes.end(), expected.begin(), expected.end())) return std::nullopt;
  return id;
}

struct Arrival {
  std::uint64_t id = 0;
  ChannelId channel = 0;
  DeliveryMode mode = DeliveryMode::reliable_ordered;
  Instant at{};
};

/// A client sending messages to a server that reads everything as it comes,
/// with the client's receipts and the server's arrivals on record.
struct Run {
  explicit Run(std::uint64_t seed, const ConnectionConfig& config = {}, const sim::LinkConfig& link = {})
      : pair(seed, config, config) {
    pair.net.set_path(kClient, kServer, link);
  }

  Pair pair;
  std::vector<Arrival> arrivals;
  std::uint64_t damaged = 0;  // messages whose bytes were not what was sent
  std::map<std::uint64_t, std::vector<ReceiptOutcome>> receipts;
  std::map<std::uint64_t, Instant> sent_at;
  std::size_t client_seen = 0;

  std::error_code send(std::uint64_t id, std::size_t size, SendOptions options) {
    const auto bytes = message_bytes(id, size);
    options.receipt = id;
    const auto ec = pair.client->send_message(pair.client_conn, bytes, options);
    if (!ec) sent_at[id] = pair.net.now();
    return ec;
  }

  /// Reads every ready message at the server and notes new client receipts.
  void pump() {
    pair.drain_events();
    for (; client_seen < pair.client_events.size(); ++client_seen) {
      if (const auto* r = std::get_if<Receipt>(&pair.client_events[client_seen])) receipts[r->tag].push_back(r->outcome);
    }
    if (!pair.server_conn) return;
    std::vector<std::byte> buffer(1 << 21);
    while (const auto info = pair.server->next_message(*pair.server_conn)) {
      const auto n = pair.server->receive_message(*pair.server_conn, buffer);
      REQUIRE(n);
      REQUIRE(*n == info->size);
      const auto id = message_id(std::span(buffer).first(*n));
      if (!id) {
        ++damaged;
        continue;
      }
      arrivals.push_back({*id, info->channel, info->mode, pair.net.now()});
    }
  }

  /// Runs for `duration` in small steps, reading as it goes.
  void run_for(Duration duration, Duration tick = 5ms) {
    for (Duration t{}; t < duration; t += tick) {
      pair.net.run_for(tick);
      pump();
    }
  }

  std::vector<std::uint64_t> ids(ChannelId channel) const {
    std::vector<std::uint64_t> out;
    for (const Arrival& a : arrivals) {
      if (a.channel == channel) out.push_back(a.id);
    }
    return out;
  }

  ConnectionStats client_stats() const { return pair.client->stats(pair.client_conn).value(); }
  ConnectionStats server_stats() const { return pair.server->stats(*pair.server_conn).value(); }
};

sim::LinkConfig rough_link(double loss) {
  sim::LinkConfig link;
  link.delay = 25ms;
  link.jitter = 5ms;
  link.loss = loss;
  link.reorder = 0.05;
  link.reorder_delay = 15ms;
  link.duplicate = 0.03;
  link.corrupt = 0.01;
  return link;
}

/// Sends `count` messages of random sizes (some fragmented) in `mode` on
/// channel 3, one every 5 ms, then lets the connection settle.
Run send_in_mode(std::uint64_t seed, DeliveryMode mode, double loss, std::size_t count = 400) {
  Run run(seed, make_config(Profile::fast), rough_link(loss));
  REQUIRE(run.pair.handshake());
  core::Random rng(seed);
  for (std::uint64_t id = 0; id < count; ++id) {
    const std::size_t size = rng.chance(0.1) ? 1200 + rng.up_to(3000) : 8 + rng.up_to(300);
    REQUIRE_FALSE(run.send(id, size, SendOptions{.channel = 3, .mode = mode}));
    run.run_for(5ms);
  }
  run.run_for(5s, 20ms);
  return run;
}

bool has_duplicates(std::vector<std::uint64_t> ids) {
  std::sort(ids.begin(), ids.end());
  return std::adjacent_find(ids.begin(), ids.end()) != ids.end();
}

}  // namespace

TEST_CASE("modes: reliable-ordered delivers every message exactly once, in order", "[sim][modes]") {
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    CAPTURE(seed);
    const Run run = send_in_mode(seed, DeliveryMode::reliable_ordered, 0.05);
    std::vector<std::uint64_t> expected(400);
    for (std::uint64_t i = 0; i < expected.size(); ++i) expected[i] = i;
    CHECK(run.ids(3) == expected);
    CHECK(run.damaged == 0);
    for (const Arrival& a : run.arrivals) CHECK(a.mode == DeliveryMode::reliable_ordered);
  }
}

TEST_CASE("modes: reliable-unordered delivers every message exactly once, overtaking lost ones", "[sim][modes]") {
  std::size_t overtaken = 0;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    CAPTURE(seed);
    const Run run = send_in_mode(seed, DeliveryMode::reliable_unordered, 0.05);
    auto ids = run.ids(3);
    for (std::size_t i = 1; i < ids.size(); ++i) if (ids[i] < ids[i - 1]) ++overtaken;
    std::sort(ids.begin(), ids.end());
    std::vector<std::uint64_t> expected(400);
    for (std::uint64_t i = 0; i < expected.size(); ++i) expected[i] = i;
    CHECK(ids == expected);
    CHECK(run.damaged == 0);
  }
  // Without head-of-line blocking, later messages overtake re-sent ones.
  CHECK(overtaken > 0);
}

TEST_CASE("modes: unreliable-sequenced never goes backwards and never repeats", "[sim][modes]") {
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    CAPTURE(seed);
    const Run run = send_in_mode(seed, DeliveryMode::unreliable_sequenced, 0.05);
    const auto ids = run.ids(3);
    CHECK(std::adjacent_find(ids.begin(), ids.end(), std::greater_equal<>()) == ids.end());
    CHECK(run.damaged == 0);
    // Loss and reordering cost some, not most.
    CHECK(ids.size() > 300);
    CHECK(ids.size() < 400);
    CHECK(run.server_stats().messages_stale + run.server_stats().reassembly_dropped > 0);
  }
}

TEST_CASE("modes: unreliable never repeats and never hands over damaged bytes", "[sim][modes]") {
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    CAPTURE(seed);
    const Run run = send_in_mode(seed, DeliveryMode::unreliable, 0.05);
    const auto ids = run.ids(3);
    CHECK_FALSE(has_duplicates(ids));
    CHECK(run.damaged == 0);
    CHECK(ids.size() > 300);
    CHECK(ids.size() < 400);
  }
}

TEST_CASE("modes: on a clean link every mode delivers everything", "[sim][modes]") {
  for (const DeliveryMode mode : {DeliveryMode::unreliable, DeliveryMode::unreliable_sequenced,
                                  DeliveryMode::reliable_unordered, DeliveryMode::reliable_ordered}) {
    CAPTURE(static_cast<int>(mode));
    Run run(7, make_config(Profile::fast), sim::LinkConfig{.delay = 20ms});
    REQUIRE(run.pair.handshake());
    for (std::uint64_t id = 0; id < 200; ++id) {
      REQUIRE_FALSE(run.send(id, id % 7 == 0 ? 3000 : 100, SendOptions{.mode = mode}));
      run.run_for(5ms);
    }
    run.run_for(2s);
    auto ids = run.ids(0);
    CHECK(ids.size() == 200);
    // Every message was acknowledged, and said so exactly once.
    CHECK(run.receipts.size() == 200);
    for (const auto& [id, outcomes] : run.receipts) {
      CAPTURE(id);
      CHECK(outcomes == std::vector{ReceiptOutcome::acknowledged});
    }
  }
}

TEST_CASE("modes: receipts fire exactly once per message, and acknowledged means delivered", "[sim][modes]") {
  for (const DeliveryMode mode : {DeliveryMode::unreliable, DeliveryMode::unreliable_sequenced,
                                  DeliveryMode::reliable_unordered, DeliveryMode::reliable_ordered}) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      CAPTURE(static_cast<int>(mode), seed);
      const Run run = send_in_mode(seed, mode, 0.1, 300);
      const auto ids = run.ids(3);
      const std::set<std::uint64_t> delivered(ids.begin(), ids.end());
      CHECK(run.receipts.size() == 300);
      for (const auto& [id, outcomes] : run.receipts) {
        CAPTURE(id);
        REQUIRE(outcomes.size() == 1);
        // (An acknowledged sequenced message may still have been dropped
        // on arrival as older than one delivered before it.)
        if (outcomes[0] == ReceiptOutcome::acknowledged && mode != DeliveryMode::unreliable_sequenced) {
          CHECK(delivered.contains(id));
        }
        if (mode == DeliveryMode::reliable_ordered || mode == DeliveryMode::reliable_unordered) {
          CHECK(outcomes[0] == ReceiptOutcome::acknowledged);
        }
      }
    }
  }
}

TEST_CASE("modes: a deadline abandons a message on both sides and ordered delivery goes on", "[sim][modes]") {
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    CAPTURE(seed);
    sim::LinkConfig link;
    link.delay = 40ms;
    link.loss = 0.15;
    // Without re-bundling, every loss needs a re-send, which takes longer than the deadline allows.
    ConnectionConfig config = make_config(Profile::realtime);
    config.rebundle_small_chunks = false;
    Run run(seed, config, link);
    REQUIRE(run.pair.handshake());
    // Voice-like: 20 ms frames that are worthless 120 ms after they were sent.
    for (std::uint64_t id = 0; id < 500; ++id) {
      const Instant deadline = run.pair.net.now() + 120ms;
      REQUIRE_FALSE(run.send(id, 160, SendOptions{.deadline = deadline}));
      run.run_for(20ms);
    }
    // The last one has all the time it needs, and must arrive past the gaps.
    REQUIRE_FALSE(run.send(500, 160, SendOptions{}));
    run.run_for(5s, 20ms);

    const auto ids = run.ids(0);
    CHECK(std::is_sorted(ids.begin(), ids.end()));
    CHECK_FALSE(has_duplicates(ids));
    REQUIRE_FALSE(ids.empty());
    CHECK(ids.back() == 500);
    const std::set<std::uint64_t> delivered(ids.begin(), ids.end());
    std::size_t expired = 0;
    for (const auto& [id, outcomes] : run.receipts) {
      CAPTURE(id);
      REQUIRE(outcomes.size() == 1);
      // Anything not delivered was given up at its deadline and said so.
      if (!delivered.contains(id)) CHECK(outcomes[0] == ReceiptOutcome::expired);
      if (outcomes[0] == ReceiptOutcome::expired) ++expired;
    }
    CHECK(run.receipts.size() == 501);
    CHECK(expired > 0);
    CHECK(run.client_stats().messages_expired == expired);
    // The receiver skipped what the sender abandoned after sending.
    CHECK(run.server_stats().messages_skipped > 0);
    CHECK(run.server_stats().messages_skipped <= expired);
    // Ordered delivery never waited long behind an abandoned message.
    for (const Arrival& a : run.arrivals) {
      if (a.id < 500) CHECK(a.at - run.sent_at.at(a.id) < 400ms);
    }
  }
}

TEST_CASE("modes: max_retransmits gives a message up and delivery goes on", "[sim][modes]") {
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    CAPTURE(seed);
    sim::LinkConfig link;
    link.delay = 30ms;
    link.loss = 0.2;
    Run run(seed, make_config(Profile::fast), link);
    REQUIRE(run.pair.handshake());
    for (std::uint64_t id = 0; id < 300; ++id) {
      REQUIRE_FALSE(run.send(id, 100, SendOptions{.max_retransmits = 0}));
      run.run_for(10ms);
    }
    REQUIRE_FALSE(run.send(300, 100, SendOptions{}));
    run.run_for(5s, 20ms);
    const auto ids = run.ids(0);
    CHECK(std::is_sorted(ids.begin(), ids.end()));
    REQUIRE_FALSE(ids.empty());
    CHECK(ids.back() == 300);
    std::size_t lost = 0;
    for (const auto& [id, outcomes] : run.receipts) {
      REQUIRE(outcomes.size() == 1);
      if (outcomes[0] == ReceiptOutcome::lost) ++lost;
    }
    CHECK(lost > 0);
    CHECK(run.client_stats().messages_abandoned == lost);
  }
}

TEST_CASE("modes: a supersede key replaces queued messages with the newest", "[sim][modes]") {
  Run run(3, make_config(Profile::fast), sim::LinkConfig{.delay = 30ms});
  // Before the handshake nothing can go out: ten snapshots of object 1 and
  // ten of object 2 queue up, interleaved with events that must all arrive.
  for (std::uint64_t i = 0; i < 10; ++i) {
    REQUIRE_FALSE(run.send(100 + i, 50, SendOptions{.channel = 1, .mode = DeliveryMode::unreliable_sequenced,
                                                    .supersede_key = 1}));
    REQUIRE_FALSE(run.send(200 + i, 50, SendOptions{.channel = 1, .mode = DeliveryMode::unreliable_sequenced,
                                                    .supersede_key = 2}));
    REQUIRE_FALSE(run.send(300 + i, 50, SendOptions{.channel = 2}));
  }
  // The replaced messages' receipts are there at once, not at the next packet.
  run.pump();
  CHECK(run.receipts.size() == 18);
  REQUIRE(run.pair.handshake());
  run.run_for(1s);
  CHECK(run.ids(1) == std::vector<std::uint64_t>{109, 209});
  CHECK(run.ids(2) == std::vector<std::uint64_t>{300, 301, 302, 303, 304, 305, 306, 307, 308, 309});
  CHECK(run.client_stats().messages_superseded == 18);
  std::size_t superseded = 0;
  for (const auto& [id, outcomes] : run.receipts) {
    CAPTURE(id);
    REQUIRE(outcomes.size() == 1);
    if (outcomes[0] == ReceiptOutcome::superseded) ++superseded;
    if (id == 109 || id == 209 || id >= 300) CHECK(outcomes[0] == ReceiptOutcome::acknowledged);
  }
  CHECK(superseded == 18);
}

TEST_CASE("modes: a higher priority class is never starved by a saturated bulk channel", "[sim][modes]") {
  sim::LinkConfig link;
  link.delay = 20ms;
  link.rate_bits_per_second = 4'000'000;
  link.queue_bytes = 64 * 1024;
  Run run(5, make_config(Profile::fast), link);
  REQUIRE(run.pair.handshake());
  REQUIRE_FALSE(run.pair.client->configure_channel(run.pair.client_conn, 1, ChannelConfig{.mode = DeliveryMode::unreliable, .priority = 1}));
  std::uint64_t bulk_id = 1'000'000;
  const auto bulk = std::vector<std::byte>(1000);
  for (std::uint64_t id = 0; id < 300; ++id) {
    // Keep the bulk channel's queue full.
    while (!run.send(bulk_id, 1000, SendOptions{.channel = 0})) ++bulk_id;
    REQUIRE_FALSE(run.send(id, 120, SendOptions{.channel = 1}));
    run.run_for(16ms, 2ms);
  }
  run.run_for(1s);
  const auto urgent = run.ids(1);
  const auto bulk_delivered = run.ids(0);
  CAPTURE(urgent.size(), bulk_delivered.size());
  // The bulk channel used the link ...
  CHECK(bulk_delivered.size() > 1000);
  // ... and every urgent message still went out ahead of it, in time.
  CHECK(urgent.size() >= 297);
  for (const Arrival& a : run.arrivals) {
    if (a.channel == 1) CHECK(a.at - run.sent_at.at(a.id) < 20ms + 60ms);
  }
}

TEST_CASE("modes: channels of one class share the link by weight", "[sim][modes]") {
  sim::LinkConfig link;
  link.delay = 10ms;
  link.rate_bits_per_second = 8'000'000;
  link.queue_bytes = 64 * 1024;
  Run run(6, make_config(Profile::fast), link);
  REQUIRE(run.pair.handshake());
  REQUIRE_FALSE(run.pair.client->configure_channel(run.pair.client_conn, 1, ChannelConfig{.weight = 1}));
  REQUIRE_FALSE(run.pair.client->configure_channel(run.pair.client_conn, 2, ChannelConfig{.weight = 3}));
  std::uint64_t id = 0;
  std::size_t sent[3] = {};
  for (int tick = 0; tick < 1000; ++tick) {
    // Both channels always have a backlog of 100 messages queued.
    for (ChannelId channel = 1; channel <= 2; ++channel) {
      while (sent[channel] < run.ids(channel).size() + 100) {
        REQUIRE_FALSE(run.send(id++, 1000, SendOptions{.channel = channel}));
        ++sent[channel];
      }
    }
    run.run_for(5ms, 5ms);
  }
  const double light = static_cast<double>(run.ids(1).size());
  const double heavy = static_cast<double>(run.ids(2).size());
  CAPTURE(light, heavy);
  REQUIRE(light > 0);
  CHECK(heavy / light == Approx(3.0).epsilon(0.2));
}

TEST_CASE("modes: a loss on one channel never holds up another", "[sim][modes]") {
  Run run(8, make_config(Profile::tcp_friendly), sim::LinkConfig{.delay = 30ms});
  REQUIRE(run.pair.handshake());
  // Lose the first packet that carries channel 1's message 0; channel 2's
  // message, sent just after, must not wait for its re-send.
  bool dropped = false;
  run.pair.net.set_drop_filter([&](const sim::Datagram& d) {
    if (dropped || d.from != kClient) return false;
    const auto packet = wire::parse_packet(d.bytes);
    if (!packet) return false;
    for (const wire::Frame& f : packet->frames()) {
      const auto* data = std::get_if<wire::DataFrame>(&f);
      if (data && data->channel == 1) return dropped = true;
    }
    return false;
  });
  REQUIRE_FALSE(run.send(0, 100, SendOptions{.channel = 1}));
  run.run_for(1ms, 1ms);
  REQUIRE_FALSE(run.send(1, 100, SendOptions{.channel = 2}));
  run.run_for(2s, 1ms);
  REQUIRE(dropped);
  REQUIRE(run.ids(1) == std::vector<std::uint64_t>{0});
  REQUIRE(run.ids(2) == std::vector<std::uint64_t>{1});
  const auto arrival = [&](std::uint64_t id) {
    return std::find_if(run.arrivals.begin(), run.arrivals.end(), [&](const Arrival& a) { return a.id == id; })->at;
  };
  CHECK(arrival(1) - run.sent_at.at(1) < 40ms);
  CHECK(arrival(0) - run.sent_at.at(0) > 60ms);  // it waited for its re-send
}

TEST_CASE("modes: switching a live channel's mode loses nothing its modes promised", "[sim][modes]") {
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    CAPTURE(seed);
    Run run(seed, make_config(Profile::fast), rough_link(0.05));
    REQUIRE(run.pair.handshake());
    const DeliveryMode phases[] = {DeliveryMode::reliable_ordered, DeliveryMode::unreliable_sequenced,
                                   DeliveryMode::reliable_unordered, DeliveryMode::reliable_ordered};
    std::map<std::uint64_t, DeliveryMode> mode_of;
    std::uint64_t id = 0;
    for (const DeliveryMode mode : phases) {
      REQUIRE_FALSE(run.pair.client->configure_channel(run.pair.client_conn, 0, ChannelConfig{.mode = mode}));
      for (int i = 0; i < 100; ++i, ++id) {
        REQUIRE_FALSE(run.send(id, 100 + id % 1500, SendOptions{}));
        mode_of[id] = mode;
        run.run_for(5ms);
      }
    }
    run.run_for(5s, 20ms);
    const auto ids = run.ids(0);
    CHECK_FALSE(has_duplicates(ids));
    const std::set<std::uint64_t> delivered(ids.begin(), ids.end());
    std::vector<std::uint64_t> ordered;
    std::uint64_t last_sequenced = 0;
    bool any_sequenced = false;
    for (const Arrival& a : run.arrivals) {
      CHECK(a.mode == mode_of.at(a.id));
      if (a.mode == DeliveryMode::reliable_ordered) ordered.push_back(a.id);
      if (a.mode == DeliveryMode::unreliable_sequenced) {
        if (any_sequenced) CHECK(a.id > last_sequenced);
        last_sequenced = a.id;
        any_sequenced = true;
      }
    }
    CHECK(std::is_sorted(ordered.begin(), ordered.end()));
    for (const auto& [message, mode] : mode_of) {
      CAPTURE(message);
      if (mode != DeliveryMode::unreliable_sequenced) CHECK(delivered.contains(message));
    }
  }
}

TEST_CASE("modes: a peer's partial fragments stay within the reassembly budget", "[sim][modes]") {
  ConnectionConfig config = make_config(Profile::fast);
  config.reassembly_buffer = 256 * 1024;
  config.reassembly_timeout = 500ms;
  Run run(9, config, sim::LinkConfig{.delay = 5ms});
  REQUIRE(run.pair.handshake());
  // Learn the server's connection id and the client's packet numbers from a real packet.
  std::optional<wire::Header> seen;
  run.pair.net.set_drop_filter([&](const sim::Datagram& d) {
    if (d.from == kClient) {
      if (const auto packet = wire::parse_packet(d.bytes)) seen = packet->header;
    }
    return false;
  });
  REQUIRE_FALSE(run.send(0, 10, SendOptions{}));
  run.run_for(100ms);
  REQUIRE(seen);
  run.pair.net.set_drop_filter({});

  // 20,000 first fragments of different messages, 1000 bytes each: 20 MB
  // that never complete, from packet numbers the client has not used.
  const std::size_t heap_before = live_heap_bytes();
  std::vector<std::byte> payload(1000, std::byte{0x5a});
  std::vector<std::byte> buffer(1200);
  for (std::uint64_t i = 0; i < 20'000; ++i) {
    wire::Header header = *seen;
    header.number = wire::truncate_packet_number(1'000 + i, std::nullopt, 4);
    wire::PacketWriter packet(buffer, header);
    wire::encode_frame(packet.frames(), wire::DataFrame{DeliveryMode::unreliable, 4, i, 0, 100, false, payload});
    const auto size = packet.finish();
    REQUIRE(size);
    run.pair.net.inject(kClient, kServer, {buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*size)});
    if (i % 100 == 0) run.pair.net.run_for(1ms);
  }
  run.pair.net.run_for(10ms);
  const std::size_t heap_during = live_heap_bytes();
  CAPTURE(heap_before, heap_during);
  CHECK(heap_during < heap_before + config.reassembly_buffer + 256 * 1024);
  CHECK(run.server_stats().reassembly_dropped > 19'000);
  // The connection still works, and what was held times out.
  REQUIRE_FALSE(run.send(1, 10, SendOptions{}));
  run.run_for(1s);
  CHECK(run.ids(0) == std::vector<std::uint64_t>{0, 1});
  CHECK(run.pair.server->stats(*run.pair.server_conn).has_value());
}
