// SPDX-License-Identifier: MIT
// The bytes live on the heap of the whole test process, counted exactly.
// Without a sanitizer the rudp::asio test executable replaces the global
// operator new and delete (live_heap.cpp) to add up the blocks live through
// them (rudp and asio allocate only through operator new); glibc's mallinfo2
// would also count freed blocks parked in its per-thread caches, which come
// and go with the allocation pattern. Under AddressSanitizer, whose own
// operator new checks that each block is freed the way it was allocated, the
// sanitizer's allocator counts instead.
#pragma once

#include <cstddef>

namespace rudp::test {

std::size_t live_heap_bytes() noexcept;

}  // namespace rudp::test
