// SPDX-License-Identifier: MIT
// The fixed controller: a constant window of Params::fixed_window bytes that
// no ACK, loss or timeout changes, like KCP's nocwnd mode (nc = 1). It
// implements no RFC's congestion control and must only run where the path is
// known to carry that window: LANs, tests, and comparisons with the
// controllers that do.
#pragma once

#include <cstdint>
#include <string_view>

#include "rudp/cc/controller.hpp"
#include "rudp/clock.hpp"

namespace rudp::cc {

/// A window that never changes.
class Fixed final : public Controller {
 public:
  /// A controller whose window is params.fixed_window.
  explicit Fixed(const Params& params) noexcept : window_(params.fixed_window) {}

  /// Does nothing.
  void on_packet_sent(Instant now, std::uint64_t bytes, std::uint64_t bytes_in_flight) noexcept override;
  /// Does nothing.
  void on_ack(const AckSummary& ack) noexcept override;
  /// Does nothing: the window holds through losses.
  void on_congestion_event(const LossSummary& loss) noexcept override;
  /// Does nothing: the window holds through timeouts.
  void on_retransmission_timeout(Instant now) noexcept override;

  /// Params::fixed_window, in bytes, always.
  std::uint64_t window() const noexcept override { return window_; }
  /// Always false: there is no slow start.
  bool in_slow_start() const noexcept override { return false; }
  /// "fixed".
  std::string_view name() const noexcept override { return "fixed"; }

  // bandwidth_estimate() stays nullopt: a window chosen by configuration
  // says nothing about the path.

 private:
  std::uint64_t window_;
};

}  // namespace rudp::cc
