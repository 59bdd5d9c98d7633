// SPDX-License-Identifier: MIT
// Shared by the wire codec's tests: the seeds every randomized test runs,
// seeded random field values biased towards varint length boundaries, a
// FrameFactory that makes random frames of every type (frames are views, so
// the factory owns the bytes they point into), and Catch printers for errc,
// AckRange and byte spans so that a failing check shows what it compared.
#pragma once

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <random>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "rudp/errc.hpp"
#include "rudp/types.hpp"
#include "rudp/wire/buffer.hpp"
#include "rudp/wire/frame.hpp"
#include "rudp/wire/limits.hpp"

namespace rudp::wire::test {

using Rng = std::mt19937_64;

/// The seeds every randomized test runs with: a fixed list, plus whatever
/// `--rng-seed` gave Catch (0 by default), so a failure can be replayed.
inline std::vector<std::uint64_t> test_seeds() {
  return {0x5eed'0001, 0x0bad'cafe'f00d, 0x1234'5678'9abc'def0, std::uint64_t{Catch::rngSeed()}};
}

/// Uniform in [lo, hi].
inline std::uint64_t uniform(Rng& rng, std::uint64_t lo, std::uint64_t hi) {
  return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng);
}

inline bool coin(Rng& rng) { return uniform(rng, 0, 1) == 1; }

/// A value in [0, max]. The varint length is drawn first, evenly among the
/// lengths whose range starts at or below `max`, so every encoding length is
/// exercised; a quarter of the draws land exactly on that length's first or
/// last value.
inline std::uint64_t random_varint(Rng& rng, std::uint64_t max = kMaxVarint) {
  static constexpr std::array<std::uint64_t, 4> kFirst = {0, 64, 16384, std::uint64_t{1} << 30};
  static constexpr std::array<std::uint64_t, 4> kLast = {63, 16383, (std::uint64_t{1} << 30) - 1, kMaxVarint};
  std::size_t lengths = 0;
  while (lengths < kFirst.size() && kFirst[lengths] <= max) ++lengths;
  const auto length = static_cast<std::size_t>(uniform(rng, 0, lengths - 1));
  const std::uint64_t first = kFirst[length];
  const std::uint64_t last = std::min(kLast[length], max);
  switch (uniform(rng, 0, 7)) {
    case 0:
      return first;
    case 1:
      return last;
    default:
      return uniform(rng, first, last);
  }
}

/// Lower-case hex of `bytes`, for CAPTURE.
inline std::string hex(std::span<const std::byte> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const std::byte b : bytes) {
    const auto v = std::to_integer<unsigned>(b);
    out += kDigits[v >> 4];
    out += kDigits[v & 0xf];
  }
  return out;
}

/// Which Frame alternatives there are, by index.
inline constexpr std::size_t kFrameKinds = std::variant_size_v<Frame>;

/// Makes random frames whose spans point into bytes it owns; the frames are
/// valid as long as the factory lives.
class FrameFactory {
 public:
  explicit FrameFactory(Rng& rng) : rng_(rng) {}

  /// Keeps `bytes` alive for the factory's lifetime and returns a view of them.
  std::span<const std::byte> keep(std::vector<std::byte> bytes) {
    storage_.push_back(std::move(bytes));
    return storage_.back();
  }

  std::span<const std::byte> random_bytes(std::size_t min_size, std::size_t max_size) {
    std::vector<std::byte> bytes(static_cast<std::size_t>(uniform(rng_, min_size, max_size)));
    for (std::byte& b : bytes) b = std::byte(uniform(rng_, 0, 255));
    return keep(std::move(bytes));
  }

  /// `count` ranges in strictly descending, non-adjacent order, built from
  /// the bottom up so that none goes below zero; the whole set is then lifted
  /// by a random offset, so some sets sit right under kMaxPacketNumber.
  std::vector<AckRange> random_ack_ranges(std::size_t count) {
    std::vector<AckRange> ranges;
    std::uint64_t next = random_varint(rng_, 1 << 20);
    for (std::size_t i = 0; i < count; ++i) {
      const std::uint64_t smallest = next;
      const std::uint64_t largest = smallest + random_varint(rng_, (std::uint64_t{1} << 30) - 1);
      ranges.push_back({smallest, largest});
      next = largest + 2 + random_varint(rng_, (std::uint64_t{1} << 30) - 1);
    }
    const std::uint64_t top = ranges.back().largest;
    const std::uint64_t lift = coin(rng_) ? 0 : uniform(rng_, 0, kMaxPacketNumber - top);
    for (AckRange& r : ranges) r = {r.smallest + lift, r.largest + lift};
    std::reverse(ranges.begin(), ranges.end());
    return ranges;
  }

  /// An AckFrame for `ranges` (descending, non-adjacent), with its gap bytes
  /// written here rather than taken from the decoder under test.
  AckFrame ack_frame(std::uint64_t ack_delay, const std::vector<AckRange>& ranges) {
    std::vector<std::byte> gaps(ranges.size() * 16);
    Writer writer(gaps);
    for (std::size_t i = 1; i < ranges.size(); ++i) {
      writer.varint(ranges[i - 1].smallest - ranges[i].largest - 2);
      writer.varint(ranges[i].largest - ranges[i].smallest);
    }
    REQUIRE(writer.ok());
    gaps.resize(writer.position());
    AckFrame frame;
    frame.ack_delay = ack_delay;
    frame.ranges = AckRanges(ranges.front(), ranges.size(), keep(std::move(gaps)));
    return frame;
  }

  HandshakeParams random_params() {
    HandshakeParams p;
    p.max_datagram_size = uniform(rng_, kMinDatagramSize, kMaxDatagramSize);
    p.initial_credit = random_varint(rng_);
    p.idle_timeout_ms = random_varint(rng_, kMaxIdleTimeoutMillis);
    return p;
  }

  DataFrame random_data(DeliveryMode mode, bool with_channel, bool fragmented, bool explicit_length) {
    DataFrame f;
    f.mode = mode;
    f.channel = with_channel ? static_cast<std::uint8_t>(uniform(rng_, 1, 255)) : std::uint8_t{0};
    if (fragmented) {
      f.fragment_count = static_cast<std::uint32_t>(uniform(rng_, 2, kMaxFragmentCount));
      f.fragment_index = static_cast<std::uint32_t>(uniform(rng_, 0, f.fragment_count - 1));
    }
    f.sequence = has_sequence(f.mode, f.fragment_count) ? random_varint(rng_) : 0;
    f.explicit_length = explicit_length;
    f.payload = random_bytes(0, 300);
    return f;
  }

  DataFrame random_data(bool explicit_length) {
    const auto mode = static_cast<DeliveryMode>(uniform(rng_, 0, 3));
    const bool with_channel = coin(rng_);
    const bool fragmented = coin(rng_);
    return random_data(mode, with_channel, fragmented, explicit_length);
  }

  /// A SKIP of 1 to kMaxFragmentCount chunks whose last chunk is still a
  /// valid sequence number; one draw per statement, as in random_frame.
  SkipFrame random_skip() {
    SkipFrame f;
    f.channel = static_cast<std::uint8_t>(uniform(rng_, 0, 255));
    f.count = 1 + random_varint(rng_, kMaxFragmentCount - 1);
    f.sequence = random_varint(rng_, kMaxVarint - (f.count - 1));
    f.cost = random_varint(rng_);
    return f;
  }

  /// A random frame of alternative `kind` of Frame; an ACK has up to
  /// `max_ack_ranges` ranges and a DATA frame an explicit length.
  Frame random_frame(std::size_t kind, std::uint64_t max_ack_ranges = kMaxAckRanges) {
    switch (kind) {
      case 0:
        return PaddingFrame{static_cast<std::size_t>(uniform(rng_, 1, 40))};
      case 1:
        return PingFrame{};
      case 2: {
        // One draw per statement: argument order is unspecified, and the
        // same seed must give the same frames under every compiler.
        const std::uint64_t delay = random_varint(rng_, kMaxAckDelay);
        const auto count = static_cast<std::size_t>(uniform(rng_, 1, max_ack_ranges));
        return ack_frame(delay, random_ack_ranges(count));
      }
      case 3:
        return CreditFrame{random_varint(rng_)};
      case 4:
        return CloseFrame{random_varint(rng_), random_bytes(0, kMaxReasonLength)};
      case 5:
        return ResetFrame{random_varint(rng_), random_bytes(0, kMaxReasonLength)};
      case 6:
        return SynFrame{random_params()};
      case 7:
        return SynAckFrame{random_params(), random_bytes(0, kMaxCookieSize)};
      case 8:
        return CookieAckFrame{random_params(), random_bytes(0, kMaxCookieSize)};
      case 9:
        return random_data(true);
      default:
        return random_skip();
    }
  }

  /// Between 1 and `max_count` frames that make a valid packet payload: never
  /// two PADDING frames in a row (they would decode as one). With
  /// `self_delimiting`, no PADDING and no DATA without a length, so that
  /// every proper prefix that does not end on a frame boundary is malformed;
  /// otherwise the last frame may be a DATA frame without a length.
  std::vector<Frame> random_payload(std::size_t max_count, bool self_delimiting) {
    std::vector<Frame> frames(static_cast<std::size_t>(uniform(rng_, 1, max_count)));
    for (std::size_t i = 0; i < frames.size(); ++i) {
      std::size_t kind = 0;
      do {
        kind = static_cast<std::size_t>(uniform(rng_, 0, kFrameKinds - 1));
      } while (kind == 0 && (self_delimiting || (i > 0 && frames[i - 1].index() == 0)));
      frames[i] = random_frame(kind, 32);
    }
    if (!self_delimiting && coin(rng_)) frames.back() = random_data(false);
    return frames;
  }

 private:
  Rng& rng_;
  std::deque<std::vector<std::byte>> storage_;
};

}  // namespace rudp::wire::test

namespace Catch {

template <>
struct StringMaker<rudp::errc> {
  static std::string convert(rudp::errc e) {
    if (e == rudp::errc{}) return "success";
    return std::to_string(static_cast<int>(e)) + " (" + rudp::make_error_code(e).message() + ")";
  }
};

template <>
struct StringMaker<rudp::wire::AckRange> {
  static std::string convert(const rudp::wire::AckRange& r) {
    return "[" + std::to_string(r.smallest) + ", " + std::to_string(r.largest) + "]";
  }
};

}  // namespace Catch
