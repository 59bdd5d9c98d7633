// SPDX-License-Identifier: MIT
// CUBIC: RFC 9438 §4.2-4.8 in congestion avoidance, RFC 9002 §7.3 recovery
// periods and slow start around it.
#include "rudp/cc/cubic.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

#include "rudp/assert.hpp"

namespace rudp::cc {

namespace {

double seconds(Duration d) noexcept { return std::chrono::duration<double>(d).count(); }

}  // namespace

Cubic::Cubic(const Params& params) noexcept : params_(params), cwnd_(params.initial_window) {
  RUDP_ASSERT(params.max_datagram_size > 0 && params.minimum_window > 0 &&
              params.initial_window >= params.minimum_window);
}

void Cubic::on_packet_sent(Instant, std::uint64_t, std::uint64_t) noexcept {}

void Cubic::on_ack(const AckSummary& ack) noexcept {
  smoothed_rtt_ = ack.smoothed_rtt;
  if (recovery_start_ && ack.largest_acked_sent > *recovery_start_) recovery_open_ = false;
  const Instant previous = std::exchange(last_update_, ack.now);
  if (sent_before_recovery(ack.largest_acked_sent)) return;
  if (ack.app_limited) {
    // §5.8: W_cubic(t) would otherwise run ahead through time the window
    // went unused, and cwnd would jump when the flow uses it again.
    if (stage_start_) *stage_start_ += ack.now - previous;
    return;
  }
  if (cwnd_ < ssthresh_) {
    cwnd_ += ack.acked_bytes;
    return;
  }
  if (!stage_start_) {
    // §4.8: the first stage after a timeout grows from the window it starts at.
    w_max_ = segments(cwnd_);
    start_stage(ack.now);
  }

  const double cwnd = segments(cwnd_);
  const double acked = segments(ack.acked_bytes);
  // §4.3: W_est is what Reno with alpha_cubic would have by now; once it
  // regains the window the last loss cut, Reno's alpha of 1 applies.
  w_est_ += (w_est_ >= cwnd_prior_ ? 1.0 : kAlpha) * acked / cwnd;
  const double t = seconds(ack.now - *stage_start_);
  double next = w_est_;
  if (w_cubic(t) >= w_est_) {
    // §4.2, §4.4, §4.5: aim one RTT ahead, at most 1.5 x cwnd, so that one
    // cwnd of ACKs brings cwnd to the target.
    const double target = std::clamp(w_cubic(t + seconds(ack.smoothed_rtt)), cwnd, 1.5 * cwnd);
    next = cwnd + (target - cwnd) * acked / cwnd;
  }
  growth_credit_ += std::max(0.0, next - cwnd) * static_cast<double>(params_.max_datagram_size);
  const double whole = std::floor(growth_credit_);
  growth_credit_ -= whole;
  cwnd_ += static_cast<std::uint64_t>(whole);
}

void Cubic::on_congestion_event(const LossSummary& loss) noexcept {
  if (!sent_before_recovery(loss.largest_lost_sent)) {
    start_recovery(loss.now);
    cwnd_prior_ = segments(cwnd_);
    // §4.7 fast convergence: a loss below the last W_max means the flow's
    // share is shrinking, so release some of it sooner.
    w_max_ = cwnd_prior_ < w_max_ ? cwnd_prior_ * (1.0 + kBeta) / 2.0 : cwnd_prior_;
    ssthresh_ = reduced_window();
    cwnd_ = ssthresh_;
    start_stage(loss.now);
  }
  if (loss.persistent_congestion) collapse(loss.now);
}

void Cubic::on_retransmission_timeout(Instant now) noexcept {
  if (!recovery_open_) {
    cwnd_prior_ = segments(cwnd_);
    ssthresh_ = reduced_window();
  }
  collapse(now);
}

std::optional<std::uint64_t> Cubic::bandwidth_estimate() const noexcept {
  if (smoothed_rtt_ <= Duration::zero()) return std::nullopt;
  return static_cast<std::uint64_t>(static_cast<double>(cwnd_) / seconds(smoothed_rtt_));
}

double Cubic::segments(std::uint64_t bytes) const noexcept {
  return static_cast<double>(bytes) / static_cast<double>(params_.max_datagram_size);
}

// Rounded to the nearest byte, so 0.7 * 84000 is 58800, not 58799.99...
std::uint64_t Cubic::reduced_window() const noexcept {
  return std::max(static_cast<std::uint64_t>(std::llround(static_cast<double>(cwnd_) * kBeta)), params_.minimum_window);
}

double Cubic::w_cubic(double t) const noexcept {
  const double d = t - k_;
  return kC * d * d * d + w_max_;
}

void Cubic::start_recovery(Instant now) noexcept {
  recovery_start_ = now;
  recovery_open_ = true;
}

// Begins a congestion avoidance stage at `now` from the current cwnd, with
// w_max_ already set: cwnd_epoch of RFC 9438 is cwnd.
void Cubic::start_stage(Instant now) noexcept {
  const double cwnd = segments(cwnd_);
  stage_start_ = now;
  last_update_ = std::max(last_update_, now);
  k_ = std::cbrt(std::max(0.0, w_max_ - cwnd) / kC);
  w_est_ = cwnd;
  growth_credit_ = 0;
}

void Cubic::collapse(Instant now) noexcept {
  start_recovery(now);
  stage_start_.reset();
  cwnd_ = params_.minimum_window;
  growth_credit_ = 0;
}

}  // namespace rudp::cc
