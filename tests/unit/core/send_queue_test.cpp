// SPDX-License-Identifier: MIT
// Unit tests of SendQueue, one channel's sender: messages wait whole and take
// sequence numbers only as their first fragment goes out; reliable ones become
// chunks with consecutive numbers and charge their whole cost once; re-sends go
// first, oldest loss first; deadlines and max_retransmits abandon a message and
// queue a SKIP; supersede keys replace unsent messages in place; unreliable
// messages are numbered in their own space and forgotten once sent; a reliable
// message starts only within kMaxReliableSpan; and a seeded run of random
// pushes, sends, losses and ACKs checked against a model of what was pushed.
#include "rudp/core/send_queue.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "queue_test_support.hpp"
#include "rudp/core/receipts.hpp"
#include "rudp/wire/limits.hpp"

using namespace rudp;
using namespace rudp::core;
using namespace rudp::core::test;
using namespace std::chrono_literals;

namespace {

const Instant t0 = Instant{} + 1s;

/// `ms` milliseconds after t0.
Instant at(std::int64_t ms) { return t0 + std::chrono::milliseconds(ms); }

MessageOptions reliable_ordered() { return MessageOptions{}; }

MessageOptions with_mode(DeliveryMode mode) {
  MessageOptions o;
  o.mode = mode;
  return o;
}

/// The chunk with `sequence`, through the public (const) find().
const Chunk* find(const SendQueue& queue, std::uint64_t sequence) { return queue.find(sequence); }

/// Runs expire() and returns what it reported.
QueueNews expire(SendQueue& queue, Instant now, Duration one_way, Receipts& receipts) {
  QueueNews news;
  queue.expire(now, one_way, receipts, news);
  return news;
}

}  // namespace

TEST_CASE("SendQueue: a message waits whole and takes sequence numbers as its first fragment goes out", "[core]") {
  SendQueue queue(7);
  CHECK(queue.channel() == 7);
  CHECK_FALSE(queue.peek().has_value());
  CHECK_FALSE(queue.has_pending());
  CHECK(queue.all_acked());

  const auto message = pattern(250);
  const Pushed pushed = queue.push(message, reliable_ordered(), 100);
  CHECK_FALSE(pushed.superseded);
  CHECK_FALSE(pushed.replaced_receipt.has_value());
  CHECK(queue.buffered() == 250u);
  CHECK(find(queue, 0) == nullptr);  // no chunk exists before the message goes out
  CHECK(queue.has_pending());
  CHECK_FALSE(queue.all_acked());

  // The first fragment carries the credit of the whole message.
  const auto first = queue.peek();
  REQUIRE(first.has_value());
  CHECK(first->frame.mode == DeliveryMode::reliable_ordered);
  CHECK(first->frame.channel == 7);
  CHECK(first->frame.sequence == 0u);
  CHECK(first->frame.fragment_index == 0u);
  CHECK(first->frame.fragment_count == 3u);
  CHECK(slice(first->frame.payload, 0, first->frame.payload.size()) == slice(message, 0, 100));
  CHECK(first->credit == 2 * chunk_cost(100) + chunk_cost(50));
  CHECK_FALSE(first->retransmission);
  CHECK_FALSE(queue.on_sent().has_value());

  // Now the message is chunks 0..2, of which only 0 went out.
  for (std::uint64_t sequence = 0; sequence < 3; ++sequence) {
    CAPTURE(sequence);
    const Chunk* chunk = find(queue, sequence);
    REQUIRE(chunk != nullptr);
    CHECK(chunk->sequence == sequence);
    CHECK(chunk->fragment_index == sequence);
    CHECK(chunk->fragment_count == 3u);
    CHECK(chunk->bytes == slice(message, 100 * sequence, sequence < 2 ? 100 : 50));
    CHECK(chunk->sent == (sequence == 0));
    CHECK_FALSE(chunk->acked);
  }
  CHECK(find(queue, 3) == nullptr);

  // The other fragments follow, charging nothing more.
  for (std::uint32_t index = 1; index < 3; ++index) {
    CAPTURE(index);
    const SentData sent = send_next(queue);
    CHECK(sent.frame.sequence == index);
    CHECK(sent.frame.fragment_index == index);
    CHECK(sent.frame.fragment_count == 3u);
    CHECK(sent.frame.payload == slice(message, 100 * index, index < 2 ? 100 : 50));
    CHECK(sent.credit == 0u);
    CHECK_FALSE(sent.retransmission);
    CHECK_FALSE(sent.receipt.has_value());
  }
  CHECK_FALSE(queue.has_pending());
  CHECK(queue.buffered() == 250u);  // sent, not acknowledged

  // Numbering goes on with the next message, whatever its reliable mode.
  queue.push(pattern(10, 3), with_mode(DeliveryMode::reliable_unordered), 100);
  const SentData next = send_next(queue);
  CHECK(next.frame.mode == DeliveryMode::reliable_unordered);
  CHECK(next.frame.sequence == 3u);
  CHECK(next.frame.fragment_count == 1u);
  CHECK(next.credit == chunk_cost(10));
}

TEST_CASE("SendQueue: an empty message is one empty chunk that costs its bookkeeping", "[core]") {
  SendQueue queue(0);
  queue.push({}, reliable_ordered(), 100);
  CHECK(queue.buffered() == 0u);
  CHECK(queue.has_pending());
  CHECK_FALSE(queue.all_acked());

  const SentData sent = send_next(queue);
  CHECK(sent.frame.sequence == 0u);
  CHECK(sent.frame.fragment_count == 1u);
  CHECK(sent.frame.payload.empty());
  CHECK(sent.credit == kChunkCreditOverhead);
  CHECK(sent.credit == chunk_cost(0));
  REQUIRE(find(queue, 0) != nullptr);
  CHECK(find(queue, 0)->bytes.empty());
  CHECK_FALSE(queue.has_pending());
  CHECK_FALSE(queue.all_acked());

  Receipts receipts;
  queue.on_acked(0, receipts);
  CHECK(queue.all_acked());
  CHECK(find(queue, 0) == nullptr);
}

TEST_CASE("SendQueue: a message is cut into fragments of at most chunk_size bytes", "[core]") {
  const std::size_t chunk_size = GENERATE(as<std::size_t>{}, 1, 7, 64, 100, 1000);
  const std::size_t size = GENERATE(as<std::size_t>{}, 1, 63, 64, 65, 640, 999);
  CAPTURE(chunk_size, size);
  SendQueue queue(0);
  const auto message = pattern(size, size);
  queue.push(message, reliable_ordered(), chunk_size);
  const std::size_t count = (size + chunk_size - 1) / chunk_size;

  std::vector<std::byte> joined;
  std::uint64_t credit = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const SentData sent = send_next(queue);
    CHECK(sent.frame.sequence == i);
    CHECK(sent.frame.fragment_index == i);
    CHECK(sent.frame.fragment_count == count);
    CHECK(sent.frame.payload.size() == std::min(chunk_size, size - i * chunk_size));
    CHECK_FALSE(sent.frame.payload.empty());
    joined.insert(joined.end(), sent.frame.payload.begin(), sent.frame.payload.end());
    credit += sent.credit;
  }
  CHECK_FALSE(queue.has_pending());
  CHECK(joined == message);
  CHECK(credit == size + count * kChunkCreditOverhead);
}

TEST_CASE("SendQueue: re-sends go first, oldest loss first", "[core]") {
  SendQueue queue(0);
  Receipts receipts;
  for (std::size_t i = 0; i < 4; ++i) queue.push(pattern(10, i), reliable_ordered(), 100);  // chunks 0..3

  CHECK(send_next(queue).frame.sequence == 0u);
  CHECK(send_next(queue).frame.sequence == 1u);
  CHECK(send_next(queue).frame.sequence == 2u);

  queue.on_lost(2);
  queue.on_lost(0);
  const SentData resend = send_next(queue);
  CHECK(resend.frame.sequence == 2u);
  CHECK(resend.retransmission);
  CHECK(resend.credit == 0u);  // charged when the message first went out
  CHECK(resend.frame.payload == pattern(10, 2));
  CHECK(find(queue, 2)->retransmits == 1u);
  CHECK(send_next(queue).frame.sequence == 0u);
  const SentData fresh = send_next(queue);
  CHECK(fresh.frame.sequence == 3u);
  CHECK_FALSE(fresh.retransmission);
  CHECK(fresh.credit == chunk_cost(10));
  CHECK_FALSE(queue.has_pending());

  // Lost again after its re-send: queued again.
  queue.on_lost(2);
  CHECK(send_next(queue).frame.sequence == 2u);
  CHECK(find(queue, 2)->retransmits == 2u);
  CHECK_FALSE(queue.has_pending());

  // Re-sends go before the next new message too.
  queue.push(pattern(5), reliable_ordered(), 100);
  queue.on_lost(1);
  CHECK(send_next(queue).frame.sequence == 1u);
  CHECK(send_next(queue).frame.sequence == 4u);
  for (std::uint64_t s = 0; s < 5; ++s) queue.on_acked(s, receipts);
  CHECK(queue.all_acked());
}

TEST_CASE("SendQueue: only chunks neither acknowledged nor queued already are re-sent", "[core]") {
  SendQueue queue(0);
  Receipts receipts;
  for (std::size_t i = 0; i < 3; ++i) queue.push(pattern(10, i), reliable_ordered(), 100);
  for (int i = 0; i < 3; ++i) send_next(queue);

  SECTION("an acknowledged chunk is not re-sent") {
    queue.on_acked(1, receipts);
    queue.on_lost(1);
    CHECK_FALSE(queue.has_pending());
  }
  SECTION("a chunk acknowledged and released is not re-sent") {
    queue.on_acked(0, receipts);
    REQUIRE(find(queue, 0) == nullptr);
    queue.on_lost(0);
    CHECK_FALSE(queue.has_pending());
  }
  SECTION("a chunk lost twice is re-sent once") {
    queue.on_lost(1);
    queue.on_lost(1);
    CHECK(send_next(queue).frame.sequence == 1u);
    CHECK_FALSE(queue.has_pending());
  }
  SECTION("a chunk acknowledged while waiting to be re-sent is passed over") {
    queue.on_lost(1);
    queue.on_lost(2);
    queue.on_acked(1, receipts);
    CHECK(send_next(queue).frame.sequence == 2u);
    CHECK_FALSE(queue.has_pending());
  }
  SECTION("nothing is pending once the only re-send is acknowledged") {
    queue.on_lost(0);
    queue.on_acked(0, receipts);
    CHECK_FALSE(queue.peek().has_value());
    CHECK_FALSE(queue.has_pending());
  }
  SECTION("a loss or ACK of a chunk never sent or unknown changes nothing") {
    queue.on_lost(99);
    queue.on_acked(42, receipts);
    CHECK_FALSE(queue.has_pending());
    CHECK(queue.buffered() == 30u);
  }
}

TEST_CASE("SendQueue: acknowledgements free what they cover and all_acked holds once everything is", "[core]") {
  SendQueue queue(0);
  Receipts receipts;
  queue.push(pattern(300), reliable_ordered(), 100);  // chunks 0..2
  for (int i = 0; i < 3; ++i) send_next(queue);
  CHECK(queue.buffered() == 300u);

  queue.on_acked(1, receipts);
  REQUIRE(find(queue, 1) != nullptr);  // held behind chunk 0
  CHECK(find(queue, 1)->acked);
  CHECK(queue.buffered() == 200u);
  queue.on_acked(1, receipts);  // again: ignored
  CHECK(queue.buffered() == 200u);

  queue.on_acked(0, receipts);
  CHECK(find(queue, 0) == nullptr);
  CHECK(find(queue, 1) == nullptr);
  REQUIRE(find(queue, 2) != nullptr);
  CHECK(queue.buffered() == 100u);
  CHECK_FALSE(queue.all_acked());

  queue.on_acked(2, receipts);
  CHECK(queue.buffered() == 0u);
  CHECK(queue.all_acked());
  CHECK(receipts.open_count() == 0u);
  CHECK_FALSE(receipts.poll().has_value());  // no receipt was asked for

  queue.push(pattern(1), reliable_ordered(), 100);
  CHECK(send_next(queue).frame.sequence == 3u);
}

TEST_CASE("SendQueue: a reliable message's receipt is acknowledged once all its chunks are", "[core]") {
  SendQueue queue(2);
  Receipts receipts;
  MessageOptions options;
  options.receipt = receipts.open(2, 77, 1);
  queue.push(pattern(300), options, 100);
  for (int i = 0; i < 3; ++i) CHECK_FALSE(send_next(queue).receipt.has_value());  // reliable: resolved by the queue

  queue.on_acked(2, receipts);
  queue.on_acked(0, receipts);
  CHECK_FALSE(receipts.poll().has_value());
  queue.on_lost(1);
  CHECK(send_next(queue).frame.sequence == 1u);
  queue.on_acked(1, receipts);
  const auto outcomes = poll_all(receipts);
  REQUIRE(outcomes.size() == 1u);
  CHECK(outcomes[0].tag == 77u);
  CHECK(outcomes[0].channel == 2);
  CHECK(outcomes[0].outcome == ReceiptOutcome::acknowledged);
  CHECK(receipts.open_count() == 0u);

  queue.on_acked(1, receipts);  // a late duplicate ACK reports nothing more
  CHECK_FALSE(receipts.poll().has_value());
  CHECK(queue.all_acked());
}

TEST_CASE("SendQueue: unreliable messages are numbered in their own space and forgotten once sent", "[core]") {
  SendQueue queue(5);
  Receipts receipts;
  const ReceiptId receipt = receipts.open(5, 1, 3);

  MessageOptions sequenced = with_mode(DeliveryMode::unreliable_sequenced);
  MessageOptions fragmented = with_mode(DeliveryMode::unreliable);
  fragmented.receipt = receipt;
  queue.push(pattern(20, 1), sequenced, 100);           // unreliable number a
  queue.push(pattern(150, 2), reliable_ordered(), 100);  // reliable 0, 1
  queue.push(pattern(250, 3), fragmented, 100);          // unreliable number b, three fragments
  queue.push(pattern(30, 4), with_mode(DeliveryMode::unreliable), 100);  // unnumbered
  queue.push(pattern(40, 5), sequenced, 100);            // unreliable number c
  queue.push(pattern(50, 6), reliable_ordered(), 100);   // reliable 2
  CHECK(queue.buffered() == 540u);

  const SentData a = send_next(queue);
  CHECK(a.frame.mode == DeliveryMode::unreliable_sequenced);
  CHECK(a.frame.channel == 5);
  CHECK(a.frame.fragment_count == 1u);
  CHECK(a.frame.payload == pattern(20, 1));
  CHECK(a.credit == 0u);  // unreliable data takes no credit
  CHECK(queue.buffered() == 520u);

  CHECK(send_next(queue).frame.sequence == 0u);
  CHECK(send_next(queue).frame.sequence == 1u);

  std::vector<std::byte> joined;
  std::uint64_t b_number = 0;
  for (std::uint32_t index = 0; index < 3; ++index) {
    CAPTURE(index);
    const SentData b = send_next(queue);
    CHECK(b.frame.mode == DeliveryMode::unreliable);
    CHECK(b.frame.fragment_index == index);
    CHECK(b.frame.fragment_count == 3u);
    CHECK(b.credit == 0u);
    CHECK(b.receipt == std::optional<ReceiptId>(receipt));  // every fragment carries the receipt
    if (index == 0) b_number = b.frame.sequence;
    CHECK(b.frame.sequence == b_number);  // shared by the fragments
    joined.insert(joined.end(), b.frame.payload.begin(), b.frame.payload.end());
    // The message is held whole until its last fragment goes out.
    CHECK(queue.buffered() == (index < 2 ? 520u : 270u));
  }
  CHECK(joined == pattern(250, 3));
  CHECK(b_number > a.frame.sequence);

  const SentData unnumbered = send_next(queue);
  CHECK(unnumbered.frame.sequence == 0u);  // not on the wire
  CHECK_FALSE(unnumbered.receipt.has_value());
  const SentData c = send_next(queue);
  CHECK(c.frame.sequence > b_number);
  CHECK(send_next(queue).frame.sequence == 2u);  // the reliable space did not move
  CHECK_FALSE(queue.has_pending());

  // Nothing unreliable is held or re-sent.
  Receipts unused;
  queue.on_acked(0, unused);
  queue.on_acked(1, unused);
  queue.on_acked(2, unused);
  queue.on_lost(b_number);
  CHECK_FALSE(queue.has_pending());
  CHECK(queue.all_acked());
  CHECK(queue.buffered() == 0u);
}

TEST_CASE("SendQueue: a frame's payload stays readable after the on_sent() that sends it", "[core]") {
  SendQueue queue(0);
  const auto reliable_message = pattern(150, 11);
  const auto unreliable_message = pattern(150, 12);
  queue.push(reliable_message, reliable_ordered(), 100);
  queue.push(unreliable_message, with_mode(DeliveryMode::unreliable), 100);

  // The first fragment of a reliable message: its piece becomes a chunk.
  const auto first = queue.peek();
  REQUIRE(first.has_value());
  queue.on_sent();
  CHECK(slice(first->frame.payload, 0, first->frame.payload.size()) == slice(reliable_message, 0, 100));
  send_next(queue);

  // The last fragment of an unreliable message: the message is forgotten.
  send_next(queue);
  const auto last = queue.peek();
  REQUIRE(last.has_value());
  REQUIRE(last->frame.fragment_index == 1u);
  queue.on_sent();
  CHECK(queue.buffered() == 150u);  // only the reliable chunks remain
  CHECK(slice(last->frame.payload, 0, last->frame.payload.size()) == slice(unreliable_message, 100, 50));
}

TEST_CASE("SendQueue: a supersede key replaces an unsent message in its place", "[core]") {
  SendQueue queue(0);
  Receipts receipts;
  MessageOptions a;
  a.supersede_key = 1;
  a.receipt = receipts.open(0, 10, 1);
  MessageOptions c = a;
  c.receipt = receipts.open(0, 11, 1);
  MessageOptions other_key;
  other_key.supersede_key = 2;

  CHECK_FALSE(queue.push(bytes_of("a"), a, 100).superseded);
  CHECK_FALSE(queue.push(bytes_of("b"), reliable_ordered(), 100).superseded);
  CHECK_FALSE(queue.push(bytes_of("x"), other_key, 100).superseded);
  const Pushed pushed = queue.push(bytes_of("ccc"), c, 100);
  CHECK(pushed.superseded);
  CHECK(pushed.replaced_receipt == a.receipt);
  CHECK(queue.buffered() == 5u);  // "ccc", "b", "x"

  // "ccc" took "a"'s place and its sequence number; nothing was left out.
  const SentData first = send_next(queue);
  CHECK(text_of(first.frame.payload) == "ccc");
  CHECK(first.frame.sequence == 0u);
  CHECK(first.credit == chunk_cost(3));
  CHECK(text_of(send_next(queue).frame.payload) == "b");
  CHECK(text_of(send_next(queue).frame.payload) == "x");
  CHECK_FALSE(queue.has_pending());

  // "ccc" went out: a message with its key now queues behind, replacing nothing.
  MessageOptions d;
  d.supersede_key = 1;
  const Pushed after = queue.push(bytes_of("d"), d, 100);
  CHECK_FALSE(after.superseded);
  CHECK_FALSE(after.replaced_receipt.has_value());
  CHECK(send_next(queue).frame.sequence == 3u);
}

TEST_CASE("SendQueue: an unreliable message partly sent is left to finish", "[core]") {
  SendQueue queue(0);
  MessageOptions keyed = with_mode(DeliveryMode::unreliable);
  keyed.supersede_key = 9;
  const auto first = pattern(250, 1);
  queue.push(first, keyed, 100);
  const SentData fragment = send_next(queue);
  REQUIRE(fragment.frame.fragment_index == 0u);

  CHECK_FALSE(queue.push(pattern(20, 2), keyed, 100).superseded);  // behind the one under way
  const Pushed replaced = queue.push(pattern(30, 3), keyed, 100);  // replaces the one behind
  CHECK(replaced.superseded);
  CHECK(queue.buffered() == 280u);

  CHECK(send_next(queue).frame.payload == slice(first, 100, 100));
  CHECK(send_next(queue).frame.payload == slice(first, 200, 50));
  const SentData newest = send_next(queue);
  CHECK(newest.frame.payload == pattern(30, 3));
  CHECK_FALSE(queue.has_pending());
  CHECK(queue.buffered() == 0u);
}

TEST_CASE("SendQueue: a message that cannot arrive in time is dropped unsent, leaving no gap", "[core]") {
  SendQueue queue(0);
  Receipts receipts;
  MessageOptions late;
  late.deadline = at(10);
  late.receipt = receipts.open(0, 5, 1);
  queue.push(pattern(40), late, 100);
  queue.push(pattern(60), reliable_ordered(), 100);

  // now + one_way is not past the deadline: kept.
  CHECK(expire(queue, at(7), 3ms, receipts).expired == 0u);
  CHECK(queue.buffered() == 100u);
  CHECK_FALSE(receipts.poll().has_value());

  const QueueNews news = expire(queue, at(8), 3ms, receipts);
  CHECK(news.expired == 1u);
  CHECK(news.abandoned == 0u);
  CHECK(queue.buffered() == 60u);
  const auto outcomes = poll_all(receipts);
  REQUIRE(outcomes.size() == 1u);
  CHECK(outcomes[0].tag == 5u);
  CHECK(outcomes[0].outcome == ReceiptOutcome::expired);

  // The next message takes sequence 0; no SKIP is needed.
  const SentData sent = send_next(queue);
  CHECK(sent.frame.sequence == 0u);
  CHECK(sent.frame.payload == pattern(60));
  CHECK_FALSE(queue.peek_skip().has_value());
  CHECK(expire(queue, at(1000), 3ms, receipts).expired == 0u);  // no deadline: never expires
}

TEST_CASE("SendQueue: an unreliable message partly sent that runs out of time is dropped", "[core]") {
  SendQueue queue(0);
  Receipts receipts;
  MessageOptions options = with_mode(DeliveryMode::unreliable);
  options.deadline = at(10);
  queue.push(pattern(250), options, 100);
  queue.push(pattern(5), with_mode(DeliveryMode::unreliable_sequenced), 100);
  const SentData fragment = send_next(queue);

  CHECK(expire(queue, at(20), 0ms, receipts).expired == 1u);
  CHECK(queue.buffered() == 5u);
  const SentData next = send_next(queue);
  CHECK(next.frame.payload == pattern(5));
  CHECK(next.frame.sequence > fragment.frame.sequence);  // the numbers never go back
  CHECK_FALSE(queue.has_pending());
  CHECK(queue.all_acked());
}

TEST_CASE("SendQueue: a reliable message under way past its deadline is abandoned with a SKIP", "[core]") {
  SendQueue queue(3);
  Receipts receipts;
  MessageOptions options;
  options.deadline = at(50);
  options.receipt = receipts.open(3, 8, 1);
  queue.push(pattern(300), options, 100);  // chunks 0..2
  const SentData first = send_next(queue);
  const std::uint64_t cost = first.credit;
  CHECK(cost == 3 * chunk_cost(100));

  CHECK(expire(queue, at(20), 5ms, receipts).expired == 0u);
  CHECK(queue.has_pending());

  const QueueNews news = expire(queue, at(46), 5ms, receipts);
  CHECK(news.expired == 1u);
  CHECK(news.abandoned == 0u);
  const auto outcomes = poll_all(receipts);
  REQUIRE(outcomes.size() == 1u);
  CHECK(outcomes[0].tag == 8u);
  CHECK(outcomes[0].outcome == ReceiptOutcome::expired);

  // The rest is never sent; the SKIP covers the whole message and its whole cost.
  CHECK_FALSE(queue.has_pending());
  CHECK(queue.buffered() == 0u);
  for (std::uint64_t s = 0; s < 3; ++s) CHECK(find(queue, s) == nullptr);
  const auto skip = queue.peek_skip();
  REQUIRE(skip.has_value());
  CHECK(*skip == wire::SkipFrame{3, 0, 3, cost});
  CHECK_FALSE(queue.all_acked());

  // The next message goes on after the skipped chunks.
  queue.push(pattern(10), reliable_ordered(), 100);
  CHECK(send_next(queue).frame.sequence == 3u);
  queue.on_acked(3, receipts);

  // The SKIP is re-sent when lost, once however often, until acknowledged.
  queue.on_skip_sent();
  CHECK_FALSE(queue.peek_skip().has_value());
  queue.on_skip_lost(*skip);
  queue.on_skip_lost(*skip);
  CHECK(queue.peek_skip() == skip);
  queue.on_skip_sent();
  CHECK_FALSE(queue.peek_skip().has_value());
  CHECK_FALSE(queue.all_acked());
  queue.on_skip_acked(0);
  CHECK(queue.all_acked());
  queue.on_skip_lost(*skip);  // a late loss of an acknowledged SKIP
  CHECK_FALSE(queue.peek_skip().has_value());
  CHECK(queue.all_acked());
  CHECK_FALSE(receipts.poll().has_value());
}

TEST_CASE("SendQueue: a lost chunk that can no longer arrive in time abandons its message", "[core]") {
  SendQueue queue(0);
  Receipts receipts;
  MessageOptions options;
  options.deadline = at(50);
  queue.push(pattern(300), options, 100);  // chunks 0..2
  queue.push(pattern(7), reliable_ordered(), 100);  // chunk 3, untracked
  std::uint64_t cost = 0;
  for (int i = 0; i < 4; ++i) cost += send_next(queue).credit;
  queue.on_acked(0, receipts);
  queue.on_acked(2, receipts);

  // Sent, not lost: nothing to decide yet, whatever the time.
  CHECK(expire(queue, at(100), 0ms, receipts).expired == 0u);
  CHECK(queue.buffered() == 107u);

  queue.on_lost(1);
  queue.on_lost(3);
  CHECK(expire(queue, at(40), 5ms, receipts).expired == 0u);  // still in time
  const QueueNews news = expire(queue, at(100), 5ms, receipts);
  CHECK(news.expired == 1u);
  // The SKIP carries the whole message's cost, the acknowledged chunks' too.
  CHECK(queue.peek_skip() == std::optional<wire::SkipFrame>(wire::SkipFrame{0, 0, 3, cost - chunk_cost(7)}));
  CHECK(queue.buffered() == 7u);
  // The untracked chunk behind it is still re-sent.
  const SentData resend = send_next(queue);
  CHECK(resend.frame.sequence == 3u);
  CHECK(resend.retransmission);
  CHECK_FALSE(queue.has_pending());
}

TEST_CASE("SendQueue: max_retransmits abandons a message after that many re-sends", "[core]") {
  const unsigned limit = GENERATE(0u, 1u, 3u);
  CAPTURE(limit);
  SendQueue queue(0);
  Receipts receipts;
  MessageOptions options;
  options.max_retransmits = limit;
  options.receipt = receipts.open(0, 3, 1);
  queue.push(pattern(200), options, 100);  // chunks 0, 1
  send_next(queue);
  send_next(queue);
  queue.on_acked(0, receipts);

  for (unsigned resends = 0; resends < limit; ++resends) {
    CAPTURE(resends);
    queue.on_lost(1);
    const QueueNews news = expire(queue, at(0), 0ms, receipts);
    CHECK(news.abandoned == 0u);
    const SentData resend = send_next(queue);
    CHECK(resend.frame.sequence == 1u);
    CHECK(resend.retransmission);
  }
  queue.on_lost(1);
  const QueueNews news = expire(queue, at(0), 0ms, receipts);
  CHECK(news.abandoned == 1u);
  CHECK(news.expired == 0u);
  CHECK_FALSE(queue.has_pending());
  const auto outcomes = poll_all(receipts);
  REQUIRE(outcomes.size() == 1u);
  CHECK(outcomes[0].outcome == ReceiptOutcome::lost);
  const auto skip = queue.peek_skip();
  REQUIRE(skip.has_value());
  CHECK(skip->sequence == 0u);
  CHECK(skip->count == 2u);
  CHECK(skip->cost == 2 * chunk_cost(100));
  CHECK(queue.buffered() == 0u);
}

TEST_CASE("SendQueue: without a limit or deadline a chunk is re-sent until acknowledged", "[core]") {
  SendQueue queue(0);
  Receipts receipts;
  queue.push(pattern(10), reliable_ordered(), 100);
  send_next(queue);
  for (int i = 0; i < 50; ++i) {
    queue.on_lost(0);
    const QueueNews news = expire(queue, at(1'000'000), 1s, receipts);
    CHECK(news.abandoned == 0u);
    CHECK(news.expired == 0u);
    CHECK(send_next(queue).retransmission);
  }
  CHECK_FALSE(queue.peek_skip().has_value());
  queue.on_acked(0, receipts);
  CHECK(queue.all_acked());
}

TEST_CASE("SendQueue: for_each_in_flight visits chunks in flight, newest first", "[core]") {
  SendQueue queue(0);
  Receipts receipts;
  for (std::size_t i = 0; i < 6; ++i) queue.push(pattern(10, i), reliable_ordered(), 100);
  for (int i = 0; i < 5; ++i) send_next(queue);  // 0..4 sent, 5 not
  queue.on_acked(3, receipts);
  queue.on_lost(1);

  const auto visit = [&](std::size_t limit, std::size_t window) {
    std::vector<std::uint64_t> seen;
    const std::size_t used = queue.for_each_in_flight(limit, window, [&](Chunk& chunk) {
      seen.push_back(chunk.sequence);
      return chunk.sequence != 2;  // "does not use" chunk 2
    });
    CHECK(used == static_cast<std::size_t>(std::count_if(seen.begin(), seen.end(), [](auto s) { return s != 2; })));
    return seen;
  };
  CHECK(visit(10, 10) == std::vector<std::uint64_t>{4, 2, 0});
  CHECK(visit(1, 10) == std::vector<std::uint64_t>{4});
  CHECK(visit(2, 10) == std::vector<std::uint64_t>{4, 2, 0});  // 2 was not used
  CHECK(visit(10, 2) == std::vector<std::uint64_t>{4});        // only 4 and 3 are looked at
}

TEST_CASE("SendQueue: a reliable message starts only within kMaxReliableSpan of the oldest unacknowledged chunk",
          "[core]") {
  constexpr std::size_t kHalf = wire::kMaxFragmentCount;
  static_assert(2 * kHalf == wire::kMaxReliableSpan);
  SendQueue queue(0);
  Receipts receipts;
  // Two messages of kMaxFragmentCount one-byte chunks fill the span exactly.
  queue.push(pattern(kHalf), reliable_ordered(), 1);
  queue.push(pattern(kHalf), reliable_ordered(), 1);
  for (std::size_t i = 0; i < 2 * kHalf; ++i) {
    const auto next = queue.peek();
    REQUIRE(next.has_value());
    REQUIRE(next->frame.sequence == i);
    queue.on_sent();
  }
  queue.push(pattern(1, 1), reliable_ordered(), 1);
  queue.push(pattern(1, 2), with_mode(DeliveryMode::unreliable), 1);  // waits its turn behind it
  CHECK_FALSE(queue.peek().has_value());
  CHECK_FALSE(queue.has_pending());

  // Acknowledging a later chunk makes no room; the oldest one does.
  queue.on_acked(1, receipts);
  CHECK_FALSE(queue.has_pending());
  // Re-sends need no room.
  queue.on_lost(0);
  CHECK(send_next(queue).frame.sequence == 0u);
  CHECK_FALSE(queue.has_pending());
  queue.on_acked(0, receipts);  // 0 and 1 acknowledged: room for two more chunks
  const SentData next = send_next(queue);
  CHECK(next.frame.sequence == wire::kMaxReliableSpan);
  CHECK(send_next(queue).frame.mode == DeliveryMode::unreliable);

  // A two-chunk message no longer fits (last chunk would be 2 + span), a one-chunk one would.
  queue.push(pattern(2, 3), reliable_ordered(), 1);
  CHECK_FALSE(queue.has_pending());
  queue.on_acked(2, receipts);
  const SentData two = send_next(queue);
  CHECK(two.frame.sequence == wire::kMaxReliableSpan + 1);
  CHECK(two.frame.fragment_count == 2u);
}

// A half-sent unreliable message that expires keeps its receipt open for the
// fragments already sent, which report on_part_acked/on_part_lost later; the
// next receipt opened must not inherit them.
TEST_CASE("SendQueue: a half-sent unreliable message that expires does not lend its receipt to another", "[core]") {
  SendQueue queue(0);
  Receipts receipts;
  MessageOptions options = with_mode(DeliveryMode::unreliable);
  options.deadline = at(10);
  options.receipt = receipts.open(0, 100, 3);
  queue.push(pattern(300), options, 100);  // three fragments, one receipt part each
  const SentData fragment = send_next(queue);
  REQUIRE(fragment.receipt == options.receipt);

  expire(queue, at(20), 0ms, receipts);

  // Another message asks for a receipt while the fragment is still in flight.
  MessageOptions next = with_mode(DeliveryMode::unreliable);
  next.receipt = receipts.open(0, 200, 1);
  queue.push(pattern(10), next, 100);

  // The fragment's packet is acknowledged; the new message was never even sent.
  receipts.on_part_acked(*fragment.receipt);
  const auto outcomes = poll_all(receipts);
  CAPTURE(outcomes.size());
  for (const Receipt& r : outcomes) {
    CAPTURE(r.tag, r.outcome);
    CHECK(r.tag != 200u);
  }
  CHECK(std::count_if(outcomes.begin(), outcomes.end(), [](const Receipt& r) { return r.tag == 100u; }) <= 1);
}

TEST_CASE("SendQueue: random pushes, sends, losses and ACKs send what was pushed", "[core]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  SendQueue queue(1);
  Receipts receipts;

  struct Message {
    DeliveryMode mode;
    std::vector<std::byte> bytes;
    std::size_t chunk_size;
  };
  std::deque<Message> unsent;  // the model's queue, oldest first
  std::uint32_t under_way = 0;  // fragments of unsent.front() sent (unreliable only)
  std::vector<Message> pushed;
  std::map<std::uint64_t, std::vector<std::byte>> reliable_sent;  // chunk bytes as first sent
  std::vector<std::byte> reliable_pushed, unreliable_pushed, unreliable_sent;
  std::uint64_t next_sequence = 0;
  std::optional<std::uint64_t> last_number;  // of the last numbered unreliable message
  std::set<std::uint64_t> in_flight;          // sent, neither acknowledged nor lost since
  std::map<std::uint64_t, std::size_t> unacked;  // reliable chunk -> its size
  std::set<std::uint64_t> acked;
  std::deque<std::uint64_t> losses;  // lost and not acknowledged, oldest first
  std::uint64_t credit = 0;

  const auto model_buffered = [&] {
    std::size_t total = 0;
    for (const Message& m : unsent) total += m.bytes.size();
    for (const auto& [sequence, size] : unacked) total += size;
    return total;
  };

  for (int step = 0; step < 100'000 && (pushed.size() < 300 || !queue.all_acked()); ++step) {
    CAPTURE(step);
    const std::uint64_t choice = uniform(rng, 0, 9);
    if (choice < 2 && pushed.size() < 300) {
      const auto mode = static_cast<DeliveryMode>(uniform(rng, 0, 3));
      const auto size = static_cast<std::size_t>(uniform(rng, 0, 3) == 0 ? 0 : uniform(rng, 1, 700));
      Message m{mode, pattern(size, pushed.size()), static_cast<std::size_t>(uniform(rng, 1, 300))};
      queue.push(m.bytes, with_mode(mode), m.chunk_size);
      auto& sink = is_reliable(mode) ? reliable_pushed : unreliable_pushed;
      sink.insert(sink.end(), m.bytes.begin(), m.bytes.end());
      unsent.push_back(m);
      pushed.push_back(m);
    } else if (choice < 6) {
      const auto next = queue.peek();
      if (!next) {
        CHECK(losses.empty());
        CHECK(unsent.empty());
        continue;
      }
      const wire::DataFrame& frame = next->frame;
      CAPTURE(frame.sequence, frame.fragment_index, frame.fragment_count, frame.mode);
      CHECK(frame.channel == 1);
      if (!losses.empty()) {
        CHECK(next->retransmission);
        CHECK(frame.sequence == losses.front());
        CHECK(next->credit == 0u);
        losses.pop_front();
        in_flight.insert(frame.sequence);
      } else if (is_reliable(frame.mode) && frame.fragment_index > 0) {
        // A fragment of the reliable message under way.
        CHECK_FALSE(next->retransmission);
        CHECK(frame.sequence == next_sequence);
        CHECK(next->credit == 0u);
        reliable_sent[frame.sequence].assign(frame.payload.begin(), frame.payload.end());
        CHECK(unacked[frame.sequence] == frame.payload.size());
        in_flight.insert(frame.sequence);
        ++next_sequence;
      } else {
        REQUIRE_FALSE(unsent.empty());
        const Message& m = unsent.front();
        const std::size_t count = std::max<std::size_t>(1, (m.bytes.size() + m.chunk_size - 1) / m.chunk_size);
        CHECK(frame.mode == m.mode);
        CHECK(frame.fragment_count == count);
        CHECK_FALSE(next->retransmission);
        if (is_reliable(m.mode)) {
          CHECK(frame.fragment_index == 0u);
          CHECK(frame.sequence == next_sequence);
          CHECK(next->credit == m.bytes.size() + count * kChunkCreditOverhead);
          credit += next->credit;
          reliable_sent[frame.sequence].assign(frame.payload.begin(), frame.payload.end());
          // All its chunks are held from now on, sent or not.
          for (std::size_t i = 0; i < count; ++i) {
            unacked[next_sequence + i] = std::min(m.chunk_size, m.bytes.size() - i * m.chunk_size);
          }
          in_flight.insert(frame.sequence);
          ++next_sequence;
          unsent.pop_front();
        } else {
          CHECK(next->credit == 0u);
          CHECK(frame.fragment_index == under_way);
          if (wire::has_sequence(m.mode, frame.fragment_count)) {
            if (under_way == 0) {
              if (last_number) CHECK(frame.sequence > *last_number);
              last_number = frame.sequence;
            }
            CHECK(frame.sequence == *last_number);
          }
          unreliable_sent.insert(unreliable_sent.end(), frame.payload.begin(), frame.payload.end());
          if (++under_way == count) {
            under_way = 0;
            unsent.pop_front();
          }
        }
      }
      CHECK_FALSE(queue.on_sent().has_value());
    } else if (!in_flight.empty()) {
      auto it = in_flight.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(uniform(rng, 0, in_flight.size() - 1)));
      const std::uint64_t sequence = *it;
      in_flight.erase(it);
      if (choice < 8) {
        queue.on_acked(sequence, receipts);
        acked.insert(sequence);
        unacked.erase(sequence);
        losses.erase(std::remove(losses.begin(), losses.end(), sequence), losses.end());
      } else {
        queue.on_lost(sequence);
        if (!acked.contains(sequence) && std::find(losses.begin(), losses.end(), sequence) == losses.end()) {
          losses.push_back(sequence);
        }
      }
    }
    REQUIRE(queue.buffered() == model_buffered());
  }

  REQUIRE(queue.all_acked());
  CHECK(queue.buffered() == 0u);
  CHECK(acked.size() == next_sequence);
  std::vector<std::byte> reliable_joined;
  std::uint64_t expected_credit = 0;
  for (const auto& [sequence, bytes] : reliable_sent) {
    reliable_joined.insert(reliable_joined.end(), bytes.begin(), bytes.end());
    expected_credit += chunk_cost(bytes.size());
  }
  CHECK(reliable_joined == reliable_pushed);
  CHECK(unreliable_sent == unreliable_pushed);
  CHECK(credit == expected_credit);
  CHECK(receipts.open_count() == 0u);
}
