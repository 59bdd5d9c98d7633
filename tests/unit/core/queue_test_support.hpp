// SPDX-License-Identifier: MIT
// Shared by the tests of the channel units (SendQueue, RecvQueue, Inbox,
// Outbox, Reassembly, Receipts): byte patterns, DATA frames that own their
// payload (a frame from SendQueue::peek() points into the queue and goes stale
// once the queue changes), sending what peek() offers, and Catch printers for
// the units' enums so that a failing check shows names, not numbers.
#pragma once

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../wire/wire_test_support.hpp"
#include "rudp/core/receipts.hpp"
#include "rudp/core/recv_queue.hpp"
#include "rudp/core/send_queue.hpp"
#include "rudp/event.hpp"
#include "rudp/types.hpp"
#include "rudp/wire/frame.hpp"

namespace rudp::core::test {

using rudp::wire::test::coin;
using rudp::wire::test::Rng;
using rudp::wire::test::test_seeds;
using rudp::wire::test::uniform;

/// `size` bytes counting up from `first`, so that every slice differs.
inline std::vector<std::byte> pattern(std::size_t size, std::size_t first = 0) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = std::byte(static_cast<std::uint8_t>(first + i * 7));
  return bytes;
}

inline std::vector<std::byte> bytes_of(std::string_view text) {
  std::vector<std::byte> out;
  for (const char c : text) out.push_back(static_cast<std::byte>(c));
  return out;
}

inline std::string text_of(std::span<const std::byte> bytes) {
  std::string out;
  for (const std::byte b : bytes) out += static_cast<char>(b);
  return out;
}

inline std::vector<std::byte> slice(std::span<const std::byte> bytes, std::size_t offset, std::size_t size) {
  const auto part = bytes.subspan(offset, size);
  return {part.begin(), part.end()};
}

inline bool is_reliable(DeliveryMode mode) {
  return mode == DeliveryMode::reliable_ordered || mode == DeliveryMode::reliable_unordered;
}

/// A DATA frame with its own copy of the payload.
struct OwnedFrame {
  DeliveryMode mode = DeliveryMode::reliable_ordered;
  std::uint8_t channel = 0;
  std::uint64_t sequence = 0;
  std::uint32_t fragment_index = 0;
  std::uint32_t fragment_count = 1;
  std::vector<std::byte> payload;

  OwnedFrame() = default;
  explicit OwnedFrame(const wire::DataFrame& f)
      : mode(f.mode),
        channel(f.channel),
        sequence(f.sequence),
        fragment_index(f.fragment_index),
        fragment_count(f.fragment_count),
        payload(f.payload.begin(), f.payload.end()) {}
  OwnedFrame(DeliveryMode m, std::uint8_t ch, std::uint64_t seq, std::uint32_t index, std::uint32_t count,
             std::vector<std::byte> bytes)
      : mode(m), channel(ch), sequence(seq), fragment_index(index), fragment_count(count), payload(std::move(bytes)) {}

  /// A view of this frame; valid while it lives and is not changed.
  wire::DataFrame view() const {
    return wire::DataFrame{mode, channel, sequence, fragment_index, fragment_count, true, payload};
  }
};

/// What one SendQueue::peek() + on_sent() sent.
struct SentData {
  OwnedFrame frame;
  std::uint64_t credit = 0;
  bool retransmission = false;
  std::optional<ReceiptId> receipt;
};

/// Sends what peek() offers; REQUIREs that something is offered.
inline SentData send_next(SendQueue& queue) {
  const auto next = queue.peek();
  REQUIRE(next.has_value());
  SentData sent{OwnedFrame(next->frame), next->credit, next->retransmission, std::nullopt};
  sent.receipt = queue.on_sent();
  return sent;
}

/// Every receipt outcome polled so far, in order.
inline std::vector<Receipt> poll_all(Receipts& receipts) {
  std::vector<Receipt> out;
  while (auto r = receipts.poll()) out.push_back(*r);
  return out;
}

}  // namespace rudp::core::test

namespace Catch {

template <>
struct StringMaker<rudp::core::ChunkVerdict> {
  static std::string convert(rudp::core::ChunkVerdict v) {
    switch (v) {
      case rudp::core::ChunkVerdict::accepted: return "accepted";
      case rudp::core::ChunkVerdict::duplicate: return "duplicate";
      case rudp::core::ChunkVerdict::violation: return "violation";
    }
    return "?";
  }
};

template <>
struct StringMaker<rudp::ReceiptOutcome> {
  static std::string convert(rudp::ReceiptOutcome o) { return rudp::to_string(o); }
};

template <>
struct StringMaker<rudp::DeliveryMode> {
  static std::string convert(rudp::DeliveryMode m) {
    switch (m) {
      case rudp::DeliveryMode::unreliable: return "unreliable";
      case rudp::DeliveryMode::unreliable_sequenced: return "unreliable_sequenced";
      case rudp::DeliveryMode::reliable_unordered: return "reliable_unordered";
      case rudp::DeliveryMode::reliable_ordered: return "reliable_ordered";
    }
    return "?";
  }
};

}  // namespace Catch
