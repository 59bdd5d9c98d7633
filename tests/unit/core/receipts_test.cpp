// SPDX-License-Identifier: MIT
// Unit tests of Receipts: exactly one outcome per receipt whatever order its
// parts are acknowledged or lost in (acknowledged once every part is, lost at
// the first loss), outcomes decided outright with resolve(), all open ones
// lost when the connection ends, outcomes polled oldest first, and a seeded
// run of many receipts with interleaved part events checked against a model.
#include "rudp/core/receipts.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "queue_test_support.hpp"

using namespace rudp;
using namespace rudp::core;
using namespace rudp::core::test;

TEST_CASE("Receipts: acknowledged once every part is", "[core]") {
  Receipts receipts;
  CHECK(receipts.open_count() == 0u);
  CHECK_FALSE(receipts.poll().has_value());
  const ReceiptId id = receipts.open(3, 42, 3);
  CHECK(receipts.open_count() == 1u);
  receipts.on_part_acked(id);
  receipts.on_part_acked(id);
  CHECK_FALSE(receipts.poll().has_value());
  CHECK(receipts.open_count() == 1u);
  receipts.on_part_acked(id);
  const auto outcomes = poll_all(receipts);
  REQUIRE(outcomes.size() == 1u);
  CHECK(outcomes[0].channel == 3);
  CHECK(outcomes[0].tag == 42u);
  CHECK(outcomes[0].outcome == ReceiptOutcome::acknowledged);
  CHECK(receipts.open_count() == 0u);
}

TEST_CASE("Receipts: lost at the first lost part, and only once", "[core]") {
  Receipts receipts;
  const ReceiptId id = receipts.open(0, 7, 4);
  receipts.on_part_acked(id);
  receipts.on_part_lost(id);
  CHECK(receipts.open_count() == 0u);
  const auto first = poll_all(receipts);
  REQUIRE(first.size() == 1u);
  CHECK(first[0].tag == 7u);
  CHECK(first[0].outcome == ReceiptOutcome::lost);
  // The other parts' fates change nothing.
  receipts.on_part_lost(id);
  receipts.on_part_acked(id);
  CHECK(poll_all(receipts).empty());
  // Nor does the end of the connection.
  receipts.resolve_all_lost();
  CHECK(poll_all(receipts).empty());
}

TEST_CASE("Receipts: resolve() decides the outcome outright, once", "[core]") {
  const auto outcome = GENERATE(ReceiptOutcome::acknowledged, ReceiptOutcome::lost, ReceiptOutcome::expired,
                                ReceiptOutcome::superseded);
  CAPTURE(outcome);
  Receipts receipts;
  const ReceiptId id = receipts.open(9, 1, 1);
  receipts.resolve(id, outcome);
  CHECK(receipts.open_count() == 0u);
  const auto outcomes = poll_all(receipts);
  REQUIRE(outcomes.size() == 1u);
  CHECK(outcomes[0].channel == 9);
  CHECK(outcomes[0].outcome == outcome);
  receipts.resolve_all_lost();
  CHECK(poll_all(receipts).empty());
}

TEST_CASE("Receipts: outcomes come out in the order they were decided", "[core]") {
  Receipts receipts;
  const ReceiptId a = receipts.open(1, 10, 2);
  const ReceiptId b = receipts.open(1, 11, 1);
  const ReceiptId c = receipts.open(2, 12, 1);
  const ReceiptId d = receipts.open(2, 13, 3);
  CHECK(std::set<ReceiptId>{a, b, c, d}.size() == 4u);  // distinct while open
  CHECK(receipts.open_count() == 4u);

  receipts.resolve(c, ReceiptOutcome::expired);
  receipts.on_part_acked(b);
  receipts.on_part_acked(a);
  receipts.on_part_lost(d);
  receipts.on_part_acked(a);
  const auto outcomes = poll_all(receipts);
  REQUIRE(outcomes.size() == 4u);
  CHECK(outcomes[0].tag == 12u);
  CHECK(outcomes[0].outcome == ReceiptOutcome::expired);
  CHECK(outcomes[1].tag == 11u);
  CHECK(outcomes[1].outcome == ReceiptOutcome::acknowledged);
  CHECK(outcomes[2].tag == 13u);
  CHECK(outcomes[2].outcome == ReceiptOutcome::lost);
  CHECK(outcomes[3].tag == 10u);
  CHECK(outcomes[3].outcome == ReceiptOutcome::acknowledged);
  CHECK(receipts.open_count() == 0u);
}

TEST_CASE("Receipts: the end of the connection loses every receipt still open", "[core]") {
  Receipts receipts;
  const ReceiptId done = receipts.open(0, 1, 1);
  const ReceiptId half = receipts.open(0, 2, 2);
  receipts.open(0, 3, 1);
  const ReceiptId lost = receipts.open(0, 4, 2);
  receipts.on_part_acked(done);
  receipts.on_part_acked(half);
  receipts.on_part_lost(lost);
  CHECK(poll_all(receipts).size() == 2u);
  CHECK(receipts.open_count() == 2u);

  receipts.resolve_all_lost();
  CHECK(receipts.open_count() == 0u);
  const auto outcomes = poll_all(receipts);
  REQUIRE(outcomes.size() == 2u);
  CHECK(outcomes[0].tag == 2u);
  CHECK(outcomes[1].tag == 3u);
  for (const Receipt& r : outcomes) CHECK(r.outcome == ReceiptOutcome::lost);
  receipts.resolve_all_lost();
  CHECK(poll_all(receipts).empty());
}

TEST_CASE("Receipts: a receipt's slot serves another only once all its parts are back", "[core]") {
  Receipts receipts;
  const ReceiptId first = receipts.open(0, 1, 2);
  receipts.on_part_lost(first);  // decided: lost; one part still out
  const ReceiptId second = receipts.open(0, 2, 1);
  CHECK(second != first);
  receipts.on_part_acked(first);  // the first's last part comes back
  CHECK(poll_all(receipts).size() == 1u);  // only the first's "lost"
  receipts.on_part_acked(second);
  const auto outcomes = poll_all(receipts);
  REQUIRE(outcomes.size() == 1u);
  CHECK(outcomes[0].tag == 2u);
  CHECK(outcomes[0].outcome == ReceiptOutcome::acknowledged);
}

// A message given up with parts in flight (SendQueue::expire() dropping an
// unreliable message after some of its fragments went out) keeps its slot
// until those parts' fate is known, so the next open() cannot inherit them.
TEST_CASE("Receipts: a receipt given up with parts in flight keeps them apart from the next one", "[core]") {
  Receipts receipts;
  const ReceiptId expired = receipts.open(0, 100, 3);  // one part sent, then the message expires
  receipts.give_up(expired, ReceiptOutcome::expired, 2);
  const ReceiptId next = receipts.open(0, 200, 1);  // not sent yet
  CAPTURE(expired, next);
  receipts.on_part_acked(expired);  // the expired message's fragment is acknowledged
  const auto outcomes = poll_all(receipts);
  REQUIRE_FALSE(outcomes.empty());
  CHECK(outcomes[0].tag == 100u);
  for (const Receipt& r : outcomes) {
    CAPTURE(r.tag, r.outcome);
    CHECK(r.tag != 200u);
  }
}

TEST_CASE("Receipts: any order of part events gives exactly one right outcome", "[core]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  Receipts receipts;

  struct Open {
    std::uint64_t tag;
    ChannelId channel;
    std::uint32_t parts;
    std::uint32_t unsent;     // parts not yet sent
    std::uint32_t in_flight;  // parts sent, fate unknown
    bool any_lost = false;
    bool decided = false;
  };
  std::map<ReceiptId, Open> live;          // receipts whose slot is in use
  std::map<std::uint64_t, ReceiptOutcome> expected;  // by tag, decided outcomes
  std::map<std::uint64_t, ChannelId> channels;
  std::map<std::uint64_t, std::vector<Receipt>> seen;
  std::uint64_t next_tag = 0;
  std::size_t undecided = 0;

  const auto decide = [&](Open& o, ReceiptOutcome outcome) {
    if (o.decided) return;
    o.decided = true;
    --undecided;
    expected[o.tag] = outcome;
  };

  for (int step = 0; step < 20'000; ++step) {
    CAPTURE(step);
    const std::uint64_t choice = uniform(rng, 0, 9);
    if (choice < 2 || live.empty()) {
      const auto parts = static_cast<std::uint32_t>(uniform(rng, 1, 5));
      const auto channel = static_cast<ChannelId>(uniform(rng, 0, 255));
      const ReceiptId id = receipts.open(channel, next_tag, parts);
      REQUIRE_FALSE(live.contains(id));  // never a slot still in use
      channels[next_tag] = channel;
      live[id] = Open{next_tag++, channel, parts, parts, 0};
      ++undecided;
    } else {
      auto it = live.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(uniform(rng, 0, live.size() - 1)));
      const ReceiptId id = it->first;
      Open& o = it->second;
      const std::uint64_t event = uniform(rng, 0, 9);
      if (event < 4 && o.unsent > 0) {
        --o.unsent;  // a part goes out
        ++o.in_flight;
      } else if (event < 8 && o.in_flight > 0) {
        --o.in_flight;
        if (uniform(rng, 0, 2) != 0) {
          receipts.on_part_acked(id);
        } else {
          receipts.on_part_lost(id);
          o.any_lost = true;
          decide(o, ReceiptOutcome::lost);
        }
        if (o.unsent == 0 && o.in_flight == 0) {
          if (!o.any_lost) decide(o, ReceiptOutcome::acknowledged);
          live.erase(it);
        }
      } else if (event == 9 && o.unsent == o.parts) {
        // Decided before any part went out: superseded, or expired unsent.
        const auto outcome = coin(rng) ? ReceiptOutcome::superseded : ReceiptOutcome::expired;
        receipts.resolve(id, outcome);
        decide(o, outcome);
        live.erase(it);
      }
    }
    while (const auto r = receipts.poll()) seen[r->tag].push_back(*r);
    REQUIRE(receipts.open_count() == undecided);
  }

  // The connection ends: whatever is undecided is lost.
  receipts.resolve_all_lost();
  for (auto& [id, o] : live) decide(o, ReceiptOutcome::lost);
  while (const auto r = receipts.poll()) seen[r->tag].push_back(*r);
  CHECK(receipts.open_count() == 0u);

  REQUIRE(expected.size() == next_tag);
  for (std::uint64_t tag = 0; tag < next_tag; ++tag) {
    CAPTURE(tag);
    REQUIRE(seen[tag].size() == 1u);
    CHECK(seen[tag][0].outcome == expected[tag]);
    CHECK(seen[tag][0].channel == channels[tag]);
  }
}
