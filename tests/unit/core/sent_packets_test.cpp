// SPDX-License-Identifier: MIT
// Unit tests of SentPackets: ACK ranges applied to the history, RTT samples,
// loss by packet threshold and by time threshold (RFC 9002 §6.1), the loss
// timer, bytes in flight, spurious losses, declare_all_lost, and a seeded
// model check of random sends, ACKs and loss checks. Packet n carries chunk
// 100 + n so that chunks and packet numbers cannot be confused.
#include "rudp/core/sent_packets.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "../wire/wire_test_support.hpp"

using namespace rudp;
using namespace rudp::core;
using namespace rudp::wire;
using namespace std::chrono_literals;
using rudp::wire::test::coin;
using rudp::wire::test::FrameFactory;
using rudp::wire::test::Rng;
using rudp::wire::test::test_seeds;
using rudp::wire::test::uniform;

namespace {

const Instant t0 = Instant{} + 1ms;

/// `ms` milliseconds after t0.
Instant at(std::int64_t ms) { return t0 + std::chrono::milliseconds(ms); }

constexpr std::uint64_t chunk_of(std::uint64_t number) { return 100 + number; }

/// The sequence numbers of `chunks`, all of channel 0 here.
std::vector<std::uint64_t> sequences(const std::vector<ChunkRef>& chunks) {
  std::vector<std::uint64_t> out;
  for (const ChunkRef& c : chunks) out.push_back(c.sequence);
  return out;
}

SentPacket packet(std::uint64_t number, Instant sent, bool ack_eliciting = true, std::uint32_t size = 100) {
  SentPacket p;
  p.number = number;
  p.time_sent = sent;
  p.size = size;
  p.ack_eliciting = ack_eliciting;
  p.frames.chunks = {ChunkRef{0, chunk_of(number)}};
  return p;
}

/// Sends packets first..last, packet n at at(n), ack-eliciting, 100 bytes.
void send_range(SentPackets& sent, std::uint64_t first, std::uint64_t last) {
  for (std::uint64_t n = first; n <= last; ++n) sent.on_packet_sent(packet(n, at(static_cast<std::int64_t>(n))));
}

/// Makes the AckRanges of an ACK frame; they are views into bytes it keeps.
class Acks {
 public:
  AckRanges operator()(const std::vector<AckRange>& ranges) { return factory_.ack_frame(0, ranges).ranges; }

 private:
  Rng rng_;
  FrameFactory factory_{rng_};
};

PacketOutcome on_ack(SentPackets& sent, const AckRanges& ranges, Instant now, Instant forget_lost_before = Instant{}) {
  PacketOutcome out;
  sent.on_ack(ranges, now, forget_lost_before, out);
  return out;
}

PacketOutcome detect_lost(SentPackets& sent, Instant now, Duration loss_delay, unsigned packet_threshold = 3) {
  PacketOutcome out;
  sent.detect_lost(now, loss_delay, packet_threshold, out);
  return out;
}

std::vector<std::uint64_t> sorted(std::vector<std::uint64_t> values) {
  std::sort(values.begin(), values.end());
  return values;
}

}  // namespace

TEST_CASE("SentPackets: an ACK marks its ranges acknowledged", "[core]") {
  SentPackets sent;
  Acks acks;
  send_range(sent, 0, 5);
  REQUIRE(sent.bytes_in_flight() == 600u);
  REQUIRE(sent.eliciting_in_flight() == 6u);
  REQUIRE(sent.next_number() == 6u);

  const PacketOutcome out = on_ack(sent, acks({{4, 5}, {0, 2}}), at(50));
  CHECK(out.acked_packets == 5u);
  CHECK(out.acked_bytes == 500u);
  CHECK(sorted(sequences(out.acked.chunks)) == std::vector<std::uint64_t>{100, 101, 102, 104, 105});
  CHECK(out.rtt_sample == 45ms);  // packet 5 went at 5 ms
  CHECK(out.largest_newly_acked_sent == at(5));
  CHECK(out.lost_packets == 0u);
  CHECK(out.spurious_packets == 0u);
  CHECK(sent.largest_acked() == 5u);
  CHECK(sent.bytes_in_flight() == 100u);
  CHECK(sent.eliciting_in_flight() == 1u);
  // The probe timer runs from the newest ack-eliciting packet sent while any
  // is outstanding (RFC 9002 §6.2.1), here packet 5, though packet 3 is the one left.
  CHECK(sent.last_eliciting_sent() == at(5));
}

TEST_CASE("SentPackets: an RTT sample needs the largest newly acked and ack-eliciting", "[core]") {
  SentPackets sent;
  Acks acks;
  send_range(sent, 0, 1);
  sent.on_packet_sent(packet(2, at(2), false, 40));
  send_range(sent, 3, 3);

  // The largest is newly acknowledged but not ack-eliciting.
  PacketOutcome out = on_ack(sent, acks({{2, 2}}), at(10));
  CHECK(out.acked_packets == 1u);
  CHECK(out.acked_bytes == 0u);
  CHECK_FALSE(out.rtt_sample.has_value());
  CHECK(out.largest_newly_acked_sent == at(2));

  // Older packets are newly acknowledged, the largest is not.
  out = on_ack(sent, acks({{2, 2}, {0, 0}}), at(20));
  CHECK(out.acked_packets == 1u);
  CHECK_FALSE(out.rtt_sample.has_value());
  CHECK_FALSE(out.largest_newly_acked_sent.has_value());

  // Nothing new at all.
  out = on_ack(sent, acks({{2, 2}, {0, 0}}), at(25));
  CHECK(out.acked_packets == 0u);
  CHECK_FALSE(out.rtt_sample.has_value());

  // A new, ack-eliciting largest.
  out = on_ack(sent, acks({{0, 3}}), at(40));
  CHECK(out.acked_packets == 2u);  // 1 and 3
  CHECK(out.rtt_sample == 37ms);
  CHECK(out.largest_newly_acked_sent == at(3));
  CHECK(sent.bytes_in_flight() == 0u);
}

TEST_CASE("SentPackets: a packet is lost once one three numbers newer is acked", "[core]") {
  SentPackets sent;
  Acks acks;
  send_range(sent, 0, 5);
  constexpr Duration kLongDelay = 1s;  // so that only the packet threshold counts

  on_ack(sent, acks({{3, 3}}), at(10));
  PacketOutcome out = detect_lost(sent, at(10), kLongDelay);
  CHECK(out.lost_packets == 1u);
  CHECK(out.lost_bytes == 100u);
  CHECK(sequences(out.lost.chunks) == std::vector<std::uint64_t>{chunk_of(0)});
  CHECK(sent.bytes_in_flight() == 400u);  // 1, 2, 4 and 5
  CHECK(sent.next_loss_time(kLongDelay) == at(1) + kLongDelay);

  on_ack(sent, acks({{3, 4}}), at(11));
  out = detect_lost(sent, at(11), kLongDelay);
  CHECK(sequences(out.lost.chunks) == std::vector<std::uint64_t>{chunk_of(1)});

  on_ack(sent, acks({{3, 5}}), at(12));
  out = detect_lost(sent, at(12), kLongDelay);
  CHECK(sequences(out.lost.chunks) == std::vector<std::uint64_t>{chunk_of(2)});
  CHECK(sent.bytes_in_flight() == 0u);
  CHECK_FALSE(sent.next_loss_time(kLongDelay).has_value());

  // Detection again finds nothing new.
  out = detect_lost(sent, at(100), kLongDelay);
  CHECK(out.lost_packets == 0u);
}

TEST_CASE("SentPackets: the packet threshold is a parameter", "[core]") {
  SentPackets sent;
  Acks acks;
  send_range(sent, 0, 3);
  on_ack(sent, acks({{3, 3}}), at(10));
  CHECK(detect_lost(sent, at(10), 1s, 4).lost_packets == 0u);
  CHECK(sorted(sequences(detect_lost(sent, at(10), 1s, 1).lost.chunks)) ==
        std::vector<std::uint64_t>{chunk_of(0), chunk_of(1), chunk_of(2)});
}

TEST_CASE("SentPackets: a packet is lost once older than the loss delay", "[core]") {
  SentPackets sent;
  Acks acks;
  constexpr Duration kDelay = 30ms;
  sent.on_packet_sent(packet(0, at(0)));
  sent.on_packet_sent(packet(1, at(10)));
  sent.on_packet_sent(packet(2, at(20)));
  sent.on_packet_sent(packet(3, at(21)));
  CHECK_FALSE(sent.next_loss_time(kDelay).has_value());  // nothing acknowledged yet

  on_ack(sent, acks({{2, 2}}), at(25));
  CHECK(sent.next_loss_time(kDelay) == at(30));
  CHECK(detect_lost(sent, at(25), kDelay).lost_packets == 0u);
  CHECK(detect_lost(sent, at(30) - 1ns, kDelay).lost_packets == 0u);

  PacketOutcome out = detect_lost(sent, at(30), kDelay);
  CHECK(sequences(out.lost.chunks) == std::vector<std::uint64_t>{chunk_of(0)});
  CHECK(sent.next_loss_time(kDelay) == at(40));

  // Packet 3 is newer than the largest acknowledged: never lost by time.
  out = detect_lost(sent, at(1000), kDelay);
  CHECK(sequences(out.lost.chunks) == std::vector<std::uint64_t>{chunk_of(1)});
  CHECK_FALSE(sent.next_loss_time(kDelay).has_value());
  CHECK(sent.bytes_in_flight() == 100u);
  CHECK(sent.last_eliciting_sent() == at(21));
}

TEST_CASE("SentPackets: bytes in flight count ack-eliciting packets until acked or lost", "[core]") {
  SentPackets sent;
  Acks acks;
  sent.on_packet_sent(packet(0, at(0), true, 100));
  sent.on_packet_sent(packet(1, at(1), true, 200));
  sent.on_packet_sent(packet(2, at(2), true, 300));
  sent.on_packet_sent(packet(3, at(3), false, 50));
  CHECK(sent.bytes_in_flight() == 600u);
  CHECK(sent.eliciting_in_flight() == 3u);
  CHECK(sent.last_eliciting_sent() == at(2));

  PacketOutcome out = on_ack(sent, acks({{1, 1}}), at(10));
  CHECK(out.acked_bytes == 200u);
  CHECK(sent.bytes_in_flight() == 400u);

  out = detect_lost(sent, at(10), 1s, 1);  // packet 0
  CHECK(out.lost_bytes == 100u);
  CHECK(sent.bytes_in_flight() == 300u);
  CHECK(sent.eliciting_in_flight() == 1u);

  // The lost packet's late ACK takes nothing from the flight a second time.
  out = on_ack(sent, acks({{0, 1}}), at(11));
  CHECK(out.acked_packets == 1u);
  CHECK(sent.bytes_in_flight() == 300u);

  out = on_ack(sent, acks({{0, 3}}), at(12));
  CHECK(out.acked_packets == 2u);
  CHECK(out.acked_bytes == 300u);  // the 50 bytes of packet 3 never counted
  CHECK(sent.bytes_in_flight() == 0u);
  CHECK(sent.eliciting_in_flight() == 0u);
  CHECK_FALSE(sent.last_eliciting_sent().has_value());
}

TEST_CASE("SentPackets: an ACK for a packet declared lost is spurious", "[core]") {
  SentPackets sent;
  Acks acks;
  send_range(sent, 0, 4);
  on_ack(sent, acks({{3, 3}}), at(10));
  PacketOutcome out = detect_lost(sent, at(10), 1s);
  REQUIRE(sequences(out.lost.chunks) == std::vector<std::uint64_t>{chunk_of(0)});
  REQUIRE(sent.bytes_in_flight() == 300u);

  SECTION("while remembered, its ACK is counted as spurious") {
    out = on_ack(sent, acks({{3, 3}, {0, 0}}), at(12));
    CHECK(out.spurious_packets == 1u);
    CHECK(out.acked_packets == 1u);
    CHECK(sequences(out.acked.chunks) == std::vector<std::uint64_t>{chunk_of(0)});
    CHECK_FALSE(out.rtt_sample.has_value());  // the largest, 3, was acknowledged before
    CHECK(sent.bytes_in_flight() == 300u);
  }
  SECTION("once sent before forget_lost_before, it is forgotten") {
    on_ack(sent, acks({{3, 4}}), at(12), at(0) + 1ns);
    out = on_ack(sent, acks({{3, 4}, {0, 0}}), at(13));
    CHECK(out.spurious_packets == 0u);
    CHECK(out.acked_packets == 0u);
    CHECK(out.acked.chunks.empty());
  }
}

TEST_CASE("SentPackets: declare_all_lost gives up on every ack-eliciting packet", "[core]") {
  SentPackets sent;
  Acks acks;
  send_range(sent, 0, 3);
  sent.on_packet_sent(packet(4, at(4), false, 50));
  send_range(sent, 5, 5);
  on_ack(sent, acks({{1, 1}}), at(10));

  PacketOutcome out;
  sent.declare_all_lost(out);
  CHECK(out.lost_packets == 4u);
  CHECK(out.lost_bytes == 400u);
  CHECK(sorted(sequences(out.lost.chunks)) == std::vector<std::uint64_t>{chunk_of(0), chunk_of(2), chunk_of(3), chunk_of(5)});
  CHECK(sent.bytes_in_flight() == 0u);
  CHECK(sent.eliciting_in_flight() == 0u);
  CHECK_FALSE(sent.last_eliciting_sent().has_value());

  out = PacketOutcome{};
  sent.declare_all_lost(out);
  CHECK(out.lost_packets == 0u);

  out = on_ack(sent, acks({{0, 5}}), at(20));
  // 0, 2, 3 and 5; packet 4, not ack-eliciting, was forgotten once nothing
  // before it was outstanding.
  CHECK(out.acked_packets == 4u);
  CHECK(out.spurious_packets == 4u);
  CHECK(out.acked_bytes == 400u);
  CHECK(sent.bytes_in_flight() == 0u);
}

TEST_CASE("SentPackets: an ACK for a number never sent is ignored", "[core]") {
  SentPackets sent;
  Acks acks;
  CHECK(on_ack(sent, acks({{0, 0}}), at(1)).acked_packets == 0u);
  CHECK_FALSE(sent.largest_acked().has_value());

  send_range(sent, 0, 2);
  for (const auto& ranges : {std::vector<AckRange>{{0, 5}}, std::vector<AckRange>{{5, 5}, {0, 1}}}) {
    const PacketOutcome out = on_ack(sent, acks(ranges), at(10));
    CHECK(out.acked_packets == 0u);
    CHECK_FALSE(out.rtt_sample.has_value());
    CHECK_FALSE(sent.largest_acked().has_value());
    CHECK(sent.bytes_in_flight() == 300u);
  }
}

TEST_CASE("SentPackets: packets that are not ack-eliciting are neither in flight nor lost", "[core]") {
  SentPackets sent;
  Acks acks;
  sent.on_packet_sent(packet(0, at(0), false, 50));
  CHECK(sent.bytes_in_flight() == 0u);
  CHECK(sent.eliciting_in_flight() == 0u);
  CHECK_FALSE(sent.last_eliciting_sent().has_value());
  CHECK(sent.next_number() == 1u);

  send_range(sent, 1, 1);
  sent.on_packet_sent(packet(2, at(2), false, 50));
  send_range(sent, 3, 6);
  CHECK(sent.bytes_in_flight() == 500u);
  on_ack(sent, acks({{6, 6}}), at(10));
  const PacketOutcome out = detect_lost(sent, at(1000), 1ms);
  CHECK(sorted(sequences(out.lost.chunks)) == std::vector<std::uint64_t>{chunk_of(1), chunk_of(3), chunk_of(4), chunk_of(5)});
  CHECK(out.lost_bytes == 400u);
  CHECK(sent.bytes_in_flight() == 0u);
  // Packet 2 is still outstanding, but no loss timer waits on it.
  CHECK_FALSE(sent.next_loss_time(1ms).has_value());
}

TEST_CASE("SentPackets: random sends, ACKs and loss checks agree with a model", "[core]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  Acks acks;
  constexpr Duration kDelay = 20ms;

  enum class State { outstanding, acked, lost };
  struct Model {
    State state = State::outstanding;
    Instant sent{};
    std::uint32_t size = 0;
  };
  std::vector<Model> model;
  std::optional<std::uint64_t> largest_acked;
  SentPackets sent;
  Instant now = t0;

  for (int step = 0; step < 3000; ++step) {
    CAPTURE(step);
    now += std::chrono::microseconds(static_cast<std::int64_t>(uniform(rng, 0, 3000)));
    const std::uint64_t choice = uniform(rng, 0, 9);
    PacketOutcome out;
    std::vector<std::uint64_t> acked;
    std::vector<std::uint64_t> lost;
    std::uint64_t spurious = 0;

    if (choice < 5 || model.empty()) {
      const auto size = static_cast<std::uint32_t>(uniform(rng, 1, 1500));
      sent.on_packet_sent(packet(model.size(), now, true, size));
      model.push_back({State::outstanding, now, size});
    } else if (choice < 9) {
      // Ranges from a largest near the newest packet sent (or, now and then,
      // beyond it) down.
      const std::uint64_t newest = model.size() - 1;
      const std::uint64_t largest =
          choice == 8 ? newest + uniform(rng, 1, 3) : newest - std::min<std::uint64_t>(newest, uniform(rng, 0, 8));
      std::vector<AckRange> ranges;
      std::uint64_t top = largest;
      while (true) {
        const std::uint64_t smallest = top - std::min<std::uint64_t>(top, uniform(rng, 0, 4));
        ranges.push_back({smallest, top});
        if (smallest < 2 || ranges.size() == 6 || coin(rng)) break;
        const std::uint64_t below = smallest - 2;
        top = below - std::min<std::uint64_t>(below, uniform(rng, 0, 3));
      }
      CAPTURE(largest, ranges.size());
      sent.on_ack(acks(ranges), now, Instant{}, out);
      if (largest <= newest) {
        if (model[largest].state != State::acked) CHECK(out.rtt_sample == now - model[largest].sent);
        if (model[largest].state == State::acked) CHECK_FALSE(out.rtt_sample.has_value());
        for (const AckRange& r : ranges) {
          for (std::uint64_t n = r.smallest; n <= r.largest; ++n) {
            if (model[n].state == State::lost) ++spurious;
            if (model[n].state != State::acked) acked.push_back(n);
            model[n].state = State::acked;
          }
        }
        largest_acked = std::max(largest_acked.value_or(0), largest);
      }
    } else {
      sent.detect_lost(now, kDelay, 3, out);
      for (std::uint64_t n = 0; largest_acked && n < *largest_acked; ++n) {
        Model& m = model[n];
        if (m.state == State::outstanding && (n + 3 <= *largest_acked || m.sent + kDelay <= now)) {
          m.state = State::lost;
          lost.push_back(n);
        }
      }
    }

    std::vector<std::uint64_t> acked_chunks;
    std::vector<std::uint64_t> lost_chunks;
    std::uint64_t acked_bytes = 0;
    std::uint64_t lost_bytes = 0;
    for (const std::uint64_t n : acked) {
      acked_chunks.push_back(chunk_of(n));
      acked_bytes += model[n].size;
    }
    for (const std::uint64_t n : lost) {
      lost_chunks.push_back(chunk_of(n));
      lost_bytes += model[n].size;
    }
    CHECK(sorted(sequences(out.acked.chunks)) == sorted(acked_chunks));
    CHECK(sorted(sequences(out.lost.chunks)) == sorted(lost_chunks));
    CHECK(out.acked_bytes == acked_bytes);
    CHECK(out.lost_bytes == lost_bytes);
    CHECK(out.spurious_packets == spurious);

    std::uint64_t in_flight = 0;
    std::size_t eliciting = 0;
    std::optional<Instant> loss_time;
    for (std::uint64_t n = 0; n < model.size(); ++n) {
      if (model[n].state != State::outstanding) continue;
      in_flight += model[n].size;
      ++eliciting;
      if (!loss_time && largest_acked && n < *largest_acked) loss_time = model[n].sent + kDelay;
    }
    REQUIRE(sent.bytes_in_flight() == in_flight);
    REQUIRE(sent.eliciting_in_flight() == eliciting);
    REQUIRE(sent.largest_acked() == largest_acked);
    REQUIRE(sent.next_loss_time(kDelay) == loss_time);
  }
}
