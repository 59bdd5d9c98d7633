// SPDX-License-Identifier: MIT
// Links against rudp::asio through its public header only: opens an endpoint
// on a loopback port the system picks and checks that it is bound.
#include <rudp/asio.hpp>

#include <cstdio>

int main() {
  ::asio::io_context io;
  const rudp::asio::UdpEndpoint local(::asio::ip::make_address("127.0.0.1"), 0);
  auto endpoint = rudp::asio::Endpoint::open(io.get_executor(), local, rudp::EndpointConfig{});
  if (!endpoint) {
    std::printf("open: %s\n", endpoint.error().message().c_str());
    return 1;
  }
  const auto port = (*endpoint)->local_endpoint().port();
  std::printf("rudp::asio endpoint bound to port %u\n", static_cast<unsigned>(port));
  return port != 0 ? 0 : 1;
}
