// SPDX-License-Identifier: MIT
// The latency-first congestion controller: delay-based, of the family of
// Vegas, FAST, LEDBAT, Copa and BBR. It keeps the queue it builds at the
// bottleneck near a set point S = T / 2, under T = Params::latency_target
// (5 ms by default), and fills the link. Half the target is left for jitter
// and for the feedback's round of lag. A round ends at the first ACK for a
// packet sent after the round began; at its end the controller has:
//  - base_rtt, the least RTT sample (ns). When no sample has matched it for
//    kBaseRttWindow (10 s), a probe round caps the window at half
//    min(window, bw * base_rtt). The queue drains, and the round's least RTT
//    becomes base_rtt, whether it rose or fell.
//  - q = the round's least RTT - base_rtt: the queueing delay. The minimum
//    drops jitter and a burst's own queue; a standing queue shows in every
//    sample.
//  - bw, the bandwidth estimate (bytes per second): the max over
//    kBandwidthWindowRounds (10) rounds of bytes delivered / round length.
//    An app-limited round enters only if it raises the max.
//  - W* = bw * (base_rtt + S): the BDP plus S worth of queue.
// Rules at a round's end:
//  - q > T: drain in one step, window = min(window, rate * (base_rtt + S)),
//    with this round's rate. A standing queue makes that the bottleneck's
//    rate. If the next round is under T, the queue was this sender's and bw
//    restarts from that rate (the link slowed). If it is still over T, the
//    delay is not this sender's (a route change, or a competitor's standing
//    queue): a probe re-measures base_rtt and bw stands.
//  - otherwise, q from packets sent while the window was full (a larger
//    window shows a round late): below W* with q < S the window grows half
//    way to W*, at least one datagram; above W* it shrinks half way. Only
//    bw moves the window past W*: a window under the BDP has no queue, its
//    rate is window / base_rtt, and W* is (1 + S / base_rtt) times it.
//    App-limited rounds and rounds in recovery leave the window alone.
// Slow start adds the bytes acknowledged per ACK, pausing while the latest
// sample is over base_rtt + S. It ends when a round's least RTT over at least
// kSlowStartSamples (8) samples passes base_rtt + S (RFC 9406's round
// minimum), on a loss, or on a drain. A loss costs window * 85 / 100
// (kLossWindowPercent; Reno halves) once per recovery period, with RFC 9002
// §7.3.2's rule. A random loss costs about two rounds; a loss every round
// still shrinks the window 15% a round. An RTO or persistent congestion sets
// Params::minimum_window, forgets bw and restarts slow start. pacing_rate() is
// window / base_rtt, times 2 in slow start. Under the BDP the window then
// leaves slower than the link drains it; at W* it is bw * (1 + S / base_rtt),
// so the window, not the pacer, binds. In the round after a probe the pacer
// runs at bw while the half-empty pipe refills. All arithmetic is in integer
// bytes and nanoseconds with 128-bit products, so a run replays exactly.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "rudp/cc/controller.hpp"
#include "rudp/clock.hpp"

namespace rudp::cc {

/// The delay-based controller of Algorithm::latency_first; the model and its
/// parameters are in the comment at the top of this file. Pure state: no
/// clock reads, no I/O; every input is one of the Controller notifications.
class LatencyFirst final : public Controller {
 public:
  /// Rounds whose delivery rate the bandwidth estimate remembers.
  static constexpr std::size_t kBandwidthWindowRounds = 10;
  /// How long base_rtt stands without a sample at or under it before a probe
  /// round re-measures it.
  static constexpr Duration kBaseRttWindow = std::chrono::seconds{10};
  /// RTT samples a round needs before its least one can end slow start.
  static constexpr std::uint64_t kSlowStartSamples = 8;
  /// The window after a loss, in percent of the window before it.
  static constexpr std::uint64_t kLossWindowPercent = 85;

  /// A controller in slow start at params.initial_window. Aborts unless
  /// latency_target > 0, max_datagram_size > 0 and minimum_window <=
  /// initial_window.
  explicit LatencyFirst(const Params& params);

  /// Notes when the window fills: RTT samples of the packets sent after that
  /// show the queue the window makes, and only they let it move after slow
  /// start.
  void on_packet_sent(Instant now, std::uint64_t bytes, std::uint64_t bytes_in_flight) noexcept override;
  /// Takes the RTT sample and the delivered bytes, grows the window in slow
  /// start, and at a round's end applies the per-round rules of the model.
  void on_ack(const AckSummary& ack) noexcept override;
  /// window * 85 / 100, at least minimum_window, unless every lost packet was
  /// sent before the current recovery period began; persistent congestion
  /// collapses the window as an RTO does.
  void on_congestion_event(const LossSummary& loss) noexcept override;
  /// Collapses to minimum_window, forgets the bandwidth estimate and restarts
  /// slow start; losses of packets sent before `now` do not reduce it again.
  void on_retransmission_timeout(Instant now) noexcept override;

  /// The congestion window in bytes, capped during a probe round; never below
  /// minimum_window.
  std::uint64_t window() const noexcept override;
  /// window() / base_rtt, times 2 in slow start, or the bandwidth estimate in
  /// the round after a probe, in bytes per second; nullopt before the first
  /// RTT sample.
  std::optional<std::uint64_t> pacing_rate() const noexcept override;
  /// The max delivery rate of the last kBandwidthWindowRounds rounds, in bytes
  /// per second; nullopt until a round has ended, and after an RTO.
  std::optional<std::uint64_t> bandwidth_estimate() const noexcept override;
  /// True from construction, and after an RTO, until a round's queueing delay
  /// passes latency_target / 2, a loss or a drain.
  bool in_slow_start() const noexcept override { return slow_start_; }
  /// "latency_first".
  std::string_view name() const noexcept override { return "latency_first"; }

  /// The RTT the controller takes for the path without a queue, in ns; zero
  /// before the first RTT sample.
  Duration base_rtt() const noexcept { return base_rtt_; }

 private:
  bool in_recovery(const AckSummary& ack) const noexcept;
  void take_sample(const AckSummary& ack) noexcept;
  void clear_round() noexcept;
  void end_round(const AckSummary& ack) noexcept;
  void start_probe() noexcept;
  void collapse(Instant now) noexcept;
  void set_cwnd(std::uint64_t cwnd) noexcept;
  std::uint64_t max_bandwidth() const noexcept;
  void add_bandwidth_sample(std::uint64_t rate) noexcept;
  void reset_bandwidth(std::uint64_t rate) noexcept;

  std::uint64_t max_datagram_size_;
  std::uint64_t minimum_window_;
  Duration target_;    // latency_target, T
  Duration setpoint_;  // T / 2, S
  std::uint64_t cwnd_;
  bool slow_start_ = true;
  std::optional<Instant> recovery_start_;

  Duration base_rtt_{};  // zero until the first sample
  Instant base_rtt_stamp_{};

  // When a packet first filled window() since it last grew; nullopt: not yet.
  std::optional<Instant> window_full_since_;

  std::optional<Instant> round_start_;  // nullopt until the first ACK, and after an RTO
  std::uint64_t round_delivered_ = 0;
  Duration round_min_rtt_ = Duration::max();
  Duration round_full_min_rtt_ = Duration::max();  // over packets sent since window_full_since_
  std::uint64_t round_samples_ = 0;  // RTT samples this round
  bool round_app_limited_ = false;

  std::array<std::uint64_t, kBandwidthWindowRounds> bandwidth_samples_{};  // bytes per second, 0 = none
  std::size_t next_bandwidth_slot_ = 0;

  bool drained_last_round_ = false;
  std::uint64_t drain_rate_ = 0;  // the drained round's rate; 0 if it was app-limited
  bool probing_ = false;
  std::uint64_t probe_cap_ = 0;  // window() bound while probing_
  bool refilling_ = false;       // in the round after a probe
};

}  // namespace rudp::cc
