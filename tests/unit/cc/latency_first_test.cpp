// SPDX-License-Identifier: MIT
// The latency-first controller, alone and against a model bottleneck. The
// model (Path below) is one FIFO link of a given capacity and a fixed
// propagation RTT, fed by a window-limited sender paced by rudp::cc::Pacer at
// the controller's pacing rate; each packet is acknowledged on its own, its
// RTT is its wait in the link's queue, its service time and the propagation
// RTT. It is the fluid model of a bottleneck (queue = in flight - BDP, RTT =
// base + queue / capacity) worked out per packet, so the spacing of ACKs
// carries the delivery rate as it does on a real path. Everything is integer
// and deterministic; literal instants count from the epoch.
#include "rudp/cc/latency_first.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

#include "rudp/cc/pacer.hpp"

using namespace rudp;
using namespace rudp::cc;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kMss = 1200;
constexpr Instant at(Duration d) { return Instant{} + d; }

/// A window-limited, paced sender of kMss-byte packets through one bottleneck.
class Path {
 public:
  /// `capacity` in bytes per second, `base_rtt` the propagation round trip.
  Path(std::uint64_t capacity, Duration base_rtt) : capacity_(capacity), base_rtt_(base_rtt) {}

  /// Changes the link for packets sent from now on.
  void set_capacity(std::uint64_t capacity) { capacity_ = capacity; }
  void set_base_rtt(Duration base_rtt) { base_rtt_ = base_rtt; }

  /// Sends and acknowledges until `end`.
  void run_until(Instant end) {
    while (true) {
      pacer_.set_rate(cc.pacing_rate().value_or(0), 2 * kMss);
      std::optional<Instant> paced;
      while (in_flight_ + kMss <= cc.window()) {
        paced = pacer_.next_send_time(now_, kMss);
        if (paced.has_value()) break;
        send();
      }
      Instant next = end;
      if (!flight_.empty()) next = std::min(next, flight_.front().acked_at);
      if (paced.has_value()) next = std::min(next, *paced);
      now_ = next;
      if (now_ >= end) return;
      while (!flight_.empty() && flight_.front().acked_at <= now_) acknowledge();
    }
  }

  /// Forgets the statistics below; they count from `now()` on.
  void reset_stats() {
    stats_from_ = now_;
    delivered_ = 0;
    max_queueing_ = Duration::zero();
  }
  /// Delivered bytes per second since reset_stats(), over the capacity.
  double utilization() const {
    const double seconds = std::chrono::duration<double>(now_ - stats_from_).count();
    return static_cast<double>(delivered_) / seconds / static_cast<double>(capacity_);
  }
  /// The longest any packet acknowledged since reset_stats() waited in the queue.
  Duration max_queueing_delay() const { return max_queueing_; }
  Instant now() const { return now_; }

  LatencyFirst cc{Params{}};

 private:
  struct Packet {
    Instant sent;
    Instant acked_at;
    Duration queueing;
  };

  void send() {
    pacer_.on_sent(now_, kMss);
    in_flight_ += kMss;
    cc.on_packet_sent(now_, kMss, in_flight_);
    const Duration service{static_cast<std::int64_t>(kMss * 1'000'000'000 / capacity_)};
    const Instant start = std::max(now_, link_free_);
    link_free_ = start + service;
    flight_.push_back({now_, link_free_ + base_rtt_, start - now_});
  }

  void acknowledge() {
    const Packet packet = flight_.front();
    flight_.pop_front();
    in_flight_ -= kMss;
    const Duration latest = now_ - packet.sent;
    smoothed_rtt_ = smoothed_rtt_ == Duration::zero() ? latest : (7 * smoothed_rtt_ + latest) / 8;
    min_rtt_ = min_rtt_ == Duration::zero() ? latest : std::min(min_rtt_, latest);
    cc.on_ack({.now = now_,
               .acked_bytes = kMss,
               .bytes_in_flight = in_flight_,
               .largest_acked_sent = packet.sent,
               .smoothed_rtt = smoothed_rtt_,
               .min_rtt = min_rtt_,
               .latest_rtt = latest});
    delivered_ += kMss;
    max_queueing_ = std::max(max_queueing_, packet.queueing);
  }

  std::uint64_t capacity_;
  Duration base_rtt_;
  Pacer pacer_;
  std::deque<Packet> flight_;
  std::uint64_t in_flight_ = 0;
  Instant now_{};
  Instant link_free_{};
  Duration smoothed_rtt_{};
  Duration min_rtt_{};
  Instant stats_from_{};
  std::uint64_t delivered_ = 0;
  Duration max_queueing_{};
};

constexpr std::uint64_t k20Mbps = 2'500'000;  // bytes per second; 480 us per packet
constexpr Duration kTarget = Params{}.latency_target;

/// An ACK of one kMss packet sent at `sent`, with RTT `rtt`.
AckSummary ack_of(Instant sent, Duration rtt) {
  return {.now = sent + rtt,
          .acked_bytes = kMss,
          .largest_acked_sent = sent,
          .smoothed_rtt = rtt,
          .min_rtt = rtt,
          .latest_rtt = rtt};
}

}  // namespace

TEST_CASE("latency-first starts in slow start at the initial window", "[cc]") {
  const LatencyFirst cc{Params{}};
  CHECK(cc.name() == "latency_first");
  CHECK(cc.window() == 12000);
  CHECK(cc.in_slow_start());
  CHECK_FALSE(cc.bandwidth_estimate().has_value());
  CHECK_FALSE(cc.pacing_rate().has_value());
  CHECK(cc.base_rtt() == Duration::zero());
}

TEST_CASE("slow start grows per ACK and ends on a round's worth of queue past half the target", "[cc]") {
  LatencyFirst cc{Params{}};  // target 5 ms: slow start ends past 2.5 ms of queue
  cc.on_ack(ack_of(at(0ms), 100ms));  // opens the first round at 100 ms
  CHECK(cc.base_rtt() == 100ms);
  CHECK(cc.window() == 13200);
  // An app-limited ACK says nothing about the path: no growth.
  AckSummary idle = ack_of(at(1ms), 100ms);
  idle.app_limited = true;
  cc.on_ack(idle);
  CHECK(cc.window() == 13200);
  cc.on_ack(ack_of(at(10ms), 102ms));  // 2 ms of queue: grows
  CHECK(cc.window() == 14400);
  // One late packet (50 ms of queue) pauses growth but does not end slow start.
  cc.on_ack(ack_of(at(20ms), 150ms));
  CHECK(cc.window() == 14400);
  CHECK(cc.in_slow_start());
  // The first packet sent after 100 ms ends the round and opens the next one;
  // its 3 ms of queue is the next round's first sample.
  cc.on_ack(ack_of(at(100ms), 103ms));
  for (int sent = 101; sent <= 106; ++sent) {
    cc.on_ack(ack_of(at(std::chrono::milliseconds{sent}), 103ms));
  }
  CHECK(cc.in_slow_start());  // 7 samples
  CHECK(cc.window() == 14400);
  cc.on_ack(ack_of(at(107ms), 103ms));
  CHECK_FALSE(cc.in_slow_start());  // 8 samples, all 3 ms over base_rtt
  CHECK(cc.window() == 14400);
}

TEST_CASE("latency-first fills a bottleneck and keeps its queue under the target", "[cc]") {
  Path path{k20Mbps, 40ms};  // BDP 100 kB, 83 packets
  path.run_until(at(3s));
  CHECK_FALSE(path.cc.in_slow_start());
  path.reset_stats();
  // base_rtt is re-measured every 10 s: a probe round caps the window at half
  // the BDP (101200 bytes at 2.5 MB/s over 40.48 ms).
  int probes = 0;
  std::uint64_t previous = path.cc.window();
  while (path.now() < at(30s)) {
    path.run_until(path.now() + 1ms);
    if (path.cc.window() == 50600 && previous != 50600) ++probes;
    previous = path.cc.window();
  }
  CHECK(probes == 2);
  CHECK(path.utilization() >= 0.8);
  CHECK(path.max_queueing_delay() <= kTarget);
  // base_rtt is the propagation RTT plus one packet's service time.
  CHECK(path.cc.base_rtt() == 40480us);
  const std::uint64_t bandwidth = path.cc.bandwidth_estimate().value_or(0);
  CHECK(bandwidth >= k20Mbps * 95 / 100);
  CHECK(bandwidth <= k20Mbps * 105 / 100);
  // Paced at window / base_rtt: a little over the bandwidth.
  CHECK(path.cc.pacing_rate().value_or(0) == path.cc.window() * 1'000'000'000 / 40'480'000);
  CHECK(path.cc.pacing_rate().value_or(0) > bandwidth);
  // The window is about the BDP plus half the target's worth of queue.
  CHECK(path.cc.window() >= k20Mbps * 40 / 1000);
  CHECK(path.cc.window() <= k20Mbps * 45 / 1000);
}

TEST_CASE("latency-first holds the target on slow and fast paths alike", "[cc]") {
  struct Link {
    std::uint64_t capacity;
    Duration base_rtt;
  };
  const Link link = GENERATE(Link{625'000, 20ms},         // 5 Mbit/s: each packet is 1.92 ms of queue
                             Link{12'500'000, 10ms},      // 100 Mbit/s, LAN-like
                             Link{12'500'000, 200ms},     // 100 Mbit/s, intercontinental
                             Link{1'250'000, 300ms});     // 10 Mbit/s, satellite-like
  CAPTURE(link.capacity, link.base_rtt.count());
  Path path{link.capacity, link.base_rtt};
  path.run_until(at(5s));
  path.reset_stats();
  path.run_until(at(25s));
  CHECK(path.utilization() >= 0.8);
  CHECK(path.max_queueing_delay() <= kTarget);
}

TEST_CASE("latency-first backs off when the bottleneck's capacity halves", "[cc]") {
  Path path{k20Mbps, 40ms};
  path.run_until(at(10s));
  const std::uint64_t before = path.cc.window();
  path.set_capacity(k20Mbps / 2);
  path.run_until(at(11s));
  // About half: the new BDP (50 kB) plus half the target of queue.
  CHECK(path.cc.window() <= before * 6 / 10);
  CHECK(path.cc.bandwidth_estimate().value_or(0) <= k20Mbps / 2 * 105 / 100);
  path.reset_stats();
  path.run_until(at(30s));
  CHECK(path.utilization() >= 0.8);
  CHECK(path.max_queueing_delay() <= kTarget);
}

TEST_CASE("latency-first takes up capacity that opens up", "[cc]") {
  Path path{k20Mbps / 2, 40ms};
  path.run_until(at(10s));
  path.set_capacity(k20Mbps);
  path.run_until(at(12s));
  path.reset_stats();
  path.run_until(at(30s));
  CHECK(path.utilization() >= 0.8);
  CHECK(path.max_queueing_delay() <= kTarget);
}

TEST_CASE("latency-first backs off when the base RTT rises, then re-measures it", "[cc]") {
  Path path{k20Mbps, 40ms};
  path.run_until(at(10s));
  const std::uint64_t before = path.cc.window();
  // A route change: 40 ms more of propagation delay, which the controller
  // first reads as a queue it must drain.
  path.set_base_rtt(80ms);
  std::uint64_t least = before;
  while (path.now() < at(11s)) {
    path.run_until(path.now() + 10ms);
    least = std::min(least, path.cc.window());
  }
  CHECK(least < before / 2);
  // A drain that did not bring the delay down started a probe, which found
  // the new base RTT.
  CHECK(path.cc.base_rtt() == 80480us);
  path.run_until(at(13s));
  path.reset_stats();
  path.run_until(at(30s));
  CHECK(path.utilization() >= 0.8);
  CHECK(path.max_queueing_delay() <= kTarget);
}

TEST_CASE("a loss cuts the window by 15% once per recovery period", "[cc]") {
  LatencyFirst cc{Params{}};  // window 12000
  cc.on_congestion_event({.now = at(50ms), .lost_bytes = kMss, .largest_lost_sent = at(10ms)});
  CHECK(cc.window() == 10200);  // 12000 * 85 / 100
  CHECK_FALSE(cc.in_slow_start());
  // Packets sent up to the start of the recovery period (50 ms) belong to it.
  cc.on_congestion_event({.now = at(60ms), .lost_bytes = kMss, .largest_lost_sent = at(40ms)});
  cc.on_congestion_event({.now = at(70ms), .lost_bytes = kMss, .largest_lost_sent = at(50ms)});
  CHECK(cc.window() == 10200);
  // A packet sent after it began starts a new one.
  cc.on_congestion_event({.now = at(120ms), .lost_bytes = kMss, .largest_lost_sent = at(51ms)});
  CHECK(cc.window() == 8670);  // 10200 * 85 / 100
  // Losses every round keep cutting, down to the minimum window.
  for (int round = 1; round <= 20; ++round) {
    cc.on_congestion_event({.now = at(120ms + round * 100ms), .largest_lost_sent = at(120ms + round * 100ms - 1ms)});
  }
  CHECK(cc.window() == Params{}.minimum_window);
}

TEST_CASE("after a loss the window stays put for the recovery period, then returns", "[cc]") {
  Path path{k20Mbps, 40ms};
  path.run_until(at(5s));
  const std::uint64_t before = path.cc.window();
  // A random loss (not congestion): the packet was sent a round trip ago.
  path.cc.on_congestion_event({.now = path.now(), .lost_bytes = kMss, .largest_lost_sent = path.now() - 41ms});
  CHECK(path.cc.window() == before * 85 / 100);
  path.run_until(path.now() + 500ms);
  CHECK(path.cc.window() >= before * 95 / 100);
}

TEST_CASE("an RTO collapses to the minimum window and restarts slow start", "[cc]") {
  Path path{k20Mbps, 40ms};
  path.run_until(at(3s));
  REQUIRE(path.cc.bandwidth_estimate().has_value());
  path.cc.on_retransmission_timeout(path.now());
  CHECK(path.cc.window() == Params{}.minimum_window);
  CHECK(path.cc.in_slow_start());
  CHECK_FALSE(path.cc.bandwidth_estimate().has_value());
  // Slow start paces at twice window / base_rtt.
  CHECK(path.cc.pacing_rate().value_or(0) == 2 * (2400 * 1'000'000'000ull / 40'480'000));
  // Losses of packets sent before the RTO are part of it.
  path.cc.on_congestion_event({.now = path.now() + 1ms, .lost_bytes = kMss, .largest_lost_sent = path.now()});
  CHECK(path.cc.window() == Params{}.minimum_window);
  CHECK(path.cc.in_slow_start());
  // The path is still there: the controller finds it again.
  path.run_until(at(5s));
  path.reset_stats();
  path.run_until(at(10s));
  CHECK(path.utilization() >= 0.8);
  CHECK(path.max_queueing_delay() <= kTarget);
}

TEST_CASE("persistent congestion collapses the window as an RTO does", "[cc]") {
  LatencyFirst cc{Params{}};
  cc.on_ack(ack_of(at(0ms), 100ms));
  cc.on_congestion_event(
      {.now = at(500ms), .lost_bytes = 10 * kMss, .largest_lost_sent = at(300ms), .persistent_congestion = true});
  CHECK(cc.window() == Params{}.minimum_window);
  CHECK(cc.in_slow_start());
}
