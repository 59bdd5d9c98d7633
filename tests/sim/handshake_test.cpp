// SPDX-License-Identifier: MIT
// The three-packet handshake under loss, and the server's statelessness:
// stale SYNs, replayed or forged cookies and a spoofed SYN flood allocate
// nothing, while a real client still gets in; a connection hears only its
// peer's address.
#include <catch2/catch.hpp>

#include <array>

#include "heap_counter.hpp"
#include "rudp/core/random.hpp"
#include "scenario.hpp"

using namespace rudp;
using namespace rudp::test;
using namespace std::chrono_literals;

namespace {

sim::LinkConfig wan() {
  sim::LinkConfig link;
  link.delay = 20ms;
  return link;
}

// Drops the first `count` datagrams carrying a frame of type F.
template <class F>
struct DropFirst {
  int count = 1;
  bool operator()(const sim::Datagram& d) {
    if (count > 0 && has_frame<F>(d.bytes)) {
      --count;
      return true;
    }
    return false;
  }
};

}  // namespace

TEST_CASE("the handshake completes whichever of its packets are lost", "[sim][handshake]") {
  for (int mask = 0; mask < 8; ++mask) {
    CAPTURE(mask);
    Pair pair(static_cast<std::uint64_t>(mask));
    pair.net.set_path(kClient, kServer, wan());
    DropFirst<wire::SynFrame> syn{mask & 1 ? 1 : 0};
    DropFirst<wire::SynAckFrame> syn_ack{mask & 2 ? 1 : 0};
    DropFirst<wire::CookieAckFrame> cookie_ack{mask & 4 ? 1 : 0};
    pair.net.set_drop_filter([&](const sim::Datagram& d) { return syn(d) || syn_ack(d) || cookie_ack(d); });
    // A message sent at once rides in the COOKIE-ACK packets.
    const auto early = pattern(300, 9);
    REQUIRE_FALSE(pair.client->send_message(pair.client_conn, early));
    REQUIRE(pair.handshake());
    CHECK(pair.server->stats().cookies_rejected == 0);
    CHECK(pair.net.filtered() == static_cast<std::uint64_t>((mask & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1)));
    CHECK(pair.server->connection_count() == 1);
    CHECK(pair.server->stats().connections_accepted == 1);
    std::vector<std::byte> received(early.size() + 1);
    REQUIRE(pair.net.run_until([&] {
      const auto n = pair.server->receive_message(*pair.server_conn, received);
      if (n) received.resize(*n);
      return n.has_value();
    }));
    CHECK(received == early);
  }
}

TEST_CASE("handshake time and RTT reflect the path", "[sim][handshake]") {
  Pair pair(3);
  pair.net.set_path(kClient, kServer, wan());
  REQUIRE(pair.handshake());
  const auto stats = pair.client->stats(pair.client_conn).value();
  CHECK(stats.handshake_time == 80ms);  // SYN, SYN-ACK, COOKIE-ACK, its ACK: two round trips of 40 ms
  CHECK(stats.min_rtt == 40ms);
}

TEST_CASE("a connect to nobody ends with handshake_timeout", "[sim][handshake]") {
  Pair pair(4);
  pair.net.set_drop_filter([](const sim::Datagram&) { return true; });
  REQUIRE(pair.net.run_until([&] {
    pair.drain_events();
    return pair.client_closed().has_value();
  }));
  CHECK(pair.client_closed()->reason == CloseReason::handshake_timeout);
  CHECK(pair.net.now() >= Instant{} + ConnectionConfig{}.handshake_timeout);
  CHECK(pair.net.filtered() >= 3);  // the SYN was retransmitted with backoff
  const std::error_code ec = pair.client->send_message(pair.client_conn, {});
  CHECK(ec == errc::invalid_handle);
}

TEST_CASE("stale SYNs, replayed and forged cookies create nothing", "[sim][handshake]") {
  Pair pair(5);
  pair.net.set_path(kClient, kServer, wan());
  std::vector<std::byte> syn;
  std::vector<std::byte> cookie_ack;
  pair.net.set_drop_filter([&](const sim::Datagram& d) {
    if (syn.empty() && has_frame<wire::SynFrame>(d.bytes)) syn = d.bytes;
    if (cookie_ack.empty() && has_frame<wire::CookieAckFrame>(d.bytes)) cookie_ack = d.bytes;
    return false;
  });
  REQUIRE(pair.handshake());
  REQUIRE_FALSE(syn.empty());
  REQUIRE_FALSE(cookie_ack.empty());

  // A stale SYN gets a stateless SYN-ACK, which the established client ignores.
  pair.net.inject(kClient, kServer, syn);
  pair.net.run_for(1s);
  CHECK(pair.server->connection_count() == 1);
  CHECK(pair.server->stats().syn_received == 2);

  // The same COOKIE-ACK replayed reaches the existing connection, not a new one.
  pair.net.inject(kClient, kServer, cookie_ack);
  pair.net.run_for(1s);
  CHECK(pair.server->connection_count() == 1);
  CHECK(pair.server->stats().connections_accepted == 1);

  // Replayed from another address, the cookie's MAC no longer matches.
  const Address elsewhere = Address::v4({10, 0, 0, 9}, 4000);
  pair.net.inject(elsewhere, kServer, cookie_ack);
  pair.net.run_for(1s);
  CHECK(pair.server->stats().connections_accepted == 1);

  // After the connection is gone and the cookie expired, a replay is rejected.
  REQUIRE_FALSE(pair.client->abort(pair.client_conn));
  pair.net.run_for(30s);
  CHECK(pair.server->connection_count() == 0);
  const auto rejected = pair.server->stats().cookies_rejected;
  pair.net.inject(kClient, kServer, cookie_ack);
  pair.net.run_for(1s);
  CHECK(pair.server->connection_count() == 0);
  CHECK(pair.server->stats().cookies_rejected == rejected + 1);
}

TEST_CASE("a connection's packets replayed from another address are counted and dropped", "[sim][handshake]") {
  Pair pair(6);
  pair.net.set_path(kClient, kServer, wan());
  REQUIRE(pair.handshake());
  std::vector<std::byte> data;
  pair.net.set_drop_filter([&](const sim::Datagram& d) {
    if (data.empty() && d.from == kClient && has_frame<wire::DataFrame>(d.bytes)) data = d.bytes;
    return false;
  });
  const std::array<std::byte, 3> message{std::byte{1}, std::byte{2}, std::byte{3}};
  REQUIRE(pair.client->send(pair.client_conn, message));
  pair.net.run_for(1s);
  REQUIRE_FALSE(data.empty());
  REQUIRE(pair.server_conn);
  const auto duplicates = pair.server->stats(*pair.server_conn)->packets_duplicate;

  // From a stranger the packet never reaches the connection...
  pair.net.inject(Address::v4({10, 0, 0, 9}, 4000), kServer, data);
  pair.net.run_for(1s);
  CHECK(pair.server->stats().foreign_address_dropped == 1);
  CHECK(pair.server->stats(*pair.server_conn)->packets_duplicate == duplicates);
  // ...from the peer's own address it does, and is recognised as a duplicate.
  pair.net.inject(kClient, kServer, data);
  pair.net.run_for(1s);
  CHECK(pair.server->stats().foreign_address_dropped == 1);
  CHECK(pair.server->stats(*pair.server_conn)->packets_duplicate == duplicates + 1);
}

namespace {

// Builds a valid, padded SYN from `client_id`, as any client would send.
std::vector<std::byte> make_syn(std::uint32_t client_id) {
  std::vector<std::byte> out(wire::kMinDatagramSize);
  wire::Header h;
  h.form = wire::HeaderForm::handshake;
  h.source = ConnectionId{client_id};
  wire::PacketWriter w(out, h);
  wire::encode_frame(w.frames(), wire::SynFrame{});
  w.frames().zeros(w.frames().remaining());
  out.resize(w.finish().value());
  return out;
}

}  // namespace

TEST_CASE("a spoofed SYN flood allocates nothing and a real client still connects", "[sim][handshake]") {
  Pair pair(6);
  pair.net.set_path(kClient, kServer, wan());
  core::Random rng(6);
  std::array<std::byte, 2048> sink{};
  std::uint64_t replies = 0;
  bool connected = false;
  std::size_t heap_after_warmup = 0;
  for (int i = 0; i < 100'000; ++i) {
    if (i == 1000) heap_after_warmup = live_heap_bytes();
    const auto word = rng.next();
    const Address spoofed = Address::v4({static_cast<std::uint8_t>(word), static_cast<std::uint8_t>(word >> 8),
                                         static_cast<std::uint8_t>(word >> 16), static_cast<std::uint8_t>(word >> 24)},
                                        static_cast<std::uint16_t>(word >> 32));
    pair.server->handle_datagram(pair.net.now(), spoofed, make_syn(static_cast<std::uint32_t>(word >> 40)));
    // The flood's answers go to the spoofed addresses, and are no larger than the SYNs.
    if (i % 100 == 99) {
      while (const auto t = pair.server->poll_transmit(pair.net.now(), sink)) {
        if (t->to == kClient) continue;
        CHECK(t->size < wire::kMinDatagramSize);
        ++replies;
      }
      CHECK(pair.server->connection_count() <= 1);
      pair.net.run_for(1ms);
      pair.drain_events();
      connected = connected || pair.server_conn.has_value();
    }
  }
  CHECK(connected);
  CHECK(pair.server->connection_count() == 1);  // the real client, and nothing for the flood
  // 99,000 more SYNs after the warm-up (which saw the real connection made)
  // leave the program's heap where it was, give or take container slack.
  const std::size_t heap_after_flood = live_heap_bytes();
  CAPTURE(heap_after_warmup, heap_after_flood);
  CHECK(heap_after_flood < heap_after_warmup + 64 * 1024);
  CHECK(pair.server->stats().syn_received >= 100'000);
  CHECK(pair.server->stats().syn_dropped + replies >= 100'000);
}

TEST_CASE("a SYN smaller than the minimum datagram is not answered", "[sim][handshake]") {
  Pair pair(7);
  auto syn = make_syn(42);
  // Re-seal a shortened SYN: still valid, but too small to answer without amplifying.
  wire::Header h;
  h.form = wire::HeaderForm::handshake;
  h.source = ConnectionId{42};
  std::vector<std::byte> small(64);
  wire::PacketWriter w(small, h);
  wire::encode_frame(w.frames(), wire::SynFrame{});
  small.resize(w.finish().value());
  pair.server->handle_datagram(pair.net.now(), Address::v4({1, 2, 3, 4}, 5), small);
  std::array<std::byte, 2048> sink{};
  CHECK_FALSE(pair.server->poll_transmit(pair.net.now(), sink).has_value());
  CHECK(pair.server->stats().syn_dropped == 1);
  pair.server->handle_datagram(pair.net.now(), Address::v4({1, 2, 3, 4}, 5), syn);
  const auto reply = pair.server->poll_transmit(pair.net.now(), sink);
  REQUIRE(reply.has_value());
  CHECK(reply->size <= syn.size());
}
