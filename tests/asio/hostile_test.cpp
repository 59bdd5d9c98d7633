// SPDX-License-Identifier: MIT
// A live rudp::asio server under hostile input: a second, plain UDP socket
// (the flooder) sends it random bytes, truncated copies of real packets,
// well-formed packets for connection ids it does not have, and a SYN flood,
// while one real connection (client -> relay -> server; the relay records
// every datagram of it, so the truncated packets are real ones) exchanges
// messages both ways. Each datagram of garbage must bump exactly one
// EndpointStats counter and nothing else: no accept completes, the server
// keeps one connection, the real messages arrive intact during and after,
// and the heap does not grow with the number of datagrams.
//
// Heap: the bytes live on the heap of the whole process (client, relay,
// server and Catch, which only makes the bound stricter; live_heap.hpp).
//
// Waits only guard against a hang; nothing measures time. The garbage comes
// from a seeded generator: CAPTURE shows the seed, and `--rng-seed <seed>`
// runs the same garbage again.
#include <poll.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include <rudp/asio.hpp>

#include "live_heap.hpp"

#include "rudp/core/cookie.hpp"
#include "rudp/wire/checksum.hpp"
#include "rudp/wire/packet.hpp"

using namespace rudp;
using namespace std::chrono_literals;

namespace {

using udp = ::asio::ip::udp;
using Bytes = std::vector<std::byte>;

// What the heap may grow by over a flood, whatever the flood's size.
// Measured: 0 bytes when all real messages have one size; 0 to 176 bytes
// with the rounds' sizes (1 to 2500 bytes), as the real connection's buffers
// grow to the largest message so far; the rest is room for asio, which keeps
// a few freed handler blocks per thread for reuse. Every flood sends over
// 2,000 datagrams, so keeping even one byte for each would break it.
constexpr std::size_t kHeapSlack = 2048;
// Garbage datagrams sent between two rounds of real messages.
constexpr std::size_t kChunk = 64;
// Datagrams sent before the heap is first read, so that every buffer the
// garbage and the rounds need has reached its working size.
constexpr std::size_t kWarmUp = 2 * kChunk;
// A guard against a hang, not a timing assertion.
constexpr auto kGuard = 10s;

std::uint32_t be32(std::span<const std::byte> b) noexcept {
  return (std::to_integer<std::uint32_t>(b[0]) << 24) | (std::to_integer<std::uint32_t>(b[1]) << 16) |
         (std::to_integer<std::uint32_t>(b[2]) << 8) | std::to_integer<std::uint32_t>(b[3]);
}

void put_be32(std::span<std::byte> b, std::uint32_t v) noexcept {
  for (std::size_t i = 0; i < 4; ++i) b[i] = std::byte(static_cast<std::uint8_t>(v >> (8 * (3 - i))));
}

// The destination connection id of any datagram, read as WIRE.md 2.2 and 2.3
// place it (after the version in the handshake form): the connection a
// malformed datagram names.
std::optional<std::uint32_t> destination_of(std::span<const std::byte> b) noexcept {
  if (b.empty()) return std::nullopt;
  const std::size_t at = (std::to_integer<std::uint8_t>(b[0]) & wire::header_bits::kHandshake) ? 5 : 1;
  if (b.size() < at + 4) return std::nullopt;
  return be32(b.subspan(at, 4));
}

// Seals `bytes` again after a header field changed.
void reseal(Bytes& bytes) {
  const std::size_t body = bytes.size() - wire::kChecksumSize;
  put_be32(std::span(bytes).subspan(body), wire::checksum(std::span(bytes).first(body)));
}

// One packet from `header` and whatever `frames` writes, padded with zeros
// to `pad_to` bytes when asked; it must parse.
template <class Frames>
Bytes packet(const wire::Header& header, Frames&& frames, std::size_t pad_to = 0) {
  Bytes out(2048);
  wire::PacketWriter writer(out, header);
  frames(writer.frames());
  if (pad_to > 0) {
    REQUIRE(pad_to >= writer.frames().position() + wire::kChecksumSize);
    writer.frames().zeros(pad_to - wire::kChecksumSize - writer.frames().position());
  }
  const auto size = writer.finish();
  REQUIRE(size);
  out.resize(*size);
  REQUIRE(wire::parse_packet(out));
  return out;
}

wire::Header data_header(std::uint32_t destination, std::uint32_t number) {
  wire::Header h;
  h.form = wire::HeaderForm::data;
  h.destination = ConnectionId{destination};
  h.number = wire::TruncatedPacketNumber{number & 0xffff, 2};
  return h;
}

wire::Header handshake_header(std::uint32_t destination, std::uint32_t source, std::uint32_t number) {
  wire::Header h = data_header(destination, number);
  h.form = wire::HeaderForm::handshake;
  h.source = ConnectionId{source};
  return h;
}

const wire::HandshakeParams kParams{.max_datagram_size = 1200, .initial_credit = 65536, .idle_timeout_ms = 30000};

// The real messages of round `round`, from side 'c' or 's': sizes from 1 byte
// to two fragments, bytes that differ by side and round.
Bytes message(char side, std::size_t round) {
  Bytes m(1 + (round * 397 + (side == 's' ? 151 : 0)) % 2500);
  const auto seed = static_cast<std::size_t>(side) + round * 31;
  for (std::size_t i = 0; i < m.size(); ++i) m[i] = std::byte(static_cast<std::uint8_t>(seed + i * 7));
  return m;
}

// The counters each garbage datagram bumps exactly one of.
std::uint64_t garbage_seen(const EndpointStats& s) noexcept {
  return s.malformed_dropped + s.unknown_connection_dropped + s.foreign_address_dropped + s.syn_received +
         s.cookies_rejected;
}

// A UDP socket between the real client and the server that forwards every
// datagram and records it, so the test has real packets to cut.
class Relay {
 public:
  struct Datagram {
    bool to_server = false;
    Bytes bytes;
  };

  Relay(::asio::io_context& io, const udp::endpoint& server) : socket_(io, {server.address(), 0}), server_(server) {
    socket_.set_option(udp::socket::receive_buffer_size(8 << 20));
    receive();
  }

  udp::endpoint local() const { return socket_.local_endpoint(); }

  std::vector<Datagram> captured;
  bool capturing = true;

 private:
  void receive() {
    socket_.async_receive_from(::asio::buffer(buffer_), from_, [this](std::error_code ec, std::size_t n) {
      if (ec) return;
      const bool to_server = from_ != server_;
      if (to_server) client_ = from_;
      if (capturing) captured.push_back({to_server, Bytes(buffer_.begin(), buffer_.begin() + std::ptrdiff_t(n))});
      if (!to_server && !client_) return receive();
      std::error_code ignored;  // loopback does not fail; the protocol would recover if it did
      socket_.send_to(::asio::buffer(buffer_.data(), n), to_server ? server_ : *client_, 0, ignored);
      receive();
    });
  }

  udp::socket socket_;
  udp::endpoint server_;
  std::optional<udp::endpoint> client_;
  udp::endpoint from_;
  Bytes buffer_ = Bytes(65536);
};

EndpointConfig endpoint_config(std::uint64_t seed) {
  EndpointConfig c;
  c.seed = seed;
  c.incoming = make_config(Profile::fast);
  return c;
}

// A server with one real connection through the relay, a flooder socket
// aimed at the server, and rounds of real messages in both directions.
class Harness {
 public:
  Harness() {
    const auto loopback = ::asio::ip::make_address("127.0.0.1");
    auto s = rudp::asio::Endpoint::open(io_.get_executor(), {loopback, 0}, endpoint_config(21));
    REQUIRE(s);
    server_ = std::move(*s);
    auto c = rudp::asio::Endpoint::open(io_.get_executor(), {loopback, 0}, endpoint_config(22));
    REQUIRE(c);
    client_ = std::move(*c);
    relay_.emplace(io_, server_->local_endpoint());

    flooder_.open(udp::v4());
    flooder_.set_option(udp::socket::receive_buffer_size(8 << 20));
    flooder_.bind({loopback, 0});
    flooder_.non_blocking(true);

    server_->async_accept([this](std::error_code ec, ConnectionHandle h) {
      REQUIRE_FALSE(ec);
      server_conn_ = h;
      // Stays pending: garbage must never complete it.
      server_->async_accept([this](std::error_code e, ConnectionHandle) {
        if (!e) ++extra_accepts;
      });
    });
    client_->async_connect(relay_->local(), make_config(Profile::fast),
                           [this](std::error_code ec, ConnectionHandle h) {
                             REQUIRE_FALSE(ec);
                             client_conn_ = h;
                           });
    REQUIRE(run_until([&] { return server_conn_ && client_conn_; }));
    // Two rounds so the relay records data, acknowledgements and fragments.
    round();
    round();
  }

  // Runs the event loop until `done` holds; false if the guard ran out.
  template <class Pred>
  bool run_until(Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + kGuard;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.run_one_for(10ms);
    }
    return true;
  }

  // One round trip of real messages: the client and the server each send
  // one, and each must receive the other's, byte for byte.
  void start_round() {
    const std::size_t k = rounds_++;
    client_got_.reset();
    server_got_.reset();
    client_->async_send(*client_conn_, message('c', k), {}, [](std::error_code ec, std::size_t) { CHECK_FALSE(ec); });
    server_->async_send(*server_conn_, message('s', k), {}, [](std::error_code ec, std::size_t) { CHECK_FALSE(ec); });
    client_->async_receive(*client_conn_, client_buffer_, nullptr, [this](std::error_code ec, std::size_t n) {
      client_got_ = ec ? std::nullopt : std::optional(n);
      client_failed_ = client_failed_ || ec;
    });
    server_->async_receive(*server_conn_, server_buffer_, nullptr, [this](std::error_code ec, std::size_t n) {
      server_got_ = ec ? std::nullopt : std::optional(n);
      server_failed_ = server_failed_ || ec;
    });
  }
  bool round_done() const { return (client_got_ && server_got_) || client_failed_ || server_failed_; }
  void check_round() {
    const std::size_t k = rounds_ - 1;
    INFO("round " << k);
    REQUIRE_FALSE(client_failed_);
    REQUIRE_FALSE(server_failed_);
    const Bytes to_client = message('s', k);
    const Bytes to_server = message('c', k);
    REQUIRE(client_got_ == to_client.size());
    REQUIRE(server_got_ == to_server.size());
    CHECK(std::equal(to_client.begin(), to_client.end(), client_buffer_.begin()));
    CHECK(std::equal(to_server.begin(), to_server.end(), server_buffer_.begin()));
  }
  void round() {
    start_round();
    REQUIRE(run_until([&] { return round_done(); }));
    check_round();
  }

  // Sends `garbage` from the flooder in chunks, a round of real messages in
  // flight with each, and waits until the server has counted every datagram.
  void flood(std::span<const Bytes> garbage) {
    for (std::size_t start = 0; start < garbage.size(); start += kChunk) {
      const auto chunk = garbage.subspan(start, std::min(kChunk, garbage.size() - start));
      for (const Bytes& d : chunk) send_garbage(d);
      sent_ += chunk.size();
      start_round();
      INFO("garbage datagrams sent: " << sent_);
      REQUIRE(run_until([&] { return round_done() && garbage_seen(stats()) - garbage_seen(base_) >= sent_; }));
      check_round();
      // The server answered this chunk before it counted its last datagram,
      // so the answers are all here; taken now, so that the flooder's
      // receive buffer never holds more than one chunk's.
      drain_replies();
    }
  }

  void send_garbage(const Bytes& d) {
    std::error_code ec;
    while (true) {
      flooder_.send_to(::asio::buffer(d), server_->local_endpoint(), 0, ec);
      if (ec != ::asio::error::would_block) break;
      ::pollfd p{flooder_.native_handle(), POLLOUT, 0};
      REQUIRE(::poll(&p, 1, 10'000) == 1);  // a guard against a hang
    }
    REQUIRE_FALSE(ec);
  }

  // Reads whatever came back to the flooder.
  void drain_replies() {
    while (true) {
      std::error_code ec;
      const std::size_t n = flooder_.receive_from(::asio::buffer(reply_buffer_), reply_from_, 0, ec);
      if (ec == ::asio::error::would_block) return;
      REQUIRE_FALSE(ec);
      ++replies;
      largest_reply = std::max(largest_reply, n);
      const auto p = wire::parse_packet(std::span(reply_buffer_).first(n));
      if (p && p->header.form == wire::HeaderForm::handshake) {
        for (const wire::Frame& f : p->frames()) {
          if (std::holds_alternative<wire::SynAckFrame>(f)) ++syn_acks;
        }
      }
    }
  }

  // Waits until both sides have every message acknowledged, so that no
  // copy of one waits in a send queue while the heap is read.
  void settle() {
    REQUIRE(run_until([&] {
      return client_->core().stats(*client_conn_).value().bytes_in_flight == 0 &&
             connection_stats().bytes_in_flight == 0;
    }));
  }

  const EndpointStats& stats() const { return server_->core().stats(); }
  ConnectionStats connection_stats() const { return server_->core().stats(*server_conn_).value(); }
  std::size_t connections() const { return server_->core().connection_count(); }

  // The server's id for the real connection: the source of its SYN-ACK.
  std::uint32_t live_id() const {
    for (const auto& d : relay_->captured) {
      if (d.to_server) continue;
      const auto p = wire::parse_packet(d.bytes);
      if (p && p->header.form == wire::HeaderForm::handshake) return p->header.source.value;
    }
    FAIL("no SYN-ACK captured");
    return 0;
  }

  // What the relay saw; it stops recording (and so stops allocating).
  std::vector<Relay::Datagram> stop_capture() {
    relay_->capturing = false;
    return std::move(relay_->captured);
  }

  // Takes the counters the flood is measured from.
  void mark() {
    base_ = stats();
    base_connection_ = connection_stats();
    sent_ = 0;
  }
  const EndpointStats& base() const { return base_; }
  const ConnectionStats& base_connection() const { return base_connection_; }

  // What came back to the flooder.
  std::size_t replies = 0;
  std::size_t syn_acks = 0;       // replies that parse as a SYN-ACK
  std::size_t largest_reply = 0;  // bytes
  std::size_t extra_accepts = 0;

 private:
  ::asio::io_context io_;
  std::unique_ptr<rudp::asio::Endpoint> server_;
  std::unique_ptr<rudp::asio::Endpoint> client_;
  std::optional<Relay> relay_;
  udp::socket flooder_{io_};
  Bytes reply_buffer_ = Bytes(65536);
  udp::endpoint reply_from_;
  std::optional<ConnectionHandle> server_conn_;
  std::optional<ConnectionHandle> client_conn_;
  Bytes client_buffer_ = Bytes(4096);
  Bytes server_buffer_ = Bytes(4096);
  std::optional<std::size_t> client_got_;
  std::optional<std::size_t> server_got_;
  bool client_failed_ = false;
  bool server_failed_ = false;
  std::size_t rounds_ = 0;
  std::size_t sent_ = 0;
  EndpointStats base_;
  ConnectionStats base_connection_;
};

std::uint64_t test_seed() {
  const unsigned from_command_line = Catch::rngSeed();
  return from_command_line != 0 ? from_command_line : 20261126;
}

// How many of `garbage` name connection `id` where a malformed datagram would be charged to it.
std::uint64_t naming(std::span<const Bytes> garbage, std::uint32_t id) {
  return static_cast<std::uint64_t>(
      std::count_if(garbage.begin(), garbage.end(), [&](const Bytes& d) { return destination_of(d) == id; }));
}

// Floods `h` with `garbage` (warm-up first, then the heap is read, then the
// rest), then runs rounds after it; returns the heap's growth in bytes.
std::ptrdiff_t flood_and_measure(Harness& h, std::span<const Bytes> garbage) {
  REQUIRE(garbage.size() > 10 * kWarmUp);
  h.mark();
  h.flood(garbage.first(kWarmUp));
  h.settle();
  const std::size_t heap_before = rudp::test::live_heap_bytes();
  h.flood(garbage.subspan(kWarmUp));
  for (int i = 0; i < 3; ++i) h.round();  // after the garbage
  h.settle();
  const std::size_t heap_after = rudp::test::live_heap_bytes();
  const auto growth = static_cast<std::ptrdiff_t>(heap_after) - static_cast<std::ptrdiff_t>(heap_before);
  CAPTURE(garbage.size(), heap_before, heap_after, growth);
  CHECK(growth <= static_cast<std::ptrdiff_t>(kHeapSlack));
  return growth;
}

// What every kind of garbage must leave as it was.
void check_unharmed(const Harness& h) {
  const EndpointStats& s = h.stats();
  const EndpointStats& b = h.base();
  CHECK(h.connections() == 1);
  CHECK(h.extra_accepts == 0);
  CHECK(s.connections_accepted == 1);
  CHECK(s.connections_refused == b.connections_refused);
  CHECK(h.connection_stats().packets_duplicate == h.base_connection().packets_duplicate);
}

}  // namespace

TEST_CASE("asio hostile: random datagrams are counted as malformed and ignored", "[asio][hostile]") {
  const std::uint64_t seed = test_seed();
  CAPTURE(seed);
  Harness h;
  const std::uint32_t live = h.live_id();
  h.stop_capture();
  std::mt19937_64 rng(seed);
  std::vector<Bytes> garbage(3000);
  for (std::size_t i = 0; i < garbage.size(); ++i) {
    Bytes& d = garbage[i];
    d.resize(rng() % 1501);  // 0 to 1500 bytes, the empty datagram included
    for (auto& b : d) b = std::byte(static_cast<std::uint8_t>(rng()));
    // Every fourth looks like a data packet of the real connection, every
    // fourth like a SYN, up to the checksum that gives them away.
    if (i % 4 == 1 && d.size() >= 5) {
      d[0] = std::byte(static_cast<std::uint8_t>(rng() & wire::header_bits::kNumberLength));
      put_be32(std::span(d).subspan(1, 4), live);
    } else if (i % 4 == 2 && d.size() >= 13) {
      d[0] = std::byte(wire::header_bits::kHandshake | 1);
      put_be32(std::span(d).subspan(1, 4), wire::kVersion);
      put_be32(std::span(d).subspan(5, 4), 0);
    }
  }
  const std::uint64_t named = naming(garbage, live);

  const auto growth = flood_and_measure(h, garbage);
  const EndpointStats& s = h.stats();
  const EndpointStats& b = h.base();
  CAPTURE(named, growth, s.datagrams_received - b.datagrams_received);
  CHECK(s.malformed_dropped - b.malformed_dropped == garbage.size());
  CHECK(s.datagrams_received - b.datagrams_received >= garbage.size());  // plus the real connection's
  CHECK(s.unknown_connection_dropped == b.unknown_connection_dropped);
  CHECK(s.syn_received == b.syn_received);
  CHECK(s.cookies_rejected == b.cookies_rejected);
  // Those naming the real connection came from another address: not charged to it.
  CHECK(h.connection_stats().malformed_dropped == h.base_connection().malformed_dropped);
  CHECK(named >= garbage.size() / 5);
  CHECK(h.replies == 0);  // no datagram is answered
  check_unharmed(h);
}

TEST_CASE("asio hostile: real packets cut at every length are counted as malformed and ignored", "[asio][hostile]") {
  Harness h;
  const std::uint32_t live = h.live_id();
  const auto captured = h.stop_capture();
  std::vector<Bytes> garbage;
  std::size_t handshake_packets = 0;
  for (const auto& c : captured) {
    REQUIRE(wire::parse_packet(c.bytes));
    if (std::to_integer<std::uint8_t>(c.bytes[0]) & wire::header_bits::kHandshake) ++handshake_packets;
    for (std::size_t n = 0; n < c.bytes.size(); ++n) {
      garbage.emplace_back(c.bytes.begin(), c.bytes.begin() + std::ptrdiff_t(n));  // the first n bytes
    }
  }
  const std::uint64_t named = naming(garbage, live);
  // The SYN, the SYN-ACK and the first COOKIE-ACK at least, and data both ways.
  CAPTURE(captured.size(), handshake_packets, garbage.size(), named);
  REQUIRE(handshake_packets >= 3);
  REQUIRE(captured.size() >= handshake_packets + 4);

  const auto growth = flood_and_measure(h, garbage);
  const EndpointStats& s = h.stats();
  const EndpointStats& b = h.base();
  CAPTURE(growth);
  CHECK(s.malformed_dropped - b.malformed_dropped == garbage.size());
  CHECK(s.unknown_connection_dropped == b.unknown_connection_dropped);
  CHECK(s.syn_received == b.syn_received);
  CHECK(s.cookies_rejected == b.cookies_rejected);
  CHECK(h.connection_stats().malformed_dropped == h.base_connection().malformed_dropped);
  CHECK(named > 0);
  CHECK(h.replies == 0);
  check_unharmed(h);
}

TEST_CASE("asio hostile: well-formed packets for unknown ids or from a stranger are counted and ignored", "[asio][hostile]") {
  const std::uint64_t seed = test_seed();
  CAPTURE(seed);
  Harness h;
  const std::uint32_t live = h.live_id();
  const auto captured = h.stop_capture();
  // The real connection's data packets to the server, to re-address.
  std::vector<Bytes> real;
  for (const auto& c : captured) {
    const bool data_form = !(std::to_integer<std::uint8_t>(c.bytes[0]) & wire::header_bits::kHandshake);
    if (c.to_server && data_form && destination_of(c.bytes) == live) real.push_back(c.bytes);
  }
  REQUIRE_FALSE(real.empty());

  std::mt19937_64 rng(seed);
  const auto unknown_id = [&] {
    while (true) {
      const auto id = static_cast<std::uint32_t>(rng());
      if (id != 0 && id != live) return id;
    }
  };
  std::vector<Bytes> garbage;
  std::uint64_t forged_cookies = 0;
  std::uint64_t foreign = 0;
  Bytes payload(600);
  for (std::size_t i = 0; i < 2500; ++i) {
    for (auto& x : payload) x = std::byte(static_cast<std::uint8_t>(rng()));
    const auto n = static_cast<std::uint32_t>(rng());
    switch (i % 7) {
      case 0:  // data form: DATA
        garbage.push_back(packet(data_header(unknown_id(), n), [&](wire::Writer& w) {
          wire::DataFrame f;
          f.mode = DeliveryMode::reliable_ordered;
          f.sequence = rng() % 1000;
          f.payload = std::span(payload).first(rng() % payload.size());
          REQUIRE(wire::encode_frame(w, f));
        }));
        break;
      case 1:  // data form: ACK, CREDIT, PING
        garbage.push_back(packet(data_header(unknown_id(), n), [&](wire::Writer& w) {
          const std::uint64_t largest = rng() % 100000;
          const std::array<wire::AckRange, 1> ranges{wire::AckRange{largest - largest % 50, largest}};
          REQUIRE(wire::write_ack_frame(w, rng() % 1000, ranges));
          REQUIRE(wire::encode_frame(w, wire::CreditFrame{rng() % 1'000'000}));
          REQUIRE(wire::encode_frame(w, wire::PingFrame{}));
        }));
        break;
      case 2:  // handshake form to id 0 without a SYN: not a connection attempt
        garbage.push_back(packet(handshake_header(0, unknown_id(), n), [&](wire::Writer& w) {
          REQUIRE(wire::encode_frame(w, wire::PingFrame{}));
        }, 1200));
        break;
      case 3:  // handshake form to an unknown id without a COOKIE-ACK
        garbage.push_back(packet(handshake_header(unknown_id(), unknown_id(), n), [&](wire::Writer& w) {
          REQUIRE(wire::encode_frame(w, wire::PingFrame{}));
        }));
        break;
      case 4: {  // a COOKIE-ACK with a forged cookie
        std::array<std::byte, core::kCookieSize> cookie{};
        for (auto& x : cookie) x = std::byte(static_cast<std::uint8_t>(rng()));
        garbage.push_back(packet(handshake_header(unknown_id(), unknown_id(), n), [&](wire::Writer& w) {
          REQUIRE(wire::encode_frame(w, wire::CookieAckFrame{kParams, cookie}));
        }));
        ++forged_cookies;
        break;
      }
      case 5: {  // a real packet of the live connection, re-addressed to an unknown id
        Bytes d = real[i % real.size()];
        put_be32(std::span(d).subspan(1, 4), unknown_id());
        reseal(d);
        REQUIRE(wire::parse_packet(d));
        garbage.push_back(std::move(d));
        break;
      }
      case 6:  // the live connection's id from another address: a replayed real packet, or forged DATA
        if (i / 7 % 2 == 0) {
          garbage.push_back(real[i % real.size()]);
        } else {
          garbage.push_back(packet(data_header(live, n), [&](wire::Writer& w) {
            wire::DataFrame f;
            f.mode = DeliveryMode::reliable_ordered;
            f.sequence = rng() % 1000;
            f.payload = std::span(payload).first(1 + rng() % (payload.size() - 1));
            REQUIRE(wire::encode_frame(w, f));
          }));
        }
        ++foreign;
        break;
      default: FAIL("unreachable");
    }
  }

  const auto growth = flood_and_measure(h, garbage);
  const EndpointStats& s = h.stats();
  const EndpointStats& b = h.base();
  CAPTURE(growth, forged_cookies, foreign);
  CHECK(s.unknown_connection_dropped - b.unknown_connection_dropped == garbage.size() - forged_cookies - foreign);
  CHECK(s.foreign_address_dropped - b.foreign_address_dropped == foreign);
  CHECK(s.cookies_rejected - b.cookies_rejected == forged_cookies);
  CHECK(s.malformed_dropped == b.malformed_dropped);
  CHECK(s.syn_received == b.syn_received);
  CHECK(h.connection_stats().malformed_dropped == h.base_connection().malformed_dropped);
  CHECK(h.replies == 0);
  check_unharmed(h);
}

TEST_CASE("asio hostile: a SYN flood costs the server no state", "[asio][hostile]") {
  const std::uint64_t seed = test_seed();
  CAPTURE(seed);
  Harness h;
  h.stop_capture();
  std::mt19937_64 rng(seed);
  std::vector<Bytes> garbage;
  std::uint64_t small = 0;
  for (std::size_t i = 0; i < 5000; ++i) {
    // Every tenth is smaller than the minimum datagram: refused unanswered
    // (anti-amplification). The rest are SYNs a real client could have sent.
    const bool too_small = i % 10 == 9;
    const std::size_t size = too_small ? 40 + rng() % (wire::kMinDatagramSize - 40) : wire::kMinDatagramSize;
    const auto source = static_cast<std::uint32_t>(rng() | 1);
    const auto number = static_cast<std::uint32_t>(rng());
    garbage.push_back(packet(
        handshake_header(0, source, number),
        [&](wire::Writer& w) { REQUIRE(wire::encode_frame(w, wire::SynFrame{kParams})); }, size));
    if (too_small) ++small;
  }

  const auto growth = flood_and_measure(h, garbage);
  const EndpointStats& b = h.base();
  // Every SYN is answered or counted as dropped; wait for answers still
  // queued in the server, if its socket ever would block.
  REQUIRE(h.run_until([&] {
    h.drain_replies();
    return h.replies + (h.stats().syn_dropped - b.syn_dropped) >= garbage.size();
  }));
  const EndpointStats& s = h.stats();
  CAPTURE(growth, small, h.replies, h.syn_acks, h.largest_reply, s.syn_dropped - b.syn_dropped);
  CHECK(s.syn_received - b.syn_received == garbage.size());
  // Exactly `small` unless the queue of answers filled up (kMaxPendingReplies),
  // which the runtime's flush after every batch read keeps from happening on
  // loopback; the design allows it, so only the bound is asserted.
  CHECK(s.syn_dropped - b.syn_dropped >= small);
  CHECK(h.replies + (s.syn_dropped - b.syn_dropped) == garbage.size());
  CHECK(h.syn_acks == h.replies);
  CHECK(h.largest_reply < wire::kMinDatagramSize);  // never more than a SYN brought
  CHECK(s.malformed_dropped == b.malformed_dropped);
  CHECK(s.unknown_connection_dropped == b.unknown_connection_dropped);
  CHECK(s.cookies_rejected == b.cookies_rejected);
  check_unharmed(h);
}
