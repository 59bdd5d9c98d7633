// SPDX-License-Identifier: MIT
#include "rudp/core/inbox.hpp"

#include <algorithm>
#include <cstring>

#include "rudp/core/delivery_mode.hpp"

namespace rudp::core {

bool Inbox::charge(std::uint64_t cost) noexcept {
  if (cost > limit() - used_) return false;
  used_ += cost;
  return true;
}

void Inbox::push(Delivered message) {
  buffered_ += message.bytes.size();
  ready_.push_back(std::move(message));
}

bool Inbox::push_unreliable(std::vector<std::byte> bytes, ChannelId channel, DeliveryMode mode) {
  const std::size_t charge = bytes.size() + kDeliveredOverhead;
  if (charge > unreliable_limit_ - unreliable_held_) return false;
  unreliable_held_ += charge;
  buffered_ += bytes.size();
  ready_.push_back(Delivered{std::move(bytes), channel, mode, 0});
  return true;
}

void Inbox::finish_read() {
  const Delivered& front = ready_.front();
  consumed_ += front.cost;
  if (!reliable(front.mode)) unreliable_held_ -= front.bytes.size() + kDeliveredOverhead;
  ready_.pop_front();
  read_offset_ = 0;
}

std::size_t Inbox::read(std::span<std::byte> out) {
  std::size_t copied = 0;
  while (!ready_.empty() && copied < out.size()) {
    const auto& bytes = ready_.front().bytes;
    const std::size_t n = std::min(out.size() - copied, bytes.size() - read_offset_);
    if (n > 0) std::memcpy(out.data() + copied, bytes.data() + read_offset_, n);
    copied += n;
    read_offset_ += n;
    buffered_ -= n;
    if (read_offset_ == bytes.size()) finish_read();
  }
  return copied;
}

std::optional<MessageInfo> Inbox::next() const noexcept {
  if (ready_.empty()) return std::nullopt;
  const Delivered& front = ready_.front();
  return MessageInfo{front.bytes.size() - read_offset_, front.channel, front.mode};
}

Result<std::size_t> Inbox::read_message(std::span<std::byte> out) {
  const auto info = next();
  if (!info) return errc::would_block;
  if (info->size > out.size()) return errc::buffer_too_small;
  if (info->size > 0) std::memcpy(out.data(), ready_.front().bytes.data() + read_offset_, info->size);
  buffered_ -= info->size;
  finish_read();
  return info->size;
}

}  // namespace rudp::core
