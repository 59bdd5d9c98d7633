// SPDX-License-Identifier: MIT
#include "rudp/core/receipts.hpp"

#include "rudp/assert.hpp"

namespace rudp::core {

ReceiptId Receipts::open(ChannelId channel, std::uint64_t tag, std::uint32_t parts) {
  ReceiptId id;
  if (free_.empty()) {
    id = static_cast<ReceiptId>(slots_.size());
    slots_.emplace_back();
  } else {
    id = free_.back();
    free_.pop_back();
  }
  slots_[id] = Slot{channel, true, false, parts, tag};
  ++open_;
  return id;
}

void Receipts::report(Slot& slot, ReceiptOutcome outcome) {
  if (slot.resolved) return;
  slot.resolved = true;
  --open_;
  ready_.push_back(Receipt{{}, slot.channel, slot.tag, outcome});
}

void Receipts::release(ReceiptId id) {
  slots_[id].in_use = false;
  free_.push_back(id);
}

void Receipts::on_part_acked(ReceiptId id) {
  RUDP_ASSERT(id < slots_.size() && slots_[id].in_use && slots_[id].parts > 0);
  Slot& slot = slots_[id];
  if (--slot.parts > 0) return;
  report(slot, ReceiptOutcome::acknowledged);
  release(id);
}

void Receipts::on_part_lost(ReceiptId id) {
  RUDP_ASSERT(id < slots_.size() && slots_[id].in_use && slots_[id].parts > 0);
  Slot& slot = slots_[id];
  report(slot, ReceiptOutcome::lost);
  if (--slot.parts == 0) release(id);
}

void Receipts::resolve(ReceiptId id, ReceiptOutcome outcome) {
  RUDP_ASSERT(id < slots_.size() && slots_[id].in_use);
  report(slots_[id], outcome);
  release(id);
}

void Receipts::give_up(ReceiptId id, ReceiptOutcome outcome, std::uint32_t unsent) {
  RUDP_ASSERT(id < slots_.size() && slots_[id].in_use && slots_[id].parts >= unsent);
  Slot& slot = slots_[id];
  report(slot, outcome);
  slot.parts -= unsent;
  if (slot.parts == 0) release(id);
}

void Receipts::resolve_all_lost() {
  for (ReceiptId id = 0; id < slots_.size(); ++id) {
    if (slots_[id].in_use && !slots_[id].resolved) report(slots_[id], ReceiptOutcome::lost);
  }
}

std::optional<Receipt> Receipts::poll() {
  if (ready_.empty()) return std::nullopt;
  Receipt r = ready_.front();
  ready_.pop_front();
  return r;
}

}  // namespace rudp::core
