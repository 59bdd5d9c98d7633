// SPDX-License-Identifier: MIT
// XXH3 comes inlined from Debian's xxhash.h, so rudp carries no link
// dependency on libxxhash and the hash can be inlined into this one call.
#include "rudp/wire/checksum.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace rudp::wire {

std::uint32_t checksum(std::span<const std::byte> bytes) noexcept {
  return static_cast<std::uint32_t>(XXH3_64bits(bytes.data(), bytes.size()));
}

}  // namespace rudp::wire
