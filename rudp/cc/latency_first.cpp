// SPDX-License-Identifier: MIT
// The latency-first controller's rules (the model is in latency_first.hpp).
// Rates are bytes per second and durations nanoseconds, so a window is
// rate * duration / 1e9; products are taken in 128 bits and saturate, which
// keeps them exact up to any rate a uint64 holds.
#include "rudp/cc/latency_first.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "rudp/assert.hpp"

namespace rudp::cc {
namespace {

__extension__ typedef unsigned __int128 Wide;

constexpr std::uint64_t kNanosPerSecond = 1'000'000'000;
constexpr std::uint64_t kMaxBytes = std::numeric_limits<std::uint64_t>::max();

/// floor(a * b / c) for c > 0, saturated at the uint64 maximum. A product
/// that fits in 64 bits (any rate below 18 GB/s over a second) is divided
/// there: a 128-bit division is a library call, and this runs per packet.
std::uint64_t mul_div(std::uint64_t a, std::uint64_t b, std::uint64_t c) noexcept {
  if (std::uint64_t product = 0; !__builtin_mul_overflow(a, b, &product)) return product / c;
  const Wide quotient = static_cast<Wide>(a) * b / c;
  return quotient > kMaxBytes ? kMaxBytes : static_cast<std::uint64_t>(quotient);
}

/// A non-negative duration as a count of nanoseconds; negative ones count as 0.
std::uint64_t nanos(Duration d) noexcept { return d > Duration::zero() ? static_cast<std::uint64_t>(d.count()) : 0; }

/// rate (bytes per second) held for `d`, in bytes.
std::uint64_t bytes_over(std::uint64_t rate, Duration d) noexcept { return mul_div(rate, nanos(d), kNanosPerSecond); }

/// a + b, saturated at the uint64 maximum.
std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
  return a > kMaxBytes - b ? kMaxBytes : a + b;
}

}  // namespace

LatencyFirst::LatencyFirst(const Params& params)
    : max_datagram_size_(params.max_datagram_size),
      minimum_window_(params.minimum_window),
      target_(params.latency_target),
      setpoint_(params.latency_target / 2),
      cwnd_(params.initial_window) {
  RUDP_ASSERT(params.latency_target > Duration::zero());
  RUDP_ASSERT(params.max_datagram_size > 0);
  RUDP_ASSERT(params.minimum_window <= params.initial_window);
}

void LatencyFirst::on_packet_sent(Instant now, std::uint64_t, std::uint64_t bytes_in_flight) noexcept {
  if (!window_full_since_.has_value() && saturating_add(bytes_in_flight, max_datagram_size_) > window()) {
    window_full_since_ = now;
  }
}

void LatencyFirst::on_ack(const AckSummary& ack) noexcept {
  const bool has_sample = ack.latest_rtt > Duration::zero();
  if (has_sample && (base_rtt_ == Duration::zero() || ack.latest_rtt <= base_rtt_)) {
    base_rtt_ = ack.latest_rtt;
    base_rtt_stamp_ = ack.now;
  }
  if (!round_start_.has_value()) {
    // The first ACK, or the first since an RTO: its bytes left before the
    // round, so only what follows is counted.
    round_start_ = ack.now;
  } else {
    round_delivered_ = saturating_add(round_delivered_, ack.acked_bytes);
    round_app_limited_ = round_app_limited_ || ack.app_limited;
  }
  if (has_sample) take_sample(ack);
  // RFC 9406 (HyStart++) looks at the least RTT of a round once it has 8
  // samples: a burst's own queue lifts only the samples behind its first
  // packet, a standing queue lifts them all. That shows a round late, so
  // growth also pauses while the latest sample is over S.
  if (slow_start_ && round_samples_ >= kSlowStartSamples && round_min_rtt_ - base_rtt_ > setpoint_) {
    slow_start_ = false;
  }
  const bool queue_over_setpoint = has_sample && ack.latest_rtt - base_rtt_ > setpoint_;
  if (slow_start_ && !ack.app_limited && !in_recovery(ack) && !queue_over_setpoint) {
    set_cwnd(saturating_add(cwnd_, ack.acked_bytes));
  }
  if (ack.largest_acked_sent < *round_start_) return;

  end_round(ack);
  round_start_ = ack.now;
  clear_round();
  // This ACK's packet was the first of the flight the new round
  // acknowledges, the one that flight's own queue spares: it counts in both.
  if (has_sample) take_sample(ack);
}

bool LatencyFirst::in_recovery(const AckSummary& ack) const noexcept {
  // RFC 9002 §7.3.2: packets sent before the recovery period began do not
  // grow the window when acknowledged.
  return recovery_start_.has_value() && ack.largest_acked_sent <= *recovery_start_;
}

void LatencyFirst::take_sample(const AckSummary& ack) noexcept {
  round_min_rtt_ = std::min(round_min_rtt_, ack.latest_rtt);
  ++round_samples_;
  if (window_full_since_.has_value() && ack.largest_acked_sent > *window_full_since_) {
    round_full_min_rtt_ = std::min(round_full_min_rtt_, ack.latest_rtt);
  }
}

void LatencyFirst::clear_round() noexcept {
  round_delivered_ = 0;
  round_min_rtt_ = Duration::max();
  round_full_min_rtt_ = Duration::max();
  round_samples_ = 0;
  round_app_limited_ = false;
}

void LatencyFirst::end_round(const AckSummary& ack) noexcept {
  const bool drained_before = drained_last_round_;
  drained_last_round_ = false;
  refilling_ = false;
  if (probing_) {
    // The window stayed under half the BDP for the whole round, so the queue
    // drained: the round's least RTT is the path's, whether it rose or fell.
    probing_ = false;
    refilling_ = true;
    window_full_since_.reset();  // window() is back up at cwnd_
    if (round_min_rtt_ != Duration::max()) {
      base_rtt_ = round_min_rtt_;
      base_rtt_stamp_ = ack.now;
    }
    return;
  }

  const std::uint64_t elapsed = nanos(ack.now - *round_start_);
  if (elapsed == 0 || round_delivered_ == 0 || round_min_rtt_ == Duration::max()) return;
  const std::uint64_t rate = mul_div(round_delivered_, kNanosPerSecond, elapsed);
  if (!round_app_limited_ || rate > max_bandwidth()) add_bandwidth_sample(rate);

  if (round_min_rtt_ - base_rtt_ > target_) {
    slow_start_ = false;
    if (drained_before && !round_app_limited_) {
      // Even the packets sent after the drain met the delay: it is not this
      // sender's queue. Re-measure base_rtt; the bandwidth estimate stands.
      start_probe();
      return;
    }
    // A queue stood all round, so the round's rate is the bottleneck's: keep
    // S worth of queue on top of its BDP.
    set_cwnd(std::min(cwnd_, std::max(minimum_window_, bytes_over(rate, base_rtt_ + setpoint_))));
    drain_rate_ = round_app_limited_ ? 0 : rate;
    drained_last_round_ = true;
    return;
  }
  // The drain worked, so the queue was this sender's and the drained round's
  // rate the bottleneck's: older, higher rates are of a faster link.
  if (drained_before && drain_rate_ > 0) reset_bandwidth(drain_rate_);

  if (slow_start_ || round_app_limited_ || in_recovery(ack)) return;
  if (ack.now - base_rtt_stamp_ >= kBaseRttWindow) {
    start_probe();
    return;
  }
  // Only packets sent while the window was full say what queue the window
  // makes: a grown window shows a round late, or later if the pacer spreads
  // the growth.
  if (round_full_min_rtt_ == Duration::max()) return;
  const Duration queueing_delay = round_full_min_rtt_ - base_rtt_;
  const std::uint64_t target_window = bytes_over(max_bandwidth(), base_rtt_ + setpoint_);
  if (cwnd_ < target_window && queueing_delay < setpoint_) {
    // Grow half the way to W*, at least a datagram. Past W* only a higher
    // delivery rate lets the window grow: one that no longer fills the link
    // has a queue-free RTT, so its delivery rate is window / base_rtt and W*
    // is (1 + S / base_rtt) times the window.
    set_cwnd(saturating_add(cwnd_, std::max(max_datagram_size_, (target_window - cwnd_) / 2)));
  } else if (cwnd_ > target_window) {
    set_cwnd(std::max(minimum_window_, cwnd_ - (cwnd_ - target_window) / 2));
  }
}

void LatencyFirst::start_probe() noexcept {
  probing_ = true;
  probe_cap_ = std::max(minimum_window_, std::min(cwnd_, bytes_over(max_bandwidth(), base_rtt_)) / 2);
}

void LatencyFirst::on_congestion_event(const LossSummary& loss) noexcept {
  if (loss.persistent_congestion) {
    collapse(loss.now);
    return;
  }
  if (recovery_start_.has_value() && loss.largest_lost_sent <= *recovery_start_) return;
  recovery_start_ = loss.now;
  slow_start_ = false;
  set_cwnd(std::max(minimum_window_, mul_div(cwnd_, kLossWindowPercent, 100)));
}

void LatencyFirst::on_retransmission_timeout(Instant now) noexcept { collapse(now); }

void LatencyFirst::set_cwnd(std::uint64_t cwnd) noexcept {
  if (cwnd > cwnd_) window_full_since_.reset();
  cwnd_ = cwnd;
}

void LatencyFirst::collapse(Instant now) noexcept {
  set_cwnd(minimum_window_);
  slow_start_ = true;
  recovery_start_ = now;
  reset_bandwidth(0);
  round_start_.reset();
  clear_round();
  drained_last_round_ = false;
  probing_ = false;
  refilling_ = false;
}

std::uint64_t LatencyFirst::window() const noexcept { return probing_ ? std::min(cwnd_, probe_cap_) : cwnd_; }

std::optional<std::uint64_t> LatencyFirst::pacing_rate() const noexcept {
  if (base_rtt_ == Duration::zero()) return std::nullopt;
  // window / base_rtt: under the BDP the window leaves slower than the link
  // drains, so it builds no queue; at W* it is bw * (1 + S / base_rtt), just
  // enough to keep the window, not the pacer, the limit. Right after a probe
  // the pipe is half empty and fills at the link's rate, so that an RTT's
  // worth of the excess S / base_rtt does not pile up on top of the queue.
  if (refilling_) return max_bandwidth();
  const std::uint64_t rate = mul_div(window(), kNanosPerSecond, nanos(base_rtt_));
  return slow_start_ ? mul_div(rate, 2, 1) : rate;
}

std::optional<std::uint64_t> LatencyFirst::bandwidth_estimate() const noexcept {
  const std::uint64_t bandwidth = max_bandwidth();
  if (bandwidth == 0) return std::nullopt;
  return bandwidth;
}

std::uint64_t LatencyFirst::max_bandwidth() const noexcept {
  return *std::max_element(bandwidth_samples_.begin(), bandwidth_samples_.end());
}

void LatencyFirst::add_bandwidth_sample(std::uint64_t rate) noexcept {
  bandwidth_samples_[next_bandwidth_slot_] = rate;
  next_bandwidth_slot_ = (next_bandwidth_slot_ + 1) % bandwidth_samples_.size();
}

void LatencyFirst::reset_bandwidth(std::uint64_t rate) noexcept {
  bandwidth_samples_.fill(0);
  next_bandwidth_slot_ = 0;
  add_bandwidth_sample(rate);
}

}  // namespace rudp::cc
