// SPDX-License-Identifier: MIT
// Unit tests of packet number truncation and reconstruction (RFC 9000
// appendix A.2 and A.3; rudp/wire/WIRE.md §2.4).
#include "rudp/wire/packet_number.hpp"

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <optional>

#include "rudp/wire/limits.hpp"
#include "wire_test_support.hpp"

using namespace rudp;
using namespace rudp::wire;
using rudp::wire::test::coin;
using rudp::wire::test::Rng;
using rudp::wire::test::test_seeds;
using rudp::wire::test::uniform;

namespace {

std::uint64_t window_of(std::uint8_t length) { return std::uint64_t{1} << (8 * length); }

TruncatedPacketNumber low_bytes(std::uint64_t number, std::uint8_t length) {
  return {static_cast<std::uint32_t>(number & (window_of(length) - 1)), length};
}

/// WIRE.md §2.4: the fewest bytes whose range is more than twice `distance`.
std::uint8_t expected_length(std::uint64_t distance) {
  std::uint8_t length = 1;
  while (window_of(length) <= 2 * distance) ++length;
  return length;
}

}  // namespace

TEST_CASE("packet number decoding follows RFC 9000 A.3's worked example", "[wire]") {
  CHECK(decode_packet_number(0xa82f30ea, {0x9b32, 2}) == 0xa82f9b32);
}

TEST_CASE("packet number truncation follows RFC 9000 A.2's examples", "[wire]") {
  // Acknowledged 0xabe8b3: 0xac5c02 is 29,519 ahead and needs 16 bits ...
  CHECK(truncate_packet_number(0xac5c02, 0xabe8b3) == TruncatedPacketNumber{0x5c02, 2});
  // ... and 0xace8fe is 65,611 ahead and needs 18 bits, so 24.
  CHECK(truncate_packet_number(0xace8fe, 0xabe8b3) == TruncatedPacketNumber{0xace8fe, 3});
  CHECK(decode_packet_number(0xabe8b3, {0x5c02, 2}) == 0xac5c02);
  CHECK(decode_packet_number(0xabe8b3, {0xace8fe, 3}) == 0xace8fe);
}

TEST_CASE("truncation uses the fewest bytes whose range is more than twice the distance", "[wire]") {
  // Distances on either side of each length change, from a fixed acknowledged number.
  const std::uint64_t distance = GENERATE(as<std::uint64_t>{}, 1, 2, 127, 128, 255, 256, (1 << 15) - 1, 1 << 15,
                                          (1 << 23) - 1, 1 << 23, (std::uint64_t{1} << 31) - 1);
  const std::uint64_t largest_acked = GENERATE(std::uint64_t{0}, 0xabe8b3, std::uint64_t{1} << 40,
                                               kMaxPacketNumber - (std::uint64_t{1} << 31));
  CAPTURE(distance, largest_acked);
  const std::uint64_t number = largest_acked + distance;
  const TruncatedPacketNumber t = truncate_packet_number(number, largest_acked);
  CHECK(t.length == expected_length(distance));
  CHECK(t == low_bytes(number, t.length));
  CHECK(decode_packet_number(largest_acked, t) == number);
}

TEST_CASE("with nothing acknowledged the distance counts from -1", "[wire]") {
  CHECK(truncate_packet_number(0, std::nullopt) == TruncatedPacketNumber{0, 1});
  CHECK(truncate_packet_number(126, std::nullopt) == TruncatedPacketNumber{126, 1});
  CHECK(truncate_packet_number(127, std::nullopt) == TruncatedPacketNumber{127, 2});
  CHECK(truncate_packet_number(0x12345, std::nullopt) == TruncatedPacketNumber{0x012345, 3});
  CHECK(truncate_packet_number((std::uint64_t{1} << 31) - 2, std::nullopt).length == 4);

  CHECK(decode_packet_number(std::nullopt, {0, 1}) == 0);
  CHECK(decode_packet_number(std::nullopt, {126, 1}) == 126);
  CHECK(decode_packet_number(std::nullopt, {0xff, 1}) == 0xff);
  CHECK(decode_packet_number(std::nullopt, {0xffffffff, 4}) == 0xffffffff);
}

TEST_CASE("packet numbers decode across 2^8, 2^16, 2^24 and 2^32 boundaries", "[wire]") {
  const std::uint64_t boundary = GENERATE(std::uint64_t{1} << 8, std::uint64_t{1} << 16, std::uint64_t{1} << 24,
                                          std::uint64_t{1} << 32, std::uint64_t{1} << 40, std::uint64_t{1} << 61);
  const auto length = static_cast<std::uint8_t>(GENERATE(1, 2, 3, 4));
  const std::uint64_t half_window = window_of(length) / 2;
  for (std::uint64_t largest = boundary - 3; largest <= boundary + 3; ++largest) {
    const std::uint64_t expected = largest + 1;
    // Within (expected - half window, expected + half window] the decoded number is exact.
    const std::array<std::uint64_t, 6> below{1, 2, 3, 127, half_window - 2, half_window - 1};
    const std::array<std::uint64_t, 7> above{0, 1, 2, 3, 128, half_window - 1, half_window};
    for (const std::uint64_t d : below) {
      if (d > expected) continue;
      const std::uint64_t number = expected - d;
      CAPTURE(boundary, length, largest, number);
      CHECK(decode_packet_number(largest, low_bytes(number, length)) == number);
    }
    for (const std::uint64_t d : above) {
      const std::uint64_t number = expected + d;
      CAPTURE(boundary, length, largest, number);
      CHECK(decode_packet_number(largest, low_bytes(number, length)) == number);
    }
    // Exactly half a window below is ambiguous; RFC 9000 A.3 resolves it upwards.
    if (half_window <= expected) {
      const std::uint64_t number = expected - half_window;
      CAPTURE(boundary, length, largest, number);
      CHECK(decode_packet_number(largest, low_bytes(number, length)) == expected + half_window);
    }
  }
}

TEST_CASE("the last packet numbers before 2^62 truncate and decode", "[wire]") {
  CHECK(truncate_packet_number(kMaxPacketNumber, kMaxPacketNumber - 1) == TruncatedPacketNumber{0xff, 1});
  CHECK(decode_packet_number(kMaxPacketNumber - 1, {0xff, 1}) == kMaxPacketNumber);
  CHECK(decode_packet_number(kMaxPacketNumber - 1, {0x7f, 1}) == kMaxPacketNumber - 0x80);
  CHECK(truncate_packet_number(kMaxPacketNumber, kMaxPacketNumber - 0x1234) == TruncatedPacketNumber{0xffff, 2});
  CHECK(decode_packet_number(kMaxPacketNumber - 0x1234, {0xffff, 2}) == kMaxPacketNumber);
}

TEST_CASE("decoding near 2^62 never leaves the packet number space", "[wire]") {
  // RFC 9000 A.3's second condition: a candidate a window up would pass
  // 2^62 - 1, so the one below is taken even when it is further away.
  for (std::uint64_t largest = kMaxPacketNumber - 600; largest < kMaxPacketNumber; ++largest) {
    for (std::uint32_t value = 0; value < 256; ++value) {
      const std::uint64_t decoded = decode_packet_number(largest, {value, 1});
      if (decoded > kMaxPacketNumber || (decoded & 0xff) != value) {
        CAPTURE(largest, value, decoded);
        FAIL("decoded outside the packet number space or with other low bits");
      }
    }
  }
  for (const std::uint64_t largest : {kMaxPacketNumber - 70000, kMaxPacketNumber - 40000, kMaxPacketNumber - 1}) {
    for (std::uint32_t value = 0; value < 65536; ++value) {
      const std::uint64_t decoded = decode_packet_number(largest, {value, 2});
      if (decoded > kMaxPacketNumber || (decoded & 0xffff) != value) {
        CAPTURE(largest, value, decoded);
        FAIL("decoded outside the packet number space or with other low bits");
      }
    }
  }
  CHECK(decode_packet_number(kMaxPacketNumber - 1, {0x00, 1}) == kMaxPacketNumber - 0xff);
}

TEST_CASE("decode(truncate(n)) == n for random numbers within the window", "[wire]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  for (int i = 0; i < 20000; ++i) {
    // A distance of 1 to 2^31 - 1 (the most truncation supports), of a
    // uniformly drawn bit width so that every truncated length occurs.
    const auto bits = static_cast<unsigned>(uniform(rng, 1, 31));
    const std::uint64_t distance = uniform(rng, std::uint64_t{1} << (bits - 1), (std::uint64_t{1} << bits) - 1);
    std::optional<std::uint64_t> largest_acked;
    std::uint64_t number = 0;
    switch (uniform(rng, 0, 3)) {
      case 0:  // nothing acknowledged yet
        number = distance - 1;
        break;
      case 1: {  // the acknowledged number just under a power of two
        const std::uint64_t power = std::uint64_t{1} << uniform(rng, 8, 61);
        largest_acked = power - uniform(rng, 1, std::min<std::uint64_t>(power, 300));
        break;
      }
      case 2:  // right under the end of the packet number space
        largest_acked = kMaxPacketNumber - distance - uniform(rng, 0, 1000);
        break;
      default:
        largest_acked = uniform(rng, 0, kMaxPacketNumber - distance);
        break;
    }
    if (largest_acked) number = *largest_acked + distance;
    CAPTURE(i, distance, number);
    const TruncatedPacketNumber t = truncate_packet_number(number, largest_acked);
    REQUIRE(t.length == expected_length(distance));
    REQUIRE(t == low_bytes(number, t.length));

    // The receiver has seen at least what it acknowledged, and less than `number`.
    std::optional<std::uint64_t> largest_received;
    if (largest_acked || (number > 0 && coin(rng))) {
      const std::uint64_t low = largest_acked ? *largest_acked : 0;
      largest_received = coin(rng) ? low : uniform(rng, low, number - 1);
    }
    CAPTURE(largest_received.value_or(~std::uint64_t{0}));
    REQUIRE(decode_packet_number(largest_received, t) == number);
  }
}
