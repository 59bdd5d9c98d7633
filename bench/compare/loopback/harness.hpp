// SPDX-License-Identifier: MIT
// What every transport of the loopback comparison shares (see main.cpp's
// header for what is measured and how): the options, the message format and
// its checks, socket and thread helpers, and measure_bulk/measure_ping, which
// run one transport's two sides on their threads and turn what they shared
// into a sample.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <rudp/config.hpp>
#include <rudp/endpoint.hpp>

namespace rudp::bench::loopback {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Udp = ::asio::ip::udp;

constexpr std::size_t kBulkSize = 1200;
constexpr std::size_t kPingSize = 64;
constexpr std::uint64_t kEndMarker = ~std::uint64_t{0};
constexpr std::size_t kSocketBuffer = 4u << 20;
constexpr auto kWarmup = 200ms;
// A guard against a hung transport, not a measurement.
constexpr auto kGuard = 20s;

// --- options -------------------------------------------------------------------

enum class Transport { rudp_asio, rudp_own_loop, udp, udp_gso, udp_asio, tcp, enet };

struct Options {
  double seconds = 2.0;
  std::size_t runs = 3;
  std::size_t roundtrips = 10000;
  std::size_t warmup = 1000;
  std::size_t rudp_mtu = 1472;
  rudp::Profile bulk_profile = rudp::Profile::tcp_friendly;
  rudp::Profile ping_profile = rudp::Profile::fast;
  std::vector<Transport> transports{Transport::rudp_asio, Transport::rudp_own_loop, Transport::udp, Transport::udp_gso,
                                    Transport::udp_asio,  Transport::tcp,           Transport::enet};
  bool bulk = true;
  bool ping_pong = true;
  std::string csv;
};

// rudp's connection config for `profile` with max_datagram_size --rudp-mtu.
rudp::ConnectionConfig rudp_config(const Options& o, rudp::Profile profile);

// --- messages ------------------------------------------------------------------
// Called for every message, so defined here, where each transport's loop can
// inline them.

// The bytes after a message's index: a window into a fixed pseudo-random
// pattern that the index selects, so a message from the wrong place or with a
// flipped byte fails the check.
inline const std::vector<std::byte>& pattern() {
  static const std::vector<std::byte> bytes = [] {
    std::vector<std::byte> b(kBulkSize + 1024);
    std::uint64_t x = 0x9e3779b97f4a7c15u;
    for (auto& byte : b) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      byte = static_cast<std::byte>(x);
    }
    return b;
  }();
  return bytes;
}

inline void fill(std::span<std::byte> message, std::uint64_t index) {
  std::memcpy(message.data(), &index, sizeof index);
  std::memcpy(message.data() + 8, pattern().data() + index % 1024, message.size() - 8);
}

inline void fill_end(std::span<std::byte> message, std::uint64_t total) {
  std::fill(message.begin(), message.end(), std::byte{0});
  std::memcpy(message.data(), &kEndMarker, sizeof kEndMarker);
  std::memcpy(message.data() + 8, &total, sizeof total);
}

inline std::uint64_t index_of(std::span<const std::byte> message) {
  std::uint64_t index = 0;
  if (message.size() >= 8) std::memcpy(&index, message.data(), sizeof index);
  return index;
}

inline bool intact(std::span<const std::byte> message, std::size_t size) {
  return message.size() == size &&
         std::memcmp(message.data() + 8, pattern().data() + index_of(message) % 1024, size - 8) == 0;
}

// What the receiving side of a reliable bulk transfer checks: every message
// intact, in order, and the total the sender announced at the end.
struct StreamCheck {
  std::uint64_t next = 0;
  bool finished = false;
  std::string error;

  // Returns false once the end marker or a bad message was seen.
  bool on_message(std::span<const std::byte> message) {
    if (message.size() != kBulkSize) {
      error = "a message of " + std::to_string(message.size()) + " bytes";
      return false;
    }
    const std::uint64_t index = index_of(message);
    if (index == kEndMarker) {
      std::uint64_t total = 0;
      std::memcpy(&total, message.data() + 8, sizeof total);
      if (total != next) error = "sender sent " + std::to_string(total) + ", " + std::to_string(next) + " arrived";
      finished = true;
      return false;
    }
    if (index != next) {
      error = "message " + std::to_string(index) + " arrived where " + std::to_string(next) + " was due";
      return false;
    }
    if (!intact(message, kBulkSize)) {
      error = "message " + std::to_string(index) + " corrupted";
      return false;
    }
    ++next;
    return true;
  }
};

// --- threads, statistics and sockets -------------------------------------------

// Runs `io` until a handler stops it or `limit` has passed. io_context::run_for
// would read the clock and work out a new wait around every handler.
void run_guarded(::asio::io_context& io, Clock::duration limit);

int cpu_count();
// Pins the calling thread to `cpu` (or to CPU 0 on a one-CPU machine).
void pin(std::size_t cpu);

double median(std::vector<double> v);
double percentile(std::vector<double> v, double p);

inline ::sockaddr_in loopback_v4(std::uint16_t port) {
  ::sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

std::uint16_t bound_port(int fd);
// A socket of `type` bound to 127.0.0.1 with a port the system picks.
int open_bound(int type);
void set_buffers(int fd, std::size_t bytes);
void set_receive_timeout(int fd, std::chrono::microseconds t);
bool connect_to(int fd, std::uint16_t port);

struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

inline const Udp::endpoint kLoopback{::asio::ip::address_v4::loopback(), 0};

inline rudp::Address rudp_loopback(std::uint16_t port) { return rudp::Address::v4({127, 0, 0, 1}, port); }

// --- bulk ----------------------------------------------------------------------

// What the two threads of a bulk transfer share with the main thread.
struct BulkShared {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> sent{0};       // messages the sender handed over
  std::atomic<std::uint64_t> delivered{0};  // messages the receiver took, checked
  // Written by one thread each, read after both joined.
  std::string tx_error;
  std::string rx_error;
  bool reliable = true;
  bool rx_finished = false;    // the end marker arrived and matched
  std::uint64_t lost = 0;      // raw UDP: indexes that never arrived
};

struct BulkSample {
  double gbit_per_s = 0;
  double delivered_fraction = 1;  // raw UDP: delivered / sent in the window
  double tx_ns = 0;
  double rx_ns = 0;
  std::string error;
};

using BulkSide = std::function<void(BulkShared&)>;

BulkSample measure_bulk(const Options& o, bool reliable, const BulkSide& sender, const BulkSide& receiver);

// --- ping-pong -----------------------------------------------------------------

struct PingSample {
  std::vector<double> rtt_us;  // after the warm-up
  double datagrams_per_rtt = NAN;
  std::string error;
};

// The client's side of one round trip: a ping with `index`, and the check that
// the pong echoes it byte for byte.
struct PingCheck {
  std::array<std::byte, kPingSize> ping{};
  Clock::time_point sent_at;
  void prepare(std::uint64_t index) {
    fill(ping, index);
    sent_at = Clock::now();
  }
  bool matches(std::span<const std::byte> pong) const {
    return pong.size() == ping.size() && std::memcmp(pong.data(), ping.data(), ping.size()) == 0;
  }
};

struct PingShared {
  std::atomic<std::uint16_t> port{0};
  std::string client_error;
  std::string server_error;
  std::vector<double> rtt_us;
  std::uint64_t client_datagrams = 0;
  std::uint64_t server_datagrams = 0;
  bool counted = false;
};

PingSample measure_ping(const Options& o, std::size_t server_cpu, const std::function<void(PingShared&)>& client,
                        const std::function<void(PingShared&)>& server);

inline double micros_since(Clock::time_point t) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t).count();
}

}  // namespace rudp::bench::loopback
