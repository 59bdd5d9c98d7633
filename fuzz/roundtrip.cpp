// SPDX-License-Identifier: MIT
// Fuzz target: a decode-encode-decode differential check of the packet codec.
// The codec is canonical, one byte sequence per value, so any datagram that
// parse_packet accepts must come back byte for byte when its header and frames
// are written again with PacketWriter and encode_frame, and parsing those bytes
// must give an equal header and equal frames. The input's last four bytes are
// first replaced by the right checksum, since a random mutation almost never
// keeps it right (parse_packet's own target covers the checksum check). Any
// difference prints what differed and traps, so it is a finding.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <vector>

#include "rudp/wire/checksum.hpp"
#include "rudp/wire/frame.hpp"
#include "rudp/wire/packet.hpp"

namespace {

using namespace rudp::wire;

[[noreturn]] void mismatch(const char* what) {
  std::fprintf(stderr, "roundtrip mismatch: %s\n", what);
  __builtin_trap();
}

bool same_frames(const Packet& a, const Packet& b) {
  auto ib = b.frames().begin();
  for (const Frame& frame : a.frames()) {
    if (ib == b.frames().end() || !(frame == *ib)) return false;
    ++ib;
  }
  return ib == b.frames().end();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < kChecksumSize) return 0;
  std::vector<std::byte> datagram(size);
  std::ranges::copy(std::as_bytes(std::span(data, size)), datagram.begin());
  const auto body = std::span<const std::byte>(datagram).first(size - kChecksumSize);
  Writer trailer{std::span(datagram).last(kChecksumSize)};
  trailer.u32(checksum(body));

  const auto packet = parse_packet(datagram);
  if (!packet) return 0;

  // Exactly the input's size: a longer encoding then fails to fit, and ASan
  // sees any write past it.
  std::vector<std::byte> encoded(size);
  PacketWriter writer(encoded, packet->header);
  for (const Frame& frame : packet->frames()) {
    if (!encode_frame(writer.frames(), frame)) mismatch("a frame does not fit in the input's size");
  }
  const auto encoded_size = writer.finish();
  if (!encoded_size) mismatch("PacketWriter::finish failed");
  if (*encoded_size != size) mismatch("the encoding has a different size");
  if (!std::ranges::equal(encoded, datagram)) mismatch("the encoding has different bytes");

  const auto reparsed = parse_packet(encoded);
  if (!reparsed) mismatch("the encoding does not parse");
  if (!(reparsed->header == packet->header)) mismatch("the headers differ");
  if (!same_frames(*packet, *reparsed)) mismatch("the frames differ");
  return 0;
}
