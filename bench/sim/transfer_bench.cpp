// SPDX-License-Identifier: MIT
// Simulator benchmark (issue 3 §5): one reliable byte stream, client to
// server, over a simulated 1 Gbit/s path with a 20 ms RTT (10 ms each way)
// and a drop-tail queue of about one bandwidth-delay product, at each loss
// rate asked for. The fixed controller's window is set to the BDP and the
// send buffer and receive window well above it: the window, not congestion
// control or flow control, is the limit, so the figures measure the core's
// per-packet cost on a full path.
//
// Per loss rate it prints virtual elapsed time, goodput (Gbit/s and as a
// fraction of the link rate), packets, retransmissions, losses, and CPU cost
// per packet. The CPU figure is process CPU time over the transfer divided by
// the packets sent plus received by both endpoints; it holds the simulator's
// own cost and this program's (making and hashing the stream) as well as the
// core's, so both are measured alone on the same volume and subtracted.
//
// The stream is a deterministic pseudo-random sequence, hashed as it is
// offered to send() and as receive() returns it; the program exits non-zero
// unless every transfer completes and the two hashes agree.
#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
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

namespace {

using namespace rudp;
using namespace std::chrono_literals;

const Address kClient = Address::v4({10, 0, 0, 1}, 4000);
const Address kServer = Address::v4({10, 0, 0, 2}, 5000);

// The path: 1 Gbit/s, 10 ms each way, so BDP = 1e9 / 8 x 0.020 = 2.5 MB.
constexpr std::uint64_t kLinkRate = 1'000'000'000;
constexpr Duration kOneWayDelay = 10ms;
constexpr std::size_t kBdp = 2'500'000;
// The window is the BDP; the queue is 5% larger, so that the sender's first
// window, which leaves all at once (nothing paces it yet), fits in the queue
// instead of being tail-dropped, and no loss but the configured one occurs.
constexpr std::size_t kCongestionWindow = kBdp;
constexpr std::size_t kQueueBytes = std::size_t{5} << 19;  // 2.5 MiB
// Flow control far above the window, so it never binds.
constexpr std::size_t kSendBuffer = std::size_t{16} << 20;
constexpr std::size_t kReceiveWindow = std::size_t{16} << 20;
// Bytes handed to send() or read by receive() at once.
constexpr std::size_t kBlockSize = std::size_t{64} << 10;

struct Options {
  std::uint64_t size = std::uint64_t{1} << 30;
  std::vector<double> loss_percent{0.0, 1.0};
  std::uint64_t seed = 1;
};

// CPU time of the whole process, in seconds.
double cpu_seconds() noexcept { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

double wall_seconds() noexcept {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double seconds(Duration d) noexcept { return std::chrono::duration<double>(d).count(); }

std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

// The stream: its k-th 8-byte word is splitmix64(seed + k), in host order.
class Source {
 public:
  Source(std::uint64_t seed, std::uint64_t size) noexcept : seed_(seed), size_(size) {}

  std::uint64_t remaining() const noexcept { return size_ - offset_; }

  // The next min(kBlockSize, remaining()) bytes into `block`; kBlockSize is a
  // multiple of 8, so every block but the last starts and ends on a word.
  std::span<const std::byte> next(std::vector<std::byte>& block) noexcept {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kBlockSize, remaining()));
    block.resize(kBlockSize);
    const std::uint64_t first_word = offset_ / 8;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const std::uint64_t word = splitmix64(seed_ + first_word + i / 8);
      std::memcpy(block.data() + i, &word, 8);
    }
    if (i < n) {
      const std::uint64_t word = splitmix64(seed_ + first_word + i / 8);
      std::memcpy(block.data() + i, &word, n - i);
    }
    offset_ += n;
    return std::span<const std::byte>(block).first(n);
  }

 private:
  std::uint64_t seed_;
  std::uint64_t size_;
  std::uint64_t offset_ = 0;
};

// An order-sensitive 64-bit hash of a byte stream fed in pieces of any size;
// the same bytes give the same value however they are split.
class StreamHash {
 public:
  void update(std::span<const std::byte> bytes) noexcept {
    length_ += bytes.size();
    std::size_t i = 0;
    while (pending_size_ > 0 && pending_size_ < 8 && i < bytes.size()) pending_[pending_size_++] = bytes[i++];
    if (pending_size_ == 8) {
      mix(load(pending_.data()));
      pending_size_ = 0;
    }
    for (; i + 8 <= bytes.size(); i += 8) mix(load(bytes.data() + i));
    while (i < bytes.size()) pending_[pending_size_++] = bytes[i++];
  }

  std::uint64_t value() const noexcept {
    std::uint64_t h = h_[0];
    for (std::size_t lane = 1; lane < h_.size(); ++lane) h = std::rotl(h, 17) ^ h_[lane];
    for (std::size_t i = 0; i < pending_size_; ++i) h = (h ^ std::to_integer<std::uint64_t>(pending_[i])) * kPrime;
    return splitmix64(h ^ length_);
  }

  std::uint64_t length() const noexcept { return length_; }

 private:
  static constexpr std::uint64_t kPrime = 0x100000001b3;
  static std::uint64_t load(const std::byte* p) noexcept {
    std::uint64_t word = 0;
    std::memcpy(&word, p, 8);
    return word;
  }
  // Word k goes to lane k mod 4: four independent multiply chains run in
  // parallel, and the lane depends only on the word's place in the stream.
  void mix(std::uint64_t word) noexcept {
    std::uint64_t& h = h_[words_++ & 3];
    h = std::rotl((h ^ word) * 0x9e3779b97f4a7c15, 29);
  }

  std::array<std::uint64_t, 4> h_{0xcbf29ce484222325, 1, 2, 3};
  std::uint64_t words_ = 0;
  std::uint64_t length_ = 0;
  std::array<std::byte, 8> pending_{};
  std::size_t pending_size_ = 0;
};

sim::LinkConfig path_config(double loss) {
  sim::LinkConfig link;
  link.delay = kOneWayDelay;
  link.loss = loss;
  link.rate_bits_per_second = kLinkRate;
  link.queue_bytes = kQueueBytes;
  return link;
}

ConnectionConfig connection_config() {
  ConnectionConfig c;
  c.congestion_control = rudp::CongestionControl::fixed;
  c.fixed_window = kCongestionWindow;
  c.send_buffer = kSendBuffer;
  c.receive_window = kReceiveWindow;
  return c;
}

Endpoint make_endpoint(std::uint64_t seed, bool listen) {
  EndpointConfig c;
  c.seed = seed;
  c.accept_incoming = listen;
  c.incoming = connection_config();
  auto endpoint = Endpoint::create(c, Instant{});
  if (!endpoint) {
    std::fprintf(stderr, "Endpoint::create: %s\n", endpoint.error().message().c_str());
    std::exit(2);
  }
  return std::move(endpoint).value();
}

struct Run {
  double loss_percent = 0;
  bool completed = false;
  bool exact = false;
  std::string failure;
  Duration elapsed{};
  double cpu = 0;   // process CPU seconds over the transfer
  double wall = 0;  // wall seconds over the transfer
  ConnectionStats client;
  ConnectionStats server;
  sim::LinkStats data_link;  // client -> server
  sim::LinkStats ack_link;   // server -> client
};

// Moves `size` bytes from client to server over a path losing `loss` of the
// datagrams each way, and measures the transfer (handshake excluded).
Run transfer(std::uint64_t size, double loss_percent, std::uint64_t seed) {
  Run run;
  run.loss_percent = loss_percent;
  sim::Network net(seed);
  net.set_path(kClient, kServer, path_config(loss_percent / 100));
  Endpoint& client = net.add(kClient, make_endpoint(seed * 2 + 1, false));
  Endpoint& server = net.add(kServer, make_endpoint(seed * 2 + 2, true));
  const auto connected = client.connect(net.now(), kServer, connection_config());
  if (!connected) {
    run.failure = "connect: " + connected.error().message();
    return run;
  }
  const ConnectionHandle client_conn = *connected;
  std::optional<ConnectionHandle> server_conn;
  bool client_up = false;
  bool writable = true;
  bool readable = false;
  auto drain_events = [&]() -> bool {
    while (const auto e = client.poll_event()) {
      if (std::holds_alternative<Connected>(*e)) client_up = true;
      if (std::holds_alternative<Writable>(*e)) writable = true;
      if (const auto* c = std::get_if<Closed>(&*e)) {
        run.failure = std::string("client closed: ") + to_string(c->reason);
        return false;
      }
    }
    while (const auto e = server.poll_event()) {
      if (const auto* c = std::get_if<Connected>(&*e)) server_conn = c->connection;
      if (std::holds_alternative<Readable>(*e)) readable = true;
      if (const auto* c = std::get_if<Closed>(&*e)) {
        run.failure = std::string("server closed: ") + to_string(c->reason);
        return false;
      }
    }
    return true;
  };

  while (!(client_up && server_conn)) {
    if (!drain_events()) return run;
    if (client_up && server_conn) break;
    if (net.now() > Instant{} + 30s || !net.step()) {
      run.failure = "handshake did not complete";
      return run;
    }
  }

  Source source(seed, size);
  StreamHash sent_hash;
  StreamHash received_hash;
  std::vector<std::byte> block;
  std::span<const std::byte> offered;  // what of the current block send() has not taken
  std::vector<std::byte> in(kBlockSize);
  std::uint64_t received = 0;
  const Instant start = net.now();
  // Twenty times the time the link needs, plus room for timeouts: a run that
  // takes longer is stuck, not slow.
  const Duration limit = std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(20.0 * static_cast<double>(size) * 8 / static_cast<double>(kLinkRate)) + 30s);

  const double cpu_start = cpu_seconds();
  const double wall_start = wall_seconds();
  while (true) {
    if (!drain_events()) break;
    while (writable && (!offered.empty() || source.remaining() > 0)) {
      if (offered.empty()) {
        offered = source.next(block);
        sent_hash.update(offered);
      }
      const auto n = client.send(client_conn, offered);
      if (!n) {  // would_block: a Writable event will follow
        writable = false;
        break;
      }
      offered = offered.subspan(*n);
      if (!offered.empty()) writable = false;  // partly taken: the buffer is full
    }
    while (readable) {
      const auto n = server.receive(*server_conn, in);
      if (!n) {
        readable = false;
        break;
      }
      received_hash.update(std::span<const std::byte>(in).first(*n));
      received += *n;
    }
    if (received >= size) {
      run.completed = true;
      break;
    }
    if (net.now() - start > limit) {
      run.failure = "no progress: virtual time limit reached";
      break;
    }
    if (!net.step()) {
      run.failure = "the network went quiet";
      break;
    }
  }
  run.cpu = cpu_seconds() - cpu_start;
  run.wall = wall_seconds() - wall_start;
  run.elapsed = net.now() - start;
  run.exact = run.completed && received == size && sent_hash.length() == size &&
              sent_hash.value() == received_hash.value();
  if (run.completed && !run.exact) run.failure = "received stream differs from the one sent";

  if (const auto s = client.stats(client_conn)) run.client = *s;
  if (server_conn) {
    if (const auto s = server.stats(*server_conn)) run.server = *s;
  }
  if (const sim::Link* l = net.link(kClient, kServer)) run.data_link = l->stats();
  if (const sim::Link* l = net.link(kServer, kClient)) run.ack_link = l->stats();
  return run;
}

// CPU seconds the simulator alone spends carrying `count` datagrams of `size`
// bytes over a link configured like the path, as Network does: a payload
// copied into a fresh Datagram, Link::send, and poll_delivery once due.
// Datagrams are offered at the link rate, so the queue stays short and about
// a one-way delay's worth is in flight, as in the transfer.
double link_cpu(std::uint64_t count, std::size_t size, double loss, std::uint64_t seed) {
  if (count == 0) return 0;
  sim::Link link(path_config(loss), seed);
  const std::vector<std::byte> payload(size, std::byte{0x5a});
  const Duration gap{static_cast<Duration::rep>(size * 8 * 1'000'000'000 / kLinkRate) + 1};
  Instant now{};
  std::uint64_t delivered = 0;
  const double cpu_start = cpu_seconds();
  for (std::uint64_t i = 0; i < count; ++i) {
    link.send(now, sim::Datagram{kClient, kServer, {payload.begin(), payload.end()}});
    while (const auto d = link.poll_delivery(now)) delivered += d->bytes.size();
    now += gap;
  }
  while (const auto t = link.next_delivery()) {
    while (const auto d = link.poll_delivery(*t)) delivered += d->bytes.size();
  }
  const double cpu = cpu_seconds() - cpu_start;
  if (delivered == 0 && loss < 1) std::fprintf(stderr, "link_cpu: nothing delivered\n");
  return cpu;
}

// CPU seconds this program spends on `size` bytes of stream outside the
// core: making them and hashing them on both sides.
double app_cpu(std::uint64_t size, std::uint64_t seed) {
  Source source(seed, size);
  StreamHash a;
  StreamHash b;
  std::vector<std::byte> block;
  const double cpu_start = cpu_seconds();
  while (source.remaining() > 0) {
    const auto bytes = source.next(block);
    a.update(bytes);
    b.update(bytes);
  }
  const double cpu = cpu_seconds() - cpu_start;
  if (a.value() != b.value()) std::fprintf(stderr, "app_cpu: hash unstable\n");
  return cpu;
}

std::uint64_t mean_size(std::uint64_t bytes, std::uint64_t packets) noexcept { return packets ? bytes / packets : 0; }

void print_usage(const char* argv0) {
  std::printf(
      "usage: %s [--size BYTES] [--loss PERCENT[,PERCENT...]] [--seed N]\n"
      "  --size  bytes of stream to move client -> server (default 1073741824 = 1 GiB)\n"
      "  --loss  loss rates in percent, applied to each direction (default 0,1)\n"
      "  --seed  seed of the network and endpoints (default 1)\n",
      argv0);
}

bool parse_option(Options& o, std::string_view arg, rudp::bench::Args& args) {
  if (arg == "--size") {
    const auto v = bench::parse_u64(args.value());
    if (!v || *v == 0) return false;
    o.size = *v;
  } else if (arg == "--loss") {
    auto v = bench::parse_numbers(args.value(), [](double p) { return p >= 0 && p <= 100; });
    if (!v) return false;
    o.loss_percent = std::move(*v);
  } else if (arg == "--seed") {
    const auto v = bench::parse_u64(args.value());
    if (!v) return false;
    o.seed = *v;
  } else {
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = rudp::bench::parse_command_line<Options>(argc, argv, print_usage, parse_option);

  std::printf("rudp_bench_transfer: %llu bytes client -> server, seed %llu\n",
              static_cast<unsigned long long>(o.size), static_cast<unsigned long long>(o.seed));
  std::printf("path: %.0f Gbit/s each way, %lld ms one-way delay, drop-tail queue %zu bytes, loss each way as listed\n",
              static_cast<double>(kLinkRate) / 1e9,
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(kOneWayDelay).count()),
              kQueueBytes);
  std::printf("connection: congestion_window %zu (fixed; BDP %zu), send_buffer %zu, receive_window %zu, "
              "other knobs default\n\n",
              kCongestionWindow, kBdp, kSendBuffer, kReceiveWindow);

  std::vector<Run> runs;
  std::vector<double> sim_cpu;
  std::vector<double> own_cpu;
  bool ok = true;
  for (const double loss : o.loss_percent) {
    Run run = transfer(o.size, loss, o.seed);
    if (!run.exact) {
      ok = false;
      std::fprintf(stderr, "loss %g%%: FAILED: %s\n", loss, run.failure.c_str());
    }
    sim_cpu.push_back(link_cpu(run.data_link.sent, mean_size(run.client.bytes_sent, run.client.packets_sent),
                               loss / 100, o.seed) +
                      link_cpu(run.ack_link.sent, mean_size(run.server.bytes_sent, run.server.packets_sent),
                               loss / 100, o.seed + 1));
    own_cpu.push_back(app_cpu(o.size, o.seed));
    runs.push_back(std::move(run));
  }

  std::printf(
      "| loss each way | virtual time (s) | goodput (Gbit/s) | of link rate | data packets sent | chunks retransmitted "
      "| packets lost | CPU ns/packet, whole run | sim ns/packet | app ns/packet | core ns/packet |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const Run& r = runs[i];
    const double t = seconds(r.elapsed);
    const double goodput = r.completed && t > 0 ? static_cast<double>(o.size) * 8 / t / 1e9 : 0;
    const double packets = static_cast<double>(r.client.packets_sent + r.client.packets_received +
                                               r.server.packets_sent + r.server.packets_received);
    const double per = packets > 0 ? 1e9 / packets : 0;
    std::printf("| %g%% | %.3f | %.3f | %.1f%% | %llu | %llu | %llu | %.0f | %.0f | %.0f | %.0f |%s\n", r.loss_percent,
                t, goodput, 100 * goodput * 1e9 / static_cast<double>(kLinkRate),
                static_cast<unsigned long long>(r.client.packets_sent),
                static_cast<unsigned long long>(r.client.chunks_retransmitted),
                static_cast<unsigned long long>(r.client.packets_lost), r.cpu * per, sim_cpu[i] * per,
                own_cpu[i] * per, (r.cpu - sim_cpu[i] - own_cpu[i]) * per, r.exact ? "" : " FAILED");
  }

  std::printf(
      "\n| loss each way | ACK packets sent | dropped on wire (data / ack dir) | queue drops | spurious retx "
      "| probe timeouts | final srtt (ms) | data datagram (B) | packets counted | CPU s | wall s |\n"
      "|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Run& r : runs) {
    std::printf("| %g%% | %llu | %llu / %llu | %llu | %llu | %llu | %.2f | %llu | %llu | %.2f | %.2f |\n",
                r.loss_percent, static_cast<unsigned long long>(r.server.packets_sent),
                static_cast<unsigned long long>(r.data_link.lost), static_cast<unsigned long long>(r.ack_link.lost),
                static_cast<unsigned long long>(r.data_link.queue_dropped + r.ack_link.queue_dropped),
                static_cast<unsigned long long>(r.client.spurious_retransmissions),
                static_cast<unsigned long long>(r.client.probe_timeouts), 1e3 * seconds(r.client.smoothed_rtt),
                static_cast<unsigned long long>(mean_size(r.client.bytes_sent, r.client.packets_sent)),
                static_cast<unsigned long long>(r.client.packets_sent + r.client.packets_received +
                                                r.server.packets_sent + r.server.packets_received),
                r.cpu, r.wall);
  }
  std::printf(
      "\npackets lost: ack-eliciting packets the sender declared lost. CPU ns/packet: process CPU time over the "
      "transfer / packets sent + received by both endpoints. sim: the same datagrams pushed through a sim::Link "
      "alone (Network's own bookkeeping is not in it). app: making and hashing the stream. core = whole - sim - app.\n");
  return ok ? 0 : 1;
}
