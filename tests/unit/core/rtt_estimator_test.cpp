// SPDX-License-Identifier: MIT
// Every expected value below was worked out by hand from RFC 6298 §2 and
// RFC 9002 §5.3, with each division rounded down to the nanosecond; the
// working is in the comments. Values are nanoseconds unless a unit says not.
#include "rudp/core/rtt_estimator.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <climits>
#include <cstdint>

using namespace rudp;
using namespace rudp::core;
using namespace std::chrono_literals;

namespace {

constexpr Duration ns(std::int64_t count) { return Duration{count}; }

}  // namespace

TEST_CASE("before any sample the estimate comes from initial_rtt", "[core]") {
  const RttEstimator rtt;
  CHECK_FALSE(rtt.has_sample());
  CHECK(rtt.smoothed_rtt() == 333ms);
  CHECK(rtt.rttvar() == ns(166'500'000));  // 333 ms / 2
  CHECK(rtt.rto() == 999ms);               // 333 + 4 * 166.5 = 999 ms
  CHECK(rtt.min_rtt() == Duration::max());
  CHECK(rtt.latest_rtt() == Duration::zero());
}

TEST_CASE("smoothing follows RFC 6298 step by step", "[core]") {
  RttEstimator rtt;  // G = 1 ms, rto in [200 ms, 60 s]

  // First sample R = 100 ms: srtt = 100 ms, rttvar = 50 ms,
  // rto = 100 + max(1, 4 * 50) = 300 ms.
  rtt.on_sample(100ms, 0ms);
  CHECK(rtt.has_sample());
  CHECK(rtt.smoothed_rtt() == ns(100'000'000));
  CHECK(rtt.rttvar() == ns(50'000'000));
  CHECK(rtt.rto() == ns(300'000'000));

  // R = 120 ms. rttvar uses the old srtt (100 ms):
  // rttvar = (3 * 50 + |100 - 120|) / 4 = 170 / 4 = 42.5 ms (with the new srtt
  // it would be 41.875 ms); srtt = (7 * 100 + 120) / 8 = 820 / 8 = 102.5 ms;
  // rto = 102.5 + 4 * 42.5 = 272.5 ms.
  rtt.on_sample(120ms, 0ms);
  CHECK(rtt.smoothed_rtt() == ns(102'500'000));
  CHECK(rtt.rttvar() == ns(42'500'000));
  CHECK(rtt.rto() == ns(272'500'000));

  // R = 80 ms: rttvar = (3 * 42.5 + |102.5 - 80|) / 4 = (127.5 + 22.5) / 4
  // = 37.5 ms; srtt = (7 * 102.5 + 80) / 8 = 797.5 / 8 = 99.6875 ms;
  // rto = 99.6875 + 150 = 249.6875 ms.
  rtt.on_sample(80ms, 0ms);
  CHECK(rtt.smoothed_rtt() == ns(99'687'500));
  CHECK(rtt.rttvar() == ns(37'500'000));
  CHECK(rtt.rto() == ns(249'687'500));

  // R = 300 ms: rttvar = (3 * 37.5 + |99.6875 - 300|) / 4
  // = (112.5 + 200.3125) / 4 = 312.8125 / 4 = 78.203125 ms exactly;
  // srtt = (7 * 99.6875 + 300) / 8 = 997.8125 / 8 = 124.7265625 ms
  // = 124'726'562.5 ns, rounded down to 124'726'562 ns;
  // rto = 124'726'562 + 4 * 78'203'125 = 124'726'562 + 312'812'500 = 437'539'062.
  rtt.on_sample(300ms, 0ms);
  CHECK(rtt.smoothed_rtt() == ns(124'726'562));
  CHECK(rtt.rttvar() == ns(78'203'125));
  CHECK(rtt.rto() == ns(437'539'062));
  CHECK(rtt.latest_rtt() == 300ms);
  CHECK(rtt.min_rtt() == 80ms);
}

TEST_CASE("each division rounds the exact mean down once", "[core]") {
  RttEstimator rtt;
  // R = 7: srtt = 7, rttvar = 7 / 2 = 3.5 -> 3.
  rtt.on_sample(ns(7), ns(0));
  CHECK(rtt.smoothed_rtt() == ns(7));
  CHECK(rtt.rttvar() == ns(3));
  // R = 4: rttvar = (3 * 3 + |7 - 4|) / 4 = 12 / 4 = 3;
  // srtt = (7 * 7 + 4) / 8 = 53 / 8 = 6.625 -> 6 (srtt - srtt/8 + R/8 would give 7).
  rtt.on_sample(ns(4), ns(0));
  CHECK(rtt.smoothed_rtt() == ns(6));
  CHECK(rtt.rttvar() == ns(3));
  // R = 1: rttvar = (3 * 3 + |6 - 1|) / 4 = 14 / 4 = 3.5 -> 3;
  // srtt = (7 * 6 + 1) / 8 = 43 / 8 = 5.375 -> 5.
  rtt.on_sample(ns(1), ns(0));
  CHECK(rtt.smoothed_rtt() == ns(5));
  CHECK(rtt.rttvar() == ns(3));
}

TEST_CASE("samples near Duration::max() do not overflow", "[core]") {
  RttEstimator rtt;
  // max = 9'223'372'036'854'775'807. First: srtt = max, rttvar = max / 2
  // = 4'611'686'018'427'387'903. Second: rttvar = 3 * 4'611'686'018'427'387'903 / 4
  // = 13'835'058'055'282'163'709 / 4 = 3'458'764'513'820'540'927.25 -> ...927;
  // srtt = (7 * max + max) / 8 = max.
  rtt.on_sample(Duration::max(), ns(0));
  CHECK(rtt.rttvar() == ns(4'611'686'018'427'387'903));
  CHECK(rtt.rto() == 60s);
  rtt.on_sample(Duration::max(), ns(0));
  CHECK(rtt.smoothed_rtt() == Duration::max());
  CHECK(rtt.rttvar() == ns(3'458'764'513'820'540'927));
  CHECK(rtt.rto() == 60s);
  CHECK(rtt.backed_off_rto(UINT_MAX) == 60s);

  RttConfig unbounded;
  unbounded.max_rto = Duration::max();
  rtt.set_config(unbounded);
  // srtt + 4 * rttvar is far past max: it saturates at max.
  CHECK(rtt.rto() == Duration::max());
  CHECK(rtt.backed_off_rto(1) == Duration::max());
}

TEST_CASE("rto is clamped to min_rto and max_rto", "[core]") {
  SECTION("floor") {
    RttEstimator rtt;
    // 10 + 4 * 5 = 30 ms, below the 200 ms floor.
    rtt.on_sample(10ms, 0ms);
    CHECK(rtt.rto() == 200ms);
  }
  SECTION("ceiling") {
    RttEstimator rtt;
    // 30 + 4 * 15 = 90 s, above the 60 s ceiling.
    rtt.on_sample(30s, 0ms);
    CHECK(rtt.rto() == 60s);
  }
  SECTION("granularity wins over a small rttvar") {
    RttConfig config;
    config.min_rto = 0ms;
    RttEstimator rtt(config);
    // R = 400 us: rttvar = 200 us, 4 * rttvar = 800 us < G = 1 ms,
    // so rto = 400 us + 1 ms = 1.4 ms.
    rtt.on_sample(400us, 0ms);
    CHECK(rtt.rto() == ns(1'400'000));
  }
  SECTION("initial rto is clamped too") {
    RttConfig config;
    config.initial_rtt = 10ms;  // 3 * 10 = 30 ms
    CHECK(RttEstimator(config).rto() == 200ms);
    config.initial_rtt = 25s;  // 3 * 25 = 75 s
    CHECK(RttEstimator(config).rto() == 60s);
  }
}

TEST_CASE("backoff doubles per timeout up to max_rto", "[core]") {
  RttEstimator rtt;
  rtt.on_sample(100ms, 0ms);  // rto = 300 ms
  CHECK(rtt.backed_off_rto(0) == 300ms);
  CHECK(rtt.backed_off_rto(1) == 600ms);
  CHECK(rtt.backed_off_rto(2) == 1200ms);
  CHECK(rtt.backed_off_rto(3) == 2400ms);
  CHECK(rtt.backed_off_rto(4) == 4800ms);
  CHECK(rtt.backed_off_rto(5) == 9600ms);
  CHECK(rtt.backed_off_rto(6) == 19200ms);
  CHECK(rtt.backed_off_rto(7) == 38400ms);
  CHECK(rtt.backed_off_rto(8) == 60s);  // 76.8 s, capped
  CHECK(rtt.backed_off_rto(9) == 60s);
}

TEST_CASE("backoff by 1.5 rounds down and stops at max_rto", "[core]") {
  RttConfig config;
  config.backoff = 1.5;
  RttEstimator rtt(config);
  rtt.on_sample(100ms, 0ms);  // rto = 300 ms = 300'000'000
  CHECK(rtt.backed_off_rto(1) == ns(450'000'000));
  CHECK(rtt.backed_off_rto(2) == ns(675'000'000));
  CHECK(rtt.backed_off_rto(3) == ns(1'012'500'000));
  CHECK(rtt.backed_off_rto(4) == ns(1'518'750'000));
  CHECK(rtt.backed_off_rto(5) == ns(2'278'125'000));
  CHECK(rtt.backed_off_rto(6) == ns(3'417'187'500));
  CHECK(rtt.backed_off_rto(7) == ns(5'125'781'250));
  CHECK(rtt.backed_off_rto(8) == ns(7'688'671'875));
  CHECK(rtt.backed_off_rto(9) == ns(11'533'007'812));   // ...812.5
  CHECK(rtt.backed_off_rto(10) == ns(17'299'511'718));  // ...718.75
  CHECK(rtt.backed_off_rto(11) == ns(25'949'267'578));  // ...578.125
  CHECK(rtt.backed_off_rto(12) == ns(38'923'901'367));  // ...367.1875
  CHECK(rtt.backed_off_rto(13) == ns(58'385'852'050));  // ...050.78125
  CHECK(rtt.backed_off_rto(14) == 60s);                 // 87.58 s, capped
}

TEST_CASE("huge timeout counts saturate at max_rto", "[core]") {
  RttConfig config;
  RttEstimator rtt(config);
  rtt.on_sample(100ms, 0ms);
  CHECK(rtt.backed_off_rto(64) == 60s);
  CHECK(rtt.backed_off_rto(1'000'000) == 60s);
  CHECK(rtt.backed_off_rto(UINT_MAX) == 60s);

  config.backoff = 1.5;
  rtt.set_config(config);
  CHECK(rtt.backed_off_rto(UINT_MAX) == 60s);

  config.backoff = 1.0;  // no backoff at all
  rtt.set_config(config);
  CHECK(rtt.backed_off_rto(UINT_MAX) == 300ms);

  config.backoff = 2.0;
  config.max_rto = Duration::max();
  rtt.set_config(config);
  CHECK(rtt.backed_off_rto(62) == Duration::max());  // 300 ms * 2^62 is past max
  CHECK(rtt.backed_off_rto(UINT_MAX) == Duration::max());
}

TEST_CASE("ack delay is subtracted only when latest >= min_rtt + ack_delay", "[core]") {
  RttEstimator rtt;
  SECTION("the first sample enters unadjusted") {
    rtt.on_sample(100ms, 30ms);
    CHECK(rtt.smoothed_rtt() == 100ms);
    CHECK(rtt.rttvar() == 50ms);
    CHECK(rtt.min_rtt() == 100ms);
  }
  SECTION("applied") {
    rtt.on_sample(100ms, 0ms);
    // 150 >= 100 + 30, so R = 120 ms: same numbers as the 120 ms step above.
    rtt.on_sample(150ms, 30ms);
    CHECK(rtt.smoothed_rtt() == ns(102'500'000));
    CHECK(rtt.rttvar() == ns(42'500'000));
    CHECK(rtt.latest_rtt() == 150ms);
    CHECK(rtt.min_rtt() == 100ms);
  }
  SECTION("applied at the boundary") {
    rtt.on_sample(100ms, 0ms);
    // 130 >= 100 + 30, so R = 100 ms: rttvar = (3 * 50 + 0) / 4 = 37.5 ms,
    // srtt = (7 * 100 + 100) / 8 = 100 ms.
    rtt.on_sample(130ms, 30ms);
    CHECK(rtt.smoothed_rtt() == 100ms);
    CHECK(rtt.rttvar() == ns(37'500'000));
  }
  SECTION("not applied") {
    rtt.on_sample(100ms, 0ms);
    // 120 < 100 + 30, so R = 120 ms unadjusted (not 90 ms).
    rtt.on_sample(120ms, 30ms);
    CHECK(rtt.smoothed_rtt() == ns(102'500'000));
    CHECK(rtt.rttvar() == ns(42'500'000));
  }
  SECTION("a negative ack delay counts as zero") {
    rtt.on_sample(100ms, 0ms);
    // R = 120 ms, not 150 ms.
    rtt.on_sample(120ms, -30ms);
    CHECK(rtt.smoothed_rtt() == ns(102'500'000));
    CHECK(rtt.rttvar() == ns(42'500'000));
  }
}

TEST_CASE("min_rtt tracks the least unadjusted sample", "[core]") {
  RttEstimator rtt;
  rtt.on_sample(100ms, 30ms);
  CHECK(rtt.min_rtt() == 100ms);  // not 70 ms
  rtt.on_sample(90ms, 0ms);
  CHECK(rtt.min_rtt() == 90ms);
  rtt.on_sample(200ms, 50ms);  // adjusted to 150 ms for smoothing only
  CHECK(rtt.min_rtt() == 90ms);
  rtt.on_sample(95ms, 0ms);
  CHECK(rtt.min_rtt() == 90ms);
  rtt.on_sample(40ms, 0ms);
  CHECK(rtt.min_rtt() == 40ms);
  CHECK(rtt.latest_rtt() == 40ms);
}

TEST_CASE("zero and negative samples are ignored", "[core]") {
  RttEstimator rtt;
  rtt.on_sample(0ms, 0ms);
  rtt.on_sample(-5ms, 0ms);
  CHECK_FALSE(rtt.has_sample());
  CHECK(rtt.smoothed_rtt() == 333ms);
  CHECK(rtt.min_rtt() == Duration::max());
  CHECK(rtt.latest_rtt() == Duration::zero());

  rtt.on_sample(100ms, 0ms);
  rtt.on_sample(0ms, 0ms);
  rtt.on_sample(-1ms, 0ms);
  rtt.on_sample(ns(-1), ns(0));
  CHECK(rtt.smoothed_rtt() == 100ms);
  CHECK(rtt.rttvar() == 50ms);
  CHECK(rtt.min_rtt() == 100ms);
  CHECK(rtt.latest_rtt() == 100ms);
  CHECK(rtt.rto() == 300ms);
}

TEST_CASE("set_config keeps the estimate and applies the new knobs", "[core]") {
  SECTION("after samples") {
    RttEstimator rtt;
    rtt.on_sample(100ms, 0ms);
    rtt.on_sample(120ms, 0ms);  // srtt 102.5 ms, rttvar 42.5 ms, rto 272.5 ms
    CHECK(rtt.rto() == ns(272'500'000));

    RttConfig config;
    config.initial_rtt = 10ms;
    config.min_rto = 500ms;
    config.max_rto = 10s;
    config.backoff = 3.0;
    rtt.set_config(config);
    CHECK(rtt.config().min_rto == 500ms);
    CHECK(rtt.config().backoff == 3.0);
    CHECK(rtt.smoothed_rtt() == ns(102'500'000));
    CHECK(rtt.rttvar() == ns(42'500'000));
    CHECK(rtt.min_rtt() == 100ms);
    CHECK(rtt.latest_rtt() == 120ms);
    CHECK(rtt.rto() == 500ms);               // 272.5 ms, raised to the new floor
    CHECK(rtt.backed_off_rto(1) == 1500ms);  // 500 ms * 3
    CHECK(rtt.backed_off_rto(3) == 10s);     // 13.5 s, capped by the new ceiling

    // The next sample continues from the kept estimate. R = 80 ms:
    // rttvar = (3 * 42.5 + 22.5) / 4 = 37.5 ms, srtt = 797.5 / 8 = 99.6875 ms.
    rtt.on_sample(80ms, 0ms);
    CHECK(rtt.smoothed_rtt() == ns(99'687'500));
    CHECK(rtt.rttvar() == ns(37'500'000));
  }
  SECTION("before any sample the new initial_rtt applies") {
    RttEstimator rtt;
    RttConfig config;
    config.initial_rtt = 100ms;
    rtt.set_config(config);
    CHECK_FALSE(rtt.has_sample());
    CHECK(rtt.smoothed_rtt() == 100ms);
    CHECK(rtt.rttvar() == 50ms);
    CHECK(rtt.rto() == 300ms);  // 100 + 4 * 50
  }
}
