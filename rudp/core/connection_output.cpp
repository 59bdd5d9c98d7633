// SPDX-License-Identifier: MIT
// The connection's output (member functions of core::Connection, declared in
// connection.hpp): what may be sent now (flow-control credit, the congestion
// window, the pacer), expiry of queued messages, the packets poll_transmit
// builds and seals, and the events poll_event hands out.
#include "rudp/core/connection.hpp"

#include <algorithm>

#include "rudp/assert.hpp"
#include "rudp/core/delivery_mode.hpp"
#include "rudp/wire/limits.hpp"

namespace rudp::core {
namespace {

// Room kept in every datagram beyond one chunk's payload: the largest header
// (16), the checksum (4), a COOKIE-ACK frame (26), a piggy-backed ACK (48, its
// budget when data follows), CREDIT (9), CLOSE (3) and the DATA frame's own
// header (22). A chunk that still does not fit waits for the next packet.
constexpr std::size_t kPacketReserve = 128;
// Bytes an ACK may take in a packet that also carries data.
constexpr std::size_t kPiggybackAckBudget = 48;

}  // namespace

// --- output --------------------------------------------------------------

std::size_t Connection::chunk_size() const noexcept { return datagram_size_ - kPacketReserve; }

bool Connection::credit_allows(const NextData& next) const noexcept {
  return next.credit == 0 || credit_used_ + next.credit <= peer_limit_;
}

std::optional<std::pair<SendQueue*, NextData>> Connection::next_data() const {
  return out_.pick([this](const NextData& next) { return credit_allows(next); });
}

// Data waits on credit (a zero window, probed) or on nothing.
bool Connection::data_waiting() const noexcept {
  return next_data().has_value();
}

std::optional<std::pair<SendQueue*, NextData>> Connection::sendable_data(Instant now) const {
  if (sent_.bytes_in_flight() >= cc_->window()) return std::nullopt;
  if (const auto release = pacer_.next_send_time(now, datagram_size_); release && *release > now) return std::nullopt;
  return next_data();
}

// The pacer's bucket only changes when a packet leaves, so the release time
// computed from the last send holds until the next one.
std::optional<Instant> Connection::pacing_deadline() const noexcept {
  if (state_ != State::established || !data_waiting() || sent_.bytes_in_flight() >= cc_->window()) return std::nullopt;
  return pacer_.next_send_time(last_eliciting_sent_, datagram_size_);
}

wire::Header Connection::next_header(wire::HeaderForm form) const noexcept {
  wire::Header h;
  h.form = form;
  h.destination = remote_id_;
  h.source = local_id_;
  h.number = wire::truncate_packet_number(sent_.next_number(), sent_.largest_acked(), wire::kMinSentNumberLength);
  return h;
}

std::optional<std::size_t> Connection::seal(Instant now, wire::PacketWriter& packet, bool eliciting, SentFrames frames) {
  const auto size = packet.finish();
  RUDP_ASSERT(size.has_value());
  sent_.on_packet_sent(SentPacket{sent_.next_number(), now, static_cast<std::uint32_t>(*size), eliciting, std::move(frames)});
  if (eliciting) {
    last_eliciting_sent_ = now;
    ping_pending_ = false;
    cc_->on_packet_sent(now, *size, sent_.bytes_in_flight());
    pacer_.on_sent(now, *size);
    app_limited_ = !data_waiting() && sent_.bytes_in_flight() < cc_->window();
  }
  ++stats_.packets_sent;
  stats_.bytes_sent += *size;
  return *size;
}

// Messages that can no longer arrive in time are dropped before anything is
// sent. Without an RTT sample there is no estimate of the way there, and
// nothing is dropped early.
void Connection::expire_messages(Instant now) {
  const Duration one_way = rtt_.has_sample() ? rtt_.smoothed_rtt() / 2 : Duration::zero();
  QueueNews news;
  out_.for_each([&](SendQueue& queue) { queue.expire(now, one_way, receipts_, news); });
  stats_.messages_expired += news.expired;
  stats_.messages_abandoned += news.abandoned;
}

std::optional<std::size_t> Connection::poll_transmit(Instant now, std::span<std::byte> out) {
  out = out.first(std::min(out.size(), datagram_size_));
  if (state_ == State::draining && !drain_until_) drain_until_ = now + drain_time();
  if (reset_pending_) return write_reset(now, out);
  if (state_ == State::established) expire_messages(now);
  switch (state_) {
    case State::syn_sent:
      return handshake_due_ ? write_handshake_packet(now, out) : std::nullopt;
    case State::cookie_sent:
    case State::established:
      return write_packet(now, out);
    case State::draining:
      if (silent_drain_ || !acks_.ack_due(now)) return std::nullopt;
      return write_packet(now, out);
    case State::drained:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::size_t> Connection::write_handshake_packet(Instant now, std::span<std::byte> out) {
  wire::PacketWriter packet(out, next_header(wire::HeaderForm::handshake));
  wire::Writer& w = packet.frames();
  wire::encode_frame(w, wire::SynFrame{handshake_params(config_)});
  // Pad to the full minimum datagram so the server's answer is never larger
  // than what provoked it (anti-amplification).
  w.zeros(std::min(w.remaining(), wire::kMinDatagramSize - wire::kChecksumSize - w.position()));
  handshake_due_ = false;
  return seal(now, packet, true, {});
}

std::optional<std::size_t> Connection::write_reset(Instant now, std::span<std::byte> out) {
  const auto form = remote_id_ == ConnectionId{} ? wire::HeaderForm::handshake : wire::HeaderForm::data;
  wire::PacketWriter packet(out, next_header(form));
  wire::encode_frame(packet.frames(), wire::ResetFrame{*reset_pending_, {}});
  reset_pending_.reset();
  return seal(now, packet, false, {});
}

std::optional<std::size_t> Connection::write_packet(Instant now, std::span<std::byte> out) {
  const bool draining = state_ == State::draining;
  const bool cookie = state_ == State::cookie_sent;
  auto next_frame = draining ? std::nullopt : sendable_data(now);
  const bool data = next_frame.has_value();
  const bool eliciting_wanted =
      !draining && ((cookie && handshake_due_) || credit_pending_ || fin_pending_ || ping_pending_ || data || out_.has_skips());
  if (!eliciting_wanted && !acks_.ack_due(now)) return std::nullopt;

  const wire::Header header = next_header(cookie ? wire::HeaderForm::handshake : wire::HeaderForm::data);
  wire::PacketWriter packet(out, header);
  wire::Writer& w = packet.frames();
  SentFrames frames;
  frames.chunks = std::move(spare_chunks_);
  spare_chunks_.clear();  // valid but unspecified once moved from
  bool eliciting = false;

  if (cookie) {
    // Every packet before the server answers carries the cookie: whichever
    // arrives first creates the server's connection.
    wire::encode_frame(w, wire::CookieAckFrame{handshake_params(config_), cookie_});
    handshake_due_ = false;
    eliciting = true;
  }
  if (acks_.has_news()) {
    const std::size_t budget = eliciting_wanted ? std::min(w.remaining(), kPiggybackAckBudget) : w.remaining();
    frames.ack_largest = acks_.write_ack(w, now, budget);
  }
  if (credit_pending_) {
    advertised_limit_ = inbox_.limit();
    wire::encode_frame(w, wire::CreditFrame{advertised_limit_});
    credit_pending_ = false;
    frames.credit = eliciting = true;
  }
  if (fin_pending_) {
    wire::encode_frame(w, wire::CloseFrame{0, {}});
    fin_pending_ = false;
    frames.close = eliciting = true;
  }
  if (!draining) {
    out_.for_each([&](SendQueue& queue) {
      while (const auto skip = queue.peek_skip()) {
        const std::size_t size = 2 + wire::varint_size(skip->sequence) + wire::varint_size(skip->count) +
                                 wire::varint_size(skip->cost);
        if (size > w.remaining()) return;
        wire::encode_frame(w, *skip);
        queue.on_skip_sent();
        frames.skips.push_back(*skip);
        eliciting = true;
      }
    });
  }
  // A frame written without its length runs to the end of the packet, so
  // nothing (not even a re-bundled copy) may follow it.
  bool ended = false;
  while (next_frame) {
    auto [queue, next] = *next_frame;
    wire::DataFrame frame = next.frame;
    const std::size_t with_length = wire::data_frame_size(frame);
    if (with_length - wire::varint_size(frame.payload.size()) > w.remaining()) break;
    if (next.retransmission) ++stats_.chunks_retransmitted;
    credit_used_ += next.credit;
    if (const auto receipt = queue->on_sent()) frames.receipts.push_back(*receipt);
    out_.on_sent(*queue, frame.payload.size());
    if (reliable(frame.mode)) frames.chunks.push_back({frame.channel, frame.sequence});
    eliciting = true;
    // The last frame of a packet needs no length: it runs to the end. With
    // re-bundling, older chunks may still follow.
    next_frame = sendable_data(now);
    const bool last = with_length > w.remaining() ||
                      (!config_.rebundle_small_chunks &&
                       (!next_frame || wire::data_frame_size(next_frame->second.frame) > w.remaining() - with_length));
    frame.explicit_length = !last;
    wire::encode_frame(w, frame);
    if (last) {
      ended = true;
      break;
    }
  }
  if (config_.rebundle_small_chunks && !draining && eliciting && !ended) rebundle(w, frames);
  if (ping_pending_ && !eliciting) {
    wire::encode_frame(w, wire::PingFrame{});
    eliciting = true;
  }
  RUDP_ASSERT(w.ok());
  if (w.position() == wire::header_size(header)) return std::nullopt;
  return seal(now, packet, eliciting, std::move(frames));
}

// Like redundant audio (RFC 2198): each small chunk rides again in the next
// packets that have room, newest first, at most kCopies times, so a message is
// lost only when its packet and the kCopies after it all are.
void Connection::rebundle(wire::Writer& w, SentFrames& frames) {
  constexpr std::size_t kSmallChunk = 256;
  constexpr std::size_t kLookBack = 16;
  constexpr std::uint8_t kCopies = 2;
  std::size_t room = 4;  // chunks repeated per packet
  out_.for_each([&](SendQueue& queue) {
    room -= queue.for_each_in_flight(room, kLookBack, [&](Chunk& chunk) {
      if (chunk.bytes.size() > kSmallChunk || chunk.copies >= kCopies) return false;
      const ChunkRef ref{queue.channel(), chunk.sequence};
      if (std::find(frames.chunks.begin(), frames.chunks.end(), ref) != frames.chunks.end()) return false;
      const wire::DataFrame frame{chunk.mode, ref.channel, chunk.sequence, chunk.fragment_index,
                                  chunk.fragment_count, true, chunk.bytes};
      if (wire::data_frame_size(frame) > w.remaining()) return false;
      wire::encode_frame(w, frame);
      frames.chunks.push_back(ref);
      ++chunk.copies;
      ++stats_.chunks_rebundled;
      return true;
    });
  });
}

std::optional<Event> Connection::poll_event() {
  collect_receipts();
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace rudp::core
