// SPDX-License-Identifier: MIT
// One direction of a simulated network path, on a virtual clock. A Link takes
// datagrams as they are sent, passes them through a bottleneck (a rate limit
// with a drop-tail queue) and a chain of impairments (Bernoulli and
// Gilbert-Elliott loss, delay and jitter, reordering, duplication,
// corruption), and hands each back once its arrival instant has come. It
// reads no clock and draws every random choice from its seed, so a run with
// the same sends and the same seed replays exactly, on any standard library.
// These are the knobs of GNS's FakePacket* settings and of Linux netem, made
// per link and reproducible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "rudp/address.hpp"
#include "rudp/clock.hpp"

namespace rudp::sim {

/// Bursty loss: a two-state Markov chain (good, bad) stepped once per
/// datagram, each state with its own loss probability. A run of bad states
/// lasts 1 / bad_to_good datagrams on average; in the long run the chain is
/// bad a fraction good_to_bad / (good_to_bad + bad_to_good) of the time.
/// All four fields are probabilities in [0, 1].
struct GilbertElliott {
  double good_to_bad = 0;   ///< P(good -> bad), per datagram
  double bad_to_good = 1;   ///< P(bad -> good), per datagram
  double loss_in_good = 0;  ///< P(lost) for a datagram sent in the good state
  double loss_in_bad = 1;   ///< P(lost) for a datagram sent in the bad state
};

/// What a Link does to the datagrams it carries. The default is a perfect
/// link: no delay, no loss, unlimited rate. Probabilities are in [0, 1] and
/// durations are not negative; a Link aborts on a config that breaks this.
struct LinkConfig {
  Duration delay{};   ///< one-way propagation delay, added to every datagram
  Duration jitter{};  ///< extra delay drawn uniformly from [0, jitter]; order is kept regardless
  double loss = 0;    ///< P(lost) per datagram, independently (Bernoulli)
  std::optional<GilbertElliott> burst_loss;  ///< bursty loss, on top of `loss`
  double reorder = 0;                        ///< P(held back by reorder_delay, so later datagrams overtake it)
  Duration reorder_delay{};                  ///< how long a reordered datagram is held back
  double duplicate = 0;                      ///< P(delivered twice)
  double corrupt = 0;                        ///< P(1 to 3 distinct bits flipped) per non-empty datagram
  std::uint64_t rate_bits_per_second = 0;    ///< bottleneck rate; 0: unlimited (no serialization delay)
  std::size_t queue_bytes = 0;               ///< bottleneck drop-tail limit, bytes; 0: unbounded; unused without a rate
};

/// A datagram in flight: its addresses and payload, carried unchanged unless
/// the link corrupts the payload.
struct Datagram {
  Address from;
  Address to;
  std::vector<std::byte> bytes;
  friend bool operator==(const Datagram&, const Datagram&) = default;
};

/// Counts of what a Link has done, since it was made. Once every datagram has
/// been polled, sent + duplicated == delivered + lost + queue_dropped.
struct LinkStats {
  std::uint64_t sent = 0;           ///< datagrams passed to send()
  std::uint64_t delivered = 0;      ///< datagrams returned by poll_delivery(), duplicates included
  std::uint64_t lost = 0;           ///< dropped on the wire by `loss` or `burst_loss`
  std::uint64_t queue_dropped = 0;  ///< dropped at the tail of a full bottleneck queue
  std::uint64_t duplicated = 0;     ///< extra copies made
  std::uint64_t corrupted = 0;      ///< datagrams with bits flipped (a copy of one is not counted again)
  std::uint64_t reordered = 0;      ///< datagrams held back by reorder_delay
};

/// One direction of a simulated path. A datagram sent at `now` goes through,
/// in this order:
/// 1. the bottleneck, when rate_bits_per_second > 0: it is tail-dropped if
///    queue_bytes > 0 and the bytes queued (sent but not finished serializing,
///    the one on the wire included) plus its own size would exceed
///    queue_bytes; otherwise it departs at
///    max(now, end of the previous departure) + size * 8 / rate. Without a
///    rate it departs at `now`.
/// 2. loss on the wire after the bottleneck: the Gilbert-Elliott chain steps,
///    then it is lost if either that state's draw or the Bernoulli draw says
///    so. A lost datagram has still used its share of the bottleneck, as on a
///    lossy last hop; congestion loss is the queue's job.
/// 3. corruption of 1 to 3 distinct bits of its payload.
/// 4. delay and jitter: it arrives at departure + delay + U[0, jitter], but
///    never before the last datagram sent before it that was not held back
///    (step 5), so jitter alone keeps send order.
/// 5. reordering: it is held back a further reorder_delay, and does not hold
///    back the datagrams after it, which may then overtake it.
/// 6. duplication: an identical copy arrives at the same instant, right after it.
///
/// Each impairment draws from its own random stream derived from the seed,
/// for every datagram sent, dropped or not. What it chooses for the k-th
/// datagram thus depends only on the seed, k and its own settings: turning
/// corruption on does not change which datagrams are lost, and the reverse.
/// The time passed to send() never goes backwards.
class Link {
 public:
  /// A link with `config` whose random choices all derive from `seed`.
  Link(const LinkConfig& config, std::uint64_t seed);
  ~Link();
  /// Movable, not copyable; a moved-from Link may only be assigned to or destroyed.
  Link(Link&&) noexcept;
  /// As the move constructor.
  Link& operator=(Link&&) noexcept;

  /// Puts `datagram` on the link at `now` (not earlier than the previous
  /// send); it is dropped or scheduled for delivery at once.
  void send(Instant now, Datagram datagram);

  /// The earliest instant at which poll_delivery() has a datagram to return,
  /// or nullopt when nothing is in flight. A send() may make it earlier.
  std::optional<Instant> next_delivery() const noexcept;

  /// The next datagram whose arrival instant is at or before `now`: earliest
  /// arrival first, and among equal arrivals the one sent first. Nullopt when
  /// none is due yet.
  std::optional<Datagram> poll_delivery(Instant now);

  /// What the link has done so far; the reference stays valid for the Link's life.
  const LinkStats& stats() const noexcept;

  /// The config in force.
  const LinkConfig& config() const noexcept;

  /// Replaces the config, for datagrams sent from now on; those in flight keep
  /// their schedule and the Gilbert-Elliott state carries over. For an outage,
  /// set loss = 1 and later restore the old config.
  void set_config(const LinkConfig& config);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace rudp::sim
