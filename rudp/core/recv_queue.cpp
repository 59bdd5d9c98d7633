// SPDX-License-Identifier: MIT
#include "rudp/core/recv_queue.hpp"

#include "rudp/core/send_queue.hpp"
#include "rudp/wire/limits.hpp"

namespace rudp::core {

bool RecvQueue::done(std::uint64_t sequence) const noexcept {
  return sequence < floor_ || (sequence - floor_ < done_.size() && done_[sequence - floor_]);
}

bool RecvQueue::has_chunk(std::uint64_t sequence) const noexcept {
  return done(sequence) || pending_.contains(sequence);
}

void RecvQueue::mark_done(std::uint64_t first, std::uint64_t count) {
  const std::uint64_t end = first + count - floor_;
  if (done_.size() < end) done_.resize(end);
  for (std::uint64_t s = first; s < first + count; ++s) done_[s - floor_] = true;
}

bool RecvQueue::complete(std::uint64_t first, std::uint32_t count, bool& consistent) const {
  auto it = pending_.find(first);
  if (it == pending_.end()) return false;
  if (count == 1) return true;
  const auto arrived = arrived_.find(first);
  if (arrived == arrived_.end() || arrived->second < count) return false;
  const DeliveryMode mode = it->second.mode;
  for (std::uint32_t i = 0; i < count; ++i, ++it) {
    if (it == pending_.end() || it->first != first + i || it->second.index != i || it->second.count != count ||
        it->second.mode != mode) {
      consistent = false;
      return false;
    }
  }
  return true;
}

void RecvQueue::deliver(std::uint64_t first, std::uint32_t count, Inbox& inbox) {
  Delivered message;
  message.channel = channel_;
  auto it = pending_.find(first);
  message.mode = it->second.mode;
  if (count == 1) {
    message.cost = chunk_cost(it->second.bytes.size());
    message.bytes = std::move(it->second.bytes);
    pending_.erase(it);
    mark_done(first, 1);
    inbox.push(std::move(message));
    return;
  }
  std::size_t size = 0;
  auto scan = it;
  for (std::uint32_t i = 0; i < count; ++i, ++scan) size += scan->second.bytes.size();
  message.bytes.reserve(size);
  for (std::uint32_t i = 0; i < count; ++i) {
    message.bytes.insert(message.bytes.end(), it->second.bytes.begin(), it->second.bytes.end());
    message.cost += chunk_cost(it->second.bytes.size());
    it = pending_.erase(it);
  }
  arrived_.erase(first);
  mark_done(first, count);
  inbox.push(std::move(message));
}

// The chunks next to `frame`'s, where known, must agree with its numbering:
// the one before is its previous fragment (or ends a message), the one after
// its next fragment (or starts a message). Checked on every arrival, this
// catches any two chunks that claim overlapping messages once both are in.
bool RecvQueue::fits_neighbours(const wire::DataFrame& frame) const {
  const auto agrees = [&](const Piece& p, std::uint32_t index) {
    return p.index == index && p.count == frame.fragment_count && p.mode == frame.mode;
  };
  if (frame.sequence > floor_) {
    const std::uint64_t before = frame.sequence - 1;
    if (const auto it = pending_.find(before); it != pending_.end()) {
      if (frame.fragment_index > 0 ? !agrees(it->second, frame.fragment_index - 1)
                                   : it->second.index + 1 != it->second.count) {
        return false;
      }
    } else if (frame.fragment_index > 0 && done(before)) {
      return false;  // its message would include a chunk delivered or skipped without it
    }
  }
  const std::uint64_t after = frame.sequence + 1;
  const bool more = frame.fragment_index + 1 < frame.fragment_count;
  if (const auto it = pending_.find(after); it != pending_.end()) {
    if (more ? !agrees(it->second, frame.fragment_index + 1) : it->second.index != 0) return false;
  } else if (more && done(after)) {
    return false;
  }
  return true;
}

void RecvQueue::note_arrivals() {
  first_missing_ = std::max(first_missing_, floor_);
  while (has_chunk(first_missing_)) ++first_missing_;
}

// Moves the floor past what is done, delivering ordered messages that reach
// it; false when the peer numbered a message's fragments inconsistently.
bool RecvQueue::advance(Inbox& inbox) {
  while (true) {
    while (!done_.empty() && done_.front()) {
      done_.pop_front();
      ++floor_;
    }
    const auto it = pending_.find(floor_);
    if (it == pending_.end()) return true;
    if (it->second.index != 0) return false;  // everything before it is done: it must start a message
    bool consistent = true;
    if (!complete(floor_, it->second.count, consistent)) return consistent;
    deliver(floor_, it->second.count, inbox);
  }
}

ChunkVerdict RecvQueue::on_chunk(const wire::DataFrame& frame, Inbox& inbox) {
  if (has_chunk(frame.sequence)) return ChunkVerdict::duplicate;
  // Every fragment of a message but an empty single-chunk one carries bytes.
  if (frame.fragment_count > 1 && frame.payload.empty()) return ChunkVerdict::violation;
  // The message's first chunk would lie before what was delivered already,
  // or its last beyond the span a sender may run ahead.
  if (frame.sequence - floor_ < frame.fragment_index) return ChunkVerdict::violation;
  const std::uint64_t first = frame.sequence - frame.fragment_index;
  if (first + frame.fragment_count > first_missing_ + wire::kMaxReliableSpan) return ChunkVerdict::violation;
  if (!fits_neighbours(frame)) return ChunkVerdict::violation;
  if (!inbox.charge(chunk_cost(frame.payload.size()))) return ChunkVerdict::violation;
  if (frame.fragment_count == 1 && (frame.sequence == floor_ || frame.mode == DeliveryMode::reliable_unordered)) {
    // The common case, a whole message in one chunk that may be delivered at
    // once (the next in order, or unordered), goes straight to the inbox.
    inbox.push(Delivered{std::vector<std::byte>(frame.payload.begin(), frame.payload.end()), channel_, frame.mode,
                         chunk_cost(frame.payload.size())});
    mark_done(frame.sequence, 1);
  } else {
    pending_.emplace(frame.sequence, Piece{frame.fragment_index, frame.fragment_count, frame.mode,
                                           std::vector<std::byte>(frame.payload.begin(), frame.payload.end())});
    if (frame.fragment_count > 1) ++arrived_[first];
    if (frame.mode == DeliveryMode::reliable_unordered) {
      bool consistent = true;
      if (complete(first, frame.fragment_count, consistent)) deliver(first, frame.fragment_count, inbox);
      if (!consistent) return ChunkVerdict::violation;
    }
  }
  const bool ok = advance(inbox);
  note_arrivals();
  return ok ? ChunkVerdict::accepted : ChunkVerdict::violation;
}

ChunkVerdict RecvQueue::on_skip(const wire::SkipFrame& skip, Inbox& inbox) {
  // Part of it delivered already: the whole message arrived, and its chunks'
  // credit was charged as they came.
  if (skip.sequence < floor_) return ChunkVerdict::duplicate;
  if (skip.sequence + skip.count > first_missing_ + wire::kMaxReliableSpan) return ChunkVerdict::violation;
  for (std::uint64_t s = skip.sequence; s < skip.sequence + skip.count; ++s) {
    if (done(s)) return ChunkVerdict::duplicate;
  }
  // What arrived of the message is dropped and its credit given back; the
  // credit the sender charged for what never arrived is charged and given
  // back at once, so both sides' accounts agree.
  std::uint64_t counted = 0;
  for (auto it = pending_.lower_bound(skip.sequence); it != pending_.end() && it->first < skip.sequence + skip.count;) {
    counted += chunk_cost(it->second.bytes.size());
    arrived_.erase(it->first - it->second.index);
    it = pending_.erase(it);
  }
  inbox.release(counted);
  if (skip.cost < counted || !inbox.charge(skip.cost - counted)) return ChunkVerdict::violation;
  inbox.release(skip.cost - counted);
  mark_done(skip.sequence, skip.count);
  const bool ok = advance(inbox);
  note_arrivals();
  return ok ? ChunkVerdict::accepted : ChunkVerdict::violation;
}

}  // namespace rudp::core
