// SPDX-License-Identifier: MIT
// The profiles: named presets of the latency and fairness knobs.
#include "rudp/config.hpp"

namespace rudp {

ConnectionConfig make_config(Profile profile) {
  ConnectionConfig c;
  switch (profile) {
    case Profile::tcp_friendly:
      // The defaults are TCP's: CUBIC, 200 ms RTO floor, x2 backoff, ACK every
      // second packet or after 25 ms.
      break;
    case Profile::fast:
      c.congestion_control = CongestionControl::latency_first;
      c.min_rto = 30ms;
      c.rto_backoff = 1.5;
      c.packet_threshold = 2;  // fast retransmit after 2 later packets are acknowledged
      c.packets_before_ack = 1;
      c.max_ack_delay = 0ms;
      c.rebundle_small_chunks = true;
      c.tail_loss_probe = true;
      break;
    case Profile::realtime:
      c.congestion_control = CongestionControl::latency_first;
      c.latency_target = 2ms;
      c.min_rto = 20ms;
      c.rto_backoff = 1.5;
      c.packet_threshold = 2;
      c.packets_before_ack = 1;
      c.max_ack_delay = 0ms;
      c.max_burst_packets = 4;
      c.rebundle_small_chunks = true;
      c.tail_loss_probe = true;
      break;
  }
  return c;
}

}  // namespace rudp
