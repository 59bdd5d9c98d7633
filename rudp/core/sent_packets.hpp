// SPDX-License-Identifier: MIT
// The sender's history of packets in flight, and loss detection over it
// (RFC 9002 §6.1): a packet is lost once a packet `packet_threshold` numbers
// newer is acknowledged, or once it is older than the loss delay
// (time_threshold x max(smoothed, latest RTT)) when something newer was
// acknowledged. Packet numbers are contiguous, so a packet is found by
// subtraction; the history starts at the oldest ack-eliciting packet still
// outstanding, and packets declared lost are remembered a while longer, apart,
// to recognise spurious retransmissions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "rudp/clock.hpp"
#include "rudp/types.hpp"
#include "rudp/core/receipts.hpp"
#include "rudp/core/ring.hpp"
#include "rudp/wire/frame.hpp"

namespace rudp::core {

/// A reliable DATA chunk a packet carried.
struct ChunkRef {
  ChannelId channel = 0;
  std::uint64_t sequence = 0;
  friend bool operator==(const ChunkRef&, const ChunkRef&) = default;
};

/// What a packet carried that matters once it is acknowledged or lost.
struct SentFrames {
  std::vector<ChunkRef> chunks;              ///< reliable DATA chunks
  std::vector<wire::SkipFrame> skips;        ///< SKIP frames
  std::vector<ReceiptId> receipts;           ///< receipts of the unreliable fragments it carried
  std::optional<std::uint64_t> ack_largest;  ///< largest packet number its ACK frame acknowledged
  bool credit = false;                       ///< carried a CREDIT frame
  bool close = false;                        ///< carried our CLOSE (FIN)

  /// Adds `other`'s frames to these.
  void merge(SentFrames&& other);
};

struct SentPacket {
  std::uint64_t number = 0;
  Instant time_sent{};
  std::uint32_t size = 0;       ///< datagram bytes
  bool ack_eliciting = false;   ///< counts in flight and arms the probe timer
  SentFrames frames;
};

/// What one ACK or one loss check found.
struct PacketOutcome {
  SentFrames acked;                    ///< frames of newly acknowledged packets
  SentFrames lost;                     ///< frames of newly lost packets
  std::optional<Duration> rtt_sample;  ///< when the largest acknowledged is new and ack-eliciting
  std::uint64_t acked_packets = 0;
  std::uint64_t acked_bytes = 0;  ///< of ack-eliciting packets
  std::uint64_t lost_packets = 0;
  std::uint64_t lost_bytes = 0;
  std::uint64_t spurious_packets = 0;  ///< declared lost earlier, acknowledged now
  std::optional<Instant> largest_newly_acked_sent;  ///< send time of the largest packet newly acked
  std::optional<Instant> earliest_lost_sent;        ///< send time of the oldest packet newly lost
  std::optional<Instant> latest_lost_sent;          ///< send time of the newest packet newly lost
};

struct LossParams {
  unsigned packet_threshold = 3;
  double time_threshold = 9.0 / 8.0;
  Duration granularity = std::chrono::milliseconds(1);
};

class SentPackets {
 public:
  /// Records a packet just sent; its number must be one more than the last.
  void on_packet_sent(SentPacket packet);

  /// Applies an ACK frame's ranges at `now`, adding to `out`. Lost packets
  /// sent before `forget_lost_before` are forgotten first (a late ACK for
  /// them is no longer recognised as spurious).
  void on_ack(const wire::AckRanges& ranges, Instant now, Instant forget_lost_before, PacketOutcome& out);

  /// Declares lost what the thresholds say is lost, adding to `out`; `loss_delay`
  /// is time_threshold x max(smoothed, latest RTT), at least the granularity.
  void detect_lost(Instant now, Duration loss_delay, unsigned packet_threshold, PacketOutcome& out);

  /// When a not-yet-lost packet below the largest acknowledged crosses the
  /// time threshold (the loss timer), if any.
  std::optional<Instant> next_loss_time(Duration loss_delay) const noexcept;

  /// Declares every ack-eliciting packet still outstanding lost (used when a
  /// probe timeout gives up on them), adding to `out`.
  void declare_all_lost(PacketOutcome& out);

  /// The chunks of the newest ack-eliciting packet still outstanding (what a
  /// tail loss probe re-sends); empty when there is none.
  std::vector<ChunkRef> newest_outstanding_chunks() const;

  std::optional<std::uint64_t> largest_acked() const noexcept { return largest_acked_; }
  std::uint64_t bytes_in_flight() const noexcept { return bytes_in_flight_; }
  /// Send time of the newest ack-eliciting packet, while any is outstanding
  /// (what the probe timer runs from, RFC 9002 §6.2.1).
  std::optional<Instant> last_eliciting_sent() const noexcept;
  /// Ack-eliciting packets outstanding.
  std::size_t eliciting_in_flight() const noexcept { return eliciting_in_flight_; }
  /// The number the next packet must have.
  std::uint64_t next_number() const noexcept { return next_number_; }

 private:
  enum class State : std::uint8_t { outstanding, acked, lost };
  struct Entry {
    SentPacket packet;
    State state = State::outstanding;
  };

  struct Lost {
    std::uint64_t number = 0;
    Instant time_sent{};
    std::uint32_t size = 0;
    SentFrames frames;
    bool acked = false;
  };

  void mark(Entry& e, State state, PacketOutcome& out);
  Ring<Lost>::iterator lower_bound_lost(std::uint64_t number);
  const Lost* find_lost(std::uint64_t number);
  void pop_front();

  Ring<Entry> entries_;  // entries_[i].packet.number == first_number_ + i; front outstanding and eliciting
  Ring<Lost> lost_;      // ascending numbers
  std::uint64_t first_number_ = 0;
  std::uint64_t next_number_ = 0;
  std::optional<std::uint64_t> largest_acked_;
  std::uint64_t bytes_in_flight_ = 0;
  std::size_t eliciting_in_flight_ = 0;
  Instant last_eliciting_sent_{};
};

}  // namespace rudp::core
