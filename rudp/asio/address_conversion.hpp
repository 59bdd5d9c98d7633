// SPDX-License-Identifier: MIT
// Conversions between asio's UDP endpoints and rudp::Address, the socket-free
// address the core names its peers by. IPv4 has one form on each side of the
// conversion: rudp::Address keeps it IPv4-mapped (::ffff:a.b.c.d), and the
// endpoints this unit returns are plain IPv4, whichever form came in, so that
// a peer reached over a dual-stack socket compares equal to the same peer
// reached over an IPv4 one.
#pragma once

#include <asio/ip/udp.hpp>

#include <rudp/address.hpp>

namespace rudp::asio {

/// The rudp::Address of `endpoint`. IPv4 and IPv4-mapped IPv6 endpoints give
/// the same Address. An IPv6 scope id (link-local addresses) has no place in
/// rudp::Address and is dropped.
Address to_address(const ::asio::ip::udp::endpoint& endpoint) noexcept;

/// The endpoint of `address`: IPv4 for IPv4 (held IPv4-mapped in `address`),
/// IPv6 otherwise, with scope id 0.
::asio::ip::udp::endpoint to_endpoint(const Address& address) noexcept;

/// `endpoint` with an IPv4-mapped IPv6 address turned into plain IPv4; any
/// other endpoint unchanged. Dual-stack sockets report IPv4 peers this way.
::asio::ip::udp::endpoint unmapped(const ::asio::ip::udp::endpoint& endpoint) noexcept;

}  // namespace rudp::asio
