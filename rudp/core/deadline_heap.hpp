// SPDX-License-Identifier: MIT
// The earliest of many deadlines, each named by a small integer id: a binary
// min-heap of (deadline, id) that remembers where each id sits in it, so one
// id's deadline is set, moved or removed in O(log n) and the earliest is read
// in O(1). The endpoint keeps one entry per connection that has a timer, so
// next_timeout() and handle_timeout() need not ask every connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "rudp/clock.hpp"

namespace rudp::core {

class DeadlineHeap {
 public:
  /// Sets the deadline of `id`, adding `id` if it has none.
  void set(std::uint32_t id, Instant deadline);
  /// Removes the deadline of `id`; nothing happens if it has none.
  void erase(std::uint32_t id) noexcept;

  /// The earliest deadline and its id; of equal deadlines, the smallest id's.
  /// nullopt when empty.
  std::optional<std::pair<Instant, std::uint32_t>> earliest() const noexcept;
  /// The deadline of `id`, if it has one.
  std::optional<Instant> deadline(std::uint32_t id) const noexcept;

  std::size_t size() const noexcept { return heap_.size(); }
  bool empty() const noexcept { return heap_.empty(); }

 private:
  struct Entry {
    Instant deadline;
    std::uint32_t id = 0;
  };
  static constexpr std::uint32_t kAbsent = ~std::uint32_t{0};

  static bool before(const Entry& a, const Entry& b) noexcept {
    return a.deadline < b.deadline || (a.deadline == b.deadline && a.id < b.id);
  }
  void place(std::size_t at, const Entry& e) noexcept;
  void sift_up(std::size_t at) noexcept;
  void sift_down(std::size_t at) noexcept;

  std::vector<Entry> heap_;               // heap_[0] is the earliest; children of i at 2i+1 and 2i+2
  std::vector<std::uint32_t> position_;   // id -> its index in heap_, or kAbsent
};

}  // namespace rudp::core
