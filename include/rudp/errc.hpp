// SPDX-License-Identifier: MIT
// Error codes of rudp, in asio's convention: an `errc` enum, a
// `std::error_category` named "rudp", and `make_error_code` found by ADL, so
// that `std::error_code ec = rudp::errc::truncated;` works and compares.
#pragma once

#include <string>
#include <system_error>

namespace rudp {

/// Every error rudp reports. Values are stable: they may be logged and compared.
enum class errc {
  /// A datagram ended before a fixed-size field or a declared length.
  truncated = 1,
  /// A variable-length integer ran past the end of the datagram.
  bad_varint,
  /// A field spends more bytes than its value needs (long varint, redundant flag).
  non_canonical,
  /// A frame type that this version does not know (or reserved flag bits set).
  unknown_frame,
  /// A field's value is outside the bound that rudp/wire/limits.hpp sets.
  field_out_of_range,
  /// The datagram's XXH3 checksum does not match its contents.
  checksum_mismatch,
  /// A handshake packet names a protocol version this build does not speak.
  unsupported_version,
  /// An output buffer is too small for what was to be written into it.
  buffer_too_small,
  /// Nothing can be done now: no data to read, or no room in the send buffer.
  would_block,
  /// A message is larger than the configured maximum or the peer's window.
  message_too_large,
  /// The connection handle is stale (closed and released) or was never valid.
  invalid_handle,
  /// The operation needs an open connection, and this one is closing or closed.
  connection_closed,
  /// The peer finished sending (FIN) and every byte has been read.
  end_of_stream,
  /// A configuration value is out of its documented range.
  invalid_config,
  /// The endpoint holds as many connections as its configuration allows.
  too_many_connections,
};

/// The category of every `rudp::errc`; its name() is "rudp".
const std::error_category& rudp_category() noexcept;

/// Makes a `std::error_code` in the "rudp" category (found by ADL).
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), rudp_category()};
}

}  // namespace rudp

template <>
struct std::is_error_code_enum<rudp::errc> : std::true_type {};
