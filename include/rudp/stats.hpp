// SPDX-License-Identifier: MIT
// Counters and estimates an application can read at any time.
#pragma once

#include <cstdint>

#include "rudp/clock.hpp"

namespace rudp {

/// One connection's view of its path and its own behaviour.
struct ConnectionStats {
  Duration smoothed_rtt{};  ///< RFC 6298 SRTT
  Duration rttvar{};        ///< RFC 6298 RTTVAR
  Duration min_rtt{};       ///< smallest sample seen; zero before the first
  Duration rto{};           ///< current retransmission timeout, before backoff
  std::uint64_t bytes_in_flight = 0;
  std::uint64_t congestion_window = 0;
  std::uint64_t bandwidth_estimate = 0;  ///< bytes per second, from the congestion controller; 0 when it has none
  std::uint64_t pacing_rate = 0;         ///< bytes per second; 0 when unpaced
  std::uint64_t congestion_events = 0;   ///< losses that made the controller cut its window (one per recovery period)
  std::uint64_t send_credit = 0;     ///< credit the peer has granted that is not used yet
  std::uint64_t receive_credit = 0;  ///< credit granted to the peer that it has not used yet

  std::uint64_t packets_sent = 0;
  std::uint64_t packets_received = 0;
  std::uint64_t packets_lost = 0;             ///< ack-eliciting packets declared lost
  std::uint64_t packets_duplicate = 0;        ///< arrived twice; dropped
  std::uint64_t chunks_retransmitted = 0;     ///< reliable DATA chunks re-sent
  std::uint64_t chunks_rebundled = 0;         ///< small chunks repeated in later packets that had room
  std::uint64_t tail_loss_probes = 0;         ///< first timeouts answered with a probe, window kept
  std::uint64_t spurious_retransmissions = 0;  ///< packets declared lost that were acknowledged later
  std::uint64_t malformed_dropped = 0;        ///< datagrams for this connection that failed to parse
  std::uint64_t messages_expired = 0;     ///< sending: messages dropped or abandoned at their deadline
  std::uint64_t messages_abandoned = 0;   ///< sending: reliable messages given up after max_retransmits
  std::uint64_t messages_superseded = 0;  ///< sending: unsent messages replaced by a newer one with the same key
  std::uint64_t messages_skipped = 0;     ///< receiving: reliable messages the peer abandoned, skipped
  std::uint64_t messages_stale = 0;       ///< receiving: unreliable-sequenced messages dropped as older than one delivered
  std::uint64_t unreliable_dropped = 0;   ///< receiving: unreliable messages dropped because unreliable_buffer was full
  std::uint64_t reassembly_dropped = 0;   ///< receiving: partial unreliable messages dropped (timeout, reassembly_buffer full, or inconsistent)
  std::uint64_t bytes_sent = 0;               ///< datagram bytes
  std::uint64_t bytes_received = 0;           ///< datagram bytes
  std::uint64_t probe_timeouts = 0;
  Duration handshake_time{};  ///< from connect() (or the first SYN) to Connected
};

/// Counters of one endpoint, for datagrams no connection owns.
struct EndpointStats {
  std::uint64_t datagrams_received = 0;
  std::uint64_t malformed_dropped = 0;           ///< failed to parse or check
  std::uint64_t unknown_connection_dropped = 0;  ///< data for a connection id the endpoint does not have
  std::uint64_t foreign_address_dropped = 0;     ///< a known connection id, but not from that connection's peer address
  std::uint64_t syn_received = 0;
  std::uint64_t syn_dropped = 0;       ///< not listening, SYN too small (anti-amplification), or response queue full
  std::uint64_t cookies_rejected = 0;  ///< expired, forged or replayed
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_refused = 0;  ///< valid cookie but max_connections reached
};

}  // namespace rudp
