// SPDX-License-Identifier: MIT
#include "heap_counter.hpp"

#if defined(__SANITIZE_ADDRESS__)
// From the sanitizer runtime; g++ does not ship the header that declares it.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#else
#include <malloc.h>
#endif

namespace rudp::test {

std::size_t live_heap_bytes() noexcept {
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
#endif
}

}  // namespace rudp::test
