// SPDX-License-Identifier: MIT
// Hard bounds of the wire format. The parser checks every count, length and
// value against these before using it, so no datagram can make rudp allocate,
// loop or index beyond them. rudp/wire/WIRE.md quotes each one.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rudp::wire {

/// The protocol version this build speaks, carried in handshake headers.
inline constexpr std::uint32_t kVersion = 1;

/// Largest value a varint can carry (62 bits, as in QUIC).
inline constexpr std::uint64_t kMaxVarint = (std::uint64_t{1} << 62) - 1;
/// Largest packet number; packet numbers are never reused, so a connection ends before this.
inline constexpr std::uint64_t kMaxPacketNumber = kMaxVarint;

/// Smallest datagram size a peer may declare: the IPv6 minimum MTU less IP and UDP headers, as QUIC.
inline constexpr std::uint64_t kMinDatagramSize = 1200;
/// Largest UDP payload (IPv6 without jumbograms); the parser rejects anything longer.
inline constexpr std::size_t kMaxDatagramSize = 65527;

/// Total ranges (first range included) one ACK frame may carry.
inline constexpr std::uint64_t kMaxAckRanges = 256;
/// Largest ack delay, in units of kAckDelayUnitMicros (about 134 seconds).
inline constexpr std::uint64_t kMaxAckDelay = (std::uint64_t{1} << 24) - 1;
/// The ack delay field counts units of this many microseconds.
inline constexpr std::uint64_t kAckDelayUnitMicros = 8;

/// Most fragments one message may be split into (16 MiB of 1 KiB fragments).
inline constexpr std::uint64_t kMaxFragmentCount = 16384;
/// A reliable chunk's sequence number lies less than this far beyond the
/// first chunk of its channel the receiver is still missing; the sender
/// waits rather than go further, so a receiver's record of what arrived
/// beyond a gap stays bounded.
inline constexpr std::uint64_t kMaxReliableSpan = 2 * kMaxFragmentCount;

/// Longest handshake cookie, in bytes.
inline constexpr std::uint64_t kMaxCookieSize = 64;
/// Longest close or reset reason, in bytes.
inline constexpr std::uint64_t kMaxReasonLength = 256;
/// Longest idle timeout a peer may declare, in milliseconds (one hour).
inline constexpr std::uint64_t kMaxIdleTimeoutMillis = 3'600'000;

}  // namespace rudp::wire
