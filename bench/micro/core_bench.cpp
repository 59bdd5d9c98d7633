// SPDX-License-Identifier: MIT
// Micro-benchmark of the sans-IO core's CPU per round trip: two endpoints in
// one thread, no sockets, exchange a 64-byte reliable message and its echo,
// as the loopback comparison's ping-pong does over real UDP. Each side makes
// the calls an own loop makes per datagram (handle_datagram, poll_event,
// receive_message, send_message, poll_transmit until nullopt, next_timeout
// and handle_timeout when due), with virtual time advancing 2 µs per hop.
// The time per iteration is the core's share of a round trip; the rest of a
// real one is the kernel's and the driver's. Counters check that every
// round trip took exactly one datagram each way.
#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <variant>

#include "rudp/config.hpp"
#include "rudp/endpoint.hpp"

namespace {

using namespace std::chrono_literals;

constexpr std::size_t kMessageSize = 64;
constexpr auto kHop = 2us;

const rudp::Address kClientAddress = rudp::Address::v4({127, 0, 0, 1}, 40001);
const rudp::Address kServerAddress = rudp::Address::v4({127, 0, 0, 1}, 40002);

// One side: its endpoint and where its datagrams go.
struct Side {
  rudp::Endpoint core;
  rudp::Address self;
};

// Everything `from` has to send, handed to `to` at once; returns the datagrams.
std::size_t deliver(Side& from, Side& to, rudp::Instant now, std::span<std::byte> buffer) {
  std::size_t count = 0;
  while (const auto t = from.core.poll_transmit(now, buffer)) {
    to.core.handle_datagram(now, from.self, buffer.first(t->size));
    ++count;
  }
  return count;
}

void run_timers(Side& side, rudp::Instant now) {
  if (const auto due = side.core.next_timeout(); due && *due <= now) side.core.handle_timeout(now);
}

// Takes every event; returns the message that became readable, if any.
std::optional<std::size_t> take_message(Side& side, std::span<std::byte> out) {
  std::optional<std::size_t> size;
  while (const auto e = side.core.poll_event()) {
    if (const auto* r = std::get_if<rudp::Readable>(&*e)) {
      if (const auto n = side.core.receive_message(r->connection, out)) size = *n;
    }
  }
  return size;
}

void bm_core_ping_pong(benchmark::State& state, rudp::Profile profile) {
  const rudp::ConnectionConfig config = rudp::make_config(profile);
  rudp::Instant now{};
  Side client{rudp::Endpoint::create({.seed = 2}, now).value(), kClientAddress};
  Side server{rudp::Endpoint::create({.seed = 1, .accept_incoming = true, .incoming = config}, now).value(),
              kServerAddress};
  std::array<std::byte, 2048> buffer{};
  std::array<std::byte, kMessageSize> ping{};
  std::array<std::byte, 2048> received{};

  const auto handle = client.core.connect(now, kServerAddress, config);
  std::optional<rudp::ConnectionHandle> accepted;
  for (int round = 0; round < 8 && !accepted; ++round) {
    now += kHop;
    deliver(client, server, now, buffer);
    now += kHop;
    deliver(server, client, now, buffer);
    while (const auto e = server.core.poll_event()) {
      if (const auto* c = std::get_if<rudp::Connected>(&*e)) accepted = c->connection;
    }
  }
  while (client.core.poll_event()) {
  }
  if (!handle || !accepted) {
    state.SkipWithError("the handshake did not complete");
    return;
  }

  std::size_t datagrams = 0;
  std::uint64_t round_trips = 0;
  for (auto _ : state) {
    std::memcpy(ping.data(), &round_trips, sizeof round_trips);
    client.core.send_message(*handle, ping);
    datagrams += deliver(client, server, now, buffer);
    run_timers(client, now);
    now += kHop;
    const auto request = take_message(server, received);
    if (!request) {
      state.SkipWithError("a ping did not arrive");
      return;
    }
    server.core.send_message(*accepted, std::span(received).first(*request));
    datagrams += deliver(server, client, now, buffer);
    run_timers(server, now);
    now += kHop;
    const auto reply = take_message(client, received);
    if (!reply || *reply != kMessageSize || std::memcmp(received.data(), ping.data(), kMessageSize) != 0) {
      state.SkipWithError("a pong did not arrive or differs from its ping");
      return;
    }
    ++round_trips;
  }
  state.counters["datagrams_per_rtt"] =
      round_trips > 0 ? static_cast<double>(datagrams) / static_cast<double>(round_trips) : 0.0;
}

BENCHMARK_CAPTURE(bm_core_ping_pong, fast, rudp::Profile::fast);
BENCHMARK_CAPTURE(bm_core_ping_pong, tcp_friendly, rudp::Profile::tcp_friendly);
BENCHMARK_CAPTURE(bm_core_ping_pong, realtime, rudp::Profile::realtime);

}  // namespace
