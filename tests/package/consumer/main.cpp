// SPDX-License-Identifier: MIT
// Links against rudp through its public headers only and checks that the
// error category is the library's own.
#include <rudp/errc.hpp>
#include <rudp/result.hpp>

#include <cstdio>
#include <cstring>

int main() {
  const rudp::Result<int> failed = rudp::errc::checksum_mismatch;
  const std::error_code ec = failed.error();
  std::printf("%s: %s\n", ec.category().name(), ec.message().c_str());
  return std::strcmp(ec.category().name(), "rudp") == 0 && ec == rudp::errc::checksum_mismatch ? 0 : 1;
}
