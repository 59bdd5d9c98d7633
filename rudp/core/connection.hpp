// SPDX-License-Identifier: MIT
// One connection's state machine: handshake (client side; the server side
// starts from a verified cookie), reliable delivery over the units it owns
// (ack tracker, sent-packet history, send and receive queues, RTT estimator),
// credit-based flow control, graceful and abortive close, and its timers.
// It knows nothing of the endpoint: the endpoint hands it parsed packets and
// the time, and collects its datagrams and events.
// connection.cpp defines its construction, input, timers, congestion control,
// commands and queries; connection_output.cpp its output: what may be sent,
// the packets poll_transmit builds, and poll_event.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "rudp/address.hpp"
#include "rudp/clock.hpp"
#include "rudp/config.hpp"
#include "rudp/event.hpp"
#include "rudp/message.hpp"
#include "rudp/result.hpp"
#include "rudp/stats.hpp"
#include "rudp/types.hpp"
#include "rudp/cc/controller.hpp"
#include "rudp/cc/pacer.hpp"
#include "rudp/core/ack_tracker.hpp"
#include "rudp/core/inbox.hpp"
#include "rudp/core/outbox.hpp"
#include "rudp/core/reassembly.hpp"
#include "rudp/core/receipts.hpp"
#include "rudp/core/recv_queue.hpp"
#include "rudp/core/ring.hpp"
#include "rudp/core/rtt_estimator.hpp"
#include "rudp/core/send_queue.hpp"
#include "rudp/core/sent_packets.hpp"
#include "rudp/wire/packet.hpp"

namespace rudp::core {

/// Checks every ConnectionConfig range documented in rudp/config.hpp.
std::error_code validate(const ConnectionConfig& config) noexcept;

/// The handshake parameters a connection with `config` declares.
wire::HandshakeParams handshake_params(const ConnectionConfig& config) noexcept;

class Connection {
 public:
  /// A client connection that will send its SYN on the first poll_transmit.
  static Connection client(const ConnectionConfig& config, Instant now, const Address& peer, ConnectionId local);

  /// A server connection for a client whose cookie checked out.
  static Connection server(const ConnectionConfig& config, Instant now, const Address& peer, ConnectionId local,
                           ConnectionId remote, const wire::HandshakeParams& peer_params);

  // --- driving (called by the endpoint) --------------------------------

  /// A packet for this connection arrived; `datagram_size` is its size on the wire.
  void handle_packet(Instant now, const wire::Packet& packet, std::size_t datagram_size);
  /// A datagram carrying this connection's id failed to parse.
  void on_malformed() noexcept { ++stats_.malformed_dropped; }
  /// Writes the next datagram into `out`; returns its size, or nullopt.
  std::optional<std::size_t> poll_transmit(Instant now, std::span<std::byte> out);
  std::optional<Instant> next_timeout() const noexcept;
  void handle_timeout(Instant now);
  /// The next event; its connection handle is left for the endpoint to fill.
  std::optional<Event> poll_event();
  /// True when poll_event() has an event.
  bool has_events() const noexcept { return !events_.empty() || receipts_.has_ready(); }
  /// True when a later poll_transmit() may send or give up something though
  /// no input arrived and no timer of next_timeout() came due: a queued
  /// message's deadline may pass (expiry runs when polled), or, before the
  /// handshake completes, the pacer may let waiting data out. The endpoint
  /// polls such a connection whenever it polls any, as it once polled all.
  bool needs_polling() const noexcept;

  // --- commands (see rudp::Endpoint for their contracts) ---------------

  Result<std::size_t> send(std::span<const std::byte> bytes);
  std::error_code send_message(std::span<const std::byte> message, const SendOptions& options);
  std::error_code configure_channel(ChannelId channel, const ChannelConfig& config);
  Result<std::size_t> receive(std::span<std::byte> out);
  Result<std::size_t> receive_message(std::span<std::byte> out);
  std::optional<MessageInfo> next_message() const noexcept { return inbox_.next(); }
  void close() noexcept;
  void abort(std::uint64_t error_code);
  /// Switches every knob on the live connection (a profile switch): timers,
  /// ACK policy, loss thresholds and the congestion controller take effect
  /// from the next packet; queued and in-flight data are kept as they are.
  /// The buffer sizes keep their connect-time values (see Endpoint::set_config).
  void set_config(const ConnectionConfig& config);

  // --- queries ---------------------------------------------------------

  ConnectionStats stats() const noexcept;
  const Address& peer() const noexcept { return peer_; }
  ConnectionId local_id() const noexcept { return local_id_; }
  Instant created_at() const noexcept { return created_at_; }
  /// True once Closed has been raised: the handle is no longer the user's.
  bool closed() const noexcept { return closed_; }
  /// True when the drain is over and the endpoint may forget the connection.
  bool drained() const noexcept { return state_ == State::drained; }

 private:
  enum class State : std::uint8_t { syn_sent, cookie_sent, established, draining, drained };

  Connection(const ConnectionConfig& config, Instant now, const Address& peer, ConnectionId local);

  void handle_frames(Instant now, const wire::Packet& packet);
  void on_ack_frame(Instant now, const wire::AckFrame& frame);
  void on_data(Instant now, const wire::DataFrame& frame);
  void on_skip(const wire::SkipFrame& frame);
  RecvQueue& recv_queue(ChannelId channel);
  void apply(Instant now, PacketOutcome& outcome);
  void on_probe_timeout(Instant now);
  void become_established(Instant now);
  void maybe_finish();
  void end(CloseReason reason, std::uint64_t error_code);
  void collect_receipts();
  void violation();
  void expire_messages(Instant now);
  void update_credit() noexcept;
  void note_readable(bool was_readable);

  std::size_t chunk_size() const noexcept;
  Duration loss_delay() const noexcept;
  Duration drain_time() const noexcept;
  bool credit_allows(const NextData& next) const noexcept;
  std::optional<std::pair<SendQueue*, NextData>> next_data() const;
  std::optional<std::pair<SendQueue*, NextData>> sendable_data(Instant now) const;
  bool data_waiting() const noexcept;
  std::optional<Instant> pacing_deadline() const noexcept;
  std::unique_ptr<cc::Controller> make_controller(std::uint64_t initial_window) const;
  void update_pacing() noexcept;
  std::optional<Instant> probe_deadline() const noexcept;

  std::optional<std::size_t> write_handshake_packet(Instant now, std::span<std::byte> out);
  std::optional<std::size_t> write_packet(Instant now, std::span<std::byte> out);
  std::optional<std::size_t> write_reset(Instant now, std::span<std::byte> out);
  wire::Header next_header(wire::HeaderForm form) const noexcept;
  void rebundle(wire::Writer& w, SentFrames& frames);
  std::optional<std::size_t> seal(Instant now, wire::PacketWriter& packet, bool ack_eliciting, SentFrames frames);

  ConnectionConfig config_;
  State state_;
  Address peer_;
  ConnectionId local_id_;
  ConnectionId remote_id_;
  Instant created_at_;
  Instant handshake_deadline_;
  wire::HandshakeParams peer_params_;
  std::vector<std::byte> cookie_;
  std::size_t datagram_size_;
  Duration idle_timeout_;

  RttEstimator rtt_;
  std::unique_ptr<cc::Controller> cc_;
  cc::Pacer pacer_;
  bool app_limited_ = true;  // the last ack-eliciting packet left with nothing more to send
  AckTracker acks_;
  SentPackets sent_;
  std::vector<ChunkRef> spare_chunks_;  // an acknowledged packet's chunk list, emptied, for the next packet's
  Outbox out_;
  Receipts receipts_;
  Inbox inbox_;
  std::vector<RecvQueue> recv_queues_;  // one per channel that has received reliable data
  Reassembly reassembly_;

  std::uint64_t peer_limit_ = 0;   // credit the peer granted us
  std::uint64_t credit_used_ = 0;  // credit our first transmissions have used
  std::uint64_t advertised_limit_;  // the last limit we told the peer
  bool credit_pending_ = false;

  bool close_requested_ = false;
  bool fin_pending_ = false;  // a CLOSE frame must be (re)sent
  bool fin_sent_ = false;
  bool fin_acked_ = false;
  bool peer_fin_ = false;
  std::optional<std::uint64_t> reset_pending_;
  bool silent_drain_ = false;  // draining after RESET or a timeout: answer nothing
  bool closed_ = false;
  std::optional<Instant> drain_until_;

  bool incoming_ = false;
  bool handshake_due_ = false;  // a SYN or COOKIE-ACK must be (re)sent
  bool ping_pending_ = false;
  bool writable_wanted_ = false;
  unsigned probe_count_ = 0;
  Instant last_received_;
  Instant last_eliciting_sent_;

  Ring<Event> events_;
  ConnectionStats stats_;
};

}  // namespace rudp::core
