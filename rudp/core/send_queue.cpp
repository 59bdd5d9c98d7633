// SPDX-License-Identifier: MIT
#include "rudp/core/send_queue.hpp"

#include <algorithm>

#include "rudp/assert.hpp"
#include "rudp/core/delivery_mode.hpp"
#include "rudp/wire/limits.hpp"

namespace rudp::core {
namespace {

bool late(const std::optional<Instant>& deadline, Instant now, Duration one_way) noexcept {
  return deadline && now + one_way > *deadline;
}

}  // namespace

Pushed SendQueue::push(std::span<const std::byte> message, const MessageOptions& options,
                       std::size_t chunk_size) {
  RUDP_ASSERT(chunk_size > 0);
  Unsent unsent;
  unsent.bytes.assign(message.begin(), message.end());
  unsent.chunk_size = chunk_size;
  unsent.count = static_cast<std::uint32_t>(std::max<std::size_t>(1, (message.size() + chunk_size - 1) / chunk_size));
  unsent.options = options;
  buffered_ += unsent.bytes.size();
  if (options.supersede_key) {
    // The front message may be under way (an unreliable one partly sent): it
    // is left to finish.
    const auto first = unsent_.begin() + (unreliable_fragment_ > 0 ? 1 : 0);
    const auto old = std::find_if(first, unsent_.end(), [&](const Unsent& u) {
      return u.options.supersede_key == options.supersede_key;
    });
    if (old != unsent_.end()) {
      const Pushed pushed{true, old->options.receipt};
      buffered_ -= old->bytes.size();
      *old = std::move(unsent);
      return pushed;
    }
  }
  unsent_.push_back(std::move(unsent));
  return {};
}

const Chunk* SendQueue::find(std::uint64_t sequence) const noexcept {
  if (sequence < first_sequence_ || sequence - first_sequence_ >= chunks_.size()) return nullptr;
  return &chunks_[sequence - first_sequence_];
}

Chunk* SendQueue::find(std::uint64_t sequence) noexcept {
  if (sequence < first_sequence_ || sequence - first_sequence_ >= chunks_.size()) return nullptr;
  return &chunks_[sequence - first_sequence_];
}

const Chunk* SendQueue::next_resend() const noexcept {
  for (const std::uint64_t sequence : resend_) {
    const Chunk* chunk = find(sequence);
    if (chunk && !chunk->acked) return chunk;
  }
  return nullptr;
}

// The receiver may still miss the oldest chunk not acknowledged, or the
// chunks of an abandoned message whose SKIP it has not acknowledged.
bool SendQueue::reliable_room(std::uint32_t count) const noexcept {
  std::uint64_t base = first_sequence_;
  for (const std::uint64_t skip : skips_in_flight_) base = std::min(base, skip);
  return next_sequence_ + count <= base + wire::kMaxReliableSpan;
}

void SendQueue::expire(Instant now, Duration one_way, Receipts& receipts, QueueNews& news) {
  std::vector<std::byte>().swap(retired_);
  // Chunks acknowledged while waiting to be re-sent leave the queue here.
  while (!resend_.empty()) {
    const Chunk* chunk = find(resend_.front());
    if (chunk && !chunk->acked) break;
    resend_.pop_front();
  }
  while (!unsent_.empty() && late(unsent_.front().options.deadline, now, one_way)) {
    Unsent& front = unsent_.front();
    // An unreliable message may be under way: the receipt of its fragments
    // already sent stays open until their packets' fate is known.
    if (front.options.receipt) {
      const std::uint32_t unsent = reliable(front.options.mode) ? 1 : front.count - unreliable_fragment_;
      receipts.give_up(*front.options.receipt, ReceiptOutcome::expired, unsent);
    }
    buffered_ -= front.bytes.size();
    if (unreliable_fragment_ > 0) {
      unreliable_fragment_ = 0;
      ++next_unreliable_;
    }
    unsent_.pop_front();
    ++news.expired;
  }
  // A re-send that cannot arrive in time, or one beyond the message's limit.
  while (const Chunk* chunk = next_resend()) {
    if (!chunk->tracked) break;
    const std::uint64_t first = chunk->sequence - chunk->fragment_index;
    const Tracked& t = tracked_.at(first);
    if (late(t.deadline, now, one_way)) {
      abandon(first, receipts, ReceiptOutcome::expired);
      ++news.expired;
    } else if (t.max_retransmits && chunk->retransmits >= *t.max_retransmits) {
      abandon(first, receipts, ReceiptOutcome::lost);
      ++news.abandoned;
    } else {
      break;
    }
  }
  // The rest of a message under way that can no longer arrive in time.
  if (next_new_ < chunks_.size() && chunks_[next_new_].tracked) {
    const Chunk& chunk = chunks_[next_new_];
    const std::uint64_t first = chunk.sequence - chunk.fragment_index;
    if (late(tracked_.at(first).deadline, now, one_way)) {
      abandon(first, receipts, ReceiptOutcome::expired);
      ++news.expired;
    }
  }
}

bool SendQueue::deadline_pending() const noexcept {
  if (!unsent_.empty() && unsent_.front().options.deadline) return true;
  const auto has_deadline = [this](const Chunk& chunk) {
    if (!chunk.tracked) return false;
    const auto it = tracked_.find(chunk.sequence - chunk.fragment_index);
    return it != tracked_.end() && it->second.deadline.has_value();
  };
  if (const Chunk* chunk = next_resend(); chunk && has_deadline(*chunk)) return true;
  return next_new_ < chunks_.size() && has_deadline(chunks_[next_new_]);
}

std::optional<NextData> SendQueue::peek() const noexcept {
  const auto frame_of = [this](const Chunk& c) {
    return wire::DataFrame{c.mode, channel_, c.sequence, c.fragment_index, c.fragment_count, true, c.bytes};
  };
  if (const Chunk* chunk = next_resend()) return NextData{frame_of(*chunk), 0, true};
  if (next_new_ < chunks_.size()) return NextData{frame_of(chunks_[next_new_]), 0, false};
  if (unsent_.empty()) return std::nullopt;
  const Unsent& front = unsent_.front();
  if (reliable(front.options.mode)) {
    if (!reliable_room(front.count)) return std::nullopt;
    const std::uint64_t cost = front.bytes.size() + front.count * kChunkCreditOverhead;
    return NextData{{front.options.mode, channel_, next_sequence_, 0, front.count, true, front.piece(0)}, cost, false};
  }
  const bool numbered = wire::has_sequence(front.options.mode, front.count);
  return NextData{{front.options.mode, channel_, numbered ? next_unreliable_ : 0, unreliable_fragment_, front.count,
                   true, front.piece(unreliable_fragment_)},
                  0,
                  false};
}

void SendQueue::start_reliable(Unsent& message) {
  const std::uint64_t first = next_sequence_;
  const bool tracked = message.options.deadline || message.options.max_retransmits || message.options.receipt;
  for (std::uint32_t i = 0; i < message.count; ++i) {
    Chunk chunk;
    chunk.sequence = next_sequence_++;
    chunk.fragment_index = i;
    chunk.fragment_count = message.count;
    chunk.mode = message.options.mode;
    chunk.tracked = tracked;
    if (message.count == 1) {
      chunk.bytes = std::move(message.bytes);
    } else {
      const auto piece = message.piece(i);
      chunk.bytes.assign(piece.begin(), piece.end());
    }
    chunks_.push_back(std::move(chunk));
  }
  if (tracked) {
    const std::uint64_t cost = (message.count == 1 ? chunks_.back().bytes.size() : message.bytes.size()) +
                               message.count * kChunkCreditOverhead;
    tracked_.emplace(first, Tracked{message.options.deadline, message.options.max_retransmits,
                                    message.options.receipt, message.count, message.count, cost});
  }
}

std::optional<ReceiptId> SendQueue::on_sent() {
  std::vector<std::byte>().swap(retired_);
  if (next_resend()) {
    while (true) {
      Chunk* chunk = find(resend_.front());
      resend_.pop_front();
      if (!chunk || chunk->acked) continue;
      chunk->resend = false;
      ++chunk->retransmits;
      return std::nullopt;
    }
  }
  if (next_new_ == chunks_.size()) {
    RUDP_ASSERT(!unsent_.empty());
    Unsent& front = unsent_.front();
    if (!reliable(front.options.mode)) {
      const auto receipt = front.options.receipt;
      if (++unreliable_fragment_ == front.count) {
        buffered_ -= front.bytes.size();
        retired_ = std::move(front.bytes);
        unsent_.pop_front();
        unreliable_fragment_ = 0;
        ++next_unreliable_;
      }
      return receipt;
    }
    start_reliable(front);
    retired_ = std::move(front.bytes);  // empty when it moved into its one chunk
    unsent_.pop_front();
  }
  chunks_[next_new_].sent = true;
  ++next_new_;
  return std::nullopt;
}

void SendQueue::mark_acked(Chunk& chunk) noexcept {
  chunk.acked = true;
  buffered_ -= chunk.bytes.size();
  std::vector<std::byte>().swap(chunk.bytes);
}

void SendQueue::pop_acked() noexcept {
  while (!chunks_.empty() && chunks_.front().acked) {
    chunks_.pop_front();
    ++first_sequence_;
    RUDP_ASSERT(next_new_ > 0);
    --next_new_;
  }
}

void SendQueue::abandon(std::uint64_t first, Receipts& receipts, ReceiptOutcome outcome) {
  const auto it = tracked_.find(first);
  RUDP_ASSERT(it != tracked_.end());
  const Tracked t = it->second;
  tracked_.erase(it);
  for (std::uint64_t s = first; s < first + t.count; ++s) {
    Chunk* chunk = find(s);
    if (chunk && !chunk->acked) mark_acked(*chunk);
  }
  // Fragments never sent are passed over as if sent, so the send position
  // stays past every chunk that is done.
  while (next_new_ < chunks_.size() && chunks_[next_new_].acked) {
    chunks_[next_new_].sent = true;
    ++next_new_;
  }
  pop_acked();
  if (t.receipt) receipts.resolve(*t.receipt, outcome);
  pending_skips_.push_back(wire::SkipFrame{channel_, first, t.count, t.cost});
  skips_in_flight_.push_back(first);
}

std::optional<wire::SkipFrame> SendQueue::peek_skip() const noexcept {
  if (pending_skips_.empty()) return std::nullopt;
  return pending_skips_.front();
}

void SendQueue::on_skip_acked(std::uint64_t sequence) noexcept {
  const auto it = std::find(skips_in_flight_.begin(), skips_in_flight_.end(), sequence);
  if (it != skips_in_flight_.end()) skips_in_flight_.erase(it);
}

void SendQueue::on_skip_lost(const wire::SkipFrame& skip) {
  const bool open = std::find(skips_in_flight_.begin(), skips_in_flight_.end(), skip.sequence) != skips_in_flight_.end();
  const bool queued = std::any_of(pending_skips_.begin(), pending_skips_.end(),
                                  [&](const wire::SkipFrame& p) { return p.sequence == skip.sequence; });
  if (open && !queued) pending_skips_.push_back(skip);
}

void SendQueue::on_acked(std::uint64_t sequence, Receipts& receipts) noexcept {
  Chunk* chunk = find(sequence);
  if (!chunk || chunk->acked) return;
  mark_acked(*chunk);
  if (chunk->tracked) {
    const auto it = tracked_.find(sequence - chunk->fragment_index);
    if (it != tracked_.end() && --it->second.unacked == 0) {
      if (it->second.receipt) receipts.resolve(*it->second.receipt, ReceiptOutcome::acknowledged);
      tracked_.erase(it);
    }
  }
  pop_acked();
}

void SendQueue::on_lost(std::uint64_t sequence) {
  Chunk* chunk = find(sequence);
  if (!chunk || chunk->acked || chunk->resend) return;
  chunk->resend = true;
  resend_.push_back(sequence);
}

}  // namespace rudp::core
