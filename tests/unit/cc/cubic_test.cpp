// SPDX-License-Identifier: MIT
// CUBIC against RFC 9438. Default Params: 1200-byte segments, initial_window
// 12000, minimum_window 2400. Most cases start the same way: one ACK takes
// slow start to 120000 bytes (100 segments), then a loss at 1 s sets W_max =
// 100, cwnd = 70 segments and K = cbrt(100 * 0.3 / 0.4) = cbrt(75) = 4.2172 s.
// The expected windows are the closed forms of RFC 9438 §4.2 and §4.3,
// compared within one segment. Instants are literal.
#include "rudp/cc/cubic.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>

using namespace rudp;
using namespace rudp::cc;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kMss = 1200;
constexpr double kSegment = 1200.0;

Instant at(Duration since_start) { return Instant{} + since_start; }

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

AckSummary ack(Instant now, std::uint64_t bytes, Instant sent, Duration rtt, bool app_limited = false) {
  return {.now = now,
          .acked_bytes = bytes,
          .largest_acked_sent = sent,
          .smoothed_rtt = rtt,
          .min_rtt = rtt,
          .latest_rtt = rtt,
          .app_limited = app_limited};
}

LossSummary loss(Instant now, Instant newest_lost_sent, bool persistent = false) {
  return {.now = now, .lost_bytes = kMss, .largest_lost_sent = newest_lost_sent, .persistent_congestion = persistent};
}

// Slow start to 100 segments in one ACK, then a loss at 1 s.
Cubic after_first_loss() {
  Cubic cc{Params{}};
  cc.on_ack(ack(at(100ms), 108000, at(0ms), 100ms));
  cc.on_congestion_event(loss(at(1s), at(900ms)));
  return cc;
}

// ACKs every `step` in (from, until], each for cwnd * step / rtt bytes (so
// one cwnd per round trip) of a packet sent one rtt earlier.
void drive(Cubic& cc, Instant from, Instant until, Duration rtt, Duration step, bool app_limited = false) {
  const auto per_rtt = static_cast<std::uint64_t>(rtt / step);
  for (Instant now = from + step; now <= until; now += step) {
    cc.on_ack(ack(now, cc.window() / per_rtt, now - rtt, rtt, app_limited));
  }
}

// RFC 9438 §4.2: W_cubic(t) = C * (t - K)^3 + W_max, in segments.
double w_cubic(double t, double k, double w_max) { return Cubic::kC * std::pow(t - k, 3) + w_max; }

}  // namespace

TEST_CASE("CUBIC slow start doubles cwnd every round trip before the first loss", "[cc]") {
  Cubic cc{Params{}};
  CHECK(cc.name() == "cubic");
  CHECK(cc.in_slow_start());
  std::uint64_t expected = 12000;
  for (int round = 0; round < 4; ++round) {
    const std::uint64_t window = cc.window();
    const Instant start = at(100ms * round);
    for (std::uint64_t i = 1; i <= window / kMss; ++i) {
      const Instant now = start + 100ms * static_cast<std::int64_t>(i) / static_cast<std::int64_t>(window / kMss);
      cc.on_ack(ack(now, kMss, now - 100ms, 100ms));
    }
    expected *= 2;
    CHECK(cc.window() == expected);  // 24000, 48000, 96000, 192000
  }
  CHECK(cc.in_slow_start());
  CHECK(cc.bandwidth_estimate() == 1920000u);  // 192000 B / 0.1 s
}

TEST_CASE("CUBIC multiplies cwnd by beta_cubic = 0.7 on a congestion event", "[cc]") {
  Cubic cc = after_first_loss();
  CHECK(cc.window() == 84000);
  CHECK(cc.ssthresh() == 84000);
  CHECK_FALSE(cc.in_slow_start());
  CHECK(cc.w_max() == Approx(100.0));
  CHECK(cc.k() == Approx(std::cbrt(75.0)));

  // Losses of packets sent before recovery began change nothing.
  cc.on_congestion_event(loss(at(1100ms), at(1s)));
  CHECK(cc.window() == 84000);
  // Nor do ACKs of them grow cwnd.
  cc.on_ack(ack(at(1050ms), 24000, at(950ms), 100ms));
  CHECK(cc.window() == 84000);
}

TEST_CASE("CUBIC's window follows W_cubic(t) in the concave and convex regions", "[cc]") {
  // srtt = 100 ms: the Reno-friendly W_est = 70 + 0.529 * t / 0.1 stays below
  // W_cubic(t) up to t = 5 s, so cwnd follows the cubic. Growing towards
  // W_cubic(t + RTT) over each round trip keeps cwnd at about W_cubic(t).
  Cubic cc = after_first_loss();
  const double k = std::cbrt(100.0 * (1.0 - Cubic::kBeta) / Cubic::kC);
  Instant now = at(1s);
  for (const int t : {1, 2, 3, 4, 5}) {
    const Instant next = at(1s) + std::chrono::seconds(t);
    drive(cc, now, next, 100ms, 10ms);
    now = next;
    const double expected = w_cubic(t, k, 100.0);
    CAPTURE(t, expected);
    CHECK(std::abs(static_cast<double>(cc.window()) / kSegment - expected) <= 1.0);
  }
  // Past K the window probes beyond W_max.
  CHECK(cc.window() > 120000);
}

TEST_CASE("CUBIC's window follows W_est in the Reno-friendly region", "[cc]") {
  // srtt = 10 ms: W_est gains alpha_cubic = 0.529 segments per round trip,
  // far faster than the cubic near its start, so cwnd = W_est (RFC 9438
  // §4.3). ACKs count from 10 ms after the loss (before that they cover
  // packets sent before recovery), so W_est(t) = 70 + 0.529 * (t - 0.01) /
  // 0.01 until it reaches the 100 segments cwnd had before the loss; from
  // there alpha is 1.
  Cubic cc = after_first_loss();
  const double k = cc.k();
  const double rtt = 0.01;
  const double reaches_prior = rtt + 30.0 / Cubic::kAlpha * rtt;  // 0.577 s
  Instant now = at(1s);
  for (const Duration t : {Duration{200ms}, Duration{400ms}, Duration{500ms}, Duration{700ms}, Duration{900ms}}) {
    const Instant next = at(1s) + t;
    drive(cc, now, next, 10ms, 1ms);
    now = next;
    const double s = seconds(t);
    const double expected = s < reaches_prior ? 70.0 + Cubic::kAlpha * (s - rtt) / rtt
                                              : 100.0 + (s - reaches_prior) / rtt;
    const double window = static_cast<double>(cc.window()) / kSegment;
    CAPTURE(s, expected, window);
    CHECK(std::abs(window - expected) <= 1.0);
    CHECK(window > w_cubic(s, k, 100.0) + 5.0);
  }
}

TEST_CASE("CUBIC fast convergence lowers W_max when a loss comes below the last one", "[cc]") {
  Cubic cc = after_first_loss();
  REQUIRE(cc.w_max() == Approx(100.0));

  // A packet sent after recovery began is lost while cwnd = 70 < W_max:
  // W_max = 70 * (1 + 0.7) / 2 = 59.5, cwnd = 49 segments.
  cc.on_congestion_event(loss(at(1200ms), at(1100ms)));
  CHECK(cc.w_max() == Approx(59.5));
  CHECK(cc.window() == 58800);
  CHECK(cc.ssthresh() == 58800);
  CHECK(cc.k() == Approx(std::cbrt((59.5 - 49.0) / Cubic::kC)));

  // Once cwnd has grown past W_max, a loss takes W_max = cwnd as it is.
  drive(cc, at(1200ms), at(7200ms), 100ms, 10ms);
  const double grown = static_cast<double>(cc.window()) / kSegment;
  REQUIRE(grown > 59.5);
  cc.on_congestion_event(loss(at(7300ms), at(7250ms)));
  CHECK(cc.w_max() == Approx(grown));
}

TEST_CASE("CUBIC leaves cwnd alone on app-limited ACKs and leaves their time out of t", "[cc]") {
  SECTION("slow start") {
    Cubic cc{Params{}};
    cc.on_ack(ack(at(100ms), 12000, at(0ms), 100ms, true));
    CHECK(cc.window() == 12000);
  }
  SECTION("congestion avoidance") {
    // Both run 2 s of ACKs that use the window; `limited` also has 3 s of
    // app-limited ACKs between them, which must not advance t.
    Cubic busy = after_first_loss();
    Cubic limited = after_first_loss();
    drive(busy, at(1s), at(3s), 100ms, 10ms);

    drive(limited, at(1s), at(2s), 100ms, 10ms);
    const std::uint64_t before = limited.window();
    drive(limited, at(2s), at(5s), 100ms, 10ms, true);
    CHECK(limited.window() == before);
    drive(limited, at(5s), at(6s), 100ms, 10ms);

    CAPTURE(busy.window(), limited.window());
    CHECK(std::abs(static_cast<double>(busy.window()) - static_cast<double>(limited.window())) <= kSegment);
  }
}

TEST_CASE("CUBIC collapses to minimum_window on a retransmission timeout and restarts with K = 0", "[cc]") {
  Cubic cc{Params{}};
  cc.on_ack(ack(at(100ms), 108000, at(0ms), 100ms));
  REQUIRE(cc.window() == 120000);

  cc.on_retransmission_timeout(at(1s));
  CHECK(cc.window() == 2400);
  CHECK(cc.ssthresh() == 84000);
  CHECK(cc.in_slow_start());

  // Slow start from packets sent after the timeout, up to ssthresh.
  cc.on_ack(ack(at(1100ms), 1200, at(1s), 100ms));
  CHECK(cc.window() == 2400);
  cc.on_ack(ack(at(1200ms), 81600, at(1100ms), 100ms));
  REQUIRE(cc.window() == 84000);
  REQUIRE_FALSE(cc.in_slow_start());

  // The first stage after a timeout: W_max = the window it starts at, K = 0.
  cc.on_ack(ack(at(1210ms), 1200, at(1110ms), 100ms));
  CHECK(cc.w_max() == Approx(70.0));
  CHECK(cc.k() == 0.0);
  CHECK(cc.window() >= 84000);
}

TEST_CASE("CUBIC collapses to minimum_window on persistent congestion", "[cc]") {
  Cubic cc{Params{}};
  cc.on_ack(ack(at(100ms), 108000, at(0ms), 100ms));
  cc.on_congestion_event(loss(at(3s), at(1s), true));
  CHECK(cc.window() == 2400);
  CHECK(cc.ssthresh() == 84000);
  CHECK(cc.in_slow_start());
}

TEST_CASE("CUBIC reduces ssthresh once when a timeout follows the losses it declared", "[cc]") {
  Cubic cc{Params{}};
  cc.on_ack(ack(at(100ms), 108000, at(0ms), 100ms));
  cc.on_congestion_event(loss(at(1s), at(500ms)));
  cc.on_retransmission_timeout(at(1s));
  CHECK(cc.window() == 2400);
  CHECK(cc.ssthresh() == 84000);
}
