// SPDX-License-Identifier: MIT
// NewReno: RFC 5681 §3.1 growth and timeout, RFC 9002 §7.3 recovery periods.
#include "rudp/cc/new_reno.hpp"

#include <algorithm>
#include <chrono>

#include "rudp/assert.hpp"

namespace rudp::cc {

NewReno::NewReno(const Params& params) noexcept : params_(params), cwnd_(params.initial_window) {
  RUDP_ASSERT(params.minimum_window > 0 && params.initial_window >= params.minimum_window);
}

void NewReno::on_packet_sent(Instant, std::uint64_t, std::uint64_t) noexcept {}

void NewReno::on_ack(const AckSummary& ack) noexcept {
  smoothed_rtt_ = ack.smoothed_rtt;
  if (recovery_start_ && ack.largest_acked_sent > *recovery_start_) recovery_open_ = false;
  if (ack.app_limited || sent_before_recovery(ack.largest_acked_sent)) return;
  if (cwnd_ < ssthresh_) {
    // RFC 9002 §7.3.1: slow start adds every byte acknowledged.
    cwnd_ += ack.acked_bytes;
    return;
  }
  // RFC 9002 §7.3.3: one datagram per cwnd acknowledged. Kept as an exact
  // numerator, since a small ACK on a large cwnd earns less than one byte.
  avoidance_credit_ += params_.max_datagram_size * ack.acked_bytes;
  const std::uint64_t step = avoidance_credit_ / cwnd_;
  avoidance_credit_ -= step * cwnd_;
  cwnd_ += step;
}

void NewReno::on_congestion_event(const LossSummary& loss) noexcept {
  if (!sent_before_recovery(loss.largest_lost_sent)) {
    start_recovery(loss.now);
    reduce_ssthresh();
    cwnd_ = ssthresh_;
  }
  if (loss.persistent_congestion) collapse(loss.now);
}

void NewReno::on_retransmission_timeout(Instant now) noexcept {
  if (!recovery_open_) reduce_ssthresh();
  collapse(now);
}

std::optional<std::uint64_t> NewReno::bandwidth_estimate() const noexcept {
  if (smoothed_rtt_ <= Duration::zero()) return std::nullopt;
  return static_cast<std::uint64_t>(static_cast<double>(cwnd_) / std::chrono::duration<double>(smoothed_rtt_).count());
}

void NewReno::start_recovery(Instant now) noexcept {
  recovery_start_ = now;
  recovery_open_ = true;
  avoidance_credit_ = 0;
}

void NewReno::reduce_ssthresh() noexcept { ssthresh_ = std::max(cwnd_ / 2, params_.minimum_window); }

void NewReno::collapse(Instant now) noexcept {
  start_recovery(now);
  cwnd_ = params_.minimum_window;
}

}  // namespace rudp::cc
