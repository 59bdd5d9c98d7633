// SPDX-License-Identifier: MIT
// A game loop that owns its UDP socket and its clock drives rudp's core
// directly, as KCP users do: no asio, no threads. Each frame it reads what
// the socket has, runs the timers, sends what the core has to send, and
// handles the core's events; it sleeps in poll() until the next datagram or
// the core's next timeout, whichever comes first.
//
// Here one process runs both sides over loopback: a client sends 100
// snapshots (unreliable-sequenced) and 10 events (reliable-ordered) to a
// server, which counts them; it exits 0 when every event arrived.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rudp/endpoint.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

// The core's clock counts from the start of the program.
const auto kEpoch = std::chrono::steady_clock::now();
rudp::Instant now() { return rudp::Instant{std::chrono::steady_clock::now() - kEpoch}; }

// A non-blocking UDP socket on 127.0.0.1 with a port the system picks.
struct Socket {
  int fd = -1;
  std::uint16_t port = 0;

  Socket() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      std::perror("own_loop: socket");
      std::exit(1);
    }
    port = ntohs(a.sin_port);
  }
  ~Socket() { ::close(fd); }
};

rudp::Address loopback(std::uint16_t port) { return rudp::Address::v4({127, 0, 0, 1}, port); }

// One turn of the loop for one endpoint on its socket.
void pump(rudp::Endpoint& endpoint, const Socket& socket) {
  std::vector<std::byte> buffer(65536);
  sockaddr_in from{};
  socklen_t len = sizeof from;
  ssize_t n = 0;
  while ((n = ::recvfrom(socket.fd, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &len)) >= 0) {
    endpoint.handle_datagram(now(), loopback(ntohs(from.sin_port)), std::span(buffer).first(static_cast<std::size_t>(n)));
    len = sizeof from;
  }
  if (const auto due = endpoint.next_timeout(); due && *due <= now()) endpoint.handle_timeout(now());
  while (const auto t = endpoint.poll_transmit(now(), buffer)) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(t->to.port());
    ::sendto(socket.fd, buffer.data(), t->size, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
}

// Milliseconds poll() may sleep: until the earlier of the two cores' timeouts.
int sleep_ms(const rudp::Endpoint& a, const rudp::Endpoint& b) {
  auto wake = now() + 50ms;  // a game would wake for its next frame anyway
  for (const auto t : {a.next_timeout(), b.next_timeout()}) {
    if (t && *t < wake) wake = *t;
  }
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wake - now()).count();
  return static_cast<int>(std::max<decltype(ms)>(ms, 0));
}

}  // namespace

int main() {
  Socket client_socket, server_socket;
  rudp::EndpointConfig client_config;
  client_config.seed = 1;
  rudp::EndpointConfig server_config;
  server_config.seed = 2;
  server_config.accept_incoming = true;
  server_config.incoming = rudp::make_config(rudp::Profile::realtime);
  auto client = rudp::Endpoint::create(client_config, now()).value();
  auto server = rudp::Endpoint::create(server_config, now()).value();

  const auto connection =
      client.connect(now(), loopback(server_socket.port), rudp::make_config(rudp::Profile::realtime)).value();
  client.configure_channel(connection, 0, {.mode = rudp::DeliveryMode::unreliable_sequenced, .priority = 1});
  client.configure_channel(connection, 1, {.mode = rudp::DeliveryMode::reliable_ordered});

  int snapshots_sent = 0, events_sent = 0, snapshots = 0, events = 0;
  std::vector<std::byte> message(256);
  const auto deadline = now() + 10s;
  while (events < 10 && now() < deadline) {
    // The game's frame: a snapshot every frame, an event every tenth.
    if (snapshots_sent < 100) {
      if (!client.send_message(connection, std::span(message).first(120), {.channel = 0})) ++snapshots_sent;
      if (snapshots_sent % 10 == 0 && events_sent < 10 &&
          !client.send_message(connection, std::span(message).first(20), {.channel = 1})) {
        ++events_sent;
      }
    }
    pump(client, client_socket);
    pump(server, server_socket);
    while (const auto e = server.poll_event()) {
      if (const auto* readable = std::get_if<rudp::Readable>(&*e)) {
        while (const auto info = server.next_message(readable->connection)) {
          (void)server.receive_message(readable->connection, message);
          ++(info->channel == 0 ? snapshots : events);
        }
      }
    }
    while (client.poll_event()) {
    }
    pollfd fds[] = {{client_socket.fd, POLLIN, 0}, {server_socket.fd, POLLIN, 0}};
    ::poll(fds, 2, std::min(sleep_ms(client, server), 16));  // a 60 Hz frame at most
  }
  std::printf("own_loop: %d of %d snapshots and %d of %d events arrived\n", snapshots, snapshots_sent, events,
              events_sent);
  return events == 10 ? 0 : 1;
}
