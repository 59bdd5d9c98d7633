// SPDX-License-Identifier: MIT
// The simulated network: endpoints joined by impaired links on a virtual
// clock. It drives each endpoint through the same five verbs a real runtime
// uses and jumps time to the next delivery or timeout, so a minute of a lossy
// transfer runs in milliseconds and replays exactly from its seed. Put it in
// your own CI to test your game's netcode against loss, jitter and outages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "rudp/address.hpp"
#include "rudp/clock.hpp"
#include "rudp/endpoint.hpp"
#include "rudp/sim/link.hpp"

namespace rudp::sim {

class Network {
 public:
  /// An empty network whose clock starts at `start`. Each link's randomness
  /// derives from `seed` and the link's two addresses.
  explicit Network(std::uint64_t seed, Instant start = Instant{});

  /// The virtual time.
  Instant now() const noexcept { return now_; }

  /// Puts `endpoint` on the network at `address` (replacing any there) and
  /// returns it; the network owns it from now on.
  Endpoint& add(const Address& address, Endpoint endpoint);

  /// The endpoint at `address`; it must have been added.
  Endpoint& endpoint(const Address& address);

  /// Takes the endpoint at `address` off the network and hands it back (it
  /// must have been added), as if its host went away: datagrams on their
  /// way to it are counted as undeliverable when they arrive.
  Endpoint remove(const Address& address);

  /// Sets the link from `from` to `to` (one direction), replacing its
  /// impairments but keeping what is in flight on it.
  void set_link(const Address& from, const Address& to, const LinkConfig& config);
  /// Sets both directions between `a` and `b` alike.
  void set_path(const Address& a, const Address& b, const LinkConfig& config);
  /// Impairments of links not set explicitly (default: perfect, zero delay).
  void set_default_link(const LinkConfig& config) noexcept { default_link_ = config; }

  /// The link from `from` to `to`, if any datagram or set_link has made one.
  const Link* link(const Address& from, const Address& to) const;

  /// Drops every datagram an endpoint sends for which `drop` returns true,
  /// before it enters its link: the scalpel to the links' statistics, for
  /// losing exactly the packet a test is about. An empty function drops none.
  void set_drop_filter(std::function<bool(const Datagram&)> drop) { drop_ = std::move(drop); }

  /// Datagrams the drop filter has dropped.
  std::uint64_t filtered() const noexcept { return filtered_; }

  /// Sends raw bytes from `from` to `to` over their link, as if an endpoint
  /// (or an attacker) at `from` had sent them.
  void inject(const Address& from, const Address& to, std::vector<std::byte> bytes);

  /// Sends what endpoints have to send now, advances the clock to the next
  /// delivery or timeout, delivers and fires what is due then, and sends
  /// what that produced. Returns false, leaving the clock alone, when
  /// nothing at all is pending.
  bool step();

  /// Steps until `done()` is true (checked before each step) and returns
  /// true; returns false if the network went quiet or `max_steps` ran out first.
  bool run_until(const std::function<bool()>& done, std::size_t max_steps = 10'000'000);

  /// Steps through everything due up to now() + `duration`, then sets the
  /// clock there.
  void run_for(Duration duration);

  /// Datagrams addressed to no endpoint on the network.
  std::uint64_t undeliverable() const noexcept { return undeliverable_; }

 private:
  Link& link_for(const Address& from, const Address& to);
  void flush_transmits();
  std::optional<Instant> next_event() const;
  void process_due();

  std::uint64_t seed_;
  Instant now_;
  LinkConfig default_link_;
  std::map<Address, std::unique_ptr<Endpoint>> endpoints_;
  std::map<std::pair<Address, Address>, Link> links_;
  std::vector<std::byte> buffer_;
  std::function<bool(const Datagram&)> drop_;
  std::uint64_t undeliverable_ = 0;
  std::uint64_t filtered_ = 0;
};

}  // namespace rudp::sim
