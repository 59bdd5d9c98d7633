// SPDX-License-Identifier: MIT
// Helpers for scenario tests on the simulated network: two endpoints, a
// client and a listening server, and a driver that moves a byte stream
// between them while checking what arrives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include <rudp/endpoint.hpp>
#include <rudp/sim.hpp>

namespace rudp::test {

inline const Address kClient = Address::v4({10, 0, 0, 1}, 4000);
inline const Address kServer = Address::v4({10, 0, 0, 2}, 5000);

/// Deterministic payload: byte i of a stream seeded with `seed`.
std::vector<std::byte> pattern(std::size_t size, std::uint64_t seed);

/// A client and a listening server on one simulated network.
struct Pair {
  explicit Pair(std::uint64_t seed, const ConnectionConfig& client_config = {},
                const ConnectionConfig& server_config = {});

  sim::Network net;
  Endpoint* client;
  Endpoint* server;
  ConnectionHandle client_conn;
  std::optional<ConnectionHandle> server_conn;
  std::vector<Event> client_events;
  std::vector<Event> server_events;

  /// Moves both endpoints' new events into the vectors above (noting the
  /// server's accepted connection), and returns how many there were.
  std::size_t drain_events();
  /// Steps until connected on both sides; false if that never happens.
  bool handshake(std::size_t max_steps = 100'000);
  /// The close event of each side, if one came.
  std::optional<Closed> client_closed() const;
  std::optional<Closed> server_closed() const;
};

/// Result of moving a stream from the client to the server.
struct Transfer {
  std::vector<std::byte> received;
  bool completed = false;
  Duration elapsed{};
};

/// Sends `data` from the client as a byte stream, reading at the server as
/// it arrives, until everything arrived or `limit` of virtual time passed.
Transfer transfer(Pair& pair, const std::vector<std::byte>& data, Duration limit);

}  // namespace rudp::test

#include "rudp/wire/packet.hpp"

namespace rudp::test {

/// True when `bytes` parse as a packet carrying a frame of type F.
template <class F>
bool has_frame(std::span<const std::byte> bytes) {
  const auto packet = wire::parse_packet(bytes);
  if (!packet) return false;
  for (const wire::Frame& f : packet->frames()) {
    if (std::holds_alternative<F>(f)) return true;
  }
  return false;
}

/// True when `bytes` parse as a packet whose frames are all ACK or PADDING.
bool ack_only(std::span<const std::byte> bytes);

}  // namespace rudp::test
