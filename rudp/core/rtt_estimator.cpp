// SPDX-License-Identifier: MIT
// RFC 6298 smoothing and rto, with RFC 9002 §5 min_rtt and ack-delay
// adjustment, in integer nanoseconds that never overflow: the weighted means
// are split into quotient and remainder parts, and sums that could pass
// Duration::max() saturate there before the rto clamp.
#include "rudp/core/rtt_estimator.hpp"

#include <algorithm>
#include <cstdint>

#include "rudp/assert.hpp"

namespace rudp::core {
namespace {

constexpr Duration kForever = Duration::max();

/// floor(((weight - 1) * old + sample) / weight) for non-negative `old` and
/// `sample`, without forming the product: with old = q1 * weight + r1 and
/// sample = q2 * weight + r2 it is (weight - 1) * q1 + q2 plus the floor of
/// the remainders' share, and never exceeds max(old, sample).
constexpr Duration blend(Duration old, Duration sample, std::int64_t weight) noexcept {
  const std::int64_t o = old.count();
  const std::int64_t s = sample.count();
  return Duration{o / weight * (weight - 1) + s / weight + ((weight - 1) * (o % weight) + s % weight) / weight};
}

/// a + b for non-negative durations, Duration::max() if that would overflow.
constexpr Duration saturating_add(Duration a, Duration b) noexcept { return a > kForever - b ? kForever : a + b; }

void check(const RttConfig& config) noexcept {
  RUDP_ASSERT(config.initial_rtt > Duration::zero());
  RUDP_ASSERT(config.min_rto >= Duration::zero());
  RUDP_ASSERT(config.min_rto <= config.max_rto);
  RUDP_ASSERT(config.backoff >= 1.0);
  RUDP_ASSERT(config.granularity >= Duration::zero());
}

}  // namespace

RttEstimator::RttEstimator(const RttConfig& config) noexcept : config_(config) { check(config_); }

void RttEstimator::on_sample(Duration latest, Duration ack_delay) noexcept {
  if (latest <= Duration::zero()) return;
  const Duration delay = std::max(ack_delay, Duration::zero());
  if (!has_sample()) {
    latest_rtt_ = latest;
    min_rtt_ = latest;
    smoothed_rtt_ = latest;
    rttvar_ = latest / 2;
    return;
  }
  latest_rtt_ = latest;
  min_rtt_ = std::min(min_rtt_, latest);
  // latest >= min_rtt + ack_delay, written so that it cannot overflow.
  const Duration adjusted = latest - min_rtt_ >= delay ? latest - delay : latest;
  const Duration deviation = smoothed_rtt_ > adjusted ? smoothed_rtt_ - adjusted : adjusted - smoothed_rtt_;
  rttvar_ = blend(rttvar_, deviation, 4);
  smoothed_rtt_ = blend(smoothed_rtt_, adjusted, 8);
}

Duration RttEstimator::rto() const noexcept {
  const Duration var = rttvar();
  const Duration spread = std::max(config_.granularity, var > kForever / 4 ? kForever : 4 * var);
  return std::clamp(saturating_add(smoothed_rtt(), spread), config_.min_rto, config_.max_rto);
}

Duration RttEstimator::backed_off_rto(unsigned consecutive_timeouts) const noexcept {
  const Duration base = rto();
  if (consecutive_timeouts == 0) return base;
  // backoff^consecutive_timeouts by squaring: O(log n) steps for any count.
  // Past about 2^1024 the factor becomes +inf, which the cap below absorbs.
  double factor = 1.0;
  double power = config_.backoff;
  for (unsigned n = consecutive_timeouts; n != 0; n >>= 1) {
    if ((n & 1u) != 0) factor *= power;
    power *= power;
  }
  const double scaled = static_cast<double>(base.count()) * factor;
  if (!(scaled < static_cast<double>(config_.max_rto.count()))) return config_.max_rto;
  // max_rto may have rounded up on its way to double; clamp again exactly.
  return std::min(Duration{static_cast<std::int64_t>(scaled)}, config_.max_rto);
}

void RttEstimator::set_config(const RttConfig& config) noexcept {
  check(config);
  config_ = config;
}

}  // namespace rudp::core
