// SPDX-License-Identifier: MIT
// What a connection really puts on the wire for a small reliable message with
// a piggy-backed ACK: the packets a game's request/response exchange makes.
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
