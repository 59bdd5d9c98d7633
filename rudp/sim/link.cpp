// SPDX-License-Identifier: MIT
// The Link: a bottleneck, a chain of impairments and the datagrams in flight.
// Those not held back arrive in send order, so they wait in a FIFO; the few
// held back wait in a binary heap keyed by (arrival, send sequence); delivery
// takes whichever head comes first, so a datagram costs O(1) unless held back.
// Randomness is xoshiro256** seeded through splitmix64, one stream per
// impairment, and a probability is drawn from the top 53 bits of a word, never
// through a <random> distribution, whose output differs between libraries.
#include "rudp/sim/link.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <deque>
#include <utility>

#include "rudp/assert.hpp"
#include "rudp/core/random.hpp"

namespace rudp::sim {
namespace {

using core::Random;
using core::splitmix64;

bool is_probability(double p) noexcept { return p >= 0 && p <= 1; }  // false for NaN

void check(const LinkConfig& c) {
  RUDP_ASSERT(c.delay >= Duration::zero() && c.jitter >= Duration::zero() && c.reorder_delay >= Duration::zero());
  RUDP_ASSERT(is_probability(c.loss) && is_probability(c.reorder) && is_probability(c.duplicate) &&
              is_probability(c.corrupt));
  if (c.burst_loss) {
    const GilbertElliott& ge = *c.burst_loss;
    RUDP_ASSERT(is_probability(ge.good_to_bad) && is_probability(ge.bad_to_good) &&
                is_probability(ge.loss_in_good) && is_probability(ge.loss_in_bad));
  }
}

// Flips 1 to 3 distinct bits of a non-empty payload, all chosen from `choice`.
void flip_bits(std::vector<std::byte>& bytes, std::uint64_t choice) noexcept {
  const std::uint64_t bits = std::uint64_t{bytes.size()} * 8;
  const std::uint64_t count = std::min<std::uint64_t>(1 + splitmix64(choice) % 3, bits);
  std::array<std::uint64_t, 3> flipped{};
  std::uint64_t done = 0;
  while (done < count) {
    const std::uint64_t bit = splitmix64(choice) % bits;
    bool seen = false;
    for (std::uint64_t i = 0; i < done; ++i) seen = seen || flipped[i] == bit;
    if (seen) continue;
    flipped[done++] = bit;
    bytes[bit / 8] ^= std::byte{1} << (bit % 8);
  }
}

struct Pending {
  Instant arrival;
  std::uint64_t sequence;
  Datagram datagram;
};

// The std heap algorithms keep the greatest element on top; ordering by
// "arrives later" puts the earliest arrival there, the first sent among equals.
struct ArrivesLater {
  bool operator()(const Pending& a, const Pending& b) const noexcept {
    return a.arrival != b.arrival ? a.arrival > b.arrival : a.sequence > b.sequence;
  }
};

struct Queued {
  Instant departure;  // when its last bit is on the wire
  std::size_t size;
};

}  // namespace

struct Link::State {
  // Members initialize in declaration order, so each stream takes the next
  // splitmix64 output of the seed in the order the streams are declared.
  explicit State(const LinkConfig& c, std::uint64_t seed)
      : config(c),
        burst_rng(splitmix64(seed)),
        loss_rng(splitmix64(seed)),
        corrupt_rng(splitmix64(seed)),
        jitter_rng(splitmix64(seed)),
        reorder_rng(splitmix64(seed)),
        duplicate_rng(splitmix64(seed)) {}

  // Steps the Gilbert-Elliott chain and says whether it loses this datagram.
  bool burst_loses() noexcept {
    if (!config.burst_loss) return false;
    const GilbertElliott& ge = *config.burst_loss;
    burst_bad = burst_bad ? !burst_rng.chance(ge.bad_to_good) : burst_rng.chance(ge.good_to_bad);
    return burst_rng.chance(burst_bad ? ge.loss_in_bad : ge.loss_in_good);
  }

  // When a datagram of `size` bytes offered at `now` finishes serializing, or
  // nullopt if the queue has no room for it.
  std::optional<Instant> enter_bottleneck(Instant now, std::size_t size) {
    while (!queue.empty() && queue.front().departure <= now) {
      queued_bytes -= queue.front().size;
      queue.pop_front();
    }
    if (config.queue_bytes > 0 && queued_bytes + size > config.queue_bytes) return std::nullopt;
    if (now > busy_until) {
      busy_until = now;
      busy_remainder = 0;
    }
    // size * 8 / rate seconds, in whole nanoseconds; the fraction left over
    // carries to the next datagram, so back-to-back datagrams leave at exactly
    // the rate instead of drifting by a rounding per datagram.
    const std::uint64_t rate = config.rate_bits_per_second;
    const std::uint64_t bit_nanoseconds = std::uint64_t{size} * 8 * 1'000'000'000;
    std::uint64_t nanoseconds = bit_nanoseconds / rate;
    busy_remainder += bit_nanoseconds % rate;
    if (busy_remainder >= rate) {
      busy_remainder -= rate;
      ++nanoseconds;
    }
    busy_until += Duration{static_cast<Duration::rep>(nanoseconds)};
    queue.push_back({busy_until, size});
    queued_bytes += size;
    return busy_until;
  }

  void schedule(Instant arrival, Datagram datagram, bool held_back) {
    if (held_back) {
      held.push_back({arrival, next_sequence++, std::move(datagram)});
      std::push_heap(held.begin(), held.end(), ArrivesLater{});
    } else {
      in_order.push_back({arrival, next_sequence++, std::move(datagram)});
    }
  }

  // Whether the next delivery is the head of `held` rather than of `in_order`.
  bool held_is_next() const noexcept {
    return !held.empty() && (in_order.empty() || ArrivesLater{}(in_order.front(), held.front()));
  }

  LinkConfig config;
  LinkStats stats;
  Random burst_rng;
  Random loss_rng;
  Random corrupt_rng;
  Random jitter_rng;
  Random reorder_rng;
  Random duplicate_rng;
  bool burst_bad = false;
  Instant last_send = Instant::min();
  // The arrival of the latest datagram not held back: the next one arrives no earlier.
  Instant in_order_floor = Instant::min();
  // The bottleneck: when its last accepted datagram departs, the fraction of a
  // nanosecond owed past that (in units of 1 / rate ns), and the datagrams
  // not yet departed.
  Instant busy_until = Instant::min();
  std::uint64_t busy_remainder = 0;
  std::deque<Queued> queue;
  std::size_t queued_bytes = 0;
  // Datagrams in flight. Arrivals in `in_order` never decrease, because each
  // arrives no earlier than in_order_floor; `held` is a heap.
  std::deque<Pending> in_order;
  std::vector<Pending> held;
  std::uint64_t next_sequence = 0;
};

Link::Link(const LinkConfig& config, std::uint64_t seed) {
  check(config);
  state_ = std::make_unique<State>(config, seed);
}

Link::~Link() = default;
Link::Link(Link&&) noexcept = default;
Link& Link::operator=(Link&&) noexcept = default;

void Link::send(Instant now, Datagram datagram) {
  State& s = *state_;
  const LinkConfig& c = s.config;
  RUDP_ASSERT(now >= s.last_send);
  s.last_send = now;
  ++s.stats.sent;

  // Every impairment decides for every datagram sent, dropped or not, from its
  // own stream: what it does to the k-th datagram depends only on the seed, k
  // and its own settings, so turning one on leaves the others' choices alone.
  const bool burst_lost = s.burst_loses();
  const bool bernoulli_lost = s.loss_rng.chance(c.loss);
  const bool corrupted = s.corrupt_rng.chance(c.corrupt);
  const std::uint64_t corruption = corrupted ? s.corrupt_rng.next() : 0;
  const Duration jitter{
      c.jitter > Duration::zero()
          ? static_cast<Duration::rep>(s.jitter_rng.up_to(static_cast<std::uint64_t>(c.jitter.count())))
          : 0};
  const bool held_back = s.reorder_rng.chance(c.reorder);
  const bool duplicated = s.duplicate_rng.chance(c.duplicate);

  Instant departure = now;
  if (c.rate_bits_per_second > 0) {
    const std::optional<Instant> departs = s.enter_bottleneck(now, datagram.bytes.size());
    if (!departs) {
      ++s.stats.queue_dropped;
      return;
    }
    departure = *departs;
  }
  if (burst_lost || bernoulli_lost) {
    ++s.stats.lost;
    return;
  }
  if (corrupted && !datagram.bytes.empty()) {
    flip_bits(datagram.bytes, corruption);
    ++s.stats.corrupted;
  }
  Instant arrival = std::max(departure + c.delay + jitter, s.in_order_floor);
  if (held_back) {
    arrival += c.reorder_delay;
    ++s.stats.reordered;
  } else {
    s.in_order_floor = arrival;
  }
  if (duplicated) {
    s.schedule(arrival, datagram, held_back);
    ++s.stats.duplicated;
  }
  s.schedule(arrival, std::move(datagram), held_back);
}

std::optional<Instant> Link::next_delivery() const noexcept {
  const State& s = *state_;
  if (s.held_is_next()) return s.held.front().arrival;
  if (s.in_order.empty()) return std::nullopt;
  return s.in_order.front().arrival;
}

std::optional<Datagram> Link::poll_delivery(Instant now) {
  State& s = *state_;
  std::optional<Datagram> out;
  if (s.held_is_next()) {
    if (s.held.front().arrival > now) return std::nullopt;
    std::pop_heap(s.held.begin(), s.held.end(), ArrivesLater{});
    out = std::move(s.held.back().datagram);
    s.held.pop_back();
  } else {
    if (s.in_order.empty() || s.in_order.front().arrival > now) return std::nullopt;
    out = std::move(s.in_order.front().datagram);
    s.in_order.pop_front();
  }
  ++s.stats.delivered;
  return out;
}

const LinkStats& Link::stats() const noexcept { return state_->stats; }

const LinkConfig& Link::config() const noexcept { return state_->config; }

void Link::set_config(const LinkConfig& config) {
  check(config);
  state_->config = config;
}

}  // namespace rudp::sim
