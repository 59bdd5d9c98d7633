// SPDX-License-Identifier: MIT
// Open delivery receipts of one connection: each message sent with
// SendOptions::receipt holds a slot until its outcome is known, and the
// outcome is reported exactly once however many packets carried the message,
// and whatever becomes of them afterwards (a packet declared lost and then
// acknowledged after all does not report twice).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "rudp/event.hpp"
#include "rudp/types.hpp"
#include "rudp/core/ring.hpp"

namespace rudp::core {

/// Names an open receipt.
using ReceiptId = std::uint32_t;

class Receipts {
 public:
  /// Opens a receipt for a message of `parts` packets' worth (its fragments,
  /// for an unreliable message; 1 for a reliable one, resolved by its queue).
  ReceiptId open(ChannelId channel, std::uint64_t tag, std::uint32_t parts);

  /// One part went out in a packet that was acknowledged.
  void on_part_acked(ReceiptId id);
  /// One part went out in a packet that was lost: the message is lost.
  void on_part_lost(ReceiptId id);
  /// The message's fate is known now (reliable messages, expiry, supersede).
  void resolve(ReceiptId id, ReceiptOutcome outcome);
  /// The message was given up with `unsent` of its parts never sent: its
  /// outcome is reported now, and the receipt stays open (reporting nothing
  /// more) until the parts that did go out are acknowledged or lost.
  void give_up(ReceiptId id, ReceiptOutcome outcome, std::uint32_t unsent);
  /// The connection ended: every receipt still open is lost.
  void resolve_all_lost();

  /// The next outcome to report, oldest first.
  std::optional<Receipt> poll();
  /// True when poll() has an outcome to report.
  bool has_ready() const noexcept { return !ready_.empty(); }

  /// Receipts not yet resolved.
  std::size_t open_count() const noexcept { return open_; }

 private:
  struct Slot {
    ChannelId channel = 0;
    bool in_use = false;
    bool resolved = false;
    std::uint32_t parts = 0;  // parts not yet acknowledged
    std::uint64_t tag = 0;
  };
  void report(Slot& slot, ReceiptOutcome outcome);
  void release(ReceiptId id);

  std::vector<Slot> slots_;
  std::vector<ReceiptId> free_;
  Ring<Receipt> ready_;
  std::size_t open_ = 0;
};

}  // namespace rudp::core
