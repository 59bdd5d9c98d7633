// SPDX-License-Identifier: MIT
// Channels and the per-message options of Endpoint::send_message: delivery
// mode, priority, deadline, retransmission limit, supersede key and receipt.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "rudp/clock.hpp"
#include "rudp/types.hpp"

namespace rudp {

/// How a channel sends (Endpoint::configure_channel). Channels are a sending
/// notion: the receiver needs no configuration, since every DATA frame names
/// its channel and mode.
struct ChannelConfig {
  /// Mode of the messages sent on the channel from now on.
  DeliveryMode mode = DeliveryMode::reliable_ordered;
  /// Priority class, larger numbers first: a channel with data to send in a
  /// higher class always goes before every channel of a lower one.
  std::uint8_t priority = 0;
  /// Share of the link within its priority class, relative to the weights of
  /// the class's other busy channels (weighted fair queueing). Range: [1, 255].
  std::uint8_t weight = 1;
};

/// Options of one message (Endpoint::send_message). The defaults send it on
/// channel 0 in that channel's mode, with no deadline and no receipt.
struct SendOptions {
  ChannelId channel = 0;
  /// This message's mode instead of the channel's.
  std::optional<DeliveryMode> mode;
  /// When the message becomes worthless, on the clock the endpoint is driven
  /// with. One that cannot reach the peer by then (now + smoothed RTT / 2 >
  /// deadline) is not sent or re-sent any more; a reliable one is abandoned
  /// by both sides: the receiver is told, and ordered delivery skips it
  /// instead of waiting (PR-SCTP's FORWARD-TSN). A deadline closer than
  /// about one RTT plus the loss-detection delay leaves no time for a
  /// re-send: the message is then in effect unreliable.
  std::optional<Instant> deadline;
  /// Reliable modes: after this many re-sends of any of its fragments the
  /// message is abandoned as with a deadline. Unset: re-sent until acknowledged.
  std::optional<unsigned> max_retransmits;
  /// A message with the same key on the same channel that has not started
  /// to go out yet is replaced by this one (a newer snapshot of the same
  /// object); one already partly sent is left to finish.
  std::optional<std::uint64_t> supersede_key;
  /// Ask for a Receipt event carrying this tag when the message is
  /// acknowledged, known lost, expired or superseded: exactly one per message.
  std::optional<std::uint64_t> receipt;
};

/// The next message Endpoint::receive_message would return.
struct MessageInfo {
  std::size_t size = 0;
  ChannelId channel = 0;
  DeliveryMode mode = DeliveryMode::reliable_ordered;
};

}  // namespace rudp
