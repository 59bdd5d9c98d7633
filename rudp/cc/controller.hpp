// SPDX-License-Identifier: MIT
// The congestion controller interface. A connection feeds its controller
// read-only summaries, once per ACK frame or loss event (not per byte), and
// asks it for a window and a pacing rate; no controller sees or touches
// connection state. RFC 9002 §7 fixes the vocabulary: bytes in flight count
// ack-eliciting packets; a congestion event starts a recovery period, and
// losses of packets sent before that period began do not start another.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "rudp/clock.hpp"

namespace rudp::cc {

/// What one ACK frame newly acknowledged.
struct AckSummary {
  Instant now{};
  std::uint64_t acked_bytes = 0;      ///< ack-eliciting bytes newly acknowledged
  std::uint64_t bytes_in_flight = 0;  ///< after this ACK
  Instant largest_acked_sent{};       ///< send time of the newest packet it acknowledged
  Duration smoothed_rtt{};
  Duration min_rtt{};     ///< zero before the first sample
  Duration latest_rtt{};  ///< zero before the first sample
  /// The sender had less data than the window allowed when these packets
  /// left, so the ACKs say nothing about the path's capacity (RFC 9002 §7.8).
  bool app_limited = false;
};

/// Packets declared lost by one loss check.
struct LossSummary {
  Instant now{};
  std::uint64_t lost_bytes = 0;
  std::uint64_t bytes_in_flight = 0;  ///< after removing the lost packets
  Instant largest_lost_sent{};        ///< send time of the newest packet lost
  /// The losses span more than the persistent congestion duration with no
  /// packet acknowledged in between (RFC 9002 §7.6): collapse to the minimum window.
  bool persistent_congestion = false;
};

class Controller {
 public:
  virtual ~Controller() = default;

  /// An ack-eliciting packet of `bytes` left at `now`; `bytes_in_flight` includes it.
  virtual void on_packet_sent(Instant now, std::uint64_t bytes, std::uint64_t bytes_in_flight) = 0;
  /// Packets were newly acknowledged.
  virtual void on_ack(const AckSummary& ack) = 0;
  /// Packets were declared lost.
  virtual void on_congestion_event(const LossSummary& loss) = 0;
  /// The retransmission timer expired with nothing acknowledged: TCP's RTO,
  /// which collapses the window to the minimum (RFC 5681 §3.1).
  virtual void on_retransmission_timeout(Instant now) = 0;

  /// Bytes that may be in flight now.
  virtual std::uint64_t window() const = 0;
  /// Bytes per second to pace at; nullopt: derive it from window / smoothed RTT.
  virtual std::optional<std::uint64_t> pacing_rate() const { return std::nullopt; }
  /// The controller's estimate of the path's bandwidth in bytes per second, if it has one.
  virtual std::optional<std::uint64_t> bandwidth_estimate() const { return std::nullopt; }
  /// True while in slow start.
  virtual bool in_slow_start() const = 0;
  /// Short lowercase name, for stats and logs.
  virtual std::string_view name() const = 0;
};

/// The controllers rudp ships.
enum class Algorithm : std::uint8_t {
  new_reno,       ///< RFC 5681 / 6582 with RFC 9002's recovery period
  cubic,          ///< RFC 9438
  latency_first,  ///< delay-based, keeps queueing delay under a target (rudp/cc/latency_first.hpp)
  fixed,          ///< a constant window, like KCP's nc=1: for LANs and comparisons
};

/// Knobs shared by the controllers, in bytes.
struct Params {
  std::uint64_t max_datagram_size = 1200;
  /// RFC 9002 §7.2: min(10 x max datagram, max(14720, 2 x max datagram)).
  std::uint64_t initial_window = 12000;
  /// RFC 9002 §7.2: 2 x max datagram.
  std::uint64_t minimum_window = 2400;
  /// The window of Algorithm::fixed.
  std::uint64_t fixed_window = 1u << 20;
  /// Queueing delay the latency-first controller aims to stay under.
  Duration latency_target = std::chrono::milliseconds(5);
};

/// A new controller of `algorithm`.
std::unique_ptr<Controller> make(Algorithm algorithm, const Params& params);

}  // namespace rudp::cc
