// SPDX-License-Identifier: MIT
// The pacer against a saturating sender: one that sends whenever
// next_send_time() allows and jumps straight to the instant it names. Exact
// instants are worked out in the comments; rates are bytes per second.
#include "rudp/cc/pacer.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <map>

using namespace rudp;
using namespace rudp::cc;
using namespace std::chrono_literals;

namespace {

constexpr Instant at(Duration d) { return Instant{} + d; }

/// What a saturating sender of `packet`-byte packets emitted in [start, end).
struct Saturated {
  std::uint64_t total = 0;              // bytes
  std::uint64_t largest_instant = 0;    // most bytes sent at one instant
  Instant last{};                       // the instant of the last send
};

Saturated saturate(Pacer& pacer, Instant start, Instant end, std::uint64_t packet) {
  Saturated out;
  std::map<Instant, std::uint64_t> per_instant;
  Instant now = start;
  while (true) {
    if (const auto next = pacer.next_send_time(now, packet)) now = *next;
    if (now >= end) break;
    pacer.on_sent(now, packet);
    out.total += packet;
    out.last = now;
    per_instant[now] += packet;
  }
  for (const auto& [instant, bytes] : per_instant) out.largest_instant = std::max(out.largest_instant, bytes);
  return out;
}

}  // namespace

TEST_CASE("an unpaced pacer never holds a packet back", "[cc]") {
  Pacer pacer;
  CHECK(pacer.rate() == 0);
  CHECK_FALSE(pacer.next_send_time(at(0ms), 1200).has_value());
  pacer.on_sent(at(0ms), 1u << 20);
  CHECK_FALSE(pacer.next_send_time(at(0ms), 1u << 20).has_value());

  pacer.set_rate(1'000'000, 2400);
  pacer.set_rate(0, 2400);  // back to unpaced
  pacer.on_sent(at(1ms), 1u << 20);
  CHECK_FALSE(pacer.next_send_time(at(1ms), 1200).has_value());
}

TEST_CASE("the bucket starts full and refills at the rate", "[cc]") {
  Pacer pacer;
  pacer.set_rate(1'000'000, 2400);  // 1 byte per microsecond, two packets of burst
  CHECK(pacer.rate() == 1'000'000);
  CHECK(pacer.burst() == 2400);

  // A full bucket lets two 1200-byte packets go at once, not a third.
  CHECK_FALSE(pacer.next_send_time(at(10ms), 1200).has_value());
  pacer.on_sent(at(10ms), 1200);
  CHECK_FALSE(pacer.next_send_time(at(10ms), 1200).has_value());
  pacer.on_sent(at(10ms), 1200);
  // Empty: 1200 bytes take 1200 us to come back.
  CHECK(pacer.next_send_time(at(10ms), 1200) == at(11200us));
  // Half way there, the answer is the same instant.
  CHECK(pacer.next_send_time(at(10600us), 1200) == at(11200us));
  // A smaller packet needs less: 100 bytes by 10.1 ms.
  CHECK(pacer.next_send_time(at(10ms), 100) == at(10100us));
  // A `now` before the last send counts as that send's time.
  CHECK(pacer.next_send_time(at(5ms), 1200) == at(11200us));
  CHECK_FALSE(pacer.next_send_time(at(11200us), 1200).has_value());
}

TEST_CASE("waits round up to the nanosecond that fills the bucket", "[cc]") {
  Pacer pacer;
  pacer.set_rate(3, 2);  // one byte every 333.33... ms
  pacer.on_sent(at(0ns), 2);
  // 1e9 nanobytes at 3 per ns: 333'333'333.33 ns, so 333'333'334.
  CHECK(pacer.next_send_time(at(0ns), 1) == at(Duration{333'333'334}));
  CHECK(pacer.next_send_time(at(Duration{333'333'333}), 1) == at(Duration{333'333'334}));
  CHECK_FALSE(pacer.next_send_time(at(Duration{333'333'334}), 1).has_value());
  // The leftover third of a nanosecond's refill is kept: three bytes take
  // exactly one second over three sends.
  pacer.on_sent(at(Duration{333'333'334}), 1);
  CHECK(pacer.next_send_time(at(Duration{333'333'334}), 1) == at(Duration{666'666'667}));
  pacer.on_sent(at(Duration{666'666'667}), 1);
  CHECK(pacer.next_send_time(at(Duration{666'666'667}), 1) == at(1s));
}

TEST_CASE("a saturating sender keeps to the rate and never bursts past the burst", "[cc]") {
  SECTION("10 Mbit/s, 1200-byte packets, bursts of 2") {
    Pacer pacer;
    pacer.set_rate(1'250'000, 2400);
    const Saturated sent = saturate(pacer, at(0s), at(10s), 1200);
    CHECK(sent.largest_instant <= 2400);
    // The initial full bucket is the only excess: 10 s * 1.25 MB/s + 2400.
    CHECK(sent.total >= 12'500'000 * 99 / 100);
    CHECK(sent.total <= 12'500'000 * 101 / 100);
  }
  SECTION("100 Gbit/s, 1500-byte packets, bursts of 64 KiB") {
    Pacer pacer;
    pacer.set_rate(12'500'000'000, 65'536);
    const Saturated sent = saturate(pacer, at(0s), at(1ms), 1500);
    CHECK(sent.largest_instant <= 65'536);
    CHECK(sent.total >= 12'500'000 * 99 / 100);
    CHECK(sent.total <= 12'500'000 * 101 / 100);
  }
  SECTION("an odd rate that no packet time divides") {
    Pacer pacer;
    pacer.set_rate(777'777, 1000);
    const Saturated sent = saturate(pacer, at(0s), at(10s), 999);
    CHECK(sent.largest_instant <= 1000);
    CHECK(sent.total >= 7'777'770 * 99 / 100);
    CHECK(sent.total <= 7'777'770 * 101 / 100);
  }
}

TEST_CASE("an idle period fills the bucket no further than the burst", "[cc]") {
  Pacer pacer;
  pacer.set_rate(1'000'000, 3600);  // three packets
  pacer.on_sent(at(0s), 1200);
  // An hour idle, at 100 Gbit/s worth of refill arithmetic, still leaves a
  // bucket of three packets.
  pacer.set_rate(12'500'000'000, 3600);
  Instant now = at(std::chrono::hours{1});
  int at_once = 0;
  while (!pacer.next_send_time(now, 1200).has_value()) {
    pacer.on_sent(now, 1200);
    ++at_once;
  }
  CHECK(at_once == 3);
}

TEST_CASE("a rate change takes effect at once", "[cc]") {
  Pacer pacer;
  pacer.set_rate(1'000'000, 1200);
  const Saturated slow = saturate(pacer, at(0s), at(1s), 1200);
  CHECK(slow.total <= 1'000'000 + 1200);

  pacer.set_rate(4'000'000, 1200);
  const Saturated fast = saturate(pacer, slow.last, slow.last + 1s, 1200);
  CHECK(fast.total >= 4'000'000 * 99 / 100);
  CHECK(fast.total <= 4'000'000 * 101 / 100);

  // Lowering the burst cuts a full bucket at once.
  const Instant later = fast.last + 1s;
  pacer.set_rate(4'000'000, 600);
  CHECK(pacer.next_send_time(later, 600) == std::nullopt);
  pacer.on_sent(later, 600);
  CHECK(pacer.next_send_time(later, 600) == later + 150us);  // 600 bytes at 4 bytes per us
}

TEST_CASE("a packet larger than the burst waits for a full bucket and leaves a debt", "[cc]") {
  Pacer pacer;
  pacer.set_rate(1'000'000, 1000);
  pacer.on_sent(at(0ms), 500);
  // 500 bytes short of a full bucket: 500 us.
  CHECK(pacer.next_send_time(at(0ms), 3000) == at(500us));
  pacer.on_sent(at(500us), 3000);  // the bucket is now 2000 bytes in debt
  // Paying 2000 bytes back and earning 1000 more takes 3 ms.
  CHECK(pacer.next_send_time(at(500us), 1000) == at(3500us));
  // A packet sent against the pacer's advice deepens the debt the same way.
  pacer.on_sent(at(1ms), 1000);  // level -1500 at 1 ms, -2500 after
  CHECK(pacer.next_send_time(at(1ms), 1000) == at(4500us));
}

TEST_CASE("a debt too large to repay saturates instead of overflowing", "[cc]") {
  Pacer pacer;
  pacer.set_rate(1, 1);  // one byte per second
  pacer.on_sent(at(-1h), ~std::uint64_t{0});  // taken as 2^62 bytes, before the epoch
  CHECK(pacer.next_send_time(at(-1h), 1) == Instant::max());
  CHECK(pacer.next_send_time(Instant::max(), 1) == Instant::max());
}
