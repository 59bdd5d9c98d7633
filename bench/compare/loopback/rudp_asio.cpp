// SPDX-License-Identifier: MIT
// The loopback comparison's "rudp asio" rows: rudp::asio::Endpoint used as a
// user would, each side's io_context on its own thread.
#include <array>
#include <asio/ip/address_v4.hpp>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <rudp/asio.hpp>

#include "compare/loopback/harness.hpp"
#include "compare/loopback/transports.hpp"

namespace rudp::bench::loopback {
namespace {

// rudp through the asio runtime, written as a user would: a chain of
// async_send (each starts when the previous one completed) and a chain of
// async_receive; the sender then sends the end marker and closes, the
// receiver reads to end_of_stream and closes.
class AsioBulkSender {
 public:
  AsioBulkSender(BulkShared& shared, const rudp::ConnectionConfig& config, std::uint16_t server)
      : shared_(shared), config_(config), server_(::asio::ip::address_v4::loopback(), server) {}

  void run() {
    rudp::EndpointConfig ec;
    ec.seed = 2;
    auto opened = rudp::asio::Endpoint::open(io_.get_executor(), kLoopback, ec);
    if (!opened) {
      shared_.tx_error = opened.error().message();
      return;
    }
    endpoint_ = std::move(*opened);
    endpoint_->async_connect(server_, config_, [this](std::error_code ec2, rudp::ConnectionHandle h) {
      if (ec2) return fail("connect: " + ec2.message());
      connection_ = h;
      send_next();
    });
    run_guarded(io_, kGuard + 60s);
    if (!closed_ && shared_.tx_error.empty()) shared_.tx_error = "did not close";
    endpoint_.reset();
  }

 private:
  void fail(std::string what) {
    shared_.tx_error = std::move(what);
    io_.stop();
  }

  void send_next() {
    if (shared_.stop.load(std::memory_order_relaxed)) {
      fill_end(message_, next_);
      endpoint_->async_send(connection_, message_, {}, [this](std::error_code ec, std::size_t) {
        if (ec) return fail("send: " + ec.message());
        endpoint_->async_close(connection_, [this](std::error_code ec2, rudp::CloseReason reason) {
          if (ec2 || reason != rudp::CloseReason::closed) return fail("close: " + std::string(rudp::to_string(reason)));
          closed_ = true;
          io_.stop();
        });
      });
      return;
    }
    fill(message_, next_);
    endpoint_->async_send(connection_, message_, {}, [this](std::error_code ec, std::size_t) {
      if (ec) return fail("send: " + ec.message());
      shared_.sent.store(++next_, std::memory_order_relaxed);
      send_next();
    });
  }

  BulkShared& shared_;
  rudp::ConnectionConfig config_;
  Udp::endpoint server_;
  ::asio::io_context io_{1};
  std::unique_ptr<rudp::asio::Endpoint> endpoint_;
  rudp::ConnectionHandle connection_;
  std::vector<std::byte> message_ = std::vector<std::byte>(kBulkSize);
  std::uint64_t next_ = 0;
  bool closed_ = false;
};

class AsioBulkReceiver {
 public:
  AsioBulkReceiver(BulkShared& shared, const rudp::ConnectionConfig& config) : shared_(shared) {
    rudp::EndpointConfig ec;
    ec.seed = 1;
    ec.accept_incoming = true;
    ec.incoming = config;
    auto opened = rudp::asio::Endpoint::open(io_.get_executor(), kLoopback, ec);
    if (opened) endpoint_ = std::move(*opened);
  }

  std::uint16_t port() const { return endpoint_ ? endpoint_->local_endpoint().port() : 0; }

  void run() {
    if (!endpoint_) {
      shared_.rx_error = "could not open";
      return;
    }
    endpoint_->async_accept([this](std::error_code ec, rudp::ConnectionHandle h) {
      if (ec) return fail("accept: " + ec.message());
      connection_ = h;
      receive_next();
    });
    run_guarded(io_, kGuard + 60s);
    if (!closed_ && shared_.rx_error.empty()) shared_.rx_error = "did not close";
    endpoint_.reset();
  }

 private:
  void fail(std::string what) {
    shared_.rx_error = std::move(what);
    io_.stop();
  }

  void receive_next() {
    endpoint_->async_receive(connection_, buffer_, nullptr, [this](std::error_code ec, std::size_t n) {
      if (ec == rudp::errc::end_of_stream) {
        if (!check_.finished) return fail("end of stream before the end marker");
        endpoint_->async_close(connection_, [this](std::error_code ec2, rudp::CloseReason reason) {
          if (ec2 || reason != rudp::CloseReason::closed) return fail("close: " + std::string(rudp::to_string(reason)));
          closed_ = true;
          io_.stop();
        });
        return;
      }
      if (ec) return fail("receive: " + ec.message());
      if (!check_.finished) {
        if (check_.on_message(std::span(buffer_).first(n))) {
          shared_.delivered.store(check_.next, std::memory_order_relaxed);
        } else if (!check_.error.empty()) {
          return fail(check_.error);
        } else {
          shared_.rx_finished = true;
        }
      }
      receive_next();
    });
  }

  BulkShared& shared_;
  ::asio::io_context io_{1};
  std::unique_ptr<rudp::asio::Endpoint> endpoint_;
  rudp::ConnectionHandle connection_;
  std::vector<std::byte> buffer_ = std::vector<std::byte>(2048);
  StreamCheck check_;
  bool closed_ = false;
};

// rudp through the asio runtime: the client sends a ping and waits for the
// pong with async_receive; the server's chain is async_receive, then
// async_send of the same bytes.
class AsioPingClient {
 public:
  AsioPingClient(PingShared& shared, const rudp::ConnectionConfig& config, std::size_t total)
      : shared_(shared), config_(config), total_(total) {}

  void run() {
    rudp::EndpointConfig ec;
    ec.seed = 2;
    auto opened = rudp::asio::Endpoint::open(io_.get_executor(), kLoopback, ec);
    if (!opened) {
      shared_.client_error = opened.error().message();
      return;
    }
    endpoint_ = std::move(*opened);
    const Udp::endpoint server(::asio::ip::address_v4::loopback(), shared_.port.load());
    endpoint_->async_connect(server, config_, [this](std::error_code ec2, rudp::ConnectionHandle h) {
      if (ec2) return fail("connect: " + ec2.message());
      connection_ = h;
      ping();
    });
    run_guarded(io_, kGuard);
    endpoint_.reset();
  }

 private:
  void fail(std::string what) {
    shared_.client_error = std::move(what);
    io_.stop();
  }

  void ping() {
    if (shared_.rtt_us.size() == total_) {
      if (const auto stats = endpoint_->core().stats(connection_)) {
        shared_.client_datagrams = stats->packets_sent - packets_at_warmup_;
      }
      endpoint_->async_close(connection_, [this](std::error_code, rudp::CloseReason) { io_.stop(); });
      return;
    }
    check_.prepare(shared_.rtt_us.size());
    endpoint_->async_receive(connection_, pong_, nullptr, [this](std::error_code ec, std::size_t n) {
      if (ec) return fail("receive: " + ec.message());
      const double rtt = micros_since(check_.sent_at);
      if (!check_.matches(std::span(pong_).first(n))) return fail("a pong differs from its ping");
      shared_.rtt_us.push_back(rtt);
      ping();
    });
    endpoint_->async_send(connection_, check_.ping, {}, [this](std::error_code ec, std::size_t) {
      if (ec) fail("send: " + ec.message());
    });
    if (shared_.rtt_us.size() == 0) {
      if (const auto stats = endpoint_->core().stats(connection_)) packets_at_warmup_ = stats->packets_sent;
    }
  }

  PingShared& shared_;
  rudp::ConnectionConfig config_;
  std::size_t total_;
  ::asio::io_context io_{1};
  std::unique_ptr<rudp::asio::Endpoint> endpoint_;
  rudp::ConnectionHandle connection_;
  PingCheck check_;
  std::array<std::byte, 2048> pong_{};
  std::uint64_t packets_at_warmup_ = 0;
};

class AsioPingServer {
 public:
  AsioPingServer(PingShared& shared, const rudp::ConnectionConfig& config) : shared_(shared) {
    rudp::EndpointConfig ec;
    ec.seed = 1;
    ec.accept_incoming = true;
    ec.incoming = config;
    auto opened = rudp::asio::Endpoint::open(io_.get_executor(), kLoopback, ec);
    if (opened) endpoint_ = std::move(*opened);
  }

  void run() {
    if (!endpoint_) {
      shared_.server_error = "could not open";
      return;
    }
    endpoint_->async_accept([this](std::error_code ec, rudp::ConnectionHandle h) {
      if (ec) return fail("accept: " + ec.message());
      connection_ = h;
      receive();
    });
    shared_.port = endpoint_->local_endpoint().port();
    run_guarded(io_, kGuard);
    endpoint_.reset();
  }

 private:
  void fail(std::string what) {
    shared_.server_error = std::move(what);
    io_.stop();
  }

  void receive() {
    endpoint_->async_receive(connection_, ping_, nullptr, [this](std::error_code ec, std::size_t n) {
      if (ec == rudp::errc::end_of_stream) {
        // The client has its last pong: what the server sent for them is counted.
        if (const auto stats = endpoint_->core().stats(connection_)) {
          shared_.server_datagrams = stats->packets_sent - packets_at_start_;
        }
        endpoint_->async_close(connection_, [this](std::error_code, rudp::CloseReason) { io_.stop(); });
        return;
      }
      if (ec) return fail("receive: " + ec.message());
      if (first_) {
        // Counted from the first ping on, as the client counts.
        first_ = false;
        if (const auto stats = endpoint_->core().stats(connection_)) packets_at_start_ = stats->packets_sent;
      }
      endpoint_->async_send(connection_, std::span(ping_).first(n), {}, [this](std::error_code ec2, std::size_t) {
        if (ec2) fail("send: " + ec2.message());
      });
      receive();
    });
  }

  PingShared& shared_;
  ::asio::io_context io_{1};
  std::unique_ptr<rudp::asio::Endpoint> endpoint_;
  rudp::ConnectionHandle connection_;
  std::array<std::byte, 2048> ping_{};
  bool first_ = true;
  std::uint64_t packets_at_start_ = 0;
};

}  // namespace

std::optional<BulkSample> run_bulk_rudp_asio(const Options& o) {
  const auto config = rudp_config(o, o.bulk_profile);
  std::atomic<std::uint16_t> port{0};
  return measure_bulk(
      o, true,
      [&](BulkShared& s) {
        while (port == 0 && !s.stop) std::this_thread::yield();
        AsioBulkSender(s, config, port).run();
      },
      [&](BulkShared& s) {
        AsioBulkReceiver r(s, config);
        port = r.port();
        r.run();
      });
}

std::optional<PingSample> run_ping_rudp_asio(const Options& o, std::size_t server_cpu) {
  const std::size_t total = o.warmup + o.roundtrips;
  const auto config = rudp_config(o, o.ping_profile);
  return measure_ping(
      o, server_cpu,
      [&](PingShared& s) {
        while (s.port.load() == 0) std::this_thread::yield();
        AsioPingClient(s, config, total).run();
        s.counted = true;
      },
      [&](PingShared& s) { AsioPingServer(s, config).run(); });
}

}  // namespace rudp::bench::loopback
