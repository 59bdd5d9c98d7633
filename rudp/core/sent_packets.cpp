// SPDX-License-Identifier: MIT
#include "rudp/core/sent_packets.hpp"

#include <algorithm>

#include "rudp/assert.hpp"

namespace rudp::core {

void SentFrames::merge(SentFrames&& other) {
  if (chunks.empty()) {
    chunks = std::move(other.chunks);
  } else {
    chunks.insert(chunks.end(), other.chunks.begin(), other.chunks.end());
  }
  if (other.ack_largest && (!ack_largest || *other.ack_largest > *ack_largest)) ack_largest = other.ack_largest;
  credit = credit || other.credit;
  close = close || other.close;
}

void SentPackets::on_packet_sent(SentPacket packet) {
  RUDP_ASSERT(packet.number == next_number_);
  if (entries_.empty()) first_number_ = packet.number;
  ++next_number_;
  if (packet.ack_eliciting) {
    bytes_in_flight_ += packet.size;
    ++eliciting_in_flight_;
  }
  entries_.push_back(Entry{std::move(packet)});
  pop_front(Instant{});
}

void SentPackets::mark(Entry& e, State state, PacketOutcome& out) {
  const bool was_outstanding = e.state == State::outstanding;
  if (was_outstanding && e.packet.ack_eliciting) {
    bytes_in_flight_ -= e.packet.size;
    --eliciting_in_flight_;
  }
  if (state == State::acked) {
    if (e.state == State::lost) ++out.spurious_packets;
    ++out.acked_packets;
    if (e.packet.ack_eliciting) out.acked_bytes += e.packet.size;
    out.acked.merge(std::move(e.packet.frames));
  } else {
    ++out.lost_packets;
    if (e.packet.ack_eliciting) out.lost_bytes += e.packet.size;
    // A lost packet keeps its ack_largest: its ACK may still need repeating,
    // but whether its frames are re-sent is for the caller to decide.
    out.lost.merge(SentFrames(e.packet.frames));
  }
  e.state = state;
}

void SentPackets::on_ack(const wire::AckRanges& ranges, Instant now, Instant forget_lost_before, PacketOutcome& out) {
  if (entries_.empty() || ranges.largest() < first_number_) return;
  const std::uint64_t last_number = first_number_ + entries_.size() - 1;
  if (ranges.largest() > last_number) return;  // acknowledges a packet never sent: ignore the frame

  if (const Entry& e = entries_[ranges.largest() - first_number_]; e.state != State::acked) {
    out.largest_newly_acked_sent = e.packet.time_sent;
    if (e.packet.ack_eliciting) out.rtt_sample = now - e.packet.time_sent;
  }
  if (!largest_acked_ || ranges.largest() > *largest_acked_) largest_acked_ = ranges.largest();

  for (const wire::AckRange& r : ranges) {
    if (r.largest < first_number_) break;
    const std::uint64_t low = std::max(r.smallest, first_number_);
    for (std::uint64_t n = r.largest + 1; n-- > low;) {
      Entry& e = entries_[n - first_number_];
      if (e.state != State::acked) mark(e, State::acked, out);
    }
  }
  pop_front(forget_lost_before);
}

void SentPackets::detect_lost(Instant now, Duration loss_delay, unsigned packet_threshold, PacketOutcome& out) {
  if (!largest_acked_) return;
  for (Entry& e : entries_) {
    if (e.packet.number >= *largest_acked_) break;
    if (e.state != State::outstanding || !e.packet.ack_eliciting) continue;
    if (e.packet.number + packet_threshold <= *largest_acked_ || e.packet.time_sent + loss_delay <= now) {
      mark(e, State::lost, out);
    }
  }
}

std::optional<Instant> SentPackets::next_loss_time(Duration loss_delay) const noexcept {
  if (!largest_acked_) return std::nullopt;
  for (const Entry& e : entries_) {
    if (e.packet.number >= *largest_acked_) break;
    if (e.state == State::outstanding && e.packet.ack_eliciting) return e.packet.time_sent + loss_delay;
  }
  return std::nullopt;
}

void SentPackets::declare_all_lost(PacketOutcome& out) {
  for (Entry& e : entries_) {
    if (e.state == State::outstanding && e.packet.ack_eliciting) mark(e, State::lost, out);
  }
}

std::optional<Instant> SentPackets::last_eliciting_sent() const noexcept {
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->state == State::outstanding && it->packet.ack_eliciting) return it->packet.time_sent;
  }
  return std::nullopt;
}

void SentPackets::pop_front(Instant forget_lost_before) {
  while (!entries_.empty()) {
    const Entry& e = entries_.front();
    const bool done = e.state == State::acked || (e.state == State::outstanding && !e.packet.ack_eliciting) ||
                      (e.state == State::lost && e.packet.time_sent < forget_lost_before);
    if (!done) break;
    entries_.pop_front();
    ++first_number_;
  }
}

}  // namespace rudp::core
