// SPDX-License-Identifier: MIT
// SipHash-2-4, the keyed pseudorandom function of Aumasson and Bernstein
// ("SipHash: a fast short-input PRF", 2012), written from the paper's
// description: a 128-bit key, 64-bit little-endian message words with the
// message length in the last word's top byte, two rounds per word, four
// finalization rounds, a 64-bit output. The core uses it as a short MAC
// (handshake cookies), never as a general-purpose hash.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace rudp::core {

/// A SipHash key: 16 bytes, read as two little-endian 64-bit words k0 and k1.
using SipKey = std::array<std::uint8_t, 16>;

/// SipHash-2-4 of `data` under `key`, as the paper defines it. The reference
/// implementation writes this value out least significant byte first.
std::uint64_t siphash24(const SipKey& key, std::span<const std::byte> data) noexcept;

}  // namespace rudp::core
