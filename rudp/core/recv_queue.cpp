// SPDX-License-Identifier: MIT
#include "rudp/core/recv_queue.hpp"

#include <algorithm>
#include <cstring>

#include "rudp/core/send_queue.hpp"

namespace rudp::core {

ChunkVerdict RecvQueue::on_chunk(const wire::DataFrame& frame) {
  if (has_chunk(frame.sequence)) return ChunkVerdict::duplicate;
  // Every fragment of a message but an empty single-chunk one carries bytes.
  if (frame.fragment_count > 1 && frame.payload.empty()) return ChunkVerdict::violation;
  // The message's first chunk would lie before what was delivered already.
  if (frame.sequence - next_sequence_ < frame.fragment_index) return ChunkVerdict::violation;
  const std::uint64_t cost = chunk_cost(frame.payload.size());
  if (used_ + cost > limit()) return ChunkVerdict::violation;
  used_ += cost;
  buffered_ += frame.payload.size();
  pending_.emplace(frame.sequence, Piece{frame.fragment_index, frame.fragment_count,
                                         std::vector<std::byte>(frame.payload.begin(), frame.payload.end())});
  return assemble() ? ChunkVerdict::accepted : ChunkVerdict::violation;
}

bool RecvQueue::assemble() {
  while (true) {
    auto first = pending_.find(next_sequence_);
    if (first == pending_.end()) return true;
    const std::uint32_t count = first->second.count;
    auto it = first;
    std::size_t size = 0;
    for (std::uint32_t i = 0; i < count; ++i, ++it) {
      if (it == pending_.end() || it->first != next_sequence_ + i) return true;  // not complete yet
      if (it->second.index != i || it->second.count != count) return false;
      size += it->second.bytes.size();
    }
    Message message;
    message.bytes.reserve(size);
    it = first;
    for (std::uint32_t i = 0; i < count; ++i) {
      message.bytes.insert(message.bytes.end(), it->second.bytes.begin(), it->second.bytes.end());
      message.cost += chunk_cost(it->second.bytes.size());
      it = pending_.erase(it);
    }
    next_sequence_ += count;
    ready_.push_back(std::move(message));
  }
}

void RecvQueue::finish_read() {
  consumed_ += ready_.front().cost;
  buffered_ -= ready_.front().bytes.size();
  ready_.pop_front();
  read_offset_ = 0;
}

std::size_t RecvQueue::read(std::span<std::byte> out) {
  std::size_t copied = 0;
  while (!ready_.empty() && copied < out.size()) {
    const auto& bytes = ready_.front().bytes;
    const std::size_t n = std::min(out.size() - copied, bytes.size() - read_offset_);
    if (n > 0) std::memcpy(out.data() + copied, bytes.data() + read_offset_, n);
    copied += n;
    read_offset_ += n;
    if (read_offset_ == bytes.size()) finish_read();
  }
  return copied;
}

std::optional<std::size_t> RecvQueue::next_message_size() const noexcept {
  if (ready_.empty()) return std::nullopt;
  return ready_.front().bytes.size() - read_offset_;
}

Result<std::size_t> RecvQueue::read_message(std::span<std::byte> out) {
  const auto size = next_message_size();
  if (!size) return errc::would_block;
  if (*size > out.size()) return errc::buffer_too_small;
  if (*size > 0) std::memcpy(out.data(), ready_.front().bytes.data() + read_offset_, *size);
  finish_read();
  return *size;
}

}  // namespace rudp::core
