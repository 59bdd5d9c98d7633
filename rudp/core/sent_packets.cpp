// SPDX-License-Identifier: MIT
// Kept cheap per ACK: entries_ starts at the oldest ack-eliciting packet
// still outstanding, so the loss timer is read off its front, loss detection
// stops at the first packet neither threshold condemns (both follow send
// order), and packets acknowledged or lost before the front are gone. Lost
// packets move to a short record of their own, only to recognise a late ACK
// for one as a spurious retransmission.
#include "rudp/core/sent_packets.hpp"

#include <algorithm>

#include "rudp/assert.hpp"

namespace rudp::core {

namespace {

template <class T>
void append(std::vector<T>& to, std::vector<T>&& from) {
  if (to.empty()) {
    to = std::move(from);
  } else {
    to.insert(to.end(), from.begin(), from.end());
  }
}

}  // namespace

void SentFrames::merge(SentFrames&& other) {
  append(chunks, std::move(other.chunks));
  append(skips, std::move(other.skips));
  append(receipts, std::move(other.receipts));
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
    last_eliciting_sent_ = packet.time_sent;
  }
  entries_.push_back(Entry{std::move(packet)});
  pop_front();
}

void SentPackets::mark(Entry& e, State state, PacketOutcome& out) {
  if (e.state == State::outstanding && e.packet.ack_eliciting) {
    bytes_in_flight_ -= e.packet.size;
    --eliciting_in_flight_;
  }
  if (state == State::acked) {
    ++out.acked_packets;
    if (e.packet.ack_eliciting) out.acked_bytes += e.packet.size;
    out.acked.merge(std::move(e.packet.frames));
  } else {
    ++out.lost_packets;
    out.lost_bytes += e.packet.size;
    if (!out.earliest_lost_sent || e.packet.time_sent < *out.earliest_lost_sent) out.earliest_lost_sent = e.packet.time_sent;
    if (!out.latest_lost_sent || e.packet.time_sent > *out.latest_lost_sent) out.latest_lost_sent = e.packet.time_sent;
    out.lost.merge(SentFrames(e.packet.frames));
    // A receipt learns its packet's fate once: a late ACK for a packet
    // declared lost must not report it again.
    e.packet.frames.receipts.clear();
    lost_.push_back(Lost{e.packet.number, e.packet.time_sent, e.packet.size, std::move(e.packet.frames)});
  }
  e.state = state;
}

void SentPackets::on_ack(const wire::AckRanges& ranges, Instant now, Instant forget_lost_before, PacketOutcome& out) {
  if (ranges.largest() >= next_number_) return;  // acknowledges a packet never sent: ignore the frame
  while (!lost_.empty() && lost_.front().time_sent < forget_lost_before) lost_.pop_front();

  // The RTT sample comes from the largest acknowledged if this ACK is the
  // first to acknowledge it, even if it had been declared lost.
  std::optional<Instant> largest_sent;
  bool largest_eliciting = true;
  if (ranges.largest() >= first_number_) {
    const Entry& e = entries_[ranges.largest() - first_number_];
    if (e.state != State::acked) largest_sent = e.packet.time_sent;
    largest_eliciting = e.packet.ack_eliciting;
  } else if (const Lost* l = find_lost(ranges.largest()); l && !l->acked) {
    largest_sent = l->time_sent;
  }
  if (largest_sent) {
    out.largest_newly_acked_sent = largest_sent;
    if (largest_eliciting) out.rtt_sample = now - *largest_sent;
  }
  if (!largest_acked_ || ranges.largest() > *largest_acked_) largest_acked_ = ranges.largest();

  for (const wire::AckRange& r : ranges) {
    // Late ACKs for packets already declared lost.
    for (auto lost = lower_bound_lost(r.smallest); lost != lost_.end() && lost->number <= r.largest; ++lost) {
      if (lost->acked) continue;
      lost->acked = true;
      ++out.spurious_packets;
      ++out.acked_packets;
      out.acked_bytes += lost->size;
      out.acked.merge(std::move(lost->frames));
    }
    // Packet-threshold loss leaves at most packet_threshold packets
    // outstanding below the previous largest acknowledged, and the front is the
    // oldest of them: the walk covers those and what is newly acknowledged.
    for (std::uint64_t n = std::max(r.smallest, first_number_); n <= r.largest && r.largest >= first_number_; ++n) {
      Entry& e = entries_[n - first_number_];
      if (e.state == State::outstanding) mark(e, State::acked, out);
    }
  }
  pop_front();
}

void SentPackets::detect_lost(Instant now, Duration loss_delay, unsigned packet_threshold, PacketOutcome& out) {
  if (!largest_acked_) return;
  for (Entry& e : entries_) {
    if (e.packet.number >= *largest_acked_) break;
    if (e.state != State::outstanding || !e.packet.ack_eliciting) continue;
    const bool lost = e.packet.number + packet_threshold <= *largest_acked_ || e.packet.time_sent + loss_delay <= now;
    // Both thresholds follow send order: the first survivor protects the rest.
    if (!lost) break;
    mark(e, State::lost, out);
  }
  pop_front();
}

std::optional<Instant> SentPackets::next_loss_time(Duration loss_delay) const noexcept {
  if (!largest_acked_ || entries_.empty()) return std::nullopt;
  const Entry& front = entries_.front();
  if (front.packet.number >= *largest_acked_) return std::nullopt;
  return front.packet.time_sent + loss_delay;
}

void SentPackets::declare_all_lost(PacketOutcome& out) {
  for (Entry& e : entries_) {
    if (e.state == State::outstanding && e.packet.ack_eliciting) mark(e, State::lost, out);
  }
  pop_front();
}

std::vector<ChunkRef> SentPackets::newest_outstanding_chunks() const {
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->state == State::outstanding && it->packet.ack_eliciting) return it->packet.frames.chunks;
  }
  return {};
}

std::optional<Instant> SentPackets::last_eliciting_sent() const noexcept {
  if (eliciting_in_flight_ == 0) return std::nullopt;
  return last_eliciting_sent_;
}

Ring<SentPackets::Lost>::iterator SentPackets::lower_bound_lost(std::uint64_t number) {
  return std::lower_bound(lost_.begin(), lost_.end(), number, [](const Lost& l, std::uint64_t n) { return l.number < n; });
}

const SentPackets::Lost* SentPackets::find_lost(std::uint64_t number) {
  const auto it = lower_bound_lost(number);
  return it != lost_.end() && it->number == number ? &*it : nullptr;
}

void SentPackets::pop_front() {
  while (!entries_.empty()) {
    const Entry& e = entries_.front();
    if (e.state == State::outstanding && e.packet.ack_eliciting) break;
    entries_.pop_front();
    ++first_number_;
  }
}

}  // namespace rudp::core
