// SPDX-License-Identifier: MIT
// The queue the connection's units keep their FIFOs in: elements pushed at
// the back, popped at either end, read by index from the front, in one
// circular buffer. It replaces std::deque, whose libstdc++ version allocates
// about 600 bytes (a map and a 512-byte block) as soon as it is constructed
// and keeps them while empty; a connection held eleven, so 10,000 idle
// connections held 66 MB of empty queues. A Ring allocates nothing until its
// first push, doubles when full and halves when three quarters are unused, so
// a burst does not leave its peak behind. Once empty it keeps only a buffer
// of the first size (about 64 bytes): a queue that fills and drains with every
// message then does not allocate each time (freeing on empty cost a
// single-connection exchange 7% more CPU per datagram), and an idle
// connection holds a few such buffers.
#pragma once

#include <algorithm>
#include <bit>
#include <compare>
#include <cstddef>
#include <iterator>
#include <memory>
#include <type_traits>
#include <utility>

#include "rudp/assert.hpp"

namespace rudp::core {

template <class T>
class Ring {
  template <bool Const>
  class Iterator;

 public:
  using value_type = T;
  using size_type = std::size_t;
  using iterator = Iterator<false>;
  using const_iterator = Iterator<true>;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  Ring() noexcept = default;
  Ring(const Ring& other) {
    if (!other.empty()) reallocate(std::bit_ceil(std::max(other.size_, kFirstCapacity)));
    for (const T& value : other) push_back(value);
  }
  Ring(Ring&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        head_(std::exchange(other.head_, 0)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  Ring& operator=(const Ring& other) {
    if (this != &other) *this = Ring(other);
    return *this;
  }
  Ring& operator=(Ring&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      head_ = std::exchange(other.head_, 0);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }
  ~Ring() { release(); }

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  /// Elements the buffer holds room for (0 when none is allocated).
  std::size_t capacity() const noexcept { return capacity_; }

  T& operator[](std::size_t i) noexcept { return data_[slot(i)]; }
  const T& operator[](std::size_t i) const noexcept { return data_[slot(i)]; }
  T& front() noexcept { return (*this)[0]; }
  const T& front() const noexcept { return (*this)[0]; }
  T& back() noexcept { return (*this)[size_ - 1]; }
  const T& back() const noexcept { return (*this)[size_ - 1]; }

  template <class... Args>
  T& emplace_back(Args&&... args) {
    if (size_ < capacity_) {
      T* at = std::construct_at(data_ + slot(size_), std::forward<Args>(args)...);
      ++size_;
      return *at;
    }
    // Full: the new element is made in the new buffer before the others
    // move there, so an argument may refer to one of them.
    const std::size_t capacity = capacity_ == 0 ? kFirstCapacity : 2 * capacity_;
    std::allocator<T> allocator;
    T* data = allocator.allocate(capacity);
    T* at = nullptr;
    try {
      at = std::construct_at(data + size_, std::forward<Args>(args)...);
    } catch (...) {
      allocator.deallocate(data, capacity);
      throw;
    }
    move_to(data, capacity);
    ++size_;
    return *at;
  }
  void push_back(const T& value) { emplace_back(value); }
  void push_back(T&& value) { emplace_back(std::move(value)); }

  void pop_front() noexcept {
    RUDP_ASSERT(size_ > 0);
    std::destroy_at(data_ + head_);
    head_ = (head_ + 1) & (capacity_ - 1);
    --size_;
    after_pop();
  }
  void pop_back() noexcept {
    RUDP_ASSERT(size_ > 0);
    std::destroy_at(data_ + slot(size_ - 1));
    --size_;
    after_pop();
  }

  /// Removes every element and frees the buffer.
  void clear() noexcept { release(); }

  /// Makes size() `n`, appending value-initialised elements or popping from the back.
  void resize(std::size_t n) {
    while (size_ > n) pop_back();
    while (size_ < n) emplace_back();
  }

  /// Removes the elements for which `pred` holds, keeping the others' order;
  /// returns how many went.
  template <class Pred>
  std::size_t erase_if(Pred pred) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < size_; ++i) {
      if (pred(std::as_const((*this)[i]))) continue;
      if (kept != i) (*this)[kept] = std::move((*this)[i]);
      ++kept;
    }
    const std::size_t removed = size_ - kept;
    resize(kept);
    return removed;
  }

  iterator begin() noexcept { return {this, 0}; }
  iterator end() noexcept { return {this, size_}; }
  const_iterator begin() const noexcept { return {this, 0}; }
  const_iterator end() const noexcept { return {this, size_}; }
  reverse_iterator rbegin() noexcept { return reverse_iterator(end()); }
  reverse_iterator rend() noexcept { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const noexcept { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const noexcept { return const_reverse_iterator(begin()); }

 private:
  // The first buffer holds about 64 bytes' worth, and at least one element.
  static constexpr std::size_t kFirstCapacity = std::bit_floor(std::max<std::size_t>(1, 64 / sizeof(T)));

  std::size_t slot(std::size_t i) const noexcept { return (head_ + i) & (capacity_ - 1); }

  // Moving never throws for the element types the core keeps here, so a
  // reallocation cannot leave elements half moved.
  static_assert(std::is_nothrow_move_constructible_v<T>);

  // Moves the elements, in order, to the front of `data`, a buffer of
  // `capacity` (a power of two) that becomes the ring's.
  void move_to(T* data, std::size_t capacity) noexcept {
    for (std::size_t i = 0; i < size_; ++i) {
      T& from = (*this)[i];
      std::construct_at(data + i, std::move(from));
      std::destroy_at(&from);
    }
    if (data_) std::allocator<T>().deallocate(data_, capacity_);
    data_ = data;
    head_ = 0;
    capacity_ = capacity;
  }

  void reallocate(std::size_t capacity) { move_to(std::allocator<T>().allocate(capacity), capacity); }

  void after_pop() noexcept {
    if (size_ == 0) {
      if (capacity_ > kFirstCapacity) release();  // else kept for the next push
    } else if (size_ <= capacity_ / 4 && capacity_ / 2 >= kFirstCapacity) {
      // Halving moves the elements; it happens after a quarter of the pops
      // that filled the buffer, so each pop pays for a constant number of moves.
      try {
        reallocate(capacity_ / 2);
      } catch (...) {
        // Out of memory: keep the larger buffer.
      }
    }
  }

  void release() noexcept {
    for (std::size_t i = 0; i < size_; ++i) std::destroy_at(&(*this)[i]);
    if (data_) std::allocator<T>().deallocate(data_, capacity_);
    data_ = nullptr;
    head_ = 0;
    size_ = 0;
    capacity_ = 0;
  }

  T* data_ = nullptr;
  std::size_t head_ = 0;  // slot of the front element
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;  // 0 or a power of two
};

// A random-access iterator: the ring and an index from the front.
template <class T>
template <bool Const>
class Ring<T>::Iterator {
  using RingPtr = std::conditional_t<Const, const Ring*, Ring*>;

 public:
  using iterator_category = std::random_access_iterator_tag;
  using iterator_concept = std::random_access_iterator_tag;
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using pointer = std::conditional_t<Const, const T*, T*>;
  using reference = std::conditional_t<Const, const T&, T&>;

  Iterator() noexcept = default;
  Iterator(RingPtr ring, std::size_t index) noexcept : ring_(ring), index_(index) {}
  // An iterator converts to a const_iterator, not the other way.
  template <bool OtherConst>
    requires(Const && !OtherConst)
  Iterator(const Iterator<OtherConst>& other) noexcept : ring_(other.ring_), index_(other.index_) {}

  reference operator*() const noexcept { return (*ring_)[index_]; }
  pointer operator->() const noexcept { return &(*ring_)[index_]; }
  reference operator[](difference_type n) const noexcept { return (*ring_)[offset(n)]; }

  Iterator& operator++() noexcept {
    ++index_;
    return *this;
  }
  Iterator operator++(int) noexcept {
    Iterator old = *this;
    ++index_;
    return old;
  }
  Iterator& operator--() noexcept {
    --index_;
    return *this;
  }
  Iterator operator--(int) noexcept {
    Iterator old = *this;
    --index_;
    return old;
  }
  Iterator& operator+=(difference_type n) noexcept {
    index_ = offset(n);
    return *this;
  }
  Iterator& operator-=(difference_type n) noexcept {
    index_ = offset(-n);
    return *this;
  }
  friend Iterator operator+(Iterator it, difference_type n) noexcept { return it += n; }
  friend Iterator operator+(difference_type n, Iterator it) noexcept { return it += n; }
  friend Iterator operator-(Iterator it, difference_type n) noexcept { return it -= n; }
  friend difference_type operator-(const Iterator& a, const Iterator& b) noexcept {
    return static_cast<difference_type>(a.index_) - static_cast<difference_type>(b.index_);
  }
  friend bool operator==(const Iterator& a, const Iterator& b) noexcept { return a.index_ == b.index_; }
  friend auto operator<=>(const Iterator& a, const Iterator& b) noexcept { return a.index_ <=> b.index_; }

 private:
  friend class Iterator<true>;
  std::size_t offset(difference_type n) const noexcept {
    return static_cast<std::size_t>(static_cast<difference_type>(index_) + n);
  }

  RingPtr ring_ = nullptr;
  std::size_t index_ = 0;
};

}  // namespace rudp::core
