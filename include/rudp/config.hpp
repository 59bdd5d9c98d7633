// SPDX-License-Identifier: MIT
// Every knob of an endpoint and its connections, with its unit and default.
// Endpoint::create and Endpoint::connect check them and return
// errc::invalid_config, naming nothing silently clamped.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "rudp/clock.hpp"

namespace rudp {

using namespace std::chrono_literals;

/// The congestion controller of a connection.
enum class CongestionControl : std::uint8_t {
  new_reno,       ///< RFC 5681 / 6582, with RFC 9002's recovery period
  cubic,          ///< RFC 9438: TCP's default on Linux; shares a link fairly with TCP
  latency_first,  ///< delay-based: keeps the bottleneck queue under latency_target (rudp/cc/latency_first.hpp)
  fixed,          ///< a constant window of fixed_window bytes, like KCP's nc=1: for LANs and comparisons
};

/// Named presets of every latency and fairness knob (see ConnectionConfig::profile).
enum class Profile : std::uint8_t {
  tcp_friendly,  ///< CUBIC, RTO floor 200 ms, backoff x2, delayed ACKs: shares the link like TCP
  fast,          ///< latency-first, RTO floor 30 ms, backoff x1.5, fast retransmit after 2, immediate ACKs, re-bundling
  realtime,      ///< media and game state: latency-first with a 2 ms queue target, RTO floor 20 ms, tail loss probes
};

/// Knobs of one connection. Defaults suit a TCP-like connection on the Internet.
struct ConnectionConfig {
  /// RTT assumed before the first sample; the first RTO is 3x this (RFC 9002 §6.2.2, RFC 6298 §2.1).
  Duration initial_rtt = 333ms;
  /// Floor of the retransmission timeout (RFC 6298 says 1 s; TCP stacks use 200 ms). Range: [1 ms, max_rto].
  Duration min_rto = 200ms;
  /// Ceiling of the retransmission timeout, backoff included. Range: [min_rto, 10 min].
  Duration max_rto = 60s;
  /// Multiplier of the timeout after each consecutive timeout. Range: [1, 4].
  double rto_backoff = 2.0;
  /// A packet is lost once a packet this many numbers newer is acknowledged (RFC 9002 §6.1.1). Range: [1, 1000].
  unsigned packet_threshold = 3;
  /// A packet is lost once older than this many RTTs when something newer is acknowledged (RFC 9002 §6.1.2). Range: [1, 4].
  double time_threshold = 9.0 / 8.0;

  /// Ack-eliciting packets received before an ACK goes out at once. Range: [1, 64].
  unsigned packets_before_ack = 2;
  /// Longest an ACK is held back waiting for more packets; 0 acks every packet at once. Range: [0, 1 s].
  Duration max_ack_delay = 25ms;

  /// Largest datagram sent or accepted, in bytes: the path MTU less IP and UDP headers. Range: [1200, 65527].
  std::size_t max_datagram_size = 1200;
  /// Payload bytes buffered by send() until acknowledged. Range: [max_datagram_size, 1 GiB].
  std::size_t send_buffer = 4u << 20;
  /// Bytes the peer may have in our receive buffer beyond what we have read: the credit we grant. Range: [max_message_size + 64 KiB, 1 GiB].
  std::size_t receive_window = 4u << 20;
  /// Largest message send_message() accepts, in bytes. Range: [1, 256 MiB].
  std::size_t max_message_size = 1u << 20;
  /// Bytes of unreliable fragments held while their messages are reassembled;
  /// when full, the oldest partial message is dropped. Range: [max_datagram_size, 1 GiB].
  std::size_t reassembly_buffer = 2u << 20;
  /// A partial unreliable message is dropped this long after its first fragment arrived. Range: [1 ms, 1 min].
  Duration reassembly_timeout = 1s;
  /// Bytes of arrived unreliable messages held until read; when full, new ones are dropped. Range: [0, 1 GiB].
  std::size_t unreliable_buffer = 1u << 20;
  /// Who decides how many bytes may be in flight.
  CongestionControl congestion_control = CongestionControl::cubic;
  /// The window of CongestionControl::fixed, in bytes. Range: [2 x max_datagram_size, 1 GiB].
  std::size_t fixed_window = 1u << 20;
  /// Queueing delay the latency-first controller keeps under. Range: [100 us, 1 s].
  Duration latency_target = 5ms;
  /// Largest burst the pacer lets out at once, in datagrams; 0 sends unpaced. Range: [0, 1000].
  unsigned max_burst_packets = 10;
  /// Repeat each small unacknowledged chunk (up to 256 bytes) in the next two packets that have room,
  /// newest first: redundancy that costs bytes, not packets, so a lost small message often needs no re-send.
  bool rebundle_small_chunks = false;
  /// The first timeout re-sends the newest packet's data as a probe and keeps the window (a tail
  /// loss probe, RFC 8985 §7); only a second consecutive timeout is a retransmission timeout.
  bool tail_loss_probe = false;

  /// Close silently after this long without a packet from the peer; 0 never. The smaller of both sides' values applies. Range: [0, 1 h].
  Duration idle_timeout = 30s;
  /// Send a PING after this long without sending anything ack-eliciting, keeping NAT bindings and the idle timer alive; 0 never.
  Duration keepalive_interval = 0s;
  /// Consecutive timeouts without any acknowledgement before the peer is declared unreachable. Range: [1, 100].
  unsigned max_retransmits = 8;
  /// How long connect() keeps retrying the handshake before failing with handshake_timeout. Range: [10 ms, 10 min].
  Duration handshake_timeout = 10s;
  /// TIME_WAIT-like drain after close. Unset: after a graceful close, the idle
  /// timeout plus 2 x the current probe timeout (the peer may still be
  /// re-sending its FIN on its own, longer timer); after any other end, 2 x the
  /// probe timeout.
  std::optional<Duration> drain_time;
};

/// The preset of `profile`; every field stays settable afterwards (a custom profile).
ConnectionConfig make_config(Profile profile);

/// Knobs of an endpoint (one socket's worth of connections).
struct EndpointConfig {
  /// Seed of every random choice (connection ids, cookie secrets): same seed, same run.
  std::uint64_t seed = 0;
  /// Whether connection attempts from peers are accepted (listening). Can be changed later.
  bool accept_incoming = false;
  /// Connections held at once, draining ones included. Range: [1, 1,000,000].
  std::size_t max_connections = 4096;
  /// How long a handshake cookie stays valid; cookie secrets rotate at this period. Range: [100 ms, 10 min].
  Duration cookie_lifetime = 5s;
  /// Configuration of accepted connections.
  ConnectionConfig incoming;
};

}  // namespace rudp
