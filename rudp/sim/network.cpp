// SPDX-License-Identifier: MIT
#include "rudp/sim.hpp"

#include "rudp/assert.hpp"
#include "rudp/wire/limits.hpp"

namespace rudp::sim {
namespace {

// Mixes the network seed with a link's endpoints, so each link draws its own
// stream and adding a link does not change the others' draws.
std::uint64_t link_seed(std::uint64_t seed, const Address& from, const Address& to) noexcept {
  std::uint64_t h = seed ^ 0x9e3779b97f4a7c15ull;
  auto mix = [&](const Address& a) {
    for (const std::uint8_t b : a.bytes()) h = (h ^ b) * 0x100000001b3ull;
    h = (h ^ a.port()) * 0x100000001b3ull;
  };
  mix(from);
  mix(to);
  return h;
}

}  // namespace

Network::Network(std::uint64_t seed, Instant start) : seed_(seed), now_(start), buffer_(wire::kMaxDatagramSize) {}

Endpoint& Network::add(const Address& address, Endpoint endpoint) {
  auto& slot = endpoints_[address];
  slot = std::make_unique<Endpoint>(std::move(endpoint));
  return *slot;
}

Endpoint& Network::endpoint(const Address& address) {
  const auto it = endpoints_.find(address);
  RUDP_ASSERT(it != endpoints_.end());
  return *it->second;
}

Endpoint Network::remove(const Address& address) {
  const auto it = endpoints_.find(address);
  RUDP_ASSERT(it != endpoints_.end());
  Endpoint endpoint = std::move(*it->second);
  endpoints_.erase(it);
  return endpoint;
}

Link& Network::link_for(const Address& from, const Address& to) {
  const auto key = std::make_pair(from, to);
  auto it = links_.find(key);
  if (it == links_.end()) it = links_.emplace(key, Link(default_link_, link_seed(seed_, from, to))).first;
  return it->second;
}

void Network::set_link(const Address& from, const Address& to, const LinkConfig& config) {
  link_for(from, to).set_config(config);
}

void Network::set_path(const Address& a, const Address& b, const LinkConfig& config) {
  set_link(a, b, config);
  set_link(b, a, config);
}

const Link* Network::link(const Address& from, const Address& to) const {
  const auto it = links_.find(std::make_pair(from, to));
  return it == links_.end() ? nullptr : &it->second;
}

void Network::inject(const Address& from, const Address& to, std::vector<std::byte> bytes) {
  link_for(from, to).send(now_, Datagram{from, to, std::move(bytes)});
}

void Network::flush_transmits() {
  for (auto& [address, endpoint] : endpoints_) {
    while (const auto t = endpoint->poll_transmit(now_, buffer_)) {
      const auto bytes = std::span<const std::byte>(buffer_).first(t->size);
      Datagram d{address, t->to, {bytes.begin(), bytes.end()}};
      if (drop_ && drop_(d)) {
        ++filtered_;
        continue;
      }
      link_for(address, t->to).send(now_, std::move(d));
    }
  }
}

std::optional<Instant> Network::next_event() const {
  std::optional<Instant> t;
  auto consider = [&](std::optional<Instant> c) {
    if (c && (!t || *c < *t)) t = c;
  };
  for (const auto& [key, link] : links_) consider(link.next_delivery());
  for (const auto& [address, endpoint] : endpoints_) consider(endpoint->next_timeout());
  return t;
}

void Network::process_due() {
  for (auto& [key, link] : links_) {
    while (auto d = link.poll_delivery(now_)) {
      const auto it = endpoints_.find(d->to);
      if (it == endpoints_.end()) {
        ++undeliverable_;
        continue;
      }
      it->second->handle_datagram(now_, d->from, d->bytes);
    }
  }
  for (auto& [address, endpoint] : endpoints_) {
    if (const auto t = endpoint->next_timeout(); t && *t <= now_) endpoint->handle_timeout(now_);
  }
}

bool Network::step() {
  flush_transmits();
  const auto t = next_event();
  if (!t) return false;
  if (*t > now_) now_ = *t;
  process_due();
  flush_transmits();
  return true;
}

bool Network::run_until(const std::function<bool()>& done, std::size_t max_steps) {
  for (std::size_t i = 0; i < max_steps; ++i) {
    if (done()) return true;
    if (!step()) return done();
  }
  return done();
}

void Network::run_for(Duration duration) {
  const Instant end = now_ + duration;
  while (true) {
    flush_transmits();
    const auto t = next_event();
    if (!t || *t > end) break;
    step();
  }
  now_ = end;
}

}  // namespace rudp::sim
