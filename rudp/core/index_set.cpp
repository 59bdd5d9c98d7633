// SPDX-License-Identifier: MIT
#include "rudp/core/index_set.hpp"

#include <bit>

namespace rudp::core {
namespace {

constexpr std::uint64_t bit(std::size_t position) noexcept { return std::uint64_t{1} << (position % 64); }

}  // namespace

// Makes room for `words` words at level 0 and keeps a summary of every level
// that has more than one word.
void IndexSet::grow(std::size_t words) {
  if (levels_.empty()) levels_.emplace_back(1, 0);
  if (levels_[0].size() >= words) return;
  levels_[0].resize(words, 0);
  for (std::size_t k = 0; levels_[k].size() > 1; ++k) {
    const std::size_t above = (levels_[k].size() + 63) / 64;
    if (k + 1 < levels_.size()) {
      levels_[k + 1].resize(above, 0);  // the new words summarise new, empty words
      continue;
    }
    Words summary(above, 0);
    for (std::size_t w = 0; w < levels_[k].size(); ++w) {
      if (levels_[k][w] != 0) summary[w / 64] |= bit(w);
    }
    levels_.push_back(std::move(summary));
  }
}

void IndexSet::insert(std::uint32_t value) {
  grow(std::size_t{value} / 64 + 1);
  std::size_t position = value;
  for (Words& level : levels_) {
    std::uint64_t& word = level[position / 64];
    const bool was_empty = word == 0;
    word |= bit(position);
    if (!was_empty) return;  // the levels above already show this word
    position /= 64;
  }
}

void IndexSet::erase(std::uint32_t value) noexcept {
  std::size_t position = value;
  if (levels_.empty() || position / 64 >= levels_[0].size()) return;
  for (Words& level : levels_) {
    std::uint64_t& word = level[position / 64];
    word &= ~bit(position);
    if (word != 0) return;  // the word is still non-empty above
    position /= 64;
  }
}

bool IndexSet::contains(std::uint32_t value) const noexcept {
  const std::size_t word = std::size_t{value} / 64;
  return !levels_.empty() && word < levels_[0].size() && (levels_[0][word] & bit(value)) != 0;
}

// Up the levels to the first word with a member at or after the position
// looked for (above level 0, the position of the next non-empty word below),
// then down through the lowest member of each word named. Without recursion:
// poll_transmit asks several times per datagram, nearly always of one word.
std::optional<std::uint32_t> IndexSet::next(std::uint32_t value) const noexcept {
  std::size_t position = value;
  std::size_t level = 0;
  while (true) {
    if (level == levels_.size()) return std::nullopt;
    const Words& words = levels_[level];
    const std::size_t w = position / 64;
    if (w >= words.size()) return std::nullopt;
    const std::uint64_t rest = words[w] & (~std::uint64_t{0} << (position % 64));
    if (rest != 0) {
      position = w * 64 + static_cast<std::size_t>(std::countr_zero(rest));
      break;
    }
    position = w + 1;
    ++level;
  }
  while (level > 0) {
    --level;
    position = position * 64 + static_cast<std::size_t>(std::countr_zero(levels_[level][position]));
  }
  return static_cast<std::uint32_t>(position);
}

}  // namespace rudp::core
