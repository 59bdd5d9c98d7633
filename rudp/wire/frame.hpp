// SPDX-License-Identifier: MIT
// Frames: the units a packet carries (rudp/wire/WIRE.md §3). Decoded frames
// are views into the datagram they came from (payloads, reasons, cookies and
// ACK ranges are spans), so decoding never allocates or copies; they are valid
// as long as that datagram's bytes are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <variant>

#include "rudp/errc.hpp"
#include "rudp/types.hpp"
#include "rudp/wire/buffer.hpp"

namespace rudp::wire {

/// The type byte of every frame but DATA, which uses 0x80-0x9f (data_flag).
/// 0x0a-0x7f are reserved for later frames, and 0xa0-0xff are DATA with a
/// reserved flag set: unknown_frame today.
enum class FrameType : std::uint8_t {
  padding = 0x00,
  ping = 0x01,
  ack = 0x02,
  credit = 0x03,
  close = 0x04,
  reset = 0x05,
  syn = 0x06,
  syn_ack = 0x07,
  cookie_ack = 0x08,
  skip = 0x09,
};

/// Bits of a DATA frame's type byte.
namespace data_flag {
inline constexpr std::uint8_t kType = 0x80;      ///< set on every DATA frame
inline constexpr std::uint8_t kLength = 0x01;    ///< a length varint precedes the payload
inline constexpr std::uint8_t kChannel = 0x02;   ///< a channel byte is present (else channel 0)
inline constexpr std::uint8_t kFragment = 0x04;  ///< fragment index and count are present
inline constexpr std::uint8_t kModeShift = 3;    ///< two bits: the DeliveryMode
inline constexpr std::uint8_t kModeMask = 0x18;
inline constexpr std::uint8_t kReserved = 0x60;  ///< must be zero in this version
}  // namespace data_flag

/// A run of zero bytes. Consecutive padding always decodes as one frame.
struct PaddingFrame {
  std::size_t length = 1;
  friend bool operator==(const PaddingFrame&, const PaddingFrame&) = default;
};

/// Asks for an acknowledgement; carries nothing.
struct PingFrame {
  friend bool operator==(const PingFrame&, const PingFrame&) = default;
};

/// Acknowledged packet numbers [smallest, largest], both inclusive.
struct AckRange {
  std::uint64_t smallest = 0;
  std::uint64_t largest = 0;
  friend bool operator==(const AckRange&, const AckRange&) = default;
};

/// The ranges of a decoded ACK frame, in descending order, decoded lazily from
/// bytes the parser has already validated.
class AckRanges {
 public:
  class iterator {
   public:
    using value_type = AckRange;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::input_iterator_tag;

    iterator() = default;
    const AckRange& operator*() const noexcept { return current_; }
    const AckRange* operator->() const noexcept { return &current_; }
    iterator& operator++() noexcept;
    iterator operator++(int) noexcept {
      auto old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.left_ == b.left_; }

   private:
    friend class AckRanges;
    iterator(std::span<const std::byte> gaps, AckRange first, std::uint64_t left) noexcept
        : reader_(gaps), current_(first), left_(left) {}
    Reader reader_{{}};
    AckRange current_{};
    std::uint64_t left_ = 0;  // ranges not yet stepped past, this one included
  };

  AckRanges() = default;
  /// `gaps` holds `count - 1` validated (gap, length) varint pairs after `first`.
  AckRanges(AckRange first, std::uint64_t count, std::span<const std::byte> gaps) noexcept
      : first_(first), count_(count), gaps_(gaps) {}

  std::uint64_t largest() const noexcept { return first_.largest; }
  std::uint64_t size() const noexcept { return count_; }
  iterator begin() const noexcept { return {gaps_, first_, count_}; }
  iterator end() const noexcept { return {}; }

  friend bool operator==(const AckRanges& a, const AckRanges& b) noexcept;

 private:
  AckRange first_{};
  std::uint64_t count_ = 1;
  std::span<const std::byte> gaps_;
};

/// Acknowledges packets by ranges (selective ACK).
struct AckFrame {
  /// Time between receiving the largest acknowledged packet and sending this
  /// ACK, in units of kAckDelayUnitMicros.
  std::uint64_t ack_delay = 0;
  AckRanges ranges;
  friend bool operator==(const AckFrame&, const AckFrame&) = default;
};

/// Flow control: the sender may send DATA payload bytes up to this total.
struct CreditFrame {
  std::uint64_t limit = 0;
  friend bool operator==(const CreditFrame&, const CreditFrame&) = default;
};

/// Graceful close of the sender's direction (FIN): all its data has been
/// acknowledged and it will send no more. Acknowledged like data.
struct CloseFrame {
  std::uint64_t error_code = 0;  ///< the application's code; 0 is a normal close
  std::span<const std::byte> reason;
  friend bool operator==(const CloseFrame& a, const CloseFrame& b) noexcept;
};

/// Abortive close: the connection is gone, nothing is acknowledged.
struct ResetFrame {
  std::uint64_t error_code = 0;
  std::span<const std::byte> reason;
  friend bool operator==(const ResetFrame& a, const ResetFrame& b) noexcept;
};

/// What each side declares in the handshake.
struct HandshakeParams {
  std::uint64_t max_datagram_size = kMinDatagramSize;  ///< largest datagram it accepts
  std::uint64_t initial_credit = 0;                    ///< DATA payload bytes the peer may send at first
  std::uint64_t idle_timeout_ms = 0;                   ///< 0: no idle timeout
  friend bool operator==(const HandshakeParams&, const HandshakeParams&) = default;
};

/// The client's first packet (its source connection id is in the header).
struct SynFrame {
  HandshakeParams params;
  friend bool operator==(const SynFrame&, const SynFrame&) = default;
};

/// The server's answer, with a cookie the client must echo.
struct SynAckFrame {
  HandshakeParams params;
  std::span<const std::byte> cookie;
  friend bool operator==(const SynAckFrame& a, const SynAckFrame& b) noexcept;
};

/// The client's echo of the cookie, repeating its parameters, since the
/// server kept nothing of its SYN.
struct CookieAckFrame {
  HandshakeParams params;
  std::span<const std::byte> cookie;
  friend bool operator==(const CookieAckFrame& a, const CookieAckFrame& b) noexcept;
};

/// Application payload: a whole message or one fragment of it.
struct DataFrame {
  DeliveryMode mode = DeliveryMode::unreliable;
  std::uint8_t channel = 0;
  /// Reliable modes: the chunk's number in the channel's reliable sequence
  /// space (one per fragment, consecutive within a message). Unreliable
  /// modes: the message's number on its channel, shared by its fragments;
  /// absent on the wire (and 0 here) for an unfragmented unreliable message.
  std::uint64_t sequence = 0;
  std::uint32_t fragment_index = 0;
  std::uint32_t fragment_count = 1;  ///< 1: the message is not fragmented
  /// Whether the payload length is on the wire; without it the payload runs
  /// to the end of the packet, so the frame must be the last one.
  bool explicit_length = true;
  std::span<const std::byte> payload;
  friend bool operator==(const DataFrame& a, const DataFrame& b) noexcept;
};

/// Abandons reliable chunks [sequence, sequence + count) of `channel`: the
/// sender will never send them again (their message passed its deadline or
/// ran out of re-sends), so the receiver delivers around them. `cost` is the
/// flow-control credit (WIRE.md 3.2) the sender charged for them, so both
/// sides' credit accounting stays in step. Acknowledged and re-sent like data.
struct SkipFrame {
  std::uint8_t channel = 0;
  std::uint64_t sequence = 0;
  std::uint64_t count = 1;
  std::uint64_t cost = 0;
  friend bool operator==(const SkipFrame&, const SkipFrame&) = default;
};

using Frame = std::variant<PaddingFrame, PingFrame, AckFrame, CreditFrame, CloseFrame, ResetFrame, SynFrame,
                           SynAckFrame, CookieAckFrame, DataFrame, SkipFrame>;

/// Whether a DATA frame carries a sequence number on the wire.
constexpr bool has_sequence(DeliveryMode mode, std::uint32_t fragment_count) noexcept {
  return mode != DeliveryMode::unreliable || fragment_count > 1;
}

/// Bytes encode_frame writes for `frame`, so a sender can decide before
/// writing whether it fits and whether it is the packet's last frame.
std::size_t data_frame_size(const DataFrame& frame) noexcept;

/// Decodes one frame at the reader's position into `out`. Returns errc{} on
/// success; otherwise truncated, bad_varint, non_canonical, unknown_frame or
/// field_out_of_range, and `out` is unspecified.
errc decode_frame(Reader& reader, Frame& out) noexcept;

/// Appends `frame`'s canonical encoding. An AckFrame is written from its ranges.
/// Returns false (and the writer is no longer ok()) when it does not fit.
bool encode_frame(Writer& writer, const Frame& frame) noexcept;

/// Appends an ACK frame for `ranges`: AckRange values in strictly descending,
/// non-adjacent order, at most kMaxAckRanges of them (an invariant of the caller).
template <class Ranges>
bool write_ack_frame(Writer& writer, std::uint64_t ack_delay, const Ranges& ranges) noexcept {
  std::uint64_t count = 0;
  for ([[maybe_unused]] const AckRange& r : ranges) ++count;
  RUDP_ASSERT(count >= 1 && count <= kMaxAckRanges && ack_delay <= kMaxAckDelay);
  auto it = std::begin(ranges);
  const AckRange first = *it;
  RUDP_ASSERT(first.smallest <= first.largest);
  writer.u8(static_cast<std::uint8_t>(FrameType::ack));
  writer.varint(first.largest);
  writer.varint(ack_delay);
  writer.varint(count - 1);
  writer.varint(first.largest - first.smallest);
  std::uint64_t previous_smallest = first.smallest;
  for (++it; it != std::end(ranges); ++it) {
    const AckRange r = *it;
    RUDP_ASSERT(r.smallest <= r.largest && r.largest + 2 <= previous_smallest);
    writer.varint(previous_smallest - r.largest - 2);
    writer.varint(r.largest - r.smallest);
    previous_smallest = r.smallest;
  }
  return writer.ok();
}

}  // namespace rudp::wire
