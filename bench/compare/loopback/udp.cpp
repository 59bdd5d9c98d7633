// SPDX-License-Identifier: MIT
// The loopback comparison's raw UDP rows, all unreliable: plain
// sendto/recvfrom (the ceiling), sendmmsg+GSO/recvmmsg+GRO through rudp's
// BatchIo (bulk only), and plain UDP through asio's reactor (ping-pong only).
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <asio/buffer.hpp>
#include <asio/ip/address_v4.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "compare/loopback/harness.hpp"
#include "compare/loopback/transports.hpp"
#include "rudp/asio/batch_io.hpp"

namespace rudp::bench::loopback {
namespace {

// Raw UDP: the sender sends as fast as sendto lets it; the receiver counts
// what arrived and the gaps in the indexes.
void udp_bulk_receiver(BulkShared& shared, int fd) {
  std::vector<std::byte> buffer(65536);
  std::uint64_t next = 0;
  std::uint64_t delivered = 0;
  while (!shared.stop.load(std::memory_order_relaxed)) {
    const ::ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n < 0) continue;  // the receive timeout: look at stop again
    const auto message = std::span(buffer).first(static_cast<std::size_t>(n));
    if (!intact(message, kBulkSize)) {
      shared.rx_error = "a datagram corrupted";
      return;
    }
    const std::uint64_t index = index_of(message);
    if (index >= next) {
      shared.lost += index - next;
      next = index + 1;
    }
    shared.delivered.store(++delivered, std::memory_order_relaxed);
  }
}

void udp_bulk_sender(BulkShared& shared, int fd) {
  std::vector<std::byte> message(kBulkSize);
  std::uint64_t next = 0;
  while (!shared.stop.load(std::memory_order_relaxed)) {
    for (int i = 0; i < 64; ++i) {
      fill(message, next);
      if (::send(fd, message.data(), message.size(), 0) >= 0) ++next;
    }
    shared.sent.store(next, std::memory_order_relaxed);
  }
}

void udp_gso_bulk_sender(BulkShared& shared, Udp::socket& socket, const Udp::endpoint& to) {
  rudp::asio::BatchIo io(socket);
  constexpr std::size_t kBatch = 64;
  std::vector<std::byte> slab(kBatch * kBulkSize);
  std::vector<rudp::asio::OutgoingDatagram> datagrams(kBatch);
  std::uint64_t next = 0;
  while (!shared.stop.load(std::memory_order_relaxed)) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      const auto bytes = std::span(slab).subspan(i * kBulkSize, kBulkSize);
      fill(bytes, next + i);
      datagrams[i] = {to, bytes};
    }
    std::size_t done = 0;
    while (done < kBatch && !shared.stop.load(std::memory_order_relaxed)) {
      const auto n = io.send(std::span(datagrams).subspan(done));
      if (n) done += *n;
    }
    next += done;
    shared.sent.store(next, std::memory_order_relaxed);
  }
}

void udp_gso_bulk_receiver(BulkShared& shared, Udp::socket& socket) {
  rudp::asio::BatchIo io(socket);
  rudp::asio::RecvBatch batch = io.make_recv_batch(64, 2048);
  std::uint64_t next = 0;
  std::uint64_t delivered = 0;
  while (!shared.stop.load(std::memory_order_relaxed)) {
    if (!io.receive(batch)) {
      ::pollfd p{socket.native_handle(), POLLIN, 0};
      ::poll(&p, 1, 10);
      continue;
    }
    for (const auto& d : batch) {
      if (!intact(d.bytes, kBulkSize)) {
        shared.rx_error = "a datagram corrupted";
        return;
      }
      const std::uint64_t index = index_of(d.bytes);
      if (index >= next) {
        shared.lost += index - next;
        next = index + 1;
      }
      ++delivered;
    }
    shared.delivered.store(delivered, std::memory_order_relaxed);
  }
}

void udp_ping_client(PingShared& shared, int fd, std::size_t total) {
  PingCheck check;
  std::array<std::byte, 2048> pong{};
  while (shared.rtt_us.size() < total) {
    check.prepare(shared.rtt_us.size());
    ::send(fd, check.ping.data(), check.ping.size(), 0);
    const ::ssize_t n = ::recv(fd, pong.data(), pong.size(), 0);
    if (n < 0) {
      shared.client_error = "a datagram was lost";  // the 1 s receive timeout
      break;
    }
    const double rtt = micros_since(check.sent_at);
    if (!check.matches(std::span(pong).first(static_cast<std::size_t>(n)))) {
      shared.client_error = "a pong differs from its ping";
      break;
    }
    shared.rtt_us.push_back(rtt);
  }
  std::array<std::byte, 1> end{};
  ::send(fd, end.data(), end.size(), 0);
  shared.counted = true;
  shared.client_datagrams = shared.server_datagrams = shared.rtt_us.size();
}

void udp_ping_server(PingShared& shared, int fd) {
  std::array<std::byte, 2048> buffer{};
  const auto guard = Clock::now() + kGuard;
  while (Clock::now() < guard) {
    ::sockaddr_in from{};
    ::socklen_t len = sizeof from;
    const ::ssize_t n = ::recvfrom(fd, buffer.data(), buffer.size(), 0, reinterpret_cast<::sockaddr*>(&from), &len);
    if (n < 0) continue;
    if (n == 1) return;
    ::sendto(fd, buffer.data(), static_cast<std::size_t>(n), 0, reinterpret_cast<const ::sockaddr*>(&from), len);
  }
  shared.server_error = "no end";
}

// Plain UDP through asio's reactor: the client sends with a plain send and
// waits for the pong with async_receive; the server waits with
// async_receive_from and answers with send_to. A 1-byte datagram ends it, as
// for UDP.
class UdpAsioPingClient {
 public:
  UdpAsioPingClient(PingShared& shared, std::uint16_t server, std::size_t total)
      : shared_(shared), socket_(io_, kLoopback), total_(total) {
    socket_.connect(Udp::endpoint(::asio::ip::address_v4::loopback(), server));
  }

  void run() {
    ping();
    run_guarded(io_, kGuard);
    const std::array<std::byte, 1> end{};
    std::error_code ignored;
    socket_.send(::asio::buffer(end), 0, ignored);
    shared_.counted = true;
    shared_.client_datagrams = shared_.server_datagrams = shared_.rtt_us.size();
  }

 private:
  void ping() {
    if (shared_.rtt_us.size() == total_) return io_.stop();
    check_.prepare(shared_.rtt_us.size());
    std::error_code ec;
    socket_.send(::asio::buffer(check_.ping), 0, ec);
    if (ec) return fail("send: " + ec.message());
    socket_.async_receive(::asio::buffer(pong_), [this](std::error_code ec2, std::size_t n) {
      if (ec2) return fail("receive: " + ec2.message());
      const double rtt = micros_since(check_.sent_at);
      if (!check_.matches(std::span(pong_).first(n))) return fail("a pong differs from its ping");
      shared_.rtt_us.push_back(rtt);
      ping();
    });
  }

  void fail(std::string what) {
    shared_.client_error = std::move(what);
    io_.stop();
  }

  PingShared& shared_;
  ::asio::io_context io_{1};
  Udp::socket socket_;
  std::size_t total_;
  PingCheck check_;
  std::array<std::byte, 2048> pong_{};
};

class UdpAsioPingServer {
 public:
  explicit UdpAsioPingServer(PingShared& shared) : shared_(shared), socket_(io_, kLoopback) {}

  void run() {
    receive();
    shared_.port = socket_.local_endpoint().port();
    run_guarded(io_, kGuard);
  }

 private:
  void receive() {
    socket_.async_receive_from(::asio::buffer(buffer_), from_, [this](std::error_code ec, std::size_t n) {
      if (ec) return fail("receive: " + ec.message());
      if (n == 1) return io_.stop();
      std::error_code ignored;  // a reply lost is the client's error to report
      socket_.send_to(::asio::buffer(buffer_.data(), n), from_, 0, ignored);
      receive();
    });
  }

  void fail(std::string what) {
    shared_.server_error = std::move(what);
    io_.stop();
  }

  PingShared& shared_;
  ::asio::io_context io_{1};
  Udp::socket socket_;
  Udp::endpoint from_;
  std::array<std::byte, 2048> buffer_{};
};

}  // namespace

std::optional<BulkSample> run_bulk_udp(const Options& o) {
  const Fd rx(open_bound(SOCK_DGRAM));
  const Fd tx(open_bound(SOCK_DGRAM));
  set_buffers(rx.fd, kSocketBuffer);
  set_buffers(tx.fd, kSocketBuffer);
  set_receive_timeout(rx.fd, 10ms);
  connect_to(tx.fd, bound_port(rx.fd));
  return measure_bulk(
      o, false, [&](BulkShared& s) { udp_bulk_sender(s, tx.fd); },
      [&](BulkShared& s) { udp_bulk_receiver(s, rx.fd); });
}

std::optional<BulkSample> run_bulk_udp_gso(const Options& o) {
  ::asio::io_context io;
  Udp::socket rx(io, kLoopback);
  Udp::socket tx(io, kLoopback);
  for (Udp::socket* s : {&rx, &tx}) {
    s->set_option(Udp::socket::receive_buffer_size(static_cast<int>(kSocketBuffer)));
    s->set_option(Udp::socket::send_buffer_size(static_cast<int>(kSocketBuffer)));
  }
  const Udp::endpoint to = rx.local_endpoint();
  return measure_bulk(
      o, false, [&](BulkShared& s) { udp_gso_bulk_sender(s, tx, to); },
      [&](BulkShared& s) { udp_gso_bulk_receiver(s, rx); });
}

std::optional<PingSample> run_ping_udp(const Options& o, std::size_t server_cpu) {
  const std::size_t total = o.warmup + o.roundtrips;
  const Fd server(open_bound(SOCK_DGRAM));
  const Fd client(open_bound(SOCK_DGRAM));
  set_receive_timeout(server.fd, 100ms);
  set_receive_timeout(client.fd, 1s);
  connect_to(client.fd, bound_port(server.fd));
  return measure_ping(
      o, server_cpu, [&](PingShared& s) { udp_ping_client(s, client.fd, total); },
      [&](PingShared& s) { udp_ping_server(s, server.fd); });
}

std::optional<PingSample> run_ping_udp_asio(const Options& o, std::size_t server_cpu) {
  const std::size_t total = o.warmup + o.roundtrips;
  return measure_ping(
      o, server_cpu,
      [&](PingShared& s) {
        while (s.port.load() == 0) std::this_thread::yield();
        UdpAsioPingClient(s, s.port.load(), total).run();
      },
      [&](PingShared& s) { UdpAsioPingServer(s).run(); });
}

}  // namespace rudp::bench::loopback
