// SPDX-License-Identifier: MIT
// Time as the core sees it: a chrono clock with nanosecond ticks and no now().
// The core cannot read a clock because this one has nothing to read; its
// driver passes the current Instant in. The asio runtime converts from
// std::chrono::steady_clock, the simulator steps a virtual clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace rudp {

/// A clock with no now(): every Instant the core sees was handed to it.
struct Clock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<Clock>;
  static constexpr bool is_steady = true;
};

/// A point in time, nanoseconds since the driver's epoch.
using Instant = Clock::time_point;
/// A span of time, in nanoseconds.
using Duration = Clock::duration;

}  // namespace rudp
