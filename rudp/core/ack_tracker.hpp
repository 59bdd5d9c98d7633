// SPDX-License-Identifier: MIT
// The receiver's record of which packet numbers arrived, and when an ACK is
// owed. It detects duplicates, remembers at most kMaxAckRanges ranges (older
// ones fall below a floor, and anything under the floor counts as a
// duplicate), and decides between acknowledging at once (a gap, or enough
// ack-eliciting packets) and waiting up to the max ack delay (RFC 9000 §13.2,
// RFC 5681 §4.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "rudp/clock.hpp"
#include "rudp/wire/buffer.hpp"
#include "rudp/wire/frame.hpp"

namespace rudp::core {

/// When a receiver acknowledges.
struct AckPolicy {
  /// Ack-eliciting packets received before an ACK is sent at once.
  unsigned packets_before_ack = 2;
  /// Longest an ACK for an ack-eliciting packet is held back; zero acks at once.
  Duration max_ack_delay = std::chrono::milliseconds(25);
};

class AckTracker {
 public:
  explicit AckTracker(const AckPolicy& policy = {}) noexcept : policy_(policy) {}

  /// Records that packet `number` arrived at `now`. Returns false, changing
  /// nothing, when it is a duplicate (already recorded, or below the floor).
  bool on_packet(std::uint64_t number, bool ack_eliciting, Instant now);

  /// True when an ACK should go out now rather than wait.
  bool ack_due(Instant now) const noexcept;

  /// When a held-back ACK becomes due; nullopt when none is owed.
  std::optional<Instant> next_deadline() const noexcept;

  /// True when something has arrived since the last ACK was written, so an
  /// ACK would tell the peer something new (worth piggy-backing).
  bool has_news() const noexcept { return news_; }

  /// Writes an ACK frame of the newest ranges that fit in `budget` bytes;
  /// returns the largest packet number it acknowledged, or nullopt when
  /// nothing has been received or not even one range fits.
  std::optional<std::uint64_t> write_ack(wire::Writer& writer, Instant now, std::size_t budget);

  /// Makes the ACK owed for what has arrived due at once (for the handshake
  /// and a FIN, whose peers wait on it).
  void ack_immediately() noexcept { immediate_ = unacked_eliciting_ > 0; }

  /// The peer has acknowledged a packet of ours that carried an ACK up to
  /// `largest`: it knows everything up to there, so stop repeating it.
  void on_ack_acknowledged(std::uint64_t largest) noexcept;

  /// The largest packet number received, if any.
  std::optional<std::uint64_t> largest() const noexcept;

  /// Ranges currently remembered, newest first.
  const std::vector<wire::AckRange>& ranges() const noexcept { return ranges_; }

  void set_policy(const AckPolicy& policy) noexcept { policy_ = policy; }

 private:
  AckPolicy policy_;
  std::vector<wire::AckRange> ranges_;  // descending, non-adjacent
  std::uint64_t floor_ = 0;             // packet numbers below this are treated as duplicates
  Instant largest_received_at_{};
  std::optional<Instant> first_unacked_at_;  // arrival of the oldest ack-eliciting packet not yet acked
  unsigned unacked_eliciting_ = 0;
  bool immediate_ = false;
  bool news_ = false;
};

}  // namespace rudp::core
