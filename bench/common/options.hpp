// SPDX-License-Identifier: MIT
// Command-line helpers shared by the programs in bench/: the walk over the
// arguments (--help, an unknown option or a bad value), comma lists of
// numbers and names, unsigned integers, and the profile names. Each program
// keeps its own usage text and says what each of its options means; the
// walk and the parsing of one value live here, so every program accepts the
// same spellings and fails the same way.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rudp/config.hpp>

namespace rudp::bench {

/// `text` cut at each comma; an empty text is one empty item.
inline std::vector<std::string> split(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    out.emplace_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

/// A decimal unsigned integer, digits only; nullopt if empty, if anything
/// else is in it, or if it does not fit in 64 bits.
inline std::optional<std::uint64_t> parse_u64(std::string_view text) {
  if (text.empty()) return std::nullopt;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (kMax - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

/// Comma-separated numbers, each optionally followed by '%', for which
/// `accept(value)` holds; nullopt if any item is empty, malformed or refused.
template <class Accept>
std::optional<std::vector<double>> parse_numbers(std::string_view text, Accept accept) {
  std::vector<double> out;
  for (std::string item : split(text)) {
    if (!item.empty() && item.back() == '%') item.pop_back();
    char* end = nullptr;
    const double value = std::strtod(item.c_str(), &end);
    if (item.empty() || end != item.c_str() + item.size() || !accept(value)) return std::nullopt;
    out.push_back(value);
  }
  return out;
}

/// Comma-separated numbers in [low, high).
inline std::optional<std::vector<double>> parse_numbers(std::string_view text, double low, double high) {
  return parse_numbers(text, [&](double v) { return v >= low && v < high; });
}

/// A value of an enumeration and its spelling on the command line.
template <class T>
struct Named {
  T value;
  const char* name;
};

/// The spelling of `value` in `table`, or "?".
template <class T, std::size_t N>
const char* name_of(const std::array<Named<T>, N>& table, T value) noexcept {
  for (const Named<T>& n : table) {
    if (n.value == value) return n.name;
  }
  return "?";
}

/// Comma-separated names from `table`; nullopt if any is not in it.
template <class T, std::size_t N>
std::optional<std::vector<T>> parse_names(std::string_view text, const std::array<Named<T>, N>& table) {
  std::vector<T> out;
  for (const std::string& item : split(text)) {
    const auto it = std::find_if(table.begin(), table.end(), [&](const Named<T>& n) { return item == n.name; });
    if (it == table.end()) return std::nullopt;
    out.push_back(it->value);
  }
  return out;
}

/// The connection profiles of make_config, as --profiles spells them.
inline constexpr std::array<Named<Profile>, 3> kProfileNames{{
    {Profile::tcp_friendly, "tcp_friendly"},
    {Profile::fast, "fast"},
    {Profile::realtime, "realtime"},
}};

/// A program's arguments after its name, taken one at a time.
class Args {
 public:
  Args(int argc, char** argv) : argc_(argc), argv_(argv) {}

  bool done() const noexcept { return next_ >= argc_; }
  /// The next argument, as an option's value; an empty view (and missing()
  /// from then on) when none is left.
  std::string_view value() {
    if (done()) {
      missing_ = true;
      return {};
    }
    return argv_[next_++];
  }
  bool missing() const noexcept { return missing_; }

 private:
  int argc_;
  char** argv_;
  int next_ = 1;
  bool missing_ = false;
};

/// Parses a program's command line into `options` (defaults unless the
/// program made some first): `--help` or `-h` prints the
/// usage and exits 0; every other argument is an option name handed to
/// `option(options, name, args)`, which takes its value from `args` and
/// returns false for a name it does not know or a value it refuses. Then, or
/// when a value is missing, it prints the usage and exits 2.
template <class Options, class Option>
Options parse_command_line(int argc, char** argv, void (*usage)(const char*), Option option, Options options = {}) {
  Args args(argc, argv);
  while (!args.done()) {
    const std::string_view name = args.value();
    if (name == "--help" || name == "-h") {
      usage(argv[0]);
      std::exit(0);
    }
    if (!option(options, name, args) || args.missing()) {
      usage(argv[0]);
      std::exit(2);
    }
  }
  return options;
}

}  // namespace rudp::bench
