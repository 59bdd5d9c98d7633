// SPDX-License-Identifier: MIT
// The packet checksum: the low 32 bits of XXH3-64 (seed 0) over every byte of
// the packet before the checksum field. It catches corruption, not forgery.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace rudp::wire {

/// Bytes the checksum takes at the end of every packet.
inline constexpr std::size_t kChecksumSize = 4;

/// The checksum of `bytes`.
std::uint32_t checksum(std::span<const std::byte> bytes) noexcept;

}  // namespace rudp::wire
