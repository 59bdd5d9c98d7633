// SPDX-License-Identifier: MIT
#include "rudp/core/reassembly.hpp"

#include <algorithm>

namespace rudp::core {

bool Reassembly::stale(ChannelId channel, std::uint64_t sequence) const noexcept {
  const auto it = std::find_if(newest_.begin(), newest_.end(), [&](const auto& n) { return n.first == channel; });
  return it != newest_.end() && sequence <= it->second;
}

// Partial sequenced messages of the channel older than the one delivered can
// never be delivered: they go at once rather than at their timeout (counted
// as stale if another of their fragments arrives).
void Reassembly::note_delivered(ChannelId channel, std::uint64_t sequence) {
  for (auto it = partials_.lower_bound({channel, 0}); it != partials_.end() && it->first.first == channel &&
                                                       it->first.second <= sequence;) {
    if (it->second.mode != DeliveryMode::unreliable_sequenced) {
      ++it;
      continue;
    }
    held_ -= it->second.charge;
    it = partials_.erase(it);
  }
  const auto it = std::find_if(newest_.begin(), newest_.end(), [&](const auto& n) { return n.first == channel; });
  if (it == newest_.end()) {
    newest_.emplace_back(channel, sequence);
  } else {
    it->second = sequence;
  }
}

void Reassembly::drop(std::map<Key, Partial>::iterator it) {
  held_ -= it->second.charge;
  partials_.erase(it);
  ++dropped_;
}

// Evicts the oldest partial messages until `charge` more bytes fit.
bool Reassembly::make_room(std::size_t charge) {
  if (charge > limit_) return false;
  while (held_ + charge > limit_ && !arrivals_.empty()) {
    const auto [key, arrival] = arrivals_.front();
    arrivals_.pop_front();
    const auto it = partials_.find(key);
    if (it != partials_.end() && it->second.first_arrival == arrival) drop(it);
  }
  return held_ + charge <= limit_;
}

std::optional<std::vector<std::byte>> Reassembly::on_frame(const wire::DataFrame& frame, Instant now) {
  const bool sequenced = frame.mode == DeliveryMode::unreliable_sequenced;
  if (sequenced && stale(frame.channel, frame.sequence)) {
    ++stale_;
    return std::nullopt;
  }
  if (frame.fragment_count == 1) {
    if (sequenced) note_delivered(frame.channel, frame.sequence);
    return std::vector<std::byte>(frame.payload.begin(), frame.payload.end());
  }
  expire(now);
  const Key key{frame.channel, frame.sequence};
  auto it = partials_.find(key);
  if (it != partials_.end() && (it->second.count != frame.fragment_count || it->second.mode != frame.mode)) {
    drop(it);  // the peer numbered two messages alike: neither can be trusted
    return std::nullopt;
  }
  if (it != partials_.end() && it->second.pieces.contains(frame.fragment_index)) return std::nullopt;
  // The fragment that completes a message needs no room: it leaves at once.
  if (it != partials_.end() && it->second.pieces.size() + 1 == it->second.count) {
    Partial& partial = it->second;
    partial.pieces.emplace(frame.fragment_index, std::vector<std::byte>(frame.payload.begin(), frame.payload.end()));
    return complete(it, frame);
  }
  const std::size_t charge = frame.payload.size() + kFragmentOverhead;
  if (!make_room(charge)) {
    ++dropped_;
    return std::nullopt;
  }
  it = partials_.find(key);  // making room may have dropped it
  if (it == partials_.end()) {
    it = partials_.emplace(key, Partial{frame.fragment_count, frame.mode, now, 0, {}}).first;
    arrivals_.emplace_back(key, now);
    // Entries of completed messages linger until they time out; with more of
    // them than live partials can be, they are swept out.
    if (arrivals_.size() > 2 * (limit_ / kFragmentOverhead + 1)) {
      arrivals_.erase_if([&](const auto& a) {
        const auto live = partials_.find(a.first);
        return live == partials_.end() || live->second.first_arrival != a.second;
      });
    }
  }
  Partial& partial = it->second;
  partial.pieces.emplace(frame.fragment_index, std::vector<std::byte>(frame.payload.begin(), frame.payload.end()));
  partial.charge += charge;
  held_ += charge;
  if (partial.pieces.size() < partial.count) return std::nullopt;
  return complete(it, frame);
}

std::optional<std::vector<std::byte>> Reassembly::complete(std::map<Key, Partial>::iterator it,
                                                           const wire::DataFrame& frame) {
  std::vector<std::byte> message;
  for (const auto& [index, bytes] : it->second.pieces) message.insert(message.end(), bytes.begin(), bytes.end());
  held_ -= it->second.charge;
  partials_.erase(it);
  if (frame.mode == DeliveryMode::unreliable_sequenced) {
    if (stale(frame.channel, frame.sequence)) {
      ++stale_;
      return std::nullopt;
    }
    note_delivered(frame.channel, frame.sequence);
  }
  return message;
}

void Reassembly::expire(Instant now) {
  while (!arrivals_.empty() && arrivals_.front().second + timeout_ <= now) {
    const auto [key, arrival] = arrivals_.front();
    arrivals_.pop_front();
    const auto it = partials_.find(key);
    if (it != partials_.end() && it->second.first_arrival == arrival) drop(it);
  }
}

std::optional<Instant> Reassembly::next_expiry() const noexcept {
  for (const auto& [key, arrival] : arrivals_) {
    const auto it = partials_.find(key);
    if (it != partials_.end() && it->second.first_arrival == arrival) return arrival + timeout_;
  }
  return std::nullopt;
}

}  // namespace rudp::core
