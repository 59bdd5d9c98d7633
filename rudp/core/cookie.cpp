// SPDX-License-Identifier: MIT
// Cookie minting and checking: a 32-bit millisecond timestamp, then
// SipHash-2-4 over the client's address, port, both ids and that timestamp.
// Age is the modular difference of two 32-bit millisecond counts, so it stays
// right across the wrap every 49.7 days.
#include "rudp/core/cookie.hpp"

#include <chrono>

#include "rudp/assert.hpp"

namespace rudp::core {

namespace {

/// Bytes the MAC covers: address 16, port 2, client id 4, server id 4, timestamp 4.
constexpr std::size_t kMacInputSize = 30;
/// Bytes of the timestamp at the front of a cookie.
constexpr std::size_t kStampSize = 4;

/// Milliseconds since Instant's epoch, rounded down, modulo 2^32.
std::uint32_t stamp(Instant at) noexcept {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(at.time_since_epoch()).count();
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(ms));
}

/// Writes the low `size` bytes of `value`, most significant first, at `out`.
void store_be(std::byte* out, std::size_t size, std::uint64_t value) noexcept {
  for (std::size_t i = 0; i < size; ++i) out[i] = std::byte(value >> (8 * (size - 1 - i)));
}

/// Reads `size` bytes at `in` as a big-endian integer.
std::uint64_t load_be(const std::byte* in, std::size_t size) noexcept {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < size; ++i) value = (value << 8) | std::to_integer<std::uint64_t>(in[i]);
  return value;
}

/// The MAC of `input` stamped with `timestamp` under `secret`.
std::uint64_t mac(const SipKey& secret, const CookieInput& input, std::uint32_t timestamp) noexcept {
  std::array<std::byte, kMacInputSize> message{};
  std::byte* out = message.data();
  for (const std::uint8_t b : input.client.bytes()) *out++ = std::byte{b};
  store_be(out, 2, input.client.port());
  store_be(out + 2, 4, input.client_id.value);
  store_be(out + 6, 4, input.server_id.value);
  store_be(out + 10, 4, timestamp);
  return siphash24(secret, message);
}

}  // namespace

CookieJar::CookieJar(SipKey secret, Instant now, Duration lifetime) noexcept
    : current_(secret), lifetime_(lifetime), next_rotation_(now + lifetime) {
  RUDP_ASSERT(lifetime >= std::chrono::milliseconds(1));
  RUDP_ASSERT(lifetime < std::chrono::milliseconds(std::int64_t{1} << 31));
}

void CookieJar::rotate(Instant now, SipKey fresh) noexcept {
  previous_ = current_;
  current_ = fresh;
  next_rotation_ = now + lifetime_;
}

Cookie CookieJar::mint(Instant now, const CookieInput& input) const noexcept {
  const std::uint32_t timestamp = stamp(now);
  Cookie cookie{};
  store_be(cookie.data(), kStampSize, timestamp);
  store_be(cookie.data() + kStampSize, kCookieSize - kStampSize, mac(current_, input, timestamp));
  return cookie;
}

bool CookieJar::verify(Instant now, std::span<const std::byte> cookie, const CookieInput& input) const noexcept {
  if (cookie.size() != kCookieSize) return false;
  const auto timestamp = static_cast<std::uint32_t>(load_be(cookie.data(), kStampSize));
  // Unsigned subtraction is modulo 2^32: a stamp from the future comes out
  // older than any lifetime allows, because lifetime is under 2^31 ms.
  const std::uint32_t age_ms = stamp(now) - timestamp;
  if (std::chrono::milliseconds(age_ms) > lifetime_) return false;

  const std::uint64_t claimed = load_be(cookie.data() + kStampSize, kCookieSize - kStampSize);
  if (claimed == mac(current_, input, timestamp)) return true;
  return previous_.has_value() && claimed == mac(*previous_, input, timestamp);
}

}  // namespace rudp::core
