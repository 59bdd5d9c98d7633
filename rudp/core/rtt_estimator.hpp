// SPDX-License-Identifier: MIT
// The round-trip time estimator: it turns RTT samples into smoothed_rtt,
// rttvar, min_rtt and the retransmission timeout (rto). Smoothing and the rto
// follow RFC 6298 §2 (alpha = 1/8, beta = 1/4, K = 4, clock granularity G,
// a floor and a ceiling) and its §5.5 exponential backoff; min_rtt and the
// peer's ack delay are handled as RFC 9002 §5.2 and §5.3 describe, and the
// estimate before any sample is RFC 9002 §5.3's (smoothed_rtt = initial_rtt,
// rttvar = initial_rtt / 2). All smoothing is integer nanosecond arithmetic,
// so a run replays to the same nanosecond.
#pragma once

#include <chrono>

#include "rudp/clock.hpp"

namespace rudp::core {

/// The knobs of an RttEstimator. A profile may replace them at run time.
struct RttConfig {
  /// smoothed_rtt before the first sample (RFC 9002 §6.2.2); rttvar starts at
  /// half of it, so the first rto is 3 * initial_rtt, 999 ms by default, in
  /// line with RFC 6298's initial rto of 1 s. Must be positive.
  Duration initial_rtt = std::chrono::milliseconds{333};
  /// Floor of rto(). RFC 6298 §2.4 asks for 1 s; 200 ms is what TCP stacks use.
  Duration min_rto = std::chrono::milliseconds{200};
  /// Ceiling of rto() and backed_off_rto(); RFC 6298 §2.5 allows any value of
  /// at least 60 s. Must be at least min_rto.
  Duration max_rto = std::chrono::seconds{60};
  /// Factor applied to the rto per consecutive timeout; at least 1.0.
  double backoff = 2.0;
  /// Clock granularity G of RFC 6298: the least rto - smoothed_rtt can be.
  /// Must not be negative.
  Duration granularity = std::chrono::milliseconds{1};
};

/// Estimates a path's round-trip time from samples and derives the rto.
/// Pure state: no clock reads, no I/O.
class RttEstimator {
 public:
  /// An estimator with no sample yet; aborts if `config` breaks the limits
  /// documented on RttConfig.
  explicit RttEstimator(const RttConfig& config = {}) noexcept;

  /// Takes one RTT sample. `latest` is the measured round trip of a newly
  /// acknowledged packet; `ack_delay` is how long the peer says it held the
  /// ACK, already capped by the caller at the peer's max ack delay (a
  /// negative value counts as zero). min_rtt takes `latest` as is. The
  /// sample smoothed in is `latest - ack_delay` if `latest >= min_rtt +
  /// ack_delay`, else `latest` (RFC 9002 §5.3); the first sample therefore
  /// always enters unadjusted. The first sample sets smoothed_rtt = R and
  /// rttvar = R / 2 (RFC 6298 §2.2); later ones set rttvar = (3 * rttvar +
  /// |smoothed_rtt - R|) / 4 with the old smoothed_rtt, then smoothed_rtt =
  /// (7 * smoothed_rtt + R) / 8 (RFC 6298 §2.3). Each division is exact and
  /// then rounded down to the nanosecond, and cannot overflow. A sample of
  /// zero or less is ignored entirely.
  void on_sample(Duration latest, Duration ack_delay) noexcept;

  /// Whether on_sample() has taken a sample since construction.
  bool has_sample() const noexcept { return latest_rtt_ > Duration::zero(); }

  /// The smoothed round-trip time, in nanoseconds; initial_rtt before a sample.
  Duration smoothed_rtt() const noexcept { return has_sample() ? smoothed_rtt_ : config_.initial_rtt; }

  /// The round-trip time variation, in nanoseconds; initial_rtt / 2 (rounded
  /// down) before a sample.
  Duration rttvar() const noexcept { return has_sample() ? rttvar_ : config_.initial_rtt / 2; }

  /// The least `latest` seen, ack delay not subtracted. Duration::max()
  /// before a sample, the minimum of no samples: check has_sample() before
  /// doing arithmetic with it.
  Duration min_rtt() const noexcept { return min_rtt_; }

  /// The `latest` of the last sample taken; zero before a sample.
  Duration latest_rtt() const noexcept { return latest_rtt_; }

  /// The retransmission timeout smoothed_rtt + max(G, 4 * rttvar) of RFC
  /// 6298 §2.2 and §2.3, clamped to [min_rto, max_rto]; the sum saturates
  /// rather than overflows. Before a sample it is 3 * initial_rtt, clamped.
  Duration rto() const noexcept;

  /// rto() times backoff to the power `consecutive_timeouts` (RFC 6298 §5.5
  /// doubles it per timeout), never above max_rto, for any count. The product
  /// is taken in double and rounded down to the nanosecond.
  Duration backed_off_rto(unsigned consecutive_timeouts) const noexcept;

  /// Replaces the knobs, keeping every sample-derived value. Until the first
  /// sample the estimate follows the new initial_rtt.
  void set_config(const RttConfig& config) noexcept;

  /// The knobs in force.
  const RttConfig& config() const noexcept { return config_; }

 private:
  RttConfig config_;
  Duration smoothed_rtt_{};
  Duration rttvar_{};
  Duration min_rtt_ = Duration::max();
  Duration latest_rtt_{};  // zero until the first sample; samples are positive
};

}  // namespace rudp::core
