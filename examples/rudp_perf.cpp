// SPDX-License-Identifier: MIT
// A throughput test over rudp::asio in the manner of iperf3: the client sends
// reliable-ordered messages as fast as the connection takes them for a while
// (or, with --reverse, the server does), both sides print a line per interval
// with goodput, retransmissions, losses, congestion window and smoothed RTT
// from the connection's statistics, and a summary of both ends at the close.
//
//   rudp_perf server [--port P]
//   rudp_perf client HOST [--port P] [--time S] [--interval S] [--size BYTES]
//                         [--profile tcp_friendly|fast|realtime] [--reverse]
//   rudp_perf selftest     both ends over loopback, 1 s each way; exits 0
//                          when every byte arrived and the counts agree
//
// The sender counts a message once the connection has taken it, so its
// interval lines run ahead of the receiver's by up to the send buffer (4 MiB);
// its summary ends when the receiver has confirmed everything.
#include <asio/experimental/as_tuple.hpp>
#include <rudp/asio.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

// g++ 12 sees a coroutine frame that asio allocates with operator new (its
// recycling allocator's fallback) freed by asio's frame operator delete, which
// hands it back the same way, and calls it a mismatch; a false positive that
// depends on inlining (it fires here for send_side, not in the other examples).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

using namespace std::chrono_literals;
using ::asio::awaitable;
using ::asio::use_awaitable;
using ::asio::experimental::as_tuple;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint16_t kDefaultPort = 5201;  // iperf3's, on UDP
constexpr auto kHandshakeTimeout = 5s;

// The first byte of every message says what it is. Hello: the client's
// request. Data, then End from the sender; then Report from the receiver
// and Summary from the sender, so both ends can print both lines.
enum class Kind : char { hello = 'H', data = 'D', end = 'E', report = 'R', summary = 'S' };

struct Options {
  std::string host;
  std::uint16_t port = kDefaultPort;
  double seconds = 10;
  double interval = 1;
  std::size_t size = 64 * 1024;
  rudp::Profile profile = rudp::Profile::tcp_friendly;
  bool reverse = false;
};

const char* to_string(rudp::Profile p) {
  switch (p) {
    case rudp::Profile::tcp_friendly: return "tcp_friendly";
    case rudp::Profile::fast: return "fast";
    case rudp::Profile::realtime: return "realtime";
  }
  return "?";
}

std::optional<rudp::Profile> parse_profile(const std::string& name) {
  for (auto p : {rudp::Profile::tcp_friendly, rudp::Profile::fast, rudp::Profile::realtime}) {
    if (name == to_string(p)) return p;
  }
  return std::nullopt;
}

// Little-endian fields after the kind byte.
class Writer {
 public:
  explicit Writer(Kind kind) : bytes_{static_cast<std::byte>(kind)} {}
  Writer& u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<std::byte>(v >> (8 * i)));
    return *this;
  }
  const std::vector<std::byte>& bytes() const { return bytes_; }

 private:
  std::vector<std::byte> bytes_;
};

class Reader {
 public:
  explicit Reader(std::span<const std::byte> bytes) : bytes_(bytes) {}
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8 && at_ < bytes_.size(); ++i) v |= std::to_integer<std::uint64_t>(bytes_[at_++]) << (8 * i);
    return v;
  }

 private:
  std::span<const std::byte> bytes_;
  std::size_t at_ = 1;  // after the kind
};

bool is(std::span<const std::byte> m, Kind kind, std::size_t size) {
  return m.size() == size && m[0] == static_cast<std::byte>(kind);
}

std::string human(std::uint64_t bytes) {
  char s[32];
  const double b = static_cast<double>(bytes);
  if (bytes < (1u << 20)) std::snprintf(s, sizeof s, "%.1f KiB", b / 1024);
  else if (bytes < (1ull << 30)) std::snprintf(s, sizeof s, "%.1f MiB", b / (1 << 20));
  else std::snprintf(s, sizeof s, "%.2f GiB", b / (1 << 30));
  return s;
}

double ms(rudp::Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }
double mbit_per_s(std::uint64_t bytes, double seconds) {
  return seconds > 0 ? static_cast<double>(bytes) * 8 / seconds / 1e6 : 0.0;
}

// What one transfer amounted to; both ends end up with the same numbers.
struct Summary {
  std::uint64_t sent_bytes = 0, sent_messages = 0, sent_ns = 0;
  std::uint64_t retransmits = 0, lost = 0, srtt_ns = 0, min_rtt_ns = 0;
  std::uint64_t packets_sent = 0, datagram_bytes_sent = 0;  // the sender's, headers included
  std::uint64_t received_bytes = 0, received_messages = 0, received_ns = 0;
  bool complete = false;
};

// Columns, as iperf3 lays them out: id, interval, transfer, goodput, then
// the sender's retransmitted chunks and lost packets.
void print_header(bool sender) {
  std::printf("[ ID] %-15s  %10s  %14s  %5s  %5s  %9s  %8s\n", "Interval", "Transfer", "Goodput", sender ? "Retr" : "",
              sender ? "Lost" : "", sender ? "Cwnd" : "", "sRTT");
}

void print_summary(unsigned id, const Summary& s) {
  const double sent_s = static_cast<double>(s.sent_ns) / 1e9, received_s = static_cast<double>(s.received_ns) / 1e9;
  std::printf("- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -\n");
  std::printf("[ ID] %-15s  %10s  %14s  %5s  %5s  %8s  %8s\n", "Interval", "Transfer", "Goodput", "Retr", "Lost", "sRTT",
              "min RTT");
  std::printf("[%3u]   0.00-%-6.2f s  %10s  %7.1f Mbit/s  %5llu  %5llu  %5.2f ms  %5.2f ms  sender\n", id, sent_s,
              human(s.sent_bytes).c_str(), mbit_per_s(s.sent_bytes, sent_s), static_cast<unsigned long long>(s.retransmits),
              static_cast<unsigned long long>(s.lost), static_cast<double>(s.srtt_ns) / 1e6,
              static_cast<double>(s.min_rtt_ns) / 1e6);
  std::printf("[%3u]   0.00-%-6.2f s  %10s  %7.1f Mbit/s  %34s  receiver\n", id, received_s,
              human(s.received_bytes).c_str(), mbit_per_s(s.received_bytes, received_s), "");
  std::fflush(stdout);
}

// Counts of one side, and where the last interval line left them.
struct Meter {
  Meter(const ::asio::any_io_executor& executor, unsigned id_, bool sender_, double interval_)
      : timer(executor), id(id_), sender(sender_), interval(interval_) {}
  std::uint64_t bytes = 0;
  std::uint64_t messages = 0;
  Clock::time_point start = Clock::now();
  bool stopped = false;
  ::asio::steady_timer timer;
  unsigned id;
  bool sender;
  double interval;
  std::uint64_t last_bytes = 0, last_retransmits = 0, last_lost = 0;
  double last_t = 0;
};

// One interval line: the receiver's shows what arrived and its own RTT
// estimate; the sender's adds retransmitted chunks, lost packets and cwnd.
void print_line(rudp::asio::Endpoint& endpoint, rudp::ConnectionHandle c, Meter& m) {
  const auto stats = endpoint.core().stats(c);
  if (!stats) return;
  const double t = seconds_between(m.start, Clock::now());
  const std::uint64_t bytes = m.bytes - m.last_bytes;
  char retr[32] = "", cwnd[32] = "";
  if (m.sender) {
    std::snprintf(retr, sizeof retr, "%5llu  %5llu",
                  static_cast<unsigned long long>(stats->chunks_retransmitted - m.last_retransmits),
                  static_cast<unsigned long long>(stats->packets_lost - m.last_lost));
    std::snprintf(cwnd, sizeof cwnd, "%s", human(stats->congestion_window).c_str());
  }
  std::printf("[%3u] %6.2f-%-6.2f s  %10s  %7.1f Mbit/s  %12s  %9s  %5.2f ms\n", m.id, m.last_t, t, human(bytes).c_str(),
              mbit_per_s(bytes, t - m.last_t), retr, cwnd, ms(stats->smoothed_rtt));
  std::fflush(stdout);
  m.last_bytes = m.bytes;
  m.last_retransmits = stats->chunks_retransmitted;
  m.last_lost = stats->packets_lost;
  m.last_t = t;
}

// Prints a line every interval until the meter stops.
awaitable<void> print_intervals(rudp::asio::Endpoint& endpoint, rudp::ConnectionHandle c,
                                std::shared_ptr<Meter> meter) {
  const auto step = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(meter->interval));
  for (auto next = meter->start + step; !meter->stopped; next += step) {
    meter->timer.expires_at(next);
    co_await meter->timer.async_wait(as_tuple(use_awaitable));
    if (!meter->stopped) print_line(endpoint, c, *meter);
  }
}

// Stops the interval lines, with a last one for the partial interval unless it is very short.
void stop(rudp::asio::Endpoint& endpoint, rudp::ConnectionHandle c, Meter& m, bool print) {
  m.stopped = true;
  m.timer.cancel();
  if (print && seconds_between(m.start, Clock::now()) - m.last_t >= m.interval / 10) print_line(endpoint, c, m);
}

// Sends messages of `size` bytes for `seconds`, then waits for the
// receiver's report, tells it the sender's side and closes.
awaitable<void> send_side(rudp::asio::Endpoint& endpoint, rudp::ConnectionHandle c, unsigned id, double seconds,
                          std::size_t size, double interval, bool print, Summary& s) {
  auto meter = std::make_shared<Meter>(endpoint.get_executor(), id, true, interval);
  if (print) {
    print_header(true);
    ::asio::co_spawn(endpoint.get_executor(), print_intervals(endpoint, c, meter), ::asio::detached);
  }
  std::vector<std::byte> data(size);
  data[0] = static_cast<std::byte>(Kind::data);
  const auto end = meter->start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::error_code ec;
  std::size_t n = 0;
  while (!ec && Clock::now() < end) {
    std::tie(ec, n) = co_await endpoint.async_send(c, data, {}, as_tuple(use_awaitable));
    if (!ec) {
      meter->bytes += size;
      ++meter->messages;
    }
  }
  if (!ec) std::tie(ec, n) = co_await endpoint.async_send(c, Writer(Kind::end).bytes(), {}, as_tuple(use_awaitable));
  std::vector<std::byte> buffer(64);
  if (!ec) std::tie(ec, n) = co_await endpoint.async_receive(c, buffer, nullptr, as_tuple(use_awaitable));
  stop(endpoint, c, *meter, print);
  if (ec || !is(std::span(buffer).first(n), Kind::report, 25)) {
    std::fprintf(stderr, "rudp_perf: the connection ended before the receiver's report (%s)\n",
                 ec ? ec.message().c_str() : "unexpected message");
    co_return;
  }
  Reader report(buffer);
  s.received_bytes = report.u64();
  s.received_messages = report.u64();
  s.received_ns = report.u64();
  s.sent_bytes = meter->bytes;
  s.sent_messages = meter->messages;
  s.sent_ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(Clock::now() - meter->start).count());
  if (const auto stats = endpoint.core().stats(c)) {
    s.retransmits = stats->chunks_retransmitted;
    s.lost = stats->packets_lost;
    s.srtt_ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(stats->smoothed_rtt).count());
    s.min_rtt_ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(stats->min_rtt).count());
    s.packets_sent = stats->packets_sent;
    s.datagram_bytes_sent = stats->bytes_sent;
  }
  Writer summary(Kind::summary);
  summary.u64(s.sent_bytes).u64(s.sent_messages).u64(s.sent_ns).u64(s.retransmits).u64(s.lost).u64(s.srtt_ns).u64(s.min_rtt_ns);
  summary.u64(s.packets_sent).u64(s.datagram_bytes_sent);
  co_await endpoint.async_send(c, summary.bytes(), {}, as_tuple(use_awaitable));
  s.complete = true;
  if (print) print_summary(id, s);
  co_await endpoint.async_close(c, as_tuple(use_awaitable));
  co_return;
}

// Counts what arrives until End, reports it, reads the sender's summary and
// closes once the sender has.
awaitable<void> receive_side(rudp::asio::Endpoint& endpoint, rudp::ConnectionHandle c, unsigned id,
                             double interval, bool print, Summary& s) {
  auto meter = std::make_shared<Meter>(endpoint.get_executor(), id, false, interval);
  if (print) {
    print_header(false);
    ::asio::co_spawn(endpoint.get_executor(), print_intervals(endpoint, c, meter), ::asio::detached);
  }
  std::vector<std::byte> buffer(1u << 20);
  std::optional<Clock::time_point> first;
  std::error_code ec;
  std::size_t n = 0;
  while (true) {
    std::tie(ec, n) = co_await endpoint.async_receive(c, buffer, nullptr, as_tuple(use_awaitable));
    if (ec || n == 0 || buffer[0] != static_cast<std::byte>(Kind::data)) break;
    if (!first) first = Clock::now();
    meter->bytes += n;
    ++meter->messages;
  }
  stop(endpoint, c, *meter, print);
  if (ec || !is(std::span(buffer).first(n), Kind::end, 1)) {
    std::fprintf(stderr, "rudp_perf: the connection ended before the sender finished (%s)\n",
                 ec ? ec.message().c_str() : "unexpected message");
    co_return;
  }
  s.received_bytes = meter->bytes;
  s.received_messages = meter->messages;
  s.received_ns = first ? static_cast<std::uint64_t>(std::chrono::nanoseconds(Clock::now() - *first).count()) : 0;
  Writer report(Kind::report);
  report.u64(s.received_bytes).u64(s.received_messages).u64(s.received_ns);
  std::tie(ec, n) = co_await endpoint.async_send(c, report.bytes(), {}, as_tuple(use_awaitable));
  if (!ec) std::tie(ec, n) = co_await endpoint.async_receive(c, buffer, nullptr, as_tuple(use_awaitable));
  if (ec || !is(std::span(buffer).first(n), Kind::summary, 73)) {
    std::fprintf(stderr, "rudp_perf: the connection ended before the sender's summary\n");
    co_return;
  }
  Reader summary(buffer);
  s.sent_bytes = summary.u64();
  s.sent_messages = summary.u64();
  s.sent_ns = summary.u64();
  s.retransmits = summary.u64();
  s.lost = summary.u64();
  s.srtt_ns = summary.u64();
  s.min_rtt_ns = summary.u64();
  s.packets_sent = summary.u64();
  s.datagram_bytes_sent = summary.u64();
  s.complete = true;
  if (print) print_summary(id, s);
  std::tie(ec, n) = co_await endpoint.async_receive(c, buffer, nullptr, as_tuple(use_awaitable));  // end_of_stream
  co_await endpoint.async_close(c, as_tuple(use_awaitable));
  co_return;
}

rudp::ConnectionConfig connection_config(rudp::Profile profile) {
  rudp::ConnectionConfig config = rudp::make_config(profile);
  config.handshake_timeout = kHandshakeTimeout;
  return config;
}

// The server: each connection starts with the client's Hello; the server
// takes the client's profile and plays the other role.
awaitable<void> serve_one(rudp::asio::Endpoint& endpoint, rudp::ConnectionHandle c, unsigned id, bool print,
                          Summary* result) {
  std::vector<std::byte> hello(64);
  auto [ec, n] = co_await endpoint.async_receive(c, hello, nullptr, as_tuple(use_awaitable));
  if (ec || !is(std::span(hello).first(n), Kind::hello, 41)) {
    endpoint.core().abort(c);
    endpoint.drive();
    co_return;
  }
  Reader r(hello);
  const bool reverse = r.u64() != 0;
  const double seconds = static_cast<double>(r.u64()) / 1e9;
  const std::size_t size = static_cast<std::size_t>(r.u64());
  const double interval = static_cast<double>(r.u64()) / 1e9;
  const auto profile = static_cast<rudp::Profile>(r.u64());
  if (size == 0 || size > (1u << 20) || interval <= 0 || !parse_profile(to_string(profile))) {
    endpoint.core().abort(c);
    endpoint.drive();
    co_return;
  }
  endpoint.core().set_config(c, connection_config(profile));
  if (print) {
    std::printf("[%3u] connection: %s for %.1f s, %zu-byte messages, profile %s\n", id,
                reverse ? "sending (reverse)" : "receiving", seconds, size, to_string(profile));
  }
  Summary s;
  if (reverse) co_await send_side(endpoint, c, id, seconds, size, interval, print, s);
  else co_await receive_side(endpoint, c, id, interval, print, s);
  if (result) *result = s;
}

awaitable<void> serve(rudp::asio::Endpoint& endpoint, bool print, Summary* result) {
  for (unsigned id = 1;; ++id) {
    const rudp::ConnectionHandle c = co_await endpoint.async_accept(use_awaitable);
    ::asio::co_spawn(endpoint.get_executor(), serve_one(endpoint, c, id, print, result), ::asio::detached);
  }
}

awaitable<void> run_client(rudp::asio::Endpoint& endpoint, rudp::asio::UdpEndpoint server, Options o, bool print,
                           Summary& s) {
  auto [ec, c] = co_await endpoint.async_connect(server, connection_config(o.profile), as_tuple(use_awaitable));
  if (ec) {
    if (ec == std::errc::timed_out) {
      std::fprintf(stderr, "rudp_perf: no answer from %s port %u within 5 s (is `rudp_perf server` running there?)\n",
                   server.address().to_string().c_str(), static_cast<unsigned>(server.port()));
    } else {
      std::fprintf(stderr, "rudp_perf: cannot connect: %s\n", ec.message().c_str());
    }
    co_return;
  }
  Writer hello(Kind::hello);
  hello.u64(o.reverse ? 1 : 0)
      .u64(static_cast<std::uint64_t>(o.seconds * 1e9))
      .u64(o.size)
      .u64(static_cast<std::uint64_t>(o.interval * 1e9))
      .u64(static_cast<std::uint64_t>(o.profile));
  co_await endpoint.async_send(c, hello.bytes(), {}, as_tuple(use_awaitable));
  if (print) {
    std::printf("Connected to %s port %u: %s for %.1f s, %zu-byte messages, profile %s\n",
                server.address().to_string().c_str(), static_cast<unsigned>(server.port()),
                o.reverse ? "receiving (reverse)" : "sending", o.seconds, o.size, to_string(o.profile));
  }
  if (o.reverse) co_await receive_side(endpoint, c, 1, o.interval, print, s);
  else co_await send_side(endpoint, c, 1, o.seconds, o.size, o.interval, print, s);
}

rudp::EndpointConfig endpoint_config(std::uint64_t seed) {
  rudp::EndpointConfig config;
  config.seed = seed;
  config.incoming = connection_config(rudp::Profile::tcp_friendly);  // until the client's Hello says otherwise
  return config;
}

std::uint64_t seed_from_clock() { return static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()); }

int usage() {
  std::fprintf(stderr,
               "usage: rudp_perf server [--port P]\n"
               "       rudp_perf client HOST [--port P] [--time S] [--interval S] [--size BYTES]\n"
               "                             [--profile tcp_friendly|fast|realtime] [--reverse]\n"
               "       rudp_perf selftest\n");
  return 2;
}

// Parses the options after the mode; nullopt (after a message) on a bad one.
std::optional<Options> parse(int argc, char** argv, int first, bool client) {
  Options o;
  auto number = [](const char* text, double low, double high) -> std::optional<double> {
    char* end = nullptr;
    const double v = std::strtod(text, &end);
    if (*text == '\0' || *end != '\0' || !(v >= low && v <= high)) return std::nullopt;
    return v;
  };
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    auto bad = [&](const char* range) {
      std::fprintf(stderr, "rudp_perf: %s wants %s\n", arg.c_str(), range);
      return std::nullopt;
    };
    if (arg == "--port") {
      const auto v = value ? number(value, 1, 65535) : std::nullopt;
      if (!v) return bad("a port number");
      o.port = static_cast<std::uint16_t>(*v);
      ++i;
    } else if (client && arg == "--time") {
      const auto v = value ? number(value, 0.1, 86400) : std::nullopt;
      if (!v) return bad("seconds, from 0.1");
      o.seconds = *v;
      ++i;
    } else if (client && arg == "--interval") {
      const auto v = value ? number(value, 0.1, 3600) : std::nullopt;
      if (!v) return bad("seconds, from 0.1");
      o.interval = *v;
      ++i;
    } else if (client && arg == "--size") {
      const auto v = value ? number(value, 1, 1 << 20) : std::nullopt;
      if (!v) return bad("a message size from 1 to 1048576 bytes");
      o.size = static_cast<std::size_t>(*v);
      ++i;
    } else if (client && arg == "--profile") {
      const auto p = value ? parse_profile(value) : std::nullopt;
      if (!p) return bad("tcp_friendly, fast or realtime");
      o.profile = *p;
      ++i;
    } else if (client && arg == "--reverse") {
      o.reverse = true;
    } else if (client && o.host.empty() && !arg.starts_with("--")) {
      o.host = arg;
    } else {
      std::fprintf(stderr, "rudp_perf: unknown argument %s\n", arg.c_str());
      return std::nullopt;
    }
  }
  if (client && o.host.empty()) return std::nullopt;
  return o;
}

int server_mode(const Options& o) {
  ::asio::io_context io;
  auto endpoint = rudp::asio::Endpoint::open(io.get_executor(), {::asio::ip::address_v6::any(), o.port},
                                             endpoint_config(seed_from_clock()));
  if (!endpoint) {
    endpoint = rudp::asio::Endpoint::open(io.get_executor(), {::asio::ip::address_v4::any(), o.port},
                                          endpoint_config(seed_from_clock()));
  }
  if (!endpoint) {
    std::fprintf(stderr, "rudp_perf: cannot listen on UDP port %u: %s\n", static_cast<unsigned>(o.port),
                 endpoint.error().message().c_str());
    return 1;
  }
  std::printf("Server listening on UDP port %u\n", static_cast<unsigned>(o.port));
  std::fflush(stdout);
  ::asio::co_spawn(io, serve(**endpoint, true, nullptr), ::asio::detached);
  io.run();
  return 0;
}

int client_mode(const Options& o) {
  ::asio::io_context io;
  std::error_code ec;
  ::asio::ip::udp::resolver resolver(io);
  const auto found = resolver.resolve(o.host, std::to_string(o.port), ec);
  if (ec || found.empty()) {
    std::fprintf(stderr, "rudp_perf: cannot resolve %s: %s\n", o.host.c_str(), ec.message().c_str());
    return 1;
  }
  const rudp::asio::UdpEndpoint server = found.begin()->endpoint();
  const rudp::asio::UdpEndpoint local =
      server.address().is_v4() ? rudp::asio::UdpEndpoint{::asio::ip::address_v4::any(), 0}
                                : rudp::asio::UdpEndpoint{::asio::ip::address_v6::any(), 0};
  auto endpoint = rudp::asio::Endpoint::open(io.get_executor(), local, endpoint_config(seed_from_clock()));
  if (!endpoint) {
    std::fprintf(stderr, "rudp_perf: cannot open a UDP socket: %s\n", endpoint.error().message().c_str());
    return 1;
  }
  Summary s;
  bool done = false;
  ::asio::co_spawn(io, run_client(**endpoint, server, o, true, s), [&](std::exception_ptr) { done = true; });
  while (!done) io.run_one();
  return s.complete ? 0 : 1;
}

// Both ends in one process over loopback: one second each way.
int selftest() {
  ::asio::io_context io;
  const auto loopback = ::asio::ip::make_address("127.0.0.1");
  auto server = rudp::asio::Endpoint::open(io.get_executor(), {loopback, 0}, endpoint_config(1));
  auto client = rudp::asio::Endpoint::open(io.get_executor(), {loopback, 0}, endpoint_config(2));
  if (!server || !client) return 1;
  Summary server_side;
  ::asio::co_spawn(io, serve(**server, false, &server_side), ::asio::detached);
  bool ok = true;
  for (const bool reverse : {false, true}) {
    Options o;
    o.seconds = reverse ? 0.5 : 1.0;
    o.interval = 0.25;
    o.reverse = reverse;
    Summary s;
    bool done = false;
    server_side = {};
    ::asio::co_spawn(io, run_client(**client, {loopback, (*server)->local_endpoint().port()}, o, !reverse, s),
                     [&](std::exception_ptr) { done = true; });
    const auto deadline = Clock::now() + 10s;
    while (!(done && server_side.complete) && Clock::now() < deadline) io.run_one_for(100ms);
    const bool counts_agree = s.complete && server_side.complete && s.sent_bytes > 0 &&
                              s.sent_bytes == s.received_bytes && s.sent_messages == s.received_messages &&
                              s.sent_bytes == s.sent_messages * o.size && s.sent_bytes == server_side.sent_bytes &&
                              s.received_bytes == server_side.received_bytes && s.retransmits == server_side.retransmits &&
                              s.lost == server_side.lost && s.packets_sent == server_side.packets_sent &&
                              s.lost <= s.packets_sent && s.datagram_bytes_sent > s.sent_bytes &&
                              s.packets_sent * 1200 >= s.datagram_bytes_sent && s.min_rtt_ns > 0 &&
                              s.min_rtt_ns <= s.srtt_ns;
    std::printf("selftest %s: %s in %llu messages, %llu packets, %llu re-sent, %llu lost: %s\n",
                reverse ? "reverse" : "forward", human(s.received_bytes).c_str(),
                static_cast<unsigned long long>(s.received_messages), static_cast<unsigned long long>(s.packets_sent),
                static_cast<unsigned long long>(s.retransmits),
                static_cast<unsigned long long>(s.lost), counts_agree ? "ok" : "FAILED");
    ok = ok && counts_agree;
  }
  std::printf("selftest: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "selftest" && argc == 2) return selftest();
  if (mode == "server" || mode == "client") {
    const auto options = parse(argc, argv, 2, mode == "client");
    if (!options) return usage();
    return mode == "server" ? server_mode(*options) : client_mode(*options);
  }
  return usage();
}
