// SPDX-License-Identifier: MIT
// Fuzz target: operation sequences on live connections, as quinn's streams.rs
// and ngtcp2's read_write_pkt.cc do it. A client and a listening server
// endpoint with fixed seeds complete a real handshake in-process (unless the
// input's first choice leaves it to the operations), then the input picks up to
// 2000 operations: deliver, drop, duplicate or corrupt a datagram in flight;
// inject raw bytes, or a packet of fuzzer-made frames (DATA with any sequence
// and fragment fields, ACK with any ranges, CREDIT, CLOSE, RESET, PING,
// PADDING, SYN, SYN-ACK, COOKIE-ACK) on the header of a real packet, sealed
// with a correct checksum by PacketWriter; send or send_message a deterministic
// pattern; receive or receive_message; close; abort; advance the clock and run
// the timers; connect a second time; toggle listening; use stale and made-up
// handles. It traps when an invariant breaks: every byte a receiver reads is
// the sender's pattern at that stream offset and within what was sent; message
// sizes match while both sides use messages only; events follow each handle's
// life (nothing after Closed, Readable only once Connected) and a handle is
// invalid_handle exactly when its Closed was seen; connection_count() never
// exceeds max_connections; what is readable at once, the next message and the
// credit granted stay within the receive window; a due timer does not stay due
// once serviced; poll_transmit runs dry, and its datagrams parse and keep
// within max_datagram_size. The checksum is no MAC, so a forged packet, or a
// corrupted one that still parses, may legitimately deliver forged bytes: a
// direction's content checks stop once a non-genuine datagram that parses and
// carries DATA has reached its receiver. The protocol checks hold only while no
// non-genuine datagram has parsed at all (drops, duplicates and reordering keep
// them): no protocol_violation, a reset_by_peer only after the peer's abort, a
// graceful Closed only after both sides' close(), a sender's credit within the
// peer's window, end_of_stream only after the sender's close() and once all it
// sent was read, and, at the end, a loss-free network that delivers everything
// sent unless a connection ends.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "rudp/endpoint.hpp"
#include "rudp/wire/checksum.hpp"
#include "rudp/wire/frame.hpp"
#include "rudp/wire/limits.hpp"
#include "rudp/wire/packet.hpp"

namespace {

using namespace rudp;
using namespace std::chrono_literals;

constexpr Address kClientAddress = Address::v4({10, 0, 0, 1}, 4000);
constexpr Address kServerAddress = Address::v4({10, 0, 0, 2}, 5000);
constexpr Address kStrangerAddress = Address::v4({10, 0, 0, 3}, 6000);

constexpr std::size_t kMaxOperations = 2000;
constexpr std::size_t kMaxConnections = 2;
// Datagrams in flight at most; beyond it the oldest is lost.
constexpr std::size_t kMaxInFlight = 512;
// More datagrams than this from one run of poll_transmit calls means it never runs dry.
constexpr std::size_t kMaxTransmitBurst = 4096;
// Genuine datagrams kept as templates for forged ones.
constexpr std::size_t kTemplates = 16;
constexpr std::size_t kMaxSendSize = 6000;
constexpr std::size_t kMaxReadSize = 5000;
// Timer rounds after which a timer still due at the same instant is a livelock.
constexpr int kTimerRounds = 8;
constexpr std::size_t kFinalRounds = 20'000;
// Longest the clock jumps to a timer while running the network: past the ack
// delay, short of retransmission, keepalive and idle timeouts.
constexpr Duration kSettleWait = 100ms;

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "connection_ops invariant violated: %s\n", what);
  __builtin_trap();
}

void require(bool holds, const char* what) {
  if (!holds) violated(what);
}

/// The server's connections: windows and timeouts small enough that short
/// inputs reach flow control, retransmission limits and timeouts.
ConnectionConfig connection_config() {
  ConnectionConfig c;
  c.max_message_size = 4096;
  c.receive_window = c.max_message_size + (std::size_t{64} << 10);  // the smallest allowed
  c.send_buffer = std::size_t{16} << 10;
  c.congestion_control = rudp::CongestionControl::fixed;
  c.fixed_window = std::size_t{8} << 10;
  c.idle_timeout = 5s;
  c.handshake_timeout = 2s;
  c.max_retransmits = 4;
  return c;
}

/// The client's connections also send keepalives, so its timers differ.
ConnectionConfig client_config() {
  ConnectionConfig c = connection_config();
  c.keepalive_interval = 1s;
  return c;
}

/// Byte `offset` of the stream whose pattern is `salt`: a hash, so a
/// repeated, skipped or shifted piece never matches by accident.
std::byte pattern_byte(std::uint64_t salt, std::uint64_t offset) noexcept {
  std::uint64_t z = offset * 0x9e3779b97f4a7c15ull + salt;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return std::byte(z >> 32);
}

std::vector<std::byte> pattern(std::uint64_t salt, std::uint64_t offset, std::size_t size) {
  std::vector<std::byte> out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = pattern_byte(salt, offset + i);
  return out;
}

std::vector<std::byte> as_bytes(const std::vector<std::uint8_t>& in) {
  std::vector<std::byte> out(in.size());
  std::ranges::transform(in, out.begin(), [](std::uint8_t b) { return std::byte{b}; });
  return out;
}

void fix_checksum(std::vector<std::byte>& datagram) {
  if (datagram.size() < wire::kChecksumSize) return;
  const auto body = std::span<const std::byte>(datagram).first(datagram.size() - wire::kChecksumSize);
  wire::Writer trailer{std::span(datagram).last(wire::kChecksumSize)};
  trailer.u32(wire::checksum(body));
}

struct Datagram {
  Address from;
  Address to;
  std::vector<std::byte> bytes;
};

/// One direction of the primary connection pair: what the sender's
/// application wrote and what the receiver's application read.
struct Stream {
  std::uint64_t salt = 0;
  std::uint64_t sent = 0;  // bytes send() and send_message() took
  std::uint64_t read = 0;  // bytes receive() and receive_message() returned
  std::deque<std::uint64_t> messages;  // sizes sent and not yet read, while boundaries holds
  bool boundaries = true;  // only send_message and receive_message used so far
  bool forged = false;     // a non-genuine DATA-carrying datagram reached the receiver
  bool sender_closed = false;
};

/// What the harness knows of one connection handle.
struct Handle {
  bool connected = false;
  bool closed = false;
  bool close_called = false;
  bool abort_called = false;
};

struct Side {
  Endpoint endpoint;
  Address address;
  std::optional<ConnectionHandle> primary;
  std::map<ConnectionHandle, Handle> handles;
  Stream* outgoing = nullptr;  // the stream this side's primary writes
  Stream* incoming = nullptr;  // the stream this side's primary reads
  std::uint64_t datagrams_sent = 0;
  std::deque<Datagram> templates;  // the newest genuine datagrams sent to this side
};

enum class Op : std::uint8_t {
  deliver,
  drop,
  duplicate,
  corrupt,
  inject_raw,
  inject_frames,
  send,
  send_message,
  receive,
  receive_message,
  close,
  abort,
  advance,
  next_timer,
  run,
  connect,
  other_handle,
  listen,
  kMaxValue = listen,
};

enum class FrameKind : std::uint8_t {
  data,
  ack,
  credit,
  close,
  reset,
  ping,
  padding,
  syn,
  syn_ack,
  cookie_ack,
  kMaxValue = cookie_ack,
};

Endpoint make_endpoint(std::uint64_t seed, bool listen) {
  EndpointConfig c;
  c.seed = seed;
  c.accept_incoming = listen;
  c.max_connections = kMaxConnections;
  c.cookie_lifetime = 1s;
  c.incoming = connection_config();
  auto endpoint = Endpoint::create(c, Instant{});
  require(endpoint.has_value(), "the endpoint configuration is valid");
  return std::move(endpoint).value();
}

class Harness {
 public:
  explicit Harness(FuzzedDataProvider& fdp)
      : fdp_(fdp),
        client_{make_endpoint(1, false), kClientAddress, {}, {}, &to_server_, &to_client_},
        server_{make_endpoint(2, true), kServerAddress, {}, {}, &to_client_, &to_server_} {
    to_server_.salt = 0x5eed'0001;
    to_client_.salt = 0x5eed'0002;
  }

  void run() {
    const bool handshake_first = !fdp_.ConsumeBool();
    auto conn = client_.endpoint.connect(now_, kServerAddress, client_config());
    require(conn.has_value(), "the first connect succeeds");
    client_.primary = *conn;
    client_.handles[*conn] = {};
    settle();
    if (handshake_first) {
      require(run_network(100, kSettleWait, [&] { return is_connected(client_) && is_connected(server_); }),
              "the handshake completes on a perfect network");
    }
    for (std::size_t i = 0; i < kMaxOperations && fdp_.remaining_bytes() > 0; ++i) operation();
    if (pristine_) check_delivery();
  }

 private:
  static bool is_connected(const Side& side) {
    return side.primary && side.handles.at(*side.primary).connected;
  }

  Side& side_at(const Address& address) { return address == kClientAddress ? client_ : server_; }
  Side& peer_of(const Side& side) { return &side == &client_ ? server_ : client_; }

  // --- network ---------------------------------------------------------

  void flush(Side& side) {
    std::size_t burst = 0;
    while (const auto t = side.endpoint.poll_transmit(now_, buffer_)) {
      require(t->size <= connection_config().max_datagram_size, "no datagram exceeds max_datagram_size");
      require(++burst <= kMaxTransmitBurst, "poll_transmit runs dry");
      Datagram d{side.address, t->to, {buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(t->size)}};
      ++side.datagrams_sent;
      learn(d);
      in_flight_.push_back(std::move(d));
      if (in_flight_.size() > kMaxInFlight) in_flight_.pop_front();
    }
  }

  // Takes the events and the datagrams both sides have now.
  void settle() {
    poll_events(client_);
    poll_events(server_);
    flush(client_);
    flush(server_);
    poll_events(client_);
    poll_events(server_);
  }

  /// Remembers a genuine datagram as a template for forged ones, with the
  /// connection ids, cookie and DATA sequence numbers it shows.
  void learn(const Datagram& d) {
    if (d.to == kClientAddress || d.to == kServerAddress) {
      std::deque<Datagram>& templates = side_at(d.to).templates;
      templates.push_back(d);
      if (templates.size() > kTemplates) templates.pop_front();
    }
    const auto packet = wire::parse_packet(d.bytes);
    require(packet.has_value(), "every datagram an endpoint sends parses");
    remember_id(packet->header.destination);
    if (packet->header.form == wire::HeaderForm::handshake) remember_id(packet->header.source);
    for (const wire::Frame& f : packet->frames()) {
      if (const auto* s = std::get_if<wire::SynAckFrame>(&f)) cookie_.assign(s->cookie.begin(), s->cookie.end());
      if (const auto* data = std::get_if<wire::DataFrame>(&f)) {
        std::uint64_t& largest = d.to == kServerAddress ? largest_sequence_to_server_ : largest_sequence_to_client_;
        largest = std::max(largest, data->sequence);
      }
    }
  }

  void remember_id(ConnectionId id) {
    if (id != ConnectionId{} && std::ranges::find(ids_, id) == ids_.end() && ids_.size() < 8) ids_.push_back(id);
  }

  /// Hands `d` to the endpoint at its address. A non-genuine datagram that
  /// parses ends the protocol checks, and the content checks of its direction
  /// when it carries DATA.
  void deliver(const Datagram& d, bool genuine) {
    if (d.to != kClientAddress && d.to != kServerAddress) return;
    Side& to = side_at(d.to);
    if (!genuine) {
      if (const auto packet = wire::parse_packet(d.bytes)) {
        pristine_ = false;
        for (const wire::Frame& f : packet->frames()) {
          if (std::holds_alternative<wire::DataFrame>(f)) to.incoming->forged = true;
        }
      }
    }
    to.endpoint.handle_datagram(now_, d.from, d.bytes);
    settle();
  }

  std::optional<std::size_t> pick_in_flight() {
    if (in_flight_.empty()) return std::nullopt;
    return fdp_.ConsumeIntegralInRange<std::size_t>(0, in_flight_.size() - 1);
  }

  Datagram take(std::size_t index) {
    Datagram d = std::move(in_flight_[index]);
    in_flight_.erase(in_flight_.begin() + static_cast<std::ptrdiff_t>(index));
    return d;
  }

  // --- time --------------------------------------------------------------

  std::optional<Instant> next_timeout() const {
    const auto a = client_.endpoint.next_timeout();
    const auto b = server_.endpoint.next_timeout();
    if (a && b) return std::min(*a, *b);
    return a ? a : b;
  }

  /// Services every due timer, and checks that servicing it (and sending
  /// what it asked for) leaves no timer due at the same instant.
  void run_timers() {
    for (int round = 0; round < kTimerRounds; ++round) {
      const auto due = next_timeout();
      if (!due || *due > now_) return;
      for (Side* side : {&client_, &server_}) {
        if (const auto t = side->endpoint.next_timeout(); t && *t <= now_) side->endpoint.handle_timeout(now_);
      }
      settle();
    }
    const auto due = next_timeout();
    require(!due || *due > now_, "a serviced timer does not stay due");
  }

  /// Delivers what is in flight, oldest first, and lets the clock jump to
  /// the next timer whenever nothing is, but never by more than `max_wait`;
  /// stops when `done()` holds (true), when the network is quiet or after
  /// `max_rounds` rounds (false).
  template <class Done>
  bool run_network(std::size_t max_rounds, Duration max_wait, Done done) {
    for (std::size_t round = 0; round < max_rounds; ++round) {
      if (done()) return true;
      if (!in_flight_.empty()) {
        std::deque<Datagram> batch;
        batch.swap(in_flight_);
        for (const Datagram& d : batch) deliver(d, true);
        continue;
      }
      const auto t = next_timeout();
      if (!t || *t > now_ + max_wait) return false;
      now_ = std::max(now_, *t);
      run_timers();
    }
    return done();
  }

  // --- events ------------------------------------------------------------

  Handle& known(Side& side, ConnectionHandle h) {
    const auto it = side.handles.find(h);
    if (it == side.handles.end()) violated("an event names a handle never seen");
    return it->second;
  }

  void poll_events(Side& side) {
    const bool is_client = &side == &client_;
    while (const auto event = side.endpoint.poll_event()) {
      std::visit(
          [&](const auto& e) {
            using E = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<E, Connected>) {
              require(e.incoming == !is_client, "Connected says which side accepted");
              if (!is_client) {
                require(!side.handles.contains(e.connection), "a server connection is connected once");
                side.handles[e.connection] = {};
                if (!side.primary) side.primary = e.connection;
              }
              Handle& h = known(side, e.connection);
              require(!h.connected && !h.closed, "Connected comes once, before Closed");
              h.connected = true;
            } else if constexpr (std::is_same_v<E, Closed>) {
              on_closed(side, e);
            } else {
              const Handle& h = known(side, e.connection);
              require(!h.closed, "no event follows Closed");
              if constexpr (!std::is_same_v<E, Writable>) require(h.connected, "data events follow Connected");
            }
          },
          *event);
    }
    require(side.endpoint.connection_count() <= kMaxConnections, "connection_count() stays within max_connections");
  }

  void on_closed(Side& side, const Closed& e) {
    Handle& h = known(side, e.connection);
    require(!h.closed, "Closed comes once");
    h.closed = true;
    require((e.reason == CloseReason::aborted) == h.abort_called, "Closed{aborted} follows exactly abort()");
    require(e.reason != CloseReason::handshake_timeout || &side == &client_, "only a client times out its handshake");
    if (!pristine_) return;
    require(e.reason != CloseReason::protocol_violation, "a genuine peer never violates the protocol");
    if (!side.primary || e.connection != *side.primary) return;
    const Side& peer = peer_of(side);
    const bool peer_has_primary = peer.primary.has_value();
    const Handle* other = peer_has_primary ? &peer.handles.at(*peer.primary) : nullptr;
    if (e.reason == CloseReason::reset_by_peer) {
      require(other && other->abort_called, "a RESET comes only from the peer's abort()");
    }
    if (e.reason == CloseReason::closed) {
      require(h.close_called && other && other->close_called, "a graceful close needs both sides' close()");
    }
  }

  // --- checks of what applications read ----------------------------------

  void check_read(Stream& stream, std::span<const std::byte> got) {
    if (!stream.forged) {
      require(stream.read + got.size() <= stream.sent, "nothing is read that was not sent");
      for (std::size_t i = 0; i < got.size(); ++i) {
        require(got[i] == pattern_byte(stream.salt, stream.read + i), "bytes are read as sent, in order");
      }
    }
    stream.read += got.size();
  }

  void check_end_of_stream(const Stream& stream) {
    if (!pristine_) return;
    require(stream.sender_closed, "end_of_stream only after the sender's close()");
    require(stream.read == stream.sent, "end_of_stream only once everything sent was read");
  }

  void check_window(Side& side, ConnectionHandle h) {
    const auto stats = side.endpoint.stats(h);
    require(stats.has_value() == !side.handles.at(h).closed, "stats() works until Closed");
    if (!stats) return;
    const std::uint64_t window = connection_config().receive_window;
    require(stats->receive_credit <= window, "the credit granted stays within the receive window");
    if (pristine_) require(stats->send_credit <= window, "a genuine peer grants no more than its window");
    if (const auto next = side.endpoint.next_message(h)) {
      require(next->size <= window, "a ready message fits in the receive window");
    }
  }

  // --- operations ----------------------------------------------------------

  /// A connection handle of `side`: its primary, another one it has seen,
  /// or a made-up one.
  std::optional<ConnectionHandle> pick_handle(Side& side) {
    switch (fdp_.ConsumeIntegralInRange<int>(0, 3)) {
      case 0:
        if (side.handles.empty()) return std::nullopt;
        return std::next(side.handles.begin(), fdp_.ConsumeIntegralInRange<std::ptrdiff_t>(
                                                   0, static_cast<std::ptrdiff_t>(side.handles.size()) - 1))
            ->first;
      case 1:
        return ConnectionHandle{fdp_.ConsumeIntegralInRange<std::uint32_t>(0, 3),
                                fdp_.ConsumeIntegralInRange<std::uint32_t>(0, 3)};
      default:
        return side.primary;
    }
  }

  /// Whether `h` must be valid for `side`'s endpoint: seen and not closed.
  static bool open(const Side& side, ConnectionHandle h) {
    const auto it = side.handles.find(h);
    return it != side.handles.end() && !it->second.closed;
  }

  void require_handle_error(const Side& side, ConnectionHandle h, std::error_code ec) {
    require((ec == errc::invalid_handle) == !open(side, h), "invalid_handle exactly for handles not open");
  }

  void operation() {
    switch (fdp_.ConsumeEnum<Op>()) {
      case Op::deliver:
        if (const auto i = pick_in_flight()) deliver(take(*i), true);
        break;
      case Op::drop:
        if (const auto i = pick_in_flight()) take(*i);
        break;
      case Op::duplicate:
        if (const auto i = pick_in_flight()) deliver(Datagram(in_flight_[*i]), true);
        break;
      case Op::corrupt:
        if (const auto i = pick_in_flight()) corrupt(take(*i));
        break;
      case Op::inject_raw:
        inject_raw();
        break;
      case Op::inject_frames:
        inject_frames();
        break;
      case Op::send:
        send_data(fdp_.ConsumeBool() ? client_ : server_, false);
        break;
      case Op::send_message:
        send_data(fdp_.ConsumeBool() ? client_ : server_, true);
        break;
      case Op::receive:
        receive_data(fdp_.ConsumeBool() ? client_ : server_, false);
        break;
      case Op::receive_message:
        receive_data(fdp_.ConsumeBool() ? client_ : server_, true);
        break;
      case Op::close:
        close_connection(fdp_.ConsumeBool() ? client_ : server_);
        break;
      case Op::abort:
        abort_connection(fdp_.ConsumeBool() ? client_ : server_);
        break;
      case Op::advance:
        now_ += std::chrono::microseconds(fdp_.ConsumeIntegralInRange<std::int64_t>(0, 20'000'000));
        run_timers();
        break;
      case Op::next_timer:
        if (const auto t = next_timeout()) now_ = std::max(now_, *t);
        run_timers();
        break;
      case Op::run:
        run_network(fdp_.ConsumeIntegralInRange<std::size_t>(1, 64), kSettleWait, [] { return false; });
        break;
      case Op::connect:
        connect();
        break;
      case Op::other_handle:
        other_handle(fdp_.ConsumeBool() ? client_ : server_);
        break;
      case Op::listen:
        server_.endpoint.set_accept_incoming(fdp_.ConsumeBool());
        break;
    }
  }

  void corrupt(Datagram d) {
    if (d.bytes.empty()) return;
    const auto bit = fdp_.ConsumeIntegralInRange<std::size_t>(0, d.bytes.size() * 8 - 1);
    d.bytes[bit / 8] ^= std::byte(1u << (bit % 8));
    if (fdp_.ConsumeBool()) fix_checksum(d.bytes);
    deliver(d, false);
  }

  Address pick_source(const Address& genuine) {
    switch (fdp_.ConsumeIntegralInRange<int>(0, 2)) {
      case 0: return genuine;
      case 1: return kStrangerAddress;
      default: return genuine == kClientAddress ? kServerAddress : kClientAddress;
    }
  }

  void inject_raw() {
    const Address to = fdp_.ConsumeBool() ? kClientAddress : kServerAddress;
    const Address from = pick_source(to == kServerAddress ? kClientAddress : kServerAddress);
    const bool checksum = fdp_.ConsumeBool();
    auto bytes = as_bytes(fdp_.ConsumeBytes<std::uint8_t>(fdp_.ConsumeIntegralInRange<std::size_t>(0, 1500)));
    if (checksum) fix_checksum(bytes);
    deliver({from, to, std::move(bytes)}, false);
  }

  ConnectionId pick_id() {
    if (ids_.empty() || fdp_.ConsumeIntegralInRange<int>(0, 7) == 0) {
      return ConnectionId{fdp_.ConsumeIntegral<std::uint32_t>()};
    }
    return ids_[fdp_.ConsumeIntegralInRange<std::size_t>(0, ids_.size() - 1)];
  }

  wire::HandshakeParams pick_params() {
    wire::HandshakeParams p;
    p.max_datagram_size = fdp_.ConsumeIntegralInRange<std::uint64_t>(wire::kMinDatagramSize, wire::kMaxDatagramSize);
    p.initial_credit = fdp_.ConsumeBool() ? connection_config().receive_window
                                          : fdp_.ConsumeIntegralInRange<std::uint64_t>(0, wire::kMaxVarint);
    p.idle_timeout_ms = fdp_.ConsumeIntegralInRange<std::uint64_t>(0, wire::kMaxIdleTimeoutMillis);
    return p;
  }

  /// A varint value near `base` (or anywhere).
  std::uint64_t near(std::uint64_t base) {
    if (fdp_.ConsumeIntegralInRange<int>(0, 7) == 0) {
      return fdp_.ConsumeIntegralInRange<std::uint64_t>(0, wire::kMaxVarint);
    }
    const auto delta = fdp_.ConsumeIntegralInRange<std::int64_t>(-8, 8);
    if (delta < 0 && static_cast<std::uint64_t>(-delta) > base) return 0;
    return std::min(base + static_cast<std::uint64_t>(delta), wire::kMaxVarint);
  }

  /// Bytes for a payload, reason or cookie: the fuzzer's own, the real cookie
  /// or the pattern of the stream toward `to`, at the offset its receiver reads next.
  std::vector<std::byte> pick_blob(const Side& to, std::size_t max) {
    const auto size = fdp_.ConsumeIntegralInRange<std::size_t>(0, max);
    switch (fdp_.ConsumeIntegralInRange<int>(0, 2)) {
      case 0: return as_bytes(fdp_.ConsumeBytes<std::uint8_t>(size));
      case 1: return {cookie_.begin(), cookie_.begin() + static_cast<std::ptrdiff_t>(std::min(size, cookie_.size()))};
      default: return pattern(to.incoming->salt, to.incoming->read, size);
    }
  }

  /// Writes one fuzzer-made frame of `kind` for a packet going to `to`;
  /// `blobs` keeps the bytes its spans point into alive.
  void write_frame(wire::Writer& w, FrameKind kind, const Side& to, bool last,
                   std::deque<std::vector<std::byte>>& blobs) {
    switch (kind) {
      case FrameKind::data: {
        wire::DataFrame f;
        f.mode = static_cast<DeliveryMode>(fdp_.ConsumeIntegralInRange<std::uint8_t>(0, 3));
        f.channel = fdp_.ConsumeIntegralInRange<int>(0, 3) == 0 ? fdp_.ConsumeIntegral<std::uint8_t>() : 0;
        if (fdp_.ConsumeBool()) {
          f.fragment_count = fdp_.ConsumeIntegralInRange<std::uint32_t>(
              2, fdp_.ConsumeBool() ? 8 : static_cast<std::uint32_t>(wire::kMaxFragmentCount));
          f.fragment_index = fdp_.ConsumeIntegralInRange<std::uint32_t>(0, f.fragment_count - 1);
        }
        const std::uint64_t largest = &to == &server_ ? largest_sequence_to_server_ : largest_sequence_to_client_;
        if (wire::has_sequence(f.mode, f.fragment_count)) f.sequence = near(largest);
        f.explicit_length = !last || fdp_.ConsumeBool();
        f.payload = blobs.emplace_back(pick_blob(to, 1100));
        wire::encode_frame(w, f);
        break;
      }
      case FrameKind::ack: {
        // It acknowledges packets `to` sent, numbered from 0 on each connection.
        std::uint64_t largest = near(to.datagrams_sent);
        const auto count = fdp_.ConsumeIntegralInRange<std::size_t>(1, fdp_.ConsumeBool() ? 4 : wire::kMaxAckRanges);
        std::vector<wire::AckRange> ranges;
        for (std::size_t i = 0; i < count; ++i) {
          const std::uint64_t smallest = largest - std::min(largest, fdp_.ConsumeIntegralInRange<std::uint64_t>(0, 16));
          ranges.push_back({smallest, largest});
          if (i + 1 == count || smallest < 2) break;
          largest = smallest - 2 - std::min(smallest - 2, fdp_.ConsumeIntegralInRange<std::uint64_t>(0, 16));
        }
        wire::write_ack_frame(w, fdp_.ConsumeIntegralInRange<std::uint64_t>(0, wire::kMaxAckDelay), ranges);
        break;
      }
      case FrameKind::credit:
        wire::encode_frame(w, wire::CreditFrame{near(connection_config().receive_window)});
        break;
      case FrameKind::close:
        wire::encode_frame(w, wire::CloseFrame{near(0), blobs.emplace_back(pick_blob(to, wire::kMaxReasonLength))});
        break;
      case FrameKind::reset:
        wire::encode_frame(w, wire::ResetFrame{near(0), blobs.emplace_back(pick_blob(to, wire::kMaxReasonLength))});
        break;
      case FrameKind::ping:
        wire::encode_frame(w, wire::PingFrame{});
        break;
      case FrameKind::padding:
        wire::encode_frame(w, wire::PaddingFrame{fdp_.ConsumeIntegralInRange<std::size_t>(1, 1200)});
        break;
      case FrameKind::syn:
        wire::encode_frame(w, wire::SynFrame{pick_params()});
        break;
      case FrameKind::syn_ack: {
        const wire::HandshakeParams params = pick_params();
        wire::encode_frame(w, wire::SynAckFrame{params, blobs.emplace_back(pick_blob(to, wire::kMaxCookieSize))});
        break;
      }
      case FrameKind::cookie_ack: {
        const wire::HandshakeParams params = pick_params();
        wire::encode_frame(w, wire::CookieAckFrame{params, blobs.emplace_back(pick_blob(to, wire::kMaxCookieSize))});
        break;
      }
    }
  }

  /// A packet of fuzzer-made frames on the header of a recent genuine
  /// datagram to the same side (its ids, form and packet number, or
  /// fuzzer-chosen ones), with a correct checksum, so the fuzzer reaches the
  /// connection's frame handling.
  void inject_frames() {
    Side& target = fdp_.ConsumeBool() ? client_ : server_;
    const auto age = fdp_.ConsumeIntegralInRange<std::size_t>(0, kTemplates - 1);
    if (target.templates.empty()) return;
    const Datagram& model = target.templates[target.templates.size() - 1 - std::min(age, target.templates.size() - 1)];
    const auto parsed = wire::parse_packet(model.bytes);
    require(parsed.has_value(), "a genuine datagram parses");
    wire::Header header = parsed->header;
    if (fdp_.ConsumeBool()) {
      header.number.length = fdp_.ConsumeIntegralInRange<std::uint8_t>(1, 4);
      header.number.value = fdp_.ConsumeIntegral<std::uint32_t>();
    }
    if (fdp_.ConsumeIntegralInRange<int>(0, 3) == 0) {
      header.form = fdp_.ConsumeBool() ? wire::HeaderForm::handshake : wire::HeaderForm::data;
      header.destination = fdp_.ConsumeBool() ? ConnectionId{} : pick_id();
      header.source = pick_id();
    }
    std::vector<std::byte> bytes(wire::kMaxDatagramSize);
    wire::PacketWriter packet(bytes, header);
    std::deque<std::vector<std::byte>> blobs;
    const auto frames = fdp_.ConsumeIntegralInRange<int>(1, 4);
    for (int i = 0; i < frames; ++i) {
      write_frame(packet.frames(), fdp_.ConsumeEnum<FrameKind>(), target, i + 1 == frames, blobs);
    }
    // A SYN must fill a minimum-size datagram; padding lets a forged one count.
    if (fdp_.ConsumeBool() && packet.frames().position() + wire::kChecksumSize < wire::kMinDatagramSize) {
      wire::encode_frame(packet.frames(),
                         wire::PaddingFrame{wire::kMinDatagramSize - wire::kChecksumSize - packet.frames().position()});
    }
    const auto size = packet.finish();
    if (!size) return;
    bytes.resize(*size);
    deliver({pick_source(model.from), target.address, std::move(bytes)}, false);
  }

  void send_data(Side& side, bool message) {
    const auto h = pick_handle(side);
    const auto size = fdp_.ConsumeIntegralInRange<std::size_t>(0, kMaxSendSize);
    if (!h) return;
    const bool primary = h == side.primary;
    Stream& stream = *side.outgoing;
    const auto bytes = pattern(stream.salt, stream.sent, size);
    if (message) {
      const std::error_code ec = side.endpoint.send_message(*h, bytes);
      require_handle_error(side, *h, ec);
      const bool oversize = size > connection_config().max_message_size;
      require(ec || !oversize, "send_message takes nothing above max_message_size");
      // Before the handshake the peer's window is unknown and may refuse less.
      if (pristine_ && open(side, *h) && side.handles.at(*h).connected && ec == errc::message_too_large) {
        require(oversize, "a connected peer's window takes any message up to max_message_size");
      }
      if (!ec && primary) {
        stream.sent += size;
        stream.messages.push_back(size);
      }
    } else {
      const auto taken = side.endpoint.send(*h, bytes);
      require_handle_error(side, *h, taken.error());
      if (taken) {
        require(*taken <= size, "send takes at most what it is given");
        if (primary) {
          stream.sent += *taken;
          if (*taken > 0) stream.boundaries = false;
        }
      }
    }
    settle();
  }

  void receive_data(Side& side, bool message) {
    const auto h = pick_handle(side);
    const auto size = fdp_.ConsumeIntegralInRange<std::size_t>(0, kMaxReadSize);
    const bool all = fdp_.ConsumeBool();
    if (!h) return;
    const bool primary = h == side.primary;
    Stream& stream = *side.incoming;
    std::vector<std::byte> out(size);
    std::uint64_t drained = 0;
    while (true) {
      if (primary) check_window(side, *h);
      const auto next = side.endpoint.next_message(*h);
      const auto got = message ? side.endpoint.receive_message(*h, out) : side.endpoint.receive(*h, out);
      require_handle_error(side, *h, got.error());
      if (!got) {
        if (primary && got.error() == errc::end_of_stream) check_end_of_stream(stream);
        if (primary && got.error() == errc::buffer_too_small) {
          require(next && next->size > size, "buffer_too_small only for a larger message");
          if (stream.boundaries && !stream.forged) {
            require(!stream.messages.empty() && stream.messages.front() > size,
                    "the message kept is the next one sent");
          }
        }
        break;
      }
      require(*got <= size, "a read fits its buffer");
      if (message) require(next && next->size == *got, "receive_message returns the announced size");
      if (primary) {
        check_read(stream, std::span(out).first(*got));
        drained += *got;
        require(drained <= connection_config().receive_window, "what is readable at once fits in the receive window");
        if (!message) stream.boundaries = false;
        if (message && stream.boundaries && !stream.forged) {
          require(!stream.messages.empty() && stream.messages.front() == *got, "messages arrive whole, as sent");
          stream.messages.pop_front();
        }
      }
      if (!all || (!message && *got == 0)) break;
    }
    settle();
  }

  void close_connection(Side& side) {
    const auto h = pick_handle(side);
    if (!h) return;
    const std::error_code ec = side.endpoint.close(*h);
    require_handle_error(side, *h, ec);
    if (!ec) {
      side.handles.at(*h).close_called = true;
      if (h == side.primary) side.outgoing->sender_closed = true;
    }
    settle();
  }

  void abort_connection(Side& side) {
    const auto h = pick_handle(side);
    const auto code = fdp_.ConsumeIntegralInRange<std::uint64_t>(0, wire::kMaxVarint);
    if (!h) return;
    const bool was_open = open(side, *h);
    if (was_open) side.handles.at(*h).abort_called = true;
    const std::error_code ec = side.endpoint.abort(*h, code);
    require_handle_error(side, *h, ec);
    settle();
    if (was_open) require(side.handles.at(*h).closed, "abort() raises Closed at once");
  }

  void connect() {
    // A second client connection only once the server has seen the first,
    // so that the server's first connection is the primary one.
    if (!server_.primary) return;
    const std::size_t before = client_.endpoint.connection_count();
    auto h = client_.endpoint.connect(now_, kServerAddress, client_config());
    require(h.has_value() == (before < kMaxConnections), "connect fails exactly when max_connections are held");
    if (h) client_.handles[*h] = {};
    settle();
  }

  /// Calls the queries and reads on a handle other than the primary one (whose
  /// reads are checked): a closed one, a second connection or a made-up one;
  /// each must fail exactly when the handle is not open.
  void other_handle(Side& side) {
    const auto h = pick_handle(side);
    if (!h || h == side.primary) return;
    std::array<std::byte, 16> out{};
    require_handle_error(side, *h, side.endpoint.stats(*h).error());
    require_handle_error(side, *h, side.endpoint.receive(*h, out).error());
    require_handle_error(side, *h, side.endpoint.receive_message(*h, out).error());
    require(!side.endpoint.next_message(*h) || open(side, *h), "no message on a handle not open");
    settle();
  }

  // --- the end -----------------------------------------------------------

  /// On a loss-free network with applications that read everything, all
  /// that was sent arrives, unless a connection ends first.
  void check_delivery() {
    auto ended = [&](const Side& side) { return !side.primary || side.handles.at(*side.primary).closed; };
    auto read_all = [&](Side& side) {
      if (ended(side)) return;
      std::vector<std::byte> out(kMaxReadSize);
      while (true) {
        const auto got = side.endpoint.receive(*side.primary, out);
        if (got.error() == errc::end_of_stream) check_end_of_stream(*side.incoming);
        if (!got || *got == 0) break;
        check_read(*side.incoming, std::span(out).first(*got));
      }
    };
    const bool done = run_network(kFinalRounds, std::chrono::hours(1), [&] {
      read_all(client_);
      read_all(server_);
      settle();
      if (ended(client_) || !server_.primary || ended(server_)) return ended(client_) || ended(server_);
      return to_server_.read == to_server_.sent && to_client_.read == to_client_.sent;
    });
    require(done, "a loss-free network delivers everything sent");
  }

  FuzzedDataProvider& fdp_;
  Stream to_server_;
  Stream to_client_;
  Side client_;
  Side server_;
  Instant now_{};
  bool pristine_ = true;
  std::deque<Datagram> in_flight_;
  std::vector<ConnectionId> ids_;
  std::vector<std::byte> cookie_;
  std::uint64_t largest_sequence_to_server_ = 0;
  std::uint64_t largest_sequence_to_client_ = 0;
  std::vector<std::byte> buffer_ = std::vector<std::byte>(wire::kMaxDatagramSize);
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  Harness(fdp).run();
  return 0;
}
