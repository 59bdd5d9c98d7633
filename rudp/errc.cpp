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
        return "output buffer too small for the packet or frame being written";
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
