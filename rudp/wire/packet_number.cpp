// SPDX-License-Identifier: MIT
#include "rudp/wire/packet_number.hpp"

#include <algorithm>
#include <bit>

#include "rudp/assert.hpp"
#include "rudp/wire/limits.hpp"

namespace rudp::wire {

TruncatedPacketNumber truncate_packet_number(std::uint64_t number, std::optional<std::uint64_t> largest_acked,
                                             std::uint8_t min_length) noexcept {
  RUDP_ASSERT(min_length >= 1 && min_length <= 4);
  RUDP_ASSERT(number <= kMaxPacketNumber);
  RUDP_ASSERT(!largest_acked || *largest_acked < number);
  const std::uint64_t unacked = largest_acked ? number - *largest_acked : number + 1;
  // One bit more than the distance needs, so the receiver's window of half
  // the truncated range on either side of what it expects still contains it.
  const auto bits = static_cast<unsigned>(std::bit_width(unacked)) + 1;
  RUDP_ASSERT(bits <= 32);
  const auto length =
      std::max(min_length, static_cast<std::uint8_t>(bits <= 8 ? 1 : bits <= 16 ? 2 : bits <= 24 ? 3 : 4));
  const std::uint64_t mask = (std::uint64_t{1} << (8 * length)) - 1;
  return {static_cast<std::uint32_t>(number & mask), length};
}

std::uint64_t decode_packet_number(std::optional<std::uint64_t> largest_received,
                                   TruncatedPacketNumber truncated) noexcept {
  RUDP_ASSERT(truncated.length >= 1 && truncated.length <= 4);
  const std::uint64_t expected = largest_received ? *largest_received + 1 : 0;
  const std::uint64_t window = std::uint64_t{1} << (8 * truncated.length);
  const std::uint64_t half_window = window / 2;
  const std::uint64_t candidate = (expected & ~(window - 1)) | truncated.value;
  if (candidate + half_window <= expected && candidate < kMaxPacketNumber + 1 - window) {
    return candidate + window;
  }
  if (candidate > expected + half_window && candidate >= window) {
    return candidate - window;
  }
  return candidate;
}

}  // namespace rudp::wire
