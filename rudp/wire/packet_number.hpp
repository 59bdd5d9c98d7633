// SPDX-License-Identifier: MIT
// Packet number truncation and reconstruction (RFC 9000 appendix A.2, A.3).
// A sender puts only the low 1 to 4 bytes of a packet number on the wire, as
// many as needed to stay unambiguous given what the peer has acknowledged; the
// receiver recovers the full number as the one nearest the next it expects.
#pragma once

#include <cstdint>
#include <optional>

namespace rudp::wire {

/// The low `length` bytes of a packet number, as sent.
struct TruncatedPacketNumber {
  std::uint32_t value = 0;
  std::uint8_t length = 1;  ///< 1 to 4 bytes
  friend constexpr bool operator==(TruncatedPacketNumber, TruncatedPacketNumber) = default;
};

/// Truncates `number` to the fewest bytes that let a receiver who has seen up
/// to `largest_acked` (nullopt: nothing acknowledged yet) recover it: enough
/// for twice the distance between them.
TruncatedPacketNumber truncate_packet_number(std::uint64_t number,
                                             std::optional<std::uint64_t> largest_acked) noexcept;

/// The full packet number nearest to `largest_received + 1` (0 when nothing
/// has been received) whose low bytes are `truncated`.
std::uint64_t decode_packet_number(std::optional<std::uint64_t> largest_received,
                                   TruncatedPacketNumber truncated) noexcept;

}  // namespace rudp::wire
