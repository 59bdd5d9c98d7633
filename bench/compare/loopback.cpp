// SPDX-License-Identifier: MIT
// Loopback comparison (issue 6 §4): rudp against raw UDP, kernel TCP and ENet
// over 127.0.0.1, every transport measured in the same run, runs of the
// transports interleaved so that the machine's noise hits them alike, and the
// median over --runs repetitions printed as one Markdown table (and --csv).
//
// Transports:
//   rudp asio        rudp::asio::Endpoint used as a user would: a chain of
//                    async_send on one side, of async_receive on the other,
//                    each side's io_context on its own thread (sendmmsg/GSO,
//                    recvmmsg/GRO inside the runtime).
//   rudp own loop    the sans-IO core driven directly by a plain socket, as
//                    examples/own_loop.cpp does: for bulk, non-blocking
//                    recvfrom/sendto and ppoll until the next datagram or
//                    timeout; for ping-pong, a blocking recvfrom that wakes
//                    at least every millisecond for the timers, which run
//                    after sending (one system call per datagram, as the UDP
//                    loop), and the client's socket connected to the server,
//                    as UDP's is.
//   UDP              plain sendto/recvfrom: the ceiling, unreliable.
//   UDP GSO/GRO      sendmmsg+GSO / recvmmsg+GRO through rudp's BatchIo,
//                    64 datagrams per send call; bulk only.
//   UDP asio         plain UDP through asio's reactor: each side waits with
//                    async_receive and answers with a plain send; the floor
//                    of any transport run by an asio event loop. Ping-pong
//                    only.
//   TCP              kernel TCP with TCP_NODELAY, one send() per message.
//   ENet             libenet (when built with it): one reliable channel.
//
// Workloads:
//   bulk       1200-byte messages from a sender thread pinned to CPU 0 to a
//              receiver thread pinned to CPU 1, as fast as the sender can,
//              for --seconds after a warm-up of 0.2 s (or --seconds if less). Goodput counts payload
//              bytes delivered to the receiving application in that window.
//              Every message carries its index and a pattern derived from
//              it; the receiver checks each byte and the order, and a final
//              message carries the total sent, which must match what arrived
//              (reliable transports; raw UDP counts what was lost instead).
//              CPU columns are each thread's CPU time in the window per
//              message delivered.
//   ping-pong  a 64-byte reliable message and its 64-byte echo, one round
//              trip at a time; RTT median and p99 over --roundtrips after
//              --warmup, with both threads on CPU 0 ("same core") and on
//              CPUs 0 and 1 ("two cores"). "datagrams/RTT" counts what both
//              sides sent per round trip where the transport tells (rudp's
//              and ENet's counters; UDP is 2 by construction).
//
// Configurations: rudp bulk uses make_config(--bulk-profile, tcp_friendly by
// default) with max_datagram_size --rudp-mtu (1472, the payload of a
// 1500-byte Ethernet MTU) so that a 1200-byte message is one datagram, as it
// is for UDP and for ENet (MTU 1400); ping-pong uses --ping-profile (fast).
// UDP sockets ask for 4 MiB buffers, as rudp::asio does, and ENet's sockets
// are enlarged the same way; ENet's bandwidth limits are 0 (unlimited, which
// also gives it its largest window, 64 KiB), and its sender keeps at most
// 4 MiB of messages unacknowledged, rudp's default send buffer. TCP keeps the
// kernel's buffer autotuning.
//
// Exits non-zero if a reliable transport loses, corrupts or reorders a
// message, or a transport fails to run.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/ip/udp.hpp>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include <rudp/asio.hpp>
#include <rudp/endpoint.hpp>

#include "common/options.hpp"
#include "rudp/asio/batch_io.hpp"

#if defined(RUDP_HAVE_ENET)
#include <enet/enet.h>
#endif

namespace {

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
// The own loop's blocking receive wakes at least this often to run the core's timers.
constexpr auto kTimerGranularity = 1ms;

// Runs `io` until a handler stops it or `limit` has passed. io_context::run_for
// would read the clock and work out a new wait around every handler.
void run_guarded(::asio::io_context& io, Clock::duration limit) {
  ::asio::steady_timer guard(io, limit);
  guard.async_wait([&io](std::error_code ec) {
    if (!ec) io.stop();
  });
  io.run();
}

// --- options -------------------------------------------------------------------

enum class Transport { rudp_asio, rudp_own_loop, udp, udp_gso, udp_asio, tcp, enet };
enum class Workload { bulk, ping_pong };

constexpr std::array<rudp::bench::Named<Transport>, 7> kTransportNames{{
    {Transport::rudp_asio, "rudp_asio"},
    {Transport::rudp_own_loop, "rudp_own_loop"},
    {Transport::udp, "udp"},
    {Transport::udp_gso, "udp_gso"},
    {Transport::udp_asio, "udp_asio"},
    {Transport::tcp, "tcp"},
    {Transport::enet, "enet"},
}};

const char* label(Transport t) {
  switch (t) {
    case Transport::rudp_asio: return "rudp (asio runtime)";
    case Transport::rudp_own_loop: return "rudp (own loop, core + plain socket)";
    case Transport::udp: return "raw UDP sendto/recvfrom (unreliable)";
    case Transport::udp_gso: return "raw UDP sendmmsg+GSO/recvmmsg+GRO (unreliable)";
    case Transport::udp_asio: return "raw UDP through asio's reactor (unreliable)";
    case Transport::tcp: return "TCP (TCP_NODELAY)";
    case Transport::enet: return "ENet 1.3 (reliable channel)";
  }
  return "?";
}

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

// --- shared helpers ------------------------------------------------------------

int cpu_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return CPU_COUNT(&set);
}

// Pins the calling thread to `cpu` (or to CPU 0 on a one-CPU machine).
void pin(std::size_t cpu) {
  static const int cpus = cpu_count();
  if (cpu >= static_cast<std::size_t>(cpus)) cpu = 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
}

double thread_cpu_seconds(std::thread& t) {
  ::clockid_t clock;
  if (::pthread_getcpuclockid(t.native_handle(), &clock) != 0) return 0;
  ::timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The bytes after a message's index: a window into a fixed pseudo-random
// pattern that the index selects, so a message from the wrong place or with a
// flipped byte fails the check.
const std::vector<std::byte>& pattern() {
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

void fill(std::span<std::byte> message, std::uint64_t index) {
  std::memcpy(message.data(), &index, sizeof index);
  std::memcpy(message.data() + 8, pattern().data() + index % 1024, message.size() - 8);
}

void fill_end(std::span<std::byte> message, std::uint64_t total) {
  std::fill(message.begin(), message.end(), std::byte{0});
  std::memcpy(message.data(), &kEndMarker, sizeof kEndMarker);
  std::memcpy(message.data() + 8, &total, sizeof total);
}

std::uint64_t index_of(std::span<const std::byte> message) {
  std::uint64_t index = 0;
  if (message.size() >= 8) std::memcpy(&index, message.data(), sizeof index);
  return index;
}

bool intact(std::span<const std::byte> message, std::size_t size) {
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

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

::sockaddr_in loopback_v4(std::uint16_t port) {
  ::sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

std::uint16_t bound_port(int fd) {
  ::sockaddr_in a{};
  ::socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<::sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// A socket of `type` bound to 127.0.0.1 with a port the system picks.
int open_bound(int type) {
  const int fd = ::socket(AF_INET, type, 0);
  if (fd < 0) return -1;
  const ::sockaddr_in a = loopback_v4(0);
  if (::bind(fd, reinterpret_cast<const ::sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void set_buffers(int fd, std::size_t bytes) {
  const int size = static_cast<int>(bytes);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

void set_receive_timeout(int fd, std::chrono::microseconds t) {
  ::timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count() / 1'000'000);
  tv.tv_usec = static_cast<suseconds_t>(t.count() % 1'000'000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

bool connect_to(int fd, std::uint16_t port) {
  const ::sockaddr_in a = loopback_v4(port);
  return ::connect(fd, reinterpret_cast<const ::sockaddr*>(&a), sizeof a) == 0;
}

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

struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

const Udp::endpoint kLoopback{::asio::ip::address_v4::loopback(), 0};

rudp::Address rudp_loopback(std::uint16_t port) { return rudp::Address::v4({127, 0, 0, 1}, port); }

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

BulkSample measure_bulk(const Options& o, bool reliable, const BulkSide& sender, const BulkSide& receiver) {
  BulkShared shared;
  shared.reliable = reliable;
  std::thread rx([&] {
    pin(1);
    receiver(shared);
  });
  std::thread tx([&] {
    pin(0);
    sender(shared);
  });
  BulkSample sample;
  const auto start_limit = Clock::now() + 5s;
  while (shared.delivered.load() == 0 && Clock::now() < start_limit) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(std::min<std::chrono::duration<double>>(kWarmup, std::chrono::duration<double>(o.seconds)));
  const auto t0 = Clock::now();
  const std::uint64_t rx0 = shared.delivered.load();
  const double rx_cpu0 = thread_cpu_seconds(rx);
  const double tx_cpu0 = thread_cpu_seconds(tx);
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  const auto t1 = Clock::now();
  const std::uint64_t rx1 = shared.delivered.load();
  const double rx_cpu1 = thread_cpu_seconds(rx);
  const double tx_cpu1 = thread_cpu_seconds(tx);
  shared.stop = true;
  tx.join();
  rx.join();

  const double elapsed = std::chrono::duration<double>(t1 - t0).count();
  const auto messages = static_cast<double>(rx1 - rx0);
  sample.gbit_per_s = messages * kBulkSize * 8 / elapsed / 1e9;
  // Raw UDP: what arrived of the indexes up to the last one that arrived, over the whole run.
  const std::uint64_t arrived = shared.delivered.load();
  sample.delivered_fraction =
      arrived + shared.lost > 0 ? static_cast<double>(arrived) / static_cast<double>(arrived + shared.lost) : 0;
  sample.tx_ns = messages > 0 ? (tx_cpu1 - tx_cpu0) * 1e9 / messages : 0;
  sample.rx_ns = messages > 0 ? (rx_cpu1 - rx_cpu0) * 1e9 / messages : 0;
  if (!shared.tx_error.empty()) sample.error = "sender: " + shared.tx_error;
  if (!shared.rx_error.empty()) sample.error += (sample.error.empty() ? "receiver: " : "; receiver: ") + shared.rx_error;
  if (sample.error.empty() && rx1 == 0) sample.error = "nothing arrived";
  if (sample.error.empty() && reliable && !shared.rx_finished) sample.error = "the transfer did not finish";
  return sample;
}

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

#if defined(RUDP_HAVE_ENET)
ENetHost* open_enet_host(std::size_t peers) {
  ENetAddress address{};
  enet_address_set_host_ip(&address, "127.0.0.1");
  address.port = 0;
  // Bandwidth 0 in and out: unlimited, and the largest window ENet allows.
  ENetHost* host = enet_host_create(&address, peers, 1, 0, 0);
  if (host != nullptr) {
    enet_socket_set_option(host->socket, ENET_SOCKOPT_RCVBUF, static_cast<int>(kSocketBuffer));
    enet_socket_set_option(host->socket, ENET_SOCKOPT_SNDBUF, static_cast<int>(kSocketBuffer));
  }
  return host;
}

ENetPeer* connect_enet(ENetHost* host, std::uint16_t port) {
  ENetAddress to{};
  enet_address_set_host_ip(&to, "127.0.0.1");
  to.port = port;
  ENetPeer* peer = enet_host_connect(host, &to, 1, 0);
  ENetEvent event;
  const auto limit = Clock::now() + 5s;
  while (peer != nullptr && Clock::now() < limit) {
    if (enet_host_service(host, &event, 10) > 0 && event.type == ENET_EVENT_TYPE_CONNECT) return peer;
  }
  return nullptr;
}

// Messages handed to ENet and not yet acknowledged (ENet frees a reliable
// packet once the peer acknowledged it): the sender keeps these under 4 MiB,
// rudp's send buffer, since ENet's own queue has no limit.
thread_local std::uint64_t g_enet_unacked = 0;
void on_enet_packet_freed(ENetPacket*) { --g_enet_unacked; }

void enet_bulk_sender(BulkShared& shared, std::uint16_t port) {
  ENetHost* host = open_enet_host(1);
  ENetPeer* peer = host != nullptr ? connect_enet(host, port) : nullptr;
  if (peer == nullptr) {
    shared.tx_error = "connect";
    if (host != nullptr) enet_host_destroy(host);
    return;
  }
  constexpr std::uint64_t kMaxUnacked = kSocketBuffer / kBulkSize;
  std::vector<std::byte> message(kBulkSize);
  std::uint64_t next = 0;
  ENetEvent event;
  g_enet_unacked = 0;
  while (!shared.stop.load(std::memory_order_relaxed)) {
    while (g_enet_unacked < kMaxUnacked) {
      fill(message, next);
      ENetPacket* packet = enet_packet_create(message.data(), message.size(), ENET_PACKET_FLAG_RELIABLE);
      packet->freeCallback = on_enet_packet_freed;
      ++g_enet_unacked;
      enet_peer_send(peer, 0, packet);
      shared.sent.store(++next, std::memory_order_relaxed);
      if ((next & 63) == 0) break;  // let service() run between bursts
    }
    enet_host_service(host, &event, g_enet_unacked < kMaxUnacked ? 0 : 1);
  }
  fill_end(message, next);
  enet_peer_send(peer, 0, enet_packet_create(message.data(), message.size(), ENET_PACKET_FLAG_RELIABLE));
  enet_peer_disconnect_later(peer, 0);
  const auto limit = Clock::now() + kGuard;
  bool closed = false;
  while (!closed && Clock::now() < limit) {
    if (enet_host_service(host, &event, 10) > 0 && event.type == ENET_EVENT_TYPE_DISCONNECT) closed = true;
  }
  if (!closed) shared.tx_error = "did not disconnect";
  enet_host_destroy(host);
}

void enet_bulk_receiver(BulkShared& shared, ENetHost* host) {
  StreamCheck check;
  ENetEvent event;
  const auto guard = Clock::now() + kGuard + 60s;
  bool closed = false;
  while (!closed && Clock::now() < guard) {
    if (enet_host_service(host, &event, 10) <= 0) continue;
    if (event.type == ENET_EVENT_TYPE_RECEIVE) {
      const std::span<const std::byte> data(reinterpret_cast<const std::byte*>(event.packet->data),
                                            event.packet->dataLength);
      if (!check.finished && !check.on_message(data) && !check.error.empty()) {
        shared.rx_error = check.error;
        enet_packet_destroy(event.packet);
        return;
      }
      enet_packet_destroy(event.packet);
      shared.delivered.store(check.next, std::memory_order_relaxed);
    } else if (event.type == ENET_EVENT_TYPE_DISCONNECT) {
      closed = true;
    }
  }
  shared.rx_finished = check.finished && check.error.empty();
  if (!check.finished) shared.rx_error = "disconnected before the end marker";
}
#endif

rudp::ConnectionConfig rudp_config(const Options& o, rudp::Profile profile) {
  rudp::ConnectionConfig c = rudp::make_config(profile);
  c.max_datagram_size = o.rudp_mtu;
  return c;
}

std::optional<BulkSample> run_bulk(Transport t, const Options& o) {
  switch (t) {
    case Transport::rudp_asio: {
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
    case Transport::rudp_own_loop: {
      const auto config = rudp_config(o, o.bulk_profile);
      OwnLoop receiver({.seed = 1, .accept_incoming = true, .incoming = config});
      const std::uint16_t port = receiver.port();
      return measure_bulk(
          o, true, [&](BulkShared& s) { own_loop_bulk_sender(s, config, port); },
          [&](BulkShared& s) { own_loop_bulk_receiver(s, receiver); });
    }
    case Transport::udp: {
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
    case Transport::udp_gso: {
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
    case Transport::tcp: {
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
    case Transport::enet: {
#if defined(RUDP_HAVE_ENET)
      ENetHost* receiver = open_enet_host(1);
      if (receiver == nullptr) return std::nullopt;
      const std::uint16_t port = receiver->address.port;
      auto sample = measure_bulk(
          o, true, [&](BulkShared& s) { enet_bulk_sender(s, port); },
          [&](BulkShared& s) { enet_bulk_receiver(s, receiver); });
      enet_host_destroy(receiver);
      return sample;
#else
      return std::nullopt;
#endif
    }
    case Transport::udp_asio:
      return std::nullopt;
  }
  return std::nullopt;
}

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
                        const std::function<void(PingShared&)>& server) {
  PingShared shared;
  std::thread s([&] {
    pin(server_cpu);
    server(shared);
  });
  std::thread c([&] {
    pin(0);
    client(shared);
  });
  c.join();
  s.join();
  PingSample sample;
  if (shared.rtt_us.size() > o.warmup) sample.rtt_us.assign(shared.rtt_us.begin() + static_cast<std::ptrdiff_t>(o.warmup), shared.rtt_us.end());
  if (shared.counted && !shared.rtt_us.empty()) {
    sample.datagrams_per_rtt = static_cast<double>(shared.client_datagrams + shared.server_datagrams) /
                               static_cast<double>(shared.rtt_us.size());
  }
  if (!shared.client_error.empty()) sample.error = "client: " + shared.client_error;
  if (!shared.server_error.empty()) sample.error += (sample.error.empty() ? "server: " : "; server: ") + shared.server_error;
  if (sample.error.empty() && shared.rtt_us.size() != o.warmup + o.roundtrips) sample.error = "round trips missing";
  return sample;
}

double micros_since(Clock::time_point t) { return std::chrono::duration<double, std::micro>(Clock::now() - t).count(); }

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

#if defined(RUDP_HAVE_ENET)
// ENet: the client queues the ping and services the host until the pong
// arrives; the server services until a ping arrives, queues the pong and
// flushes at once.
void enet_ping_client(PingShared& shared, std::size_t total) {
  ENetHost* host = open_enet_host(1);
  ENetPeer* peer = host != nullptr ? connect_enet(host, shared.port.load()) : nullptr;
  if (peer == nullptr) {
    shared.client_error = "connect";
    if (host != nullptr) enet_host_destroy(host);
    return;
  }
  PingCheck check;
  ENetEvent event;
  const auto guard = Clock::now() + kGuard;
  const std::uint32_t packets_at_start = host->totalSentPackets;
  while (shared.rtt_us.size() < total && Clock::now() < guard) {
    check.prepare(shared.rtt_us.size());
    enet_peer_send(peer, 0, enet_packet_create(check.ping.data(), check.ping.size(), ENET_PACKET_FLAG_RELIABLE));
    bool answered = false;
    while (!answered && Clock::now() < guard) {
      if (enet_host_service(host, &event, 10) <= 0 || event.type != ENET_EVENT_TYPE_RECEIVE) continue;
      const double rtt = micros_since(check.sent_at);
      const std::span<const std::byte> data(reinterpret_cast<const std::byte*>(event.packet->data),
                                            event.packet->dataLength);
      const bool ok = check.matches(data);
      enet_packet_destroy(event.packet);
      if (!ok) {
        shared.client_error = "a pong differs from its ping";
        enet_host_destroy(host);
        return;
      }
      shared.rtt_us.push_back(rtt);
      answered = true;
    }
  }
  shared.client_datagrams = host->totalSentPackets - packets_at_start;
  shared.counted = true;
  enet_peer_disconnect(peer, 0);
  while (Clock::now() < guard) {
    if (enet_host_service(host, &event, 10) > 0 && event.type == ENET_EVENT_TYPE_DISCONNECT) break;
  }
  enet_host_destroy(host);
}

void enet_ping_server(PingShared& shared, ENetHost* host) {
  ENetEvent event;
  const auto guard = Clock::now() + kGuard;
  bool first = true;
  std::uint32_t packets_at_start = 0;
  while (Clock::now() < guard) {
    if (enet_host_service(host, &event, 10) <= 0) continue;
    if (event.type == ENET_EVENT_TYPE_RECEIVE) {
      if (first) {
        first = false;
        packets_at_start = host->totalSentPackets;
      }
      enet_peer_send(event.peer, 0,
                     enet_packet_create(event.packet->data, event.packet->dataLength, ENET_PACKET_FLAG_RELIABLE));
      enet_packet_destroy(event.packet);
      enet_host_flush(host);
      shared.server_datagrams = host->totalSentPackets - packets_at_start;
    } else if (event.type == ENET_EVENT_TYPE_DISCONNECT) {
      return;
    }
  }
  shared.server_error = "no disconnect";
}
#endif

std::optional<PingSample> run_ping(Transport t, const Options& o, std::size_t server_cpu) {
  const std::size_t total = o.warmup + o.roundtrips;
  switch (t) {
    case Transport::rudp_asio: {
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
    case Transport::rudp_own_loop: {
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
    case Transport::udp: {
      const Fd server(open_bound(SOCK_DGRAM));
      const Fd client(open_bound(SOCK_DGRAM));
      set_receive_timeout(server.fd, 100ms);
      set_receive_timeout(client.fd, 1s);
      connect_to(client.fd, bound_port(server.fd));
      return measure_ping(
          o, server_cpu, [&](PingShared& s) { udp_ping_client(s, client.fd, total); },
          [&](PingShared& s) { udp_ping_server(s, server.fd); });
    }
    case Transport::tcp: {
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
    case Transport::enet: {
#if defined(RUDP_HAVE_ENET)
      ENetHost* server = open_enet_host(1);
      if (server == nullptr) return std::nullopt;
      const std::uint16_t port = server->address.port;
      auto sample = measure_ping(
          o, server_cpu,
          [&](PingShared& s) {
            s.port = port;
            enet_ping_client(s, total);
          },
          [&](PingShared& s) { enet_ping_server(s, server); });
      enet_host_destroy(server);
      return sample;
#else
      return std::nullopt;
#endif
    }
    case Transport::udp_asio:
      return measure_ping(
          o, server_cpu,
          [&](PingShared& s) {
            while (s.port.load() == 0) std::this_thread::yield();
            UdpAsioPingClient(s, s.port.load(), total).run();
          },
          [&](PingShared& s) { UdpAsioPingServer(s).run(); });
    case Transport::udp_gso:
      return std::nullopt;
  }
  return std::nullopt;
}

// --- the table -----------------------------------------------------------------

// One row of the table: a transport in a workload and placement, with one
// sample per run.
struct Row {
  Transport transport;
  Workload workload;
  std::size_t server_cpu = 1;  // ping-pong: 0 = same core as the client
  std::vector<BulkSample> bulk;
  std::vector<PingSample> ping;
  std::string error;

  const char* placement() const {
    if (workload == Workload::bulk) return "CPU 0 -> CPU 1";
    return server_cpu == 0 ? "same core" : "two cores";
  }
  double goodput() const {
    std::vector<double> v;
    for (const auto& s : bulk) v.push_back(s.gbit_per_s);
    return median(v);
  }
  double rtt_median() const {
    std::vector<double> v;
    for (const auto& s : ping) v.push_back(median(s.rtt_us));
    return median(v);
  }
  double rtt_p99() const {
    std::vector<double> v;
    for (const auto& s : ping) v.push_back(percentile(s.rtt_us, 0.99));
    return median(v);
  }
};

std::string cell(const char* spec, double value) {
  if (std::isnan(value)) return "–";
  char text[64];
  std::snprintf(text, sizeof text, spec, value);
  return text;
}

void print_table(const std::vector<Row>& rows) {
  std::printf(
      "| transport | workload | placement | median RTT (µs) | p99 RTT (µs) | RTT vs UDP | datagrams/RTT | goodput "
      "(Gbit/s) | goodput per run | vs UDP | delivered | sender CPU ns/msg | receiver CPU ns/msg |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  auto reference = [&](Workload w, std::size_t cpu) -> const Row* {
    for (const Row& r : rows) {
      if (r.transport == Transport::udp && r.workload == w && r.server_cpu == cpu && r.error.empty()) return &r;
    }
    return nullptr;
  };
  for (const Row& r : rows) {
    std::printf("| %s | %s | %s | ", label(r.transport), r.workload == Workload::bulk ? "bulk 1200 B" : "ping-pong 64 B",
                r.placement());
    if (!r.error.empty()) {
      std::printf("failed: %s | | | | | | | | | |\n", r.error.c_str());
      continue;
    }
    if (r.workload == Workload::ping_pong) {
      const Row* udp_row = reference(r.workload, r.server_cpu);
      std::vector<double> per_rtt;
      for (const auto& s : r.ping) per_rtt.push_back(s.datagrams_per_rtt);
      std::printf("%s | %s | %s | %s | | | | | | |\n", cell("%.1f", r.rtt_median()).c_str(),
                  cell("%.1f", r.rtt_p99()).c_str(),
                  cell("%.2fx", udp_row ? r.rtt_median() / udp_row->rtt_median() : NAN).c_str(),
                  cell("%.2f", median(per_rtt)).c_str());
    } else {
      const Row* udp_row = reference(r.workload, r.server_cpu);
      std::string runs;
      std::vector<double> delivered, tx, rx;
      for (const auto& s : r.bulk) {
        runs += (runs.empty() ? "" : ", ") + cell("%.2f", s.gbit_per_s);
        delivered.push_back(s.delivered_fraction * 100);
        tx.push_back(s.tx_ns);
        rx.push_back(s.rx_ns);
      }
      const bool reliable = r.transport != Transport::udp && r.transport != Transport::udp_gso &&
                            r.transport != Transport::udp_asio;
      std::printf("| | | | %s | %s | %s | %s | %s | %s |\n", cell("%.2f", r.goodput()).c_str(), runs.c_str(),
                  cell("%.2fx", udp_row ? r.goodput() / udp_row->goodput() : NAN).c_str(),
                  reliable ? "all, checked" : (cell("%.1f%%", median(delivered)) + " (rest lost)").c_str(),
                  cell("%.0f", median(tx)).c_str(), cell("%.0f", median(rx)).c_str());
    }
  }
}

void write_csv(const std::vector<Row>& rows, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    return;
  }
  std::fprintf(f, "transport,workload,placement,run,rtt_median_us,rtt_p99_us,datagrams_per_rtt,goodput_gbit_s,"
                  "delivered_fraction,sender_cpu_ns_per_msg,receiver_cpu_ns_per_msg,error\n");
  for (const Row& r : rows) {
    const char* name = rudp::bench::name_of(kTransportNames, r.transport);
    const char* workload = r.workload == Workload::bulk ? "bulk" : "ping_pong";
    for (std::size_t i = 0; i < r.bulk.size(); ++i) {
      const BulkSample& s = r.bulk[i];
      std::fprintf(f, "%s,%s,%s,%zu,,,,%.4f,%.4f,%.1f,%.1f,%s\n", name, workload, r.placement(), i + 1, s.gbit_per_s,
                   s.delivered_fraction, s.tx_ns, s.rx_ns, s.error.c_str());
    }
    for (std::size_t i = 0; i < r.ping.size(); ++i) {
      const PingSample& s = r.ping[i];
      std::fprintf(f, "%s,%s,%s,%zu,%.2f,%.2f,%.3f,,,,,%s\n", name, workload, r.placement(), i + 1, median(s.rtt_us),
                   percentile(s.rtt_us, 0.99), s.datagrams_per_rtt, s.error.c_str());
    }
  }
  std::fclose(f);
}

void print_usage(const char* argv0) {
  std::printf(
      "usage: %s [--seconds S] [--runs N] [--roundtrips N] [--warmup N] [--transports LIST]\n"
      "          [--workloads bulk,ping-pong] [--bulk-profile P] [--ping-profile P] [--rudp-mtu BYTES] [--csv FILE]\n"
      "  --seconds       bulk: measured time per transport and run, after a 0.2 s warm-up (default 2)\n"
      "  --runs          repetitions, transports interleaved within each; medians are shown (default 3)\n"
      "  --roundtrips    ping-pong: round trips measured per transport, placement and run (default 10000)\n"
      "  --warmup        ping-pong: round trips before those, not measured (default 1000)\n"
      "  --transports    of rudp_asio,rudp_own_loop,udp,udp_gso,udp_asio,tcp,enet (default all)\n"
      "  --workloads     of bulk,ping-pong (default both)\n"
      "  --bulk-profile  rudp's profile for bulk: tcp_friendly (default), fast, realtime\n"
      "  --ping-profile  rudp's profile for ping-pong: fast (default), tcp_friendly, realtime\n"
      "  --rudp-mtu      rudp's max_datagram_size (default 1472: one 1200-byte message per datagram)\n"
      "  --csv           also write one line per row and run to FILE\n",
      argv0);
}

bool parse_option(Options& o, std::string_view arg, rudp::bench::Args& args) {
  if (arg == "--seconds") {
    const auto v = rudp::bench::parse_numbers(args.value(), 0.01, 3600);
    if (!v || v->size() != 1) return false;
    o.seconds = v->front();
  } else if ((arg == "--runs" || arg == "--roundtrips" || arg == "--warmup" || arg == "--rudp-mtu")) {
    const auto v = rudp::bench::parse_u64(args.value());
    if (!v || *v > 10'000'000) return false;
    const auto n = static_cast<std::size_t>(*v);
    if (arg == "--runs") {
      if (n == 0 || n > 100) return false;
      o.runs = n;
    } else if (arg == "--roundtrips") {
      if (n == 0) return false;
      o.roundtrips = n;
    } else if (arg == "--warmup") {
      o.warmup = n;
    } else {
      if (n < 1300 || n > 65527) return false;
      o.rudp_mtu = n;
    }
  } else if (arg == "--transports") {
    const auto v = rudp::bench::parse_names(args.value(), kTransportNames);
    if (!v) return false;
    o.transports = *v;
  } else if (arg == "--workloads") {
    o.bulk = o.ping_pong = false;
    for (const std::string& w : rudp::bench::split(args.value())) {
      if (w == "bulk") {
        o.bulk = true;
      } else if (w == "ping-pong") {
        o.ping_pong = true;
      } else {
        return false;
      }
    }
  } else if ((arg == "--bulk-profile" || arg == "--ping-profile")) {
    const auto v = rudp::bench::parse_names(args.value(), rudp::bench::kProfileNames);
    if (!v || v->size() != 1) return false;
    (arg == "--bulk-profile" ? o.bulk_profile : o.ping_profile) = v->front();
  } else if (arg == "--csv") {
    o.csv = args.value();
  } else {
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = rudp::bench::parse_command_line<Options>(argc, argv, print_usage, parse_option);

  std::vector<Transport> transports;
  for (const Transport t : o.transports) {
#if !defined(RUDP_HAVE_ENET)
    if (t == Transport::enet) {
      std::printf("ENet rows skipped: built without libenet (Debian: libenet-dev)\n");
      continue;
    }
#endif
    if (std::find(transports.begin(), transports.end(), t) == transports.end()) transports.push_back(t);
  }
#if defined(RUDP_HAVE_ENET)
  if (enet_initialize() != 0) {
    std::fprintf(stderr, "enet_initialize failed\n");
    return 1;
  }
#endif

  std::vector<Row> rows;
  if (o.bulk) {
    for (const Transport t : transports) {
      if (t != Transport::udp_asio) rows.push_back({.transport = t, .workload = Workload::bulk});
    }
  }
  if (o.ping_pong) {
    for (const std::size_t cpu : {std::size_t{0}, std::size_t{1}}) {
      for (const Transport t : transports) {
        if (t != Transport::udp_gso) rows.push_back({.transport = t, .workload = Workload::ping_pong, .server_cpu = cpu});
      }
    }
  }

  std::printf(
      "rudp_compare_loopback: 127.0.0.1, %d CPUs; bulk %zu-byte messages for %g s after a warm-up of %g s; ping-pong "
      "%zu-byte messages, %zu round trips after %zu; rudp bulk profile %s, ping-pong profile %s, max_datagram_size "
      "%zu; %zu runs, transports interleaved\n\n",
      cpu_count(), kBulkSize, o.seconds, std::min(0.2, o.seconds), kPingSize, o.roundtrips, o.warmup,
      rudp::bench::name_of(rudp::bench::kProfileNames, o.bulk_profile),
      rudp::bench::name_of(rudp::bench::kProfileNames, o.ping_profile), o.rudp_mtu, o.runs);

  for (std::size_t run = 0; run < o.runs; ++run) {
    for (Row& r : rows) {
      if (!r.error.empty()) continue;
      if (r.workload == Workload::bulk) {
        const auto s = run_bulk(r.transport, o);
        if (!s) {
          r.error = "could not run";
        } else if (!s->error.empty()) {
          r.error = s->error;
        } else {
          r.bulk.push_back(*s);
        }
      } else {
        const auto s = run_ping(r.transport, o, r.server_cpu);
        if (!s) {
          r.error = "could not run";
        } else if (!s->error.empty()) {
          r.error = s->error;
        } else {
          r.ping.push_back(*s);
        }
      }
      if (!r.error.empty()) {
        std::fprintf(stderr, "%s, %s: %s\n", label(r.transport), r.placement(), r.error.c_str());
      }
    }
  }

  print_table(rows);
  if (!o.csv.empty()) write_csv(rows, o.csv);
#if defined(RUDP_HAVE_ENET)
  enet_deinitialize();
#endif
  bool failed = false;
  for (const Row& r : rows) failed = failed || !r.error.empty();
  return failed ? 1 : 0;
}
