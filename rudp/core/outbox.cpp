// SPDX-License-Identifier: MIT
#include "rudp/core/outbox.hpp"

#include <algorithm>

namespace rudp::core {
namespace {

// A weight of 1 advances a channel's pass by this much per byte; large
// enough that kStride / weight stays close to proportional for every weight.
constexpr std::uint64_t kStride = std::uint64_t{1} << 16;

}  // namespace

const Outbox::Entry* Outbox::find(ChannelId channel) const noexcept {
  for (const auto& e : entries_) {
    if (e->queue.channel() == channel) return e.get();
  }
  return nullptr;
}

Outbox::Entry& Outbox::entry(ChannelId channel) {
  if (const Entry* e = find(channel)) return const_cast<Entry&>(*e);
  entries_.push_back(std::make_unique<Entry>(channel));
  return *entries_.back();
}

SendQueue& Outbox::queue(ChannelId channel) { return entry(channel).queue; }

void Outbox::configure(ChannelId channel, const ChannelConfig& config) { entry(channel).config = config; }

ChannelConfig Outbox::config(ChannelId channel) const noexcept {
  const Entry* e = find(channel);
  return e ? e->config : ChannelConfig{};
}

std::uint64_t Outbox::class_pass(std::uint8_t priority) const noexcept {
  for (const auto& [p, pass] : class_pass_) {
    if (p == priority) return pass;
  }
  return 0;
}

void Outbox::on_sent(SendQueue& queue, std::size_t bytes) {
  Entry& e = entry(queue.channel());
  const std::uint64_t start = pass_of(e);
  e.pass = start + bytes * (kStride / e.config.weight);
  const auto it = std::find_if(class_pass_.begin(), class_pass_.end(),
                               [&](const auto& c) { return c.first == e.config.priority; });
  if (it == class_pass_.end()) {
    class_pass_.emplace_back(e.config.priority, start);
  } else {
    it->second = start;
  }
}

std::size_t Outbox::buffered() const noexcept {
  std::size_t total = 0;
  for (const auto& e : entries_) total += e->queue.buffered();
  return total;
}

bool Outbox::has_skips() const noexcept {
  return std::any_of(entries_.begin(), entries_.end(), [](const auto& e) { return e->queue.peek_skip().has_value(); });
}

bool Outbox::all_acked() const noexcept {
  return std::all_of(entries_.begin(), entries_.end(), [](const auto& e) { return e->queue.all_acked(); });
}

bool Outbox::deadline_pending() const noexcept {
  return std::any_of(entries_.begin(), entries_.end(), [](const auto& e) { return e->queue.deadline_pending(); });
}

}  // namespace rudp::core
