// SPDX-License-Identifier: MIT
// The loopback comparison's TCP rows: kernel TCP with TCP_NODELAY, one send()
// per message.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "compare/loopback/harness.hpp"
#include "compare/loopback/transports.hpp"

namespace rudp::bench::loopback {
namespace {

// Writes all of `bytes` to a blocking stream socket.
bool write_all(int fd, std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    const ::ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return true;
}

// Reads exactly bytes.size() bytes from a blocking stream socket with a receive timeout.
bool read_all(int fd, std::span<std::byte> bytes, Clock::time_point deadline) {
  while (!bytes.empty()) {
    const ::ssize_t n = ::recv(fd, bytes.data(), bytes.size(), 0);
    if (n > 0) {
      bytes = bytes.subspan(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN) && Clock::now() < deadline) continue;
    return false;
  }
  return true;
}

// TCP: one send() of each 1200-byte message into the stream (the kernel may
// coalesce them); the receiver reads what is there and cuts it into messages.
void tcp_bulk_sender(BulkShared& shared, int fd) {
  std::vector<std::byte> message(kBulkSize);
  std::uint64_t next = 0;
  while (!shared.stop.load(std::memory_order_relaxed)) {
    fill(message, next);
    if (!write_all(fd, message)) {
      shared.tx_error = std::strerror(errno);
      return;
    }
    shared.sent.store(++next, std::memory_order_relaxed);
  }
  fill_end(message, next);
  if (!write_all(fd, message)) shared.tx_error = std::strerror(errno);
  ::shutdown(fd, SHUT_WR);
}

void tcp_bulk_receiver(BulkShared& shared, int listener) {
  const Fd fd(::accept(listener, nullptr, nullptr));
  if (fd.fd < 0) {
    shared.rx_error = "accept";
    return;
  }
  set_receive_timeout(fd.fd, 1s);
  std::vector<std::byte> buffer(1u << 16);
  std::size_t have = 0;
  StreamCheck check;
  const auto guard = Clock::now() + kGuard + 60s;
  while (Clock::now() < guard) {
    const ::ssize_t n = ::recv(fd.fd, buffer.data() + have, buffer.size() - have, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      shared.rx_error = std::strerror(errno);
      return;
    }
    have += static_cast<std::size_t>(n);
    std::size_t at = 0;
    for (; have - at >= kBulkSize; at += kBulkSize) {
      if (check.finished) continue;
      if (!check.on_message(std::span(buffer).subspan(at, kBulkSize)) && !check.error.empty()) {
        shared.rx_error = check.error;
        return;
      }
    }
    std::memmove(buffer.data(), buffer.data() + at, have - at);
    have -= at;
    shared.delivered.store(check.next, std::memory_order_relaxed);
  }
  shared.rx_finished = check.finished && check.error.empty();
  if (!check.finished) shared.rx_error = "the stream ended before the end marker";
}

void tcp_ping_client(PingShared& shared, int fd, std::size_t total) {
  PingCheck check;
  std::array<std::byte, kPingSize> pong{};
  const auto guard = Clock::now() + kGuard;
  while (shared.rtt_us.size() < total) {
    check.prepare(shared.rtt_us.size());
    if (!write_all(fd, check.ping) || !read_all(fd, pong, guard)) {
      shared.client_error = "the stream broke";
      return;
    }
    const double rtt = micros_since(check.sent_at);
    if (!check.matches(pong)) {
      shared.client_error = "a pong differs from its ping";
      return;
    }
    shared.rtt_us.push_back(rtt);
  }
  ::shutdown(fd, SHUT_WR);
}

void tcp_ping_server(PingShared& shared, int listener) {
  const Fd fd(::accept(listener, nullptr, nullptr));
  const int on = 1;
  ::setsockopt(fd.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  set_receive_timeout(fd.fd, 1s);
  std::array<std::byte, kPingSize> buffer{};
  const auto guard = Clock::now() + kGuard;
  while (Clock::now() < guard) {
    if (!read_all(fd.fd, buffer, guard)) return;  // the client shut its side down
    if (!write_all(fd.fd, buffer)) {
      shared.server_error = "the stream broke";
      return;
    }
  }
}

}  // namespace

std::optional<BulkSample> run_bulk_tcp(const Options& o) {
  const Fd listener(open_bound(SOCK_STREAM));
  ::listen(listener.fd, 1);
  const Fd tx(::socket(AF_INET, SOCK_STREAM, 0));
  const int on = 1;
  ::setsockopt(tx.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  const std::uint16_t port = bound_port(listener.fd);
  return measure_bulk(
      o, true,
      [&](BulkShared& s) {
        if (!connect_to(tx.fd, port)) {
          s.tx_error = "connect";
          return;
        }
        tcp_bulk_sender(s, tx.fd);
      },
      [&](BulkShared& s) {
        tcp_bulk_receiver(s, listener.fd);
      });
}

std::optional<PingSample> run_ping_tcp(const Options& o, std::size_t server_cpu) {
  const std::size_t total = o.warmup + o.roundtrips;
  const Fd listener(open_bound(SOCK_STREAM));
  ::listen(listener.fd, 1);
  const Fd client(::socket(AF_INET, SOCK_STREAM, 0));
  const int on = 1;
  ::setsockopt(client.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  set_receive_timeout(client.fd, 1s);
  const std::uint16_t port = bound_port(listener.fd);
  return measure_ping(
      o, server_cpu,
      [&](PingShared& s) {
        if (!connect_to(client.fd, port)) {
          s.client_error = "connect";
          return;
        }
        tcp_ping_client(s, client.fd, total);
      },
      [&](PingShared& s) { tcp_ping_server(s, listener.fd); });
}

}  // namespace rudp::bench::loopback
