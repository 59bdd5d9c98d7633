// SPDX-License-Identifier: MIT
// `Result<T>`: a value or a `std::error_code`, shaped like C++23's
// std::expected (which g++ 12 and clang 14's libstdc++ lack), so that it can be
// swapped for it later without touching callers.
#pragma once

#include <cassert>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "rudp/errc.hpp"

namespace rudp {

/// A value of type T, or the error that prevented it. Never throws.
template <class T>
class [[nodiscard]] Result {
 public:
  /// A successful result holding `value`.
  Result(T value) noexcept(std::is_nothrow_move_constructible_v<T>) : state_(std::move(value)) {}
  /// A failed result; `error` must not be a success code.
  Result(std::error_code error) noexcept : state_(error) { assert(error); }
  /// A failed result from a rudp error code.
  Result(errc error) noexcept : state_(make_error_code(error)) {}

  /// True when a value is held.
  bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  /// The held value; only valid when has_value().
  T& value() & noexcept { return *std::get_if<0>(&state_); }
  const T& value() const& noexcept { return *std::get_if<0>(&state_); }
  T&& value() && noexcept { return std::move(*std::get_if<0>(&state_)); }
  T& operator*() & noexcept { return value(); }
  const T& operator*() const& noexcept { return value(); }
  T* operator->() noexcept { return std::get_if<0>(&state_); }
  const T* operator->() const noexcept { return std::get_if<0>(&state_); }

  /// The held value, or `fallback` when there is none.
  T value_or(T fallback) const& noexcept(std::is_nothrow_copy_constructible_v<T>) {
    return has_value() ? value() : fallback;
  }

  /// The error; a default (success) code when a value is held.
  std::error_code error() const noexcept {
    const auto* e = std::get_if<1>(&state_);
    return e ? *e : std::error_code{};
  }

 private:
  std::variant<T, std::error_code> state_;
};

}  // namespace rudp
