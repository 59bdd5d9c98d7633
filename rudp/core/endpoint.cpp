// SPDX-License-Identifier: MIT
// The endpoint: a table of connections keyed by connection id, in slots
// named by (index, generation) handles; the stateless half of the handshake
// (SYN answered with a cookie, nothing allocated until the cookie comes back
// in a COOKIE-ACK); and the fan-in and fan-out of the five driving verbs.
//
// The driving verbs cost what the connections they concern cost, not what
// all of them do: a connection can only have something new to send, or a new
// deadline, after a call that reached it (a datagram, a command, its timer,
// a poll). Such a call marks it, in the set of connections that may have
// something to send and in the list of those whose deadline must be asked
// again; poll_transmit visits the marked connections only, and the deadlines
// sit in a heap that next_timeout() reads at the top. A connection leaves the
// set when a poll finds nothing to send, unless it needs_polling(): then it
// is polled on every poll_transmit, as every connection used to be, so that
// what it does does not change.
#include "rudp/endpoint.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "rudp/core/connection.hpp"
#include "rudp/core/cookie.hpp"
#include "rudp/core/deadline_heap.hpp"
#include "rudp/core/index_set.hpp"
#include "rudp/core/random.hpp"
#include "rudp/wire/packet.hpp"

namespace rudp {

const char* to_string(CloseReason reason) noexcept {
  switch (reason) {
    case CloseReason::closed: return "closed";
    case CloseReason::aborted: return "aborted";
    case CloseReason::reset_by_peer: return "reset by peer";
    case CloseReason::idle_timeout: return "idle timeout";
    case CloseReason::peer_unreachable: return "peer unreachable";
    case CloseReason::handshake_timeout: return "handshake timeout";
    case CloseReason::protocol_violation: return "protocol violation";
  }
  return "unknown";
}

const char* to_string(ReceiptOutcome outcome) noexcept {
  switch (outcome) {
    case ReceiptOutcome::acknowledged: return "acknowledged";
    case ReceiptOutcome::lost: return "lost";
    case ReceiptOutcome::expired: return "expired";
    case ReceiptOutcome::superseded: return "superseded";
  }
  return "unknown";
}

namespace {

// SYN-ACKs waiting to be polled out. A flood of SYNs finds this full and is
// dropped: the endpoint's memory never grows with unanswered SYNs.
constexpr std::size_t kMaxPendingReplies = 256;
// A SYN-ACK is about 50 bytes; this holds it with room to spare.
constexpr std::size_t kReplyCapacity = 96;

struct Reply {
  Address to;
  std::array<std::byte, kReplyCapacity> bytes;
  std::size_t size = 0;
};

core::SipKey random_key(core::Random& rng) noexcept {
  core::SipKey key{};
  for (std::size_t i = 0; i < key.size(); i += 8) {
    const std::uint64_t word = rng.next();
    for (std::size_t j = 0; j < 8; ++j) key[i + j] = static_cast<std::uint8_t>(word >> (8 * j));
  }
  return key;
}

std::error_code validate(const EndpointConfig& c) noexcept {
  if (c.max_connections < 1 || c.max_connections > 1'000'000 || c.cookie_lifetime < std::chrono::milliseconds(100) ||
      c.cookie_lifetime > std::chrono::minutes(10)) {
    return errc::invalid_config;
  }
  return core::validate(c.incoming);
}

// The destination connection id of a datagram that failed to parse, read
// without trusting anything else in it, to charge the failure to its connection.
std::optional<ConnectionId> peek_destination(std::span<const std::byte> bytes) noexcept {
  wire::Reader r(bytes);
  std::uint8_t first = 0;
  std::uint32_t skip = 0;
  ConnectionId id;
  if (!r.u8(first)) return std::nullopt;
  if ((first & wire::header_bits::kHandshake) && !r.u32(skip)) return std::nullopt;
  if (!r.u32(id.value)) return std::nullopt;
  return id;
}

}  // namespace

struct Endpoint::Impl {
  // The connection lives on the heap, so a slot costs 16 bytes, not a
  // connection's 1.4 KB, while free or while the table has room to grow.
  struct Slot {
    std::unique_ptr<core::Connection> connection;
    std::uint32_t generation = 0;
  };

  EndpointConfig config;
  core::Random rng;
  core::CookieJar cookies;
  std::vector<Slot> slots;
  std::vector<std::uint32_t> free_slots;
  std::unordered_map<std::uint32_t, std::uint32_t> by_id;  // local connection id -> slot
  std::deque<Reply> replies;
  std::deque<Event> events;
  EndpointStats stats;
  core::IndexSet may_transmit;     // slots poll_transmit must visit; all others have nothing to send
  std::uint32_t next_transmit = 0;  // round-robin start of poll_transmit
  // When each connection next needs handle_timeout. A call that reaches a
  // connection only marks its deadline stale; the stale ones are asked again
  // when the deadlines are next read, so a connection polled many times in
  // between is asked once. next_timeout() is const, and refreshing this
  // cache changes nothing it or any other call reports: hence mutable.
  mutable core::DeadlineHeap deadlines;
  mutable std::vector<std::uint32_t> stale;  // slots whose deadline may have changed
  mutable std::vector<bool> is_stale;        // by slot: listed in stale
  std::vector<std::uint32_t> due;           // scratch of handle_timeout

  Impl(const EndpointConfig& c, Instant now)
      : config(c), rng(c.seed), cookies(random_key(rng), now, c.cookie_lifetime) {}

  ConnectionId fresh_id() {
    while (true) {
      const ConnectionId id{static_cast<std::uint32_t>(rng.next())};
      if (id != ConnectionId{} && !by_id.contains(id.value)) return id;
    }
  }

  core::Connection* find(ConnectionHandle h) noexcept {
    if (h.index >= slots.size() || slots[h.index].generation != h.generation) return nullptr;
    auto& c = slots[h.index].connection;
    return c && !c->closed() ? c.get() : nullptr;
  }

  ConnectionHandle handle_of(std::uint32_t index) const noexcept { return {index, slots[index].generation}; }

  // A call reached connection `index`: it may have something to send, and
  // its deadline may have moved.
  void touch(std::uint32_t index) {
    may_transmit.insert(index);
    mark_stale(index);
  }

  void mark_stale(std::uint32_t index) const {
    if (is_stale[index]) return;
    is_stale[index] = true;
    stale.push_back(index);
  }

  // When slot `index` next needs handle_timeout, if ever.
  std::optional<Instant> deadline_of(std::uint32_t index) const noexcept {
    const auto& c = slots[index].connection;
    if (!c) return std::nullopt;
    auto t = c->next_timeout();
    // A drained connection kept for its cookie's lifetime wakes once more to be released.
    if (!t && c->drained()) t = c->created_at() + config.cookie_lifetime;
    return t;
  }

  void refresh_deadlines() const {
    for (const std::uint32_t index : stale) {
      is_stale[index] = false;
      if (const auto t = deadline_of(index)) {
        deadlines.set(index, *t);
      } else {
        deadlines.erase(index);
      }
    }
    stale.clear();
  }

  // Polls connection `index` for a datagram.
  std::optional<Transmit> transmit_from(std::uint32_t index, Instant now, std::span<std::byte> out) {
    auto& c = slots[index].connection;
    const auto size = c->poll_transmit(now, out);
    // Polling may have given up messages (expired receipts) even when nothing went out.
    collect(index);
    mark_stale(index);
    if (size) {
      next_transmit = index + 1;
      return Transmit{c->peer(), *size};
    }
    // Nothing to send until a call reaches it again.
    if (!c->needs_polling()) may_transmit.erase(index);
    return std::nullopt;
  }

  Result<ConnectionHandle> insert(core::Connection connection) {
    if (by_id.size() >= config.max_connections) return errc::too_many_connections;
    std::uint32_t index = 0;
    if (free_slots.empty()) {
      index = static_cast<std::uint32_t>(slots.size());
      slots.emplace_back();
      is_stale.push_back(false);
    } else {
      index = free_slots.back();
      free_slots.pop_back();
    }
    by_id.emplace(connection.local_id().value, index);
    slots[index].connection = std::make_unique<core::Connection>(std::move(connection));
    collect(index);
    touch(index);
    return handle_of(index);
  }

  // Moves a connection's events to the endpoint's queue, naming the connection.
  void collect(std::uint32_t index) {
    auto& c = *slots[index].connection;
    if (!c.has_events()) return;
    const ConnectionHandle h = handle_of(index);
    while (auto e = c.poll_event()) {
      std::visit([&](auto& ev) { ev.connection = h; }, *e);
      events.push_back(std::move(*e));
    }
  }

  // Forgets a drained connection, unless a cookie minted for its id could
  // still be replayed: then its id stays taken until that cookie expires.
  void release_if_drained(std::uint32_t index, Instant now) {
    auto& c = slots[index].connection;
    if (!c || !c->drained() || now < c->created_at() + config.cookie_lifetime) return;
    by_id.erase(c->local_id().value);
    c.reset();
    ++slots[index].generation;
    free_slots.push_back(index);
    may_transmit.erase(index);
    deadlines.erase(index);
  }

  void handle_syn(Instant now, const Address& from, const wire::Packet& packet, std::size_t datagram_size) {
    ++stats.syn_received;
    // Anti-amplification: the SYN-ACK is never larger than the SYN, because a
    // SYN must fill a minimum-size datagram. Spoofed SYNs are answered with a
    // smaller datagram to the spoofed address, and allocate nothing.
    if (!config.accept_incoming || datagram_size < wire::kMinDatagramSize || replies.size() >= kMaxPendingReplies) {
      ++stats.syn_dropped;
      return;
    }
    const ConnectionId server_id = fresh_id();
    const core::Cookie cookie = cookies.mint(now, {from, packet.header.source, server_id});
    const std::uint64_t client_number = wire::decode_packet_number(std::nullopt, packet.header.number);

    Reply& reply = replies.emplace_back();
    reply.to = from;
    wire::Header h;
    h.form = wire::HeaderForm::handshake;
    h.destination = packet.header.source;
    h.source = server_id;
    h.number = wire::truncate_packet_number(0, std::nullopt, wire::kMinSentNumberLength);
    wire::PacketWriter writer(reply.bytes, h);
    const std::array<wire::AckRange, 1> acked{wire::AckRange{client_number, client_number}};
    wire::write_ack_frame(writer.frames(), 0, acked);
    wire::encode_frame(writer.frames(), wire::SynAckFrame{core::handshake_params(config.incoming), cookie});
    const auto size = writer.finish();
    RUDP_ASSERT(size.has_value());
    reply.size = *size;
  }

  void handle_cookie_ack(Instant now, const Address& from, const wire::Packet& packet, std::size_t datagram_size) {
    // Copied out: a frame reference lives only until the iteration moves on.
    std::optional<wire::CookieAckFrame> ack;
    for (const wire::Frame& f : packet.frames()) {
      if (const auto* a = std::get_if<wire::CookieAckFrame>(&f)) ack = *a;
    }
    if (!ack || !config.accept_incoming) {
      ++stats.unknown_connection_dropped;
      return;
    }
    if (!cookies.verify(now, ack->cookie, {from, packet.header.source, packet.header.destination})) {
      ++stats.cookies_rejected;
      return;
    }
    auto connection = core::Connection::server(config.incoming, now, from, packet.header.destination,
                                               packet.header.source, ack->params);
    auto handle = insert(std::move(connection));
    if (!handle) {
      ++stats.connections_refused;
      return;
    }
    ++stats.connections_accepted;
    slots[handle->index].connection->handle_packet(now, packet, datagram_size);
    collect(handle->index);
    touch(handle->index);
  }
};

Endpoint::Endpoint(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Endpoint::Endpoint(Endpoint&&) noexcept = default;
Endpoint& Endpoint::operator=(Endpoint&&) noexcept = default;
Endpoint::~Endpoint() = default;

Result<Endpoint> Endpoint::create(const EndpointConfig& config, Instant now) {
  if (const auto ec = validate(config)) return ec;
  return Endpoint(std::make_unique<Impl>(config, now));
}

void Endpoint::handle_datagram(Instant now, const Address& from, std::span<const std::byte> bytes) {
  Impl& d = *impl_;
  ++d.stats.datagrams_received;
  const auto packet = wire::parse_packet(bytes);
  if (!packet) {
    ++d.stats.malformed_dropped;
    if (const auto id = peek_destination(bytes)) {
      // Only counted: it changes nothing the connection sends or waits for.
      if (const auto it = d.by_id.find(id->value); it != d.by_id.end()) {
        core::Connection& c = *d.slots[it->second].connection;
        if (c.peer() == from) c.on_malformed();
      }
    }
    return;
  }
  const wire::Header& h = packet->header;
  if (h.form == wire::HeaderForm::handshake && h.destination == ConnectionId{}) {
    for (const wire::Frame& f : packet->frames()) {
      if (std::holds_alternative<wire::SynFrame>(f)) {
        d.handle_syn(now, from, *packet, bytes.size());
        return;
      }
    }
    ++d.stats.unknown_connection_dropped;
    return;
  }
  const auto it = d.by_id.find(h.destination.value);
  if (it == d.by_id.end()) {
    if (h.form == wire::HeaderForm::handshake) {
      d.handle_cookie_ack(now, from, *packet, bytes.size());
    } else {
      ++d.stats.unknown_connection_dropped;
    }
    return;
  }
  core::Connection& c = *d.slots[it->second].connection;
  // A connection hears its peer's address only: a packet naming its id from
  // anywhere else is spoofed or stray (a peer whose address changes, as
  // behind a rebinding NAT, is not followed).
  if (c.peer() != from) {
    ++d.stats.foreign_address_dropped;
    return;
  }
  c.handle_packet(now, *packet, bytes.size());
  d.collect(it->second);
  d.touch(it->second);
}

std::optional<Transmit> Endpoint::poll_transmit(Instant now, std::span<std::byte> out) {
  Impl& d = *impl_;
  if (!d.replies.empty()) {
    const Reply& r = d.replies.front();
    RUDP_ASSERT(out.size() >= r.size);
    std::copy_n(r.bytes.begin(), r.size, out.begin());
    Transmit t{r.to, r.size};
    d.replies.pop_front();
    return t;
  }
  // Round robin in slot order, from the slot after the one that sent last,
  // so one busy connection cannot starve the others.
  const std::uint32_t start = d.next_transmit;
  for (auto index = d.may_transmit.next(start); index; index = d.may_transmit.next(*index + 1)) {
    if (auto t = d.transmit_from(*index, now, out)) return t;
  }
  for (auto index = d.may_transmit.next(0); index && *index < start; index = d.may_transmit.next(*index + 1)) {
    if (auto t = d.transmit_from(*index, now, out)) return t;
  }
  return std::nullopt;
}

std::optional<Instant> Endpoint::next_timeout() const {
  const Impl& d = *impl_;
  d.refresh_deadlines();
  std::optional<Instant> t = d.cookies.next_rotation();
  if (const auto c = d.deadlines.earliest(); c && (!t || c->first < *t)) t = c->first;
  return t;
}

void Endpoint::handle_timeout(Instant now) {
  Impl& d = *impl_;
  if (now >= d.cookies.next_rotation()) d.cookies.rotate(now, random_key(d.rng));
  d.refresh_deadlines();
  d.due.clear();
  while (const auto c = d.deadlines.earliest()) {
    if (c->first > now) break;
    d.due.push_back(c->second);
    d.deadlines.erase(c->second);
  }
  // In slot order, so the events of connections due together queue up in
  // the same order whatever their deadlines were.
  std::sort(d.due.begin(), d.due.end());
  for (const std::uint32_t index : d.due) {
    auto& c = d.slots[index].connection;
    if (const auto t = c->next_timeout(); t && now >= *t) {
      c->handle_timeout(now);
      d.collect(index);
    }
    d.release_if_drained(index, now);
    if (d.slots[index].connection) d.touch(index);
  }
}

std::optional<Event> Endpoint::poll_event() {
  Impl& d = *impl_;
  if (d.events.empty()) return std::nullopt;
  Event e = std::move(d.events.front());
  d.events.pop_front();
  return e;
}

Result<ConnectionHandle> Endpoint::connect(Instant now, const Address& to, const ConnectionConfig& config) {
  if (const auto ec = core::validate(config)) return ec;
  return impl_->insert(core::Connection::client(config, now, to, impl_->fresh_id()));
}

void Endpoint::set_accept_incoming(bool accept) noexcept { impl_->config.accept_incoming = accept; }

Result<std::size_t> Endpoint::send(ConnectionHandle connection, std::span<const std::byte> bytes) {
  auto* c = impl_->find(connection);
  if (!c) return errc::invalid_handle;
  impl_->touch(connection.index);
  return c->send(bytes);
}

std::error_code Endpoint::send_message(ConnectionHandle connection, std::span<const std::byte> message,
                                       const SendOptions& options) {
  auto* c = impl_->find(connection);
  if (!c) return errc::invalid_handle;
  const auto ec = c->send_message(message, options);
  impl_->collect(connection.index);  // a superseded message's receipt
  impl_->touch(connection.index);
  return ec;
}

std::error_code Endpoint::configure_channel(ConnectionHandle connection, ChannelId channel,
                                            const ChannelConfig& config) {
  auto* c = impl_->find(connection);
  if (!c) return errc::invalid_handle;
  impl_->touch(connection.index);
  return c->configure_channel(channel, config);
}

Result<std::size_t> Endpoint::receive(ConnectionHandle connection, std::span<std::byte> out) {
  auto* c = impl_->find(connection);
  if (!c) return errc::invalid_handle;
  impl_->touch(connection.index);
  return c->receive(out);
}

Result<std::size_t> Endpoint::receive_message(ConnectionHandle connection, std::span<std::byte> out) {
  auto* c = impl_->find(connection);
  if (!c) return errc::invalid_handle;
  impl_->touch(connection.index);
  return c->receive_message(out);
}

std::optional<MessageInfo> Endpoint::next_message(ConnectionHandle connection) const {
  const auto* c = impl_->find(connection);
  return c ? c->next_message() : std::nullopt;
}

std::error_code Endpoint::close(ConnectionHandle connection) {
  auto* c = impl_->find(connection);
  if (!c) return errc::invalid_handle;
  c->close();
  impl_->touch(connection.index);
  return {};
}

std::error_code Endpoint::set_config(ConnectionHandle connection, const ConnectionConfig& config) {
  auto* c = impl_->find(connection);
  if (!c) return errc::invalid_handle;
  if (const auto ec = core::validate(config)) return ec;
  c->set_config(config);
  impl_->touch(connection.index);
  return {};
}

std::error_code Endpoint::abort(ConnectionHandle connection, std::uint64_t error_code) {
  auto* c = impl_->find(connection);
  if (!c) return errc::invalid_handle;
  c->abort(error_code);
  impl_->collect(connection.index);
  impl_->touch(connection.index);
  return {};
}

Result<ConnectionStats> Endpoint::stats(ConnectionHandle connection) const {
  const auto* c = impl_->find(connection);
  if (!c) return errc::invalid_handle;
  return c->stats();
}

const EndpointStats& Endpoint::stats() const noexcept { return impl_->stats; }

std::size_t Endpoint::connection_count() const noexcept { return impl_->by_id.size(); }

}  // namespace rudp
