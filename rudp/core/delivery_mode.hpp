// SPDX-License-Identifier: MIT
// What the core asks of a delivery mode, in one place for the connection and
// the send queue.
#pragma once

#include "rudp/types.hpp"

namespace rudp::core {

/// True for the modes whose chunks are acknowledged and re-sent until they arrive.
inline bool reliable(DeliveryMode mode) noexcept {
  return mode == DeliveryMode::reliable_ordered || mode == DeliveryMode::reliable_unordered;
}

}  // namespace rudp::core
