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
//
// Files: harness.hpp/.cpp hold what every transport shares (the message
// format and its checks, sockets, threads, measure_bulk and measure_ping);
// each transport family has its own file (rudp_asio.cpp, own_loop.cpp,
// udp.cpp, tcp.cpp, enet.cpp) behind transports.hpp; this one holds the
// options, the run loop over the rows and the table.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rudp/config.hpp>

#include "common/options.hpp"
#include "compare/loopback/harness.hpp"
#include "compare/loopback/transports.hpp"

#if defined(RUDP_HAVE_ENET)
#include <enet/enet.h>
#endif

namespace rudp::bench::loopback {
namespace {

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

// --- the runs ------------------------------------------------------------------

std::optional<BulkSample> run_bulk(Transport t, const Options& o) {
  switch (t) {
    case Transport::rudp_asio: return run_bulk_rudp_asio(o);
    case Transport::rudp_own_loop: return run_bulk_own_loop(o);
    case Transport::udp: return run_bulk_udp(o);
    case Transport::udp_gso: return run_bulk_udp_gso(o);
    case Transport::tcp: return run_bulk_tcp(o);
    case Transport::enet:
#if defined(RUDP_HAVE_ENET)
      return run_bulk_enet(o);
#else
      return std::nullopt;
#endif
    case Transport::udp_asio:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<PingSample> run_ping(Transport t, const Options& o, std::size_t server_cpu) {
  switch (t) {
    case Transport::rudp_asio: return run_ping_rudp_asio(o, server_cpu);
    case Transport::rudp_own_loop: return run_ping_own_loop(o, server_cpu);
    case Transport::udp: return run_ping_udp(o, server_cpu);
    case Transport::tcp: return run_ping_tcp(o, server_cpu);
    case Transport::enet:
#if defined(RUDP_HAVE_ENET)
      return run_ping_enet(o, server_cpu);
#else
      return std::nullopt;
#endif
    case Transport::udp_asio: return run_ping_udp_asio(o, server_cpu);
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
        if (!runs.empty()) runs += ", ";
        runs += cell("%.2f", s.gbit_per_s);
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
}  // namespace rudp::bench::loopback

int main(int argc, char** argv) {
  using namespace rudp::bench::loopback;
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
