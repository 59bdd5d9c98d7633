// SPDX-License-Identifier: MIT
// The fixed controller ignores every notification; defining them here gives
// its vtable one home.
#include "rudp/cc/fixed.hpp"

namespace rudp::cc {

void Fixed::on_packet_sent(Instant, std::uint64_t, std::uint64_t) noexcept {}

void Fixed::on_ack(const AckSummary&) noexcept {}

void Fixed::on_congestion_event(const LossSummary&) noexcept {}

void Fixed::on_retransmission_timeout(Instant) noexcept {}

}  // namespace rudp::cc
