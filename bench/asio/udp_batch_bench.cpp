// SPDX-License-Identifier: MIT
// Loopback UDP goodput by way of sending and receiving, for the batched socket
// layer under rudp::asio (rudp/asio/batch_io.hpp). A sender thread floods a
// receiver thread with equal-size datagrams (1200 bytes by default, rudp's
// max_datagram_size) over 127.0.0.1 (or ::1), each thread on its own socket:
//   sendto/recvfrom      one datagram per syscall, the baseline
//   sendmmsg/recvmmsg    BatchIo with GSO and GRO off: one syscall per batch
//   GSO, no GRO          BatchIo sending runs as UDP_SEGMENT messages; the
//                        kernel splits them again before the reader's queue
//   GSO + GRO            and the reader takes them whole and splits them itself
// Goodput is what the receiver read, in a window after a short warm-up; the
// sender is not paced, so the receiver's queue overflows and the loss column
// says how much the sender offered beyond it. CPU columns are each thread's
// CPU time in the window per datagram the receiver read. Modes take turns
// within each run, and the table gives each run and the median, because the
// machine this runs on may be shared. Exits non-zero if a datagram of the
// wrong size arrives.
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "common/options.hpp"
#include "common/thread_clock.hpp"
#include "rudp/asio/batch_io.hpp"

namespace {

using udp = ::asio::ip::udp;
using rudp::asio::BatchIo;
using rudp::asio::BatchOptions;
using rudp::asio::OutgoingDatagram;
using rudp::bench::thread_cpu_seconds;

struct Options {
  double seconds = 2.0;
  std::size_t runs = 3;
  std::size_t size = 1200;
  std::size_t batch = 64;
  bool ipv6 = false;
};

enum class Mode { single, mmsg, gso, gso_gro };

struct ModeInfo {
  Mode mode;
  const char* name;
  BatchOptions sender;
  BatchOptions receiver;
};

constexpr ModeInfo kModes[] = {
    {Mode::single, "sendto / recvfrom", {}, {}},
    {Mode::mmsg, "sendmmsg / recvmmsg", {.gso = false, .gro = false}, {.gso = false, .gro = false}},
    {Mode::gso, "sendmmsg+GSO / recvmmsg", {.gso = true, .gro = false}, {.gso = false, .gro = false}},
    {Mode::gso_gro, "sendmmsg+GSO / recvmmsg+GRO", {.gso = true, .gro = false}, {.gso = false, .gro = true}},
};

struct Sample {
  double gbit_per_s = 0;
  double datagrams_per_s = 0;
  double delivered = 0;     // received / sent in the window
  double rx_ns = 0;         // receiver CPU ns per datagram received
  double tx_ns = 0;         // sender CPU ns per datagram received
  double per_read = 0;      // datagrams per receive call
  bool features_ok = true;  // the BatchIo got the features the mode asks for
};

// Counters a worker publishes for the main thread to sample.
struct Counters {
  std::atomic<std::uint64_t> datagrams{0};
  std::atomic<std::uint64_t> calls{0};
  std::atomic<std::uint64_t> wrong_size{0};
};

void wait_readable(int fd) {
  ::pollfd p{};
  p.fd = fd;
  p.events = POLLIN;
  ::poll(&p, 1, 10);
}

void send_single(udp::socket& socket, const udp::endpoint& to, const std::vector<std::byte>& payload,
                 const std::atomic<bool>& stop, Counters& out) {
  const int fd = socket.native_handle();
  const auto to_size = static_cast<::socklen_t>(to.size());
  std::uint64_t sent = 0;
  std::uint64_t calls = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    for (int i = 0; i < 64; ++i) {
      ++calls;
      if (::sendto(fd, payload.data(), payload.size(), MSG_DONTWAIT, to.data(), to_size) >= 0) ++sent;
    }
    out.datagrams.store(sent, std::memory_order_relaxed);
    out.calls.store(calls, std::memory_order_relaxed);
  }
}

void receive_single(udp::socket& socket, std::size_t size, const std::atomic<bool>& stop, Counters& out) {
  const int fd = socket.native_handle();
  std::vector<std::byte> buffer(65536);
  std::uint64_t got = 0;
  std::uint64_t calls = 0;
  std::uint64_t wrong = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    ::sockaddr_storage from;
    ::socklen_t from_size = sizeof from;
    ++calls;
    const ::ssize_t n =
        ::recvfrom(fd, buffer.data(), buffer.size(), MSG_DONTWAIT, reinterpret_cast<::sockaddr*>(&from), &from_size);
    if (n < 0) {
      wait_readable(fd);
      continue;
    }
    ++got;
    if (static_cast<std::size_t>(n) != size) ++wrong;
    if ((got & 63) == 0) {
      out.datagrams.store(got, std::memory_order_relaxed);
      out.calls.store(calls, std::memory_order_relaxed);
    }
  }
  out.datagrams.store(got, std::memory_order_relaxed);
  out.wrong_size.store(wrong, std::memory_order_relaxed);
}

void send_batched(BatchIo& io, const udp::endpoint& to, const std::vector<std::byte>& payload, std::size_t batch,
                  const std::atomic<bool>& stop, Counters& out) {
  const std::vector<OutgoingDatagram> datagrams(batch, OutgoingDatagram{to, payload});
  std::uint64_t sent = 0;
  std::uint64_t calls = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    ++calls;
    const auto n = io.send(datagrams);
    if (n) sent += *n;
    out.datagrams.store(sent, std::memory_order_relaxed);
    out.calls.store(calls, std::memory_order_relaxed);
  }
}

void receive_batched(BatchIo& io, std::size_t size, const std::atomic<bool>& stop, Counters& out) {
  rudp::asio::RecvBatch batch = io.make_recv_batch(64, 2048);
  const int fd = io.socket().native_handle();
  std::uint64_t got = 0;
  std::uint64_t calls = 0;
  std::uint64_t wrong = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    ++calls;
    const auto n = io.receive(batch);
    if (!n) {
      wait_readable(fd);
      continue;
    }
    for (const auto& d : batch) {
      if (d.bytes.size() != size) ++wrong;
    }
    got += *n;
    out.datagrams.store(got, std::memory_order_relaxed);
    out.calls.store(calls, std::memory_order_relaxed);
  }
  out.wrong_size.store(wrong, std::memory_order_relaxed);
}

udp::socket open_socket(::asio::io_context& io, bool ipv6) {
  udp::socket s(io);
  const udp::endpoint at(ipv6 ? ::asio::ip::address(::asio::ip::address_v6::loopback())
                              : ::asio::ip::address(::asio::ip::address_v4::loopback()),
                         0);
  s.open(at.protocol());
  s.set_option(udp::socket::receive_buffer_size(4 << 20));  // capped by net.core.rmem_max
  s.set_option(udp::socket::send_buffer_size(4 << 20));
  s.bind(at);
  return s;
}

std::optional<Sample> measure(const ModeInfo& mode, const Options& o) {
  ::asio::io_context io;
  udp::socket tx = open_socket(io, o.ipv6);
  udp::socket rx = open_socket(io, o.ipv6);
  const udp::endpoint to = rx.local_endpoint();
  const std::vector<std::byte> payload(o.size, std::byte{0x5a});

  std::optional<BatchIo> tx_io;
  std::optional<BatchIo> rx_io;
  Sample sample;
  if (mode.mode != Mode::single) {
    tx_io.emplace(tx, mode.sender);
    rx_io.emplace(rx, mode.receiver);
    sample.features_ok = tx_io->features().gso == mode.sender.gso && rx_io->features().gro == mode.receiver.gro;
  }

  std::atomic<bool> stop{false};
  Counters sent;
  Counters received;
  std::thread receiver([&] {
    if (rx_io) {
      receive_batched(*rx_io, o.size, stop, received);
    } else {
      receive_single(rx, o.size, stop, received);
    }
  });
  std::thread sender([&] {
    if (tx_io) {
      send_batched(*tx_io, to, payload, o.batch, stop, sent);
    } else {
      send_single(tx, to, payload, stop, sent);
    }
  });

  using Clock = std::chrono::steady_clock;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // warm-up: queues full, caches hot
  const auto t0 = Clock::now();
  const std::uint64_t rx0 = received.datagrams.load();
  const std::uint64_t rx_calls0 = received.calls.load();
  const std::uint64_t tx0 = sent.datagrams.load();
  const double rx_cpu0 = thread_cpu_seconds(receiver);
  const double tx_cpu0 = thread_cpu_seconds(sender);
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  const auto t1 = Clock::now();
  const std::uint64_t rx1 = received.datagrams.load();
  const std::uint64_t rx_calls1 = received.calls.load();
  const std::uint64_t tx1 = sent.datagrams.load();
  const double rx_cpu1 = thread_cpu_seconds(receiver);
  const double tx_cpu1 = thread_cpu_seconds(sender);
  stop = true;
  sender.join();
  receiver.join();
  if (received.wrong_size.load() != 0) {
    std::fprintf(stderr, "%s: %llu datagrams of the wrong size\n", mode.name,
                 static_cast<unsigned long long>(received.wrong_size.load()));
    return std::nullopt;
  }

  const double elapsed = std::chrono::duration<double>(t1 - t0).count();
  const auto datagrams = static_cast<double>(rx1 - rx0);
  sample.datagrams_per_s = datagrams / elapsed;
  sample.gbit_per_s = sample.datagrams_per_s * static_cast<double>(o.size) * 8 / 1e9;
  sample.delivered = tx1 > tx0 ? datagrams / static_cast<double>(tx1 - tx0) : 0;
  sample.rx_ns = datagrams > 0 ? (rx_cpu1 - rx_cpu0) * 1e9 / datagrams : 0;
  sample.tx_ns = datagrams > 0 ? (tx_cpu1 - tx_cpu0) * 1e9 / datagrams : 0;
  sample.per_read = rx_calls1 > rx_calls0 ? datagrams / static_cast<double>(rx_calls1 - rx_calls0) : 0;
  return sample;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0 : n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void print_usage(const char* argv0) {
  std::printf(
      "usage: %s [--seconds S] [--runs N] [--size BYTES] [--batch N] [--ipv6]\n"
      "  --seconds  measured time per mode and run (default 2; a 0.2 s warm-up comes first)\n"
      "  --runs     runs of every mode; the table shows each and the median (default 3)\n"
      "  --size     datagram payload bytes (default 1200)\n"
      "  --batch    datagrams per BatchIo::send call (default 64)\n"
      "  --ipv6     over ::1 instead of 127.0.0.1\n",
      argv0);
}

bool parse_option(Options& o, std::string_view arg, rudp::bench::Args& args) {
  if (arg == "--seconds") {
    const auto v = rudp::bench::parse_numbers(args.value(), 0.01, 3600);
    if (!v || v->size() != 1) return false;
    o.seconds = v->front();
  } else if (arg == "--runs") {
    const auto v = rudp::bench::parse_u64(args.value());
    if (!v || *v == 0 || *v > 100) return false;
    o.runs = static_cast<std::size_t>(*v);
  } else if (arg == "--size") {
    const auto v = rudp::bench::parse_u64(args.value());
    if (!v || *v == 0 || *v > 65507) return false;
    o.size = static_cast<std::size_t>(*v);
  } else if (arg == "--batch") {
    const auto v = rudp::bench::parse_u64(args.value());
    if (!v || *v == 0 || *v > 4096) return false;
    o.batch = static_cast<std::size_t>(*v);
  } else if (arg == "--ipv6") {
    o.ipv6 = true;
  } else {
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = rudp::bench::parse_command_line<Options>(argc, argv, print_usage, parse_option);

  {
    ::asio::io_context io;
    udp::socket probe = open_socket(io, o.ipv6);
    const BatchIo batch(probe);
    const auto f = batch.features();
    udp::socket::receive_buffer_size rcvbuf;
    probe.get_option(rcvbuf);
    std::printf(
        "rudp_bench_udp_batch: %zu-byte datagrams over %s, %zu datagrams per send call, %g s per mode and run "
        "after 0.2 s warm-up, %zu runs\n",
        o.size, o.ipv6 ? "::1" : "127.0.0.1", o.batch, o.seconds, o.runs);
    std::printf("kernel features: sendmmsg/recvmmsg %s, UDP GSO %s, UDP GRO %s; receive buffer %d bytes; %u CPUs\n\n",
                f.mmsg ? "yes" : "no", f.gso ? "yes" : "no", f.gro ? "yes" : "no", rcvbuf.value(),
                std::thread::hardware_concurrency());
  }

  constexpr std::size_t kModeCount = std::size(kModes);
  std::vector<std::vector<Sample>> samples(kModeCount);
  for (std::size_t run = 0; run < o.runs; ++run) {
    for (std::size_t m = 0; m < kModeCount; ++m) {
      const auto s = measure(kModes[m], o);
      if (!s) return 1;
      samples[m].push_back(*s);
    }
  }

  std::printf("| mode | goodput per run (Gbit/s) | median goodput (Gbit/s) | median Mdatagram/s | median delivered "
              "| median datagrams per read | median CPU ns/datagram, sender | median CPU ns/datagram, receiver |\n"
              "|---|---|---|---|---|---|---|---|\n");
  for (std::size_t m = 0; m < kModeCount; ++m) {
    std::vector<double> gbit, rate, delivered, per_read, tx_ns, rx_ns;
    bool features_ok = true;
    for (const Sample& s : samples[m]) {
      gbit.push_back(s.gbit_per_s);
      rate.push_back(s.datagrams_per_s / 1e6);
      delivered.push_back(s.delivered * 100);
      per_read.push_back(s.per_read);
      tx_ns.push_back(s.tx_ns);
      rx_ns.push_back(s.rx_ns);
      features_ok = features_ok && s.features_ok;
    }
    std::printf("| %s%s | ", kModes[m].name, features_ok ? "" : " (feature missing: ran without it)");
    for (std::size_t r = 0; r < gbit.size(); ++r) std::printf("%s%.2f", r == 0 ? "" : ", ", gbit[r]);
    std::printf(" | %.2f | %.3f | %.1f%% | %.1f | %.0f | %.0f |\n", median(gbit), median(rate), median(delivered),
                median(per_read), median(tx_ns), median(rx_ns));
  }
  return 0;
}
