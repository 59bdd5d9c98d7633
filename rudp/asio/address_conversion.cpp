// SPDX-License-Identifier: MIT
// Both directions go through asio's byte arrays, most significant byte first,
// which is also rudp::Address's order, so no byte swapping happens here.
#include "rudp/asio/address_conversion.hpp"

namespace rudp::asio {

Address to_address(const ::asio::ip::udp::endpoint& endpoint) noexcept {
  const ::asio::ip::address ip = endpoint.address();
  if (ip.is_v4()) return Address::v4(ip.to_v4().to_bytes(), endpoint.port());
  // IPv4-mapped IPv6 already has rudp::Address's IPv4 layout.
  return Address::v6(ip.to_v6().to_bytes(), endpoint.port());
}

::asio::ip::udp::endpoint to_endpoint(const Address& address) noexcept {
  const auto& b = address.bytes();
  if (address.is_v4()) {
    const ::asio::ip::address_v4 ip({b[12], b[13], b[14], b[15]});
    return {ip, address.port()};
  }
  return {::asio::ip::address_v6(b), address.port()};
}

::asio::ip::udp::endpoint unmapped(const ::asio::ip::udp::endpoint& endpoint) noexcept {
  const ::asio::ip::address ip = endpoint.address();
  if (!ip.is_v6() || !ip.to_v6().is_v4_mapped()) return endpoint;
  return {::asio::ip::make_address_v4(::asio::ip::v4_mapped, ip.to_v6()), endpoint.port()};
}

}  // namespace rudp::asio
