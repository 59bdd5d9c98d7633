// SPDX-License-Identifier: MIT
// Stateless handshake cookies (DESIGN.md §3): the server answers a SYN with a
// cookie that binds the client's address and both connection ids to a coarse
// timestamp under a secret only the server knows, and allocates nothing until
// the cookie comes back intact and fresh. The MAC is SipHash-2-4, a keyed PRF
// built for short inputs like these. Secrets rotate on the caller's schedule,
// as SYN cookies do; the jar holds no clock and no randomness of its own.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "rudp/address.hpp"
#include "rudp/clock.hpp"
#include "rudp/core/siphash.hpp"
#include "rudp/types.hpp"

namespace rudp::core {

/// Bytes in a cookie: a 4-byte timestamp (milliseconds since Instant's epoch,
/// truncated to 32 bits, big endian) and then an 8-byte SipHash-2-4 MAC (big endian).
inline constexpr std::size_t kCookieSize = 12;

/// A cookie as it travels in a SYN-ACK and is echoed in the ACK.
using Cookie = std::array<std::byte, kCookieSize>;

/// What a cookie vouches for: who asked, and the ids both sides chose.
struct CookieInput {
  Address client;            ///< the address the SYN came from, port included
  ConnectionId client_id;    ///< the id the client chose for itself
  ConnectionId server_id;    ///< the id the server will give the connection
};

/// Mints and verifies cookies under a current and a previous secret.
///
/// The MAC covers the 16 address bytes, the port (2 bytes), the client id
/// (4), the server id (4) and the timestamp (4), all big endian. Cookie age is
/// measured in whole milliseconds, modulo 2^32, so timestamps may wrap.
class CookieJar {
 public:
  /// A jar minting under `secret` from `now`. `lifetime`: how long a minted
  /// cookie is accepted; secrets rotate every `lifetime`, and the previous
  /// secret is still accepted for one more period. `lifetime` must be at
  /// least 1 ms and under 2^31 ms (about 24 days), so that a cookie from the
  /// future can never pass for one from the past.
  CookieJar(SipKey secret, Instant now, Duration lifetime) noexcept;

  /// When the endpoint should call rotate().
  Instant next_rotation() const noexcept { return next_rotation_; }

  /// Makes `fresh` the current secret and the current one the previous; the
  /// secret before that is forgotten. The next rotation is due at `now` + lifetime.
  void rotate(Instant now, SipKey fresh) noexcept;

  /// A cookie for `input`, stamped with `now`, under the current secret.
  Cookie mint(Instant now, const CookieInput& input) const noexcept;

  /// True iff `cookie` is exactly kCookieSize bytes, its MAC matches `input`
  /// and its timestamp under the current or previous secret, and it was
  /// minted no more than `lifetime` before `now` (and not after now).
  bool verify(Instant now, std::span<const std::byte> cookie, const CookieInput& input) const noexcept;

 private:
  SipKey current_;
  std::optional<SipKey> previous_;
  Duration lifetime_;
  Instant next_rotation_;
};

}  // namespace rudp::core
