// SPDX-License-Identifier: MIT
// A set of small unsigned integers that finds the next member at or after
// any value in a few word operations, however large the set: one bit per
// value in 64-bit words, and above them summary levels of one bit per
// non-empty word of the level below, up to a single word (three levels
// cover 262,144 values, four cover 16.7 million). It holds 1/8 byte per
// value below the largest ever inserted and allocates only to grow. The
// endpoint marks in one the connections that may have something to send, so
// poll_transmit visits those in index order and none other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace rudp::core {

class IndexSet {
 public:
  void insert(std::uint32_t value);
  void erase(std::uint32_t value) noexcept;
  bool contains(std::uint32_t value) const noexcept;
  bool empty() const noexcept { return levels_.empty() || levels_.back().front() == 0; }

  /// The smallest member at or after `value`; nullopt when there is none.
  std::optional<std::uint32_t> next(std::uint32_t value) const noexcept;

 private:
  using Words = std::vector<std::uint64_t>;
  void grow(std::size_t words);

  std::vector<Words> levels_;  // levels_[0]: a bit per value; levels_[k + 1]: a bit per non-zero word of levels_[k]
};

}  // namespace rudp::core
