// SPDX-License-Identifier: MIT
// The endpoint: one socket's worth of connections, as a sans-IO state
// machine. It never reads a clock or touches a socket: its driver (the
// simulator, the asio runtime, or the user's own loop) passes datagrams and
// the current time in and takes datagrams and events out.
//
// Driving it, in the order quinn established:
//   handle_datagram(now, from, bytes)   for each datagram that arrives
//   handle_timeout(now)                 when now >= next_timeout()
//   poll_transmit(now, out)             until it returns nullopt; send each
//   poll_event()                        until it returns nullopt
//   next_timeout()                      to know when to wake up; any call above may change it
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <system_error>

#include "rudp/address.hpp"
#include "rudp/clock.hpp"
#include "rudp/config.hpp"
#include "rudp/event.hpp"
#include "rudp/message.hpp"
#include "rudp/result.hpp"
#include "rudp/stats.hpp"

namespace rudp {

/// A datagram poll_transmit() wrote: send out[0, size) to `to`.
struct Transmit {
  Address to;
  std::size_t size = 0;
};

class Endpoint {
 public:
  /// Creates an endpoint; invalid_config if a value is out of its range.
  static Result<Endpoint> create(const EndpointConfig& config, Instant now);

  Endpoint(Endpoint&&) noexcept;
  Endpoint& operator=(Endpoint&&) noexcept;
  ~Endpoint();

  // --- driving ---------------------------------------------------------

  /// A datagram arrived from `from`. Malformed datagrams are counted and
  /// dropped; nothing a peer sends can fail this call.
  void handle_datagram(Instant now, const Address& from, std::span<const std::byte> bytes);

  /// Writes the next datagram to send into `out` (at least the largest
  /// max_datagram_size in use, 1200 bytes by default); nullopt when there is
  /// nothing to send now.
  std::optional<Transmit> poll_transmit(Instant now, std::span<std::byte> out);

  /// When handle_timeout() should next be called; nullopt: only on input.
  std::optional<Instant> next_timeout() const;

  /// Runs the timers that are due at `now`.
  void handle_timeout(Instant now);

  /// The next event, oldest first.
  std::optional<Event> poll_event();

  // --- commands --------------------------------------------------------

  /// Starts a connection to `to`. Data may be sent at once; it leaves with the
  /// handshake's last packet. Errors: invalid_config, too_many_connections.
  Result<ConnectionHandle> connect(Instant now, const Address& to, const ConnectionConfig& config = {});

  /// Whether connection attempts from peers are accepted.
  void set_accept_incoming(bool accept) noexcept;

  /// Byte stream: queues as much of `bytes` as the send buffer has room for
  /// and returns how many it took (would_block when none). The stream is
  /// always reliable-ordered on channel 0, whatever channel 0's mode. Errors:
  /// invalid_handle, connection_closed.
  Result<std::size_t> send(ConnectionHandle connection, std::span<const std::byte> bytes);

  /// Messages: queues `message` whole, or not at all, on `options.channel`
  /// in that channel's mode (or options.mode). Messages larger than a
  /// datagram are fragmented, in every mode; an unreliable one with a lost
  /// fragment is dropped whole. Errors: would_block (no room in the send
  /// buffer now: wait for Writable), message_too_large (beyond
  /// max_message_size, or for a reliable mode beyond the peer's window),
  /// invalid_handle, connection_closed.
  std::error_code send_message(ConnectionHandle connection, std::span<const std::byte> message,
                               const SendOptions& options = {});

  /// Sets how `channel` sends from now on: its mode, priority class and
  /// weight. Messages queued or in flight keep the mode they were sent with
  /// and are delivered as that mode promises; only later messages use the
  /// new one. May be called right after connect(). Errors: invalid_handle,
  /// invalid_config (weight 0), connection_closed.
  std::error_code configure_channel(ConnectionHandle connection, ChannelId channel, const ChannelConfig& config);

  /// Byte stream: reads up to out.size() bytes of arrived messages, in the
  /// order they became ready, across message (and channel) boundaries; with
  /// only channel 0 reliable-ordered in use, that is the sent stream.
  /// Errors: would_block (nothing yet), end_of_stream (the peer finished and
  /// all was read), invalid_handle.
  Result<std::size_t> receive(ConnectionHandle connection, std::span<std::byte> out);

  /// Messages: reads the next whole message, of any channel, into `out` and
  /// returns its size. Messages of all channels come in the order they
  /// became ready; next_message() tells its channel and mode first.
  /// Errors: would_block, buffer_too_small (message kept), end_of_stream, invalid_handle.
  Result<std::size_t> receive_message(ConnectionHandle connection, std::span<std::byte> out);

  /// Size, channel and mode of the message receive_message() would return, if one is ready.
  std::optional<MessageInfo> next_message(ConnectionHandle connection) const;

  /// Graceful close of this side's direction: FIN goes out once everything
  /// queued is acknowledged; the peer may go on sending until its own FIN.
  /// Errors: invalid_handle.
  std::error_code close(ConnectionHandle connection);

  /// Switches a live connection to `config` (for example another profile's,
  /// from make_config): timers, ACK policy, loss thresholds, pacing and the
  /// congestion controller change from the next packet, within one RTT, and
  /// no queued or in-flight data is lost or reordered. max_datagram_size,
  /// receive_window, reassembly_buffer, reassembly_timeout and
  /// unreliable_buffer keep their connect-time values. Errors: invalid_handle,
  /// invalid_config.
  std::error_code set_config(ConnectionHandle connection, const ConnectionConfig& config);

  /// Abortive close: a RESET carrying `error_code` is sent, queued data is
  /// dropped, and Closed{aborted} follows. Errors: invalid_handle.
  std::error_code abort(ConnectionHandle connection, std::uint64_t error_code = 0);

  /// Statistics of a live connection. Errors: invalid_handle.
  Result<ConnectionStats> stats(ConnectionHandle connection) const;

  /// Counters of the endpoint itself.
  const EndpointStats& stats() const noexcept;

  /// Connections held now, draining ones included.
  std::size_t connection_count() const noexcept;

 private:
  struct Impl;
  explicit Endpoint(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rudp
