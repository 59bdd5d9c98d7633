// SPDX-License-Identifier: MIT
// The loopback comparison's "rudp own loop" rows: the sans-IO core driven
// directly by a plain socket, as examples/own_loop.cpp does.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <rudp/endpoint.hpp>

#include "compare/loopback/harness.hpp"
#include "compare/loopback/transports.hpp"

namespace rudp::bench::loopback {
namespace {

// The own loop's blocking receive wakes at least this often to run the core's timers.
constexpr auto kTimerGranularity = 1ms;

// rudp's core driven by the user's own loop on a plain UDP socket: reads
// without blocking, sends with blocking sendto, sleeps in ppoll until the
// next datagram or the core's next timeout.
class OwnLoop {
 public:
  explicit OwnLoop(const rudp::EndpointConfig& config)
      : fd_(open_bound(SOCK_DGRAM)), core_(rudp::Endpoint::create(config, now()).value()), buffer_(65536) {
    set_buffers(fd_.fd, kSocketBuffer);
    set_receive_timeout(fd_.fd, kTimerGranularity);
  }

  bool ok() const { return fd_.fd >= 0; }
  std::uint16_t port() const { return bound_port(fd_.fd); }
  rudp::Endpoint& core() { return core_; }
  rudp::Instant now() const { return rudp::Instant{Clock::now() - epoch_}; }

  // Every datagram waiting goes to the core, then the timers that are due.
  void input() {
    ::sockaddr_in from{};
    ::socklen_t len = sizeof from;
    ::ssize_t n = 0;
    while ((n = ::recvfrom(fd_.fd, buffer_.data(), buffer_.size(), MSG_DONTWAIT, reinterpret_cast<::sockaddr*>(&from),
                           &len)) >= 0) {
      core_.handle_datagram(now(), rudp_loopback(ntohs(from.sin_port)),
                            std::span(buffer_).first(static_cast<std::size_t>(n)));
      len = sizeof from;
    }
    const rudp::Instant t = now();
    if (const auto due = core_.next_timeout(); due && *due <= t) core_.handle_timeout(t);
  }

  // A client talking to one server connects its socket, as a KCP client
  // does: the kernel then keeps the route instead of looking it up per send.
  void connect(std::uint16_t port) { connected_ = connect_to(fd_.fd, port); }

  // Everything the core has to send, one send or sendto each.
  void output() {
    while (const auto t = core_.poll_transmit(now(), buffer_)) {
      if (connected_) {
        ::send(fd_.fd, buffer_.data(), t->size, 0);
        continue;
      }
      const ::sockaddr_in to = loopback_v4(t->to.port());
      ::sendto(fd_.fd, buffer_.data(), t->size, 0, reinterpret_cast<const ::sockaddr*>(&to), sizeof to);
    }
  }

  // Blocks until a datagram arrives and hands it to the core: one system call
  // per datagram, as a plain UDP loop makes. The socket's receive timeout ends
  // the wait after kTimerGranularity, so a timer (see timers()) fires that
  // late at most (a game's frame is far longer).
  void input_blocking() {
    ::sockaddr_in from{};
    ::socklen_t len = sizeof from;
    const ::ssize_t n = ::recvfrom(fd_.fd, buffer_.data(), buffer_.size(), 0, reinterpret_cast<::sockaddr*>(&from), &len);
    if (n >= 0) {
      core_.handle_datagram(now(), rudp_loopback(ntohs(from.sin_port)),
                            std::span(buffer_).first(static_cast<std::size_t>(n)));
    }
  }

  // The core's timers that are due. Called after output(): an ACK owed at
  // once has left with the reply by then, and is no timer to run.
  void timers() {
    const rudp::Instant t = now();
    if (const auto due = core_.next_timeout(); due && *due <= t) core_.handle_timeout(t);
  }

  // Sleeps until a datagram arrives or the core's next timeout, `longest` at most.
  void wait(rudp::Duration longest) {
    rudp::Duration sleep = longest;
    if (const auto due = core_.next_timeout()) sleep = std::clamp<rudp::Duration>(*due - now(), {}, longest);
    ::pollfd p{fd_.fd, POLLIN, 0};
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(sleep).count();
    const ::timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    ::ppoll(&p, 1, &ts, nullptr);
  }

 private:
  Fd fd_;
  bool connected_ = false;
  Clock::time_point epoch_ = Clock::now();
  rudp::Endpoint core_;
  std::vector<std::byte> buffer_;
};

void own_loop_bulk_sender(BulkShared& shared, const rudp::ConnectionConfig& config, std::uint16_t server) {
  OwnLoop loop({.seed = 2});
  if (!loop.ok()) {
    shared.tx_error = "socket";
    return;
  }
  rudp::Endpoint& core = loop.core();
  const auto handle = core.connect(loop.now(), rudp_loopback(server), config);
  if (!handle) {
    shared.tx_error = handle.error().message();
    return;
  }
  std::vector<std::byte> message(kBulkSize);
  std::uint64_t next = 0;
  bool connected = false;
  bool ended = false;  // the end marker is queued and close() was called
  const auto guard = Clock::now() + kGuard + 60s;
  while (Clock::now() < guard) {
    loop.input();
    bool closed = false;
    while (const auto e = core.poll_event()) {
      if (std::holds_alternative<rudp::Connected>(*e)) connected = true;
      if (const auto* c = std::get_if<rudp::Closed>(&*e)) {
        if (c->reason != rudp::CloseReason::closed) shared.tx_error = std::string("closed: ") + rudp::to_string(c->reason);
        closed = true;
      }
    }
    if (closed) {
      loop.output();  // the ACK of the peer's FIN, which the core sends at once
      return;
    }
    bool full = !connected || ended;
    while (!full) {
      if (shared.stop.load(std::memory_order_relaxed)) {
        fill_end(message, next);
        if (core.send_message(*handle, message)) {
          full = true;
          break;
        }
        core.close(*handle);
        ended = true;
        break;
      }
      fill(message, next);
      if (const auto ec = core.send_message(*handle, message)) {
        if (ec != rudp::errc::would_block) {
          shared.tx_error = ec.message();
          return;
        }
        full = true;
        break;
      }
      shared.sent.store(++next, std::memory_order_relaxed);
    }
    loop.output();
    if (full) loop.wait(10ms);
  }
  shared.tx_error = "did not close";
}

void own_loop_bulk_receiver(BulkShared& shared, OwnLoop& loop) {
  rudp::Endpoint& core = loop.core();
  std::vector<std::byte> buffer(2048);
  StreamCheck check;
  const auto guard = Clock::now() + kGuard + 60s;
  while (Clock::now() < guard) {
    loop.wait(10ms);
    loop.input();
    while (const auto e = core.poll_event()) {
      if (const auto* r = std::get_if<rudp::Readable>(&*e)) {
        while (true) {
          const auto n = core.receive_message(r->connection, buffer);
          if (!n) break;
          if (check.finished) continue;
          if (check.on_message(std::span(buffer).first(*n))) {
            shared.delivered.store(check.next, std::memory_order_relaxed);
          } else if (!check.error.empty()) {
            shared.rx_error = check.error;
            return;
          } else {
            shared.rx_finished = true;
          }
        }
      } else if (const auto* f = std::get_if<rudp::PeerFinished>(&*e)) {
        core.close(f->connection);
      } else if (const auto* c = std::get_if<rudp::Closed>(&*e)) {
        if (c->reason != rudp::CloseReason::closed) shared.rx_error = std::string("closed: ") + rudp::to_string(c->reason);
        loop.output();
        return;
      }
    }
    loop.output();
  }
  shared.rx_error = "did not close";
}

// rudp's core in the user's own loop: the reply is queued before the loop
// sends, so an acknowledgement can leave with it.
void own_loop_ping_server(PingShared& shared, OwnLoop& loop) {
  rudp::Endpoint& core = loop.core();
  std::array<std::byte, 2048> buffer{};
  std::optional<rudp::ConnectionHandle> connection;
  std::uint64_t packets_at_start = 0;
  const auto guard = Clock::now() + kGuard;
  while (Clock::now() < guard) {
    loop.input_blocking();
    while (const auto e = core.poll_event()) {
      if (const auto* r = std::get_if<rudp::Readable>(&*e)) {
        while (const auto n = core.receive_message(r->connection, buffer)) {
          if (!connection) {
            connection = r->connection;
            packets_at_start = core.stats(r->connection)->packets_sent;
          }
          core.send_message(r->connection, std::span(buffer).first(*n));
        }
      } else if (const auto* f = std::get_if<rudp::PeerFinished>(&*e)) {
        // The client has its last pong: what the server sent for them is counted.
        if (const auto stats = core.stats(f->connection)) shared.server_datagrams = stats->packets_sent - packets_at_start;
        core.close(f->connection);
      } else if (std::holds_alternative<rudp::Closed>(*e)) {
        loop.output();
        return;
      }
    }
    loop.output();
    loop.timers();
  }
  shared.server_error = "did not close";
}

void own_loop_ping_client(PingShared& shared, const rudp::ConnectionConfig& config, std::size_t total) {
  OwnLoop loop({.seed = 2});
  loop.connect(shared.port.load());
  rudp::Endpoint& core = loop.core();
  const auto handle = core.connect(loop.now(), rudp_loopback(shared.port.load()), config);
  if (!handle) {
    shared.client_error = handle.error().message();
    return;
  }
  const auto guard = Clock::now() + kGuard;
  bool connected = false;
  while (!connected && Clock::now() < guard) {
    loop.output();
    loop.wait(10ms);
    loop.input();
    while (const auto e = core.poll_event()) connected = connected || std::holds_alternative<rudp::Connected>(*e);
  }
  PingCheck check;
  std::array<std::byte, 2048> pong{};
  const std::uint64_t packets_at_start = core.stats(*handle)->packets_sent;
  while (shared.rtt_us.size() < total && Clock::now() < guard) {
    check.prepare(shared.rtt_us.size());
    core.send_message(*handle, check.ping);
    loop.output();
    bool answered = false;
    while (!answered && Clock::now() < guard) {
      loop.timers();
      loop.input_blocking();
      while (const auto e = core.poll_event()) {
        if (std::holds_alternative<rudp::Readable>(*e)) {
          if (const auto n = core.receive_message(*handle, pong)) {
            const double rtt = micros_since(check.sent_at);
            if (!check.matches(std::span(pong).first(*n))) {
              shared.client_error = "a pong differs from its ping";
              return;
            }
            shared.rtt_us.push_back(rtt);
            answered = true;
          }
        }
      }
      if (!answered) loop.output();
    }
  }
  shared.client_datagrams = core.stats(*handle)->packets_sent - packets_at_start;
  core.close(*handle);
  while (Clock::now() < guard) {
    loop.output();
    loop.wait(10ms);
    loop.input();
    bool closed = false;
    while (const auto e = core.poll_event()) closed = closed || std::holds_alternative<rudp::Closed>(*e);
    if (closed) break;
  }
  loop.output();  // the ACK of the server's FIN, which the core sends at once
}

}  // namespace

std::optional<BulkSample> run_bulk_own_loop(const Options& o) {
  const auto config = rudp_config(o, o.bulk_profile);
  OwnLoop receiver({.seed = 1, .accept_incoming = true, .incoming = config});
  const std::uint16_t port = receiver.port();
  return measure_bulk(
      o, true, [&](BulkShared& s) { own_loop_bulk_sender(s, config, port); },
      [&](BulkShared& s) { own_loop_bulk_receiver(s, receiver); });
}

std::optional<PingSample> run_ping_own_loop(const Options& o, std::size_t server_cpu) {
  const std::size_t total = o.warmup + o.roundtrips;
  const auto config = rudp_config(o, o.ping_profile);
  OwnLoop server({.seed = 1, .accept_incoming = true, .incoming = config});
  return measure_ping(
      o, server_cpu,
      [&](PingShared& s) {
        s.port = server.port();
        own_loop_ping_client(s, config, total);
        s.counted = true;
      },
      [&](PingShared& s) { own_loop_ping_server(s, server); });
}

}  // namespace rudp::bench::loopback
