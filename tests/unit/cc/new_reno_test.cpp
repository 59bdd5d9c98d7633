// SPDX-License-Identifier: MIT
// NewReno against RFC 5681 §3.1 and RFC 9002 §7.3: slow start doubles cwnd
// per round trip, congestion avoidance adds one datagram per round trip, a
// congestion event halves cwnd once per recovery period, and timeouts and
// persistent congestion collapse it. Default Params: 1200-byte datagrams,
// initial_window 12000, minimum_window 2400. Instants are literal.
#include "rudp/cc/new_reno.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>

using namespace rudp;
using namespace rudp::cc;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kMss = 1200;
constexpr Duration kRtt = 100ms;

Instant at(Duration since_start) { return Instant{} + since_start; }

AckSummary ack(Instant now, std::uint64_t bytes, Instant sent, bool app_limited = false) {
  return {.now = now,
          .acked_bytes = bytes,
          .largest_acked_sent = sent,
          .smoothed_rtt = kRtt,
          .min_rtt = kRtt,
          .latest_rtt = kRtt,
          .app_limited = app_limited};
}

LossSummary loss(Instant now, Instant newest_lost_sent, bool persistent = false) {
  return {.now = now, .lost_bytes = kMss, .largest_lost_sent = newest_lost_sent, .persistent_congestion = persistent};
}

// One round trip starting at `start`: the window at `start` is acknowledged
// one datagram per ACK (the last one may be shorter), the ACKs spread evenly
// over the round trip, each for a packet sent one RTT before it.
void ack_one_window(Controller& cc, Instant start, bool app_limited = false) {
  const std::uint64_t window = cc.window();
  const std::uint64_t packets = (window + kMss - 1) / kMss;
  for (std::uint64_t i = 1; i <= packets; ++i) {
    const Instant now = start + kRtt * static_cast<std::int64_t>(i) / static_cast<std::int64_t>(packets);
    cc.on_ack(ack(now, i < packets ? kMss : window - (packets - 1) * kMss, now - kRtt, app_limited));
  }
}

}  // namespace

TEST_CASE("NewReno starts in slow start and doubles cwnd every round trip", "[cc]") {
  NewReno cc{Params{}};
  CHECK(cc.name() == "new_reno");
  CHECK(cc.window() == 12000);
  CHECK(cc.in_slow_start());
  CHECK_FALSE(cc.bandwidth_estimate());

  ack_one_window(cc, at(0ms));
  CHECK(cc.window() == 24000);
  ack_one_window(cc, at(100ms));
  CHECK(cc.window() == 48000);
  ack_one_window(cc, at(200ms));
  CHECK(cc.window() == 96000);
  CHECK(cc.in_slow_start());
  // cwnd / smoothed_rtt = 96000 B / 0.1 s.
  CHECK(cc.bandwidth_estimate() == 960000u);
}

TEST_CASE("NewReno halves cwnd once per recovery period", "[cc]") {
  NewReno cc{Params{}};
  ack_one_window(cc, at(0ms));
  ack_one_window(cc, at(100ms));
  REQUIRE(cc.window() == 48000);

  // A packet sent at 150 ms is declared lost at 250 ms: recovery starts.
  cc.on_congestion_event(loss(at(250ms), at(150ms)));
  CHECK(cc.window() == 24000);
  CHECK(cc.ssthresh() == 24000);
  CHECK_FALSE(cc.in_slow_start());

  // More losses of packets sent before 250 ms belong to the same event.
  cc.on_congestion_event(loss(at(300ms), at(240ms)));
  cc.on_congestion_event(loss(at(320ms), at(250ms)));
  CHECK(cc.window() == 24000);
  // ACKs of packets sent before 250 ms do not grow cwnd either.
  cc.on_ack(ack(at(330ms), 12000, at(249ms)));
  CHECK(cc.window() == 24000);

  // A packet sent after recovery began is lost: a new congestion event.
  cc.on_congestion_event(loss(at(400ms), at(260ms)));
  CHECK(cc.window() == 12000);
  CHECK(cc.ssthresh() == 12000);

  // Halving stops at minimum_window.
  cc.on_congestion_event(loss(at(500ms), at(410ms)));
  cc.on_congestion_event(loss(at(600ms), at(510ms)));
  CHECK(cc.window() == 3000);
  cc.on_congestion_event(loss(at(700ms), at(610ms)));
  CHECK(cc.window() == 2400);
  CHECK(cc.ssthresh() == 2400);
}

TEST_CASE("NewReno congestion avoidance adds about one datagram per round trip", "[cc]") {
  NewReno cc{Params{}};
  ack_one_window(cc, at(0ms));
  REQUIRE(cc.window() == 24000);
  cc.on_congestion_event(loss(at(100ms), at(50ms)));
  REQUIRE(cc.window() == 12000);

  // The first round trip acknowledges packets sent before recovery began.
  ack_one_window(cc, at(100ms));
  CHECK(cc.window() == 12000);

  // Then each round trip acknowledges one cwnd and adds max_datagram_size *
  // acked / cwnd per ACK: a little under 1200 bytes, since cwnd grows as the
  // ACKs arrive (sqrt(w^2 + 2 * 1200 * w) - w, 1142 bytes at w = 12000).
  Instant start = at(200ms);
  for (int round = 0; round < 20; ++round) {
    const std::uint64_t before = cc.window();
    ack_one_window(cc, start);
    start += kRtt;
    CAPTURE(round, before);
    CHECK(cc.window() - before >= 1140);
    CHECK(cc.window() - before <= kMss);
    CHECK_FALSE(cc.in_slow_start());
  }
  CHECK(cc.window() >= 12000 + 20 * 1140);
}

TEST_CASE("NewReno leaves cwnd alone on app-limited ACKs", "[cc]") {
  NewReno cc{Params{}};
  ack_one_window(cc, at(0ms), true);
  CHECK(cc.window() == 12000);

  ack_one_window(cc, at(100ms));
  cc.on_congestion_event(loss(at(200ms), at(150ms)));
  ack_one_window(cc, at(300ms));
  const std::uint64_t avoiding = cc.window();
  REQUIRE_FALSE(cc.in_slow_start());
  ack_one_window(cc, at(400ms), true);
  CHECK(cc.window() == avoiding);
}

TEST_CASE("NewReno collapses to minimum_window on a retransmission timeout", "[cc]") {
  NewReno cc{Params{}};
  ack_one_window(cc, at(0ms));
  ack_one_window(cc, at(100ms));
  REQUIRE(cc.window() == 48000);

  cc.on_retransmission_timeout(at(500ms));
  CHECK(cc.window() == 2400);
  CHECK(cc.ssthresh() == 24000);
  CHECK(cc.in_slow_start());

  // A repeated timeout holds ssthresh (RFC 5681 §3.1).
  cc.on_retransmission_timeout(at(1500ms));
  CHECK(cc.window() == 2400);
  CHECK(cc.ssthresh() == 24000);

  // Packets sent before the timeout neither reduce ssthresh nor grow cwnd;
  // the first ACK of a packet sent after it resumes slow start.
  cc.on_congestion_event(loss(at(1600ms), at(1400ms)));
  cc.on_ack(ack(at(1610ms), kMss, at(1450ms)));
  CHECK(cc.window() == 2400);
  CHECK(cc.ssthresh() == 24000);
  cc.on_ack(ack(at(1620ms), kMss, at(1510ms)));
  CHECK(cc.window() == 3600);

  // Once an ACK closed the recovery period, the next timeout halves again.
  cc.on_retransmission_timeout(at(3000ms));
  CHECK(cc.window() == 2400);
  CHECK(cc.ssthresh() == 2400);
}

TEST_CASE("NewReno reduces ssthresh once when a timeout follows the losses it declared", "[cc]") {
  // A connection whose timer fires declares everything outstanding lost and
  // then reports the timeout, both at the same instant.
  NewReno cc{Params{}};
  ack_one_window(cc, at(0ms));
  ack_one_window(cc, at(100ms));
  REQUIRE(cc.window() == 48000);
  cc.on_congestion_event(loss(at(900ms), at(200ms)));
  cc.on_retransmission_timeout(at(900ms));
  CHECK(cc.window() == 2400);
  CHECK(cc.ssthresh() == 24000);
}

TEST_CASE("NewReno collapses to minimum_window on persistent congestion", "[cc]") {
  NewReno cc{Params{}};
  ack_one_window(cc, at(0ms));
  ack_one_window(cc, at(100ms));
  REQUIRE(cc.window() == 48000);

  cc.on_congestion_event(loss(at(2000ms), at(1000ms), true));
  CHECK(cc.window() == 2400);
  CHECK(cc.ssthresh() == 24000);
  CHECK(cc.in_slow_start());
  cc.on_ack(ack(at(2100ms), kMss, at(2000ms)));
  CHECK(cc.window() == 2400);
  cc.on_ack(ack(at(2110ms), kMss, at(2010ms)));
  CHECK(cc.window() == 3600);
}
