// SPDX-License-Identifier: MIT
// live_heap_bytes() (live_heap.hpp): the sanitizer's count under
// AddressSanitizer, otherwise the global operator new and delete, replaced
// here for the whole executable.
#include "live_heap.hpp"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define RUDP_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RUDP_TEST_ASAN 1
#endif
#endif

#if defined(RUDP_TEST_ASAN)
// From the sanitizer runtime; g++ does not ship the header that declares it.
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
std::size_t rudp::test::live_heap_bytes() noexcept { return __sanitizer_get_current_allocated_bytes(); }
#else
namespace {
std::atomic<std::size_t> g_live_new_bytes{0};
}  // namespace

std::size_t rudp::test::live_heap_bytes() noexcept { return g_live_new_bytes.load(std::memory_order_relaxed); }

// libstdc++'s other forms of new and delete (arrays, nothrow, sized) call
// these; its aligned forms use aligned_alloc and free, uncounted and never
// mixed with these.
void* operator new(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  g_live_new_bytes.fetch_add(malloc_usable_size(p), std::memory_order_relaxed);
  return p;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  g_live_new_bytes.fetch_sub(malloc_usable_size(p), std::memory_order_relaxed);
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept { ::operator delete(p); }
#endif
