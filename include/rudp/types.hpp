// SPDX-License-Identifier: MIT
// Small value types shared by the wire codec and the public API.
#pragma once

#include <compare>
#include <cstdint>

namespace rudp {

/// Identifies a connection at the endpoint that chose it. Zero means "none".
struct ConnectionId {
  std::uint32_t value = 0;
  friend constexpr auto operator<=>(ConnectionId, ConnectionId) = default;
};

/// A channel of a connection, 0-255. Each channel has its own sequence
/// numbers, so head-of-line blocking on one never delays another.
using ChannelId = std::uint8_t;

/// How a message is delivered. The numeric values are also the DATA frame's
/// two mode bits (rudp/wire/WIRE.md), so they never change.
enum class DeliveryMode : std::uint8_t {
  unreliable = 0,            ///< may be lost or reordered, never duplicated
  unreliable_sequenced = 1,  ///< may be lost; anything older than the newest delivered is dropped
  reliable_unordered = 2,    ///< exactly once, in any order
  reliable_ordered = 3,      ///< exactly once, in send order
};

}  // namespace rudp
