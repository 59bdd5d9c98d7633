// SPDX-License-Identifier: MIT
// Frame codec. Decoding checks every field against rudp/wire/limits.hpp as it
// reads it; encoding writes only the canonical form, so decode(encode(f)) == f
// and encode(decode(b)) == b for every b that decodes.
#include "rudp/wire/frame.hpp"

#include <algorithm>
#include <type_traits>

#include "rudp/overloaded.hpp"

namespace rudp::wire {
namespace {

bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b) noexcept {
  return std::ranges::equal(a, b);
}

errc decode_ack(Reader& r, AckFrame& f) noexcept {
  std::uint64_t largest = 0;
  std::uint64_t extra = 0;
  std::uint64_t first_length = 0;
  if (!r.varint(largest) || !r.varint(f.ack_delay, kMaxAckDelay) || !r.varint(extra, kMaxAckRanges - 1) ||
      !r.varint(first_length, largest)) {
    return r.error();
  }
  const AckRange first{largest - first_length, largest};
  // Walk the (gap, length) pairs once here, so that iterating AckRanges later
  // can never step below packet number zero.
  const std::size_t gaps_start = r.position();
  std::uint64_t smallest = first.smallest;
  for (std::uint64_t i = 0; i < extra; ++i) {
    std::uint64_t gap = 0;
    std::uint64_t length = 0;
    if (!r.varint(gap) || !r.varint(length)) return r.error();
    if (smallest < 2 || gap > smallest - 2 || length > smallest - 2 - gap) return errc::field_out_of_range;
    smallest = smallest - 2 - gap - length;
  }
  f.ranges = AckRanges(first, extra + 1, r.since(gaps_start));
  return {};
}

bool decode_params(Reader& r, HandshakeParams& p) noexcept {
  if (!r.varint(p.max_datagram_size, kMaxDatagramSize) || !r.varint(p.initial_credit) ||
      !r.varint(p.idle_timeout_ms, kMaxIdleTimeoutMillis)) {
    return false;
  }
  if (p.max_datagram_size < kMinDatagramSize) return r.fail(errc::field_out_of_range);
  return true;
}

bool decode_blob(Reader& r, std::uint64_t max, std::span<const std::byte>& out) noexcept {
  std::uint64_t length = 0;
  return r.varint(length, max) && r.bytes(static_cast<std::size_t>(length), out);
}

errc decode_data(Reader& r, std::uint8_t type, DataFrame& f) noexcept {
  if (type & data_flag::kReserved) return errc::unknown_frame;
  f.mode = static_cast<DeliveryMode>((type & data_flag::kModeMask) >> data_flag::kModeShift);
  f.channel = 0;
  if (type & data_flag::kChannel) {
    if (!r.u8(f.channel)) return r.error();
    if (f.channel == 0) return errc::non_canonical;
  }
  std::uint64_t index = 0;
  std::uint64_t count = 1;
  const bool fragmented = (type & data_flag::kFragment) != 0;
  f.sequence = 0;
  if (has_sequence(f.mode, fragmented ? 2 : 1) && !r.varint(f.sequence)) return r.error();
  if (fragmented) {
    if (!r.varint(index) || !r.varint(count, kMaxFragmentCount)) return r.error();
    if (count < 2 || index >= count) return errc::field_out_of_range;
  }
  f.fragment_index = static_cast<std::uint32_t>(index);
  f.fragment_count = static_cast<std::uint32_t>(count);
  f.explicit_length = (type & data_flag::kLength) != 0;
  if (!f.explicit_length) {
    f.payload = r.rest();
    return {};
  }
  std::uint64_t length = 0;
  if (!r.varint(length)) return r.error();
  if (length > r.remaining()) return errc::truncated;
  r.bytes(static_cast<std::size_t>(length), f.payload);
  return {};
}

errc decode_skip(Reader& r, SkipFrame& f) noexcept {
  if (!r.u8(f.channel) || !r.varint(f.sequence) || !r.varint(f.count, kMaxFragmentCount)) return r.error();
  // The last chunk skipped must itself be a sequence number a varint can carry.
  if (f.count == 0 || f.sequence > kMaxVarint - (f.count - 1)) return errc::field_out_of_range;
  if (!r.varint(f.cost)) return r.error();
  return {};
}

std::uint8_t data_type(const DataFrame& f) noexcept {
  auto type = static_cast<std::uint8_t>(data_flag::kType | (static_cast<std::uint8_t>(f.mode) << data_flag::kModeShift));
  if (f.explicit_length) type |= data_flag::kLength;
  if (f.channel != 0) type |= data_flag::kChannel;
  if (f.fragment_count > 1) type |= data_flag::kFragment;
  return type;
}

void write_params(Writer& w, const HandshakeParams& p) noexcept {
  w.varint(p.max_datagram_size);
  w.varint(p.initial_credit);
  w.varint(p.idle_timeout_ms);
}

void write_blob(Writer& w, std::span<const std::byte> bytes) noexcept {
  w.varint(bytes.size());
  w.bytes(bytes);
}

void write_data(Writer& w, const DataFrame& f) noexcept {
  RUDP_ASSERT(f.fragment_count >= 1 && f.fragment_count <= kMaxFragmentCount && f.fragment_index < f.fragment_count);
  w.u8(data_type(f));
  if (f.channel != 0) w.u8(f.channel);
  if (has_sequence(f.mode, f.fragment_count)) w.varint(f.sequence);
  if (f.fragment_count > 1) {
    w.varint(f.fragment_index);
    w.varint(f.fragment_count);
  }
  if (f.explicit_length) w.varint(f.payload.size());
  w.bytes(f.payload);
}

void write_skip(Writer& w, const SkipFrame& f) noexcept {
  RUDP_ASSERT(f.count >= 1 && f.count <= kMaxFragmentCount && f.sequence <= kMaxVarint - (f.count - 1));
  w.u8(static_cast<std::uint8_t>(FrameType::skip));
  w.u8(f.channel);
  w.varint(f.sequence);
  w.varint(f.count);
  w.varint(f.cost);
}

}  // namespace

std::size_t data_frame_size(const DataFrame& f) noexcept {
  std::size_t size = 1 + (f.channel != 0 ? 1 : 0) + f.payload.size();
  if (has_sequence(f.mode, f.fragment_count)) size += varint_size(f.sequence);
  if (f.fragment_count > 1) size += varint_size(f.fragment_index) + varint_size(f.fragment_count);
  if (f.explicit_length) size += varint_size(f.payload.size());
  return size;
}

AckRanges::iterator& AckRanges::iterator::operator++() noexcept {
  if (--left_ == 0) return *this;
  std::uint64_t gap = 0;
  std::uint64_t length = 0;
  reader_.varint(gap);
  reader_.varint(length);
  const std::uint64_t largest = current_.smallest - 2 - gap;
  current_ = {largest - length, largest};
  return *this;
}

bool operator==(const AckRanges& a, const AckRanges& b) noexcept {
  return a.first_ == b.first_ && a.count_ == b.count_ && same_bytes(a.gaps_, b.gaps_);
}
bool operator==(const CloseFrame& a, const CloseFrame& b) noexcept {
  return a.error_code == b.error_code && same_bytes(a.reason, b.reason);
}
bool operator==(const ResetFrame& a, const ResetFrame& b) noexcept {
  return a.error_code == b.error_code && same_bytes(a.reason, b.reason);
}
bool operator==(const SynAckFrame& a, const SynAckFrame& b) noexcept {
  return a.params == b.params && same_bytes(a.cookie, b.cookie);
}
bool operator==(const CookieAckFrame& a, const CookieAckFrame& b) noexcept {
  return a.params == b.params && same_bytes(a.cookie, b.cookie);
}
bool operator==(const DataFrame& a, const DataFrame& b) noexcept {
  return a.mode == b.mode && a.channel == b.channel && a.sequence == b.sequence &&
         a.fragment_index == b.fragment_index && a.fragment_count == b.fragment_count &&
         a.explicit_length == b.explicit_length && same_bytes(a.payload, b.payload);
}

errc decode_frame(Reader& r, Frame& out) noexcept {
  std::uint8_t type = 0;
  if (!r.u8(type)) return r.error();
  if (type & data_flag::kType) {
    if (!std::holds_alternative<DataFrame>(out)) out.emplace<DataFrame>();
    return decode_data(r, type, std::get<DataFrame>(out));
  }
  switch (static_cast<FrameType>(type)) {
    case FrameType::padding:
      out = PaddingFrame{1 + r.skip_zeros()};
      return {};
    case FrameType::ping:
      out = PingFrame{};
      return {};
    case FrameType::ack: {
      AckFrame f;
      if (const errc e = decode_ack(r, f); e != errc{}) return e;
      out = f;
      return {};
    }
    case FrameType::credit: {
      CreditFrame f;
      if (!r.varint(f.limit)) return r.error();
      out = f;
      return {};
    }
    case FrameType::close: {
      CloseFrame f;
      if (!r.varint(f.error_code) || !decode_blob(r, kMaxReasonLength, f.reason)) return r.error();
      out = f;
      return {};
    }
    case FrameType::reset: {
      ResetFrame f;
      if (!r.varint(f.error_code) || !decode_blob(r, kMaxReasonLength, f.reason)) return r.error();
      out = f;
      return {};
    }
    case FrameType::syn: {
      SynFrame f;
      if (!decode_params(r, f.params)) return r.error();
      out = f;
      return {};
    }
    case FrameType::syn_ack: {
      SynAckFrame f;
      if (!decode_params(r, f.params) || !decode_blob(r, kMaxCookieSize, f.cookie)) return r.error();
      out = f;
      return {};
    }
    case FrameType::cookie_ack: {
      CookieAckFrame f;
      if (!decode_params(r, f.params) || !decode_blob(r, kMaxCookieSize, f.cookie)) return r.error();
      out = f;
      return {};
    }
    case FrameType::skip: {
      SkipFrame f;
      if (const errc e = decode_skip(r, f); e != errc{}) return e;
      out = f;
      return {};
    }
  }
  return errc::unknown_frame;
}

bool encode_frame(Writer& w, const Frame& frame) noexcept {
  std::visit(Overloaded{
                 [&](const PaddingFrame& f) { w.zeros(f.length); },
                 [&](const PingFrame&) { w.u8(static_cast<std::uint8_t>(FrameType::ping)); },
                 [&](const AckFrame& f) { write_ack_frame(w, f.ack_delay, f.ranges); },
                 [&](const CreditFrame& f) {
                   w.u8(static_cast<std::uint8_t>(FrameType::credit));
                   w.varint(f.limit);
                 },
                 [&](const CloseFrame& f) {
                   w.u8(static_cast<std::uint8_t>(FrameType::close));
                   w.varint(f.error_code);
                   write_blob(w, f.reason);
                 },
                 [&](const ResetFrame& f) {
                   w.u8(static_cast<std::uint8_t>(FrameType::reset));
                   w.varint(f.error_code);
                   write_blob(w, f.reason);
                 },
                 [&](const SynFrame& f) {
                   w.u8(static_cast<std::uint8_t>(FrameType::syn));
                   write_params(w, f.params);
                 },
                 [&](const SynAckFrame& f) {
                   w.u8(static_cast<std::uint8_t>(FrameType::syn_ack));
                   write_params(w, f.params);
                   write_blob(w, f.cookie);
                 },
                 [&](const CookieAckFrame& f) {
                   w.u8(static_cast<std::uint8_t>(FrameType::cookie_ack));
                   write_params(w, f.params);
                   write_blob(w, f.cookie);
                 },
                 [&](const DataFrame& f) { write_data(w, f); },
                 [&](const SkipFrame& f) { write_skip(w, f); },
             },
             frame);
  return w.ok();
}

}  // namespace rudp::wire
