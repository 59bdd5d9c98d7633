// SPDX-License-Identifier: MIT
// Packets: a header, frames, and a 32-bit checksum (rudp/wire/WIRE.md §2).
// parse_packet validates a whole datagram, checksum and every frame, before
// anyone acts on any of it, so a malformed datagram is dropped whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "rudp/result.hpp"
#include "rudp/types.hpp"
#include "rudp/wire/buffer.hpp"
#include "rudp/wire/checksum.hpp"
#include "rudp/wire/frame.hpp"
#include "rudp/wire/packet_number.hpp"

namespace rudp::wire {

/// The two header forms, told apart by the first byte's top bit.
enum class HeaderForm : std::uint8_t {
  handshake,  ///< version and both connection ids; used until the handshake completes
  data,       ///< destination connection id only
};

/// Bits of a header's first byte.
namespace header_bits {
inline constexpr std::uint8_t kHandshake = 0x80;     ///< set: handshake form
inline constexpr std::uint8_t kNumberLength = 0x03;  ///< packet number bytes, minus one
inline constexpr std::uint8_t kReserved = 0x7c;      ///< must be zero in this version
}  // namespace header_bits

struct Header {
  HeaderForm form = HeaderForm::data;
  std::uint32_t version = kVersion;  ///< handshake form only
  ConnectionId destination;
  ConnectionId source;  ///< handshake form only
  TruncatedPacketNumber number;
  friend bool operator==(const Header&, const Header&) = default;
};

/// Bytes `header` takes on the wire.
constexpr std::size_t header_size(const Header& header) noexcept {
  return (header.form == HeaderForm::handshake ? std::size_t{13} : std::size_t{5}) + header.number.length;
}

/// The smallest packet: a data header with a 1-byte packet number, a 1-byte
/// frame and the checksum.
inline constexpr std::size_t kMinPacketSize = 1 + 4 + 1 + 1 + kChecksumSize;

/// The frames of a validated packet, decoded one at a time as iterated. A
/// frame reference is valid only until the iterator advances: copy what
/// must outlive it (the spans inside point into the datagram, not the iterator).
class FrameRange {
 public:
  class iterator {
   public:
    using value_type = Frame;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::input_iterator_tag;

    iterator() = default;
    const Frame& operator*() const noexcept { return frame_; }
    const Frame* operator->() const noexcept { return &frame_; }
    iterator& operator++() noexcept;
    void operator++(int) noexcept { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.done_ == b.done_; }

   private:
    friend class FrameRange;
    explicit iterator(std::span<const std::byte> bytes) noexcept : reader_(bytes), done_(false) { ++*this; }
    Reader reader_{{}};
    Frame frame_;
    bool done_ = true;
  };

  explicit FrameRange(std::span<const std::byte> bytes) noexcept : bytes_(bytes) {}
  iterator begin() const noexcept { return iterator(bytes_); }
  iterator end() const noexcept { return {}; }

 private:
  std::span<const std::byte> bytes_;
};

/// A datagram that parsed and checked; its views point into that datagram.
struct Packet {
  Header header;
  std::span<const std::byte> payload;  ///< the frames, at least one, all valid
  bool ack_eliciting = false;          ///< a frame other than ACK and PADDING: the receiver owes an ACK
  bool closes = false;                 ///< a CLOSE frame: the sender's FIN
  FrameRange frames() const noexcept { return FrameRange(payload); }
};

/// Parses and validates `datagram`: its size, checksum, header and every
/// frame. Errors: field_out_of_range (too long, reserved bits, a field over
/// its bound), truncated, checksum_mismatch, unsupported_version, bad_varint,
/// non_canonical, unknown_frame.
Result<Packet> parse_packet(std::span<const std::byte> datagram) noexcept;

/// Builds one packet in a caller-owned buffer: the header on construction,
/// then frames through frames(), then finish() seals it with the checksum.
class PacketWriter {
 public:
  /// Writes `header` at the start of `out`, keeping kChecksumSize bytes free at the
  /// end; the packet never grows past kMaxDatagramSize, however large `out` is.
  PacketWriter(std::span<std::byte> out, const Header& header) noexcept;

  /// Where frames are written; what does not fit leaves it not ok().
  Writer& frames() noexcept { return writer_; }

  /// Appends the checksum and returns the packet's size; buffer_too_small
  /// if the header or a frame did not fit, truncated if no frame was written.
  Result<std::size_t> finish() noexcept;

 private:
  std::span<std::byte> out_;
  Writer writer_;
  std::size_t header_end_ = 0;
};

}  // namespace rudp::wire
