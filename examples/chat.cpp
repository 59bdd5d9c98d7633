// SPDX-License-Identifier: MIT
// A chat over rudp::asio, written with C++20 coroutines: each line typed is a
// reliable-ordered message; each message received is printed.
//
//   rudp_chat server 4000          listen on port 4000 (IPv4 and IPv6)
//   rudp_chat client ::1 4000      connect, then type lines; end with Ctrl-D
//   rudp_chat selftest             a server and a client in one process over
//                                  loopback; exits 0 when the lines made it
#include <asio/experimental/as_tuple.hpp>
#include <rudp/asio.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using ::asio::awaitable;
using ::asio::use_awaitable;

namespace {

std::span<const std::byte> as_bytes(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

// Prints every message of `connection` until the peer finishes.
awaitable<void> print_messages(rudp::asio::Endpoint& endpoint, rudp::ConnectionHandle connection,
                               std::vector<std::string>* log) {
  std::vector<std::byte> buffer(64 * 1024);
  while (true) {
    auto [ec, n] = co_await endpoint.async_receive(connection, buffer, nullptr, ::asio::experimental::as_tuple(use_awaitable));
    if (ec) break;  // end_of_stream: the peer closed
    std::string line(reinterpret_cast<const char*>(buffer.data()), n);
    std::printf("> %s\n", line.c_str());
    if (log) log->push_back(std::move(line));
  }
}

// The server: each connection's messages are printed and echoed back.
awaitable<void> serve(rudp::asio::Endpoint& endpoint, std::vector<std::string>* log) {
  while (true) {
    const rudp::ConnectionHandle c = co_await endpoint.async_accept(use_awaitable);
    ::asio::co_spawn(
        endpoint.get_executor(),
        [&endpoint, c, log]() -> awaitable<void> {
          std::vector<std::byte> buffer(64 * 1024);
          while (true) {
            auto [ec, n] = co_await endpoint.async_receive(c, buffer, nullptr, ::asio::experimental::as_tuple(use_awaitable));
            if (ec) break;
            std::string line(reinterpret_cast<const char*>(buffer.data()), n);
            if (log) log->push_back(line);
            co_await endpoint.async_send(c, as_bytes("echo: " + line), {}, use_awaitable);
          }
          co_await endpoint.async_close(c, use_awaitable);
        },
        ::asio::detached);
  }
}

// The client: sends `lines` (or stdin's), prints what comes back, closes.
awaitable<void> chat(rudp::asio::Endpoint& endpoint, rudp::asio::UdpEndpoint server,
                     std::vector<std::string> lines, std::vector<std::string>* log) {
  const rudp::ConnectionHandle c =
      co_await endpoint.async_connect(server, rudp::make_config(rudp::Profile::fast), use_awaitable);
  ::asio::co_spawn(endpoint.get_executor(), print_messages(endpoint, c, log), ::asio::detached);
  if (lines.empty()) {
    for (std::string line; std::getline(std::cin, line);) lines.push_back(line);  // a real program reads stdin asynchronously
  }
  for (const std::string& line : lines) co_await endpoint.async_send(c, as_bytes(line), {}, use_awaitable);
  const rudp::CloseReason reason = co_await endpoint.async_close(c, use_awaitable);
  std::printf("closed: %s\n", rudp::to_string(reason));
}

rudp::EndpointConfig endpoint_config(std::uint64_t seed) {
  rudp::EndpointConfig config;
  config.seed = seed;
  config.incoming = rudp::make_config(rudp::Profile::fast);
  return config;
}

int usage() {
  std::fprintf(stderr, "usage: rudp_chat server PORT | rudp_chat client HOST PORT | rudp_chat selftest\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  ::asio::io_context io;
  const std::string mode = argc > 1 ? argv[1] : "";
  const auto any = ::asio::ip::address_v6::any();
  if (mode == "server" && argc == 3) {
    auto endpoint = rudp::asio::Endpoint::open(io.get_executor(), {any, static_cast<std::uint16_t>(std::stoi(argv[2]))},
                                               endpoint_config(1));
    if (!endpoint) {
      std::fprintf(stderr, "rudp_chat: %s\n", endpoint.error().message().c_str());
      return 1;
    }
    ::asio::co_spawn(io, serve(**endpoint, nullptr), ::asio::detached);
    io.run();
    return 0;
  }
  if (mode == "client" && argc == 4) {
    auto endpoint = rudp::asio::Endpoint::open(io.get_executor(), {any, 0}, endpoint_config(2));
    if (!endpoint) {
      std::fprintf(stderr, "rudp_chat: %s\n", endpoint.error().message().c_str());
      return 1;
    }
    const rudp::asio::UdpEndpoint server{::asio::ip::make_address(argv[2]), static_cast<std::uint16_t>(std::stoi(argv[3]))};
    ::asio::co_spawn(io, chat(**endpoint, server, {}, nullptr), [&](std::exception_ptr e) {
      if (e) std::fprintf(stderr, "rudp_chat: the connection failed\n");
      io.stop();
    });
    io.run();
    return 0;
  }
  if (mode == "selftest" && argc == 2) {
    const auto loopback = ::asio::ip::make_address("::1");
    auto server = rudp::asio::Endpoint::open(io.get_executor(), {loopback, 0}, endpoint_config(1));
    auto client = rudp::asio::Endpoint::open(io.get_executor(), {loopback, 0}, endpoint_config(2));
    if (!server || !client) return 1;
    std::vector<std::string> server_log, client_log;
    const std::vector<std::string> lines{"hello", "over rudp", "goodbye"};
    bool done = false;
    ::asio::co_spawn(io, serve(**server, &server_log), ::asio::detached);
    ::asio::co_spawn(io, chat(**client, {loopback, (*server)->local_endpoint().port()}, lines, &client_log),
                     [&](std::exception_ptr) { done = true; });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
    const bool ok = done && server_log == lines && client_log.size() == lines.size();
    std::printf("selftest: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
  }
  return usage();
}
