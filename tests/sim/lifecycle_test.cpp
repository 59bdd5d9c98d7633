// SPDX-License-Identifier: MIT
// How connections end and stall: graceful close with its FIN or the FIN's
// ACK lost, simultaneous close, half-close, the drain that keeps an old
// connection's packets from a new one; abort; credit stalls with a slow
// reader; an outage; idle timeout and keepalive; a peer whose host goes away.
#include <catch2/catch.hpp>

#include <algorithm>

#include "scenario.hpp"

using namespace rudp;
using namespace rudp::test;
using namespace std::chrono_literals;

namespace {

sim::LinkConfig wan() {
  sim::LinkConfig link;
  link.delay = 25ms;
  return link;
}

// Reads everything readable on `connection` of `endpoint` into `into`.
void read_all(Endpoint& endpoint, ConnectionHandle connection, std::vector<std::byte>& into) {
  std::array<std::byte, 4096> buffer{};
  while (true) {
    const auto n = endpoint.receive(connection, buffer);
    if (!n || *n == 0) return;
    into.insert(into.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*n));
  }
}

// Whether `events` hold one of type E.
template <class E>
bool has(const std::vector<Event>& events) {
  return std::any_of(events.begin(), events.end(), [](const Event& e) { return std::holds_alternative<E>(e); });
}

// Steps until `endpoint` reports Closed, dropping its other events; nullopt if that never happens.
std::optional<Closed> run_until_closed(sim::Network& net, Endpoint& endpoint) {
  std::optional<Closed> closed;
  net.run_until([&] {
    while (const auto e = endpoint.poll_event()) {
      if (const auto* c = std::get_if<Closed>(&*e)) closed = *c;
    }
    return closed.has_value();
  });
  return closed;
}

bool closed_both(Pair& pair) {
  pair.drain_events();
  return pair.client_closed() && pair.server_closed();
}

}  // namespace

TEST_CASE("graceful close delivers everything, whichever FIN or ACK is lost", "[sim][close]") {
  // 0: nothing lost; 1: the client's first FIN lost; 2: the ACK of it lost; 3: both FINs lost.
  for (int variant = 0; variant < 4; ++variant) {
    CAPTURE(variant);
    Pair pair(static_cast<std::uint64_t>(10 + variant));
    pair.net.set_path(kClient, kServer, wan());
    REQUIRE(pair.handshake());
    const auto data = pattern(200'000, 1);
    REQUIRE(pair.client->send(pair.client_conn, data).value() == data.size());
    REQUIRE_FALSE(pair.client->close(pair.client_conn));

    int client_fins = variant == 1 || variant == 3 ? 1 : 0;
    int server_fins = variant == 3 ? 1 : 0;
    int fin_acks = variant == 2 ? 1 : 0;
    bool client_fin_seen = false;
    pair.net.set_drop_filter([&](const sim::Datagram& d) {
      const bool fin = has_frame<wire::CloseFrame>(d.bytes);
      if (fin && d.from == kClient) {
        client_fin_seen = true;
        if (client_fins > 0) return client_fins-- > 0;
      }
      if (fin && d.from == kServer && server_fins > 0) return server_fins-- > 0;
      // The first ACK from the server after the client's FIN acknowledges it.
      if (client_fin_seen && d.from == kServer && fin_acks > 0 && has_frame<wire::AckFrame>(d.bytes)) {
        return fin_acks-- > 0;
      }
      return false;
    });

    std::vector<std::byte> received;
    bool server_closed_its_side = false;
    REQUIRE(pair.net.run_until([&] {
      pair.drain_events();
      read_all(*pair.server, *pair.server_conn, received);
      if (has<PeerFinished>(pair.server_events) && !server_closed_its_side) {
        CHECK(pair.server->receive(*pair.server_conn, std::span<std::byte>{}).error() == errc::end_of_stream);
        REQUIRE_FALSE(pair.server->close(*pair.server_conn));
        server_closed_its_side = true;
      }
      return pair.client_closed() && pair.server_closed();
    }));
    CHECK(received == data);
    CHECK(pair.client_closed()->reason == CloseReason::closed);
    CHECK(pair.server_closed()->reason == CloseReason::closed);
    CHECK(pair.net.filtered() == static_cast<std::uint64_t>(variant == 0 ? 0 : variant == 3 ? 2 : 1));
    // After the drain both sides forget the connection.
    pair.net.run_for(60s);
    CHECK(pair.client->connection_count() == 0);
    CHECK(pair.server->connection_count() == 0);
  }
}

TEST_CASE("simultaneous close", "[sim][close]") {
  Pair pair(20);
  pair.net.set_path(kClient, kServer, wan());
  REQUIRE(pair.handshake());
  REQUIRE_FALSE(pair.client->close(pair.client_conn));
  REQUIRE_FALSE(pair.server->close(*pair.server_conn));
  REQUIRE(pair.net.run_until([&] { return closed_both(pair); }));
  CHECK(pair.client_closed()->reason == CloseReason::closed);
  CHECK(pair.server_closed()->reason == CloseReason::closed);
  CHECK(pair.net.now() < Instant{} + 1s);
}

TEST_CASE("a FIN is acknowledged at once: the side that closes last finishes though the other exits at Closed",
          "[sim][close]") {
  ConnectionConfig slow_acks;
  slow_acks.max_ack_delay = 200ms;  // a delayed ACK of the last FIN would leave with the exiting side
  Pair pair(21, slow_acks, slow_acks);
  pair.net.set_path(kClient, kServer, wan());
  REQUIRE(pair.handshake());
  REQUIRE_FALSE(pair.client->close(pair.client_conn));
  REQUIRE(pair.net.run_until([&] {
    pair.drain_events();
    return has<PeerFinished>(pair.server_events);
  }));
  REQUIRE_FALSE(pair.server->close(*pair.server_conn));
  REQUIRE(pair.net.run_until([&] {
    pair.drain_events();
    return pair.client_closed().has_value();
  }));
  CHECK(pair.client_closed()->reason == CloseReason::closed);
  // The client's program exits as soon as its close completes.
  const Endpoint gone = pair.net.remove(kClient);
  pair.client = nullptr;
  const Instant client_gone = pair.net.now();
  const auto closed = run_until_closed(pair.net, *pair.server);
  REQUIRE(closed);
  CHECK(closed->reason == CloseReason::closed);
  CHECK(pair.net.now() - client_gone < 100ms);
}

TEST_CASE("half-close: the other direction keeps flowing", "[sim][close]") {
  Pair pair(21);
  pair.net.set_path(kClient, kServer, wan());
  REQUIRE(pair.handshake());
  REQUIRE_FALSE(pair.client->close(pair.client_conn));
  // The client's direction closes; the server then sends 300 kB to it.
  REQUIRE(pair.net.run_until([&] {
    pair.drain_events();
    return has<PeerFinished>(pair.server_events);
  }));
  CHECK(pair.client->send(pair.client_conn, pattern(10, 1)).error() == errc::connection_closed);
  const auto data = pattern(300'000, 2);
  std::size_t sent = 0;
  bool closing = false;
  std::vector<std::byte> received;
  REQUIRE(pair.net.run_until([&] {
    pair.drain_events();
    if (sent < data.size()) sent += pair.server->send(*pair.server_conn, std::span(data).subspan(sent)).value_or(0);
    if (sent == data.size() && !closing) {
      REQUIRE_FALSE(pair.server->close(*pair.server_conn));
      closing = true;
    }
    read_all(*pair.client, pair.client_conn, received);
    return closed_both(pair);
  }));
  CHECK(received == data);
  CHECK(pair.client_closed()->reason == CloseReason::closed);
}

TEST_CASE("a late packet of a closed connection never reaches its successor", "[sim][close]") {
  Pair pair(22);
  pair.net.set_path(kClient, kServer, wan());
  REQUIRE(pair.handshake());
  std::vector<std::byte> old_data_packet;
  pair.net.set_drop_filter([&](const sim::Datagram& d) {
    if (d.from == kClient && has_frame<wire::DataFrame>(d.bytes)) old_data_packet = d.bytes;
    return false;
  });
  REQUIRE_FALSE(pair.client->send_message(pair.client_conn, pattern(100, 3)));
  REQUIRE_FALSE(pair.client->close(pair.client_conn));
  REQUIRE_FALSE(pair.server->close(*pair.server_conn));
  REQUIRE(pair.net.run_until([&] { return closed_both(pair); }));
  REQUIRE_FALSE(old_data_packet.empty());

  // A new connection from the same address and port.
  const auto second = pair.client->connect(pair.net.now(), kServer).value();
  ConnectionHandle accepted{};
  REQUIRE(pair.net.run_until([&] {
    while (auto e = pair.server->poll_event()) {
      if (const auto* c = std::get_if<Connected>(&*e)) accepted = c->connection;
    }
    return accepted != ConnectionHandle{};
  }));
  // The old connection's packet arrives late, during and after the drain.
  for (int i = 0; i < 2; ++i) {
    pair.net.inject(kClient, kServer, old_data_packet);
    pair.net.run_for(i == 0 ? 100ms : 10s);
    std::array<std::byte, 256> buffer{};
    CHECK(pair.server->receive_message(accepted, buffer).error() == errc::would_block);
  }
  CHECK(pair.client->stats(second).has_value());
}

TEST_CASE("abort sends RESET and both sides close at once", "[sim][close]") {
  Pair pair(23);
  pair.net.set_path(kClient, kServer, wan());
  REQUIRE(pair.handshake());
  REQUIRE_FALSE(pair.client->send(pair.client_conn, pattern(100'000, 1)).error());
  REQUIRE_FALSE(pair.client->abort(pair.client_conn, 42));
  REQUIRE(pair.net.run_until([&] { return closed_both(pair); }));
  CHECK(pair.client_closed()->reason == CloseReason::aborted);
  CHECK(pair.server_closed()->reason == CloseReason::reset_by_peer);
  CHECK(pair.server_closed()->error_code == 42);
  CHECK(pair.client->abort(pair.client_conn).value() == static_cast<int>(errc::invalid_handle));
}

TEST_CASE("a slow reader stalls the sender at its credit, and reading resumes it", "[sim][flow]") {
  ConnectionConfig small;
  small.receive_window = 2u << 20;
  Pair pair(24, {}, small);
  pair.net.set_path(kClient, kServer, wan());
  REQUIRE(pair.handshake());
  const auto data = pattern(8u << 20, 4);
  std::size_t sent = 0;
  auto pump = [&] {
    pair.drain_events();
    if (sent < data.size()) sent += pair.client->send(pair.client_conn, std::span(data).subspan(sent)).value_or(0);
  };
  // Nobody reads for 10 seconds: the sender stops at the window.
  const Instant until = pair.net.now() + 10s;
  pair.net.run_until([&] {
    pump();
    return pair.net.now() >= until;
  });
  const auto stalled = pair.client->stats(pair.client_conn).value();
  CHECK(stalled.bytes_in_flight < 100);  // at most a zero-window probe
  CHECK(stalled.send_credit < 2048);
  CHECK(pair.client->stats(pair.client_conn).value().packets_lost == 0);
  // The server holds at most its window.
  const auto server_stats = pair.server->stats(*pair.server_conn).value();
  CHECK(server_stats.receive_credit < 2048);

  std::vector<std::byte> received;
  REQUIRE(pair.net.run_until([&] {
    pump();
    read_all(*pair.server, *pair.server_conn, received);
    return received.size() == data.size();
  }));
  CHECK(received == data);
}

TEST_CASE("a 10-second outage: the RTO backs off and the transfer recovers", "[sim][flow]") {
  Pair pair(25);
  sim::LinkConfig link = wan();
  link.rate_bits_per_second = 10'000'000;
  link.queue_bytes = 256 * 1024;
  pair.net.set_path(kClient, kServer, link);
  REQUIRE(pair.handshake());
  const auto data = pattern(4u << 20, 5);  // about 3.4 s at 10 Mbit/s
  std::size_t sent = 0;
  std::vector<std::byte> received;
  bool outage_done = false;
  const Instant outage_start = pair.net.now() + 1s;
  sim::LinkConfig dead = link;
  dead.loss = 1.0;
  REQUIRE(pair.net.run_until([&] {
    pair.drain_events();
    if (!outage_done && pair.net.now() >= outage_start) {
      pair.net.set_path(kClient, kServer, dead);
      pair.net.run_for(10s);
      pair.net.set_path(kClient, kServer, link);
      outage_done = true;
    }
    if (sent < data.size()) sent += pair.client->send(pair.client_conn, std::span(data).subspan(sent)).value_or(0);
    read_all(*pair.server, *pair.server_conn, received);
    return received.size() == data.size();
  }));
  CHECK(received == data);
  const auto stats = pair.client->stats(pair.client_conn).value();
  CHECK(stats.probe_timeouts >= 3);  // 10 s of backed-off timeouts, not 10 s / RTO of them
  CHECK(stats.probe_timeouts <= 8);
  CHECK_FALSE(pair.client_closed().has_value());
}

TEST_CASE("the idle timeout closes a silent connection and keepalive prevents it", "[sim][flow]") {
  ConnectionConfig idle;
  idle.idle_timeout = 5s;
  {
    Pair pair(26, idle, idle);
    pair.net.set_path(kClient, kServer, wan());
    REQUIRE(pair.handshake());
    REQUIRE(pair.net.run_until([&] { return closed_both(pair); }));
    CHECK(pair.client_closed()->reason == CloseReason::idle_timeout);
    CHECK(pair.server_closed()->reason == CloseReason::idle_timeout);
    CHECK(pair.net.now() >= Instant{} + 5s);
    CHECK(pair.net.now() < Instant{} + 6s);
  }
  {
    ConnectionConfig alive = idle;
    alive.keepalive_interval = 2s;
    Pair pair(27, alive, idle);
    pair.net.set_path(kClient, kServer, wan());
    REQUIRE(pair.handshake());
    pair.net.run_for(60s);
    pair.drain_events();
    CHECK_FALSE(pair.client_closed().has_value());
    CHECK_FALSE(pair.server_closed().has_value());
    CHECK(pair.client->stats(pair.client_conn).value().packets_sent > 25);
  }
}

TEST_CASE("an unreachable peer is declared so after max_retransmits timeouts", "[sim][flow]") {
  ConnectionConfig few;
  few.max_retransmits = 3;
  Pair pair(28, few);
  pair.net.set_path(kClient, kServer, wan());
  REQUIRE(pair.handshake());
  sim::LinkConfig dead = wan();
  dead.loss = 1.0;
  pair.net.set_path(kClient, kServer, dead);
  REQUIRE_FALSE(pair.client->send_message(pair.client_conn, pattern(10, 1)));
  REQUIRE(pair.net.run_until([&] {
    pair.drain_events();
    return pair.client_closed().has_value();
  }));
  CHECK(pair.client_closed()->reason == CloseReason::peer_unreachable);
  CHECK(pair.client->stats(pair.client_conn).error() == errc::invalid_handle);
}

TEST_CASE("a peer whose host goes away is declared unreachable", "[sim][flow]") {
  ConnectionConfig few;
  few.max_retransmits = 3;
  Pair pair(30, few);
  pair.net.set_path(kClient, kServer, wan());
  REQUIRE(pair.handshake());
  REQUIRE_FALSE(pair.client->send_message(pair.client_conn, pattern(10, 1)));
  const Endpoint gone = pair.net.remove(kServer);
  pair.server = nullptr;
  CHECK(gone.connection_count() == 1);
  const auto closed = run_until_closed(pair.net, *pair.client);
  REQUIRE(closed);
  CHECK(closed->reason == CloseReason::peer_unreachable);
  // The message, then a re-send of it with each of the three probes.
  CHECK(pair.net.undeliverable() == 4);
}

TEST_CASE("a graceful close waits until the application has read everything", "[sim][close]") {
  Pair pair(29);
  pair.net.set_path(kClient, kServer, wan());
  REQUIRE(pair.handshake());
  REQUIRE_FALSE(pair.server->close(*pair.server_conn));
  const auto data = pattern(3000, 8);
  REQUIRE(pair.client->send(pair.client_conn, data).value() == data.size());
  REQUIRE_FALSE(pair.client->close(pair.client_conn));
  // Both FINs are sent and acknowledged while the server's application reads nothing.
  pair.net.run_for(5s);
  pair.drain_events();
  CHECK(pair.client_closed().has_value());
  CHECK_FALSE(pair.server_closed().has_value());
  std::vector<std::byte> received;
  read_all(*pair.server, *pair.server_conn, received);
  CHECK(received == data);
  // The handle stays valid until the driver's next call completes the close.
  CHECK(pair.server->stats(*pair.server_conn).has_value());
  pair.net.run_for(1ms);
  pair.drain_events();
  REQUIRE(pair.server_closed().has_value());
  CHECK(pair.server_closed()->reason == CloseReason::closed);
}
