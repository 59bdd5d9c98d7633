// SPDX-License-Identifier: MIT
// The receiver's side of the unreliable modes: fragments of unreliable
// messages are collected until the message is whole, within a byte budget
// (each fragment costs its payload plus its bookkeeping) and a time limit,
// so a peer sending first fragments forever cannot grow it: the oldest
// partial message is dropped to make room, and any is dropped once older
// than the timeout. It also keeps, per channel, the newest
// unreliable-sequenced message delivered, so nothing older follows it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "rudp/clock.hpp"
#include "rudp/types.hpp"
#include "rudp/core/ring.hpp"
#include "rudp/wire/frame.hpp"

namespace rudp::core {

/// Bytes of bookkeeping each held fragment is charged beyond its payload.
inline constexpr std::size_t kFragmentOverhead = 64;

class Reassembly {
 public:
  Reassembly(std::size_t limit, Duration timeout) noexcept : limit_(limit), timeout_(timeout) {}

  /// Takes an unreliable DATA frame arriving at `now`; returns the whole
  /// message when it is complete and may be delivered (for
  /// unreliable-sequenced: newer than any delivered on its channel).
  std::optional<std::vector<std::byte>> on_frame(const wire::DataFrame& frame, Instant now);

  /// Drops partial messages older than the timeout.
  void expire(Instant now);
  /// When the oldest partial message times out, if any is held.
  std::optional<Instant> next_expiry() const noexcept;

  /// Partial messages dropped so far (timed out, evicted, or inconsistent).
  std::uint64_t dropped() const noexcept { return dropped_; }
  /// Sequenced messages dropped so far as older than one delivered.
  std::uint64_t stale() const noexcept { return stale_; }
  /// Bytes charged now (payload plus overhead of every fragment held).
  std::size_t held() const noexcept { return held_; }

 private:
  using Key = std::pair<ChannelId, std::uint64_t>;
  struct Partial {
    std::uint32_t count = 0;
    DeliveryMode mode = DeliveryMode::unreliable;
    Instant first_arrival{};
    std::size_t charge = 0;
    std::map<std::uint32_t, std::vector<std::byte>> pieces;
  };
  bool stale(ChannelId channel, std::uint64_t sequence) const noexcept;
  void note_delivered(ChannelId channel, std::uint64_t sequence);
  void drop(std::map<Key, Partial>::iterator it);
  std::optional<std::vector<std::byte>> complete(std::map<Key, Partial>::iterator it, const wire::DataFrame& frame);
  bool make_room(std::size_t charge);

  std::size_t limit_;
  Duration timeout_;
  std::size_t held_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t stale_ = 0;
  std::map<Key, Partial> partials_;
  Ring<std::pair<Key, Instant>> arrivals_;  // first arrivals, oldest first; may name partials already gone
  std::vector<std::pair<ChannelId, std::uint64_t>> newest_;  // channel -> newest sequenced message delivered
};

}  // namespace rudp::core
