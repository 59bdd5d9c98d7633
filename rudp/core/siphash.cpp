// SPDX-License-Identifier: MIT
// SipHash-2-4 from the paper's description (Aumasson and Bernstein, §2):
// initialization from the key and four constants, compression of each 8-byte
// word with c = 2 SipRounds, finalization with d = 4 SipRounds.
#include "rudp/core/siphash.hpp"

#include <bit>

namespace rudp::core {

namespace {

/// `count` (at most 8) bytes starting at `bytes`, least significant first.
std::uint64_t load_le(const std::byte* bytes, std::size_t count) noexcept {
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < count; ++i) word |= std::to_integer<std::uint64_t>(bytes[i]) << (8 * i);
  return word;
}

/// The four 64-bit words of SipHash's internal state and its one round function.
class SipState {
 public:
  SipState(std::uint64_t k0, std::uint64_t k1) noexcept
      : v0_(k0 ^ 0x736f6d6570736575),  // "somepseu"
        v1_(k1 ^ 0x646f72616e646f6d),  // "dorandom"
        v2_(k0 ^ 0x6c7967656e657261),  // "lygenera"
        v3_(k1 ^ 0x7465646279746573) {}  // "tedbytes"

  /// Mixes one message word in, with two SipRounds.
  void compress(std::uint64_t word) noexcept {
    v3_ ^= word;
    sip_round();
    sip_round();
    v0_ ^= word;
  }

  /// Four SipRounds after xoring 0xff into v2; the output is the xor of all four words.
  std::uint64_t finalize() noexcept {
    v2_ ^= 0xff;
    for (int i = 0; i < 4; ++i) sip_round();
    return v0_ ^ v1_ ^ v2_ ^ v3_;
  }

 private:
  /// The ARX round of the paper's Figure 2.1: two half-rounds of add, rotate, xor.
  void sip_round() noexcept {
    v0_ += v1_;
    v2_ += v3_;
    v1_ = std::rotl(v1_, 13) ^ v0_;
    v3_ = std::rotl(v3_, 16) ^ v2_;
    v0_ = std::rotl(v0_, 32);
    v2_ += v1_;
    v0_ += v3_;
    v1_ = std::rotl(v1_, 17) ^ v2_;
    v3_ = std::rotl(v3_, 21) ^ v0_;
    v2_ = std::rotl(v2_, 32);
  }

  std::uint64_t v0_;
  std::uint64_t v1_;
  std::uint64_t v2_;
  std::uint64_t v3_;
};

}  // namespace

std::uint64_t siphash24(const SipKey& key, std::span<const std::byte> data) noexcept {
  const auto key_bytes = std::as_bytes(std::span(key));
  SipState state(load_le(key_bytes.data(), 8), load_le(key_bytes.data() + 8, 8));

  const std::size_t whole = data.size() / 8 * 8;
  for (std::size_t at = 0; at < whole; at += 8) state.compress(load_le(data.data() + at, 8));

  // The last word holds the 0 to 7 remaining bytes and, in its top byte, the length mod 256.
  const std::uint64_t length_byte = static_cast<std::uint64_t>(data.size() & 0xff) << 56;
  state.compress(load_le(data.data() + whole, data.size() - whole) | length_byte);
  return state.finalize();
}

}  // namespace rudp::core
