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

/// The fewest packet number bytes rudp sends. RFC 9000 sizes the number from
/// the distance to the largest acknowledged alone and relies on the AEAD to
/// reject a packet decoded to the wrong number; rudp's checksum covers only
/// the bytes sent, so a 1-byte number overtaken by 128 newer packets (a few
/// milliseconds of reordering at 100 Mbit/s) would be taken for another packet,
/// and its ACK would vouch for frames that never arrived. Two bytes tolerate
/// 32,768 packets of reordering.
inline constexpr std::uint8_t kMinSentNumberLength = 2;

/// Truncates `number` to the fewest bytes, at least `min_length`, that let a
/// receiver who has seen up to `largest_acked` (nullopt: nothing acknowledged
/// yet) recover it: enough for twice the distance between them.
TruncatedPacketNumber truncate_packet_number(std::uint64_t number, std::optional<std::uint64_t> largest_acked,
                                             std::uint8_t min_length = 1) noexcept;

/// The full packet number nearest to `largest_received + 1` (0 when nothing
/// has been received) whose low bytes are `truncated`.
std::uint64_t decode_packet_number(std::optional<std::uint64_t> largest_received,
                                   TruncatedPacketNumber truncated) noexcept;

}  // namespace rudp::wire
