// SPDX-License-Identifier: MIT
#include "rudp/sim/link.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

using namespace rudp;
using namespace rudp::sim;
using namespace std::chrono_literals;

namespace {

const Address kTo = Address::v4({10, 0, 0, 2}, 2000);

Instant at(Duration since_epoch) { return Instant{since_epoch}; }
std::int64_t ns(Instant t) { return t.time_since_epoch().count(); }

// A datagram whose sender address carries `id` (below 2^24), so it can be
// recognized after corruption, and whose payload is a pattern derived from it.
Datagram make(std::int64_t id, std::size_t size = 64) {
  const auto u = static_cast<std::uint64_t>(id);
  Datagram d{Address::v4({10, std::uint8_t(u >> 16), std::uint8_t(u >> 8), std::uint8_t(u)}, 1000), kTo,
             std::vector<std::byte>(size)};
  for (std::size_t i = 0; i < size; ++i) d.bytes[i] = std::byte(u * 131 + i * 7);
  return d;
}

std::int64_t id_of(const Datagram& d) {
  const auto& b = d.from.bytes();
  return (std::int64_t{b[13]} << 16) | (std::int64_t{b[14]} << 8) | std::int64_t{b[15]};
}

struct Arrival {
  Instant at;
  Datagram datagram;
  friend bool operator==(const Arrival&, const Arrival&) = default;
};

// Everything in flight, each polled at the instant next_delivery() names.
std::vector<Arrival> drain(Link& link) {
  std::vector<Arrival> out;
  while (const auto t = link.next_delivery()) {
    while (auto d = link.poll_delivery(*t)) out.push_back({*t, std::move(*d)});
  }
  return out;
}

// Sends `count` datagrams (ids 0 to count - 1), one every `spacing`, and drains the link.
std::vector<Arrival> run(Link& link, std::int64_t count, Duration spacing = 1ms) {
  for (std::int64_t i = 0; i < count; ++i) link.send(at(i * spacing), make(i));
  return drain(link);
}

// Which of ids 0 to count - 1 arrived at least once.
std::vector<bool> received(const std::vector<Arrival>& arrivals, std::int64_t count) {
  std::vector<bool> out(static_cast<std::size_t>(count));
  for (const auto& a : arrivals) out[static_cast<std::size_t>(id_of(a.datagram))] = true;
  return out;
}

}  // namespace

TEST_CASE("a perfect link delivers everything in order exactly one delay after sending", "[sim]") {
  const std::uint64_t seed = GENERATE(as<std::uint64_t>{}, 1, 2, 3);
  CAPTURE(seed);
  LinkConfig config;
  config.delay = 30ms;
  Link link(config, seed);
  CHECK_FALSE(link.next_delivery());

  for (std::int64_t i = 0; i < 1000; ++i) link.send(at(i * 1ms), make(i));
  REQUIRE(link.next_delivery());
  CHECK(ns(*link.next_delivery()) == ns(at(30ms)));
  CHECK_FALSE(link.poll_delivery(at(30ms - 1ns)));

  const auto arrivals = drain(link);
  REQUIRE(arrivals.size() == 1000);
  std::size_t exact = 0;
  for (std::size_t i = 0; i < arrivals.size(); ++i) {
    const auto id = static_cast<std::int64_t>(i);
    if (ns(arrivals[i].at) == ns(at(id * 1ms + 30ms)) && arrivals[i].datagram == make(id)) ++exact;
  }
  CHECK(exact == 1000);
  CHECK_FALSE(link.next_delivery());
  const LinkStats& stats = link.stats();
  CHECK(stats.sent == 1000);
  CHECK(stats.delivered == 1000);
  CHECK(stats.lost + stats.queue_dropped + stats.duplicated + stats.corrupted + stats.reordered == 0);
}

TEST_CASE("Bernoulli loss drops the asked fraction", "[sim]") {
  const std::uint64_t seed = GENERATE(as<std::uint64_t>{}, 1, 2, 3);
  CAPTURE(seed);
  LinkConfig config;
  config.loss = 0.01;
  Link link(config, seed);
  const auto arrivals = run(link, 100'000);
  // 1000 expected, standard deviation 31.5: +-200 is over six of them.
  CHECK(link.stats().lost >= 800);
  CHECK(link.stats().lost <= 1200);
  CHECK(arrivals.size() + link.stats().lost == 100'000);
  CHECK(link.stats().delivered == arrivals.size());
}

TEST_CASE("Gilbert-Elliott loss comes in bursts at the stationary rate", "[sim]") {
  const std::uint64_t seed = GENERATE(as<std::uint64_t>{}, 1, 2, 3);
  CAPTURE(seed);
  constexpr std::int64_t kCount = 200'000;

  SECTION("a bad state that loses everything: bursts last 1 / bad_to_good") {
    LinkConfig config;
    config.burst_loss = GilbertElliott{.good_to_bad = 0.01, .bad_to_good = 0.25, .loss_in_good = 0, .loss_in_bad = 1};
    Link link(config, seed);
    const auto got = received(run(link, kCount), kCount);
    std::int64_t bursts = 0;
    std::int64_t lost = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      if (got[i]) continue;
      ++lost;
      if (i == 0 || got[i - 1]) ++bursts;
    }
    REQUIRE(bursts > 0);
    CHECK(lost == static_cast<std::int64_t>(link.stats().lost));
    // About 1920 bursts of geometric length, mean 4 and variance 12: the mean
    // is within 0.08 per standard deviation. Bernoulli loss at this rate would
    // give bursts of 1.04.
    const double mean_burst = static_cast<double>(lost) / static_cast<double>(bursts);
    CHECK(mean_burst == Approx(4.0).margin(0.4));
    // Stationary P(bad) = 0.01 / (0.01 + 0.25).
    CHECK(static_cast<double>(lost) / kCount == Approx(0.01 / 0.26).margin(0.006));
  }

  SECTION("lossy states: long-run loss is the stationary mix") {
    LinkConfig config;
    config.burst_loss =
        GilbertElliott{.good_to_bad = 0.05, .bad_to_good = 0.2, .loss_in_good = 0.01, .loss_in_bad = 0.6};
    Link link(config, seed);
    run(link, kCount);
    // P(bad) = 0.05 / 0.25 = 0.2, so loss = 0.8 * 0.01 + 0.2 * 0.6 = 0.128.
    CHECK(static_cast<double>(link.stats().lost) / kCount == Approx(0.128).margin(0.006));
  }
}

TEST_CASE("jitter spreads arrivals over [delay, delay + jitter] and keeps send order", "[sim]") {
  const std::uint64_t seed = GENERATE(as<std::uint64_t>{}, 1, 2, 3);
  CAPTURE(seed);
  LinkConfig config;
  config.delay = 50ms;
  config.jitter = 20ms;
  Link link(config, seed);
  constexpr std::int64_t kCount = 10'000;

  SECTION("sent further apart than the jitter: uniform") {
    const Duration spacing = 100ms;
    const auto arrivals = run(link, kCount, spacing);
    REQUIRE(arrivals.size() == kCount);
    Duration min = Duration::max();
    Duration max = Duration::min();
    double sum_ms = 0;
    std::int64_t out_of_order = 0;
    for (std::size_t i = 0; i < arrivals.size(); ++i) {
      const auto id = static_cast<std::int64_t>(i);
      out_of_order += id_of(arrivals[i].datagram) != id;
      const Duration offset = arrivals[i].at - at(id * spacing);
      min = std::min(min, offset);
      max = std::max(max, offset);
      sum_ms += std::chrono::duration<double, std::milli>(offset).count();
    }
    CHECK(out_of_order == 0);
    CHECK(min >= 50ms);
    CHECK(min < 51ms);
    CHECK(max <= 70ms);
    CHECK(max > 69ms);
    // Uniform on 20 ms has a standard deviation of 5.8 ms; its mean over 10,000 of 0.058 ms.
    CHECK(sum_ms / kCount == Approx(60.0).margin(0.5));
  }

  SECTION("sent closer together than the jitter: in order, each within [delay, delay + jitter] of its send") {
    const auto arrivals = run(link, kCount, 1ms);
    REQUIRE(arrivals.size() == kCount);
    std::int64_t bad = 0;
    std::set<std::int64_t> offsets;
    for (std::size_t i = 0; i < arrivals.size(); ++i) {
      const auto id = static_cast<std::int64_t>(i);
      const Duration offset = arrivals[i].at - at(id * 1ms);
      bad += id_of(arrivals[i].datagram) != id || offset < 50ms || offset > 70ms ||
             (i > 0 && arrivals[i].at < arrivals[i - 1].at);
      offsets.insert(offset.count());
    }
    CHECK(bad == 0);
    CHECK(offsets.size() > 1000);
  }
}

TEST_CASE("reordering holds back the asked fraction and later datagrams overtake them", "[sim]") {
  const std::uint64_t seed = GENERATE(as<std::uint64_t>{}, 1, 2, 3);
  CAPTURE(seed);
  LinkConfig config;
  config.delay = 20ms;
  config.reorder = 0.05;
  config.reorder_delay = 10ms;
  Link link(config, seed);
  constexpr std::int64_t kCount = 50'000;
  const auto arrivals = run(link, kCount, 1ms);
  REQUIRE(arrivals.size() == kCount);

  // 2500 expected, standard deviation 48.7.
  const std::uint64_t reordered = link.stats().reordered;
  CHECK(reordered >= 2250);
  CHECK(reordered <= 2750);
  // A held-back datagram is overtaken by the next one not held back within
  // 10 sends, which misses only when it is among the last 9 sent.
  std::int64_t highest = -1;
  std::uint64_t overtaken = 0;
  std::uint64_t held = 0;
  std::int64_t bad = 0;
  for (const auto& a : arrivals) {
    const std::int64_t id = id_of(a.datagram);
    if (id < highest) ++overtaken;
    highest = std::max(highest, id);
    const Duration offset = a.at - at(id * 1ms);
    held += offset == 30ms;
    bad += offset != 20ms && offset != 30ms;
  }
  CHECK(bad == 0);
  CHECK(held == reordered);
  CHECK(overtaken <= reordered);
  CHECK(overtaken + 9 >= reordered);
}

TEST_CASE("duplication delivers the asked fraction twice, the copies back to back", "[sim]") {
  const std::uint64_t seed = GENERATE(as<std::uint64_t>{}, 1, 2, 3);
  CAPTURE(seed);
  LinkConfig config;
  config.delay = 5ms;
  config.duplicate = 0.02;
  Link link(config, seed);
  constexpr std::int64_t kCount = 100'000;
  const auto arrivals = run(link, kCount, 1ms);

  // 2000 expected, standard deviation 44.
  const std::uint64_t duplicated = link.stats().duplicated;
  CHECK(duplicated >= 1750);
  CHECK(duplicated <= 2250);
  CHECK(arrivals.size() == kCount + duplicated);
  CHECK(link.stats().delivered == arrivals.size());

  std::uint64_t twice = 0;
  std::int64_t bad = 0;
  std::int64_t expected = 0;
  for (std::size_t i = 0; i < arrivals.size(); ++i) {
    bad += !(arrivals[i].datagram == make(expected));
    if (i + 1 < arrivals.size() && id_of(arrivals[i + 1].datagram) == expected) {
      ++twice;
      ++i;
      bad += !(arrivals[i] == arrivals[i - 1]);
    }
    ++expected;
  }
  CHECK(bad == 0);
  CHECK(expected == kCount);
  CHECK(twice == duplicated);
}

TEST_CASE("corruption flips 1 to 3 bits of the asked fraction", "[sim]") {
  const std::uint64_t seed = GENERATE(as<std::uint64_t>{}, 1, 2, 3);
  CAPTURE(seed);
  LinkConfig config;
  config.corrupt = 0.1;
  Link link(config, seed);

  SECTION("payloads of 100 bytes") {
    constexpr std::int64_t kCount = 20'000;
    for (std::int64_t i = 0; i < kCount; ++i) link.send(at(i * 1ms), make(i, 100));
    const auto arrivals = drain(link);
    REQUIRE(arrivals.size() == kCount);
    std::array<std::uint64_t, 4> by_flips{};
    std::int64_t bad = 0;
    for (std::size_t i = 0; i < arrivals.size(); ++i) {
      const Datagram sent = make(static_cast<std::int64_t>(i), 100);
      const Datagram& got = arrivals[i].datagram;
      bad += got.from != sent.from || got.to != sent.to || got.bytes.size() != sent.bytes.size();
      if (got.bytes.size() != sent.bytes.size()) continue;
      int flips = 0;
      for (std::size_t b = 0; b < got.bytes.size(); ++b) {
        flips += std::popcount(std::to_integer<unsigned>(got.bytes[b] ^ sent.bytes[b]));
      }
      if (flips > 3) ++bad;
      else ++by_flips[static_cast<std::size_t>(flips)];
    }
    CHECK(bad == 0);
    const std::uint64_t corrupted = by_flips[1] + by_flips[2] + by_flips[3];
    CHECK(corrupted == link.stats().corrupted);
    // 2000 expected, standard deviation 42.
    CHECK(corrupted >= 1760);
    CHECK(corrupted <= 2240);
    // 1, 2 and 3 flipped bits are equally likely.
    for (std::size_t flips = 1; flips <= 3; ++flips) {
      CAPTURE(flips);
      CHECK(by_flips[flips] * 4 > corrupted);
    }
  }

  SECTION("empty payloads pass unharmed, one-byte payloads get at most 3 distinct bits flipped") {
    config.corrupt = 1;
    link.set_config(config);
    link.send(at(0ms), Datagram{Address{}, kTo, {}});
    for (std::int64_t i = 0; i < 100; ++i) link.send(at(1ms), Datagram{Address{}, kTo, {std::byte{0}}});
    const auto arrivals = drain(link);
    REQUIRE(arrivals.size() == 101);
    CHECK(arrivals[0].datagram.bytes.empty());
    int bad = 0;
    for (std::size_t i = 1; i < arrivals.size(); ++i) {
      const int flips = std::popcount(std::to_integer<unsigned>(arrivals[i].datagram.bytes.at(0)));
      bad += flips < 1 || flips > 3;
    }
    CHECK(bad == 0);
    CHECK(link.stats().corrupted == 100);
  }
}

TEST_CASE("a rate limit serializes at exactly the rate behind a drop-tail queue", "[sim]") {
  const std::uint64_t seed = GENERATE(as<std::uint64_t>{}, 1, 2, 3);
  CAPTURE(seed);
  LinkConfig config;
  config.delay = 5ms;

  SECTION("back to back: no rounding drift") {
    // 1000 bytes at 3 Mbit/s take 2.666... ms; 3000 of them exactly 8 s.
    config.rate_bits_per_second = 3'000'000;
    Link link(config, seed);
    for (std::int64_t i = 0; i < 3000; ++i) link.send(at(0ms), make(i, 1000));
    const auto arrivals = drain(link);
    REQUIRE(arrivals.size() == 3000);
    std::int64_t bad = 0;
    for (std::size_t i = 0; i < arrivals.size(); ++i) {
      const auto k = static_cast<std::int64_t>(i) + 1;
      bad += id_of(arrivals[i].datagram) != k - 1 || ns(arrivals[i].at) != k * 8'000'000 / 3 + 5'000'000;
    }
    CHECK(bad == 0);
    CHECK(ns(arrivals.back().at) == ns(at(8s + 5ms)));
  }

  SECTION("an idle link adds only the serialization time") {
    config.rate_bits_per_second = 1'000'000;  // 1250 bytes: 10 ms
    Link link(config, seed);
    link.send(at(0ms), make(0, 1250));
    link.send(at(50ms), make(1, 1250));
    const auto arrivals = drain(link);
    REQUIRE(arrivals.size() == 2);
    CHECK(ns(arrivals[0].at) == ns(at(15ms)));
    CHECK(ns(arrivals[1].at) == ns(at(65ms)));
  }

  SECTION("drop-tail once the bytes not yet departed would exceed the queue") {
    config.rate_bits_per_second = 1'000'000;  // 1250 bytes: 10 ms
    config.queue_bytes = 12'500;              // room for 10, the one being serialized included
    Link link(config, seed);
    for (std::int64_t i = 0; i < 15; ++i) link.send(at(0ms), make(i, 1250));
    CHECK(link.stats().queue_dropped == 5);
    link.send(at(10ms - 1ns), make(15, 1250));  // the first has not quite left
    CHECK(link.stats().queue_dropped == 6);
    link.send(at(10ms), make(16, 1250));  // now it has
    link.send(at(10ms), make(17, 1250));
    CHECK(link.stats().queue_dropped == 7);
    const auto arrivals = drain(link);
    REQUIRE(arrivals.size() == 11);
    for (std::size_t i = 0; i < arrivals.size(); ++i) {
      const auto k = static_cast<std::int64_t>(i);
      CHECK(id_of(arrivals[i].datagram) == (k < 10 ? k : 16));
      CHECK(ns(arrivals[i].at) == ns(at((k + 1) * 10ms + 5ms)));
    }
  }

  SECTION("offered twice the rate: delivers at the rate and drops the rest") {
    config.rate_bits_per_second = 1'000'000;
    config.queue_bytes = 12'500;
    Link link(config, seed);
    for (std::int64_t i = 0; i < 2000; ++i) link.send(at(i * 5ms), make(i, 1250));
    const auto arrivals = drain(link);
    const LinkStats& stats = link.stats();
    CHECK(arrivals.size() + stats.queue_dropped == 2000);
    CHECK(arrivals.size() >= 1000);
    CHECK(arrivals.size() <= 1010);
    // Busy from the first send to the last departure: 1250 bytes every 10 ms is 1 Mbit/s.
    std::int64_t bad_gaps = 0;
    for (std::size_t i = 1; i < arrivals.size(); ++i) bad_gaps += arrivals[i].at - arrivals[i - 1].at != 10ms;
    CHECK(bad_gaps == 0);
  }

  SECTION("a datagram lost on the wire has still used the bottleneck") {
    config.rate_bits_per_second = 1'000'000;
    config.loss = 1;
    Link link(config, seed);
    link.send(at(0ms), make(0, 1250));
    config.loss = 0;
    link.set_config(config);
    link.send(at(0ms), make(1, 1250));
    const auto arrivals = drain(link);
    REQUIRE(arrivals.size() == 1);
    CHECK(id_of(arrivals[0].datagram) == 1);
    CHECK(ns(arrivals[0].at) == ns(at(25ms)));
    CHECK(link.stats().lost == 1);
  }
}

namespace {

// Every impairment at once, with a bottleneck a little slower than the offered load.
std::vector<Arrival> everything(std::uint64_t seed, LinkStats& stats) {
  LinkConfig config;
  config.delay = 20ms;
  config.jitter = 5ms;
  config.loss = 0.05;
  config.burst_loss = GilbertElliott{.good_to_bad = 0.01, .bad_to_good = 0.3, .loss_in_good = 0, .loss_in_bad = 1};
  config.reorder = 0.05;
  config.reorder_delay = 8ms;
  config.duplicate = 0.03;
  config.corrupt = 0.05;
  config.rate_bits_per_second = 10'000'000;
  config.queue_bytes = 30'000;
  Link link(config, seed);
  for (std::int64_t i = 0; i < 5000; ++i) {
    link.send(at(i * 500us), make(i, 100 + static_cast<std::size_t>(i % 1100)));
  }
  auto arrivals = drain(link);
  stats = link.stats();
  return arrivals;
}

}  // namespace

TEST_CASE("the seed alone decides the run", "[sim]") {
  const std::uint64_t seed = GENERATE(as<std::uint64_t>{}, 1, 2, 3);
  CAPTURE(seed);
  LinkStats first_stats;
  LinkStats again_stats;
  LinkStats other_stats;
  const auto first = everything(seed, first_stats);
  const auto again = everything(seed, again_stats);
  const auto other = everything(seed + 100, other_stats);
  CHECK((first == again));
  CHECK_FALSE((first == other));

  CHECK(first_stats.sent == 5000);
  CHECK(first_stats.delivered == first.size());
  CHECK(first_stats.sent + first_stats.duplicated ==
        first_stats.delivered + first_stats.lost + first_stats.queue_dropped);
  CHECK(first_stats.lost > 0);
  CHECK(first_stats.queue_dropped > 0);
  CHECK(first_stats.duplicated > 0);
  CHECK(first_stats.corrupted > 0);
  CHECK(first_stats.reordered > 0);
}

TEST_CASE("turning one impairment on leaves the others' choices alone", "[sim]") {
  const std::uint64_t seed = GENERATE(as<std::uint64_t>{}, 1, 2, 3);
  CAPTURE(seed);
  constexpr std::int64_t kCount = 20'000;
  LinkConfig lossy;
  lossy.loss = 0.1;
  LinkConfig corrupting;
  corrupting.corrupt = 0.2;
  LinkConfig both = lossy;
  both.corrupt = corrupting.corrupt;
  both.duplicate = 0.1;
  both.jitter = 3ms;
  both.reorder = 0.1;
  both.reorder_delay = 5ms;

  Link lossy_link(lossy, seed);
  Link corrupting_link(corrupting, seed);
  Link both_link(both, seed);
  const auto lossy_arrivals = run(lossy_link, kCount);
  const auto corrupting_arrivals = run(corrupting_link, kCount);
  const auto both_arrivals = run(both_link, kCount);

  CHECK(received(lossy_arrivals, kCount) == received(both_arrivals, kCount));
  std::map<std::int64_t, std::vector<std::byte>> corrupted_alone;
  for (const auto& a : corrupting_arrivals) corrupted_alone[id_of(a.datagram)] = a.datagram.bytes;
  std::int64_t differ = 0;
  for (const auto& a : both_arrivals) differ += corrupted_alone.at(id_of(a.datagram)) != a.datagram.bytes;
  CHECK(differ == 0);
}

TEST_CASE("set_config makes an outage and ends it while datagrams in flight keep their schedule", "[sim]") {
  const std::uint64_t seed = GENERATE(as<std::uint64_t>{}, 1, 2, 3);
  CAPTURE(seed);
  LinkConfig config;
  config.delay = 50ms;
  Link link(config, seed);
  LinkConfig outage = config;
  outage.loss = 1;

  constexpr std::int64_t kCount = 3000;  // one every 10 ms for 30 s
  for (std::int64_t i = 0; i < kCount; ++i) {
    const Instant now = at(i * 10ms);
    if (now == at(10s)) link.set_config(outage);
    if (now == at(20s)) link.set_config(config);
    link.send(now, make(i));
  }
  CHECK(link.config().loss == 0);
  const auto got = received(drain(link), kCount);
  std::int64_t bad = 0;
  for (std::size_t i = 0; i < got.size(); ++i) bad += got[i] != (i < 1000 || i >= 2000);
  CHECK(bad == 0);
  CHECK(link.stats().lost == 1000);
  CHECK(link.stats().delivered == 2000);
}
