// SPDX-License-Identifier: MIT
// The token bucket of pacer.hpp. The level is counted in billionths of a
// byte ("nanobytes"), so refilling for `ns` nanoseconds at `rate` bytes per
// second adds exactly ns * rate of them: no division, no rounding drift. The
// level stays within +-kMaxBytes * 1e9 (< 2^92), a refill is compared
// against the room left before it is added, and instants are subtracted in
// 128 bits, so nothing overflows.
#include "rudp/cc/pacer.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "rudp/assert.hpp"

namespace rudp::cc {
namespace {

__extension__ typedef __int128 Wide;
__extension__ typedef unsigned __int128 UnsignedWide;

constexpr std::int64_t kNanosPerByte = 1'000'000'000;
constexpr std::int64_t kMaxTokens = static_cast<std::int64_t>(Pacer::kMaxBytes);

/// The level at `now`, in nanobytes, of a bucket that held `tokens` bytes and
/// `fraction` nanobytes at `stamp` (nullopt: full), refilled at `rate` bytes
/// per second up to `burst` bytes.
Wide level_at(Instant now, std::int64_t tokens, std::uint64_t fraction, std::optional<Instant> stamp,
              std::uint64_t rate, std::uint64_t burst) noexcept {
  const Wide level = static_cast<Wide>(tokens) * kNanosPerByte + static_cast<Wide>(fraction);
  const Wide full = static_cast<Wide>(burst) * kNanosPerByte;
  if (!stamp.has_value() || now <= *stamp || level >= full) return std::min(level, full);
  // now - stamp < 2^64 and rate < 2^64, so the product fits in 128 bits.
  const UnsignedWide elapsed = static_cast<UnsignedWide>(static_cast<Wide>(now.time_since_epoch().count()) -
                                                         stamp->time_since_epoch().count());
  const UnsignedWide refill = elapsed * rate;
  return refill >= static_cast<UnsignedWide>(full - level) ? full : level + static_cast<Wide>(refill);
}

/// n / d, truncated, for d > 0; in 64 bits when both fit there, as they do
/// unless the burst is above 9 GB (a 128-bit division is a library call, and
/// this runs per packet).
Wide quotient(Wide n, Wide d) noexcept {
  constexpr Wide low = std::numeric_limits<std::int64_t>::min();
  constexpr Wide high = std::numeric_limits<std::int64_t>::max();
  if (n >= low && n <= high && d <= high) return static_cast<std::int64_t>(n) / static_cast<std::int64_t>(d);
  return n / d;
}

}  // namespace

void Pacer::set_rate(std::uint64_t bytes_per_second, std::uint64_t burst_bytes) noexcept {
  RUDP_ASSERT(bytes_per_second == 0 || burst_bytes > 0);
  const std::uint64_t burst = std::min(burst_bytes, kMaxBytes);
  if (rate_ == 0) {
    tokens_ = static_cast<std::int64_t>(burst);
    fraction_ = 0;
    stamp_.reset();
  } else if (tokens_ >= static_cast<std::int64_t>(burst)) {
    tokens_ = static_cast<std::int64_t>(burst);
    fraction_ = 0;
  }
  rate_ = bytes_per_second;
  burst_ = burst;
}

std::optional<Instant> Pacer::next_send_time(Instant now, std::uint64_t bytes) const noexcept {
  if (rate_ == 0) return std::nullopt;
  const Instant from = stamp_.has_value() ? std::max(now, *stamp_) : now;
  const Wide need = static_cast<Wide>(std::min(bytes, burst_)) * kNanosPerByte;
  const Wide have = level_at(from, tokens_, fraction_, stamp_, rate_, burst_);
  if (have >= need) return std::nullopt;
  // Nanobytes over bytes per second is nanoseconds; round up so the bucket
  // is full enough at the instant returned.
  const Wide wait = quotient(need - have + static_cast<Wide>(rate_) - 1, static_cast<Wide>(rate_));
  const Wide room = static_cast<Wide>(Instant::max().time_since_epoch().count()) - from.time_since_epoch().count();
  if (wait >= room) return Instant::max();
  return from + Duration{static_cast<std::int64_t>(wait)};
}

void Pacer::on_sent(Instant now, std::uint64_t bytes) noexcept {
  if (rate_ == 0) return;
  const Instant at = stamp_.has_value() ? std::max(now, *stamp_) : now;
  const Wide level = level_at(at, tokens_, fraction_, stamp_, rate_, burst_) -
                     static_cast<Wide>(std::min(bytes, kMaxBytes)) * kNanosPerByte;
  // Floor division, so that fraction_ stays in [0, 1e9) when in debt.
  Wide whole = quotient(level, kNanosPerByte);
  Wide rest = level - whole * kNanosPerByte;
  if (rest < 0) {
    whole -= 1;
    rest += kNanosPerByte;
  }
  if (whole < -kMaxTokens) {
    whole = -kMaxTokens;
    rest = 0;
  }
  tokens_ = static_cast<std::int64_t>(whole);
  fraction_ = static_cast<std::uint64_t>(rest);
  stamp_ = at;
}

}  // namespace rudp::cc
