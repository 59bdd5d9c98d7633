// SPDX-License-Identifier: MIT
#include "rudp/core/cookie.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

using namespace rudp;
using namespace rudp::core;
using std::chrono::milliseconds;

namespace {

constexpr Duration kLifetime = milliseconds(5000);
constexpr std::int64_t kWrapMs = std::int64_t{1} << 32;

Instant at_ms(std::int64_t ms) { return Instant(milliseconds(ms)); }

std::uint8_t random_byte(std::mt19937_64& rng) {
  return static_cast<std::uint8_t>(std::uniform_int_distribution<unsigned>(0, 255)(rng));
}

SipKey random_key(std::mt19937_64& rng) {
  SipKey key{};
  for (auto& b : key) b = random_byte(rng);
  return key;
}

CookieInput random_input(std::mt19937_64& rng) {
  std::array<std::uint8_t, 16> ip{};
  for (auto& b : ip) b = random_byte(rng);
  const auto port = static_cast<std::uint16_t>(std::uniform_int_distribution<unsigned>(0, 65535)(rng));
  std::uniform_int_distribution<std::uint32_t> id;
  return CookieInput{Address::v6(ip, port), ConnectionId{id(rng)}, ConnectionId{id(rng)}};
}

/// Somewhere in the first 2^40 ms after the epoch, not on a millisecond boundary.
Instant random_instant(std::mt19937_64& rng) {
  const auto ms = std::uniform_int_distribution<std::int64_t>(0, std::int64_t{1} << 40)(rng);
  const auto ns = std::uniform_int_distribution<std::int64_t>(0, 999'999)(rng);
  return at_ms(ms) + Duration(ns);
}

/// A non-zero value to xor into a byte, so that the byte changes.
std::byte random_change(std::mt19937_64& rng) {
  return std::byte(std::uniform_int_distribution<unsigned>(1, 255)(rng));
}

}  // namespace

TEST_CASE("a minted cookie verifies for its whole lifetime", "[core]") {
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    const Instant now = random_instant(rng);
    const CookieJar jar(random_key(rng), now, kLifetime);
    const CookieInput input = random_input(rng);
    const Cookie cookie = jar.mint(now, input);

    CHECK(jar.verify(now, cookie, input));
    CHECK(jar.verify(now + kLifetime / 2, cookie, input));
    CHECK(jar.verify(now + kLifetime, cookie, input));
  }
}

TEST_CASE("a cookie starts with its big-endian millisecond timestamp, truncated to 32 bits", "[core]") {
  const CookieJar jar(SipKey{}, Instant{}, kLifetime);
  const Cookie cookie = jar.mint(at_ms(0x01'0203'0405) + Duration(999'999), CookieInput{});
  CHECK(cookie[0] == std::byte{0x02});
  CHECK(cookie[1] == std::byte{0x03});
  CHECK(cookie[2] == std::byte{0x04});
  CHECK(cookie[3] == std::byte{0x05});
}

TEST_CASE("a cookie does not verify for another address, port or id", "[core]") {
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    const Instant now = random_instant(rng);
    const CookieJar jar(random_key(rng), now, kLifetime);
    const CookieInput input = random_input(rng);
    const Cookie cookie = jar.mint(now, input);
    REQUIRE(jar.verify(now, cookie, input));

    const std::array<std::uint8_t, 16>& ip = input.client.bytes();
    const std::uint16_t port = input.client.port();
    for (std::size_t i = 0; i < ip.size(); ++i) {
      CAPTURE(i);
      std::array<std::uint8_t, 16> other_ip = ip;
      other_ip[i] ^= std::to_integer<std::uint8_t>(random_change(rng));
      CookieInput other = input;
      other.client = Address::v6(other_ip, port);
      CHECK_FALSE(jar.verify(now, cookie, other));
    }

    CookieInput other_port = input;
    other_port.client = Address::v6(ip, static_cast<std::uint16_t>(port + 1));
    CHECK_FALSE(jar.verify(now, cookie, other_port));

    const auto id_change = std::uniform_int_distribution<std::uint32_t>(1, UINT32_MAX)(rng);
    CookieInput other_client_id = input;
    other_client_id.client_id.value ^= id_change;
    CHECK_FALSE(jar.verify(now, cookie, other_client_id));

    CookieInput other_server_id = input;
    other_server_id.server_id.value ^= id_change;
    CHECK_FALSE(jar.verify(now, cookie, other_server_id));

    CookieInput swapped_ids = input;
    swapped_ids.client_id = input.server_id;
    swapped_ids.server_id = input.client_id;
    if (input.client_id != input.server_id) CHECK_FALSE(jar.verify(now, cookie, swapped_ids));
  }
}

TEST_CASE("a cookie with any bit or byte changed does not verify", "[core]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    const Instant now = random_instant(rng);
    const CookieJar jar(random_key(rng), now, kLifetime);
    const CookieInput input = random_input(rng);
    const Cookie cookie = jar.mint(now, input);
    const Instant later = now + kLifetime / 2;
    REQUIRE(jar.verify(later, cookie, input));

    for (std::size_t byte = 0; byte < kCookieSize; ++byte) {
      CAPTURE(byte);
      for (unsigned bit = 0; bit < 8; ++bit) {
        CAPTURE(bit);
        Cookie flipped = cookie;
        flipped[byte] ^= std::byte(1u << bit);
        CHECK_FALSE(jar.verify(later, flipped, input));
      }
      Cookie changed = cookie;
      changed[byte] ^= random_change(rng);
      CHECK_FALSE(jar.verify(later, changed, input));
    }
  }
}

TEST_CASE("a cookie older than its lifetime does not verify", "[core]") {
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    const Instant now = random_instant(rng);
    const CookieJar jar(random_key(rng), now, kLifetime);
    const CookieInput input = random_input(rng);
    const Cookie cookie = jar.mint(now, input);

    CHECK(jar.verify(now + kLifetime, cookie, input));
    CHECK_FALSE(jar.verify(now + kLifetime + milliseconds(1), cookie, input));
    CHECK_FALSE(jar.verify(now + 10 * kLifetime, cookie, input));
  }
}

TEST_CASE("a cookie minted after now does not verify", "[core]") {
  for (std::uint64_t seed = 1; seed <= 100; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    const Instant now = random_instant(rng);
    const CookieJar jar(random_key(rng), now, kLifetime);
    const CookieInput input = random_input(rng);

    CHECK_FALSE(jar.verify(now, jar.mint(now + milliseconds(1), input), input));
    CHECK_FALSE(jar.verify(now, jar.mint(now + kLifetime / 2, input), input));
    CHECK_FALSE(jar.verify(now, jar.mint(now + kLifetime, input), input));
  }
}

TEST_CASE("the previous secret is accepted for one rotation, not two", "[core]") {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    const Instant start = random_instant(rng);
    CookieJar jar(random_key(rng), start, kLifetime);
    CHECK(jar.next_rotation() == start + kLifetime);
    const CookieInput input = random_input(rng);

    const Instant minted = start + kLifetime - milliseconds(10);
    const Cookie old_cookie = jar.mint(minted, input);

    const Instant first = jar.next_rotation();
    jar.rotate(first, random_key(rng));
    CHECK(jar.next_rotation() == first + kLifetime);
    CHECK(jar.verify(first, old_cookie, input));
    CHECK(jar.verify(minted + kLifetime, old_cookie, input));
    const Cookie new_cookie = jar.mint(first, input);
    CHECK(new_cookie != old_cookie);
    CHECK(jar.verify(first, new_cookie, input));

    const Instant second = first + milliseconds(1);
    jar.rotate(second, random_key(rng));
    CHECK(jar.next_rotation() == second + kLifetime);
    CHECK_FALSE(jar.verify(second, old_cookie, input));
    CHECK(jar.verify(second, new_cookie, input));
  }
}

TEST_CASE("a cookie from another secret does not verify", "[core]") {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    const Instant now = random_instant(rng);
    const CookieJar jar(random_key(rng), now, kLifetime);
    const CookieJar stranger(random_key(rng), now, kLifetime);
    const CookieInput input = random_input(rng);
    CHECK_FALSE(jar.verify(now, stranger.mint(now, input), input));
  }
}

TEST_CASE("a cookie of the wrong size does not verify", "[core]") {
  std::mt19937_64 rng(7);
  const Instant now = random_instant(rng);
  const CookieJar jar(random_key(rng), now, kLifetime);
  const CookieInput input = random_input(rng);
  const Cookie cookie = jar.mint(now, input);
  const std::span<const std::byte> whole(cookie);

  CHECK_FALSE(jar.verify(now, {}, input));
  CHECK_FALSE(jar.verify(now, whole.first(kCookieSize - 1), input));
  std::vector<std::byte> longer(cookie.begin(), cookie.end());
  longer.push_back(std::byte{0});
  CHECK_FALSE(jar.verify(now, longer, input));
  CHECK(jar.verify(now, whole, input));
}

TEST_CASE("cookie ages are right across the 32-bit millisecond wrap", "[core]") {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    const std::int64_t wraps = std::uniform_int_distribution<std::int64_t>(-3, 3)(rng);
    CAPTURE(wraps);
    const Instant wrap = at_ms(wraps * kWrapMs);
    const CookieJar jar(random_key(rng), wrap - kLifetime, kLifetime);
    const CookieInput input = random_input(rng);

    const Instant before = wrap - milliseconds(3);
    const Cookie cookie = jar.mint(before, input);
    CHECK(jar.verify(wrap + milliseconds(2), cookie, input));
    CHECK(jar.verify(before + kLifetime, cookie, input));
    CHECK_FALSE(jar.verify(before + kLifetime + milliseconds(1), cookie, input));

    const Cookie future = jar.mint(wrap + milliseconds(1), input);
    CHECK_FALSE(jar.verify(wrap - milliseconds(1), future, input));
    CHECK(jar.verify(wrap + milliseconds(1), future, input));
  }
}
