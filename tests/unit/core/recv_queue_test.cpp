// SPDX-License-Identifier: MIT
// Unit tests of RecvQueue: chunks in any order delivered in sequence order,
// fragments reassembled, duplicates, credit (in chunk_cost units) and its
// violation, inconsistent fragment numbering, stream and message reads, and
// seeded shuffles of chunk arrival that must always give back the messages.
#include "rudp/core/recv_queue.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../wire/wire_test_support.hpp"
#include "rudp/core/send_queue.hpp"

using namespace rudp;
using namespace rudp::core;
using rudp::wire::test::coin;
using rudp::wire::test::Rng;
using rudp::wire::test::test_seeds;
using rudp::wire::test::uniform;

namespace {

std::vector<std::byte> bytes_of(std::string_view text) {
  std::vector<std::byte> out;
  for (const char c : text) out.push_back(static_cast<std::byte>(c));
  return out;
}

std::string text_of(std::span<const std::byte> bytes) {
  std::string out;
  for (const std::byte b : bytes) out += static_cast<char>(b);
  return out;
}

/// A reliable DATA frame of the channel; its payload is a view of `payload`.
wire::DataFrame chunk(std::uint64_t sequence, std::span<const std::byte> payload, std::uint32_t index = 0,
                      std::uint32_t count = 1) {
  wire::DataFrame frame;
  frame.mode = DeliveryMode::reliable_ordered;
  frame.sequence = sequence;
  frame.fragment_index = index;
  frame.fragment_count = count;
  frame.payload = payload;
  return frame;
}

ChunkVerdict offer(RecvQueue& queue, std::uint64_t sequence, std::string_view text, std::uint32_t index = 0,
                   std::uint32_t count = 1) {
  const auto payload = bytes_of(text);
  return queue.on_chunk(chunk(sequence, payload, index, count));
}

/// The next whole message as text; REQUIREs that one is ready.
std::string next_message(RecvQueue& queue) {
  std::vector<std::byte> buffer(4096);
  const auto size = queue.read_message(buffer);
  REQUIRE(size.has_value());
  return text_of(std::span(buffer).first(*size));
}

/// What read() gives for a buffer of `size` bytes.
std::string read_text(RecvQueue& queue, std::size_t size) {
  std::vector<std::byte> buffer(size);
  return text_of(std::span(buffer).first(queue.read(buffer)));
}

/// A message of `size` bytes: the low byte of `tag` and then counting up.
std::vector<std::byte> message_bytes(std::size_t tag, std::size_t size) {
  std::vector<std::byte> out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = std::byte(static_cast<std::uint8_t>(tag + i));
  return out;
}

struct Chunks {
  std::vector<std::vector<std::byte>> messages;
  std::vector<wire::DataFrame> frames;  // in sequence order; payloads point into `messages`
  std::uint64_t cost = 0;               // credit all the frames cost
};

/// Random messages of 0 to 300 bytes cut as SendQueue::push_message does,
/// into chunks of a random size per message.
Chunks random_chunks(Rng& rng, std::size_t message_count) {
  Chunks out;
  out.messages.reserve(message_count);
  std::uint64_t sequence = 0;
  for (std::size_t m = 0; m < message_count; ++m) {
    const auto& message = out.messages.emplace_back(message_bytes(m, static_cast<std::size_t>(uniform(rng, 0, 300))));
    const auto chunk_size = static_cast<std::size_t>(uniform(rng, 1, 80));
    const std::size_t count = std::max<std::size_t>(1, (message.size() + chunk_size - 1) / chunk_size);
    for (std::size_t i = 0; i < count; ++i) {
      const auto payload = std::span(message).subspan(i * chunk_size, std::min(chunk_size, message.size() - i * chunk_size));
      out.frames.push_back(chunk(sequence++, payload, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(count)));
      out.cost += chunk_cost(payload.size());
    }
  }
  return out;
}

/// `frames` shuffled, with about one in eight sent twice.
std::vector<wire::DataFrame> shuffled_with_duplicates(Rng& rng, const std::vector<wire::DataFrame>& frames) {
  std::vector<wire::DataFrame> arrivals = frames;
  for (const wire::DataFrame& frame : frames) {
    if (uniform(rng, 0, 7) == 0) arrivals.push_back(frame);
  }
  std::shuffle(arrivals.begin(), arrivals.end(), rng);
  return arrivals;
}

}  // namespace

TEST_CASE("RecvQueue: chunks out of order are delivered in order", "[core]") {
  RecvQueue queue(10'000);
  CHECK(offer(queue, 2, "c") == ChunkVerdict::accepted);
  CHECK_FALSE(queue.readable());
  CHECK_FALSE(queue.next_message_size().has_value());
  CHECK(offer(queue, 0, "a") == ChunkVerdict::accepted);
  CHECK(queue.readable());
  CHECK(queue.next_message_size() == 1u);
  CHECK(next_message(queue) == "a");

  std::vector<std::byte> buffer(16);
  CHECK(queue.read_message(buffer).error() == errc::would_block);  // 1 is missing
  CHECK_FALSE(queue.readable());

  CHECK(offer(queue, 1, "bb") == ChunkVerdict::accepted);
  CHECK(next_message(queue) == "bb");
  CHECK(next_message(queue) == "c");
  CHECK_FALSE(queue.readable());
  CHECK(queue.buffered_bytes() == 0u);
}

TEST_CASE("RecvQueue: fragments are reassembled into one message", "[core]") {
  RecvQueue queue(10'000);
  CHECK(offer(queue, 3, "ld", 2, 3) == ChunkVerdict::accepted);
  CHECK(offer(queue, 1, "hello", 0, 3) == ChunkVerdict::accepted);
  CHECK_FALSE(queue.readable());  // message 0 is missing
  CHECK(offer(queue, 0, "x") == ChunkVerdict::accepted);
  CHECK(next_message(queue) == "x");
  CHECK_FALSE(queue.readable());  // fragment 1 is missing
  CHECK(queue.buffered_bytes() == 7u);

  CHECK(offer(queue, 2, ", wor", 1, 3) == ChunkVerdict::accepted);
  CHECK(queue.next_message_size() == 12u);
  CHECK(next_message(queue) == "hello, world");
  CHECK(queue.buffered_bytes() == 0u);
}

TEST_CASE("RecvQueue: duplicates are detected and cost nothing", "[core]") {
  RecvQueue queue(10'000);
  CHECK(offer(queue, 0, "a") == ChunkVerdict::accepted);
  CHECK(offer(queue, 2, "c") == ChunkVerdict::accepted);
  const std::uint64_t used = queue.used();
  CHECK(used == 2 * chunk_cost(1));

  CHECK(queue.has_chunk(0));
  CHECK_FALSE(queue.has_chunk(1));
  CHECK(queue.has_chunk(2));
  CHECK_FALSE(queue.has_chunk(3));
  CHECK(offer(queue, 2, "c") == ChunkVerdict::duplicate);  // waiting for 1
  CHECK(offer(queue, 0, "a") == ChunkVerdict::duplicate);  // delivered, not yet read
  CHECK(next_message(queue) == "a");
  CHECK(offer(queue, 0, "a") == ChunkVerdict::duplicate);  // read
  CHECK(queue.used() == used);
  CHECK(queue.buffered_bytes() == 1u);
  CHECK_FALSE(queue.readable());
}

TEST_CASE("RecvQueue: a chunk beyond the credit limit is a violation", "[core]") {
  const std::uint64_t window = chunk_cost(10) + chunk_cost(5);
  RecvQueue queue(window);
  CHECK(queue.limit() == window);
  CHECK(queue.used() == 0u);

  CHECK(offer(queue, 1, "12345") == ChunkVerdict::accepted);
  CHECK(offer(queue, 0, "0123456789") == ChunkVerdict::accepted);
  CHECK(queue.used() == queue.limit());  // exactly at the limit is allowed
  CHECK(queue.limit() == window);        // nothing read yet

  // Even an empty chunk costs its bookkeeping.
  CHECK(offer(queue, 2, "") == ChunkVerdict::violation);
  CHECK(queue.used() == window);

  // Reading releases what the message cost.
  CHECK(next_message(queue) == "0123456789");
  CHECK(queue.limit() == window + chunk_cost(10));
  CHECK(offer(queue, 2, "abcdefghijk") == ChunkVerdict::violation);  // one byte too many
  CHECK(offer(queue, 2, "abcdefghij") == ChunkVerdict::accepted);
  CHECK(queue.used() == queue.limit());
}

TEST_CASE("RecvQueue: inconsistent fragment numbering is a violation", "[core]") {
  RecvQueue queue(10'000);
  SECTION("fragments disagree on the count") {
    CHECK(offer(queue, 0, "a", 0, 3) == ChunkVerdict::accepted);
    CHECK(offer(queue, 1, "b", 1, 2) == ChunkVerdict::violation);
  }
  SECTION("a fragment has the wrong index") {
    CHECK(offer(queue, 0, "a", 0, 2) == ChunkVerdict::accepted);
    CHECK(offer(queue, 1, "b") == ChunkVerdict::violation);
  }
  SECTION("the mismatch is found when the gap before it fills") {
    CHECK(offer(queue, 1, "b", 1, 2) == ChunkVerdict::accepted);
    CHECK(offer(queue, 2, "c") == ChunkVerdict::accepted);
    CHECK(offer(queue, 0, "a", 0, 3) == ChunkVerdict::violation);
  }
  SECTION("the first fragment would come before the first chunk") {
    CHECK(offer(queue, 0, "b", 1, 2) == ChunkVerdict::violation);
  }
  SECTION("the first fragment would come before what was delivered") {
    CHECK(offer(queue, 0, "a") == ChunkVerdict::accepted);
    CHECK(offer(queue, 1, "c", 2, 3) == ChunkVerdict::violation);
  }
  SECTION("a later fragment whose message began before what was delivered is refused at once") {
    CHECK(offer(queue, 0, "a") == ChunkVerdict::accepted);
    CHECK(offer(queue, 2, "c", 2, 3) == ChunkVerdict::violation);
  }
  SECTION("a fragment of a fragmented message is empty") {
    CHECK(offer(queue, 0, "", 0, 2) == ChunkVerdict::violation);
  }
}

TEST_CASE("RecvQueue: read() crosses message boundaries and resumes partial reads", "[core]") {
  const std::uint64_t window = 10'000;
  RecvQueue queue(window);
  REQUIRE(offer(queue, 0, "abc") == ChunkVerdict::accepted);
  REQUIRE(offer(queue, 1, "") == ChunkVerdict::accepted);
  REQUIRE(offer(queue, 2, "defg") == ChunkVerdict::accepted);
  REQUIRE(offer(queue, 3, "hi") == ChunkVerdict::accepted);

  CHECK(read_text(queue, 2) == "ab");
  CHECK(queue.next_message_size() == 1u);  // what is left of "abc"
  CHECK(queue.limit() == window);          // credit is released per whole message
  CHECK(queue.buffered_bytes() == 9u);

  CHECK(read_text(queue, 4) == "cdef");  // the rest of "abc", all of "", most of "defg"
  CHECK(queue.limit() == window + chunk_cost(3) + chunk_cost(0));
  CHECK(read_text(queue, 0).empty());

  // A message read after a partial stream read gives what is left of it.
  CHECK(next_message(queue) == "g");
  CHECK(read_text(queue, 10) == "hi");
  CHECK(read_text(queue, 10).empty());
  CHECK_FALSE(queue.readable());
  CHECK(queue.limit() == window + queue.used());
  CHECK(queue.buffered_bytes() == 0u);
}

TEST_CASE("RecvQueue: read_message keeps a message too big for the buffer", "[core]") {
  RecvQueue queue(10'000);
  REQUIRE(offer(queue, 0, "hello") == ChunkVerdict::accepted);
  REQUIRE(offer(queue, 1, "") == ChunkVerdict::accepted);

  std::vector<std::byte> small(3);
  CHECK(queue.read_message(small).error() == errc::buffer_too_small);
  CHECK(queue.next_message_size() == 5u);
  CHECK(queue.readable());
  CHECK(next_message(queue) == "hello");

  // An empty message fits in an empty buffer.
  const auto size = queue.read_message({});
  REQUIRE(size.has_value());
  CHECK(*size == 0u);
  CHECK_FALSE(queue.readable());
}

TEST_CASE("RecvQueue: nothing to read is would_block", "[core]") {
  RecvQueue queue(10'000);
  std::vector<std::byte> buffer(16);
  CHECK(queue.read_message(buffer).error() == errc::would_block);
  CHECK(queue.read(buffer) == 0u);
  CHECK_FALSE(queue.readable());
  CHECK_FALSE(queue.next_message_size().has_value());
  CHECK(queue.buffered_bytes() == 0u);
}

TEST_CASE("RecvQueue: limit() grows by what each message read cost", "[core]") {
  const std::uint64_t window = 1000;
  RecvQueue queue(window);
  REQUIRE(offer(queue, 0, "abcdef", 0, 2) == ChunkVerdict::accepted);
  REQUIRE(offer(queue, 1, "gh", 1, 2) == ChunkVerdict::accepted);
  REQUIRE(offer(queue, 2, "ij") == ChunkVerdict::accepted);
  CHECK(queue.used() == chunk_cost(6) + chunk_cost(2) + chunk_cost(2));
  CHECK(queue.limit() == window);

  CHECK(next_message(queue) == "abcdefgh");
  CHECK(queue.limit() == window + chunk_cost(6) + chunk_cost(2));  // both fragments
  CHECK(next_message(queue) == "ij");
  CHECK(queue.limit() == window + queue.used());
}

TEST_CASE("RecvQueue: any arrival order gives back the messages in order", "[core]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  const Chunks chunks = random_chunks(rng, 60);
  // Exactly the credit everything costs: nothing is read until the end.
  RecvQueue queue(chunks.cost);

  std::vector<bool> seen(chunks.frames.size());
  for (const wire::DataFrame& frame : shuffled_with_duplicates(rng, chunks.frames)) {
    CAPTURE(frame.sequence);
    const auto expected = seen[frame.sequence] ? ChunkVerdict::duplicate : ChunkVerdict::accepted;
    REQUIRE(queue.on_chunk(frame) == expected);
    seen[frame.sequence] = true;
  }
  CHECK(queue.used() == chunks.cost);
  CHECK(queue.used() == queue.limit());

  // No credit is left, not even for an empty chunk.
  CHECK(queue.on_chunk(chunk(chunks.frames.size(), {})) == ChunkVerdict::violation);

  std::vector<std::byte> buffer(300);
  for (const auto& message : chunks.messages) {
    const auto size = queue.read_message(buffer);
    REQUIRE(size.has_value());
    CHECK(std::vector<std::byte>(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*size)) == message);
  }
  CHECK(queue.read_message(buffer).error() == errc::would_block);
  CHECK(queue.limit() == 2 * chunks.cost);
  CHECK(queue.buffered_bytes() == 0u);
}

TEST_CASE("RecvQueue: interleaved arrivals and stream reads give back every byte", "[core]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  const Chunks chunks = random_chunks(rng, 60);
  // Enough credit for the largest message (300 one-byte chunks) and the
  // shuffled rest of its block, so that a chunk refused for credit always
  // leaves something to read.
  const std::uint64_t window = 12'000;
  RecvQueue queue(window);

  std::vector<std::byte> expected;
  for (const auto& message : chunks.messages) expected.insert(expected.end(), message.begin(), message.end());

  // Arrivals are shuffled within a sliding window, so that credit (which
  // only reads release) stays enough; a chunk that does not fit yet waits.
  // (Blocks of 8 sequence numbers keep their shuffled order inside: a stable
  // bucketing, since libstdc++'s stable_sort trips clang 19's deprecations.)
  std::vector<std::vector<wire::DataFrame>> blocks;
  for (const wire::DataFrame& frame : shuffled_with_duplicates(rng, chunks.frames)) {
    const std::size_t block = static_cast<std::size_t>(frame.sequence / 8);
    if (blocks.size() <= block) blocks.resize(block + 1);
    blocks[block].push_back(frame);
  }
  std::vector<wire::DataFrame> arrivals;
  for (const auto& block : blocks) arrivals.insert(arrivals.end(), block.begin(), block.end());
  std::vector<bool> seen(chunks.frames.size());
  std::vector<std::byte> received;
  std::size_t next = 0;
  while (received.size() < expected.size()) {
    CAPTURE(next, received.size());
    if (next < arrivals.size() && coin(rng)) {
      const wire::DataFrame& frame = arrivals[next];
      if (queue.used() + chunk_cost(frame.payload.size()) > queue.limit() && !seen[frame.sequence]) {
        REQUIRE(queue.on_chunk(frame) == ChunkVerdict::violation);
        REQUIRE(queue.readable());  // else credit could never grow again
      } else {
        REQUIRE(queue.on_chunk(frame) == (seen[frame.sequence] ? ChunkVerdict::duplicate : ChunkVerdict::accepted));
        seen[frame.sequence] = true;
        ++next;
      }
    } else {
      std::vector<std::byte> buffer(static_cast<std::size_t>(uniform(rng, 0, 100)));
      const std::size_t n = queue.read(buffer);
      received.insert(received.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
      REQUIRE(received.size() <= expected.size());
    }
  }
  CHECK(received == expected);
  CHECK_FALSE(queue.readable());
  CHECK(queue.limit() == window + queue.used());
}
