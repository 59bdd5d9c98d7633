// SPDX-License-Identifier: MIT
#include "scenario.hpp"

#include <algorithm>

#include "rudp/core/random.hpp"

namespace rudp::test {

std::vector<std::byte> pattern(std::size_t size, std::uint64_t seed) {
  core::Random rng(seed);
  std::vector<std::byte> out(size);
  for (std::size_t i = 0; i < size; i += 8) {
    const std::uint64_t word = rng.next();
    for (std::size_t j = 0; j < 8 && i + j < size; ++j) out[i + j] = std::byte(word >> (8 * j));
  }
  return out;
}

namespace {

Endpoint make_endpoint(std::uint64_t seed, bool listen, const ConnectionConfig& incoming) {
  EndpointConfig c;
  c.seed = seed;
  c.accept_incoming = listen;
  c.incoming = incoming;
  return std::move(Endpoint::create(c, Instant{}).value());
}

}  // namespace

Pair::Pair(std::uint64_t seed, const ConnectionConfig& client_config, const ConnectionConfig& server_config)
    : net(seed),
      client(&net.add(kClient, make_endpoint(seed * 2 + 1, false, {}))),
      server(&net.add(kServer, make_endpoint(seed * 2 + 2, true, server_config))),
      client_conn(client->connect(net.now(), kServer, client_config).value()) {}

std::size_t Pair::drain_events() {
  std::size_t n = 0;
  while (auto e = client->poll_event()) {
    client_events.push_back(*e);
    ++n;
  }
  while (auto e = server->poll_event()) {
    if (const auto* c = std::get_if<Connected>(&*e)) server_conn = c->connection;
    server_events.push_back(*e);
    ++n;
  }
  return n;
}

bool Pair::handshake(std::size_t max_steps) {
  auto connected = [](const std::vector<Event>& events) {
    return std::any_of(events.begin(), events.end(), [](const Event& e) { return std::holds_alternative<Connected>(e); });
  };
  return net.run_until(
      [&] {
        drain_events();
        return connected(client_events) && connected(server_events);
      },
      max_steps);
}

namespace {
std::optional<Closed> find_closed(const std::vector<Event>& events) {
  for (const Event& e : events) {
    if (const auto* c = std::get_if<Closed>(&e)) return *c;
  }
  return std::nullopt;
}
}  // namespace

std::optional<Closed> Pair::client_closed() const { return find_closed(client_events); }
std::optional<Closed> Pair::server_closed() const { return find_closed(server_events); }

Transfer transfer(Pair& pair, const std::vector<std::byte>& data, Duration limit) {
  Transfer result;
  const Instant start = pair.net.now();
  std::size_t sent = 0;
  std::vector<std::byte> buffer(64 * 1024);
  const bool done = pair.net.run_until(
      [&] {
        pair.drain_events();
        if (sent < data.size()) {
          const auto n = pair.client->send(pair.client_conn, std::span(data).subspan(sent));
          if (n) sent += *n;
        }
        if (pair.server_conn) {
          while (true) {
            const auto n = pair.server->receive(*pair.server_conn, buffer);
            if (!n || *n == 0) break;
            result.received.insert(result.received.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*n));
          }
        }
        return result.received.size() >= data.size() || pair.net.now() - start > limit;
      },
      50'000'000);
  result.completed = done && result.received.size() >= data.size();
  result.elapsed = pair.net.now() - start;
  return result;
}

}  // namespace rudp::test

namespace rudp::test {

bool ack_only(std::span<const std::byte> bytes) {
  const auto packet = wire::parse_packet(bytes);
  if (!packet) return false;
  for (const wire::Frame& f : packet->frames()) {
    if (!std::holds_alternative<wire::AckFrame>(f) && !std::holds_alternative<wire::PaddingFrame>(f)) return false;
  }
  return true;
}

}  // namespace rudp::test
