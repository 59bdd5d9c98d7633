// SPDX-License-Identifier: MIT
// The endpoint's seeded generator: xoshiro256** seeded through splitmix64.
// Everything random in the core (connection ids, cookie secrets) comes from
// one of these, so a run is reproducible from its seed.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace rudp::core {

/// A small, fast, seedable generator; not for cryptographic keys that must
/// resist a peer who has seen earlier outputs.
class Random {
 public:
  explicit Random(std::uint64_t seed) noexcept {
    for (auto& word : state_) {
      seed += 0x9e3779b97f4a7c15ull;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      word = z ^ (z >> 31);
    }
  }

  /// The next 64 uniformly distributed bits.
  std::uint64_t next() noexcept {
    const std::uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = std::rotl(state_[3], 45);
    return result;
  }

  /// A uniform double in [0, 1), from the top 53 bits.
  double unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::array<std::uint64_t, 4> state_{};
};

}  // namespace rudp::core
