// SPDX-License-Identifier: MIT
// The receiver's delivered messages, of every channel, waiting to be read in
// the order they became ready, and the flow-control credit they hold. A
// reliable message holds the credit its chunks cost until it is read, so the
// credit granted bounds the memory a peer can fill; unreliable messages take
// no credit and are bounded by their own byte limit instead (when it is
// reached, newer ones are dropped and counted).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "rudp/message.hpp"
#include "rudp/result.hpp"
#include "rudp/core/ring.hpp"

namespace rudp::core {

/// A whole message, ready to read.
struct Delivered {
  std::vector<std::byte> bytes;
  ChannelId channel = 0;
  DeliveryMode mode = DeliveryMode::reliable_ordered;
  std::uint64_t cost = 0;  ///< credit released when it is read; 0 for unreliable messages
};

/// Bytes of bookkeeping each held unreliable message is charged against the
/// unreliable limit beyond its payload, so even empty messages are bounded.
inline constexpr std::size_t kDeliveredOverhead = 64;

class Inbox {
 public:
  /// `window`: credit granted beyond what has been read; `unreliable_limit`:
  /// bytes of unread unreliable messages held at most.
  Inbox(std::uint64_t window, std::size_t unreliable_limit) noexcept
      : window_(window), unreliable_limit_(unreliable_limit) {}

  // --- credit ------------------------------------------------------------

  /// The credit limit to advertise: all the peer may have sent, in chunk_cost units.
  std::uint64_t limit() const noexcept { return consumed_ + window_; }
  /// Credit the peer has used so far.
  std::uint64_t used() const noexcept { return used_; }
  /// Charges `cost` of credit; false (charging nothing) when it would pass the limit.
  bool charge(std::uint64_t cost) noexcept;
  /// Gives `cost` of charged credit back (what it paid for is gone).
  void release(std::uint64_t cost) noexcept { consumed_ += cost; }

  // --- messages ------------------------------------------------------------

  /// Queues a reliable message; its cost is released when it is read.
  void push(Delivered message);
  /// Queues an unreliable message; false (dropping it) when the unreliable limit is reached.
  bool push_unreliable(std::vector<std::byte> bytes, ChannelId channel, DeliveryMode mode);

  /// Copies up to out.size() bytes of ready messages, crossing message
  /// boundaries; returns how many (0 when nothing is ready).
  std::size_t read(std::span<std::byte> out);
  /// The next message, if one is ready (its size less what stream reads took).
  std::optional<MessageInfo> next() const noexcept;
  /// Copies the next whole message into `out` and returns its size (0 is a
  /// valid empty message). Errors: would_block when none is ready;
  /// buffer_too_small, keeping the message, when it does not fit.
  Result<std::size_t> read_message(std::span<std::byte> out);

  bool readable() const noexcept { return !ready_.empty(); }
  /// Payload bytes held (not yet read), for stats.
  std::size_t buffered_bytes() const noexcept { return buffered_; }

 private:
  void finish_read();

  std::uint64_t window_;
  std::uint64_t consumed_ = 0;  // credit released
  std::uint64_t used_ = 0;      // credit charged
  std::size_t unreliable_limit_;
  std::size_t unreliable_held_ = 0;
  Ring<Delivered> ready_;
  std::size_t read_offset_ = 0;  // into ready_.front(), for stream reads
  std::size_t buffered_ = 0;
};

}  // namespace rudp::core
