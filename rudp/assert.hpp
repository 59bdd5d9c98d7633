// SPDX-License-Identifier: MIT
// RUDP_ASSERT checks rudp's own invariants, in every build type. It is never
// used on values a peer controls: those are validated and rejected instead.
#pragma once

#include <cstdio>
#include <cstdlib>

#define RUDP_ASSERT(cond)                                                                       \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::fprintf(stderr, "%s:%d: rudp invariant violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                             \
    }                                                                                           \
  } while (false)
