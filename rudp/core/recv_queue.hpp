// SPDX-License-Identifier: MIT
// The receiver's side of one channel's reliable space: chunks arrive in any
// order, possibly twice; a reliable-unordered message is delivered as soon as
// all its chunks are in, a reliable-ordered one once every chunk before it is
// delivered or skipped. A SKIP from the sender marks an abandoned message's
// chunks done, so ordered delivery passes them. Memory is bounded by the
// credit the receiver grants (every buffered chunk costs chunk_cost() of it)
// and by kMaxReliableSpan (how far beyond the first missing chunk anything
// is recorded); a peer that breaks either is caught at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "rudp/types.hpp"
#include "rudp/core/inbox.hpp"
#include "rudp/core/ring.hpp"
#include "rudp/wire/frame.hpp"

namespace rudp::core {

/// What became of one arriving chunk or SKIP.
enum class ChunkVerdict : std::uint8_t {
  accepted,   ///< new; buffered, delivered or skipped
  duplicate,  ///< already had it (or already delivered); dropped
  violation,  ///< beyond granted credit or the span, or inconsistent numbering: the peer is broken or hostile
};

class RecvQueue {
 public:
  explicit RecvQueue(ChannelId channel) noexcept : channel_(channel) {}

  ChannelId channel() const noexcept { return channel_; }

  /// Takes one reliable DATA frame of the channel (its payload is copied);
  /// whole messages go to `inbox`, which also holds the credit.
  ChunkVerdict on_chunk(const wire::DataFrame& frame, Inbox& inbox);
  /// Takes a SKIP of the channel: its chunks will never come.
  ChunkVerdict on_skip(const wire::SkipFrame& skip, Inbox& inbox);

  /// True when chunk `sequence` has arrived already (delivered, skipped or buffered).
  bool has_chunk(std::uint64_t sequence) const noexcept;

 private:
  struct Piece {
    std::uint32_t index = 0;
    std::uint32_t count = 1;
    DeliveryMode mode = DeliveryMode::reliable_ordered;
    std::vector<std::byte> bytes;
  };
  bool done(std::uint64_t sequence) const noexcept;
  void mark_done(std::uint64_t first, std::uint64_t count);
  bool complete(std::uint64_t first, std::uint32_t count, bool& consistent) const;
  void deliver(std::uint64_t first, std::uint32_t count, Inbox& inbox);
  bool advance(Inbox& inbox);
  bool fits_neighbours(const wire::DataFrame& frame) const;
  void note_arrivals();

  ChannelId channel_;
  std::uint64_t floor_ = 0;          // first chunk not yet delivered or skipped
  std::uint64_t first_missing_ = 0;  // first chunk not yet arrived (nor skipped); the span counts from here
  Ring<bool> done_;    // done_[i]: chunk floor_ + i was delivered or skipped
  std::map<std::uint64_t, Piece> pending_;           // buffered chunks, all at or above floor_
  std::map<std::uint64_t, std::uint32_t> arrived_;  // message's first sequence -> its chunks buffered
};

}  // namespace rudp::core
