// SPDX-License-Identifier: MIT
// What an endpoint tells its user, polled with Endpoint::poll_event(): never
// called back, so nothing re-enters the core.
#pragma once

#include <compare>
#include <cstdint>
#include <variant>

#include "rudp/types.hpp"

namespace rudp {

/// Names a connection of one endpoint: a slot index and the generation of its
/// occupant, so a handle kept after its connection is released never reaches
/// a later connection in the same slot.
struct ConnectionHandle {
  std::uint32_t index = ~std::uint32_t{0};
  std::uint32_t generation = 0;
  friend constexpr auto operator<=>(ConnectionHandle, ConnectionHandle) = default;
};

/// Why a connection ended.
enum class CloseReason : std::uint8_t {
  closed,              ///< both directions closed gracefully, all data delivered
  aborted,             ///< this side called abort(): a RESET was sent
  reset_by_peer,       ///< the peer sent RESET
  idle_timeout,        ///< nothing arrived for the idle timeout
  peer_unreachable,    ///< max_retransmits consecutive timeouts without an acknowledgement
  handshake_timeout,   ///< connect() did not complete within handshake_timeout
  protocol_violation,  ///< the peer broke the protocol (e.g. sent beyond its credit); a RESET was sent
};

/// A short English name of `reason`, for logs.
const char* to_string(CloseReason reason) noexcept;

/// The handshake completed; `incoming` is true on the accepting side.
struct Connected {
  ConnectionHandle connection;
  bool incoming = false;
};

/// Data can be read with receive() or receive_message().
struct Readable {
  ConnectionHandle connection;
};

/// The send buffer, full before, has room again.
struct Writable {
  ConnectionHandle connection;
};

/// The peer closed its direction (FIN): once what is buffered is read,
/// receive() returns end_of_stream. This side may go on sending.
struct PeerFinished {
  ConnectionHandle connection;
};

/// The congestion controller reacted to loss: the path has less room than
/// was in use. A voice or video codec can lower its bitrate to fit.
struct Congestion {
  ConnectionHandle connection;
  std::uint64_t window = 0;              ///< bytes that may be in flight now
  std::uint64_t bandwidth_estimate = 0;  ///< bytes per second; 0 when the controller has no estimate
};

/// What became of a message sent with SendOptions::receipt.
enum class ReceiptOutcome : std::uint8_t {
  acknowledged,  ///< all of it reached the peer (an unreliable-sequenced one may still be dropped there as stale)
  lost,          ///< unreliable: a packet carrying it was lost; reliable: max_retransmits ran out,
                 ///< or the connection ended before it was acknowledged
  expired,       ///< its deadline passed before it was acknowledged; the peer was told to skip it
  superseded,    ///< replaced, unsent, by a newer message with the same supersede key
};

/// A short English name of `outcome`, for logs.
const char* to_string(ReceiptOutcome outcome) noexcept;

/// The fate of a message that asked for a receipt; exactly one per such
/// message. When the connection ends, open receipts fire `lost` before Closed.
struct Receipt {
  ConnectionHandle connection;
  ChannelId channel = 0;
  std::uint64_t tag = 0;  ///< SendOptions::receipt
  ReceiptOutcome outcome = ReceiptOutcome::acknowledged;
};

/// The connection ended; its handle is no longer valid.
struct Closed {
  ConnectionHandle connection;
  CloseReason reason = CloseReason::closed;
  std::uint64_t error_code = 0;  ///< the application's code from CLOSE or RESET, when there was one
};

using Event = std::variant<Connected, Readable, Writable, PeerFinished, Congestion, Receipt, Closed>;

}  // namespace rudp
