// SPDX-License-Identifier: MIT
// Reliable byte-stream transfers over impaired simulated links: whatever the
// loss, reordering, duplication and corruption, the stream arrives
// byte-exact, in order, exactly once.
#include <catch2/catch.hpp>

#include "scenario.hpp"

using namespace rudp;
using namespace rudp::test;
using namespace std::chrono_literals;

TEST_CASE("a stream crosses a clean link byte-exact", "[sim]") {
  const std::uint64_t seed = 1;
  CAPTURE(seed);
  Pair pair(seed);
  sim::LinkConfig link;
  link.delay = 10ms;
  pair.net.set_path(kClient, kServer, link);
  REQUIRE(pair.handshake());
  const auto data = pattern(1 << 20, seed);
  const Transfer t = transfer(pair, data, 60s);
  REQUIRE(t.completed);
  CHECK(t.received == data);
}
