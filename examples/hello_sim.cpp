// SPDX-License-Identifier: MIT
// Two endpoints on a simulated lossy link: connect, send a message, read it, close.
#include <rudp/endpoint.hpp>
#include <rudp/sim.hpp>

#include <cstdio>
#include <string_view>

int main() {
  using namespace std::chrono_literals;
  const auto client_at = rudp::Address::v4({10, 0, 0, 1}, 4000);
  const auto server_at = rudp::Address::v4({10, 0, 0, 2}, 5000);
  rudp::sim::Network net(/*seed=*/42);
  net.set_path(client_at, server_at, {.delay = 30ms, .loss = 0.1});  // 60 ms RTT, 10% loss each way

  auto& client = net.add(client_at, rudp::Endpoint::create({.seed = 1}, net.now()).value());
  auto& server = net.add(server_at, rudp::Endpoint::create({.seed = 2, .accept_incoming = true}, net.now()).value());
  const auto conn = client.connect(net.now(), server_at).value();
  const std::string_view hello = "hello over a lossy link";
  client.send_message(conn, std::as_bytes(std::span(hello)));
  client.close(conn);  // FIN goes out once the message is acknowledged

  char buffer[64];
  bool closed = false;
  net.run_until([&] {
    while (auto event = server.poll_event()) {
      if (auto* readable = std::get_if<rudp::Readable>(&*event)) {
        const auto n = server.receive_message(readable->connection, std::as_writable_bytes(std::span(buffer)));
        std::printf("server got: %.*s\n", static_cast<int>(n.value()), buffer);
      } else if (auto* finished = std::get_if<rudp::PeerFinished>(&*event)) {
        server.close(finished->connection);  // close our direction too
      }
    }
    while (auto event = client.poll_event()) closed = closed || std::holds_alternative<rudp::Closed>(*event);
    return closed;
  });
  std::printf("closed after %.3f s of virtual time\n", std::chrono::duration<double>(net.now().time_since_epoch()).count());
  return closed ? 0 : 1;
}
