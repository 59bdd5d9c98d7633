// SPDX-License-Identifier: MIT
// Unit tests of SendQueue: messages cut into numbered fragments, stream data
// taken up to the capacity, the send order (re-sends first, oldest loss
// first), losses and acknowledgements, capacity freed in order, and a seeded
// run of random pushes, losses and ACKs checked against what was pushed.
#include "rudp/core/send_queue.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <vector>

#include "../wire/wire_test_support.hpp"

using namespace rudp;
using namespace rudp::core;
using rudp::wire::test::coin;
using rudp::wire::test::Rng;
using rudp::wire::test::test_seeds;
using rudp::wire::test::uniform;

namespace {

/// `size` bytes counting up from `first`, so that every slice differs.
std::vector<std::byte> pattern(std::size_t size, std::size_t first = 0) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = std::byte(static_cast<std::uint8_t>(first + i));
  return bytes;
}

std::vector<std::byte> slice(const std::vector<std::byte>& bytes, std::size_t offset, std::size_t size) {
  return {bytes.begin() + static_cast<std::ptrdiff_t>(offset),
          bytes.begin() + static_cast<std::ptrdiff_t>(offset + size)};
}

/// Takes the next chunk to send, marks it sent and returns its sequence.
std::uint64_t send_next(SendQueue& queue) {
  Chunk* chunk = queue.next_to_send();
  REQUIRE(chunk != nullptr);
  CHECK(queue.peek() == chunk);
  queue.on_sent(*chunk);
  CHECK(chunk->sent);
  return chunk->sequence;
}

}  // namespace

TEST_CASE("SendQueue: push_message cuts a message into numbered fragments", "[core]") {
  SendQueue queue(1000);
  const auto message = pattern(250);
  queue.push_message(message, 100);
  CHECK(queue.buffered() == 250u);
  CHECK(queue.available() == 750u);
  CHECK(queue.has_pending());
  CHECK_FALSE(queue.all_acked());

  for (std::uint64_t sequence = 0; sequence < 3; ++sequence) {
    CAPTURE(sequence);
    const Chunk* chunk = queue.find(sequence);
    REQUIRE(chunk != nullptr);
    CHECK(chunk->sequence == sequence);
    CHECK(chunk->fragment_index == sequence);
    CHECK(chunk->fragment_count == 3u);
    CHECK(chunk->bytes == slice(message, 100 * sequence, sequence < 2 ? 100 : 50));
    CHECK_FALSE(chunk->sent);
    CHECK_FALSE(chunk->acked);
  }
  CHECK(queue.find(3) == nullptr);

  // A message of exactly two chunks, then one that fits in one: numbering goes on.
  queue.push_message(pattern(200, 7), 100);
  queue.push_message(pattern(60, 9), 100);
  REQUIRE(queue.find(3) != nullptr);
  CHECK(queue.find(3)->fragment_index == 0u);
  CHECK(queue.find(3)->fragment_count == 2u);
  CHECK(queue.find(4)->fragment_index == 1u);
  CHECK(queue.find(4)->bytes.size() == 100u);
  REQUIRE(queue.find(5) != nullptr);
  CHECK(queue.find(5)->fragment_index == 0u);
  CHECK(queue.find(5)->fragment_count == 1u);
  CHECK(queue.find(5)->bytes == pattern(60, 9));
  CHECK(queue.find(6) == nullptr);
  CHECK(queue.buffered() == 510u);
}

TEST_CASE("SendQueue: an empty message is one empty chunk", "[core]") {
  SendQueue queue(0);
  queue.push_message({}, 100);
  const Chunk* chunk = queue.find(0);
  REQUIRE(chunk != nullptr);
  CHECK(chunk->bytes.empty());
  CHECK(chunk->fragment_index == 0u);
  CHECK(chunk->fragment_count == 1u);
  CHECK(queue.find(1) == nullptr);
  CHECK(queue.buffered() == 0u);
  CHECK(queue.has_pending());
  CHECK_FALSE(queue.all_acked());

  CHECK(send_next(queue) == 0u);
  queue.on_acked(0);
  CHECK(queue.all_acked());
  CHECK_FALSE(queue.has_pending());
}

TEST_CASE("SendQueue: push_stream takes only what fits", "[core]") {
  SendQueue queue(250);
  const auto data = pattern(400);
  CHECK(queue.push_stream(data, 100) == 250u);
  CHECK(queue.available() == 0u);
  CHECK(queue.buffered() == 250u);
  for (std::uint64_t sequence = 0; sequence < 3; ++sequence) {
    CAPTURE(sequence);
    const Chunk* chunk = queue.find(sequence);
    REQUIRE(chunk != nullptr);
    CHECK(chunk->fragment_index == 0u);
    CHECK(chunk->fragment_count == 1u);
    CHECK(chunk->bytes == slice(data, 100 * sequence, sequence < 2 ? 100 : 50));
  }
  CHECK(queue.find(3) == nullptr);

  // Full: nothing more is taken, and no chunk is made.
  CHECK(queue.push_stream(data, 100) == 0u);
  CHECK(queue.push_stream({}, 100) == 0u);
  CHECK(queue.find(3) == nullptr);

  // A smaller capacity than what is buffered leaves nothing available.
  queue.set_capacity(100);
  CHECK(queue.available() == 0u);
  queue.set_capacity(300);
  CHECK(queue.push_stream(data, 100) == 50u);
  REQUIRE(queue.find(3) != nullptr);
  CHECK(queue.find(3)->bytes == slice(data, 0, 50));
}

TEST_CASE("SendQueue: chunks go out in order, re-sends first", "[core]") {
  SendQueue queue(1000);
  CHECK(queue.next_to_send() == nullptr);
  CHECK(queue.peek() == nullptr);
  CHECK(queue.push_stream(pattern(400), 100) == 400u);  // chunks 0..3

  CHECK(send_next(queue) == 0u);
  CHECK(send_next(queue) == 1u);
  CHECK(send_next(queue) == 2u);

  // Re-sends come before chunk 3, oldest loss first.
  queue.on_lost(2);
  queue.on_lost(0);
  CHECK(send_next(queue) == 2u);
  CHECK(send_next(queue) == 0u);
  CHECK(send_next(queue) == 3u);
  CHECK_FALSE(queue.has_pending());
  CHECK(queue.next_to_send() == nullptr);

  // A chunk lost again after its re-send is queued again.
  queue.on_lost(2);
  CHECK(queue.has_pending());
  CHECK(send_next(queue) == 2u);
  CHECK_FALSE(queue.has_pending());
}

TEST_CASE("SendQueue: on_lost re-queues only chunks not acknowledged", "[core]") {
  SendQueue queue(1000);
  CHECK(queue.push_stream(pattern(300), 100) == 300u);  // chunks 0..2
  for (int i = 0; i < 3; ++i) send_next(queue);

  SECTION("an acknowledged chunk is not re-sent") {
    queue.on_acked(1);
    queue.on_lost(1);
    CHECK_FALSE(queue.has_pending());
    CHECK(queue.next_to_send() == nullptr);
  }
  SECTION("a chunk acknowledged and released is not re-sent") {
    queue.on_acked(0);
    REQUIRE(queue.find(0) == nullptr);
    queue.on_lost(0);
    CHECK_FALSE(queue.has_pending());
    CHECK(queue.next_to_send() == nullptr);
  }
  SECTION("a chunk lost twice is re-sent once") {
    queue.on_lost(1);
    queue.on_lost(1);
    CHECK(send_next(queue) == 1u);
    CHECK_FALSE(queue.has_pending());
    CHECK(queue.next_to_send() == nullptr);
  }
  SECTION("a chunk acknowledged while waiting to be re-sent is skipped") {
    queue.on_lost(1);
    queue.on_lost(2);
    queue.on_acked(1);
    CHECK(send_next(queue) == 2u);
    CHECK(queue.next_to_send() == nullptr);
  }
  SECTION("nothing is pending once the only re-send is acknowledged") {
    // has_pending() promises "a chunk waits to be sent or re-sent"; the
    // acknowledged chunk no longer does, and the connection arms a probe
    // timer on has_pending().
    queue.on_lost(1);
    queue.on_acked(1);
    CHECK(queue.peek() == nullptr);
    CHECK_FALSE(queue.has_pending());
  }
  SECTION("nothing is pending once a released chunk's re-send is moot") {
    queue.on_lost(0);
    queue.on_acked(0);
    REQUIRE(queue.find(0) == nullptr);
    CHECK(queue.peek() == nullptr);
    CHECK_FALSE(queue.has_pending());
  }
}

TEST_CASE("SendQueue: acknowledgements free capacity in order", "[core]") {
  SendQueue queue(300);
  CHECK(queue.push_stream(pattern(300), 100) == 300u);  // chunks 0..2
  for (int i = 0; i < 3; ++i) send_next(queue);

  queue.on_acked(1);
  REQUIRE(queue.find(1) != nullptr);
  CHECK(queue.find(1)->acked);
  CHECK(queue.buffered() == 300u);  // chunk 0 still holds the front
  CHECK(queue.available() == 0u);

  queue.on_acked(0);
  CHECK(queue.find(0) == nullptr);
  CHECK(queue.find(1) == nullptr);
  CHECK(queue.buffered() == 100u);
  CHECK(queue.available() == 200u);
  CHECK_FALSE(queue.all_acked());

  queue.on_acked(0);  // again: ignored
  queue.on_acked(9);  // never pushed: ignored
  CHECK(queue.buffered() == 100u);

  queue.on_acked(2);
  CHECK(queue.buffered() == 0u);
  CHECK(queue.all_acked());

  // Numbering goes on after the queue empties.
  CHECK(queue.push_stream(pattern(10), 100) == 10u);
  CHECK(send_next(queue) == 3u);
}

TEST_CASE("SendQueue: random pushes, losses and ACKs deliver what was pushed", "[core]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  SendQueue queue(4000);

  std::vector<std::byte> pushed;           // every byte queued, in order
  std::map<std::uint64_t, std::vector<std::byte>> first_sent;  // chunk bytes as first sent
  std::uint64_t next_sequence = 0;         // of the next chunk pushed
  std::uint64_t next_new = 0;              // the next never-sent chunk
  std::set<std::uint64_t> in_flight;       // sent, neither acknowledged nor lost since
  std::set<std::uint64_t> acked;
  std::deque<std::uint64_t> losses;        // lost and not acknowledged, oldest first
  std::size_t pushes = 0;

  for (int step = 0; step < 50'000 && (pushes < 200 || !queue.all_acked()); ++step) {
    CAPTURE(step);
    const std::uint64_t choice = uniform(rng, 0, 9);
    if (choice < 2 && pushes < 200) {
      const auto chunk_size = static_cast<std::size_t>(uniform(rng, 1, 300));
      const auto data = pattern(static_cast<std::size_t>(uniform(rng, 0, 700)), pushed.size());
      const std::uint64_t first = next_sequence;
      std::size_t taken = 0;
      if (coin(rng)) {
        if (data.size() > queue.available()) continue;
        queue.push_message(data, chunk_size);
        taken = data.size();
        const std::size_t count = std::max<std::size_t>(1, (data.size() + chunk_size - 1) / chunk_size);
        for (std::size_t i = 0; i < count; ++i) {
          const Chunk* chunk = queue.find(first + i);
          REQUIRE(chunk != nullptr);
          CHECK(chunk->fragment_index == i);
          CHECK(chunk->fragment_count == count);
          CHECK(chunk->bytes == slice(data, i * chunk_size, std::min(chunk_size, data.size() - i * chunk_size)));
        }
        next_sequence += count;
      } else {
        taken = queue.push_stream(data, chunk_size);
        CHECK(taken == std::min(data.size(), taken + queue.available()));
        for (std::size_t offset = 0; offset < taken; offset += chunk_size) {
          const Chunk* chunk = queue.find(next_sequence++);
          REQUIRE(chunk != nullptr);
          CHECK(chunk->fragment_count == 1u);
          CHECK(chunk->bytes == slice(data, offset, std::min(chunk_size, taken - offset)));
        }
      }
      CHECK(queue.find(next_sequence) == nullptr);
      pushed.insert(pushed.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(taken));
      ++pushes;
    } else if (choice < 6) {
      Chunk* chunk = queue.next_to_send();
      if (chunk == nullptr) {
        CHECK(losses.empty());
        CHECK(next_new == next_sequence);
        continue;
      }
      CAPTURE(chunk->sequence);
      CHECK_FALSE(chunk->acked);
      if (!losses.empty()) {
        // The oldest loss not acknowledged since goes first.
        CHECK(chunk->sequence == losses.front());
        CHECK(chunk->sent);
        losses.pop_front();
      } else {
        CHECK(chunk->sequence == next_new);
        CHECK_FALSE(chunk->sent);
        ++next_new;
        first_sent[chunk->sequence] = chunk->bytes;
      }
      queue.on_sent(*chunk);
      in_flight.insert(chunk->sequence);
    } else if (!in_flight.empty()) {
      auto it = in_flight.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(uniform(rng, 0, in_flight.size() - 1)));
      const std::uint64_t sequence = *it;
      in_flight.erase(it);
      if (choice < 8) {
        queue.on_acked(sequence);
        acked.insert(sequence);
        losses.erase(std::remove(losses.begin(), losses.end(), sequence), losses.end());
      } else {
        queue.on_lost(sequence);
        if (!acked.contains(sequence) && std::find(losses.begin(), losses.end(), sequence) == losses.end()) {
          losses.push_back(sequence);
        }
      }
    }
  }

  REQUIRE(queue.all_acked());
  CHECK(queue.buffered() == 0u);
  CHECK(acked.size() == next_sequence);
  std::vector<std::byte> delivered;
  for (const auto& [sequence, bytes] : first_sent) delivered.insert(delivered.end(), bytes.begin(), bytes.end());
  CHECK(delivered == pushed);
}
