// SPDX-License-Identifier: MIT
#include "rudp/core/send_queue.hpp"

#include <algorithm>

#include "rudp/assert.hpp"

namespace rudp::core {

void SendQueue::push_chunk(std::span<const std::byte> bytes, std::uint32_t index, std::uint32_t count) {
  Chunk chunk;
  chunk.sequence = next_sequence_++;
  chunk.fragment_index = index;
  chunk.fragment_count = count;
  chunk.bytes.assign(bytes.begin(), bytes.end());
  buffered_ += bytes.size();
  chunks_.push_back(std::move(chunk));
}

void SendQueue::push_message(std::span<const std::byte> message, std::size_t chunk_size) {
  RUDP_ASSERT(chunk_size > 0 && message.size() <= available());
  const std::size_t count = std::max<std::size_t>(1, (message.size() + chunk_size - 1) / chunk_size);
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t offset = i * chunk_size;
    push_chunk(message.subspan(offset, std::min(chunk_size, message.size() - offset)), static_cast<std::uint32_t>(i),
               static_cast<std::uint32_t>(count));
  }
}

std::size_t SendQueue::push_stream(std::span<const std::byte> bytes, std::size_t chunk_size) {
  RUDP_ASSERT(chunk_size > 0);
  const std::size_t take = std::min(bytes.size(), available());
  for (std::size_t offset = 0; offset < take; offset += chunk_size) {
    push_chunk(bytes.subspan(offset, std::min(chunk_size, take - offset)), 0, 1);
  }
  return take;
}

const Chunk* SendQueue::find(std::uint64_t sequence) const noexcept {
  if (sequence < first_sequence_ || sequence - first_sequence_ >= chunks_.size()) return nullptr;
  return &chunks_[sequence - first_sequence_];
}

Chunk* SendQueue::find(std::uint64_t sequence) noexcept {
  if (sequence < first_sequence_ || sequence - first_sequence_ >= chunks_.size()) return nullptr;
  return &chunks_[sequence - first_sequence_];
}

const Chunk* SendQueue::peek() const noexcept {
  for (const std::uint64_t sequence : resend_) {
    const Chunk* chunk = find(sequence);
    if (chunk && !chunk->acked) return chunk;
  }
  return next_new_ < chunks_.size() ? &chunks_[next_new_] : nullptr;
}

Chunk* SendQueue::next_to_send() noexcept {
  // Acknowledged chunks leave the re-send queue lazily, here.
  while (!resend_.empty()) {
    const Chunk* chunk = find(resend_.front());
    if (chunk && !chunk->acked) break;
    resend_.pop_front();
  }
  const Chunk* next = peek();
  return next ? find(next->sequence) : nullptr;
}

void SendQueue::on_sent(Chunk& chunk) noexcept {
  if (chunk.resend) {
    RUDP_ASSERT(!resend_.empty() && resend_.front() == chunk.sequence);
    resend_.pop_front();
    chunk.resend = false;
  } else {
    RUDP_ASSERT(next_new_ < chunks_.size() && &chunks_[next_new_] == &chunk);
    ++next_new_;
  }
  chunk.sent = true;
}

void SendQueue::on_acked(std::uint64_t sequence) noexcept {
  Chunk* chunk = find(sequence);
  if (!chunk || chunk->acked) return;
  chunk->acked = true;
  while (!chunks_.empty() && chunks_.front().acked) {
    buffered_ -= chunks_.front().bytes.size();
    chunks_.pop_front();
    ++first_sequence_;
    RUDP_ASSERT(next_new_ > 0);
    --next_new_;
  }
}

void SendQueue::on_lost(std::uint64_t sequence) {
  Chunk* chunk = find(sequence);
  if (!chunk || chunk->acked || chunk->resend) return;
  chunk->resend = true;
  resend_.push_back(sequence);
}

}  // namespace rudp::core
