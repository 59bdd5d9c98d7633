// SPDX-License-Identifier: MIT
#include "rudp/core/deadline_heap.hpp"

#include "rudp/assert.hpp"

namespace rudp::core {

void DeadlineHeap::place(std::size_t at, const Entry& e) noexcept {
  heap_[at] = e;
  position_[e.id] = static_cast<std::uint32_t>(at);
}

void DeadlineHeap::sift_up(std::size_t at) noexcept {
  const Entry e = heap_[at];
  while (at > 0) {
    const std::size_t parent = (at - 1) / 2;
    if (!before(e, heap_[parent])) break;
    place(at, heap_[parent]);
    at = parent;
  }
  place(at, e);
}

void DeadlineHeap::sift_down(std::size_t at) noexcept {
  const Entry e = heap_[at];
  const std::size_t n = heap_.size();
  while (true) {
    std::size_t child = 2 * at + 1;
    if (child >= n) break;
    if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
    if (!before(heap_[child], e)) break;
    place(at, heap_[child]);
    at = child;
  }
  place(at, e);
}

void DeadlineHeap::set(std::uint32_t id, Instant deadline) {
  RUDP_ASSERT(id != kAbsent);
  if (id >= position_.size()) position_.resize(std::size_t{id} + 1, kAbsent);
  const std::uint32_t at = position_[id];
  if (at == kAbsent) {
    heap_.push_back({deadline, id});
    sift_up(heap_.size() - 1);
    return;
  }
  const Instant old = heap_[at].deadline;
  heap_[at].deadline = deadline;
  if (deadline < old) {
    sift_up(at);
  } else {
    sift_down(at);
  }
}

void DeadlineHeap::erase(std::uint32_t id) noexcept {
  if (id >= position_.size() || position_[id] == kAbsent) return;
  const std::size_t at = position_[id];
  position_[id] = kAbsent;
  const Entry last = heap_.back();
  heap_.pop_back();
  if (at == heap_.size()) return;  // it was the last entry
  // The last entry fills the hole, then moves whichever way restores the order.
  place(at, last);
  if (at > 0 && before(last, heap_[(at - 1) / 2])) {
    sift_up(at);
  } else {
    sift_down(at);
  }
}

std::optional<std::pair<Instant, std::uint32_t>> DeadlineHeap::earliest() const noexcept {
  if (heap_.empty()) return std::nullopt;
  return std::pair{heap_.front().deadline, heap_.front().id};
}

std::optional<Instant> DeadlineHeap::deadline(std::uint32_t id) const noexcept {
  if (id >= position_.size() || position_[id] == kAbsent) return std::nullopt;
  return heap_[position_[id]].deadline;
}

}  // namespace rudp::core
