// SPDX-License-Identifier: MIT
// The sender's side of one channel. Messages wait whole, in the order they
// were queued, until their first fragment goes out; only then do they take
// sequence numbers, so a message that expires or is superseded before that
// leaves no gap. A reliable message becomes chunks (one per DATA frame,
// consecutive sequence numbers in the channel's reliable space) held until
// acknowledged, with a queue of chunks to re-send after a loss; one that can
// no longer meet its deadline, or runs out of re-sends, is abandoned and a
// SKIP tells the receiver to deliver around it. An unreliable message is
// numbered in the channel's unreliable space and forgotten once sent.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "rudp/clock.hpp"
#include "rudp/types.hpp"
#include "rudp/core/receipts.hpp"
#include "rudp/core/ring.hpp"
#include "rudp/wire/frame.hpp"

namespace rudp::core {

/// Credit a reliable chunk costs the receiver beyond its payload: its
/// bookkeeping. Charging it keeps credit a bound on the receiver's memory even
/// for empty messages (rudp/wire/WIRE.md §3.2).
inline constexpr std::uint64_t kChunkCreditOverhead = 32;

/// Credit `payload_size` bytes of reliable payload cost.
constexpr std::uint64_t chunk_cost(std::size_t payload_size) noexcept { return payload_size + kChunkCreditOverhead; }

/// The options of a queued message the queue acts on.
struct MessageOptions {
  DeliveryMode mode = DeliveryMode::reliable_ordered;
  std::optional<Instant> deadline;
  std::optional<unsigned> max_retransmits;
  std::optional<std::uint64_t> supersede_key;
  std::optional<ReceiptId> receipt;
};

struct Chunk {
  std::uint64_t sequence = 0;
  std::uint32_t fragment_index = 0;
  std::uint32_t fragment_count = 1;
  DeliveryMode mode = DeliveryMode::reliable_ordered;
  std::vector<std::byte> bytes;
  bool sent = false;    ///< transmitted at least once
  bool acked = false;   ///< acknowledged, or abandoned with its message
  bool resend = false;  ///< waiting in the re-send queue
  bool tracked = false;  ///< its message has a deadline, a re-send limit or a receipt
  std::uint8_t copies = 0;  ///< times repeated by re-bundling
  std::uint16_t retransmits = 0;
};

/// What the queue would send next: a DATA frame whose payload points into the
/// queue (valid until the queue changes after the on_sent() that sends it),
/// and the credit it needs first.
struct NextData {
  wire::DataFrame frame;
  std::uint64_t credit = 0;  ///< non-zero when it starts a reliable message: the whole message's cost
  bool retransmission = false;
};

/// What push() did besides queueing.
struct Pushed {
  bool superseded = false;                   ///< an unsent message with the same key was replaced
  std::optional<ReceiptId> replaced_receipt;  ///< the replaced message's receipt, if it had one
};

/// What happened to messages while the queue went about its work, for the
/// connection's counters and receipts.
struct QueueNews {
  std::uint64_t expired = 0;
  std::uint64_t abandoned = 0;
};

class SendQueue {
 public:
  explicit SendQueue(ChannelId channel) noexcept : channel_(channel) {}

  ChannelId channel() const noexcept { return channel_; }
  /// Payload bytes held: queued, or sent and not yet acknowledged.
  std::size_t buffered() const noexcept { return buffered_; }

  /// Queues a whole message, cut into fragments of at most `chunk_size`
  /// bytes. With a supersede key, an unsent message with the same key is
  /// replaced in its place.
  Pushed push(std::span<const std::byte> message, const MessageOptions& options,
                                std::size_t chunk_size);

  /// Drops what can no longer be sent in time (now + `one_way` is past its
  /// deadline) or re-sent (its re-send limit is spent) from the front of
  /// the queue, and abandons reliable messages under way for the same
  /// reasons; resolves their receipts.
  void expire(Instant now, Duration one_way, Receipts& receipts, QueueNews& news);
  /// True when expire() may give something up just because time passed:
  /// the next message to go out, the next chunk to re-send, or the rest of
  /// the message under way has a deadline.
  bool deadline_pending() const noexcept;

  /// The next DATA frame to send (re-sends first, then fragments of the
  /// message under way, then the next message), or nullopt. A reliable message
  /// may start only while its chunks stay within kMaxReliableSpan of the
  /// oldest unacknowledged one.
  std::optional<NextData> peek() const noexcept;
  /// Records that what peek() returned went out; returns the receipt an
  /// unreliable fragment carries, to be recorded with its packet.
  std::optional<ReceiptId> on_sent();

  /// A SKIP waiting to be (re)sent, if any.
  std::optional<wire::SkipFrame> peek_skip() const noexcept;
  void on_skip_sent() noexcept { pending_skips_.pop_front(); }
  void on_skip_acked(std::uint64_t sequence) noexcept;
  void on_skip_lost(const wire::SkipFrame& skip);

  /// A packet carrying chunk `sequence` was acknowledged.
  void on_acked(std::uint64_t sequence, Receipts& receipts) noexcept;
  /// A packet carrying chunk `sequence` was lost: re-send it unless acknowledged.
  void on_lost(std::uint64_t sequence);

  /// Calls `f(chunk)` for up to `limit` chunks that were sent and are neither
  /// acknowledged nor waiting to be re-sent, newest first, looking at no more
  /// than the newest `window` chunks sent; `f` returns whether it used the chunk.
  template <class F>
  std::size_t for_each_in_flight(std::size_t limit, std::size_t window, F&& f) {
    const std::size_t sent = std::min(next_new_, chunks_.size());
    std::size_t used = 0;
    for (std::size_t i = sent; i > 0 && sent - i < window && used < limit; --i) {
      Chunk& chunk = chunks_[i - 1];
      if (chunk.sent && !chunk.acked && !chunk.resend && f(chunk)) ++used;
    }
    return used;
  }

  /// True when everything queued was sent and every reliable chunk and SKIP acknowledged.
  bool all_acked() const noexcept { return chunks_.empty() && unsent_.empty() && skips_in_flight_.empty(); }
  /// True when a DATA frame waits to be sent or re-sent.
  bool has_pending() const noexcept { return peek().has_value(); }
  /// The chunk with `sequence`, if it is still held.
  const Chunk* find(std::uint64_t sequence) const noexcept;

 private:
  struct Unsent {
    std::vector<std::byte> bytes;
    std::size_t chunk_size = 0;  // of its fragments
    std::uint32_t count = 1;     // fragments
    MessageOptions options;
    std::span<const std::byte> piece(std::uint32_t index) const noexcept {
      const std::size_t offset = index * chunk_size;
      return std::span(bytes).subspan(offset, std::min(chunk_size, bytes.size() - offset));
    }
  };
  // A reliable message under way with a deadline, a re-send limit or a receipt.
  struct Tracked {
    std::optional<Instant> deadline;
    std::optional<unsigned> max_retransmits;
    std::optional<ReceiptId> receipt;
    std::uint32_t count = 1;
    std::uint32_t unacked = 0;
    std::uint64_t cost = 0;
  };

  Chunk* find(std::uint64_t sequence) noexcept;
  const Chunk* next_resend() const noexcept;
  bool reliable_room(std::uint32_t count) const noexcept;
  void start_reliable(Unsent& message);
  void abandon(std::uint64_t first, Receipts& receipts, ReceiptOutcome outcome);
  void mark_acked(Chunk& chunk) noexcept;
  void pop_acked() noexcept;

  ChannelId channel_;
  std::size_t buffered_ = 0;
  Ring<Unsent> unsent_;

  // The reliable space: chunks_[i].sequence == first_sequence_ + i.
  Ring<Chunk> chunks_;
  std::uint64_t first_sequence_ = 0;
  std::uint64_t next_sequence_ = 0;   // given to the next chunk started
  std::size_t next_new_ = 0;          // index of the first never-sent chunk
  Ring<std::uint64_t> resend_;  // sequences to re-send, oldest loss first
  std::unordered_map<std::uint64_t, Tracked> tracked_;  // by the message's first sequence
  Ring<wire::SkipFrame> pending_skips_;
  std::vector<std::uint64_t> skips_in_flight_;  // first sequences of SKIPs not yet acknowledged

  // The unreliable space: the message at unsent_.front() is under way when
  // unreliable_fragment_ > 0. The bytes of the last message that left the
  // unsent queue are kept until the next change, so the payload of the
  // frame that took it out stays readable; then they are freed, not just
  // cleared, so an idle connection holds no copy of its last message.
  std::uint64_t next_unreliable_ = 0;
  std::uint32_t unreliable_fragment_ = 0;
  std::vector<std::byte> retired_;
};

}  // namespace rudp::core
