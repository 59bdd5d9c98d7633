// SPDX-License-Identifier: MIT
// Profile comparison benchmark (issue 4 §4): each connection profile
// (make_config of tcp_friendly, fast, realtime, otherwise untouched) runs two
// workloads on every simulated link of a matrix of round-trip times and loss
// rates, over the same fixed seeds, and the medians across seeds are printed
// as a Markdown table and written to a CSV file. The link is a 20 Mbit/s
// bottleneck each way with a drop-tail queue of one bandwidth-delay product,
// a one-way delay of half the RTT plus 0-1 ms of jitter, and Bernoulli loss
// each way. Bulk: a reliable byte stream, client to server, whose goodput is
// measured over a fixed virtual window after a warm-up; the sender keeps
// 4 BDP + 256 KiB outstanding, more than any useful window, so the stream is
// never application-limited, and after the window it closes and drains, so
// every byte is checked against the deterministic stream it came from.
// Messages: 200-byte reliable messages at 60 Hz, each tagged with its seq
// and send instant, whose latency from send_message to receive_message is
// taken in virtual time. Overhead is the datagram bytes both connections sent
// over the application payload bytes delivered. The program exits non-zero if
// a stream is not delivered byte-exact, a message arrives corrupted, out of
// order or not at all, or a connection closes.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <rudp/endpoint.hpp>
#include <rudp/sim.hpp>

#include "common/options.hpp"
#include "common/sim_run.hpp"

namespace {

using namespace rudp;
using namespace std::chrono_literals;
using bench::make_endpoint;
using bench::quantile;
using bench::splitmix64;

const Address kClient = Address::v4({10, 0, 0, 1}, 4000);
const Address kServer = Address::v4({10, 0, 0, 2}, 5000);

constexpr std::uint64_t kLinkRate = 20'000'000;  // bits per second, each way
constexpr Duration kJitter = 1ms;
constexpr std::size_t kMessageSize = 200;
constexpr Duration kMessagePeriod{1'000'000'000 / 60};
// Bytes handed to send() or read by receive() at once.
constexpr std::size_t kBlockSize = std::size_t{64} << 10;
// Limits past which a run is stuck rather than slow.
constexpr Duration kHandshakeLimit = 30s;
constexpr Duration kDrainLimit = 120s;

// How long each workload runs and over how many seeds (1..seeds).
struct Plan {
  std::uint64_t seeds;
  Duration warmup;
  Duration measure;
  Duration messages;
};
constexpr Plan kFullPlan{5, 5s, 20s, 20s};
constexpr Plan kQuickPlan{3, 2s, 4s, 4s};

const char* name_of(Profile p) { return bench::name_of(bench::kProfileNames, p); }

struct Cell {
  Profile profile;
  double rtt_ms;
  double loss_percent;
};

double ms(Duration d) noexcept { return std::chrono::duration<double, std::milli>(d).count(); }
double seconds(Duration d) noexcept { return std::chrono::duration<double>(d).count(); }

std::uint64_t bdp_bytes(double rtt_ms) noexcept {
  return static_cast<std::uint64_t>(static_cast<double>(kLinkRate) / 8 * rtt_ms / 1000);
}

sim::LinkConfig path_config(const Cell& cell) {
  sim::LinkConfig link;
  link.delay = std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(cell.rtt_ms / 2));
  link.jitter = kJitter;
  link.loss = cell.loss_percent / 100;
  link.rate_bits_per_second = kLinkRate;
  link.queue_bytes = static_cast<std::size_t>(bdp_bytes(cell.rtt_ms));
  return link;
}

// Bytes [offset, offset + out.size()) of the stream named `key`, whose k-th
// 8-byte word is splitmix64(key + k) in host order: any piece of it can be
// made alone, so the receiver checks what arrives without keeping what was sent.
void fill_stream(std::uint64_t key, std::uint64_t offset, std::span<std::byte> out) noexcept {
  std::size_t i = 0;
  while (i < out.size() && (offset + i) % 8 != 0) {
    const std::uint64_t pos = offset + i;
    out[i++] = static_cast<std::byte>(splitmix64(key + pos / 8) >> (8 * (pos % 8)));
  }
  for (; i + 8 <= out.size(); i += 8) {
    const std::uint64_t word = splitmix64(key + (offset + i) / 8);
    std::memcpy(out.data() + i, &word, 8);
  }
  for (; i < out.size(); ++i) {
    const std::uint64_t pos = offset + i;
    out[i] = static_cast<std::byte>(splitmix64(key + pos / 8) >> (8 * (pos % 8)));
  }
}

// A client and a listening server with `cell`'s profile on `cell`'s path, and
// a driver that calls `pump` after every instant at which anything happened.
class Session {
 public:
  Session(const Cell& cell, std::uint64_t seed)
      : net_(seed),
        client_(net_.add(kClient, make_endpoint(seed * 2 + 1, false, make_config(cell.profile)))),
        server_(net_.add(kServer, make_endpoint(seed * 2 + 2, true, make_config(cell.profile)))) {
    net_.set_path(kClient, kServer, path_config(cell));
    const auto c = client_.connect(net_.now(), kServer, make_config(cell.profile));
    if (!c) {
      std::fprintf(stderr, "connect: %s\n", c.error().message().c_str());
      std::exit(2);
    }
    client_conn_ = *c;
  }

  Instant now() const noexcept { return net_.now(); }
  Endpoint& client() noexcept { return client_; }
  Endpoint& server() noexcept { return server_; }
  ConnectionHandle client_conn() const noexcept { return client_conn_; }
  const std::optional<ConnectionHandle>& server_conn() const noexcept { return server_conn_; }
  bool writable() const noexcept { return writable_; }
  void set_blocked() noexcept { writable_ = false; }
  const std::string& failure() const noexcept { return failure_; }
  void fail(std::string why) {
    if (failure_.empty()) failure_ = std::move(why);
  }
  void set_pump(std::function<void()> pump) { pump_ = std::move(pump); }

  // Steps the network, taking events and pumping after every instant at
  // which something happened, until `done()` holds (returns true), a failure
  // (false) or the clock reaches `end` (stops exactly there, returns done()).
  // Network::step() alone would jump past `end` to the next event, so this
  // looks at the next event itself: a message due at `end` leaves at `end`,
  // and one that arrives is read the instant it arrives.
  bool drive(Instant end, const std::function<bool()>& done) {
    while (true) {
      if (!poll()) return false;
      if (done()) return true;
      net_.run_for(Duration::zero());  // sends what the pump queued
      const auto next = next_event();
      if (!next || *next > end) {
        if (net_.now() < end) net_.run_for(end - net_.now());
        return poll() && done();
      }
      net_.step();
    }
  }

  // Runs the clock to `end`, or until a failure.
  void run_to(Instant end) {
    drive(end, [] { return false; });
  }

  bool handshake() {
    return drive(now() + kHandshakeLimit, [&] { return client_up_ && server_conn_.has_value(); });
  }

  // Datagram bytes both connections have sent so far.
  std::uint64_t wire_bytes() const {
    std::uint64_t sum = 0;
    if (const auto s = client_.stats(client_conn_)) sum += s->bytes_sent;
    if (server_conn_) {
      if (const auto s = server_.stats(*server_conn_)) sum += s->bytes_sent;
    }
    return sum;
  }

  ConnectionStats client_stats() const { return client_.stats(client_conn_).value_or(ConnectionStats{}); }

 private:
  // Takes both sides' events, then pumps; false once anything failed.
  bool poll() {
    while (const auto e = client_.poll_event()) {
      if (std::holds_alternative<Connected>(*e)) client_up_ = true;
      if (std::holds_alternative<Writable>(*e)) writable_ = true;
      if (const auto* c = std::get_if<Closed>(&*e)) fail(std::string("client closed: ") + to_string(c->reason));
    }
    while (const auto e = server_.poll_event()) {
      if (const auto* c = std::get_if<Connected>(&*e)) server_conn_ = c->connection;
      if (const auto* c = std::get_if<Closed>(&*e)) fail(std::string("server closed: ") + to_string(c->reason));
    }
    if (failure_.empty() && pump_) pump_();
    return failure_.empty();
  }

  // What Network::step() would advance to: the earliest timeout or delivery.
  std::optional<Instant> next_event() const {
    std::optional<Instant> t;
    for (const auto c : {client_.next_timeout(), server_.next_timeout(), net_.link(kClient, kServer)->next_delivery(),
                         net_.link(kServer, kClient)->next_delivery()}) {
      if (c && (!t || *c < *t)) t = c;
    }
    return t;
  }

  sim::Network net_;
  Endpoint& client_;
  Endpoint& server_;
  ConnectionHandle client_conn_;
  std::optional<ConnectionHandle> server_conn_;
  bool client_up_ = false;
  bool writable_ = true;
  std::function<void()> pump_;
  std::string failure_;
};

struct BulkRun {
  double goodput_bps = 0;
  double overhead = 0;
  ConnectionStats client;  // at the end of the measured window
  std::string failure;
};

BulkRun run_bulk(const Cell& cell, std::uint64_t seed, const Plan& plan) {
  BulkRun run;
  Session s(cell, seed);
  if (!s.handshake()) {
    run.failure = s.failure().empty() ? "handshake did not complete" : s.failure();
    return run;
  }
  const std::uint64_t key = splitmix64(seed);
  const std::uint64_t outstanding = 4 * bdp_bytes(cell.rtt_ms) + (std::uint64_t{256} << 10);
  std::uint64_t offered = 0;
  std::uint64_t received = 0;
  bool sending = true;
  bool finished = false;
  std::vector<std::byte> out(kBlockSize);
  std::vector<std::byte> in(kBlockSize);
  std::vector<std::byte> expected(kBlockSize);
  s.set_pump([&] {
    while (sending && s.writable() && offered - received < outstanding) {
      const auto chunk = std::span(out).first(static_cast<std::size_t>(
          std::min<std::uint64_t>(kBlockSize, outstanding - (offered - received))));
      fill_stream(key, offered, chunk);
      const auto n = s.client().send(s.client_conn(), chunk);
      if (!n) {
        if (n.error() == errc::would_block) {
          s.set_blocked();
        } else {
          s.fail("send: " + n.error().message());
        }
        break;
      }
      offered += *n;
      if (*n < chunk.size()) s.set_blocked();
    }
    while (s.server_conn()) {
      const auto n = s.server().receive(*s.server_conn(), in);
      if (!n) {
        if (n.error() == errc::end_of_stream) {
          finished = true;
        } else if (n.error() != errc::would_block) {
          s.fail("receive: " + n.error().message());
        }
        break;
      }
      const auto want = std::span(expected).first(*n);
      fill_stream(key, received, want);
      if (std::memcmp(in.data(), want.data(), *n) != 0) {
        s.fail("stream differs from the one sent, within bytes [" + std::to_string(received) + ", " +
               std::to_string(received + *n) + ")");
        break;
      }
      received += *n;
    }
  });
  const Instant start = s.now();
  s.run_to(start + plan.warmup);
  const std::uint64_t received_before = received;
  const std::uint64_t wire_before = s.wire_bytes();
  s.run_to(start + plan.warmup + plan.measure);
  const std::uint64_t delivered = received - received_before;
  run.goodput_bps = static_cast<double>(delivered) * 8 / seconds(plan.measure);
  run.overhead = delivered > 0 ? static_cast<double>(s.wire_bytes() - wire_before) / static_cast<double>(delivered) : 0;
  run.client = s.client_stats();
  if (s.failure().empty()) {
    sending = false;
    if (const auto ec = s.client().close(s.client_conn())) s.fail("close: " + ec.message());
    if (!s.drive(s.now() + kDrainLimit, [&] { return finished; }) && s.failure().empty()) {
      s.fail("stream not finished " + std::to_string(seconds(kDrainLimit)) + " s after close");
    }
    if (finished && received != offered) {
      s.fail("received " + std::to_string(received) + " of " + std::to_string(offered) + " bytes sent");
    }
  }
  run.failure = s.failure();
  return run;
}

struct MessageRun {
  std::vector<double> latency_ms;  // of each message, in send order
  double overhead = 0;
  ConnectionStats client;  // once the last message arrived
  std::string failure;
};

void store_u64(std::span<std::byte> out, std::uint64_t v) noexcept {
  for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<std::byte>(v >> (8 * i));
}

std::uint64_t load_u64(std::span<const std::byte> in) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v |= std::to_integer<std::uint64_t>(in[i]) << (8 * i);
  return v;
}

using Message = std::array<std::byte, kMessageSize>;

// Message `seq`, sent at `at`: seq and `at` (nanoseconds) little-endian, then
// filler derived from both, so a corrupted tag shows as a corrupted message.
Message make_message(std::uint64_t key, std::uint64_t seq, std::uint64_t at) noexcept {
  Message m{};
  store_u64(std::span(m).first(8), seq);
  store_u64(std::span(m).subspan(8, 8), at);
  fill_stream(splitmix64(key ^ splitmix64(seq ^ splitmix64(at))), 0, std::span(m).subspan(16));
  return m;
}

MessageRun run_messages(const Cell& cell, std::uint64_t seed, const Plan& plan) {
  MessageRun run;
  Session s(cell, seed);
  if (!s.handshake()) {
    run.failure = s.failure().empty() ? "handshake did not complete" : s.failure();
    return run;
  }
  const std::uint64_t key = splitmix64(seed + 1);
  const std::uint64_t count = static_cast<std::uint64_t>(plan.messages / kMessagePeriod);
  std::deque<Message> backlog;  // produced, not yet taken by send_message (would_block)
  std::vector<std::byte> in(kMessageSize + 64);
  s.set_pump([&] {
    while (!backlog.empty()) {
      const auto ec = s.client().send_message(s.client_conn(), backlog.front());
      if (ec == errc::would_block) break;
      if (ec) {
        s.fail("send_message: " + ec.message());
        return;
      }
      backlog.pop_front();
    }
    while (s.server_conn()) {
      const auto n = s.server().receive_message(*s.server_conn(), in);
      if (!n) {
        if (n.error() != errc::would_block) s.fail("receive_message: " + n.error().message());
        break;
      }
      const std::uint64_t seq = run.latency_ms.size();
      const auto got = std::span<const std::byte>(in).first(*n);
      const std::uint64_t at = *n == kMessageSize ? load_u64(got.subspan(8, 8)) : 0;
      const Message want = make_message(key, seq, at);
      if (*n != kMessageSize || load_u64(got.first(8)) != seq || std::memcmp(got.data(), want.data(), *n) != 0 ||
          at > static_cast<std::uint64_t>(s.now().time_since_epoch().count())) {
        s.fail("message " + std::to_string(seq) + " arrived corrupted or out of order (" + std::to_string(*n) +
               " bytes)");
        break;
      }
      run.latency_ms.push_back(ms(s.now() - Instant{Duration{static_cast<Duration::rep>(at)}}));
    }
  });
  Instant next_send = s.now();
  for (std::uint64_t seq = 0; seq < count && s.failure().empty(); ++seq) {
    s.run_to(next_send);
    backlog.push_back(make_message(key, seq, static_cast<std::uint64_t>(s.now().time_since_epoch().count())));
    next_send += kMessagePeriod;
  }
  if (s.failure().empty() && !s.drive(s.now() + kDrainLimit, [&] { return run.latency_ms.size() == count; }) &&
      s.failure().empty()) {
    s.fail(std::to_string(run.latency_ms.size()) + " of " + std::to_string(count) + " messages arrived");
  }
  run.overhead = static_cast<double>(s.wire_bytes()) / static_cast<double>(count * kMessageSize);
  run.client = s.client_stats();
  run.failure = s.failure();
  return run;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  const std::size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// One value per seed, of everything a cell reports.
struct Samples {
  std::vector<double> goodput_mbps, link_fraction, bulk_overhead;
  std::vector<double> p50_ms, p99_ms, max_ms, message_overhead;
  std::vector<double> srtt_ms, cwnd_kb, congestion_events, probe_timeouts, packets_lost, chunks_retransmitted;
  std::vector<double> message_srtt_ms, message_probe_timeouts, message_chunks_retransmitted, message_chunks_rebundled;
};

// The medians of a cell's samples, in the order of kColumns.
struct CellResult {
  Cell cell;
  std::vector<double> medians;
  bool failed = false;
};

struct Column {
  const char* csv;
  const char* markdown;
  const char* format;
  std::vector<double> Samples::*samples;
};

const std::array<Column, 17> kColumns{{
    {"goodput_mbps", "goodput Mbit/s", "%.2f", &Samples::goodput_mbps},
    {"link_fraction", "of link", "%.3f", &Samples::link_fraction},
    {"bulk_overhead", "bulk overhead", "%.3f", &Samples::bulk_overhead},
    {"msg_p50_ms", "msg p50 ms", "%.1f", &Samples::p50_ms},
    {"msg_p99_ms", "msg p99 ms", "%.1f", &Samples::p99_ms},
    {"msg_max_ms", "msg max ms", "%.1f", &Samples::max_ms},
    {"msg_overhead", "msg overhead", "%.2f", &Samples::message_overhead},
    {"bulk_srtt_ms", "bulk srtt ms", "%.1f", &Samples::srtt_ms},
    {"bulk_cwnd_kb", "bulk cwnd KB", "%.1f", &Samples::cwnd_kb},
    {"bulk_congestion_events", "cong. events", "%.0f", &Samples::congestion_events},
    {"bulk_probe_timeouts", "PTOs", "%.0f", &Samples::probe_timeouts},
    {"bulk_packets_lost", "pkts lost", "%.0f", &Samples::packets_lost},
    {"bulk_chunks_retransmitted", "chunks retx", "%.0f", &Samples::chunks_retransmitted},
    {"msg_srtt_ms", "msg srtt ms", "%.1f", &Samples::message_srtt_ms},
    {"msg_probe_timeouts", "msg PTOs", "%.0f", &Samples::message_probe_timeouts},
    {"msg_chunks_retransmitted", "msg chunks retx", "%.0f", &Samples::message_chunks_retransmitted},
    {"msg_chunks_rebundled", "msg chunks rebundled", "%.0f", &Samples::message_chunks_rebundled},
}};
// kColumns[0, kMainColumns) make the main table; the rest, the diagnostics table.
constexpr std::size_t kMainColumns = 7;

CellResult run_cell(const Cell& cell, const Plan& plan) {
  Samples s;
  CellResult result{cell, {}, false};
  for (std::uint64_t seed = 1; seed <= plan.seeds; ++seed) {
    const BulkRun bulk = run_bulk(cell, seed, plan);
    MessageRun msg = run_messages(cell, seed, plan);
    for (const auto& [workload, failure] : {std::pair{"bulk", bulk.failure}, std::pair{"messages", msg.failure}}) {
      if (failure.empty()) continue;
      result.failed = true;
      std::fprintf(stderr, "FAILED: %s, RTT %g ms, loss %g%%, seed %llu, %s: %s\n", name_of(cell.profile), cell.rtt_ms,
                   cell.loss_percent, static_cast<unsigned long long>(seed), workload, failure.c_str());
    }
    s.goodput_mbps.push_back(bulk.goodput_bps / 1e6);
    s.link_fraction.push_back(bulk.goodput_bps / static_cast<double>(kLinkRate));
    s.bulk_overhead.push_back(bulk.overhead);
    s.srtt_ms.push_back(ms(bulk.client.smoothed_rtt));
    s.cwnd_kb.push_back(static_cast<double>(bulk.client.congestion_window) / 1000);
    s.congestion_events.push_back(static_cast<double>(bulk.client.congestion_events));
    s.probe_timeouts.push_back(static_cast<double>(bulk.client.probe_timeouts));
    s.packets_lost.push_back(static_cast<double>(bulk.client.packets_lost));
    s.chunks_retransmitted.push_back(static_cast<double>(bulk.client.chunks_retransmitted));
    std::sort(msg.latency_ms.begin(), msg.latency_ms.end());
    s.p50_ms.push_back(quantile(msg.latency_ms, 0.50).value_or(0));
    s.p99_ms.push_back(quantile(msg.latency_ms, 0.99).value_or(0));
    s.max_ms.push_back(msg.latency_ms.empty() ? 0 : msg.latency_ms.back());
    s.message_overhead.push_back(msg.overhead);
    s.message_srtt_ms.push_back(ms(msg.client.smoothed_rtt));
    s.message_probe_timeouts.push_back(static_cast<double>(msg.client.probe_timeouts));
    s.message_chunks_retransmitted.push_back(static_cast<double>(msg.client.chunks_retransmitted));
    s.message_chunks_rebundled.push_back(static_cast<double>(msg.client.chunks_rebundled));
  }
  for (const Column& c : kColumns) result.medians.push_back(median(s.*c.samples));
  return result;
}

void print_table(const std::vector<CellResult>& results, std::size_t first, std::size_t last) {
  std::printf("| RTT ms | loss %% | profile |");
  for (std::size_t c = first; c < last; ++c) std::printf(" %s |", kColumns[c].markdown);
  std::printf("\n|---:|---:|---|");
  for (std::size_t c = first; c < last; ++c) std::printf("---:|");
  std::printf("\n");
  for (const CellResult& r : results) {
    std::printf("| %g | %g | %s%s |", r.cell.rtt_ms, r.cell.loss_percent, name_of(r.cell.profile),
                r.failed ? " FAILED" : "");
    for (std::size_t c = first; c < last; ++c) {
      std::printf(" ");
      std::printf(kColumns[c].format, r.medians[c]);
      std::printf(" |");
    }
    std::printf("\n");
  }
}

bool write_csv(const std::string& path, const std::vector<CellResult>& results, const Plan& plan) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return false;
  std::fprintf(f, "profile,rtt_ms,loss_percent,seeds");
  for (const Column& c : kColumns) std::fprintf(f, ",%s", c.csv);
  std::fprintf(f, ",failed\n");
  for (const CellResult& r : results) {
    std::fprintf(f, "%s,%g,%g,%llu", name_of(r.cell.profile), r.cell.rtt_ms, r.cell.loss_percent,
                 static_cast<unsigned long long>(plan.seeds));
    for (const double m : r.medians) std::fprintf(f, ",%.6g", m);
    std::fprintf(f, ",%d\n", r.failed ? 1 : 0);
  }
  return std::fclose(f) == 0;
}

struct Options {
  bool quick = false;
  std::vector<Profile> profiles{Profile::tcp_friendly, Profile::fast, Profile::realtime};
  std::vector<double> rtt_ms{20, 100, 200};
  std::vector<double> loss_percent{0, 1, 5, 10};
  std::string csv = "compare.csv";
};

void print_usage(const char* argv0) {
  std::printf(
      "usage: %s [--quick] [--profiles LIST] [--rtt LIST] [--loss LIST] [--csv PATH]\n"
      "  --quick     %llu seeds, %.0f s warm-up, %.0f s bulk window, %.0f s of messages (default: %llu seeds, "
      "%.0f s, %.0f s, %.0f s)\n"
      "  --profiles  comma-separated, of tcp_friendly, fast, realtime (default: all three)\n"
      "  --rtt       round-trip times in ms (default 20,100,200)\n"
      "  --loss      loss rates in percent, each way, below 100 (default 0,1,5,10)\n"
      "  --csv       where to write the CSV (default compare.csv)\n",
      argv0, static_cast<unsigned long long>(kQuickPlan.seeds), seconds(kQuickPlan.warmup),
      seconds(kQuickPlan.measure), seconds(kQuickPlan.messages), static_cast<unsigned long long>(kFullPlan.seeds),
      seconds(kFullPlan.warmup), seconds(kFullPlan.measure), seconds(kFullPlan.messages));
}

bool parse_option(Options& o, std::string_view arg, rudp::bench::Args& args) {
  if (arg == "--quick") {
    o.quick = true;
  } else if (arg == "--profiles") {
    auto v = bench::parse_names(args.value(), bench::kProfileNames);
    if (!v) return false;
    o.profiles = std::move(*v);
  } else if (arg == "--rtt") {
    auto v = bench::parse_numbers(args.value(), 1, 10'000);
    if (!v) return false;
    o.rtt_ms = std::move(*v);
  } else if (arg == "--loss") {
    auto v = bench::parse_numbers(args.value(), 0, 100);
    if (!v) return false;
    o.loss_percent = std::move(*v);
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
  const Plan& plan = o.quick ? kQuickPlan : kFullPlan;
  const auto wall_start = std::chrono::steady_clock::now();

  std::printf("# rudp_compare%s: medians over seeds 1..%llu\n\n", o.quick ? " --quick" : "",
              static_cast<unsigned long long>(plan.seeds));
  std::printf(
      "- path: %.0f Mbit/s bottleneck each way, one-way delay RTT/2 plus jitter U[0, %.0f ms], drop-tail queue of "
      "one BDP (rate x RTT: %llu bytes per 10 ms of RTT), Bernoulli loss each way as listed; datagram bytes only "
      "(no IP/UDP headers)\n",
      static_cast<double>(kLinkRate) / 1e6, ms(kJitter), static_cast<unsigned long long>(bdp_bytes(10)));
  std::printf("- connections: make_config(profile), unchanged, on both sides\n");
  std::printf(
      "- bulk: one byte stream client -> server, %.0f s warm-up after the handshake, goodput over the next %.0f s; "
      "the sender keeps 4 BDP + 256 KiB unread; then close and drain, every byte checked\n",
      seconds(plan.warmup), seconds(plan.measure));
  std::printf(
      "- messages: %zu-byte reliable messages at 60 Hz for %.0f s (%llu), latency send_message -> receive_message in "
      "virtual time; p50/p99 nearest rank per seed\n",
      kMessageSize, seconds(plan.messages), static_cast<unsigned long long>(plan.messages / kMessagePeriod));
  std::printf(
      "- overhead: datagram bytes sent by both connections / payload bytes delivered (bulk: over the window; "
      "messages: handshake to last delivery)\n\n");

  std::vector<CellResult> results;
  for (const double rtt : o.rtt_ms) {
    for (const double loss : o.loss_percent) {
      for (const Profile p : o.profiles) results.push_back(run_cell(Cell{p, rtt, loss}, plan));
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  print_table(results, 0, kMainColumns);
  std::printf("\nDiagnostics (medians; bulk client at the end of the window, messages client at the last delivery):\n\n");
  print_table(results, kMainColumns, kColumns.size());
  std::printf("\n%zu cells x %llu seeds in %.1f s wall time\n", results.size(),
              static_cast<unsigned long long>(plan.seeds), wall);

  bool ok = std::none_of(results.begin(), results.end(), [](const CellResult& r) { return r.failed; });
  if (!write_csv(o.csv, results, plan)) {
    std::fprintf(stderr, "cannot write %s\n", o.csv.c_str());
    ok = false;
  }
  return ok ? 0 : 1;
}
