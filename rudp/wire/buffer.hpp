// SPDX-License-Identifier: MIT
// Bounded byte Reader and Writer over std::span, with QUIC-style varints
// (RFC 9000 §16: two length bits, then 6, 14, 30 or 62 bits of value, big
// endian). Neither ever touches a byte outside its span. A failed read
// records why, so a parser can chain reads with && and report the cause; a
// failed write makes the Writer fail for good, so a builder checks once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "rudp/assert.hpp"
#include "rudp/errc.hpp"
#include "rudp/wire/limits.hpp"

namespace rudp::wire {

/// Bytes the canonical (shortest) varint encoding of `value` takes: 1, 2, 4 or 8.
constexpr std::size_t varint_size(std::uint64_t value) noexcept {
  if (value < (std::uint64_t{1} << 6)) return 1;
  if (value < (std::uint64_t{1} << 14)) return 2;
  if (value < (std::uint64_t{1} << 30)) return 4;
  return 8;
}

/// Reads from a span, front to back. Every read returns false on failure,
/// leaves the position unchanged and records why in error().
class Reader {
 public:
  explicit Reader(std::span<const std::byte> bytes) noexcept : bytes_(bytes) {}

  std::size_t position() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return bytes_.size() - pos_; }
  bool empty() const noexcept { return pos_ == bytes_.size(); }
  /// Why the last failed read failed.
  errc error() const noexcept { return error_; }

  bool u8(std::uint8_t& out) noexcept {
    if (remaining() < 1) return fail(errc::truncated);
    out = std::to_integer<std::uint8_t>(bytes_[pos_++]);
    return true;
  }

  bool u32(std::uint32_t& out) noexcept {
    if (remaining() < 4) return fail(errc::truncated);
    out = 0;
    for (std::size_t i = 0; i < 4; ++i) out = (out << 8) | std::to_integer<std::uint32_t>(bytes_[pos_ + i]);
    pos_ += 4;
    return true;
  }

  /// A big-endian unsigned integer of `size` (1 to 4) bytes.
  bool uint(std::size_t size, std::uint32_t& out) noexcept {
    RUDP_ASSERT(size >= 1 && size <= 4);
    if (remaining() < size) return fail(errc::truncated);
    out = 0;
    for (std::size_t i = 0; i < size; ++i) out = (out << 8) | std::to_integer<std::uint32_t>(bytes_[pos_ + i]);
    pos_ += size;
    return true;
  }

  /// A canonical varint: one that runs off the end is bad_varint, one longer
  /// than its value needs is non_canonical.
  bool varint(std::uint64_t& out) noexcept {
    if (remaining() < 1) return fail(errc::bad_varint);
    const auto first = std::to_integer<std::uint8_t>(bytes_[pos_]);
    const std::size_t size = std::size_t{1} << (first >> 6);
    if (remaining() < size) return fail(errc::bad_varint);
    std::uint64_t value = first & 0x3f;
    for (std::size_t i = 1; i < size; ++i) value = (value << 8) | std::to_integer<std::uint64_t>(bytes_[pos_ + i]);
    if (varint_size(value) != size) return fail(errc::non_canonical);
    pos_ += size;
    out = value;
    return true;
  }

  /// A varint that must not exceed `max`, else field_out_of_range.
  bool varint(std::uint64_t& out, std::uint64_t max) noexcept {
    const std::size_t start = pos_;
    std::uint64_t value = 0;
    if (!varint(value)) return false;
    if (value > max) {
      pos_ = start;
      return fail(errc::field_out_of_range);
    }
    out = value;
    return true;
  }

  /// The next `size` bytes, as a view into the reader's span.
  bool bytes(std::size_t size, std::span<const std::byte>& out) noexcept {
    if (remaining() < size) return fail(errc::truncated);
    out = bytes_.subspan(pos_, size);
    pos_ += size;
    return true;
  }

  /// Steps over zero bytes and returns how many there were.
  std::size_t skip_zeros() noexcept {
    const std::size_t start = pos_;
    while (pos_ < bytes_.size() && bytes_[pos_] == std::byte{0}) ++pos_;
    return pos_ - start;
  }

  /// Everything not read yet; the reader is then empty.
  std::span<const std::byte> rest() noexcept {
    auto out = bytes_.subspan(pos_);
    pos_ = bytes_.size();
    return out;
  }

  /// A view of the bytes from `start` to the current position.
  std::span<const std::byte> since(std::size_t start) const noexcept {
    return bytes_.subspan(start, pos_ - start);
  }

  /// Records `why` and returns false, for a caller's own semantic checks.
  bool fail(errc why) noexcept {
    error_ = why;
    return false;
  }

 private:
  std::span<const std::byte> bytes_;
  std::size_t pos_ = 0;
  errc error_{};
};

/// Writes into a span, front to back. A write that does not fit writes
/// nothing and makes ok() false for good; the caller checks once at the end.
class Writer {
 public:
  explicit Writer(std::span<std::byte> out) noexcept : out_(out) {}

  bool ok() const noexcept { return ok_; }
  std::size_t position() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return out_.size() - pos_; }
  /// What has been written so far.
  std::span<const std::byte> written() const noexcept { return std::span<const std::byte>(out_).first(pos_); }

  bool u8(std::uint8_t value) noexcept {
    if (!reserve(1)) return false;
    out_[pos_++] = std::byte{value};
    return true;
  }

  bool u32(std::uint32_t value) noexcept { return uint(4, value); }

  /// `value` as a big-endian integer of `size` (1 to 4) bytes; high bits beyond `size` are dropped.
  bool uint(std::size_t size, std::uint32_t value) noexcept {
    RUDP_ASSERT(size >= 1 && size <= 4);
    if (!reserve(size)) return false;
    for (std::size_t i = 0; i < size; ++i) out_[pos_ + i] = std::byte(value >> (8 * (size - 1 - i)));
    pos_ += size;
    return true;
  }

  /// `value` (at most kMaxVarint) in its canonical varint encoding.
  bool varint(std::uint64_t value) noexcept {
    RUDP_ASSERT(value <= kMaxVarint);
    const std::size_t size = varint_size(value);
    if (!reserve(size)) return false;
    const std::uint64_t length_bits = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
    value |= length_bits << (8 * size - 2);
    for (std::size_t i = 0; i < size; ++i) out_[pos_ + i] = std::byte(value >> (8 * (size - 1 - i)));
    pos_ += size;
    return true;
  }

  bool bytes(std::span<const std::byte> data) noexcept {
    if (!reserve(data.size())) return false;
    if (!data.empty()) std::memcpy(out_.data() + pos_, data.data(), data.size());
    pos_ += data.size();
    return true;
  }

  /// Forgets everything written from `position` on, failures included, so a
  /// caller can try a frame and take it back if it did not fit.
  void rewind(std::size_t position) noexcept {
    RUDP_ASSERT(position <= pos_);
    pos_ = position;
    ok_ = true;
  }

  bool zeros(std::size_t count) noexcept {
    if (!reserve(count)) return false;
    std::memset(out_.data() + pos_, 0, count);
    pos_ += count;
    return true;
  }

 private:
  bool reserve(std::size_t size) noexcept {
    if (ok_ && remaining() >= size) return true;
    ok_ = false;
    return false;
  }

  std::span<std::byte> out_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace rudp::wire
