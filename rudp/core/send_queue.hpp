// SPDX-License-Identifier: MIT
// The sender's side of a reliable channel: messages cut into chunks (one
// chunk per DATA frame, consecutive sequence numbers, fragment index and
// count), held until acknowledged, with a queue of chunks to re-send after a
// loss. Its byte capacity is the send buffer that `send` fills.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

namespace rudp::core {

/// Credit a reliable chunk costs the receiver beyond its payload: its
/// bookkeeping. Charging it keeps credit a bound on the receiver's memory even
/// for empty messages (rudp/wire/WIRE.md §3.2).
inline constexpr std::uint64_t kChunkCreditOverhead = 32;

/// Credit `payload_size` bytes of reliable payload cost.
constexpr std::uint64_t chunk_cost(std::size_t payload_size) noexcept { return payload_size + kChunkCreditOverhead; }

struct Chunk {
  std::uint64_t sequence = 0;
  std::uint32_t fragment_index = 0;
  std::uint32_t fragment_count = 1;
  std::vector<std::byte> bytes;
  bool sent = false;    ///< transmitted at least once
  bool acked = false;
  bool resend = false;  ///< waiting in the re-send queue
  std::uint8_t copies = 0;  ///< times repeated by re-bundling
};

class SendQueue {
 public:
  /// `capacity`: bytes of payload buffered until acknowledged.
  explicit SendQueue(std::size_t capacity) noexcept : capacity_(capacity) {}

  /// Payload bytes that push_* can take now.
  std::size_t available() const noexcept { return capacity_ > buffered_ ? capacity_ - buffered_ : 0; }
  std::size_t buffered() const noexcept { return buffered_; }

  /// Queues a whole message, cut into chunks of at most `chunk_size` bytes.
  /// The caller has checked that it fits in available().
  void push_message(std::span<const std::byte> message, std::size_t chunk_size);

  /// Queues as much of `bytes` as fits, as unfragmented chunks of at most
  /// `chunk_size` bytes; returns how many bytes it took.
  std::size_t push_stream(std::span<const std::byte> bytes, std::size_t chunk_size);

  /// The next chunk to transmit, re-sends first, or nullptr.
  const Chunk* peek() const noexcept;
  /// The same chunk as peek(), to be sent now.
  Chunk* next_to_send() noexcept;
  /// Records that `chunk` (from next_to_send) went out in a packet.
  void on_sent(Chunk& chunk) noexcept;

  /// A packet carrying chunk `sequence` was acknowledged.
  void on_acked(std::uint64_t sequence) noexcept;
  /// A packet carrying chunk `sequence` was lost: re-send it unless acknowledged.
  void on_lost(std::uint64_t sequence);

  /// Calls `f(chunk)` for up to `limit` chunks that were sent and are neither
  /// acknowledged nor waiting to be re-sent, newest first, looking at no more
  /// than the newest `window` chunks sent; `f` returns whether it used the chunk.
  template <class F>
  void for_each_in_flight(std::size_t limit, std::size_t window, F&& f) {
    const std::size_t sent = std::min(next_new_, chunks_.size());
    for (std::size_t i = sent; i > 0 && sent - i < window && limit > 0; --i) {
      Chunk& chunk = chunks_[i - 1];
      if (chunk.sent && !chunk.acked && !chunk.resend && f(chunk)) --limit;
    }
  }

  /// True when every queued chunk has been acknowledged.
  bool all_acked() const noexcept { return chunks_.empty(); }
  /// True when a chunk waits to be sent or re-sent.
  bool has_pending() const noexcept { return peek() != nullptr; }
  /// The chunk with `sequence`, if it is still held.
  Chunk* find(std::uint64_t sequence) noexcept;
  const Chunk* find(std::uint64_t sequence) const noexcept;

  void set_capacity(std::size_t capacity) noexcept { capacity_ = capacity; }

 private:
  void push_chunk(std::span<const std::byte> bytes, std::uint32_t index, std::uint32_t count);

  std::size_t capacity_;
  std::size_t buffered_ = 0;
  std::deque<Chunk> chunks_;          // chunks_[i].sequence == first_sequence_ + i
  std::uint64_t first_sequence_ = 0;
  std::uint64_t next_sequence_ = 0;   // given to the next chunk pushed
  std::size_t next_new_ = 0;          // index of the first never-sent chunk
  std::deque<std::uint64_t> resend_;  // sequences to re-send, oldest loss first
};

}  // namespace rudp::core
