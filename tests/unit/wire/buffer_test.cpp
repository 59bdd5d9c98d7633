// SPDX-License-Identifier: MIT
#include "rudp/wire/buffer.hpp"

#include <array>
#include <catch2/catch.hpp>

using namespace rudp;
using namespace rudp::wire;

TEST_CASE("varint sizes at every length boundary", "[wire]") {
  CHECK(varint_size(0) == 1);
  CHECK(varint_size(63) == 1);
  CHECK(varint_size(64) == 2);
  CHECK(varint_size(16383) == 2);
  CHECK(varint_size(16384) == 4);
  CHECK(varint_size((1u << 30) - 1) == 4);
  CHECK(varint_size(1u << 30) == 8);
  CHECK(varint_size(kMaxVarint) == 8);
}
