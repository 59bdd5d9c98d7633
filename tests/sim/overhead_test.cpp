// SPDX-License-Identifier: MIT
// What a connection really puts on the wire for a small reliable message with
// a piggy-backed ACK: the packets a game's request/response exchange makes.
#include <algorithm>
#include <cstddef>
#include <vector>

#include <catch2/catch.hpp>

#include "scenario.hpp"

using namespace rudp;
using namespace rudp::test;
using namespace std::chrono_literals;

TEST_CASE("a 1-byte reliable reply with its piggy-backed ACK costs at most 20 bytes of overhead", "[sim]") {
  // With the default delayed ACK, the reply leaves before the ACK's deadline
  // and carries it.
  Pair pair(40);
  sim::LinkConfig link;
  link.delay = 10ms;
  pair.net.set_path(kClient, kServer, link);
  REQUIRE(pair.handshake());

  std::vector<std::size_t> reply_sizes;
  pair.net.set_drop_filter([&](const sim::Datagram& d) {
    if (d.from == kServer && has_frame<wire::DataFrame>(d.bytes)) {
      CHECK(has_frame<wire::AckFrame>(d.bytes));
      reply_sizes.push_back(d.bytes.size());
    }
    return false;
  });
  const std::array<std::byte, 1> request{std::byte{'?'}};
  const std::array<std::byte, 1> reply{std::byte{'!'}};
  std::array<std::byte, 8> buffer{};
  for (int round = 0; round < 50; ++round) {
    CAPTURE(round);
    REQUIRE_FALSE(pair.client->send_message(pair.client_conn, request));
    REQUIRE(pair.net.run_until([&] { return pair.server->receive_message(*pair.server_conn, buffer).has_value(); }));
    REQUIRE_FALSE(pair.server->send_message(*pair.server_conn, reply));
    REQUIRE(pair.net.run_until([&] { return pair.client->receive_message(pair.client_conn, buffer).has_value(); }));
  }
  REQUIRE(reply_sizes.size() == 50);
  for (const std::size_t size : reply_sizes) CHECK(size - 1 <= 20);
}

TEST_CASE("small messages packed with re-bundling on never overflow a datagram, whatever their sizes", "[sim]") {
  // Re-bundling writes every DATA frame with its length, since copies may
  // follow it; a frame that fits the rest of a packet only without its length
  // must still end the packet instead of overflowing it. Twelve equal messages
  // queued at once are packed several to a packet, and across these sizes the
  // rest of some packet is one or two bytes short of a frame with its length.
  // bench/modes found this with 100-300-byte game snapshots.
  const ConnectionConfig fast = make_config(Profile::fast);
  for (std::size_t size = 60; size <= 400; ++size) {
    CAPTURE(size);
    Pair pair(size, fast, fast);
    REQUIRE(pair.handshake());
    const std::vector<std::byte> message = pattern(size, size);
    constexpr int kCount = 12;
    for (int i = 0; i < kCount; ++i) REQUIRE_FALSE(pair.client->send_message(pair.client_conn, message));
    std::vector<std::byte> buffer(size + 1);
    int received = 0;
    REQUIRE(pair.net.run_until([&] {
      while (const auto n = pair.server->receive_message(*pair.server_conn, buffer)) {
        CHECK(std::equal(message.begin(), message.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*n)));
        ++received;
      }
      return received == kCount;
    }));
  }
}
