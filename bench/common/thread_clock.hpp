// SPDX-License-Identifier: MIT
// The CPU time a thread has used, for the benchmarks that report CPU per
// message beside wall-clock rates.
#pragma once

#include <pthread.h>

#include <ctime>
#include <thread>

namespace rudp::bench {

/// Seconds of CPU `t` has used so far; 0 if the system cannot tell.
inline double thread_cpu_seconds(std::thread& t) {
  ::clockid_t clock;
  if (::pthread_getcpuclockid(t.native_handle(), &clock) != 0) return 0;
  ::timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace rudp::bench
