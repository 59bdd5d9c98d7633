// SPDX-License-Identifier: MIT
// How many bytes the test program holds on the heap, from the allocator's own
// books, so a test can show that some input does not make rudp allocate.
#pragma once

#include <cstddef>

namespace rudp::test {

/// Bytes currently allocated and not yet freed, as the allocator counts them
/// (glibc's, or AddressSanitizer's in a sanitized build).
std::size_t live_heap_bytes() noexcept;

}  // namespace rudp::test
