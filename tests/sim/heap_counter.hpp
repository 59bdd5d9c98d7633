// SPDX-License-Identifier: MIT
// Counts the bytes the whole test program holds on the heap, by replacing
// the global operator new and delete (in heap_counter.cpp), so a test can
// show that some input does not make rudp allocate.
#pragma once

#include <cstddef>

namespace rudp::test {

/// Bytes currently allocated through operator new and not yet deleted.
std::size_t live_heap_bytes() noexcept;

}  // namespace rudp::test
