// SPDX-License-Identifier: MIT
#include "rudp/core/connection.hpp"

#include <algorithm>

#include "rudp/core/delivery_mode.hpp"
#include "rudp/overloaded.hpp"
#include "rudp/wire/limits.hpp"

namespace rudp::core {
namespace {

RttConfig rtt_config(const ConnectionConfig& c) noexcept {
  RttConfig r;
  r.initial_rtt = c.initial_rtt;
  r.min_rto = c.min_rto;
  r.max_rto = c.max_rto;
  r.backoff = c.rto_backoff;
  return r;
}

AckPolicy ack_policy(const ConnectionConfig& c) noexcept {
  return AckPolicy{c.packets_before_ack, c.max_ack_delay};
}

template <class T>
bool within(T value, T low, T high) noexcept {
  return value >= low && value <= high;
}

}  // namespace

std::error_code validate(const ConnectionConfig& c) noexcept {
  const bool ok =
      c.initial_rtt > Duration::zero() && within<Duration>(c.min_rto, std::chrono::milliseconds(1), c.max_rto) &&
      c.max_rto <= std::chrono::minutes(10) && within(c.rto_backoff, 1.0, 4.0) &&
      within(c.packet_threshold, 1u, 1000u) && within(c.time_threshold, 1.0, 4.0) &&
      within(c.packets_before_ack, 1u, 64u) && within<Duration>(c.max_ack_delay, Duration::zero(), std::chrono::seconds(1)) &&
      within<std::size_t>(c.max_datagram_size, wire::kMinDatagramSize, wire::kMaxDatagramSize) &&
      within<std::size_t>(c.send_buffer, c.max_datagram_size, std::size_t{1} << 30) &&
      within<std::size_t>(c.max_message_size, 1, std::size_t{256} << 20) &&
      within<std::size_t>(c.receive_window, c.max_message_size + (std::size_t{64} << 10), std::size_t{1} << 30) &&
      within<std::size_t>(c.reassembly_buffer, c.max_datagram_size, std::size_t{1} << 30) &&
      within<Duration>(c.reassembly_timeout, std::chrono::milliseconds(1), std::chrono::minutes(1)) &&
      c.unreliable_buffer <= std::size_t{1} << 30 &&
      within<std::size_t>(c.fixed_window, 2 * c.max_datagram_size, std::size_t{1} << 30) &&
      within<Duration>(c.latency_target, std::chrono::microseconds(100), std::chrono::seconds(1)) &&
      c.max_burst_packets <= 1000 &&
      within<Duration>(c.idle_timeout, Duration::zero(), std::chrono::hours(1)) &&
      c.keepalive_interval >= Duration::zero() && within(c.max_retransmits, 1u, 100u) &&
      within<Duration>(c.handshake_timeout, std::chrono::milliseconds(10), std::chrono::minutes(10)) &&
      (!c.drain_time || *c.drain_time >= Duration::zero());
  return ok ? std::error_code{} : make_error_code(errc::invalid_config);
}

wire::HandshakeParams handshake_params(const ConnectionConfig& c) noexcept {
  return {c.max_datagram_size, c.receive_window,
          static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(c.idle_timeout).count())};
}

Connection::Connection(const ConnectionConfig& config, Instant now, const Address& peer, ConnectionId local)
    : config_(config),
      state_(State::syn_sent),
      peer_(peer),
      local_id_(local),
      created_at_(now),
      handshake_deadline_(now + config.handshake_timeout),
      datagram_size_(wire::kMinDatagramSize),
      idle_timeout_(config.idle_timeout),
      rtt_(rtt_config(config)),
      cc_(make_controller(0)),
      acks_(ack_policy(config)),
      inbox_(config.receive_window, config.unreliable_buffer),
      reassembly_(config.reassembly_buffer, config.reassembly_timeout),
      advertised_limit_(config.receive_window),
      last_received_(now),
      last_eliciting_sent_(now) {}

Connection Connection::client(const ConnectionConfig& config, Instant now, const Address& peer, ConnectionId local) {
  Connection c(config, now, peer, local);
  c.handshake_due_ = true;
  return c;
}

Connection Connection::server(const ConnectionConfig& config, Instant now, const Address& peer, ConnectionId local,
                              ConnectionId remote, const wire::HandshakeParams& peer_params) {
  Connection c(config, now, peer, local);
  c.remote_id_ = remote;
  c.peer_params_ = peer_params;
  c.datagram_size_ = std::min<std::size_t>(config.max_datagram_size, peer_params.max_datagram_size);
  c.peer_limit_ = peer_params.initial_credit;
  if (peer_params.idle_timeout_ms > 0) {
    const Duration theirs = std::chrono::milliseconds(peer_params.idle_timeout_ms);
    c.idle_timeout_ = c.idle_timeout_ == Duration::zero() ? theirs : std::min(c.idle_timeout_, theirs);
  }
  c.incoming_ = true;
  c.become_established(now);
  return c;
}

// --- input ---------------------------------------------------------------

void Connection::handle_packet(Instant now, const wire::Packet& packet, std::size_t datagram_size) {
  if (state_ == State::drained) return;
  ++stats_.packets_received;
  stats_.bytes_received += datagram_size;

  if (state_ == State::syn_sent) {
    // Only the SYN-ACK is expected; it is stateless on the server, so its
    // packet number is not recorded or acknowledged.
    if (packet.header.form != wire::HeaderForm::handshake) return;
    bool syn_ack = false;
    for (const wire::Frame& f : packet.frames()) {
      if (const auto* s = std::get_if<wire::SynAckFrame>(&f)) {
        syn_ack = true;
        remote_id_ = packet.header.source;
        peer_params_ = s->params;
        cookie_.assign(s->cookie.begin(), s->cookie.end());
      }
    }
    if (!syn_ack) return;
    datagram_size_ = std::min<std::size_t>(config_.max_datagram_size, peer_params_.max_datagram_size);
    peer_limit_ = peer_params_.initial_credit;
    if (peer_params_.idle_timeout_ms > 0) {
      const Duration theirs = std::chrono::milliseconds(peer_params_.idle_timeout_ms);
      idle_timeout_ = idle_timeout_ == Duration::zero() ? theirs : std::min(idle_timeout_, theirs);
    }
    for (const wire::Frame& f : packet.frames()) {
      if (const auto* a = std::get_if<wire::AckFrame>(&f)) on_ack_frame(now, *a);
    }
    state_ = State::cookie_sent;
    handshake_due_ = true;
    last_received_ = now;
    return;
  }

  if (silent_drain_) return;
  // After its SYN-ACK, a client sees only data-form packets: a repeated
  // SYN-ACK is stale, and its packet number belongs to no connection.
  if (!incoming_ && packet.header.form == wire::HeaderForm::handshake) return;

  const std::uint64_t number = wire::decode_packet_number(acks_.largest(), packet.header.number);
  if (!acks_.on_packet(number, packet.ack_eliciting, now)) {
    ++stats_.packets_duplicate;
    return;
  }
  last_received_ = now;
  // The handshake's peer waits on its ACK; so does a FIN's, and as with TCP's
  // FIN it goes at once: the side that closes last may already be exiting.
  if (packet.header.form == wire::HeaderForm::handshake || packet.closes) acks_.ack_immediately();
  if (state_ == State::cookie_sent) become_established(now);
  if (state_ == State::draining) return;  // only acknowledged, so a repeated FIN gets its ACK
  handle_frames(now, packet);
}

void Connection::handle_frames(Instant now, const wire::Packet& packet) {
  const bool was_readable = inbox_.readable();
  for (const wire::Frame& frame : packet.frames()) {
    if (state_ != State::established) break;  // a RESET or a violation ended it mid-packet
    std::visit(Overloaded{
                   [&](const wire::AckFrame& f) { on_ack_frame(now, f); },
                   [&](const wire::CreditFrame& f) { peer_limit_ = std::max(peer_limit_, f.limit); },
                   [&](const wire::CloseFrame&) {
                     if (!peer_fin_) {
                       peer_fin_ = true;
                       events_.push_back(PeerFinished{});
                     }
                   },
                   [&](const wire::ResetFrame& f) { end(CloseReason::reset_by_peer, f.error_code); },
                   [&](const wire::DataFrame& f) { on_data(now, f); },
                   [&](const wire::SkipFrame& f) { on_skip(f); },
                   // PADDING and PING only elicit the ACK already owed; the
                   // handshake frames are repeats of a finished handshake.
                   [](const auto&) {},
               },
               frame);
  }
  note_readable(was_readable);
  update_credit();
  maybe_finish();
}

RecvQueue& Connection::recv_queue(ChannelId channel) {
  for (RecvQueue& q : recv_queues_) {
    if (q.channel() == channel) return q;
  }
  return recv_queues_.emplace_back(channel);
}

void Connection::on_data(Instant now, const wire::DataFrame& frame) {
  if (!reliable(frame.mode)) {
    // The peer's direction is closed: unreliable data sent before its FIN
    // and overtaken by it is dropped.
    if (peer_fin_) return;
    auto message = reassembly_.on_frame(frame, now);
    if (message && !inbox_.push_unreliable(std::move(*message), frame.channel, frame.mode)) {
      ++stats_.unreliable_dropped;
    }
    return;
  }
  RecvQueue& queue = recv_queue(frame.channel);
  if (peer_fin_) {
    // The peer sends its FIN once all its data is acknowledged, so anything
    // after it is a repeat, sent earlier and overtaken by the FIN, or re-sent
    // spuriously; new data after the FIN is a violation.
    if (!queue.has_chunk(frame.sequence)) violation();
    return;
  }
  if (queue.on_chunk(frame, inbox_) == ChunkVerdict::violation) violation();
}

void Connection::on_skip(const wire::SkipFrame& frame) {
  // A SKIP is acknowledged before the FIN is sent, so one after it is a repeat.
  if (peer_fin_) return;
  switch (recv_queue(frame.channel).on_skip(frame, inbox_)) {
    case ChunkVerdict::accepted: ++stats_.messages_skipped; break;
    case ChunkVerdict::duplicate: break;
    case ChunkVerdict::violation: violation(); break;
  }
}

void Connection::on_ack_frame(Instant now, const wire::AckFrame& frame) {
  PacketOutcome outcome;
  const Duration forget = std::max(3 * rtt_.smoothed_rtt(), rtt_.rto());
  sent_.on_ack(frame.ranges, now, now - forget, outcome);
  if (outcome.rtt_sample) {
    const Duration reported = std::chrono::microseconds(frame.ack_delay * wire::kAckDelayUnitMicros);
    rtt_.on_sample(*outcome.rtt_sample, std::min<Duration>(reported, config_.max_ack_delay));
  }
  if (outcome.acked_packets > 0) probe_count_ = 0;
  sent_.detect_lost(now, loss_delay(), config_.packet_threshold, outcome);
  apply(now, outcome);
  // Its storage serves the next packet sent: one allocation fewer per packet.
  if (outcome.acked.chunks.capacity() > spare_chunks_.capacity()) {
    spare_chunks_ = std::move(outcome.acked.chunks);
    spare_chunks_.clear();
  }
}

void Connection::apply(Instant now, PacketOutcome& outcome) {
  if (outcome.acked_bytes > 0) {
    cc_->on_ack({now, outcome.acked_bytes, sent_.bytes_in_flight(), outcome.largest_newly_acked_sent.value_or(now),
                 rtt_.smoothed_rtt(), rtt_.has_sample() ? rtt_.min_rtt() : Duration::zero(), rtt_.latest_rtt(),
                 app_limited_});
  }
  if (outcome.lost_packets > 0) {
    // Persistent congestion (RFC 9002 §7.6), judged within this one batch of
    // losses: they span more than three probe timeouts and nothing in the
    // batch was acknowledged.
    const Duration pto = rtt_.smoothed_rtt() + std::max<Duration>(4 * rtt_.rttvar(), std::chrono::milliseconds(1)) +
                         config_.max_ack_delay;
    const bool persistent = rtt_.has_sample() && outcome.acked_packets == 0 &&
                            *outcome.latest_lost_sent - *outcome.earliest_lost_sent > 3 * pto;
    const std::uint64_t window = cc_->window();
    cc_->on_congestion_event({now, outcome.lost_bytes, sent_.bytes_in_flight(), *outcome.latest_lost_sent, persistent});
    // Losses within a recovery period are one event; only a cut is reported.
    if (cc_->window() < window) {
      ++stats_.congestion_events;
      if (!closed_) events_.push_back(Congestion{{}, cc_->window(), cc_->bandwidth_estimate().value_or(0)});
    }
  }
  if (outcome.acked_bytes > 0 || outcome.lost_packets > 0) update_pacing();

  for (const ChunkRef& chunk : outcome.acked.chunks) out_.queue(chunk.channel).on_acked(chunk.sequence, receipts_);
  for (const wire::SkipFrame& skip : outcome.acked.skips) out_.queue(skip.channel).on_skip_acked(skip.sequence);
  for (const ReceiptId receipt : outcome.acked.receipts) receipts_.on_part_acked(receipt);
  if (outcome.acked.ack_largest) acks_.on_ack_acknowledged(*outcome.acked.ack_largest);
  if (outcome.acked.close) fin_acked_ = true;

  for (const ChunkRef& chunk : outcome.lost.chunks) out_.queue(chunk.channel).on_lost(chunk.sequence);
  for (const wire::SkipFrame& skip : outcome.lost.skips) out_.queue(skip.channel).on_skip_lost(skip);
  for (const ReceiptId receipt : outcome.lost.receipts) receipts_.on_part_lost(receipt);
  if (outcome.lost.credit) credit_pending_ = true;
  if (outcome.lost.close && !fin_acked_) fin_pending_ = true;

  stats_.packets_lost += outcome.lost_packets;
  stats_.spurious_retransmissions += outcome.spurious_packets;
  if (writable_wanted_ && out_.buffered() < config_.send_buffer && !closed_) {
    writable_wanted_ = false;
    events_.push_back(Writable{});
  }
}

void Connection::become_established(Instant now) {
  state_ = State::established;
  std::vector<std::byte>().swap(cookie_);  // only packets before this carry it
  stats_.handshake_time = now - created_at_;
  events_.push_back(Connected{{}, incoming_});
}

void Connection::maybe_finish() {
  if (state_ != State::established) return;
  if (close_requested_ && !fin_sent_ && out_.all_acked()) {
    fin_sent_ = true;
    fin_pending_ = true;
  }
  // Closed{closed} promises everything was delivered: it waits until the
  // application has also read what arrived before the peer's FIN.
  if (fin_acked_ && peer_fin_ && !inbox_.readable()) end(CloseReason::closed, 0);
}

void Connection::end(CloseReason reason, std::uint64_t error_code) {
  state_ = State::draining;
  silent_drain_ = reason != CloseReason::closed;
  drain_until_.reset();  // set by the next poll_transmit, which knows the time
  if (!closed_) {
    closed_ = true;
    receipts_.resolve_all_lost();
    collect_receipts();
    events_.push_back(Closed{{}, reason, error_code});
  }
}

void Connection::violation() {
  if (closed_) return;
  reset_pending_ = 0;  // the application's error space has no code for this
  closed_ = true;
  silent_drain_ = true;
  state_ = State::draining;
  receipts_.resolve_all_lost();
  collect_receipts();
  events_.push_back(Closed{{}, CloseReason::protocol_violation, 0});
}

void Connection::collect_receipts() {
  while (auto receipt = receipts_.poll()) events_.push_back(*receipt);
}

void Connection::note_readable(bool was_readable) {
  if (!was_readable && inbox_.readable() && !closed_) events_.push_back(Readable{});
}

void Connection::update_credit() noexcept {
  const std::uint64_t limit = inbox_.limit();
  if (limit <= advertised_limit_) return;
  const std::uint64_t window = config_.receive_window;
  // Re-grant after a quarter window was read, or sooner when the peer has
  // used most of what it was given and would otherwise stall.
  if (limit - advertised_limit_ >= window / 4 || advertised_limit_ - inbox_.used() < window / 2) credit_pending_ = true;
}

// --- timers --------------------------------------------------------------

// Neither case has a timer of its own: expiry and the pacer's release before
// the handshake completes were only ever checked when the connection was
// polled, and giving them timers would change when they happen.
bool Connection::needs_polling() const noexcept {
  switch (state_) {
    case State::cookie_sent: return data_waiting();
    case State::established: return out_.deadline_pending();
    case State::syn_sent:
    case State::draining:
    case State::drained: return false;
  }
  return false;
}

Duration Connection::loss_delay() const noexcept {
  const Duration base = std::max(rtt_.smoothed_rtt(), rtt_.latest_rtt());
  const auto scaled = std::chrono::duration_cast<Duration>(base * config_.time_threshold);
  return std::max<Duration>(scaled, std::chrono::milliseconds(1));
}

Duration Connection::drain_time() const noexcept {
  if (config_.drain_time) return *config_.drain_time;
  const Duration probe = 2 * rtt_.backed_off_rto(probe_count_);
  // After a graceful close the peer may still be waiting for the ACK of its
  // FIN, re-sending it on its own timer, which can be far longer than ours: a
  // peer that only received has no RTT sample (3 x initial_rtt, then doubled
  // per timeout). It gives up at the idle timeout both sides agreed on, so the
  // drain outlasts that, as TCP's TIME_WAIT outlasts the peer's FIN retries.
  if (!silent_drain_ && idle_timeout_ > Duration::zero()) return idle_timeout_ + probe;
  return probe;
}

std::optional<Instant> Connection::probe_deadline() const noexcept {
  const auto last = sent_.last_eliciting_sent();
  if (last) return *last + rtt_.backed_off_rto(probe_count_);
  // Nothing in flight but data waiting on credit: probe the zero window.
  if (state_ == State::established && !data_waiting() && out_.pick([](const NextData&) { return true; })) {
    return last_eliciting_sent_ + rtt_.backed_off_rto(probe_count_);
  }
  return std::nullopt;
}

std::optional<Instant> Connection::next_timeout() const noexcept {
  if (state_ == State::drained) return std::nullopt;
  if (state_ == State::draining) {
    if (!drain_until_) return std::nullopt;  // the RESET is still to be polled out
    auto t = *drain_until_;
    if (const auto ack = acks_.next_deadline(); ack && !silent_drain_) t = std::min(t, *ack);
    return t;
  }
  std::optional<Instant> t;
  auto consider = [&](std::optional<Instant> candidate) {
    if (candidate && (!t || *candidate < *t)) t = candidate;
  };
  if (state_ != State::established) consider(handshake_deadline_);
  if (state_ == State::established && fin_acked_ && peer_fin_ && !inbox_.readable()) consider(last_received_);
  if (idle_timeout_ > Duration::zero()) consider(last_received_ + idle_timeout_);
  consider(acks_.next_deadline());
  consider(reassembly_.next_expiry());
  const auto loss = sent_.next_loss_time(loss_delay());
  consider(loss ? loss : probe_deadline());
  consider(pacing_deadline());
  if (state_ == State::established && config_.keepalive_interval > Duration::zero()) {
    consider(last_eliciting_sent_ + config_.keepalive_interval);
  }
  return t;
}

void Connection::handle_timeout(Instant now) {
  if (state_ == State::drained) return;
  if (state_ == State::draining) {
    if (drain_until_ && now >= *drain_until_) state_ = State::drained;
    return;
  }
  if (state_ != State::established && now >= handshake_deadline_) {
    end(CloseReason::handshake_timeout, 0);
    return;
  }
  reassembly_.expire(now);
  // The application read the last byte after both FINs: the close completes
  // here, on the driver's call, so a handle stays valid between driver calls.
  maybe_finish();
  if (closed_) return;
  if (idle_timeout_ > Duration::zero() && now >= last_received_ + idle_timeout_) {
    end(CloseReason::idle_timeout, 0);
    return;
  }
  if (const auto loss = sent_.next_loss_time(loss_delay()); loss && now >= *loss) {
    PacketOutcome outcome;
    sent_.detect_lost(now, loss_delay(), config_.packet_threshold, outcome);
    apply(now, outcome);
  } else if (const auto probe = probe_deadline(); probe && now >= *probe) {
    on_probe_timeout(now);
  }
  if (state_ == State::established && config_.keepalive_interval > Duration::zero() &&
      now >= last_eliciting_sent_ + config_.keepalive_interval) {
    ping_pending_ = true;
  }
}

void Connection::on_probe_timeout(Instant now) {
  ++probe_count_;
  ++stats_.probe_timeouts;
  if (config_.tail_loss_probe && probe_count_ == 1 && state_ == State::established) {
    // A tail loss probe: the newest data goes out again, nothing is declared
    // lost and the window stays; its ACK (or its absence) decides.
    ++stats_.tail_loss_probes;
    for (const ChunkRef& chunk : sent_.newest_outstanding_chunks()) out_.queue(chunk.channel).on_lost(chunk.sequence);
    ping_pending_ = true;
    return;
  }
  // The handshake gives up on its own deadline rather than a count.
  if (state_ == State::established && probe_count_ > config_.max_retransmits) {
    end(CloseReason::peer_unreachable, 0);
    return;
  }
  // As TCP does on RTO: everything outstanding is presumed lost and re-sent;
  // an ACK arriving for it later marks the retransmission spurious.
  PacketOutcome outcome;
  sent_.declare_all_lost(outcome);
  apply(now, outcome);
  cc_->on_retransmission_timeout(now);
  update_pacing();
  if (state_ == State::established) {
    ping_pending_ = true;
  } else {
    handshake_due_ = true;
  }
}

// --- congestion control --------------------------------------------------

std::unique_ptr<cc::Controller> Connection::make_controller(std::uint64_t initial_window) const {
  cc::Params p;
  p.max_datagram_size = datagram_size_;
  p.minimum_window = 2 * datagram_size_;
  // RFC 9002 §7.2: ten datagrams, within 14,720 bytes unless datagrams are large.
  p.initial_window = initial_window > 0 ? initial_window
                                        : std::min<std::uint64_t>(10 * datagram_size_,
                                                                  std::max<std::uint64_t>(14720, 2 * datagram_size_));
  p.fixed_window = config_.fixed_window;
  p.latency_target = config_.latency_target;
  const auto algorithm = [&] {
    switch (config_.congestion_control) {
      case CongestionControl::new_reno: return cc::Algorithm::new_reno;
      case CongestionControl::cubic: return cc::Algorithm::cubic;
      case CongestionControl::latency_first: return cc::Algorithm::latency_first;
      case CongestionControl::fixed: return cc::Algorithm::fixed;
    }
    return cc::Algorithm::cubic;
  }();
  return cc::make(algorithm, p);
}

void Connection::update_pacing() noexcept {
  if (config_.max_burst_packets == 0) {
    pacer_.set_rate(0, 0);
    return;
  }
  // Without a rate of its own, a controller's window is spread over the RTT,
  // with RFC 9002 §7.7's headroom of 5/4 so pacing never holds the window back.
  const Duration srtt = std::max<Duration>(rtt_.smoothed_rtt(), std::chrono::microseconds(1));
  const std::uint64_t rate = cc_->pacing_rate().value_or(static_cast<std::uint64_t>(
      static_cast<double>(cc_->window()) * 1.25 / std::chrono::duration<double>(srtt).count()));
  pacer_.set_rate(rate, std::uint64_t{config_.max_burst_packets} * datagram_size_);
}

// --- commands ------------------------------------------------------------

Result<std::size_t> Connection::send(std::span<const std::byte> bytes) {
  if (closed_ || close_requested_) return errc::connection_closed;
  const std::size_t room = config_.send_buffer - std::min(config_.send_buffer, out_.buffered());
  const std::size_t taken = std::min(bytes.size(), room);
  SendQueue& queue = out_.queue(0);
  for (std::size_t offset = 0; offset < taken; offset += chunk_size()) {
    queue.push(bytes.subspan(offset, std::min(chunk_size(), taken - offset)), {}, chunk_size());
  }
  if (taken < bytes.size()) writable_wanted_ = true;
  if (taken == 0 && !bytes.empty()) return errc::would_block;
  return taken;
}

std::error_code Connection::configure_channel(ChannelId channel, const ChannelConfig& config) {
  if (config.weight == 0) return errc::invalid_config;
  if (closed_) return errc::connection_closed;
  out_.configure(channel, config);
  return {};
}

std::error_code Connection::send_message(std::span<const std::byte> message, const SendOptions& options) {
  if (closed_ || close_requested_) return errc::connection_closed;
  const DeliveryMode mode = options.mode.value_or(out_.config(options.channel).mode);
  const std::size_t chunks = std::max<std::size_t>(1, (message.size() + chunk_size() - 1) / chunk_size());
  // The peer's window is known from the SYN-ACK on; a reliable message must
  // fit in it whole, chunk overheads included, or it could never be delivered.
  const bool beyond_window = reliable(mode) && state_ != State::syn_sent &&
                             message.size() + chunks * kChunkCreditOverhead > peer_params_.initial_credit;
  if (message.size() > config_.max_message_size || beyond_window || chunks > wire::kMaxFragmentCount) {
    return errc::message_too_large;
  }
  const std::size_t buffered = out_.buffered();
  if (buffered >= config_.send_buffer || message.size() > config_.send_buffer - buffered) {
    writable_wanted_ = true;
    return errc::would_block;
  }
  MessageOptions queued{mode, options.deadline, options.max_retransmits, options.supersede_key, std::nullopt};
  if (options.receipt) {
    queued.receipt = receipts_.open(options.channel, *options.receipt,
                                    reliable(mode) ? 1 : static_cast<std::uint32_t>(chunks));
  }
  const Pushed pushed = out_.queue(options.channel).push(message, queued, chunk_size());
  if (pushed.superseded) ++stats_.messages_superseded;
  if (pushed.replaced_receipt) receipts_.resolve(*pushed.replaced_receipt, ReceiptOutcome::superseded);
  return {};
}

Result<std::size_t> Connection::receive(std::span<std::byte> out) {
  if (!inbox_.readable()) {
    if (peer_fin_) return errc::end_of_stream;
    return errc::would_block;
  }
  const std::size_t n = inbox_.read(out);
  update_credit();
  return n;
}

Result<std::size_t> Connection::receive_message(std::span<std::byte> out) {
  if (!inbox_.readable() && peer_fin_) return errc::end_of_stream;
  auto n = inbox_.read_message(out);
  update_credit();
  return n;
}

void Connection::close() noexcept {
  if (closed_ || close_requested_) return;
  close_requested_ = true;
  if (state_ == State::established && out_.all_acked()) {
    fin_sent_ = true;
    fin_pending_ = true;
  }
}

void Connection::abort(std::uint64_t error_code) {
  if (closed_) return;
  // Before the SYN-ACK there is no peer id to address a RESET to.
  if (remote_id_ != ConnectionId{}) reset_pending_ = error_code;
  closed_ = true;
  silent_drain_ = true;
  state_ = State::draining;
  receipts_.resolve_all_lost();
  collect_receipts();
  events_.push_back(Closed{{}, CloseReason::aborted, error_code});
}

void Connection::set_config(const ConnectionConfig& config) {
  const bool new_controller = config.congestion_control != config_.congestion_control ||
                              config.fixed_window != config_.fixed_window ||
                              config.latency_target != config_.latency_target;
  const ConnectionConfig old = config_;
  config_ = config;
  config_.max_datagram_size = old.max_datagram_size;
  config_.receive_window = old.receive_window;
  config_.reassembly_buffer = old.reassembly_buffer;
  config_.reassembly_timeout = old.reassembly_timeout;
  config_.unreliable_buffer = old.unreliable_buffer;
  rtt_.set_config(rtt_config(config_));
  acks_.set_policy(ack_policy(config_));
  // The new controller starts from the current window rather than slow start
  // over: the path has not changed, only how hard to push it.
  if (new_controller) cc_ = make_controller(cc_->window());
  update_pacing();
}

ConnectionStats Connection::stats() const noexcept {
  ConnectionStats s = stats_;
  s.smoothed_rtt = rtt_.smoothed_rtt();
  s.rttvar = rtt_.rttvar();
  s.min_rtt = rtt_.has_sample() ? rtt_.min_rtt() : Duration::zero();
  s.rto = rtt_.rto();
  s.bytes_in_flight = sent_.bytes_in_flight();
  s.congestion_window = cc_->window();
  s.bandwidth_estimate = cc_->bandwidth_estimate().value_or(0);
  s.pacing_rate = pacer_.rate();
  s.send_credit = peer_limit_ > credit_used_ ? peer_limit_ - credit_used_ : 0;
  s.receive_credit = advertised_limit_ > inbox_.used() ? advertised_limit_ - inbox_.used() : 0;
  s.reassembly_dropped = reassembly_.dropped();
  s.messages_stale = reassembly_.stale();
  return s;
}

}  // namespace rudp::core
