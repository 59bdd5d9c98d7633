// SPDX-License-Identifier: MIT
// The loopback comparison's shared helpers and its two measurements: a bulk
// transfer's goodput and CPU per message, and ping-pong round trips.
#include "compare/loopback/harness.hpp"

#include <pthread.h>
#include <sched.h>

#include <asio/steady_timer.hpp>

#include "common/thread_clock.hpp"

namespace rudp::bench::loopback {

rudp::ConnectionConfig rudp_config(const Options& o, rudp::Profile profile) {
  rudp::ConnectionConfig c = rudp::make_config(profile);
  c.max_datagram_size = o.rudp_mtu;
  return c;
}

void run_guarded(::asio::io_context& io, Clock::duration limit) {
  ::asio::steady_timer guard(io, limit);
  guard.async_wait([&io](std::error_code ec) {
    if (!ec) io.stop();
  });
  io.run();
}

int cpu_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return CPU_COUNT(&set);
}

void pin(std::size_t cpu) {
  static const int cpus = cpu_count();
  if (cpu >= static_cast<std::size_t>(cpus)) cpu = 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
}

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

std::uint16_t bound_port(int fd) {
  ::sockaddr_in a{};
  ::socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<::sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

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

}  // namespace rudp::bench::loopback
