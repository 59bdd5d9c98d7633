// SPDX-License-Identifier: MIT
// rudp::asio over real loopback sockets: a server endpoint accepts, a client
// connects, messages of every mode go both ways, and both sides close
// gracefully; over IPv4 and IPv6.
#include <catch2/catch.hpp>

#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <rudp/asio.hpp>

#include "live_heap.hpp"

using namespace rudp;
using namespace std::chrono_literals;

namespace {

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> out(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) out[i] = static_cast<std::byte>(s[i]);
  return out;
}

std::string text(std::span<const std::byte> b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }

EndpointConfig config(std::uint64_t seed) {
  EndpointConfig c;
  c.seed = seed;
  c.incoming = make_config(Profile::fast);
  return c;
}

}  // namespace

TEST_CASE("asio: connect, exchange messages in every mode, close gracefully", "[asio]") {
  const auto loopback = GENERATE(std::string("127.0.0.1"), std::string("::1"));
  CAPTURE(loopback);
  ::asio::io_context io;
  const auto address = ::asio::ip::make_address(loopback);
  auto server = rudp::asio::Endpoint::open(io.get_executor(), {address, 0}, config(1));
  if (!server && address.is_v6()) {
    WARN("no IPv6 loopback here: " << server.error().message());
    return;
  }
  REQUIRE(server);
  auto client = rudp::asio::Endpoint::open(io.get_executor(), {address, 0}, config(2));
  REQUIRE(client);
  auto& s = **server;
  auto& c = **client;

  std::vector<std::string> server_got;
  std::vector<std::string> client_got;
  std::optional<CloseReason> server_closed;
  std::optional<CloseReason> client_closed;
  std::vector<std::byte> server_buffer(4096);
  std::vector<std::byte> client_buffer(4096);
  std::optional<ConnectionHandle> accepted;

  const DeliveryMode modes[] = {DeliveryMode::reliable_ordered, DeliveryMode::reliable_unordered,
                                DeliveryMode::unreliable_sequenced, DeliveryMode::unreliable};
  // The server echoes each message back with a prefix, then closes when the client has.
  std::function<void()> serve = [&] {
    s.async_receive(*accepted, server_buffer, nullptr, [&](std::error_code ec, std::size_t n) {
      if (ec) {
        CHECK(ec == errc::end_of_stream);
        s.async_close(*accepted, [&](std::error_code close_ec, CloseReason reason) {
          CHECK_FALSE(close_ec);
          server_closed = reason;
        });
        return;
      }
      server_got.push_back(text(std::span(server_buffer).first(n)));
      const auto reply = bytes_of("echo " + server_got.back());
      s.async_send(*accepted, reply, {}, [](std::error_code send_ec, std::size_t) { CHECK_FALSE(send_ec); });
      serve();
    });
  };
  s.async_accept([&](std::error_code ec, ConnectionHandle h) {
    REQUIRE_FALSE(ec);
    accepted = h;
    serve();
  });

  std::function<void(ConnectionHandle)> read = [&](ConnectionHandle h) {
    c.async_receive(h, client_buffer, nullptr, [&, h](std::error_code ec, std::size_t n) {
      REQUIRE_FALSE(ec);
      client_got.push_back(text(std::span(client_buffer).first(n)));
      if (client_got.size() < 4) {
        read(h);
        return;
      }
      c.async_close(h, [&](std::error_code close_ec, CloseReason reason) {
        CHECK_FALSE(close_ec);
        client_closed = reason;
      });
    });
  };
  c.async_connect({address, s.local_endpoint().port()}, make_config(Profile::fast),
                  [&](std::error_code ec, ConnectionHandle h) {
                    REQUIRE_FALSE(ec);
                    for (int i = 0; i < 4; ++i) {
                      const auto message = bytes_of("message " + std::to_string(i));
                      c.async_send(h, message, SendOptions{.mode = modes[i]},
                                   [](std::error_code send_ec, std::size_t) { CHECK_FALSE(send_ec); });
                    }
                    read(h);
                  });

  // Loopback does not lose datagrams, so every mode delivers; the run stops
  // once both sides have closed (or after 10 s, which fails below).
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!(client_closed && server_closed) && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  std::sort(server_got.begin(), server_got.end());
  CHECK(server_got == std::vector<std::string>{"message 0", "message 1", "message 2", "message 3"});
  std::sort(client_got.begin(), client_got.end());
  CHECK(client_got ==
        std::vector<std::string>{"echo message 0", "echo message 1", "echo message 2", "echo message 3"});
  CHECK(client_closed == CloseReason::closed);
  CHECK(server_closed == CloseReason::closed);
}

TEST_CASE("asio: a connect nobody answers times out and operations on unknown handles fail at once", "[asio]") {
  ::asio::io_context io;
  const auto loopback = ::asio::ip::make_address("127.0.0.1");
  auto client = rudp::asio::Endpoint::open(io.get_executor(), {loopback, 0}, config(3));
  REQUIRE(client);
  // A bound socket that never answers: the handshake is retried, then given up.
  ::asio::ip::udp::socket silent(io, {loopback, 0});
  ConnectionConfig quick = make_config(Profile::fast);
  quick.handshake_timeout = 300ms;
  std::optional<std::error_code> connected;
  (*client)->async_connect(silent.local_endpoint(), quick,
                           [&](std::error_code ec, ConnectionHandle) { connected = ec; });
  std::optional<std::error_code> sent;
  std::optional<std::error_code> received;
  std::vector<std::byte> buffer(16);
  (*client)->async_send(ConnectionHandle{7, 7}, bytes_of("x"), {},
                        [&](std::error_code ec, std::size_t) { sent = ec; });
  (*client)->async_receive(ConnectionHandle{7, 7}, buffer, nullptr,
                           [&](std::error_code ec, std::size_t) { received = ec; });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!connected && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  REQUIRE(connected);
  CHECK(*connected == std::errc::timed_out);
  REQUIRE(sent);
  CHECK(*sent == errc::invalid_handle);
  REQUIRE(received);
  CHECK(*received == errc::invalid_handle);
}

TEST_CASE("asio: one server endpoint serves a thousand concurrent connections", "[asio]") {
  constexpr std::size_t kConnections = 1000;
  ::asio::io_context io;
  const auto loopback = ::asio::ip::make_address("127.0.0.1");
  EndpointConfig server_config = config(5);
  server_config.max_connections = 2 * kConnections;
  auto server = rudp::asio::Endpoint::open(io.get_executor(), {loopback, 0}, server_config);
  REQUIRE(server);
  EndpointConfig client_config = config(6);
  client_config.max_connections = 2 * kConnections;
  auto client = rudp::asio::Endpoint::open(io.get_executor(), {loopback, 0}, client_config);
  REQUIRE(client);
  auto& s = **server;
  auto& c = **client;

  // The server echoes every message on the connection it came from.
  std::vector<std::vector<std::byte>> server_buffers;
  std::vector<ConnectionHandle> server_connections;
  server_connections.reserve(kConnections);
  std::function<void(ConnectionHandle, std::size_t)> echo = [&](ConnectionHandle h, std::size_t slot) {
    s.async_receive(h, server_buffers[slot], nullptr, [&, h, slot](std::error_code ec, std::size_t n) {
      if (ec) return;
      s.async_send(h, std::span(server_buffers[slot]).first(n), {}, [](std::error_code, std::size_t) {});
      echo(h, slot);
    });
  };
  std::function<void()> accept = [&] {
    s.async_accept([&](std::error_code ec, ConnectionHandle h) {
      if (ec) return;
      server_buffers.emplace_back(64);
      server_connections.push_back(h);
      echo(h, server_buffers.size() - 1);
      accept();
    });
  };
  server_buffers.reserve(kConnections);
  accept();

  std::size_t echoed = 0;
  std::vector<std::vector<std::byte>> client_buffers(kConnections, std::vector<std::byte>(64));
  std::vector<ConnectionHandle> client_connections;
  client_connections.reserve(kConnections);
  const std::size_t heap_before = rudp::test::live_heap_bytes();
  for (std::size_t i = 0; i < kConnections; ++i) {
    c.async_connect(s.local_endpoint(), make_config(Profile::fast), [&, i](std::error_code ec, ConnectionHandle h) {
      REQUIRE_FALSE(ec);
      client_connections.push_back(h);
      const auto message = bytes_of("connection " + std::to_string(i));
      c.async_send(h, message, {}, [](std::error_code send_ec, std::size_t) { CHECK_FALSE(send_ec); });
      c.async_receive(h, client_buffers[i], nullptr, [&, i](std::error_code read_ec, std::size_t n) {
        CHECK_FALSE(read_ec);
        CHECK(text(std::span(client_buffers[i]).first(n)) == "connection " + std::to_string(i));
        ++echoed;
      });
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (echoed < kConnections && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  CHECK(echoed == kConnections);
  CHECK(s.core().connection_count() == kConnections);
  CHECK(s.core().stats().connections_accepted == kConnections);

  // Idle: everything acknowledged both ways, each server connection with a
  // receive pending, as a server waiting on its clients keeps them. What the
  // connections hold then (both endpoints, the pending operations and this
  // test's 64-byte buffers) stays within the 8 KiB per idle connection each
  // side may take.
  const auto settled = [&] {
    for (const auto& [endpoint, handles] : {std::pair{&c, &client_connections}, std::pair{&s, &server_connections}}) {
      for (const ConnectionHandle h : *handles) {
        if (const auto stats = endpoint->core().stats(h); !stats || stats->bytes_in_flight > 0) return false;
      }
    }
    return true;
  };
  const auto settle_deadline = std::chrono::steady_clock::now() + 10s;
  while (!settled() && std::chrono::steady_clock::now() < settle_deadline) io.run_one_for(10ms);
  REQUIRE(settled());
  const std::size_t heap_after = rudp::test::live_heap_bytes();
  const std::size_t per_connection = (heap_after - heap_before) / kConnections;
  CAPTURE(heap_before, heap_after, per_connection);
  CHECK(per_connection <= 2 * 8 * 1024);
}

// Round trips of an echo, one at a time, on one io_context: what a game's
// request/response traffic does. Returns the client's connection.
namespace {

struct EchoPair {
  ::asio::io_context io;
  std::unique_ptr<rudp::asio::Endpoint> server;
  std::unique_ptr<rudp::asio::Endpoint> client;
  std::optional<ConnectionHandle> server_connection;
  std::optional<ConnectionHandle> client_connection;
  std::vector<std::byte> server_buffer = std::vector<std::byte>(256);
  std::vector<std::byte> client_buffer = std::vector<std::byte>(256);

  explicit EchoPair(const ConnectionConfig& connection) {
    const auto loopback = ::asio::ip::make_address("127.0.0.1");
    EndpointConfig server_config = config(7);
    server_config.incoming = connection;
    server = std::move(rudp::asio::Endpoint::open(io.get_executor(), {loopback, 0}, server_config).value());
    client = std::move(rudp::asio::Endpoint::open(io.get_executor(), {loopback, 0}, config(8)).value());
    server->async_accept([this](std::error_code ec, ConnectionHandle h) {
      REQUIRE_FALSE(ec);
      server_connection = h;
      echo();
    });
    client->async_connect(server->local_endpoint(), connection, [this](std::error_code ec, ConnectionHandle h) {
      REQUIRE_FALSE(ec);
      client_connection = h;
    });
    run_until([&] { return client_connection && server_connection; });
  }

  // The server's chain: async_receive, then async_send of the same bytes.
  void echo() {
    server->async_receive(*server_connection, server_buffer, nullptr, [this](std::error_code ec, std::size_t n) {
      if (ec) return;
      server->async_send(*server_connection, std::span(server_buffer).first(n), {}, [](std::error_code, std::size_t) {});
      echo();
    });
  }

  template <class Done>
  void run_until(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
    REQUIRE(done());
  }

  // `count` round trips of a 64-byte message, each checked; each ping leaves
  // from the completion handler of the previous pong, as in an application's
  // request/response chain.
  void round_trips(int count) {
    int done = 0;
    std::function<void()> ping = [&] {
      const auto message =
          std::make_shared<std::vector<std::byte>>(bytes_of("ping " + std::to_string(done) + std::string(56, '.')));
      client->async_send(*client_connection, *message, {}, [](std::error_code ec, std::size_t) { CHECK_FALSE(ec); });
      client->async_receive(*client_connection, client_buffer, nullptr, [&, message](std::error_code ec, std::size_t n) {
        CHECK_FALSE(ec);
        CHECK(text(std::span(client_buffer).first(n)) == text(*message));
        if (++done < count) ping();
      });
    };
    ping();
    run_until([&] { return done == count; });
  }
};

}  // namespace

TEST_CASE("asio: timers moved later by traffic still fire: the idle timeout ends a connection whose peer fell silent",
          "[asio]") {
  ConnectionConfig connection = make_config(Profile::fast);
  connection.idle_timeout = 300ms;
  EchoPair pair(connection);
  pair.round_trips(100);  // every packet moves the idle deadline later

  std::optional<std::error_code> received;
  pair.client->async_receive(*pair.client_connection, pair.client_buffer, nullptr,
                             [&](std::error_code ec, std::size_t) { received = ec; });
  pair.server.reset();  // silent from now on
  pair.run_until([&] { return received.has_value(); });
  CHECK(*received == errc::connection_closed);
  CHECK(pair.client->core().connection_count() <= 1);  // draining, if anything
}

TEST_CASE("asio: a reply made in a completion handler carries the acknowledgement with no packet for the ACK alone",
          "[asio]") {
  // The fast profile acknowledges every packet at once (max_ack_delay 0):
  // each side would send an ACK-only packet per message if the runtime sent
  // before the application's reply was queued.
  EchoPair pair(make_config(Profile::fast));
  pair.round_trips(10);
  const auto client_before = pair.client->core().stats(*pair.client_connection)->packets_sent;
  const auto server_before = pair.server->core().stats(*pair.server_connection)->packets_sent;
  constexpr int kRoundTrips = 200;
  pair.round_trips(kRoundTrips);
  const auto client_sent = pair.client->core().stats(*pair.client_connection)->packets_sent - client_before;
  const auto server_sent = pair.server->core().stats(*pair.server_connection)->packets_sent - server_before;
  CAPTURE(client_sent, server_sent);
  // One packet per message each way; the slack is for a probe timeout or two
  // on a loaded machine, far from the 2 per message of ACK-only packets.
  CHECK(server_sent <= kRoundTrips * 5 / 4);
  CHECK(client_sent <= kRoundTrips * 5 / 4);
}

TEST_CASE("asio: an operation started in a completion handler never completes inside the call that started it",
          "[asio]") {
  // The endpoint runs the handlers of what its socket's handler finished
  // itself; those of operations they start and that finish at once (a send
  // the core takes, a message already waiting) must still wait until the
  // starting handler has returned.
  EchoPair pair(make_config(Profile::fast));
  pair.round_trips(2);
  for (const char* m : {"first", "second"}) pair.client->async_send(*pair.client_connection, bytes_of(m), {}, [](auto...) {});
  bool inside = false;
  int ran = 0;
  std::vector<std::byte> second(64);
  pair.client->async_receive(*pair.client_connection, pair.client_buffer, nullptr, [&](std::error_code ec, std::size_t) {
    CHECK_FALSE(ec);
    inside = true;
    pair.client->async_send(*pair.client_connection, bytes_of("third"), {}, [&](std::error_code ec2, std::size_t) {
      CHECK_FALSE(ec2);
      CHECK_FALSE(inside);
      ++ran;
    });
    pair.client->async_receive(*pair.client_connection, second, nullptr, [&](std::error_code ec2, std::size_t n) {
      CHECK_FALSE(ec2);
      CHECK_FALSE(inside);
      CHECK(text(std::span(second).first(n)) == "second");
      ++ran;
    });
    inside = false;
    ++ran;
  });
  pair.run_until([&] { return ran == 3; });
}

TEST_CASE("asio: a completion handler bound to a strand runs on that strand", "[asio]") {
  // The endpoint runs the handlers of what its socket's handler finished
  // itself only when their executor is the one running; a handler bound to a
  // strand must still run inside the strand.
  EchoPair pair(make_config(Profile::fast));
  pair.round_trips(2);
  auto strand = ::asio::make_strand(pair.io);
  int ran = 0;
  pair.client->async_send(*pair.client_connection, bytes_of("ping"), {},
                          ::asio::bind_executor(strand, [&](std::error_code ec, std::size_t) {
                            CHECK_FALSE(ec);
                            CHECK(strand.running_in_this_thread());
                            ++ran;
                          }));
  pair.client->async_receive(*pair.client_connection, pair.client_buffer, nullptr,
                             ::asio::bind_executor(strand, [&](std::error_code ec, std::size_t n) {
                               CHECK_FALSE(ec);
                               CHECK(strand.running_in_this_thread());
                               CHECK(text(std::span(pair.client_buffer).first(n)) == "ping");
                               ++ran;
                             }));
  pair.run_until([&] { return ran == 2; });
}

TEST_CASE("asio: a completion handler bound to another io_context keeps that one running until it has run",
          "[asio]") {
  // The endpoint tracks work only on executors other than its own (its
  // socket's wait keeps its own io_context running). Without that, the other
  // io_context would find no work and stop before the handler reached it.
  EchoPair pair(make_config(Profile::fast));
  pair.round_trips(2);
  ::asio::io_context other;
  bool ran = false;
  pair.client->async_receive(*pair.client_connection, pair.client_buffer, nullptr,
                             ::asio::bind_executor(other, [&](std::error_code ec, std::size_t n) {
                               CHECK_FALSE(ec);
                               CHECK(other.get_executor().running_in_this_thread());
                               CHECK(text(std::span(pair.client_buffer).first(n)) == "ping");
                               ran = true;
                             }));
  other.poll();
  REQUIRE_FALSE(other.stopped());
  pair.client->async_send(*pair.client_connection, bytes_of("ping"), {}, [](auto...) {});
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!ran && std::chrono::steady_clock::now() < deadline) {
    pair.io.run_one_for(10ms);
    other.poll();
  }
  CHECK(ran);
  // Its work done, the other io_context stops once it has nothing left.
  other.poll();
  CHECK(other.stopped());
}

namespace {

struct AllocationCounts {
  int allocations = 0;
  int live = 0;
};

// An allocator that counts, in counts shared by its copies.
template <class T>
struct CountingAllocator {
  using value_type = T;
  AllocationCounts* counts;

  explicit CountingAllocator(AllocationCounts* c) noexcept : counts(c) {}
  template <class U>
  CountingAllocator(const CountingAllocator<U>& other) noexcept : counts(other.counts) {}

  T* allocate(std::size_t n) {
    ++counts->allocations;
    ++counts->live;
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    --counts->live;
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  bool operator==(const CountingAllocator<U>& other) const noexcept {
    return counts == other.counts;
  }
};

}  // namespace

TEST_CASE("asio: an operation's state comes from its handler's allocator and is given back before the handler runs",
          "[asio]") {
  // As asio's own operations do: a handler bound to an allocator has the
  // operation allocated with it, and the memory is free again when the
  // handler runs, for the next operation to reuse.
  EchoPair pair(make_config(Profile::fast));
  pair.round_trips(2);
  AllocationCounts counts;
  const CountingAllocator<void> allocator(&counts);
  int live_in_send = -1;
  int live_in_receive = -1;
  int ran = 0;
  pair.client->async_receive(*pair.client_connection, pair.client_buffer, nullptr,
                             ::asio::bind_allocator(allocator, [&](std::error_code ec, std::size_t n) {
                               CHECK_FALSE(ec);
                               CHECK(text(std::span(pair.client_buffer).first(n)) == "ping");
                               live_in_receive = counts.live;
                               ++ran;
                             }));
  pair.client->async_send(*pair.client_connection, bytes_of("ping"), {},
                          ::asio::bind_allocator(allocator, [&](std::error_code ec, std::size_t) {
                            CHECK_FALSE(ec);
                            live_in_send = counts.live;
                            ++ran;
                          }));
  CHECK(counts.allocations == 2);
  pair.run_until([&] { return ran == 2; });
  CHECK(live_in_send == 1);  // the receive's, still pending
  CHECK(live_in_receive == 0);
  CHECK(counts.live == 0);
}

TEST_CASE("asio: an endpoint destroyed in one of its completion handlers still completes the others", "[asio]") {
  EchoPair pair(make_config(Profile::fast));
  pair.round_trips(2);
  std::optional<std::error_code> sent;
  std::optional<std::error_code> first;
  std::optional<std::error_code> second;
  pair.client->async_send(*pair.client_connection, bytes_of("ping"), {}, [&](std::error_code ec, std::size_t) {
    sent = ec;
  });
  pair.client->async_receive(*pair.client_connection, pair.client_buffer, nullptr, [&](std::error_code ec, std::size_t) {
    first = ec;
    pair.client.reset();
  });
  std::vector<std::byte> buffer(64);
  pair.client->async_receive(*pair.client_connection, buffer, nullptr,
                             [&](std::error_code ec, std::size_t) { second = ec; });
  pair.run_until([&] { return sent && first && second; });
  CHECK_FALSE(*sent);
  CHECK_FALSE(*first);
  CHECK(*second == ::asio::error::operation_aborted);
}

TEST_CASE("asio: a completion handler that throws leaves through run and the endpoint carries on", "[asio]") {
  // The endpoint runs such a handler itself, from its socket's handler: the
  // exception must reach the caller of run(), and leave the endpoint and the
  // other handlers to run there as they were, as when asio runs a handler
  // inline (it holds the exception until the running handler returns).
  EchoPair pair(make_config(Profile::fast));
  pair.round_trips(2);
  std::optional<std::error_code> sent;
  pair.client->async_send(*pair.client_connection, bytes_of("ping"), {}, [&](std::error_code ec, std::size_t) {
    sent = ec;
  });
  pair.client->async_receive(*pair.client_connection, pair.client_buffer, nullptr,
                             [](std::error_code, std::size_t) { throw std::runtime_error("from a handler"); });
  bool thrown = false;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!thrown && std::chrono::steady_clock::now() < deadline) {
    try {
      pair.io.run_one_for(100ms);
    } catch (const std::runtime_error&) {
      thrown = true;
    }
  }
  REQUIRE(thrown);
  // The send's handler, which was to run after the one that threw, still
  // runs, and the connection still carries messages both ways.
  pair.run_until([&] { return sent.has_value(); });
  CHECK_FALSE(*sent);
  pair.round_trips(3);
}

TEST_CASE("asio: sends beyond the send buffer wait and keep their order with those the core took at once", "[asio]") {
  ConnectionConfig connection = make_config(Profile::fast);
  connection.send_buffer = 1200;  // room for a few messages only, on both sides
  EchoPair pair(connection);
  // All sent at once: the first few go straight into the core, the rest wait
  // for room; the server echoes each, and the echoes must come back in order.
  constexpr int kMessages = 200;
  std::vector<std::vector<std::byte>> sent;
  int completed = 0;
  for (int i = 0; i < kMessages; ++i) {
    sent.push_back(bytes_of("message " + std::to_string(i) + std::string(140, static_cast<char>('a' + i % 26))));
    pair.client->async_send(*pair.client_connection, sent.back(), {}, [&](std::error_code ec, std::size_t n) {
      CHECK_FALSE(ec);
      CHECK(n == sent[static_cast<std::size_t>(completed)].size());
      ++completed;
    });
  }
  std::vector<std::byte> buffer(2048);
  int echoed = 0;
  std::function<void()> read = [&] {
    pair.client->async_receive(*pair.client_connection, buffer, nullptr, [&](std::error_code ec, std::size_t n) {
      REQUIRE_FALSE(ec);
      CHECK(text(std::span(buffer).first(n)) == text(sent[static_cast<std::size_t>(echoed)]));
      if (++echoed < kMessages) read();
    });
  };
  read();
  pair.run_until([&] { return completed == kMessages && echoed == kMessages; });
}

TEST_CASE("asio: messages sent each from the previous one's completion handler leave in batches", "[asio]") {
  // A bulk sender's natural loop. Without waiting for the handlers, the
  // runtime sent about two datagrams per system call. (The server's echo
  // stops at the first message, larger than its buffer: the sends need only
  // room in the core.)
  EchoPair pair(make_config(Profile::tcp_friendly));
  constexpr int kMessages = 512;
  const std::vector<std::byte> message(1000, std::byte{0x5a});
  int sent = 0;
  std::function<void()> send = [&] {
    pair.client->async_send(*pair.client_connection, message, {}, [&](std::error_code ec, std::size_t) {
      REQUIRE_FALSE(ec);
      if (++sent < kMessages) send();
    });
  };
  const rudp::asio::IoStats before = pair.client->io_stats();
  send();
  // The core takes the messages faster than the window lets them leave: the
  // count is read once they all have.
  pair.run_until([&] {
    return sent == kMessages && pair.client->io_stats().datagrams_sent - before.datagrams_sent >= kMessages;
  });
  const rudp::asio::IoStats& after = pair.client->io_stats();
  const auto batches = after.send_batches - before.send_batches;
  const auto datagrams = after.datagrams_sent - before.datagrams_sent;
  CAPTURE(batches, datagrams);
  CHECK(datagrams >= kMessages);
  CHECK(datagrams >= 8 * batches);
}

TEST_CASE("asio: a waiting receive or accept cancelled through its cancellation slot ends with operation_aborted and "
          "takes nothing",
          "[asio]") {
  // As a receive raced against a timer (asio's awaitable operators, a
  // parallel group) is cancelled when the timer wins: the next message must
  // still reach the next receive, the next connection the next accept.
  EchoPair pair(make_config(Profile::fast));
  pair.round_trips(2);
  ::asio::cancellation_signal receive_signal;
  std::optional<std::error_code> received;
  pair.client->async_receive(*pair.client_connection, pair.client_buffer, nullptr,
                             ::asio::bind_cancellation_slot(receive_signal.slot(),
                                                            [&](std::error_code ec, std::size_t) { received = ec; }));
  pair.io.poll();
  REQUIRE_FALSE(received);
  receive_signal.emit(::asio::cancellation_type::terminal);
  pair.run_until([&] { return received.has_value(); });
  CHECK(*received == ::asio::error::operation_aborted);

  pair.client->async_send(*pair.client_connection, bytes_of("after"), {}, [](auto...) {});
  std::optional<std::string> next;
  pair.client->async_receive(*pair.client_connection, pair.client_buffer, nullptr, [&](std::error_code ec, std::size_t n) {
    CHECK_FALSE(ec);
    next = text(std::span(pair.client_buffer).first(n));
  });
  pair.run_until([&] { return next.has_value(); });
  CHECK(*next == "after");

  ::asio::cancellation_signal accept_signal;
  std::optional<std::error_code> accepted;
  pair.server->async_accept(::asio::bind_cancellation_slot(
      accept_signal.slot(), [&](std::error_code ec, ConnectionHandle) { accepted = ec; }));
  accept_signal.emit(::asio::cancellation_type::total);
  pair.run_until([&] { return accepted.has_value(); });
  CHECK(*accepted == ::asio::error::operation_aborted);

  auto second = std::move(rudp::asio::Endpoint::open(pair.io.get_executor(), {::asio::ip::make_address("127.0.0.1"), 0},
                                                     config(9))
                              .value());
  std::optional<ConnectionHandle> connected;
  std::optional<ConnectionHandle> accepted_next;
  second->async_connect(pair.server->local_endpoint(), make_config(Profile::fast),
                        [&](std::error_code ec, ConnectionHandle h) {
                          REQUIRE_FALSE(ec);
                          connected = h;
                        });
  pair.server->async_accept([&](std::error_code ec, ConnectionHandle h) {
    REQUIRE_FALSE(ec);
    accepted_next = h;
  });
  pair.run_until([&] { return connected && accepted_next; });
}

TEST_CASE("asio: a send waiting for room, cancelled, leaves its queue and the others keep their order", "[asio]") {
  ConnectionConfig connection = make_config(Profile::fast);
  connection.send_buffer = 1200;  // room for a few messages only
  EchoPair pair(connection);
  constexpr int kMessages = 20;
  constexpr int kCancelled = 15;  // beyond the room: it waits
  std::vector<std::vector<std::byte>> sent;
  std::vector<std::error_code> results(kMessages);
  int completed = 0;
  ::asio::cancellation_signal signal;
  for (int i = 0; i < kMessages; ++i) {
    sent.push_back(bytes_of("message " + std::to_string(i) + std::string(140, static_cast<char>('a' + i))));
    auto done = [&, i](std::error_code ec, std::size_t) {
      results[static_cast<std::size_t>(i)] = ec;
      ++completed;
    };
    if (i == kCancelled) {
      pair.client->async_send(*pair.client_connection, sent.back(), {},
                              ::asio::bind_cancellation_slot(signal.slot(), done));
    } else {
      pair.client->async_send(*pair.client_connection, sent.back(), {}, done);
    }
  }
  signal.emit(::asio::cancellation_type::terminal);
  std::vector<std::string> echoes;
  std::vector<std::byte> buffer(2048);
  std::function<void()> read = [&] {
    pair.client->async_receive(*pair.client_connection, buffer, nullptr, [&](std::error_code ec, std::size_t n) {
      REQUIRE_FALSE(ec);
      echoes.push_back(text(std::span(buffer).first(n)));
      if (echoes.size() < kMessages - 1) read();
    });
  };
  read();
  pair.run_until([&] { return completed == kMessages && echoes.size() == kMessages - 1; });
  for (int i = 0; i < kMessages; ++i) {
    CAPTURE(i);
    if (i == kCancelled) {
      CHECK(results[static_cast<std::size_t>(i)] == ::asio::error::operation_aborted);
    } else {
      CHECK_FALSE(results[static_cast<std::size_t>(i)]);
    }
  }
  std::vector<std::string> expected;
  for (int i = 0; i < kMessages; ++i) {
    if (i != kCancelled) expected.push_back(text(sent[static_cast<std::size_t>(i)]));
  }
  CHECK(echoes == expected);
}
