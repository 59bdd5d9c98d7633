// SPDX-License-Identifier: MIT
// The "rudp" error category: one message per `rudp::errc`, written for the
// person reading a log, saying what was wrong and where to look.
#include "rudp/errc.hpp"

namespace rudp {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "rudp"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::truncated:
        return "datagram truncated: it ends before a field or a declared length";
      case errc::bad_varint:
        return "malformed variable-length integer: it runs past the end of the datagram";
      case errc::non_canonical:
        return "non-canonical encoding: a varint or flag spends more bytes than the value needs (see rudp/wire/WIRE.md)";
      case errc::unknown_frame:
        return "unknown frame type or reserved flag bits set";
      case errc::field_out_of_range:
        return "field out of range: a count, length or value exceeds its bound in rudp/wire/limits.hpp";
      case errc::checksum_mismatch:
        return "checksum mismatch: the datagram was corrupted or is not rudp";
      case errc::unsupported_version:
        return "unsupported protocol version in handshake packet";
      case errc::buffer_too_small:
        return "output buffer too small: pass a larger buffer (for messages, at least the size the next message has)";
      case errc::would_block:
        return "would block: nothing to read yet, or the send buffer is full; wait for the Readable or Writable event";
      case errc::message_too_large:
        return "message too large: it exceeds max_message_size or the peer's receive window; split it or raise the limits";
      case errc::invalid_handle:
        return "invalid connection handle: the connection was closed and released, or the handle never came from this endpoint";
      case errc::connection_closed:
        return "connection closing or closed: no more data can be sent on it";
      case errc::end_of_stream:
        return "end of stream: the peer closed its direction and everything it sent has been read";
      case errc::invalid_config:
        return "invalid configuration: a value is outside its documented range (see include/rudp/config.hpp)";
      case errc::too_many_connections:
        return "too many connections: the endpoint is at max_connections";
    }
    return "unknown rudp error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& rudp_category() noexcept {
  static const Category category;
  return category;
}

}  // namespace rudp
