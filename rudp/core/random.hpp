// SPDX-License-Identifier: MIT
// rudp's seeded generator: xoshiro256** (Blackman and Vigna 2018) seeded
// through splitmix64. Everything random in the core (connection ids, cookie
// secrets) and in the simulator (each impairment's draws) comes from one of
// these, so a run is reproducible from its seed.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace rudp::core {

/// splitmix64: advances `state` and returns its next output; seeds generators.
inline std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/// A small, fast, seedable generator; not for cryptographic keys that must
/// resist a peer who has seen earlier outputs.
class Random {
 public:
  explicit Random(std::uint64_t seed) noexcept {
    for (auto& word : state_) word = splitmix64(seed);
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

  /// True with probability `p`, from the top 53 bits; a certain answer (p 0
  /// or 1) draws nothing.
  bool chance(double p) noexcept {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return static_cast<double>(next() >> 11) * 0x1.0p-53 < p;
  }

  /// Uniform in [0, bound], for a bound below 2^63. The modulo bias is below
  /// (bound + 1) / 2^64: under 1e-9 for any bound below 2^34.
  std::uint64_t up_to(std::uint64_t bound) noexcept { return next() % (bound + 1); }

 private:
  std::array<std::uint64_t, 4> state_{};
};

}  // namespace rudp::core
