// SPDX-License-Identifier: MIT
// NewReno: the loss-based controller of RFC 5681 §3.1 (slow start, congestion
// avoidance, the retransmission timeout) with QUIC's recovery period from
// RFC 9002 §7.3.2 and appendix B: one window reduction per congestion event,
// where a loss only starts a new event if the lost packet was sent after the
// current recovery period began (RFC 6582's `recover`, measured in send time
// instead of sequence numbers). It owns cwnd and ssthresh, in bytes;
// bytes_in_flight stays with the connection.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

#include "rudp/cc/controller.hpp"
#include "rudp/clock.hpp"

namespace rudp::cc {

/// NewReno congestion control. Pure state: no clock reads, no I/O.
class NewReno final : public Controller {
 public:
  /// A controller in slow start with cwnd = params.initial_window and no
  /// ssthresh yet (RFC 9002 §7.3.1: it starts infinite). Aborts unless
  /// 0 < params.minimum_window <= params.initial_window.
  explicit NewReno(const Params& params) noexcept;

  /// Does nothing: NewReno reacts to ACKs and losses only.
  void on_packet_sent(Instant now, std::uint64_t bytes, std::uint64_t bytes_in_flight) noexcept override;
  /// Grows cwnd by acked_bytes in slow start (cwnd < ssthresh), and by
  /// max_datagram_size * acked_bytes / cwnd in congestion avoidance, carrying
  /// the fraction of a byte left over to the next ACK, so ACKs covering one
  /// cwnd add about one datagram. cwnd does not grow when `ack` is
  /// app-limited (RFC 9002 §7.8) or when its newest packet was sent at or
  /// before the start of the recovery period (§7.3.2): that packet left
  /// under the window the loss proved too large.
  void on_ack(const AckSummary& ack) noexcept override;
  /// If the newest lost packet was sent after the current recovery period
  /// began (or there is none), starts a new one at loss.now and halves:
  /// ssthresh = max(cwnd / 2, minimum_window), cwnd = ssthresh. Losses of
  /// older packets belong to the event already counted and change nothing.
  /// Persistent congestion then collapses cwnd to minimum_window (§7.6.2)
  /// and restarts the recovery period at loss.now, so slow start resumes
  /// with ACKs of packets sent from then on.
  void on_congestion_event(const LossSummary& loss) noexcept override;
  /// RFC 5681 §3.1: ssthresh = max(cwnd / 2, minimum_window) and cwnd =
  /// minimum_window, then slow start. A timeout inside a recovery period that
  /// no ACK has closed yet (after the losses that started it were counted,
  /// or after an earlier timeout) holds ssthresh, as RFC 5681 holds it for a
  /// repeated timeout. A new recovery period starts at `now`, so losses of
  /// packets sent before the timeout do not reduce ssthresh again.
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
  /// "new_reno".
  std::string_view name() const noexcept override { return "new_reno"; }

  /// ssthresh in bytes; the largest std::uint64_t until the first reduction.
  std::uint64_t ssthresh() const noexcept { return ssthresh_; }

 private:
  bool sent_before_recovery(Instant sent) const noexcept { return recovery_start_ && sent <= *recovery_start_; }
  void start_recovery(Instant now) noexcept;
  void reduce_ssthresh() noexcept;
  // cwnd = minimum_window in a new recovery period: persistent congestion and timeouts.
  void collapse(Instant now) noexcept;

  Params params_;
  std::uint64_t cwnd_;
  std::uint64_t ssthresh_ = std::numeric_limits<std::uint64_t>::max();
  // Congestion avoidance's max_datagram_size * acked_bytes, not yet turned
  // into whole bytes of cwnd; always below cwnd_.
  std::uint64_t avoidance_credit_ = 0;
  std::optional<Instant> recovery_start_;
  // A recovery period started and no ACK of a packet sent after its start
  // has arrived yet.
  bool recovery_open_ = false;
  Duration smoothed_rtt_{};
};

}  // namespace rudp::cc
