// SPDX-License-Identifier: MIT
// CUBIC (RFC 9438): after a congestion event cwnd follows the cubic
// W_cubic(t) = C * (t - K)^3 + W_max of the time t since the congestion
// avoidance stage began (§4.2), clamped per ACK to a target between cwnd and
// 1.5 * cwnd (§4.4, §4.5), and never below the Reno-friendly estimate W_est
// (§4.3). A loss multiplies cwnd by beta_cubic = 0.7 (§4.6) and lowers W_max
// further when the window is still below the last one (fast convergence,
// §4.7); a timeout restarts from minimum_window with K = 0 (§4.8). Slow start,
// recovery periods and app-limited ACKs are handled as NewReno handles them
// (RFC 9002 §7.3, §7.8; no HyStart++). W_max, K, W_est and the cubic are in
// segments of max_datagram_size and double arithmetic; cwnd and ssthresh
// stay whole bytes.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

#include "rudp/cc/controller.hpp"
#include "rudp/clock.hpp"

namespace rudp::cc {

/// CUBIC congestion control. Pure state: no clock reads, no I/O.
class Cubic final : public Controller {
 public:
  /// C, in segments per second cubed (RFC 9438 §4.2).
  static constexpr double kC = 0.4;
  /// beta_cubic, the multiplicative decrease factor (RFC 9438 §4.6).
  static constexpr double kBeta = 0.7;
  /// alpha_cubic, W_est's additive increase per RTT while W_est < the window
  /// before the last reduction (RFC 9438 §4.3): 3 * (1 - beta) / (1 + beta).
  static constexpr double kAlpha = 3.0 * (1.0 - kBeta) / (1.0 + kBeta);

  /// A controller in slow start with cwnd = params.initial_window and no
  /// ssthresh yet. Aborts unless params.max_datagram_size > 0 and
  /// 0 < params.minimum_window <= params.initial_window.
  explicit Cubic(const Params& params) noexcept;

  /// Does nothing: CUBIC reacts to ACKs and losses only.
  void on_packet_sent(Instant now, std::uint64_t bytes, std::uint64_t bytes_in_flight) noexcept override;
  /// In slow start (cwnd < ssthresh) grows cwnd by acked_bytes. In
  /// congestion avoidance, with t = ack.now - the stage's start and RTT =
  /// ack.smoothed_rtt, first adds alpha * acked / cwnd to W_est (alpha
  /// becomes 1 once W_est reaches the window before the last reduction);
  /// then if W_cubic(t) < W_est, cwnd = W_est, else cwnd grows by
  /// (target - cwnd) * acked / cwnd with target = W_cubic(t + RTT) clamped to
  /// [cwnd, 1.5 * cwnd]. Fractions of a byte carry over to the next ACK, and
  /// cwnd never shrinks here. The first ACK of a stage that no congestion
  /// event started (after a timeout) starts it at ack.now with W_max = cwnd
  /// and K = 0 (§4.8). No growth when the newest packet acknowledged was sent
  /// at or before the recovery period's start; an app-limited ACK grows
  /// nothing and moves the stage's start later by the time since the
  /// previous ACK (or the stage's start), so t leaves out time the flow
  /// could not use its window (§5.8).
  void on_ack(const AckSummary& ack) noexcept override;
  /// If the newest lost packet was sent after the current recovery period
  /// began (or there is none), starts one at loss.now and a congestion
  /// avoidance stage with it: W_max = cwnd, or cwnd * (1 + beta) / 2 if cwnd
  /// is below the previous W_max (fast convergence), ssthresh =
  /// max(cwnd * beta, minimum_window), cwnd = ssthresh, W_est = cwnd and K =
  /// cbrt((W_max - cwnd) / C), all in segments. Losses of older packets
  /// change nothing. Persistent congestion then collapses cwnd to
  /// minimum_window (RFC 9002 §7.6.2), ends the stage and restarts the
  /// recovery period at loss.now.
  void on_congestion_event(const LossSummary& loss) noexcept override;
  /// RFC 9438 §4.8: ssthresh = max(cwnd * beta, minimum_window), cwnd =
  /// minimum_window, and the congestion avoidance stage ends, so the next one
  /// starts with K = 0. Inside a recovery period no ACK has closed yet,
  /// ssthresh is held instead, as RFC 5681 §3.1 holds it for a repeated
  /// timeout. A new recovery period starts at `now`.
  void on_retransmission_timeout(Instant now) noexcept override;

  /// cwnd, in bytes.
  std::uint64_t window() const noexcept override { return cwnd_; }
  /// cwnd / smoothed_rtt in bytes per second, with the smoothed_rtt of the
  /// last ACK: the rate the window sustains, which a loss-based controller
  /// takes as the path's bandwidth. nullopt before an ACK with a positive
  /// smoothed_rtt.
  std::optional<std::uint64_t> bandwidth_estimate() const noexcept override;
  /// cwnd < ssthresh.
  bool in_slow_start() const noexcept override { return cwnd_ < ssthresh_; }
  /// "cubic".
  std::string_view name() const noexcept override { return "cubic"; }

  /// ssthresh in bytes; the largest std::uint64_t until the first reduction.
  std::uint64_t ssthresh() const noexcept { return ssthresh_; }
  /// W_max in segments: the plateau of the current stage's cubic; zero
  /// before the first congestion avoidance stage.
  double w_max() const noexcept { return w_max_; }
  /// K in seconds: when the current stage's cubic reaches W_max.
  double k() const noexcept { return k_; }

 private:
  double segments(std::uint64_t bytes) const noexcept;
  double w_cubic(double t) const noexcept;
  // max(cwnd * beta, minimum_window), in bytes.
  std::uint64_t reduced_window() const noexcept;
  bool sent_before_recovery(Instant sent) const noexcept { return recovery_start_ && sent <= *recovery_start_; }
  void start_recovery(Instant now) noexcept;
  void start_stage(Instant now) noexcept;
  // cwnd = minimum_window in a new recovery period and no stage: persistent
  // congestion and timeouts.
  void collapse(Instant now) noexcept;

  Params params_;
  std::uint64_t cwnd_;
  std::uint64_t ssthresh_ = std::numeric_limits<std::uint64_t>::max();
  // Growth earned in congestion avoidance but below one whole byte.
  double growth_credit_ = 0;
  std::optional<Instant> recovery_start_;
  // A recovery period started and no ACK of a packet sent after its start
  // has arrived yet.
  bool recovery_open_ = false;
  // The current congestion avoidance stage: t_epoch of RFC 9438, moved later
  // by app-limited time. None in slow start after a timeout.
  std::optional<Instant> stage_start_;
  // The last ACK or the stage's start, whichever came later: app-limited
  // time is measured from here.
  Instant last_update_{};
  double w_max_ = 0;       // segments
  double k_ = 0;           // seconds
  double w_est_ = 0;       // segments
  double cwnd_prior_ = 0;  // segments: cwnd before the last reduction
  Duration smoothed_rtt_{};
};

}  // namespace rudp::cc
