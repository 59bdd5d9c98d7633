// SPDX-License-Identifier: MIT
// What connection.cpp and connection_output.cpp share; private to the two.
#pragma once

#include "rudp/types.hpp"

namespace rudp::core {

inline bool reliable(DeliveryMode mode) noexcept {
  return mode == DeliveryMode::reliable_ordered || mode == DeliveryMode::reliable_unordered;
}

}  // namespace rudp::core
