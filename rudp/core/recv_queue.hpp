// SPDX-License-Identifier: MIT
// The receiver's side of a reliable-ordered channel: chunks arrive in any
// order, possibly twice; whole messages leave in sequence order, read either
// as messages or as a byte stream. Memory is bounded by the credit the
// receiver grants (every chunk costs chunk_cost() of it), so a peer that
// respects credit cannot make it grow further, and one that does not is
// caught at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "rudp/result.hpp"
#include "rudp/wire/frame.hpp"

namespace rudp::core {

/// What became of one arriving chunk.
enum class ChunkVerdict : std::uint8_t {
  accepted,   ///< new; buffered
  duplicate,  ///< already had it (or already delivered); dropped
  violation,  ///< beyond granted credit or inconsistent fragment numbering: the peer is broken or hostile
};

class RecvQueue {
 public:
  /// `window`: credit granted beyond what the application has read.
  explicit RecvQueue(std::uint64_t window) noexcept : window_(window) {}

  /// Takes one DATA frame of the channel (its payload is copied).
  ChunkVerdict on_chunk(const wire::DataFrame& frame);

  /// True when chunk `sequence` has arrived already (delivered or buffered).
  bool has_chunk(std::uint64_t sequence) const noexcept {
    return sequence < next_sequence_ || pending_.contains(sequence);
  }

  /// Copies up to out.size() bytes of delivered messages, crossing message
  /// boundaries; returns how many (0 when nothing is ready).
  std::size_t read(std::span<std::byte> out);

  /// Size of the next whole message ready to read, if any.
  std::optional<std::size_t> next_message_size() const noexcept;
  /// Copies the next whole message into `out` and returns its size (0 is a
  /// valid empty message). Errors: would_block when no whole message is
  /// ready; buffer_too_small, keeping the message, when it does not fit.
  Result<std::size_t> read_message(std::span<std::byte> out);

  /// True when a message (or part of one, for stream reads) is ready.
  bool readable() const noexcept { return !ready_.empty(); }

  /// The credit limit to advertise: all the peer may have sent, in chunk_cost units.
  std::uint64_t limit() const noexcept { return consumed_ + window_; }
  /// Credit the peer has used so far.
  std::uint64_t used() const noexcept { return used_; }
  /// Payload bytes held (not yet read), for stats.
  std::size_t buffered_bytes() const noexcept { return buffered_; }

 private:
  struct Piece {
    std::uint32_t index = 0;
    std::uint32_t count = 1;
    std::vector<std::byte> bytes;
  };
  bool assemble();  // false: the peer numbered a message's fragments inconsistently
  void finish_read();

  std::uint64_t window_;
  std::uint64_t consumed_ = 0;  // credit released by reads
  std::uint64_t used_ = 0;      // credit of every chunk accepted
  std::uint64_t next_sequence_ = 0;       // first chunk not yet assembled into a message
  std::map<std::uint64_t, Piece> pending_;  // chunks at or above next_sequence_
  struct Message {
    std::vector<std::byte> bytes;
    std::uint64_t cost = 0;  // credit its chunks cost, released when read
  };
  std::deque<Message> ready_;
  std::size_t read_offset_ = 0;  // into ready_.front(), for stream reads
  std::size_t buffered_ = 0;
};

}  // namespace rudp::core
