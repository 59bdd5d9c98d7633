// SPDX-License-Identifier: MIT
// Fuzz target: any bytes through rudp::wire::parse_packet, which must reject
// them cleanly or accept them; an accepted packet then has all its frames and
// all the ranges of its ACK frames decoded, which is where the lazy decoders
// trust the parser's validation. A random mutation almost never keeps the
// 32-bit checksum right, so each input is parsed twice: as given (to reach the
// size and checksum checks) and with its last four bytes replaced by the right
// checksum (to reach the header and frame decoders behind them). A crash,
// sanitizer report or broken ACK range invariant is a finding.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "rudp/wire/checksum.hpp"
#include "rudp/wire/frame.hpp"
#include "rudp/wire/packet.hpp"

namespace {

using namespace rudp::wire;

// The ranges must come out as the parser promised: as many as counted,
// starting at largest(), each well-formed, descending with a gap of at least
// one unacknowledged packet between neighbours.
void check_ack_ranges(const AckRanges& ranges) {
  std::uint64_t count = 0;
  std::uint64_t previous_smallest = 0;
  for (const AckRange& range : ranges) {
    if (range.smallest > range.largest) __builtin_trap();
    if (count == 0 ? range.largest != ranges.largest() : range.largest + 2 > previous_smallest) __builtin_trap();
    previous_smallest = range.smallest;
    ++count;
  }
  if (count != ranges.size()) __builtin_trap();
}

void parse_and_walk(std::span<const std::byte> datagram) {
  const auto packet = parse_packet(datagram);
  if (!packet) return;
  for (const Frame& frame : packet->frames()) {
    if (const auto* ack = std::get_if<AckFrame>(&frame)) check_ack_ranges(ack->ranges);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = std::as_bytes(std::span(data, size));
  parse_and_walk(input);
  if (size < kChecksumSize) return 0;

  std::vector<std::byte> sealed(input.begin(), input.end());
  const auto body = std::span<const std::byte>(sealed).first(size - kChecksumSize);
  Writer trailer{std::span(sealed).last(kChecksumSize)};
  trailer.u32(checksum(body));
  if (!std::ranges::equal(sealed, input)) parse_and_walk(sealed);
  return 0;
}
