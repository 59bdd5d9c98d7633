// SPDX-License-Identifier: MIT
// The pacer: a token bucket in bytes that spreads a congestion window over
// the round trip, so no burst larger than a configured number of bytes leaves
// at once (RFC 9002 §7.7). The bucket fills at the pacing rate, in bytes per
// second, up to burst_bytes, and each packet sent takes its size out; a
// packet may leave when the bucket holds min(its size, burst_bytes), so one
// larger than the burst waits for a full bucket and leaves the bucket in
// debt, and a packet sent against the pacer's advice (a retransmission, an
// ACK) is paid for the same way. The level is kept to a billionth of a byte,
// so the long-run rate is exact, and products are taken in 128 bits, so any
// uint64 rate works (100 Gbit/s is 1.25e10 bytes per second). Rate 0 means
// unpaced.
#pragma once

#include <cstdint>
#include <optional>

#include "rudp/clock.hpp"

namespace rudp::cc {

/// A token-bucket pacer. Pure state: the caller passes `now` in.
class Pacer {
 public:
  /// Byte counts above this (4 EiB) are taken as this: burst sizes are capped
  /// here, and a debt beyond it is forgiven.
  static constexpr std::uint64_t kMaxBytes = std::uint64_t{1} << 62;

  /// An unpaced pacer: next_send_time() is nullopt until set_rate() gives it
  /// a rate.
  Pacer() = default;

  /// Paces at `bytes_per_second` with bursts of at most `burst_bytes`; 0
  /// bytes per second turns pacing off. Going from unpaced to paced starts
  /// with a full bucket; otherwise the bucket keeps its level, cut to the new
  /// burst, and the refill since the last on_sent() is reckoned at the new
  /// rate from then on. Aborts if the rate is positive and `burst_bytes` is 0.
  void set_rate(std::uint64_t bytes_per_second, std::uint64_t burst_bytes) noexcept;

  /// When a packet of `bytes` may leave: nullopt if it may leave at `now`
  /// (always, when unpaced), else the earliest instant the bucket will hold
  /// min(bytes, burst), assuming no other send in between; saturates at
  /// Instant::max(). A `now` before the last on_sent() counts as that time.
  /// Stale after set_rate() and on_sent().
  std::optional<Instant> next_send_time(Instant now, std::uint64_t bytes) const noexcept;

  /// A packet of `bytes` left at `now`; takes its size out of the bucket,
  /// going into debt if it held less. Does nothing when unpaced.
  void on_sent(Instant now, std::uint64_t bytes) noexcept;

  /// The pacing rate in bytes per second; 0 when unpaced.
  std::uint64_t rate() const noexcept { return rate_; }
  /// The largest burst in bytes.
  std::uint64_t burst() const noexcept { return burst_; }

 private:
  std::uint64_t rate_ = 0;
  std::uint64_t burst_ = 0;
  std::int64_t tokens_ = 0;       // whole bytes at stamp_, at most burst_; negative: debt
  std::uint64_t fraction_ = 0;    // plus billionths of a byte, below 1e9
  std::optional<Instant> stamp_;  // when tokens_ was brought up to date; nullopt: full since set_rate()
};

}  // namespace rudp::cc
