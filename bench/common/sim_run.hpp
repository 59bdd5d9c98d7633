// SPDX-License-Identifier: MIT
// What the simulator programs share beyond option parsing: endpoints made
// from a seed, the generator their payloads come from, and nearest-rank
// quantiles.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>
#include <vector>

#include <rudp/endpoint.hpp>

namespace rudp::bench {

/// splitmix64's output function: a good 64-bit mix of `x`.
inline std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

/// An endpoint seeded with `seed`, listening when `listen`, accepting with
/// `incoming`; exits the program when the configuration is refused.
inline Endpoint make_endpoint(std::uint64_t seed, bool listen, const ConnectionConfig& incoming) {
  EndpointConfig c;
  c.seed = seed;
  c.accept_incoming = listen;
  c.incoming = incoming;
  auto endpoint = Endpoint::create(c, Instant{});
  if (!endpoint) {
    std::fprintf(stderr, "Endpoint::create: %s\n", endpoint.error().message().c_str());
    std::exit(2);
  }
  return std::move(endpoint).value();
}

/// The value at quantile q of sorted `v` (nearest rank); nullopt when empty.
inline std::optional<double> quantile(const std::vector<double>& sorted, double q) noexcept {
  if (sorted.empty()) return std::nullopt;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace rudp::bench
