// SPDX-License-Identifier: MIT
#include "rudp/core/ack_tracker.hpp"

#include <algorithm>

#include "rudp/wire/limits.hpp"

namespace rudp::core {

bool AckTracker::on_packet(std::uint64_t number, bool ack_eliciting, Instant now) {
  if (number < floor_) return false;
  // Find the first range (newest first) whose smallest is <= number.
  auto it = std::find_if(ranges_.begin(), ranges_.end(), [&](const wire::AckRange& r) { return r.smallest <= number; });
  if (it != ranges_.end() && number <= it->largest) return false;

  const bool newest = ranges_.empty() || number > ranges_.front().largest;
  // A packet that is not the next in line means one was lost or reordered:
  // the sender learns of it soonest from an immediate ACK.
  if (!ranges_.empty() && number != ranges_.front().largest + 1) immediate_ = true;

  const bool joins_below = it != ranges_.end() && it->largest + 1 == number;
  const bool joins_above = it != ranges_.begin() && std::prev(it)->smallest == number + 1;
  if (joins_below && joins_above) {
    std::prev(it)->smallest = it->smallest;
    ranges_.erase(it);
  } else if (joins_below) {
    it->largest = number;
  } else if (joins_above) {
    std::prev(it)->smallest = number;
  } else {
    ranges_.insert(it, wire::AckRange{number, number});
    if (ranges_.size() > wire::kMaxAckRanges) {
      floor_ = ranges_.back().largest + 1;
      ranges_.pop_back();
    }
  }

  if (newest) largest_received_at_ = now;
  news_ = true;
  if (ack_eliciting) {
    ++unacked_eliciting_;
    if (!first_unacked_at_) first_unacked_at_ = now;
  }
  return true;
}

bool AckTracker::ack_due(Instant now) const noexcept {
  if (unacked_eliciting_ == 0) return false;
  if (immediate_ || unacked_eliciting_ >= policy_.packets_before_ack) return true;
  return now >= *first_unacked_at_ + policy_.max_ack_delay;
}

std::optional<Instant> AckTracker::next_deadline() const noexcept {
  if (unacked_eliciting_ == 0) return std::nullopt;
  if (immediate_ || unacked_eliciting_ >= policy_.packets_before_ack) return *first_unacked_at_;
  return *first_unacked_at_ + policy_.max_ack_delay;
}

std::optional<std::uint64_t> AckTracker::write_ack(wire::Writer& writer, Instant now, std::size_t budget) {
  if (ranges_.empty()) return std::nullopt;
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now - largest_received_at_).count();
  const std::uint64_t delay = std::min<std::uint64_t>(
      static_cast<std::uint64_t>(std::max<std::int64_t>(micros, 0)) / wire::kAckDelayUnitMicros, wire::kMaxAckDelay);

  // Count how many of the newest ranges fit in the budget.
  const wire::AckRange& first = ranges_.front();
  std::size_t size = 1 + wire::varint_size(first.largest) + wire::varint_size(delay) +
                     wire::varint_size(first.largest - first.smallest);
  std::size_t count = 1;
  while (count < ranges_.size()) {
    const wire::AckRange& r = ranges_[count];
    const std::size_t more = wire::varint_size(ranges_[count - 1].smallest - r.largest - 2) +
                             wire::varint_size(r.largest - r.smallest);
    // The range-count varint may grow by a byte as count grows.
    if (size + more + wire::varint_size(count) > budget) break;
    size += more;
    ++count;
  }
  if (size + wire::varint_size(count - 1) > budget) return std::nullopt;

  wire::write_ack_frame(writer, delay, std::span(ranges_).first(count));
  unacked_eliciting_ = 0;
  first_unacked_at_.reset();
  immediate_ = false;
  news_ = false;
  return first.largest;
}

void AckTracker::on_ack_acknowledged(std::uint64_t largest) noexcept {
  // Keep the range holding `largest` (so duplicates of recent packets are
  // still recognised) and forget the ones entirely below it.
  while (ranges_.size() > 1 && ranges_.back().largest < largest && ranges_[ranges_.size() - 2].smallest <= largest) {
    floor_ = std::max(floor_, ranges_.back().largest + 1);
    ranges_.pop_back();
  }
}

std::optional<std::uint64_t> AckTracker::largest() const noexcept {
  if (ranges_.empty()) return std::nullopt;
  return ranges_.front().largest;
}

}  // namespace rudp::core
