// SPDX-License-Identifier: MIT
// Unit tests of Inbox, the receiver's delivered messages and credit: the
// credit limit (charge within it, release raises it), messages read in the
// order they became ready, stream reads across message boundaries with credit
// given back per whole message, read_message (would_block, buffer_too_small
// keeping the message, empty messages), the unreliable byte limit, and a
// seeded run of random pushes and reads checked against a model.
#include "rudp/core/inbox.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <vector>

#include "queue_test_support.hpp"
#include "rudp/core/send_queue.hpp"

using namespace rudp;
using namespace rudp::core;
using namespace rudp::core::test;

namespace {

Delivered reliable(std::string_view text, std::uint64_t cost, ChannelId channel = 0,
                   DeliveryMode mode = DeliveryMode::reliable_ordered) {
  return Delivered{bytes_of(text), channel, mode, cost};
}

/// What read() gives for a buffer of `size` bytes.
std::string read_text(Inbox& inbox, std::size_t size) {
  std::vector<std::byte> buffer(size);
  return text_of(std::span(buffer).first(inbox.read(buffer)));
}

/// The next whole message as text; REQUIREs that one is ready.
std::string next_message(Inbox& inbox) {
  std::vector<std::byte> buffer(4096);
  const auto size = inbox.read_message(buffer);
  REQUIRE(size.has_value());
  return text_of(std::span(buffer).first(*size));
}

}  // namespace

TEST_CASE("Inbox: credit is charged within the limit, and released credit raises it", "[core]") {
  Inbox inbox(1000, 0);
  CHECK(inbox.limit() == 1000u);
  CHECK(inbox.used() == 0u);

  CHECK(inbox.charge(600));
  CHECK(inbox.charge(400));  // exactly to the limit
  CHECK(inbox.used() == 1000u);
  CHECK_FALSE(inbox.charge(1));
  CHECK(inbox.used() == 1000u);  // a refused charge charges nothing
  CHECK(inbox.charge(0));

  inbox.release(250);
  CHECK(inbox.limit() == 1250u);
  CHECK(inbox.used() == 1000u);
  CHECK_FALSE(inbox.charge(251));
  CHECK(inbox.charge(250));
  CHECK(inbox.used() == inbox.limit());

  Inbox closed(0, 0);
  CHECK(closed.limit() == 0u);
  CHECK_FALSE(closed.charge(chunk_cost(0)));
  CHECK(closed.charge(0));
}

TEST_CASE("Inbox: messages are read in the order they became ready", "[core]") {
  Inbox inbox(1000, 1000);
  CHECK_FALSE(inbox.readable());
  CHECK_FALSE(inbox.next().has_value());

  inbox.push(reliable("one", chunk_cost(3), 2));
  CHECK(inbox.push_unreliable(bytes_of("two!"), 7, DeliveryMode::unreliable_sequenced));
  inbox.push(reliable("three", chunk_cost(5), 1, DeliveryMode::reliable_unordered));
  CHECK(inbox.readable());
  CHECK(inbox.buffered_bytes() == 12u);

  const auto first = inbox.next();
  REQUIRE(first.has_value());
  CHECK(first->size == 3u);
  CHECK(first->channel == 2);
  CHECK(first->mode == DeliveryMode::reliable_ordered);
  CHECK(next_message(inbox) == "one");

  const auto second = inbox.next();
  REQUIRE(second.has_value());
  CHECK(second->size == 4u);
  CHECK(second->channel == 7);
  CHECK(second->mode == DeliveryMode::unreliable_sequenced);
  CHECK(next_message(inbox) == "two!");

  REQUIRE(inbox.next().has_value());
  CHECK(inbox.next()->mode == DeliveryMode::reliable_unordered);
  CHECK(next_message(inbox) == "three");
  CHECK_FALSE(inbox.readable());
  CHECK(inbox.buffered_bytes() == 0u);
}

TEST_CASE("Inbox: read() crosses message boundaries and gives credit back per whole message", "[core]") {
  const std::uint64_t window = 10'000;
  Inbox inbox(window, 0);
  inbox.push(reliable("abc", chunk_cost(3)));
  inbox.push(reliable("", chunk_cost(0)));
  inbox.push(reliable("defg", chunk_cost(4)));
  inbox.push(reliable("hi", chunk_cost(2)));

  CHECK(read_text(inbox, 0).empty());
  CHECK(inbox.limit() == window);
  CHECK(read_text(inbox, 2) == "ab");
  REQUIRE(inbox.next().has_value());
  CHECK(inbox.next()->size == 1u);  // what is left of "abc"
  CHECK(inbox.limit() == window);   // "abc" is not read whole yet
  CHECK(inbox.buffered_bytes() == 7u);

  CHECK(read_text(inbox, 4) == "cdef");  // the rest of "abc", all of "", most of "defg"
  CHECK(inbox.limit() == window + chunk_cost(3) + chunk_cost(0));

  // A message read after a partial stream read gives what is left of it.
  CHECK(next_message(inbox) == "g");
  CHECK(inbox.limit() == window + chunk_cost(3) + chunk_cost(0) + chunk_cost(4));
  CHECK(read_text(inbox, 10) == "hi");
  CHECK(read_text(inbox, 10).empty());
  CHECK_FALSE(inbox.readable());
  CHECK(inbox.limit() == window + chunk_cost(3) + chunk_cost(0) + chunk_cost(4) + chunk_cost(2));
  CHECK(inbox.buffered_bytes() == 0u);
}

TEST_CASE("Inbox: empty messages are passed by a stream read that reaches them", "[core]") {
  Inbox inbox(1000, 0);
  inbox.push(reliable("", chunk_cost(0)));
  inbox.push(reliable("", chunk_cost(0)));
  inbox.push(reliable("x", chunk_cost(1)));
  CHECK(read_text(inbox, 1) == "x");
  CHECK_FALSE(inbox.readable());
  CHECK(inbox.limit() == 1000 + 2 * chunk_cost(0) + chunk_cost(1));
}

TEST_CASE("Inbox: read_message keeps a message too big for the buffer", "[core]") {
  Inbox inbox(1000, 0);
  std::vector<std::byte> buffer(16);
  CHECK(inbox.read_message(buffer).error() == errc::would_block);
  CHECK(inbox.read(buffer) == 0u);

  inbox.push(reliable("hello", chunk_cost(5)));
  inbox.push(reliable("", chunk_cost(0)));
  std::vector<std::byte> small(4);
  CHECK(inbox.read_message(small).error() == errc::buffer_too_small);
  CHECK(inbox.limit() == 1000u);
  REQUIRE(inbox.next().has_value());
  CHECK(inbox.next()->size == 5u);
  CHECK(inbox.buffered_bytes() == 5u);
  std::vector<std::byte> exact(5);
  const auto size = inbox.read_message(exact);
  REQUIRE(size.has_value());
  CHECK(*size == 5u);
  CHECK(text_of(exact) == "hello");
  CHECK(inbox.limit() == 1000 + chunk_cost(5));

  // An empty message fits in an empty buffer.
  const auto empty = inbox.read_message({});
  REQUIRE(empty.has_value());
  CHECK(*empty == 0u);
  CHECK_FALSE(inbox.readable());
  CHECK(inbox.limit() == 1000 + chunk_cost(5) + chunk_cost(0));
  CHECK(inbox.read_message(buffer).error() == errc::would_block);
}

TEST_CASE("Inbox: unread unreliable messages are held up to their byte limit", "[core]") {
  // Each message is charged its bookkeeping too: room for 10 payload bytes in two messages.
  Inbox inbox(1000, 10 + 2 * kDeliveredOverhead);
  CHECK(inbox.push_unreliable(bytes_of("123456"), 1, DeliveryMode::unreliable));
  CHECK_FALSE(inbox.push_unreliable(bytes_of("12345"), 1, DeliveryMode::unreliable));  // 11 > 10: dropped
  CHECK(inbox.push_unreliable(bytes_of("1234"), 1, DeliveryMode::unreliable));         // exactly 10
  CHECK_FALSE(inbox.push_unreliable(bytes_of("x"), 1, DeliveryMode::unreliable_sequenced));
  // Reliable messages count against credit, not against this limit.
  inbox.push(reliable("reliable message", chunk_cost(16)));
  CHECK(inbox.buffered_bytes() == 26u);

  // A partial read frees no room; reading the message whole does.
  CHECK(read_text(inbox, 3) == "123");
  CHECK_FALSE(inbox.push_unreliable(bytes_of("x"), 1, DeliveryMode::unreliable));
  CHECK(read_text(inbox, 3) == "456");
  CHECK(inbox.push_unreliable(bytes_of("abcdef"), 1, DeliveryMode::unreliable));
  CHECK_FALSE(inbox.push_unreliable(bytes_of("x"), 1, DeliveryMode::unreliable));
  // Unreliable messages take no credit.
  CHECK(inbox.limit() == 1000u);
  CHECK(next_message(inbox) == "1234");
  CHECK(inbox.limit() == 1000u);
  CHECK(next_message(inbox) == "reliable message");
  CHECK(inbox.limit() == 1000 + chunk_cost(16));
  CHECK(next_message(inbox) == "abcdef");
  CHECK_FALSE(inbox.readable());
  CHECK(inbox.push_unreliable(std::vector<std::byte>(10), 1, DeliveryMode::unreliable));
}

// Each unreliable message is charged kDeliveredOverhead beyond its payload,
// so empty ones cannot be held without bound while the application does not
// read (as reliable chunks and reassembly fragments are charged theirs).
TEST_CASE("Inbox: the unreliable limit bounds the messages held, even empty ones", "[core]") {
  Inbox inbox(1000, 1000);
  std::size_t held = 0;
  while (held < 1'000'000 && inbox.push_unreliable({}, 0, DeliveryMode::unreliable)) ++held;
  CAPTURE(held);
  CHECK(held == 1000 / kDeliveredOverhead);
}

TEST_CASE("Inbox: random pushes and reads give back every byte and all the credit", "[core]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  const std::uint64_t window = 1'000'000;
  const auto unreliable_limit = static_cast<std::size_t>(uniform(rng, 0, 2000));
  Inbox inbox(window, unreliable_limit);

  struct Model {
    std::vector<std::byte> bytes;
    bool reliable;
    std::uint64_t cost;
    ChannelId channel;
    DeliveryMode mode;
  };
  std::deque<Model> ready;
  std::size_t offset = 0;  // into ready.front(), taken by stream reads
  std::size_t unreliable_held = 0;
  std::uint64_t released = 0;
  std::size_t counter = 0;

  const auto finish_front = [&] {
    if (ready.front().reliable) {
      released += ready.front().cost;
    } else {
      unreliable_held -= ready.front().bytes.size() + kDeliveredOverhead;
    }
    ready.pop_front();
    offset = 0;
  };

  for (int step = 0; step < 20'000; ++step) {
    CAPTURE(step);
    const std::uint64_t choice = uniform(rng, 0, 9);
    if (choice < 2) {
      auto bytes = pattern(static_cast<std::size_t>(uniform(rng, 0, 4) == 0 ? 0 : uniform(rng, 1, 300)), counter++);
      const std::uint64_t cost = chunk_cost(bytes.size()) + uniform(rng, 0, 3) * kChunkCreditOverhead;
      const auto channel = static_cast<ChannelId>(uniform(rng, 0, 255));
      const auto mode = coin(rng) ? DeliveryMode::reliable_ordered : DeliveryMode::reliable_unordered;
      ready.push_back(Model{bytes, true, cost, channel, mode});
      inbox.push(Delivered{std::move(bytes), channel, mode, cost});
    } else if (choice < 4) {
      auto bytes = pattern(static_cast<std::size_t>(uniform(rng, 0, 300)), counter++);
      const auto channel = static_cast<ChannelId>(uniform(rng, 0, 255));
      const auto mode = coin(rng) ? DeliveryMode::unreliable : DeliveryMode::unreliable_sequenced;
      const bool fits = bytes.size() + kDeliveredOverhead <= unreliable_limit - unreliable_held;
      CHECK(inbox.push_unreliable(bytes, channel, mode) == fits);
      if (fits) {
        unreliable_held += bytes.size() + kDeliveredOverhead;
        ready.push_back(Model{std::move(bytes), false, 0, channel, mode});
      }
    } else if (choice < 7) {
      std::vector<std::byte> out(static_cast<std::size_t>(uniform(rng, 0, 200)));
      const std::size_t n = inbox.read(out);
      std::vector<std::byte> expected;
      while (!ready.empty() && expected.size() < out.size()) {
        const auto& bytes = ready.front().bytes;
        const std::size_t take = std::min(out.size() - expected.size(), bytes.size() - offset);
        expected.insert(expected.end(), bytes.begin() + static_cast<std::ptrdiff_t>(offset),
                        bytes.begin() + static_cast<std::ptrdiff_t>(offset + take));
        offset += take;
        if (offset == bytes.size()) finish_front();
      }
      REQUIRE(n == expected.size());
      CHECK(std::vector<std::byte>(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n)) == expected);
    } else {
      std::vector<std::byte> out(static_cast<std::size_t>(uniform(rng, 0, 300)));
      const auto info = inbox.next();
      const auto result = inbox.read_message(out);
      if (ready.empty()) {
        CHECK_FALSE(info.has_value());
        CHECK(result.error() == errc::would_block);
      } else {
        const Model& front = ready.front();
        const std::size_t left = front.bytes.size() - offset;
        REQUIRE(info.has_value());
        CHECK(info->size == left);
        CHECK(info->channel == front.channel);
        CHECK(info->mode == front.mode);
        if (left > out.size()) {
          CHECK(result.error() == errc::buffer_too_small);
        } else {
          REQUIRE(result.has_value());
          REQUIRE(*result == left);
          CHECK(std::vector<std::byte>(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(left)) ==
                std::vector<std::byte>(front.bytes.begin() + static_cast<std::ptrdiff_t>(offset), front.bytes.end()));
          finish_front();
        }
      }
    }
    std::size_t buffered = 0;
    for (const Model& m : ready) buffered += m.bytes.size();
    REQUIRE(inbox.buffered_bytes() == buffered - offset);
    REQUIRE(inbox.limit() == window + released);
    REQUIRE(inbox.readable() == !ready.empty());
  }
}
