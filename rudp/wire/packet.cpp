// SPDX-License-Identifier: MIT
#include "rudp/wire/packet.hpp"

#include <algorithm>
#include <variant>

namespace rudp::wire {
namespace {

// The part of `out` that frames may fill: all but the checksum, and never so
// much that the packet would outgrow kMaxDatagramSize, which parse_packet rejects.
std::span<std::byte> frame_space(std::span<std::byte> out) noexcept {
  const std::size_t usable = std::min(out.size(), kMaxDatagramSize);
  return out.first(usable >= kChecksumSize ? usable - kChecksumSize : 0);
}

}  // namespace

FrameRange::iterator& FrameRange::iterator::operator++() noexcept {
  if (reader_.empty()) {
    done_ = true;
  } else {
    // parse_packet has already decoded these bytes once without error.
    const errc e = decode_frame(reader_, frame_);
    RUDP_ASSERT(e == errc{});
  }
  return *this;
}

Result<Packet> parse_packet(std::span<const std::byte> datagram) noexcept {
  if (datagram.size() > kMaxDatagramSize) return errc::field_out_of_range;
  if (datagram.size() < kMinPacketSize) return errc::truncated;

  const auto body = datagram.first(datagram.size() - kChecksumSize);
  Reader trailer(datagram.last(kChecksumSize));
  std::uint32_t expected = 0;
  trailer.u32(expected);
  if (checksum(body) != expected) return errc::checksum_mismatch;

  Reader r(body);
  Packet packet;
  Header& h = packet.header;
  std::uint8_t first = 0;
  r.u8(first);
  if (first & header_bits::kReserved) return errc::field_out_of_range;
  h.number.length = static_cast<std::uint8_t>((first & header_bits::kNumberLength) + 1);
  if (first & header_bits::kHandshake) {
    h.form = HeaderForm::handshake;
    if (!r.u32(h.version)) return r.error();
    if (h.version != kVersion) return errc::unsupported_version;
    if (!r.u32(h.destination.value) || !r.u32(h.source.value)) return r.error();
  } else {
    h.form = HeaderForm::data;
    h.version = kVersion;
    if (!r.u32(h.destination.value)) return r.error();
  }
  if (!r.uint(h.number.length, h.number.value)) return r.error();

  packet.payload = body.subspan(r.position());
  if (packet.payload.empty()) return errc::truncated;
  Frame frame;
  while (!r.empty()) {
    if (const errc e = decode_frame(r, frame); e != errc{}) return e;
    packet.ack_eliciting = packet.ack_eliciting || !(std::holds_alternative<AckFrame>(frame) ||
                                                     std::holds_alternative<PaddingFrame>(frame));
    packet.closes = packet.closes || std::holds_alternative<CloseFrame>(frame);
  }
  return packet;
}

PacketWriter::PacketWriter(std::span<std::byte> out, const Header& header) noexcept
    : out_(out), writer_(frame_space(out)) {
  RUDP_ASSERT(header.number.length >= 1 && header.number.length <= 4);
  auto first = static_cast<std::uint8_t>(header.number.length - 1);
  if (header.form == HeaderForm::handshake) first |= header_bits::kHandshake;
  writer_.u8(first);
  if (header.form == HeaderForm::handshake) {
    writer_.u32(header.version);
    writer_.u32(header.destination.value);
    writer_.u32(header.source.value);
  } else {
    writer_.u32(header.destination.value);
  }
  writer_.uint(header.number.length, header.number.value);
  header_end_ = writer_.position();
}

Result<std::size_t> PacketWriter::finish() noexcept {
  if (!writer_.ok()) return errc::buffer_too_small;
  if (writer_.position() == header_end_) return errc::truncated;
  const std::size_t size = writer_.position();
  Writer trailer(out_.subspan(size, kChecksumSize));
  trailer.u32(checksum(writer_.written()));
  return size + kChecksumSize;
}

}  // namespace rudp::wire
