// SPDX-License-Identifier: MIT
// The sender's channels and the choice of which goes next. Channels in a
// higher priority class always go first; within a class, busy channels share
// the link by weight (stride scheduling: each channel's pass advances by
// bytes sent / weight, and the lowest pass goes next; a channel coming back
// from idle starts at the class's current pass, so idling earns no credit).
// A channel whose next frame cannot go (no flow-control credit for a reliable
// message) is passed over, so it never holds back the others.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "rudp/message.hpp"
#include "rudp/core/send_queue.hpp"

namespace rudp::core {

class Outbox {
 public:
  /// The queue of `channel`, created on first use.
  SendQueue& queue(ChannelId channel);
  /// Sets how `channel` sends; its queued messages keep their modes.
  void configure(ChannelId channel, const ChannelConfig& config);
  /// The channel's configuration (the default for a channel never configured).
  ChannelConfig config(ChannelId channel) const noexcept;

  /// The queue whose next DATA frame goes next, with that frame, among those
  /// for which `allowed(const NextData&)` holds; nullopt when none can send.
  template <class Allowed>
  std::optional<std::pair<SendQueue*, NextData>> pick(Allowed&& allowed) const {
    Entry* best = nullptr;
    std::optional<NextData> best_next;
    for (const auto& e : entries_) {
      if (best && (e->config.priority < best->config.priority ||
                   (e->config.priority == best->config.priority && pass_of(*e) >= pass_of(*best)))) {
        continue;
      }
      auto next = e->queue.peek();
      if (!next || !allowed(*next)) continue;
      best = e.get();
      best_next = std::move(next);
    }
    if (!best) return std::nullopt;
    return std::pair{&best->queue, *best_next};
  }

  /// `queue` sent a frame of `bytes` bytes: advances its pass.
  void on_sent(SendQueue& queue, std::size_t bytes);

  /// Calls `f(queue)` for every channel's queue.
  template <class F>
  void for_each(F&& f) {
    for (auto& e : entries_) f(e->queue);
  }

  /// Payload bytes held over all channels.
  std::size_t buffered() const noexcept;
  /// True when a SKIP waits to be sent on some channel.
  bool has_skips() const noexcept;
  /// True when every channel has sent everything and had it acknowledged.
  bool all_acked() const noexcept;
  /// True when some channel's queue has a deadline that may pass (SendQueue::deadline_pending).
  bool deadline_pending() const noexcept;

 private:
  struct Entry {
    explicit Entry(ChannelId id) : queue(id) {}
    ChannelConfig config;
    std::uint64_t pass = 0;
    SendQueue queue;
  };
  Entry& entry(ChannelId channel);
  const Entry* find(ChannelId channel) const noexcept;
  std::uint64_t class_pass(std::uint8_t priority) const noexcept;
  std::uint64_t pass_of(const Entry& e) const noexcept { return std::max(e.pass, class_pass(e.config.priority)); }

  std::vector<std::unique_ptr<Entry>> entries_;
  std::vector<std::pair<std::uint8_t, std::uint64_t>> class_pass_;  // priority class -> pass of its last frame sent
};

}  // namespace rudp::core
