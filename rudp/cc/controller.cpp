// SPDX-License-Identifier: MIT
// The factory behind cc::make(): one controller per Algorithm.
#include "rudp/cc/controller.hpp"

#include <cstdlib>

#include "rudp/cc/cubic.hpp"
#include "rudp/cc/fixed.hpp"
#include "rudp/cc/latency_first.hpp"
#include "rudp/cc/new_reno.hpp"

namespace rudp::cc {

std::unique_ptr<Controller> make(Algorithm algorithm, const Params& params) {
  switch (algorithm) {
    case Algorithm::new_reno: return std::make_unique<NewReno>(params);
    case Algorithm::cubic: return std::make_unique<Cubic>(params);
    case Algorithm::latency_first: return std::make_unique<LatencyFirst>(params);
    case Algorithm::fixed: return std::make_unique<Fixed>(params);
  }
  // Only a value cast into Algorithm from outside its enumerators gets here.
  std::abort();
}

}  // namespace rudp::cc
