// SPDX-License-Identifier: MIT
// Overloaded{lambdas...}: one visitor for std::visit from several lambdas.
#pragma once

namespace rudp {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace rudp
