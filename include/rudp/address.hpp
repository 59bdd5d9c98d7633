// SPDX-License-Identifier: MIT
// A peer's address as plain bytes: IPv4 or IPv6 and a port, with no socket
// header behind it, so the core and the simulator can name peers without
// touching the network. The asio runtime converts to and from its endpoints.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>

namespace rudp {

/// An IPv4 or IPv6 address and UDP port. IPv4 is held as an IPv4-mapped IPv6
/// address (::ffff:a.b.c.d), so each peer has exactly one representation.
class Address {
 public:
  Address() = default;

  /// An IPv4 address from its four bytes, most significant first.
  static constexpr Address v4(std::array<std::uint8_t, 4> ip, std::uint16_t port) noexcept {
    Address a;
    a.bytes_[10] = 0xff;
    a.bytes_[11] = 0xff;
    for (std::size_t i = 0; i < 4; ++i) a.bytes_[12 + i] = ip[i];
    a.port_ = port;
    return a;
  }

  /// An IPv6 address from its sixteen bytes, most significant first.
  static constexpr Address v6(std::array<std::uint8_t, 16> ip, std::uint16_t port) noexcept {
    Address a;
    a.bytes_ = ip;
    a.port_ = port;
    return a;
  }

  /// True for IPv4 (and IPv4-mapped IPv6) addresses.
  constexpr bool is_v4() const noexcept {
    for (std::size_t i = 0; i < 10; ++i) {
      if (bytes_[i] != 0) return false;
    }
    return bytes_[10] == 0xff && bytes_[11] == 0xff;
  }

  /// The sixteen address bytes (IPv4-mapped for IPv4).
  constexpr const std::array<std::uint8_t, 16>& bytes() const noexcept { return bytes_; }
  constexpr std::uint16_t port() const noexcept { return port_; }

  friend constexpr auto operator<=>(const Address&, const Address&) = default;

 private:
  std::array<std::uint8_t, 16> bytes_{};
  std::uint16_t port_ = 0;
};

}  // namespace rudp

