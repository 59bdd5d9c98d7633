// SPDX-License-Identifier: MIT
// Each block carries its size in a 16-byte prefix (keeping the alignment
// operator new promises), so delete can subtract what new added.
#include "heap_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

std::atomic<std::size_t> live{0};
constexpr std::size_t kPrefix = 16;

void* counted_new(std::size_t size) {
  void* block = std::malloc(size + kPrefix);
  if (!block) throw std::bad_alloc();
  *static_cast<std::size_t*>(block) = size;
  live += size;
  return static_cast<char*>(block) + kPrefix;
}

void counted_delete(void* p) noexcept {
  if (!p) return;
  void* block = static_cast<char*>(p) - kPrefix;
  live -= *static_cast<std::size_t*>(block);
  std::free(block);
}

}  // namespace

void* operator new(std::size_t size) { return counted_new(size); }
void* operator new[](std::size_t size) { return counted_new(size); }
void operator delete(void* p) noexcept { counted_delete(p); }
void operator delete[](void* p) noexcept { counted_delete(p); }
void operator delete(void* p, std::size_t) noexcept { counted_delete(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_delete(p); }

namespace rudp::test {

std::size_t live_heap_bytes() noexcept { return live.load(); }

}  // namespace rudp::test
