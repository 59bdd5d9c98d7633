// SPDX-License-Identifier: MIT
// Scale benchmark: what one endpoint's driver loop costs per datagram as the
// number of connections on it grows, and how much heap an idle connection
// holds on each side.
//
// For each connection count N asked for, a client endpoint opens N
// connections to a server endpoint, sends one message on each and reads the
// server's echo, and lets every timer but the idle one run out. A direct,
// zero-delay loop drives the two endpoints (no sim::Network, so its costs
// are not in the figures): it hands each datagram to handle_datagram, drains
// poll_transmit and poll_event after every input, and calls handle_timeout
// when next_timeout() says.
//
// Memory: live heap bytes (glibc's mallinfo2) are read when the N
// connections are idle, again after the client endpoint is destroyed, and
// again after the server endpoint is; each side's drop, less what an empty
// endpoint holds, divided by N, is its heap per idle connection. glibc
// counts the blocks it caches for reuse as in use, so a few kilobytes of
// noise remain: the figure is printed from 100 connections up.
//
// Driver cost: request-response rounds, one every millisecond of virtual
// time, each on the next connection in turn (so with N = 10,000 each
// connection is used once every 10 s and the other N - 1 sit idle): the
// client sends a 64-byte message, the server echoes it, and delayed ACKs
// follow on their timers. The figure is process CPU time over the rounds
// divided by the datagrams both endpoints sent, so it holds everything the
// loop does per datagram on both sides: parsing, the connection's work, the
// endpoint's bookkeeping, and the two application calls per message.
// Rounds run until --seconds of CPU time have passed.
//
// The idle timeout is switched off so connections stay up however long the
// rounds run; keep-alives are off by default anyway.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <malloc.h>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <rudp/endpoint.hpp>

#include "common/options.hpp"

namespace {

using namespace rudp;
using namespace std::chrono_literals;

const Address kClient = Address::v4({10, 0, 0, 1}, 4000);
const Address kServer = Address::v4({10, 0, 0, 2}, 5000);
constexpr std::size_t kMessageSize = 64;
constexpr Duration kRoundGap = 1ms;
// Below this many connections the heap figure is lost in the allocator's noise.
constexpr std::size_t kMinConnectionsForMemory = 100;

struct Options {
  std::vector<std::uint64_t> connections{1, 100, 10'000};
  double seconds = 1.0;
};

double cpu_seconds() noexcept { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

std::size_t live_heap_bytes() noexcept {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

ConnectionConfig connection_config() {
  ConnectionConfig c;
  c.idle_timeout = 0s;
  return c;
}

Endpoint make_endpoint(std::uint64_t seed, bool listen, std::size_t max_connections) {
  EndpointConfig c;
  c.seed = seed;
  c.accept_incoming = listen;
  c.max_connections = std::max<std::size_t>(max_connections, 1);
  c.incoming = connection_config();
  auto endpoint = Endpoint::create(c, Instant{});
  if (!endpoint) {
    std::fprintf(stderr, "Endpoint::create: %s\n", endpoint.error().message().c_str());
    std::exit(2);
  }
  return std::move(endpoint).value();
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "rudp_bench_scale: %s\n", what);
  std::exit(1);
}

// Byte i of the message of round r.
std::byte message_byte(std::uint64_t round, std::size_t i) noexcept {
  return static_cast<std::byte>((round * 131 + i * 7) & 0xff);
}

// A client and an echoing server joined by a zero-delay, loss-free wire.
class Loop {
 public:
  explicit Loop(std::size_t connections)
      : client_(make_endpoint(1, false, connections)), server_(make_endpoint(2, true, connections)) {
    client_conns_.reserve(connections);
  }

  Endpoint* client() { return client_ ? &*client_ : nullptr; }
  Endpoint* server() { return server_ ? &*server_ : nullptr; }
  void destroy_client() { client_.reset(); }
  void destroy_server() { server_.reset(); }
  Instant now() const noexcept { return now_; }
  std::uint64_t datagrams() const noexcept { return datagrams_; }
  std::uint64_t replies() const noexcept { return replies_; }
  std::size_t server_connected() const noexcept { return server_connected_; }
  std::size_t client_connected() const noexcept { return client_connected_; }
  const std::vector<ConnectionHandle>& client_conns() const noexcept { return client_conns_; }

  void connect() {
    const auto h = client_->connect(now_, kServer, connection_config());
    if (!h) fail("connect failed");
    client_conns_.push_back(*h);
  }

  // The message of round `round` on client connection `conn`.
  void send(ConnectionHandle conn, std::uint64_t round) {
    std::array<std::byte, kMessageSize> m{};
    for (std::size_t i = 0; i < m.size(); ++i) m[i] = message_byte(round, i);
    if (client_->send_message(conn, m)) fail("send_message failed");
  }

  // Drives both endpoints until `done()` holds, running timers as they come
  // due, but never past `limit`; false if the loop went quiet first.
  template <class Done>
  bool run_until(Done&& done, Instant limit) {
    while (!done()) {
      if (exchange()) continue;
      const auto t = next_timeout();
      if (!t || *t > limit) return false;
      now_ = std::max(now_, *t);
      fire_timers();
    }
    return true;
  }

  // Runs everything due up to `until`, then sets the clock there.
  void advance_to(Instant until) {
    while (true) {
      while (exchange()) {
      }
      const auto t = next_timeout();
      if (!t || *t > until) break;
      now_ = std::max(now_, *t);
      fire_timers();
    }
    now_ = until;
  }

 private:
  std::optional<Instant> next_timeout() const {
    const auto a = client_->next_timeout();
    const auto b = server_->next_timeout();
    if (!a) return b;
    if (!b) return a;
    return std::min(*a, *b);
  }

  void fire_timers() {
    for (Endpoint* e : {&*client_, &*server_}) {
      if (const auto t = e->next_timeout(); t && *t <= now_) e->handle_timeout(now_);
    }
    poll_events();
  }

  // Sends what both endpoints have to send and delivers it; false when neither had anything.
  bool exchange() {
    flush(*client_, kClient);
    flush(*server_, kServer);
    if (in_flight_.empty()) return false;
    delivering_.swap(in_flight_);
    for (const Datagram& d : delivering_) {
      Endpoint& to = d.to == kServer ? *server_ : *client_;
      to.handle_datagram(now_, d.from, std::span(d.bytes).first(d.size));
      poll_events();
    }
    delivering_.clear();
    return true;
  }

  struct Datagram {
    Address from;
    Address to;
    std::array<std::byte, 1200> bytes;
    std::size_t size = 0;
  };

  void flush(Endpoint& e, const Address& from) {
    while (const auto t = e.poll_transmit(now_, buffer_)) {
      if (t->size > buffer_.size()) fail("datagram too large");
      Datagram& d = in_flight_.emplace_back();
      d.from = from;
      d.to = t->to;
      d.size = t->size;
      std::copy_n(buffer_.begin(), t->size, d.bytes.begin());
      ++datagrams_;
    }
  }

  void poll_events() {
    std::array<std::byte, kMessageSize + 1> in{};
    while (const auto e = server_->poll_event()) {
      if (std::holds_alternative<Connected>(*e)) ++server_connected_;
      if (std::holds_alternative<Closed>(*e)) fail("a server connection closed");
      if (const auto* r = std::get_if<Readable>(&*e)) {
        while (const auto n = server_->receive_message(r->connection, in)) {
          if (server_->send_message(r->connection, std::span(in).first(*n))) fail("echo failed");
        }
      }
    }
    while (const auto e = client_->poll_event()) {
      if (std::holds_alternative<Connected>(*e)) ++client_connected_;
      if (const auto* c = std::get_if<Closed>(&*e)) {
        std::fprintf(stderr, "client connection closed: %s\n", to_string(c->reason));
        std::exit(1);
      }
      if (const auto* r = std::get_if<Readable>(&*e)) {
        while (const auto n = client_->receive_message(r->connection, in)) {
          if (*n != kMessageSize) fail("echo of the wrong size");
          ++replies_;
        }
      }
    }
  }

  std::optional<Endpoint> client_;
  std::optional<Endpoint> server_;
  Instant now_{};
  std::array<std::byte, 1200> buffer_{};
  std::vector<Datagram> in_flight_;
  std::vector<Datagram> delivering_;
  std::vector<ConnectionHandle> client_conns_;
  std::uint64_t datagrams_ = 0;
  std::uint64_t replies_ = 0;
  std::size_t server_connected_ = 0;
  std::size_t client_connected_ = 0;
};

// N connections, each connected and having carried one message each way,
// with nothing in flight and no timer due for a second.
// Connections are opened a batch at a time: the server answers at most 256
// SYNs per poll, and drops the rest (see kMaxPendingReplies in endpoint.cpp).
void establish(Loop& loop, std::size_t n) {
  constexpr std::size_t kBatch = 128;
  for (std::size_t opened = 0; opened < n;) {
    const std::size_t batch = std::min(kBatch, n - opened);
    for (std::size_t i = 0; i < batch; ++i) loop.connect();
    opened += batch;
    if (!loop.run_until([&] { return loop.server_connected() == opened && loop.client_connected() == opened; },
                        loop.now() + 60s)) {
      fail("the handshakes did not complete");
    }
  }
  for (std::size_t i = 0; i < n; ++i) loop.send(loop.client_conns()[i], i);
  if (!loop.run_until([&] { return loop.replies() == n; }, loop.now() + 60s)) fail("the echoes did not arrive");
  loop.advance_to(loop.now() + 1s);
}

struct Memory {
  double client = 0;  // heap bytes per idle connection
  double server = 0;
};

std::size_t empty_endpoint_bytes(bool listen) {
  const std::size_t before = live_heap_bytes();
  std::optional<Endpoint> e = make_endpoint(3, listen, 1);
  const std::size_t after = live_heap_bytes();
  e.reset();
  return after - before;
}

Memory measure_memory(std::size_t n) {
  const std::size_t empty_client = empty_endpoint_bytes(false);
  const std::size_t empty_server = empty_endpoint_bytes(true);
  Loop loop(n);
  establish(loop, n);
  const std::size_t both = live_heap_bytes();
  loop.destroy_client();
  const std::size_t server_only = live_heap_bytes();
  loop.destroy_server();
  const std::size_t neither = live_heap_bytes();
  const auto per = [n](std::size_t total, std::size_t empty) {
    return (static_cast<double>(total) - static_cast<double>(empty)) / static_cast<double>(n);
  };
  return {per(both - server_only, empty_client), per(server_only - neither, empty_server)};
}

struct Cost {
  std::uint64_t rounds = 0;
  std::uint64_t datagrams = 0;
  double cpu = 0;
};

Cost measure_cost(std::size_t n, double seconds) {
  Loop loop(n);
  establish(loop, n);
  Cost cost;
  const std::uint64_t datagrams_before = loop.datagrams();
  const std::uint64_t replies_before = loop.replies();
  const double start = cpu_seconds();
  while (cost.rounds < 100 || cpu_seconds() - start < seconds) {
    loop.advance_to(loop.now() + kRoundGap);
    loop.send(loop.client_conns()[cost.rounds % n], cost.rounds);
    ++cost.rounds;
    if (!loop.run_until([&] { return loop.replies() - replies_before == cost.rounds; }, loop.now() + 10s)) {
      fail("an echo did not arrive");
    }
  }
  cost.cpu = cpu_seconds() - start;
  cost.datagrams = loop.datagrams() - datagrams_before;
  return cost;
}

void print_usage(const char* argv0) {
  std::printf(
      "usage: %s [--connections N[,N...]] [--seconds S]\n"
      "  --connections  connection counts to measure (default 1,100,10000)\n"
      "  --seconds      CPU seconds of request-response rounds per count (default 1)\n",
      argv0);
}

bool parse_option(Options& o, std::string_view arg, rudp::bench::Args& args) {
  if (arg == "--connections") {
    o.connections.clear();
    for (const std::string& item : bench::split(args.value())) {
      const auto v = bench::parse_u64(item);
      if (!v || *v == 0 || *v > 1'000'000) return false;
      o.connections.push_back(*v);
    }
  } else if (arg == "--seconds") {
    auto v = bench::parse_numbers(args.value(), [](double s) { return s > 0 && s <= 3600; });
    if (!v || v->size() != 1) return false;
    o.seconds = v->front();
  } else {
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = rudp::bench::parse_command_line<Options>(argc, argv, print_usage, parse_option);
  std::printf("rudp_bench_scale: one client endpoint, one server endpoint, N connections between them\n");
  std::printf("driver: zero-delay loop; rounds of a %zu-byte message and its echo, one per %lld ms, on each connection in turn\n\n",
              kMessageSize, static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(kRoundGap).count()));
  std::printf("| connections | rounds | datagrams | CPU s | ns per datagram | heap per idle connection, client | server |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const std::uint64_t n : o.connections) {
    const auto count = static_cast<std::size_t>(n);
    const Cost cost = measure_cost(count, o.seconds);
    std::printf("| %zu | %llu | %llu | %.2f | %.0f |", count, static_cast<unsigned long long>(cost.rounds),
                static_cast<unsigned long long>(cost.datagrams), cost.cpu,
                cost.cpu * 1e9 / static_cast<double>(cost.datagrams));
    if (count >= kMinConnectionsForMemory) {
      const Memory memory = measure_memory(count);
      std::printf(" %.0f B | %.0f B |\n", memory.client, memory.server);
    } else {
      std::printf(" - | - |\n");  // within the allocator's noise
    }
    std::fflush(stdout);
  }
  return 0;
}
