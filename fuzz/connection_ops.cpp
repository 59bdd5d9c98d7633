// SPDX-License-Identifier: MIT
// Fuzz target: operation sequences on live connections, as quinn's streams.rs
// and ngtcp2's read_write_pkt.cc do it. A client and a listening server
// endpoint with fixed seeds complete a real handshake in-process (unless the
// input's first choice leaves it to the operations), then the input picks up to
// 2000 operations: deliver, drop, duplicate or corrupt a datagram in flight;
// inject raw bytes, or a packet of fuzzer-made frames (DATA of any mode and
// channel with any sequence and fragment fields, SKIP, ACK with any ranges,
// CREDIT, CLOSE, RESET, PING, PADDING, SYN, SYN-ACK, COOKIE-ACK) on the header
// of a real packet, sealed with a correct checksum by PacketWriter; send or
// send_message a deterministic pattern, the latter also with SendOptions (any
// channel and mode, a deadline relative to the virtual clock, a re-send limit,
// a supersede key, a receipt); configure_channel (weight 0 included);
// receive, receive_message or next_message; close; abort; advance the clock
// and run the timers; connect a second time; toggle listening; use stale and
// made-up handles. RUDP_FUZZ_TRACE=1 in the environment prints each operation.
//
// It traps when an invariant breaks. For every run: message sizes, channels
// and modes match what next_message announced; events follow each handle's
// life (nothing after Closed, Readable only once Connected) and a handle is
// invalid_handle exactly when its Closed was seen; connection_count() never
// exceeds max_connections; what is readable at once, the next message and the
// credit granted stay within the receive window (and the unreliable buffer); a
// due timer does not stay due once serviced; poll_transmit runs dry, and its
// datagrams parse and keep within max_datagram_size; send_message and
// configure_channel fail exactly as documented (weight 0 is invalid_config);
// a Receipt carries a tag the harness asked for, on that message's connection
// and channel, at most once, and all of a connection's come before its Closed;
// expired only for a message with a deadline, superseded only for one with a
// key that a later message on its channel shared, lost for a reliable message
// without a re-send limit only as its connection ends; and no counter of
// ConnectionStats or EndpointStats ever decreases.
//
// What a receiver reads is checked as far as the direction allows. While
// everything sent in a direction is one reliable-ordered stream (channel 0,
// no deadline, re-send limit or supersede key: Stream::plain), every byte read
// is the sender's pattern at that stream offset and within what was sent.
// While a direction uses messages only (Stream::boundaries), every message
// read is one that was sent, whole, on the channel and in the mode announced,
// and read once; a reliable-ordered one comes after every earlier reliable
// message of its channel that nothing could abandon, and unreliable-sequenced
// ones of a channel never go backwards. The checksum is no MAC, so a forged
// packet, or a corrupted one that still parses, may legitimately deliver
// forged bytes: a direction's content checks stop once a non-genuine datagram
// that parses and carries DATA or SKIP has reached its receiver. The protocol
// checks hold only while no non-genuine datagram has parsed at all (drops,
// duplicates and reordering keep them): no protocol_violation, a reset_by_peer
// only after the peer's abort, a graceful Closed only after both sides'
// close(), a sender's credit within the peer's window, end_of_stream only
// after the sender's close() and once all it sent that must arrive was read,
// and, at the end, a loss-free network that delivers everything that must
// arrive unless a connection ends.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rudp/endpoint.hpp"
#include "rudp/core/send_queue.hpp"
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

bool tracing() {
  static const bool on = std::getenv("RUDP_FUZZ_TRACE") != nullptr;
  return on;
}

/// With RUDP_FUZZ_TRACE set, prints one line of what the input does.
__attribute__((format(printf, 1, 2))) void trace(const char* format, ...) {
  if (!tracing()) return;
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
}

bool is_reliable(DeliveryMode mode) noexcept {
  return mode == DeliveryMode::reliable_ordered || mode == DeliveryMode::reliable_unordered;
}

const char* to_string(DeliveryMode mode) noexcept {
  switch (mode) {
    case DeliveryMode::unreliable: return "unreliable";
    case DeliveryMode::unreliable_sequenced: return "unreliable-sequenced";
    case DeliveryMode::reliable_unordered: return "reliable-unordered";
    case DeliveryMode::reliable_ordered: return "reliable-ordered";
  }
  return "?";
}

/// The counters of ConnectionStats and EndpointStats: none ever decreases.
constexpr std::array kConnectionCounters{
    &ConnectionStats::congestion_events,   &ConnectionStats::packets_sent,
    &ConnectionStats::packets_received,    &ConnectionStats::packets_lost,
    &ConnectionStats::packets_duplicate,   &ConnectionStats::chunks_retransmitted,
    &ConnectionStats::chunks_rebundled,    &ConnectionStats::tail_loss_probes,
    &ConnectionStats::spurious_retransmissions,
    &ConnectionStats::malformed_dropped,   &ConnectionStats::messages_expired,
    &ConnectionStats::messages_abandoned,  &ConnectionStats::messages_superseded,
    &ConnectionStats::messages_skipped,    &ConnectionStats::messages_stale,
    &ConnectionStats::unreliable_dropped,  &ConnectionStats::reassembly_dropped,
    &ConnectionStats::bytes_sent,          &ConnectionStats::bytes_received,
    &ConnectionStats::probe_timeouts,
};
constexpr std::array kEndpointCounters{
    &EndpointStats::datagrams_received,   &EndpointStats::malformed_dropped,
    &EndpointStats::unknown_connection_dropped, &EndpointStats::foreign_address_dropped,
    &EndpointStats::syn_received,         &EndpointStats::syn_dropped,
    &EndpointStats::cookies_rejected,     &EndpointStats::connections_accepted,
    &EndpointStats::connections_refused,
};

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
  // Small enough that inputs reach the eviction, drops and timeouts of
  // unreliable messages: two 4 KiB messages' fragments fill the reassembly buffer.
  c.reassembly_buffer = std::size_t{8} << 10;
  c.reassembly_timeout = 500ms;
  c.unreliable_buffer = std::size_t{16} << 10;
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

/// Whether `got` is the pattern of `salt` from `offset` on.
bool matches(std::uint64_t salt, std::uint64_t offset, std::span<const std::byte> got) noexcept {
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] != pattern_byte(salt, offset + i)) return false;
  }
  return true;
}

struct Datagram {
  Address from;
  Address to;
  std::vector<std::byte> bytes;
};

/// A message the primary connection's application queued, as the receiver's
/// checks know it; kept while the direction's messages can be told apart.
struct Sent {
  std::uint64_t offset = 0;  // its bytes are the stream's pattern from this offset
  std::size_t size = 0;
  ChannelId channel = 0;
  DeliveryMode mode = DeliveryMode::reliable_ordered;
  bool guaranteed = false;  // reliable with no deadline, re-send limit or supersede key: nothing may drop it
  bool keyed = false;       // a supersede key lets it take an earlier message's place in its queue
  bool delivered = false;
};

/// One direction of the primary connection pair: what the sender's
/// application wrote and what the receiver's application read.
struct Stream {
  std::uint64_t salt = 0;
  std::uint64_t sent = 0;  // bytes send() and send_message() took; a message's bytes are the pattern at its offset
  std::uint64_t read = 0;  // bytes receive() and receive_message() returned
  std::deque<std::uint64_t> messages;  // sizes sent and not yet read, while boundaries and plain hold
  bool boundaries = true;  // only send_message and receive_message used so far
  // Everything sent is one reliable-ordered stream: channel 0 in that mode,
  // no deadline, re-send limit or supersede key.
  bool plain = true;
  bool forged = false;     // a non-genuine datagram carrying DATA or SKIP reached the receiver
  bool ambiguous = false;  // a message read matched two sent ones (tiny or empty): the order checks stop
  bool sender_closed = false;
  std::vector<Sent> ledger;           // every message sent, while boundaries holds
  std::size_t guaranteed_unread = 0;  // guaranteed messages of the ledger not read yet
  // Per channel: no guaranteed message of the channel before this ledger index is unread.
  std::array<std::size_t, 256> guaranteed_floor{};
  // Per channel: 1 + the ledger index of the newest unreliable-sequenced message
  // without a supersede key read (0: none).
  std::array<std::size_t, 256> newest_sequenced{};
};

constexpr std::array<DeliveryMode, 256> default_modes() {
  std::array<DeliveryMode, 256> modes{};
  modes.fill(DeliveryMode::reliable_ordered);
  return modes;
}

/// What the harness knows of one connection handle.
struct Handle {
  bool connected = false;
  bool closed = false;
  bool close_called = false;
  bool abort_called = false;
  std::array<DeliveryMode, 256> modes = default_modes();  // each channel's mode, as configure_channel set it
  std::optional<ConnectionStats> stats;  // the last read, to check that counters never decrease
  std::uint64_t receipts_expired = 0;
  std::uint64_t receipts_superseded = 0;
};

/// A receipt the harness asked for, under its tag.
struct Ticket {
  bool client = false;
  ConnectionHandle connection;
  ChannelId channel = 0;
  DeliveryMode mode = DeliveryMode::reliable_ordered;
  bool deadline = false;
  bool limited = false;  // max_retransmits was set
  std::optional<std::uint64_t> key;
  bool supersedable = false;  // a later message with its key was queued on its channel
  bool reported = false;
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
  // Per channel, the largest sequence number of genuine DATA (and SKIP) sent
  // to this side, in each sequence space, for forged frames to aim near.
  std::array<std::uint64_t, 256> reliable_sequence{};
  std::array<std::uint64_t, 256> unreliable_sequence{};
  std::optional<EndpointStats> stats;  // the last read, to check that counters never decrease
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
  send_options,
  configure_channel,
  next_message,
  kMaxValue = next_message,
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
  skip,
  kMaxValue = skip,
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
      trace_datagram("  sent", d, in_flight_.size());
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
      if (d.to != kClientAddress && d.to != kServerAddress) continue;
      Side& to = side_at(d.to);
      if (const auto* data = std::get_if<wire::DataFrame>(&f)) {
        std::uint64_t& largest =
            (is_reliable(data->mode) ? to.reliable_sequence : to.unreliable_sequence)[data->channel];
        largest = std::max(largest, data->sequence);
      }
      if (const auto* skip = std::get_if<wire::SkipFrame>(&f)) {
        std::uint64_t& largest = to.reliable_sequence[skip->channel];
        largest = std::max(largest, skip->sequence + skip->count - 1);
      }
    }
  }

  void remember_id(ConnectionId id) {
    if (id != ConnectionId{} && std::ranges::find(ids_, id) == ids_.end() && ids_.size() < 8) ids_.push_back(id);
  }

  /// Hands `d` to the endpoint at its address. A non-genuine datagram that
  /// parses ends the protocol checks, and the content checks of its direction
  /// when it carries DATA or SKIP.
  void deliver(const Datagram& d, bool genuine) {
    if (d.to != kClientAddress && d.to != kServerAddress) return;
    Side& to = side_at(d.to);
    if (!genuine) {
      trace_datagram("forged", d, std::nullopt);
      if (const auto packet = wire::parse_packet(d.bytes)) {
        pristine_ = false;
        for (const wire::Frame& f : packet->frames()) {
          if (std::holds_alternative<wire::DataFrame>(f) || std::holds_alternative<wire::SkipFrame>(f)) {
            to.incoming->forged = true;
          }
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
    // Connections whose Closed must follow in this batch of events.
    std::vector<ConnectionHandle> ending;
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
            } else if constexpr (std::is_same_v<E, Receipt>) {
              // A receipt may come before Connected: a message superseded, or
              // lost with a handshake that never completed.
              require(!known(side, e.connection).closed, "no event follows Closed");
              on_receipt(side, e, ending);
            } else {
              const Handle& h = known(side, e.connection);
              require(!h.closed, "no event follows Closed");
              if constexpr (!std::is_same_v<E, Writable>) require(h.connected, "data events follow Connected");
            }
          },
          *event);
    }
    for (const ConnectionHandle h : ending) {
      require(side.handles.at(h).closed,
              "a reliable message without a re-send limit is reported lost only as its connection ends");
    }
    require(side.endpoint.connection_count() <= kMaxConnections, "connection_count() stays within max_connections");
    check_counters(side);
  }

  /// No counter of a connection's or the endpoint's stats ever decreases.
  void check_counters(Side& side) {
    for (auto& [handle, h] : side.handles) {
      if (h.closed) continue;
      const auto stats = side.endpoint.stats(handle);
      if (!stats) continue;
      if (h.stats) {
        for (const auto counter : kConnectionCounters) {
          require((*stats).*counter >= (*h.stats).*counter, "connection counters never decrease");
        }
      }
      h.stats = *stats;
    }
    const EndpointStats& stats = side.endpoint.stats();
    if (side.stats) {
      for (const auto counter : kEndpointCounters) {
        require(stats.*counter >= (*side.stats).*counter, "endpoint counters never decrease");
      }
    }
    side.stats = stats;
  }

  void on_receipt(Side& side, const Receipt& r, std::vector<ConnectionHandle>& ending) {
    trace("  %s receipt %u.%u channel %u tag %llx: %s", name(side), r.connection.index, r.connection.generation,
          unsigned{r.channel}, static_cast<unsigned long long>(r.tag), to_string(r.outcome));
    const auto it = tickets_.find(r.tag);
    require(it != tickets_.end(), "a Receipt carries a tag that was asked for");
    Ticket& t = it->second;
    require(t.client == (&side == &client_) && t.connection == r.connection && t.channel == r.channel,
            "a Receipt comes on its message's connection and channel");
    require(!t.reported, "at most one Receipt per message");
    t.reported = true;
    Handle& h = side.handles.at(r.connection);
    switch (r.outcome) {
      case ReceiptOutcome::acknowledged:
        break;
      case ReceiptOutcome::lost:
        // A reliable message is re-sent until acknowledged unless it has a
        // re-send limit; only the end of its connection loses it otherwise.
        if (is_reliable(t.mode) && !t.limited) ending.push_back(r.connection);
        break;
      case ReceiptOutcome::expired:
        require(t.deadline, "only a message with a deadline expires");
        ++h.receipts_expired;
        break;
      case ReceiptOutcome::superseded:
        require(t.key && t.supersedable,
                "only a message whose key a later message on its channel shares is superseded");
        ++h.receipts_superseded;
        break;
    }
    if (const auto stats = side.endpoint.stats(r.connection)) {
      require(stats->messages_expired >= h.receipts_expired, "messages_expired counts every expired receipt");
      require(stats->messages_superseded >= h.receipts_superseded,
              "messages_superseded counts every superseded receipt");
    }
  }

  void on_closed(Side& side, const Closed& e) {
    trace("  %s closed %u.%u: %s", name(side), e.connection.index, e.connection.generation, to_string(e.reason));
    Handle& h = known(side, e.connection);
    require(!h.closed, "Closed comes once");
    h.closed = true;
    for (const auto& [tag, t] : tickets_) {
      if (t.client == (&side == &client_) && t.connection == e.connection) {
        require(t.reported, "every receipt of a connection comes before its Closed");
      }
    }
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

  /// Bytes read from a stream (by either call): while it is plain, they are
  /// the pattern at the offset read so far.
  void check_read(Stream& stream, std::span<const std::byte> got) {
    if (stream.plain && !stream.forged) {
      require(stream.read + got.size() <= stream.sent, "nothing is read that was not sent");
      for (std::size_t i = 0; i < got.size(); ++i) {
        require(got[i] == pattern_byte(stream.salt, stream.read + i), "bytes are read as sent, in order");
      }
    }
    stream.read += got.size();
  }

  /// Whether the direction's messages can be told apart and trusted.
  static bool ledger_checked(const Stream& stream) { return stream.boundaries && !stream.forged; }

  /// A whole message read with receive_message, announced by next_message
  /// as `info`: it is a message that was sent, on that channel and in that
  /// mode, not read before, and in the order its mode promises.
  void check_message(Stream& stream, std::span<const std::byte> got, const MessageInfo& info) {
    if (!ledger_checked(stream)) return;
    std::optional<std::size_t> match;
    bool twice = false;
    for (std::size_t i = 0; i < stream.ledger.size(); ++i) {
      const Sent& m = stream.ledger[i];
      if (m.delivered || m.channel != info.channel || m.mode != info.mode || m.size != got.size()) continue;
      if (!matches(stream.salt, m.offset, got)) continue;
      if (match) {
        twice = true;
        break;
      }
      match = i;
    }
    require(match.has_value(), "every message read was sent, whole, on the channel and in the mode announced, once");
    // Two empty (or tiny) messages alike: which was read is a guess, so a
    // check of what came before could fail for nothing.
    if (twice) stream.ambiguous = true;
    Sent& m = stream.ledger[*match];
    m.delivered = true;
    if (m.guaranteed) --stream.guaranteed_unread;
    // A message with a key may have taken the place of an earlier one in its
    // queue, ahead of messages sent before it.
    if (stream.ambiguous || m.keyed) return;
    if (m.mode == DeliveryMode::reliable_ordered) {
      // Its chunks come after those of every reliable message queued before
      // it on the channel, and only a deadline, a re-send limit or a key
      // lets one of those be abandoned (SKIP) instead of delivered.
      std::size_t& floor = stream.guaranteed_floor[m.channel];
      while (floor < stream.ledger.size() && !(stream.ledger[floor].channel == m.channel &&
                                                stream.ledger[floor].guaranteed && !stream.ledger[floor].delivered)) {
        ++floor;
      }
      require(floor > *match, "a reliable-ordered message comes after every earlier reliable message of its channel");
    }
    if (m.mode == DeliveryMode::unreliable_sequenced) {
      std::size_t& newest = stream.newest_sequenced[m.channel];
      require(*match + 1 > newest, "an unreliable-sequenced message never comes after a newer one of its channel");
      newest = *match + 1;
    }
  }

  void check_end_of_stream(const Stream& stream) {
    if (!pristine_) return;
    require(stream.sender_closed, "end_of_stream only after the sender's close()");
    if (stream.plain) require(stream.read == stream.sent, "end_of_stream only once everything sent was read");
    if (ledger_checked(stream) && !stream.ambiguous) {
      require(stream.guaranteed_unread == 0, "end_of_stream only once every message that must arrive was read");
    }
  }

  void check_window(Side& side, ConnectionHandle h) {
    const auto stats = side.endpoint.stats(h);
    require(stats.has_value() == !side.handles.at(h).closed, "stats() works until Closed");
    if (!stats) return;
    const std::uint64_t window = connection_config().receive_window;
    require(stats->receive_credit <= window, "the credit granted stays within the receive window");
    if (pristine_) require(stats->send_credit <= window, "a genuine peer grants no more than its window");
    if (const auto next = side.endpoint.next_message(h)) check_next(side, h, *next);
  }

  /// What next_message announced on `h`.
  void check_next(Side& side, ConnectionHandle h, const MessageInfo& next) {
    require(open(side, h), "no message on a handle not open");
    require(next.size <= connection_config().receive_window, "a ready message fits in the receive window");
    if (h != side.primary) return;
    const Stream& stream = *side.incoming;
    if (stream.plain && !stream.forged) {
      require(next.channel == 0 && next.mode == DeliveryMode::reliable_ordered,
              "a plain stream's messages are channel 0 reliable-ordered");
    }
    if (ledger_checked(stream)) {
      require(std::ranges::any_of(stream.ledger,
                                  [&](const Sent& m) {
                                    return !m.delivered && m.channel == next.channel && m.mode == next.mode &&
                                           m.size == next.size;
                                  }),
              "next_message announces a message sent and not read yet");
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
        if (const auto i = pick_in_flight()) {
          trace_datagram("deliver", in_flight_[*i], *i);
          deliver(take(*i), true);
        }
        break;
      case Op::drop:
        if (const auto i = pick_in_flight()) {
          trace_datagram("drop", in_flight_[*i], *i);
          take(*i);
        }
        break;
      case Op::duplicate:
        if (const auto i = pick_in_flight()) {
          trace_datagram("duplicate", in_flight_[*i], *i);
          deliver(Datagram(in_flight_[*i]), true);
        }
        break;
      case Op::corrupt:
        if (const auto i = pick_in_flight()) {
          trace_datagram("corrupt", in_flight_[*i], *i);
          corrupt(take(*i));
        }
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
        trace("t=%lld advance", micros(now_));
        run_timers();
        break;
      case Op::next_timer:
        if (const auto t = next_timeout()) now_ = std::max(now_, *t);
        trace("t=%lld next_timer", micros(now_));
        run_timers();
        break;
      case Op::run: {
        const auto rounds = fdp_.ConsumeIntegralInRange<std::size_t>(1, 64);
        trace("t=%lld run %zu rounds", micros(now_), rounds);
        run_network(rounds, kSettleWait, [] { return false; });
        break;
      }
      case Op::connect:
        connect();
        break;
      case Op::other_handle:
        other_handle(fdp_.ConsumeBool() ? client_ : server_);
        break;
      case Op::listen:
        server_.endpoint.set_accept_incoming(fdp_.ConsumeBool());
        break;
      case Op::send_options:
        send_options(fdp_.ConsumeBool() ? client_ : server_);
        break;
      case Op::configure_channel:
        configure_channel(fdp_.ConsumeBool() ? client_ : server_);
        break;
      case Op::next_message:
        next_message(fdp_.ConsumeBool() ? client_ : server_);
        break;
    }
  }

  /// With tracing on, the frames of a datagram, one word each.
  static std::string describe(std::span<const std::byte> bytes) {
    const auto packet = wire::parse_packet(bytes);
    if (!packet) return "(does not parse)";
    std::string out;
    char word[160];
    for (const wire::Frame& frame : packet->frames()) {
      std::visit(
          [&](const auto& f) {
            using F = std::decay_t<decltype(f)>;
            if constexpr (std::is_same_v<F, wire::DataFrame>) {
              std::snprintf(word, sizeof word, " DATA(ch %u %s seq %llu frag %u/%u, %zu bytes)", unsigned{f.channel},
                            to_string(f.mode), static_cast<unsigned long long>(f.sequence), f.fragment_index,
                            f.fragment_count, f.payload.size());
            } else if constexpr (std::is_same_v<F, wire::SkipFrame>) {
              std::snprintf(word, sizeof word, " SKIP(ch %u seq %llu count %llu cost %llu)", unsigned{f.channel},
                            static_cast<unsigned long long>(f.sequence), static_cast<unsigned long long>(f.count),
                            static_cast<unsigned long long>(f.cost));
            } else if constexpr (std::is_same_v<F, wire::AckFrame>) {
              std::snprintf(word, sizeof word, " ACK(largest %llu, %llu ranges)",
                            static_cast<unsigned long long>(f.ranges.largest()),
                            static_cast<unsigned long long>(f.ranges.size()));
            } else if constexpr (std::is_same_v<F, wire::CreditFrame>) {
              std::snprintf(word, sizeof word, " CREDIT(%llu)", static_cast<unsigned long long>(f.limit));
            } else if constexpr (std::is_same_v<F, wire::CloseFrame>) {
              std::snprintf(word, sizeof word, " CLOSE");
            } else if constexpr (std::is_same_v<F, wire::ResetFrame>) {
              std::snprintf(word, sizeof word, " RESET");
            } else if constexpr (std::is_same_v<F, wire::PingFrame>) {
              std::snprintf(word, sizeof word, " PING");
            } else if constexpr (std::is_same_v<F, wire::PaddingFrame>) {
              std::snprintf(word, sizeof word, " PADDING");
            } else {
              std::snprintf(word, sizeof word, " HANDSHAKE");
            }
            out += word;
          },
          frame);
    }
    return out;
  }

  /// With tracing on, a datagram and, for one in flight, its index among the `in_flight_.size()`.
  void trace_datagram(const char* what, const Datagram& d, std::optional<std::size_t> index) {
    if (!tracing()) return;
    trace("t=%lld %s #%lld of %zu %s -> %s:%s", micros(now_), what, index ? static_cast<long long>(*index) : -1LL,
          in_flight_.size(), d.from == kClientAddress ? "client" : (d.from == kServerAddress ? "server" : "stranger"),
          d.to == kClientAddress ? "client" : (d.to == kServerAddress ? "server" : "stranger"),
          describe(d.bytes).c_str());
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
        f.mode = pick_mode();
        f.channel = pick_channel();
        if (fdp_.ConsumeBool()) {
          f.fragment_count = fdp_.ConsumeIntegralInRange<std::uint32_t>(
              2, fdp_.ConsumeBool() ? 8 : static_cast<std::uint32_t>(wire::kMaxFragmentCount));
          f.fragment_index = fdp_.ConsumeIntegralInRange<std::uint32_t>(0, f.fragment_count - 1);
        }
        const bool reliable = is_reliable(f.mode);
        const std::uint64_t largest = (reliable ? to.reliable_sequence : to.unreliable_sequence)[f.channel];
        if (wire::has_sequence(f.mode, f.fragment_count)) {
          if (reliable && f.fragment_count > 1 && fdp_.ConsumeBool()) {
            // Numbered as a sender numbers a message's chunks: consecutive
            // from the message's first, which follows the channel's newest.
            f.sequence = std::min(near(largest + 1), wire::kMaxVarint - f.fragment_index) + f.fragment_index;
          } else {
            f.sequence = near(largest);
          }
        }
        f.explicit_length = !last || fdp_.ConsumeBool();
        f.payload = blobs.emplace_back(pick_blob(to, 1100));
        wire::encode_frame(w, f);
        break;
      }
      case FrameKind::skip: {
        wire::SkipFrame f;
        f.channel = pick_channel();
        f.count = fdp_.ConsumeBool() ? fdp_.ConsumeIntegralInRange<std::uint64_t>(1, 8)
                                     : fdp_.ConsumeIntegralInRange<std::uint64_t>(1, wire::kMaxFragmentCount);
        f.sequence = std::min(near(to.reliable_sequence[f.channel]), wire::kMaxVarint - (f.count - 1));
        // About what the chunks would cost (their bookkeeping and up to a
        // datagram's payload each), or anything.
        if (fdp_.ConsumeBool()) {
          f.cost = f.count * core::kChunkCreditOverhead + fdp_.ConsumeIntegralInRange<std::uint64_t>(0, f.count * 1100);
        } else {
          f.cost = near(0);
        }
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

  ChannelId pick_channel() {
    if (fdp_.ConsumeIntegralInRange<int>(0, 7) == 0) return fdp_.ConsumeIntegral<ChannelId>();
    return fdp_.ConsumeIntegralInRange<ChannelId>(0, 3);
  }

  DeliveryMode pick_mode() { return static_cast<DeliveryMode>(fdp_.ConsumeIntegralInRange<std::uint8_t>(0, 3)); }

  static long long micros(Instant t) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
  }

  const char* name(const Side& side) const { return &side == &client_ ? "client" : "server"; }

  void send_data(Side& side, bool message) {
    const auto h = pick_handle(side);
    const auto size = fdp_.ConsumeIntegralInRange<std::size_t>(0, kMaxSendSize);
    if (!h) return;
    if (message) {
      send_message(side, *h, size, {});
      return;
    }
    const bool primary = h == side.primary;
    Stream& stream = *side.outgoing;
    const auto taken = side.endpoint.send(*h, pattern(stream.salt, stream.sent, size));
    trace("t=%lld %s send %u.%u %zu: %zu taken", micros(now_), name(side), h->index, h->generation, size,
          taken ? *taken : 0);
    require_handle_error(side, *h, taken.error());
    if (taken) {
      require(*taken <= size, "send takes at most what it is given");
      if (primary) {
        stream.sent += *taken;
        if (*taken > 0) {
          stream.boundaries = false;
          stream.ledger.clear();
        }
      }
    }
    settle();
  }

  /// send_message with SendOptions the input picks.
  void send_options(Side& side) {
    const auto h = pick_handle(side);
    // Small messages half the time: empty ones, and ones re-bundling repeats.
    const auto size = fdp_.ConsumeBool() ? fdp_.ConsumeIntegralInRange<std::size_t>(0, 300)
                                         : fdp_.ConsumeIntegralInRange<std::size_t>(0, kMaxSendSize);
    SendOptions o;
    o.channel = pick_channel();
    if (fdp_.ConsumeBool()) o.mode = pick_mode();
    if (fdp_.ConsumeBool()) {
      // Past deadlines too: those messages expire before they go out.
      o.deadline = now_ + std::chrono::microseconds(fdp_.ConsumeIntegralInRange<std::int64_t>(-100'000, 5'000'000));
    }
    if (fdp_.ConsumeBool()) o.max_retransmits = fdp_.ConsumeIntegralInRange<unsigned>(0, 5);
    if (fdp_.ConsumeBool()) o.supersede_key = fdp_.ConsumeIntegralInRange<std::uint64_t>(0, 3);
    // Unique tags (the low half counts) that still span the whole range.
    if (fdp_.ConsumeBool()) o.receipt = std::uint64_t{fdp_.ConsumeIntegral<std::uint32_t>()} << 32 | ++tags_;
    if (!h) return;
    send_message(side, *h, size, o);
  }

  /// Sends a message of `size` bytes of the outgoing pattern on `h` and
  /// checks the outcome; what the primary connection sends is recorded for
  /// the receiver's checks, and a receipt asked for is remembered.
  void send_message(Side& side, ConnectionHandle h, std::size_t size, const SendOptions& options) {
    const bool primary = h == side.primary;
    Stream& stream = *side.outgoing;
    const std::error_code ec = side.endpoint.send_message(h, pattern(stream.salt, stream.sent, size), options);
    const bool is_open = open(side, h);
    const DeliveryMode mode = options.mode.value_or(is_open ? side.handles.at(h).modes[options.channel]
                                                            : DeliveryMode::reliable_ordered);
    trace("t=%lld %s send_message %u.%u %zu channel %u %s deadline %lld max_retransmits %d key %lld receipt %llx: %s",
          micros(now_), name(side), h.index, h.generation, size, unsigned{options.channel}, to_string(mode),
          options.deadline ? micros(*options.deadline) : -1LL,
          options.max_retransmits ? static_cast<int>(*options.max_retransmits) : -1,
          options.supersede_key ? static_cast<long long>(*options.supersede_key) : -1LL,
          static_cast<unsigned long long>(options.receipt.value_or(0)), ec.message().c_str());
    require_handle_error(side, h, ec);
    require(!ec || ec == errc::invalid_handle || ec == errc::would_block || ec == errc::message_too_large ||
                ec == errc::connection_closed,
            "send_message fails only as documented");
    require((ec == errc::connection_closed) == (is_open && side.handles.at(h).close_called),
            "send_message is connection_closed exactly after close()");
    const bool oversize = size > connection_config().max_message_size;
    require(ec || !oversize, "send_message takes nothing above max_message_size");
    // Before the handshake the peer's window is unknown and may refuse less.
    if (pristine_ && is_open && side.handles.at(h).connected && ec == errc::message_too_large) {
      require(oversize, "a connected peer's window takes any message up to max_message_size");
    }
    if (ec) {
      settle();
      return;
    }
    const bool is_client = &side == &client_;
    if (options.supersede_key) {
      for (auto& [tag, t] : tickets_) {
        if (t.client == is_client && t.connection == h && t.channel == options.channel &&
            t.key == options.supersede_key) {
          t.supersedable = true;
        }
      }
    }
    if (options.receipt) {
      require(!tickets_.contains(*options.receipt), "the harness's receipt tags are unique");
      tickets_[*options.receipt] = Ticket{is_client,
                                          h,
                                          options.channel,
                                          mode,
                                          options.deadline.has_value(),
                                          options.max_retransmits.has_value(),
                                          options.supersede_key};
    }
    if (primary) {
      const bool guaranteed =
          is_reliable(mode) && !options.deadline && !options.max_retransmits && !options.supersede_key;
      if (options.channel != 0 || mode != DeliveryMode::reliable_ordered || !guaranteed) {
        stream.plain = false;
        stream.messages.clear();
      }
      if (stream.plain) stream.messages.push_back(size);
      if (stream.boundaries) {
        stream.ledger.push_back(Sent{stream.sent, size, options.channel, mode, guaranteed,
                                     options.supersede_key.has_value()});
        if (guaranteed) ++stream.guaranteed_unread;
      }
      stream.sent += size;
    }
    settle();
  }

  void configure_channel(Side& side) {
    const auto h = pick_handle(side);
    const ChannelId channel = pick_channel();
    ChannelConfig c;
    c.mode = pick_mode();
    c.priority =
        fdp_.ConsumeBool() ? fdp_.ConsumeIntegralInRange<std::uint8_t>(0, 2) : fdp_.ConsumeIntegral<std::uint8_t>();
    c.weight = fdp_.ConsumeIntegralInRange<int>(0, 7) == 0 ? std::uint8_t{0} : fdp_.ConsumeIntegral<std::uint8_t>();
    if (!h) return;
    const std::error_code ec = side.endpoint.configure_channel(*h, channel, c);
    trace("t=%lld %s configure_channel %u.%u channel %u %s priority %u weight %u: %s", micros(now_), name(side),
          h->index, h->generation, unsigned{channel}, to_string(c.mode), unsigned{c.priority}, unsigned{c.weight},
          ec.message().c_str());
    require_handle_error(side, *h, ec);
    if (open(side, *h)) {
      require(c.weight == 0 ? ec == errc::invalid_config : !ec, "configure_channel fails exactly for weight 0");
    }
    if (!ec) side.handles.at(*h).modes[channel] = c.mode;
    settle();
  }

  void next_message(Side& side) {
    const auto h = pick_handle(side);
    if (!h) return;
    const auto next = side.endpoint.next_message(*h);
    trace("t=%lld %s next_message %u.%u: %lld", micros(now_), name(side), h->index, h->generation,
          next ? static_cast<long long>(next->size) : -1LL);
    if (next) check_next(side, *h, *next);
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
      trace("t=%lld %s %s %u.%u %zu: %lld %s", micros(now_), name(side), message ? "receive_message" : "receive",
            h->index, h->generation, size, got ? static_cast<long long>(*got) : -1LL,
            got ? "" : got.error().message().c_str());
      require_handle_error(side, *h, got.error());
      if (!got) {
        if (primary && got.error() == errc::end_of_stream) check_end_of_stream(stream);
        if (primary && got.error() == errc::buffer_too_small) {
          require(next && next->size > size, "buffer_too_small only for a larger message");
          if (stream.plain && stream.boundaries && !stream.forged) {
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
        // Reliable messages hold credit; unreliable ones their own buffer.
        require(drained <= connection_config().receive_window + connection_config().unreliable_buffer,
                "what is readable at once fits in the receive window and the unreliable buffer");
        // A stream read splits messages, and even one of 0 bytes may take empty ones.
        if (!message) {
          stream.boundaries = false;
          stream.ledger.clear();
        }
        if (message) check_message(stream, std::span(out).first(*got), *next);
        if (message && stream.plain && stream.boundaries && !stream.forged) {
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
    trace("t=%lld %s close %u.%u: %s", micros(now_), name(side), h->index, h->generation, ec.message().c_str());
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
    trace("t=%lld %s abort %u.%u: %s", micros(now_), name(side), h->index, h->generation, ec.message().c_str());
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
    trace("t=%lld client connect: %s", micros(now_), h ? "ok" : h.error().message().c_str());
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
  /// that was sent and must arrive does (everything, in a plain stream; the
  /// guaranteed messages otherwise), unless a connection ends first.
  void check_delivery() {
    trace("t=%lld final run", micros(now_));
    auto ended = [&](const Side& side) { return !side.primary || side.handles.at(*side.primary).closed; };
    auto read_all = [&](Side& side) {
      if (ended(side)) return;
      Stream& stream = *side.incoming;
      // Larger than any message, so receive_message never finds one too large.
      std::vector<std::byte> out(kMaxReadSize);
      while (true) {
        const auto next = side.endpoint.next_message(*side.primary);
        const auto got = stream.boundaries ? side.endpoint.receive_message(*side.primary, out)
                                           : side.endpoint.receive(*side.primary, out);
        if (got.error() == errc::end_of_stream) check_end_of_stream(stream);
        if (!got) break;
        check_read(stream, std::span(out).first(*got));
        if (stream.boundaries) {
          require(next && next->size == *got, "receive_message returns the announced size");
          check_message(stream, std::span(out).first(*got), *next);
        } else if (*got == 0) {
          break;
        }
      }
    };
    auto arrived = [](const Stream& stream) {
      if (stream.plain) return stream.read == stream.sent;
      if (ledger_checked(stream) && !stream.ambiguous) return stream.guaranteed_unread == 0;
      return true;
    };
    const bool done = run_network(kFinalRounds, std::chrono::hours(1), [&] {
      read_all(client_);
      read_all(server_);
      settle();
      if (ended(client_) || !server_.primary || ended(server_)) return ended(client_) || ended(server_);
      return arrived(to_server_) && arrived(to_client_);
    });
    require(done, "a loss-free network delivers everything that must arrive");
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
  std::map<std::uint64_t, Ticket> tickets_;  // receipts asked for, by tag
  std::uint32_t tags_ = 0;
  std::vector<std::byte> buffer_ = std::vector<std::byte>(wire::kMaxDatagramSize);
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  Harness(fdp).run();
  return 0;
}
