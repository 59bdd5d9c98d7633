// SPDX-License-Identifier: MIT
// The transports of the loopback comparison, one file each family: a run of
// one workload measured with measure_bulk or measure_ping. Bulk runs with a
// sender on CPU 0 and a receiver on CPU 1; ping-pong runs with the client on
// CPU 0 and the server on `server_cpu`. std::nullopt when the transport
// could not be set up (ENet's host).
#pragma once

#include <cstddef>
#include <optional>

#include "compare/loopback/harness.hpp"

namespace rudp::bench::loopback {

// rudp_asio.cpp
std::optional<BulkSample> run_bulk_rudp_asio(const Options& o);
std::optional<PingSample> run_ping_rudp_asio(const Options& o, std::size_t server_cpu);

// own_loop.cpp
std::optional<BulkSample> run_bulk_own_loop(const Options& o);
std::optional<PingSample> run_ping_own_loop(const Options& o, std::size_t server_cpu);

// udp.cpp: plain sendto/recvfrom, sendmmsg+GSO/recvmmsg+GRO (bulk only) and
// asio's reactor (ping-pong only).
std::optional<BulkSample> run_bulk_udp(const Options& o);
std::optional<BulkSample> run_bulk_udp_gso(const Options& o);
std::optional<PingSample> run_ping_udp(const Options& o, std::size_t server_cpu);
std::optional<PingSample> run_ping_udp_asio(const Options& o, std::size_t server_cpu);

// tcp.cpp
std::optional<BulkSample> run_bulk_tcp(const Options& o);
std::optional<PingSample> run_ping_tcp(const Options& o, std::size_t server_cpu);

#if defined(RUDP_HAVE_ENET)
// enet.cpp; the caller has called enet_initialize().
std::optional<BulkSample> run_bulk_enet(const Options& o);
std::optional<PingSample> run_ping_enet(const Options& o, std::size_t server_cpu);
#endif

}  // namespace rudp::bench::loopback
