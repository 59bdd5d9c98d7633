// SPDX-License-Identifier: MIT
// The fixed controller keeps Params::fixed_window through everything, and
// cc::make() builds the controller each Algorithm names. Instants are literal.
#include "rudp/cc/fixed.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>

#include "rudp/cc/controller.hpp"

using namespace rudp;
using namespace rudp::cc;
using namespace std::chrono_literals;

namespace {

Instant at(Duration since_start) { return Instant{} + since_start; }

}  // namespace

TEST_CASE("the fixed window never changes", "[cc]") {
  Fixed cc{Params{.fixed_window = 64000}};
  CHECK(cc.name() == "fixed");
  CHECK(cc.window() == 64000);
  CHECK_FALSE(cc.in_slow_start());

  cc.on_packet_sent(at(0ms), 1200, 1200);
  cc.on_ack({.now = at(100ms), .acked_bytes = 64000, .largest_acked_sent = at(0ms), .smoothed_rtt = 100ms});
  CHECK(cc.window() == 64000);
  cc.on_ack({.now = at(200ms), .acked_bytes = 1200, .largest_acked_sent = at(100ms), .app_limited = true});
  CHECK(cc.window() == 64000);
  cc.on_congestion_event({.now = at(300ms), .lost_bytes = 12000, .largest_lost_sent = at(250ms)});
  CHECK(cc.window() == 64000);
  cc.on_congestion_event(
      {.now = at(5s), .lost_bytes = 64000, .largest_lost_sent = at(4s), .persistent_congestion = true});
  CHECK(cc.window() == 64000);
  cc.on_retransmission_timeout(at(6s));
  cc.on_retransmission_timeout(at(8s));
  CHECK(cc.window() == 64000);
  CHECK_FALSE(cc.in_slow_start());
  CHECK_FALSE(cc.bandwidth_estimate());
  CHECK_FALSE(cc.pacing_rate());
}

TEST_CASE("make builds the controller each Algorithm names", "[cc]") {
  const Params params{.fixed_window = 50000};
  CHECK(make(Algorithm::new_reno, params)->name() == "new_reno");
  CHECK(make(Algorithm::cubic, params)->name() == "cubic");
  const auto fixed = make(Algorithm::fixed, params);
  CHECK(fixed->name() == "fixed");
  CHECK(fixed->window() == 50000);
  CHECK(make(Algorithm::latency_first, params)->name() == "latency_first");
  CHECK(make(Algorithm::new_reno, params)->window() == params.initial_window);
}
