// SPDX-License-Identifier: MIT
// Delivery-mode comparison (issue 5, part 5): two application workloads run
// in each delivery mode, under each connection profile, on each simulated
// link of a matrix of round-trip times and random loss rates, over fixed
// seeds and a virtual clock, so every figure replays exactly.
//
// - game: a 60 Hz state snapshot of 100-300 bytes (sizes from the seed) on
//   channel 0, sent in the mode under test, in priority class 1; and a
//   reliable-ordered event of 20-60 bytes every 250-750 ms (about 2 per
//   second) on channel 1, in priority class 0. A snapshot is late after 100 ms.
// - voice: a 160-byte frame every 20 ms (50 per second) on channel 0 in the
//   mode under test, each with SendOptions::deadline = send time + 150 ms;
//   a frame is late after those 150 ms.
//
// The mode is set with configure_channel; every message asks for a Receipt.
// Each payload starts with its stream and its index in the sender's ledger,
// which keeps when it was sent; the rest is filler derived from the index, so
// the receiver checks every message it reads against what was sent. Latency
// runs from the instant the application produced the message to the instant
// receive_message returned it, in virtual time. After the last message the
// run drains until every message has its receipt and nothing is in flight,
// at most kDrain longer; a message not read by then counts as not
// delivered. Per cell, the seeds' messages are pooled: latency percentiles (nearest rank) are over every
// delivered message, percentages over every message sent.
//
// late or expired: delivered after the stream's late threshold, or never
// delivered and its receipt said `expired`. lost: never delivered otherwise.
// Bytes on the wire: datagram bytes (no IP/UDP headers) both connections sent
// from the end of the handshake to the end of the drain, per payload byte
// sent (both streams of the game workload).
//
// Output: one Markdown table per workload and RTT on stdout; with --csv a CSV
// of every cell; with --samples-dir one file per cell of the sorted latencies
// of the mode-under-test stream, each with the fraction of messages sent that
// arrived within it (a CDF that tops out at the delivered fraction).
// --check verifies the promises of each mode (see check_run) and exits 1 if
// any is broken; --strict adds those of the message API around it (exactly
// one Receipt per message, MessageInfo naming the sent channel and mode).
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
#include <filesystem>
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

// The path: a modest bottleneck each way (the workloads use about 1% of it),
// a drop-tail queue of one bandwidth-delay product, a one-way delay of half
// the RTT plus up to 1 ms of jitter (which keeps order), Bernoulli loss.
constexpr std::uint64_t kLinkRate = 10'000'000;
constexpr Duration kJitter = 1ms;

// The workloads.
constexpr Duration kSnapshotPeriod{1'000'000'000 / 60};
constexpr std::size_t kSnapshotMin = 100;
constexpr std::size_t kSnapshotMax = 300;
constexpr Duration kEventGapMin = 250ms;
constexpr Duration kEventGapMax = 750ms;
constexpr std::size_t kEventMin = 20;
constexpr std::size_t kEventMax = 60;
constexpr Duration kGameLate = 100ms;
constexpr Duration kVoicePeriod = 20ms;
constexpr std::size_t kVoiceSize = 160;
constexpr Duration kVoiceDeadline = 150ms;
constexpr ChannelId kMainChannel = 0;
constexpr ChannelId kEventChannel = 1;

// Limits past which a run is stuck rather than slow. The drain stays below
// the default 30 s idle timeout, which would otherwise close the connection.
constexpr Duration kHandshakeLimit = 30s;
constexpr Duration kDrain = 20s;

// Bytes of a payload before its filler: the stream, then the ledger index.
constexpr std::size_t kHeader = 9;

// How long each scenario runs and over how many seeds (1..seeds).
struct Plan {
  std::uint64_t seeds;
  Duration length;
};
constexpr Plan kFullPlan{5, 30s};
constexpr Plan kQuickPlan{1, 5s};

enum class Workload : std::uint8_t { game, voice };

constexpr std::array<bench::Named<Workload>, 2> kWorkloadNames{{
    {Workload::game, "game"},
    {Workload::voice, "voice"},
}};
constexpr std::array<bench::Named<DeliveryMode>, 4> kModeNames{{
    {DeliveryMode::reliable_ordered, "reliable_ordered"},
    {DeliveryMode::reliable_unordered, "reliable_unordered"},
    {DeliveryMode::unreliable_sequenced, "unreliable_sequenced"},
    {DeliveryMode::unreliable, "unreliable"},
}};

const char* name_of(Workload w) { return bench::name_of(kWorkloadNames, w); }
const char* name_of(DeliveryMode m) { return bench::name_of(kModeNames, m); }
const char* name_of(Profile p) { return bench::name_of(bench::kProfileNames, p); }

bool is_reliable(DeliveryMode m) noexcept {
  return m == DeliveryMode::reliable_ordered || m == DeliveryMode::reliable_unordered;
}
bool keeps_order(DeliveryMode m) noexcept {
  return m == DeliveryMode::reliable_ordered || m == DeliveryMode::unreliable_sequenced;
}

struct Cell {
  Workload workload;
  DeliveryMode mode;
  Profile profile;
  double rtt_ms;
  double loss_percent;
};

std::string describe(const Cell& c) {
  char text[160];
  std::snprintf(text, sizeof text, "%s, %s, %s, RTT %g ms, loss %g%%", name_of(c.workload), name_of(c.mode),
                name_of(c.profile), c.rtt_ms, c.loss_percent);
  return text;
}

double ms(Duration d) noexcept { return std::chrono::duration<double, std::milli>(d).count(); }
double seconds(Duration d) noexcept { return std::chrono::duration<double>(d).count(); }

sim::LinkConfig path_config(const Cell& cell) {
  sim::LinkConfig link;
  link.delay = std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(cell.rtt_ms / 2));
  link.jitter = kJitter;
  link.loss = cell.loss_percent / 100;
  link.rate_bits_per_second = kLinkRate;
  link.queue_bytes = static_cast<std::size_t>(static_cast<double>(kLinkRate) / 8 * cell.rtt_ms / 1000);
  return link;
}

// The workload's own generator (sizes, event gaps): splitmix64 over a counter,
// so the same seed gives the same workload on any standard library.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept : state_(seed) {}
  // Uniform in [low, high]; the modulo bias is far below anything measured here.
  std::uint64_t uniform(std::uint64_t low, std::uint64_t high) noexcept {
    return low + splitmix64(state_++) % (high - low + 1);
  }

 private:
  std::uint64_t state_;
};

// --- the messages ----------------------------------------------------------

enum class Stream : std::uint8_t { snapshot = 1, event = 2, voice = 3 };

struct StreamSpec {
  Stream stream;
  const char* name;
  ChannelId channel;
  DeliveryMode mode;
  std::optional<Duration> deadline;  // after the message is produced
  Duration late;                     // delivered after this is late
};

// What the sender knows of one message, and what became of it.
struct Sent {
  Stream stream;
  std::size_t size;
  Instant produced;
  std::optional<Instant> delivered;  // first delivery
  unsigned deliveries = 0;
  unsigned receipts = 0;
  std::optional<ReceiptOutcome> outcome;  // of the first receipt
};

// Byte i of the filler of ledger entry `index`.
std::byte filler(std::uint64_t key, std::uint64_t index, std::size_t i) noexcept {
  return static_cast<std::byte>(splitmix64(key + index * 4096 + i / 8) >> (8 * (i % 8)));
}

std::vector<std::byte> make_payload(std::uint64_t key, std::uint64_t index, Stream stream, std::size_t size) {
  std::vector<std::byte> out(size);
  out[0] = static_cast<std::byte>(stream);
  for (std::size_t i = 0; i < 8; ++i) out[1 + i] = static_cast<std::byte>(index >> (8 * i));
  for (std::size_t i = kHeader; i < size; ++i) out[i] = filler(key, index, i);
  return out;
}

// The ledger index a payload names, if it is exactly what the sender sent
// under that index.
std::optional<std::uint64_t> check_payload(std::uint64_t key, std::span<const std::byte> in,
                                           const std::vector<Sent>& ledger) {
  if (in.size() < kHeader) return std::nullopt;
  std::uint64_t index = 0;
  for (std::size_t i = 0; i < 8; ++i) index |= std::to_integer<std::uint64_t>(in[1 + i]) << (8 * i);
  if (index >= ledger.size()) return std::nullopt;
  const Sent& s = ledger[index];
  if (in[0] != static_cast<std::byte>(s.stream) || in.size() != s.size) return std::nullopt;
  for (std::size_t i = kHeader; i < in.size(); ++i) {
    if (in[i] != filler(key, index, i)) return std::nullopt;
  }
  return index;
}

// --- one run -----------------------------------------------------------------

// How often one kind of fault happened in a run, and the first time.
struct Tally {
  std::uint64_t count = 0;
  std::string first;
  void add(std::string what) {
    if (count++ == 0) first = std::move(what);
  }
};

// Faults seen in one stream as its messages were read.
struct StreamFaults {
  Tally duplicates;    // a message read again
  Tally out_of_order;  // ordered or sequenced: a message read after a newer one
};

struct RunOutput {
  std::vector<StreamSpec> streams;
  std::vector<StreamFaults> faults;  // per stream
  std::vector<Sent> ledger;
  std::uint64_t wire_bytes = 0;
  ConnectionStats client;
  ConnectionStats server;
  std::vector<std::string> failures;    // the run could not be carried out
  std::vector<std::string> violations;  // promises broken (check_run)
  Tally unknown_messages;               // read, but never sent: corrupted or forged
  Tally bad_receipts;                   // for a message that was never sent, or a second one
  Tally info_mismatches;                // MessageInfo naming another channel, mode or size
};

// A client sending the workload and a server reading it, on one network.
class Run {
 public:
  Run(const Cell& cell, std::uint64_t seed, RunOutput& out)
      : cell_(cell),
        key_(splitmix64(seed ^ 0x6d6f646573)),
        out_(out),
        net_(seed),
        client_(net_.add(kClient, make_endpoint(seed * 2 + 1, false, make_config(cell.profile)))),
        server_(net_.add(kServer, make_endpoint(seed * 2 + 2, true, make_config(cell.profile)))) {
    net_.set_path(kClient, kServer, path_config(cell));
    if (cell.workload == Workload::game) {
      out_.streams.push_back({Stream::snapshot, "snapshots", kMainChannel, cell.mode, std::nullopt, kGameLate});
      out_.streams.push_back(
          {Stream::event, "events", kEventChannel, DeliveryMode::reliable_ordered, std::nullopt, kGameLate});
    } else {
      out_.streams.push_back({Stream::voice, "voice", kMainChannel, cell.mode, kVoiceDeadline, kVoiceDeadline});
    }
    out_.faults.resize(out_.streams.size());
    last_read_.assign(out_.streams.size(), std::nullopt);
  }

  void execute(std::uint64_t seed, Duration length) {
    const auto c = client_.connect(net_.now(), kServer, make_config(cell_.profile));
    if (!c) return fail("connect: " + c.error().message());
    conn_ = *c;
    configure();
    if (!drive_until(net_.now() + kHandshakeLimit, [&] { return client_up_ && server_conn_; })) {
      return fail("handshake did not complete");
    }
    const std::uint64_t wire_start = wire_bytes();
    produce(seed, length);
    // An expired message's receipt comes when the sender gives it up; the
    // SKIP that lets ordered delivery pass it may still be on its way, so
    // the drain also waits for nothing to be in flight.
    drive_until(net_.now() + kDrain, [&] {
      return receipts_pending_ == 0 && client_.stats(conn_).value_or(ConnectionStats{}).bytes_in_flight == 0;
    });
    out_.wire_bytes = wire_bytes() - wire_start;
    out_.client = client_.stats(conn_).value_or(ConnectionStats{});
    if (server_conn_) out_.server = server_.stats(*server_conn_).value_or(ConnectionStats{});
  }

 private:
  struct Pending {
    std::vector<std::byte> payload;
    SendOptions options;
  };

  void fail(std::string why) {
    if (out_.failures.empty()) out_.failures.push_back(std::move(why));
  }
  bool failed() const noexcept { return !out_.failures.empty(); }

  const StreamSpec& spec(Stream s) const {
    return *std::find_if(out_.streams.begin(), out_.streams.end(), [&](const StreamSpec& x) { return x.stream == s; });
  }
  std::size_t stream_slot(Stream s) const {
    return static_cast<std::size_t>(
        std::find_if(out_.streams.begin(), out_.streams.end(), [&](const StreamSpec& x) { return x.stream == s; }) -
        out_.streams.begin());
  }

  // Channel 0 carries the mode under test; in the game, ahead of channel 1.
  void configure() {
    for (const StreamSpec& s : out_.streams) {
      ChannelConfig config;
      config.mode = s.mode;
      config.priority = s.stream == Stream::snapshot ? 1 : 0;
      if (const auto ec = client_.configure_channel(conn_, s.channel, config)) {
        fail("configure_channel: " + ec.message());
      }
    }
  }

  // Produces the workload for `length` of virtual time, each message at its
  // own instant, driving the network in between.
  void produce(std::uint64_t seed, Duration length) {
    Rng rng(splitmix64(seed + 0x776f726b));
    const Instant start = net_.now();
    const Instant end = start + length;
    std::uint64_t ticks = 0;  // snapshots or voice frames produced
    const Duration period = cell_.workload == Workload::game ? kSnapshotPeriod : kVoicePeriod;
    auto next_tick = [&] { return start + static_cast<Duration::rep>(ticks) * period; };
    auto event_gap = [&] {
      return Duration{static_cast<Duration::rep>(rng.uniform(static_cast<std::uint64_t>(kEventGapMin.count()),
                                                             static_cast<std::uint64_t>(kEventGapMax.count())))};
    };
    std::optional<Instant> next_event;
    if (cell_.workload == Workload::game) next_event = start + event_gap();
    while (!failed()) {
      Instant at = next_tick();
      if (next_event && *next_event < at) at = *next_event;
      if (at >= end) break;
      drive_until(at, [] { return false; });
      if (failed()) break;
      if (next_tick() == at) {
        if (cell_.workload == Workload::game) {
          produce_one(Stream::snapshot, static_cast<std::size_t>(rng.uniform(kSnapshotMin, kSnapshotMax)));
        } else {
          produce_one(Stream::voice, kVoiceSize);
        }
        ++ticks;
      }
      if (next_event && *next_event == at) {
        produce_one(Stream::event, static_cast<std::size_t>(rng.uniform(kEventMin, kEventMax)));
        *next_event += event_gap();
      }
      flush_backlog();
    }
  }

  void produce_one(Stream stream, std::size_t size) {
    const StreamSpec& s = spec(stream);
    const std::uint64_t index = out_.ledger.size();
    out_.ledger.push_back(Sent{stream, size, net_.now()});
    Pending p{make_payload(key_, index, stream, size), {}};
    p.options.channel = s.channel;
    if (s.deadline) p.options.deadline = net_.now() + *s.deadline;
    p.options.receipt = index;
    ++receipts_pending_;
    backlog_.push_back(std::move(p));
  }

  // Hands what was produced to send_message, oldest first, until it would block.
  void flush_backlog() {
    while (!backlog_.empty() && !failed()) {
      const Pending& p = backlog_.front();
      const auto ec = client_.send_message(conn_, p.payload, p.options);
      if (ec == errc::would_block) return;
      if (ec) return fail("send_message: " + ec.message());
      backlog_.pop_front();
    }
  }

  std::uint64_t wire_bytes() const {
    std::uint64_t sum = 0;
    if (const auto s = client_.stats(conn_)) sum += s->bytes_sent;
    if (server_conn_) {
      if (const auto s = server_.stats(*server_conn_)) sum += s->bytes_sent;
    }
    return sum;
  }

  // Takes both sides' events, reads every message that is ready and retries
  // the backlog; false once the run has failed.
  bool service() {
    while (const auto e = client_.poll_event()) {
      if (std::holds_alternative<Connected>(*e)) client_up_ = true;
      if (const auto* r = std::get_if<Receipt>(&*e)) on_receipt(*r);
      if (const auto* c = std::get_if<Closed>(&*e)) fail(std::string("client closed: ") + to_string(c->reason));
    }
    while (const auto e = server_.poll_event()) {
      if (const auto* c = std::get_if<Connected>(&*e)) server_conn_ = c->connection;
      if (const auto* c = std::get_if<Closed>(&*e)) fail(std::string("server closed: ") + to_string(c->reason));
    }
    if (server_conn_) read_messages();
    flush_backlog();
    return !failed();
  }

  void on_receipt(const Receipt& r) {
    if (r.tag >= out_.ledger.size()) {
      return out_.bad_receipts.add("a Receipt for tag " + std::to_string(r.tag) + ", which no message asked for");
    }
    Sent& s = out_.ledger[r.tag];
    if (++s.receipts == 1) {
      s.outcome = r.outcome;
      --receipts_pending_;
    } else {
      out_.bad_receipts.add("message #" + std::to_string(r.tag) + " got a second Receipt (" + to_string(r.outcome) +
                            " after " + to_string(*s.outcome) + ")");
    }
  }

  void read_messages() {
    std::array<std::byte, 2048> buffer;
    while (const auto info = server_.next_message(*server_conn_)) {
      const auto n = server_.receive_message(*server_conn_, buffer);
      if (!n) {
        if (n.error() != errc::would_block) fail("receive_message: " + n.error().message());
        return;
      }
      const auto got = std::span<const std::byte>(buffer).first(*n);
      const auto index = check_payload(key_, got, out_.ledger);
      if (!index) {
        out_.unknown_messages.add("a " + std::to_string(*n) + "-byte message");
        continue;
      }
      Sent& s = out_.ledger[*index];
      const std::size_t slot = stream_slot(s.stream);
      const StreamSpec& spec_of = out_.streams[slot];
      if (info->channel != spec_of.channel || info->mode != spec_of.mode || info->size != *n) {
        out_.info_mismatches.add("message #" + std::to_string(*index) + " was sent on channel " +
                                 std::to_string(spec_of.channel) + " as " + name_of(spec_of.mode) + " (" +
                                 std::to_string(*n) + " bytes); next_message() said channel " +
                                 std::to_string(info->channel) + ", " + name_of(info->mode) + ", " +
                                 std::to_string(info->size) + " bytes");
      }
      if (++s.deliveries > 1) {
        out_.faults[slot].duplicates.add("#" + std::to_string(*index) + " was read " + std::to_string(s.deliveries) +
                                         " times");
        continue;
      }
      s.delivered = net_.now();
      std::optional<std::uint64_t>& last = last_read_[slot];
      if (keeps_order(spec_of.mode) && last && *index < *last) {
        out_.faults[slot].out_of_order.add("#" + std::to_string(*index) + " was read after the newer #" +
                                           std::to_string(*last));
      }
      if (!last || *index > *last) last = *index;
    }
  }

  // What Network::step() would advance to: the earliest timeout or delivery.
  std::optional<Instant> next_network_event() const {
    std::optional<Instant> t;
    for (const auto c : {client_.next_timeout(), server_.next_timeout(), net_.link(kClient, kServer)->next_delivery(),
                         net_.link(kServer, kClient)->next_delivery()}) {
      if (c && (!t || *c < *t)) t = c;
    }
    return t;
  }

  // Steps the network one instant at a time, servicing both sides after
  // each, until `done()` (true) or the clock reaches `end` (stops exactly
  // there; returns done()). Messages are thus read the instant they arrive
  // and produced the instant they are due.
  bool drive_until(Instant end, const std::function<bool()>& done) {
    while (true) {
      if (!service()) return false;
      if (done()) return true;
      net_.run_for(Duration::zero());  // sends what service() queued
      const auto next = next_network_event();
      if (!next || *next > end) {
        if (net_.now() < end) net_.run_for(end - net_.now());
        return service() && done();
      }
      net_.step();
    }
  }

  Cell cell_;
  std::uint64_t key_;
  RunOutput& out_;
  sim::Network net_;
  Endpoint& client_;
  Endpoint& server_;
  ConnectionHandle conn_;
  std::optional<ConnectionHandle> server_conn_;
  bool client_up_ = false;
  std::deque<Pending> backlog_;
  std::uint64_t receipts_pending_ = 0;
  std::vector<std::optional<std::uint64_t>> last_read_;  // per stream: the newest index delivered
};

std::string summary(const Tally& t) { return ": " + std::to_string(t.count) + " times; the first: " + t.first; }

// The promises a finished run must have kept, each broken one as a line in
// out.violations:
// - every mode: nothing read that was not sent (or not as sent), nothing
//   read twice, at most one Receipt per message and none for a message that
//   did not ask for one;
// - reliable_ordered and unreliable_sequenced: no message read after a newer
//   one of its stream;
// - reliable modes without a deadline: every message read;
// - at 0% loss, every mode: every message read, unless it has a deadline
//   shorter than the RTT (then half an RTT, the one-way trip the library
//   allows for, may legitimately not fit before it; with 150 ms it always
//   does in the default matrix);
// - strict: exactly one Receipt per message, every reliable message that was
//   acknowledged read, and next_message() naming each message's channel,
//   mode and size.
void check_run(const Cell& cell, RunOutput& out, bool strict) {
  if (out.unknown_messages.count > 0) {
    out.violations.push_back("read messages that were never sent (corrupted or forged)" +
                             summary(out.unknown_messages));
  }
  if (out.bad_receipts.count > 0) out.violations.push_back("Receipts beyond one per message" + summary(out.bad_receipts));
  if (strict && out.info_mismatches.count > 0) {
    out.violations.push_back("next_message() misnamed a message" + summary(out.info_mismatches));
  }
  for (std::size_t slot = 0; slot < out.streams.size(); ++slot) {
    const StreamSpec& s = out.streams[slot];
    const std::string stream = std::string(s.name) + " (" + name_of(s.mode) + ")";
    if (out.faults[slot].duplicates.count > 0) {
      out.violations.push_back(stream + ": messages read twice" + summary(out.faults[slot].duplicates));
    }
    if (out.faults[slot].out_of_order.count > 0) {
      out.violations.push_back(stream + ": older messages read after newer ones" +
                               summary(out.faults[slot].out_of_order));
    }
    std::uint64_t sent = 0;
    std::uint64_t delivered = 0;
    std::optional<std::uint64_t> first_missing;
    std::uint64_t no_receipt = 0;
    std::optional<std::uint64_t> acked_undelivered;
    for (std::uint64_t i = 0; i < out.ledger.size(); ++i) {
      const Sent& m = out.ledger[i];
      if (m.stream != s.stream) continue;
      ++sent;
      if (m.delivered) {
        ++delivered;
      } else if (!first_missing) {
        first_missing = i;
      }
      if (m.receipts == 0) ++no_receipt;
      if (is_reliable(s.mode) && m.outcome == ReceiptOutcome::acknowledged && !m.delivered && !acked_undelivered) {
        acked_undelivered = i;
      }
    }
    const std::string missing = std::to_string(delivered) + " of " + std::to_string(sent) +
                                " delivered, the first missing is #" + std::to_string(first_missing.value_or(0));
    const bool deadline_fits = !s.deadline || cell.rtt_ms <= ms(*s.deadline);
    if (is_reliable(s.mode) && !s.deadline && delivered < sent) {
      out.violations.push_back(stream + ", reliable without deadline: " + missing);
    } else if (cell.loss_percent == 0 && deadline_fits && delivered < sent) {
      out.violations.push_back(stream + " at 0% loss: " + missing);
    }
    if (!strict) continue;
    if (no_receipt > 0) {
      out.violations.push_back(stream + ": " + std::to_string(no_receipt) + " of " + std::to_string(sent) +
                               " messages got no Receipt (exactly one is promised)");
    }
    if (acked_undelivered) {
      out.violations.push_back(stream + ": message #" + std::to_string(*acked_undelivered) +
                               " was acknowledged but never delivered");
    }
  }
}

// --- results -----------------------------------------------------------------

// One stream of one cell, pooled over its seeds.
struct StreamResult {
  std::vector<double> latency_ms;  // of each delivered message, sorted
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t late = 0;     // delivered after the stream's threshold
  std::uint64_t expired = 0;  // never delivered, receipt `expired`
  std::uint64_t payload_bytes = 0;
  std::uint64_t no_receipt = 0;

  double percent(std::uint64_t n) const noexcept {
    return sent ? 100.0 * static_cast<double>(n) / static_cast<double>(sent) : 0;
  }
  std::uint64_t lost() const noexcept { return sent - delivered - expired; }
};

struct CellResult {
  Cell cell{};
  Duration late{};
  StreamResult main;                   // the stream in the mode under test
  std::optional<StreamResult> events;  // game only
  std::uint64_t wire_bytes = 0;
  std::uint64_t payload_bytes = 0;
  ConnectionStats client;  // counters summed over seeds
  ConnectionStats server;
  std::vector<std::string> failures;
  std::vector<std::string> violations;

  double wire_per_payload() const noexcept {
    return payload_bytes ? static_cast<double>(wire_bytes) / static_cast<double>(payload_bytes) : 0;
  }
};

void add_stream(StreamResult& r, const StreamSpec& s, const std::vector<Sent>& ledger) {
  for (const Sent& m : ledger) {
    if (m.stream != s.stream) continue;
    ++r.sent;
    r.payload_bytes += m.size;
    if (m.receipts == 0) ++r.no_receipt;
    if (m.delivered) {
      ++r.delivered;
      const Duration latency = *m.delivered - m.produced;
      r.latency_ms.push_back(ms(latency));
      if (latency > s.late) ++r.late;
    } else if (m.outcome == ReceiptOutcome::expired) {
      ++r.expired;
    }
  }
}

void add_counters(ConnectionStats& sum, const ConnectionStats& s) {
  sum.packets_lost += s.packets_lost;
  sum.chunks_retransmitted += s.chunks_retransmitted;
  sum.messages_expired += s.messages_expired;
  sum.messages_skipped += s.messages_skipped;
  sum.messages_stale += s.messages_stale;
  sum.unreliable_dropped += s.unreliable_dropped;
}

CellResult run_cell(const Cell& cell, const Plan& plan, bool strict) {
  CellResult result;
  result.cell = cell;
  result.late = cell.workload == Workload::game ? kGameLate : kVoiceDeadline;
  if (cell.workload == Workload::game) result.events.emplace();
  for (std::uint64_t seed = 1; seed <= plan.seeds; ++seed) {
    RunOutput out;
    Run(cell, seed, out).execute(seed, plan.length);
    check_run(cell, out, strict);
    const std::string where = describe(cell) + ", seed " + std::to_string(seed) + ": ";
    for (const std::string& f : out.failures) result.failures.push_back(where + f);
    for (const std::string& v : out.violations) result.violations.push_back(where + v);
    add_stream(result.main, out.streams[0], out.ledger);
    if (result.events) add_stream(*result.events, out.streams[1], out.ledger);
    result.wire_bytes += out.wire_bytes;
    add_counters(result.client, out.client);
    add_counters(result.server, out.server);
  }
  result.payload_bytes = result.main.payload_bytes + (result.events ? result.events->payload_bytes : 0);
  std::sort(result.main.latency_ms.begin(), result.main.latency_ms.end());
  if (result.events) std::sort(result.events->latency_ms.begin(), result.events->latency_ms.end());
  return result;
}

std::string format(std::optional<double> v, const char* spec, const char* none) {
  if (!v) return none;
  char text[32];
  std::snprintf(text, sizeof text, spec, *v);
  return text;
}

void print_tables(const std::vector<CellResult>& results, const std::vector<Workload>& workloads,
                  const std::vector<double>& rtts) {
  for (const Workload w : workloads) {
    for (const double rtt : rtts) {
      const bool game = w == Workload::game;
      std::printf("\n### %s, RTT %g ms\n\n", name_of(w), rtt);
      if (game) {
        std::printf(
            "| loss %% | profile | snapshot mode | p50 ms | p99 ms | max ms | delivered %% | late >%.0f ms %% "
            "| events p99 ms | events delivered %% | wire / payload |\n"
            "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
            ms(kGameLate));
      } else {
        std::printf(
            "| loss %% | profile | mode | p50 ms | p99 ms | max ms | delivered %% | late or expired %% | lost %% "
            "| wire / payload |\n"
            "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
      }
      for (const CellResult& r : results) {
        if (r.cell.workload != w || r.cell.rtt_ms != rtt) continue;
        const StreamResult& m = r.main;
        const bool bad = !r.failures.empty() || !r.violations.empty();
        std::printf("| %g | %s | %s%s | %s | %s | %s | %.1f | %.1f |", r.cell.loss_percent, name_of(r.cell.profile),
                    name_of(r.cell.mode), bad ? " **FAILED**" : "", format(quantile(m.latency_ms, 0.5), "%.1f", "-").c_str(),
                    format(quantile(m.latency_ms, 0.99), "%.1f", "-").c_str(),
                    format(quantile(m.latency_ms, 1.0), "%.1f", "-").c_str(), m.percent(m.delivered),
                    m.percent(m.late + m.expired));
        if (game) {
          std::printf(" %s | %.1f |", format(quantile(r.events->latency_ms, 0.99), "%.1f", "-").c_str(),
                      r.events->percent(r.events->delivered));
        } else {
          std::printf(" %.1f |", m.percent(m.lost()));
        }
        std::printf(" %.2f |\n", r.wire_per_payload());
      }
    }
  }
}

bool write_csv(const std::string& path, const std::vector<CellResult>& results, const Plan& plan) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return false;
  std::fprintf(f,
               "workload,mode,profile,rtt_ms,loss_percent,seeds,seconds,late_threshold_ms,sent,delivered,"
               "delivered_percent,late_percent,expired_percent,lost_percent,late_or_expired_percent,on_time_percent,"
               "p50_ms,p99_ms,max_ms,events_sent,events_delivered_percent,events_p99_ms,events_max_ms,payload_bytes,"
               "wire_bytes,wire_per_payload,no_receipt,packets_lost,chunks_retransmitted,messages_expired,"
               "messages_stale,messages_skipped,unreliable_dropped,violations,failed\n");
  for (const CellResult& r : results) {
    const StreamResult& m = r.main;
    std::fprintf(f, "%s,%s,%s,%g,%g,%llu,%g,%g,%llu,%llu,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%s,%s,%s,",
                 name_of(r.cell.workload), name_of(r.cell.mode), name_of(r.cell.profile), r.cell.rtt_ms,
                 r.cell.loss_percent, static_cast<unsigned long long>(plan.seeds), seconds(plan.length), ms(r.late),
                 static_cast<unsigned long long>(m.sent), static_cast<unsigned long long>(m.delivered),
                 m.percent(m.delivered), m.percent(m.late), m.percent(m.expired), m.percent(m.lost()),
                 m.percent(m.late + m.expired), m.percent(m.delivered - m.late),
                 format(quantile(m.latency_ms, 0.5), "%.3f", "").c_str(),
                 format(quantile(m.latency_ms, 0.99), "%.3f", "").c_str(),
                 format(quantile(m.latency_ms, 1.0), "%.3f", "").c_str());
    if (r.events) {
      std::fprintf(f, "%llu,%.3f,%s,%s,", static_cast<unsigned long long>(r.events->sent),
                   r.events->percent(r.events->delivered),
                   format(quantile(r.events->latency_ms, 0.99), "%.3f", "").c_str(),
                   format(quantile(r.events->latency_ms, 1.0), "%.3f", "").c_str());
    } else {
      std::fprintf(f, ",,,,");
    }
    std::fprintf(f, "%llu,%llu,%.4f,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%zu,%d\n",
                 static_cast<unsigned long long>(r.payload_bytes), static_cast<unsigned long long>(r.wire_bytes),
                 r.wire_per_payload(),
                 static_cast<unsigned long long>(m.no_receipt + (r.events ? r.events->no_receipt : 0)),
                 static_cast<unsigned long long>(r.client.packets_lost + r.server.packets_lost),
                 static_cast<unsigned long long>(r.client.chunks_retransmitted + r.server.chunks_retransmitted),
                 static_cast<unsigned long long>(r.client.messages_expired),
                 static_cast<unsigned long long>(r.server.messages_stale),
                 static_cast<unsigned long long>(r.server.messages_skipped),
                 static_cast<unsigned long long>(r.server.unreliable_dropped), r.violations.size(),
                 r.failures.empty() ? 0 : 1);
  }
  return std::fclose(f) == 0;
}

// <dir>/<workload>-<mode>-<profile>-rtt<R>-loss<L>.dat: "latency_ms fraction"
// per delivered message of the stream under test, sorted, where fraction is
// the share of all messages sent that arrived within latency_ms.
bool write_samples(const std::string& dir, const std::vector<CellResult>& results) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return false;
  for (const CellResult& r : results) {
    char name[160];
    std::snprintf(name, sizeof name, "%s-%s-%s-rtt%g-loss%g.dat", name_of(r.cell.workload), name_of(r.cell.mode),
                  name_of(r.cell.profile), r.cell.rtt_ms, r.cell.loss_percent);
    const std::string path = (std::filesystem::path(dir) / name).string();
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) return false;
    const StreamResult& m = r.main;
    std::fprintf(f, "# %s: %llu sent, %llu delivered\n# latency_ms fraction_of_sent\n", describe(r.cell).c_str(),
                 static_cast<unsigned long long>(m.sent), static_cast<unsigned long long>(m.delivered));
    for (std::size_t i = 0; i < m.latency_ms.size(); ++i) {
      std::fprintf(f, "%.3f %.6f\n", m.latency_ms[i], static_cast<double>(i + 1) / static_cast<double>(m.sent));
    }
    if (std::fclose(f) != 0) return false;
  }
  return true;
}

// --- the command line ----------------------------------------------------------

struct Options {
  bool quick = false;
  bool check = false;
  bool strict = false;
  std::optional<std::uint64_t> seeds;
  std::optional<double> seconds;
  std::vector<Workload> workloads{Workload::game, Workload::voice};
  std::vector<DeliveryMode> modes{DeliveryMode::reliable_ordered, DeliveryMode::reliable_unordered,
                                  DeliveryMode::unreliable_sequenced, DeliveryMode::unreliable};
  std::vector<Profile> profiles{Profile::tcp_friendly, Profile::fast, Profile::realtime};
  std::vector<double> rtt_ms{50, 150};
  std::vector<double> loss_percent{0, 2, 5, 10};
  std::string csv;
  std::string samples_dir;
};

// --quick: every mode and workload, two profiles, one path with and without loss.
void make_quick(Options& o) {
  o.quick = true;
  o.profiles = {Profile::tcp_friendly, Profile::realtime};
  o.rtt_ms = {50};
  o.loss_percent = {0, 10};
}

void print_usage(const char* argv0) {
  std::printf(
      "usage: %s [--quick] [--check [--strict]] [--csv FILE] [--samples-dir DIR] [--workloads LIST] [--modes LIST]\n"
      "          [--profiles LIST] [--rtt LIST] [--loss LIST] [--seeds N] [--seconds S]\n"
      "  --quick        a smoke test: profiles tcp_friendly,realtime, RTT 50, loss 0,10, %llu seed of %.0f s\n"
      "                 (default: every profile, RTT 50,150, loss 0,2,5,10, %llu seeds of %.0f s)\n"
      "  --check        verify what each mode promises; exit 1, saying what broke, if anything did\n"
      "  --strict       with --check, also: exactly one Receipt per message, an acknowledged reliable message\n"
      "                 delivered, and next_message() naming the channel and mode each message was sent with\n"
      "  --csv          write every cell to FILE\n"
      "  --samples-dir  write each cell's sorted latencies (a CDF) to DIR/<workload>-<mode>-<profile>-rtt<R>-loss<L>.dat\n"
      "  --workloads    comma-separated, of game, voice\n"
      "  --modes        comma-separated, of reliable_ordered, reliable_unordered, unreliable_sequenced, unreliable\n"
      "  --profiles     comma-separated, of tcp_friendly, fast, realtime\n"
      "  --rtt          round-trip times in ms\n"
      "  --loss         random loss in percent, each way, below 100\n"
      "  --seeds        seeds 1..N per cell\n"
      "  --seconds      virtual seconds of workload per run\n",
      argv0, static_cast<unsigned long long>(kQuickPlan.seeds), seconds(kQuickPlan.length),
      static_cast<unsigned long long>(kFullPlan.seeds), seconds(kFullPlan.length));
}

// --quick sets defaults that the other options may then narrow, wherever it
// is (main() applies it first); here it is only accepted.
bool parse_option(Options& o, std::string_view arg, rudp::bench::Args& args) {
  if (arg == "--quick") {
  } else if (arg == "--check") {
    o.check = true;
  } else if (arg == "--strict") {
    o.strict = true;
  } else if (arg == "--csv") {
    o.csv = args.value();
  } else if (arg == "--samples-dir") {
    o.samples_dir = args.value();
  } else if (arg == "--workloads") {
    auto v = bench::parse_names(args.value(), kWorkloadNames);
    if (!v) return false;
    o.workloads = std::move(*v);
  } else if (arg == "--modes") {
    auto v = bench::parse_names(args.value(), kModeNames);
    if (!v) return false;
    o.modes = std::move(*v);
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
  } else if (arg == "--seeds") {
    const auto v = bench::parse_u64(args.value());
    if (!v || *v == 0 || *v > 1000) return false;
    o.seeds = *v;
  } else if (arg == "--seconds") {
    const auto v = bench::parse_numbers(args.value(), [](double s) { return s >= 1 && s <= 3600; });
    if (!v || v->size() != 1) return false;
    o.seconds = v->front();
  } else {
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options defaults;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--quick") make_quick(defaults);
  }
  const Options o = rudp::bench::parse_command_line(argc, argv, print_usage, parse_option, std::move(defaults));
  if (o.strict && !o.check) {
    print_usage(argv[0]);
    return 2;
  }
  Plan plan = o.quick ? kQuickPlan : kFullPlan;
  if (o.seeds) plan.seeds = *o.seeds;
  if (o.seconds) {
    plan.length = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(*o.seconds));
  }
  const auto wall_start = std::chrono::steady_clock::now();

  std::printf("# rudp_modes%s: delivery modes compared, seeds 1..%llu, %.0f s of workload per run\n\n",
              o.quick ? " --quick" : "", static_cast<unsigned long long>(plan.seeds), seconds(plan.length));
  std::printf(
      "- path: %.0f Mbit/s each way, drop-tail queue of one BDP, one-way delay RTT/2 plus jitter U[0, %.0f ms] (in "
      "order), Bernoulli loss each way as listed\n",
      static_cast<double>(kLinkRate) / 1e6, ms(kJitter));
  std::printf("- connections: make_config(profile), unchanged, on both sides\n");
  std::printf(
      "- game: %zu-%zu-byte snapshots at 60 Hz on channel 0 (priority 1) in the mode listed, late after %.0f ms; "
      "%zu-%zu-byte reliable_ordered events every %.0f-%.0f ms on channel 1 (priority 0)\n",
      kSnapshotMin, kSnapshotMax, ms(kGameLate), kEventMin, kEventMax, ms(kEventGapMin), ms(kEventGapMax));
  std::printf("- voice: %zu-byte frames every %.0f ms in the mode listed, deadline = send time + %.0f ms, late after it\n",
              kVoiceSize, ms(kVoicePeriod), ms(kVoiceDeadline));
  std::printf(
      "- latency: produced -> read by receive_message, virtual time, pooled over seeds (nearest rank); %% of messages "
      "sent; late or expired: delivered late, or never and its Receipt said expired; lost: never delivered otherwise\n");
  std::printf(
      "- wire / payload: datagram bytes both sides sent (no IP/UDP headers), handshake excluded, per payload byte "
      "sent\n");

  std::vector<CellResult> results;
  for (const Workload w : o.workloads) {
    for (const double rtt : o.rtt_ms) {
      for (const double loss : o.loss_percent) {
        for (const Profile p : o.profiles) {
          for (const DeliveryMode m : o.modes) results.push_back(run_cell(Cell{w, m, p, rtt, loss}, plan, o.strict));
        }
      }
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  print_tables(results, o.workloads, o.rtt_ms);
  std::printf("\n%zu cells x %llu seeds in %.1f s wall time\n", results.size(),
              static_cast<unsigned long long>(plan.seeds), wall);

  bool ok = true;
  std::size_t violations = 0;
  for (const CellResult& r : results) {
    for (const std::string& f : r.failures) {
      std::fprintf(stderr, "FAILED: %s\n", f.c_str());
      ok = false;
    }
    violations += r.violations.size();
    if (!o.check) continue;
    for (const std::string& v : r.violations) std::fprintf(stderr, "CHECK FAILED: %s\n", v.c_str());
  }
  if (o.check) {
    if (violations > 0) {
      std::fprintf(stderr, "rudp_modes --check: %zu broken promises in %zu cells\n", violations, results.size());
      ok = false;
    } else {
      std::printf("check%s: every mode kept its promises in all %zu cells\n", o.strict ? " --strict" : "",
                  results.size());
    }
  } else if (violations > 0) {
    std::printf("note: %zu broken promises; run with --check to see them\n", violations);
  }
  if (!o.csv.empty() && !write_csv(o.csv, results, plan)) {
    std::fprintf(stderr, "cannot write %s\n", o.csv.c_str());
    ok = false;
  }
  if (!o.samples_dir.empty() && !write_samples(o.samples_dir, results)) {
    std::fprintf(stderr, "cannot write the samples into %s\n", o.samples_dir.c_str());
    ok = false;
  }
  return ok ? 0 : 1;
}
