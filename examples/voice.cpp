// SPDX-License-Identifier: MIT
// Voice over rudp::asio: 20 ms frames of 160 bytes (G.711 at 8 kHz), each
// useless 150 ms after it was captured, sent with that deadline. The
// receiver counts frames on time, late and missing.
//
//   rudp_voice server 4000
//   rudp_voice client 127.0.0.1 4000 [seconds] [reliable]
//                                   unreliable frames by default; "reliable"
//                                   sends them reliable-ordered with the
//                                   deadline, so a lost frame is re-sent
//                                   while it can still be played
//   rudp_voice selftest             both ends over loopback for 2 s
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <rudp/asio.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

using namespace std::chrono_literals;
using ::asio::awaitable;
using ::asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kFrame = 20ms;
constexpr auto kPlayout = 150ms;
constexpr std::size_t kFrameBytes = 160;

struct Counts {
  std::uint64_t on_time = 0;
  std::uint64_t late = 0;
  std::uint64_t newest = 0;  // highest frame number seen, + 1
};

// Each frame starts with its capture time (steady clock) and its number.
std::vector<std::byte> capture(std::uint64_t number) {
  std::vector<std::byte> frame(kFrameBytes);
  const std::int64_t now = Clock::now().time_since_epoch().count();
  std::memcpy(frame.data(), &now, sizeof now);
  std::memcpy(frame.data() + sizeof now, &number, sizeof number);
  return frame;
}

void report(const Counts& c) {
  const double total = static_cast<double>(c.newest);
  const double missing = total - static_cast<double>(c.on_time + c.late);
  std::printf("frames %llu: on time %.1f%%, late %.1f%%, lost %.1f%%\n", static_cast<unsigned long long>(c.newest),
              total > 0 ? 100.0 * static_cast<double>(c.on_time) / total : 0.0,
              total > 0 ? 100.0 * static_cast<double>(c.late) / total : 0.0, total > 0 ? 100.0 * missing / total : 0.0);
}

// Counts frames as they come and reports every second, frames or not: each
// receive races the report's timer (asio's awaitable operators cancel the
// one that loses; a cancelled receive takes no frame, the next one gets it).
awaitable<void> listen(rudp::asio::Endpoint& endpoint, rudp::ConnectionHandle c, Counts& counts) {
  using namespace ::asio::experimental::awaitable_operators;
  using ::asio::experimental::as_tuple;
  std::vector<std::byte> buffer(kFrameBytes);
  ::asio::steady_timer report_at(endpoint.get_executor(), Clock::now() + 1s);
  while (true) {
    const auto first = co_await (endpoint.async_receive(c, buffer, nullptr, as_tuple(use_awaitable)) ||
                                 report_at.async_wait(as_tuple(use_awaitable)));
    if (first.index() == 1) {
      report(counts);
      report_at.expires_at(report_at.expiry() + 1s);
      continue;
    }
    const auto [ec, n] = std::get<0>(first);
    if (ec) break;
    std::int64_t captured = 0;
    std::uint64_t number = 0;
    std::memcpy(&captured, buffer.data(), sizeof captured);
    std::memcpy(&number, buffer.data() + sizeof captured, sizeof number);
    const auto age = Clock::now().time_since_epoch() - Clock::duration(captured);
    ++(age <= kPlayout ? counts.on_time : counts.late);
    counts.newest = std::max(counts.newest, number + 1);
  }
  co_await endpoint.async_close(c, ::asio::experimental::as_tuple(use_awaitable));
}

awaitable<void> serve(rudp::asio::Endpoint& endpoint, Counts& counts) {
  while (true) {
    const rudp::ConnectionHandle c = co_await endpoint.async_accept(use_awaitable);
    ::asio::co_spawn(endpoint.get_executor(), listen(endpoint, c, counts), ::asio::detached);
  }
}

awaitable<void> talk(rudp::asio::Endpoint& endpoint, rudp::asio::UdpEndpoint server, Clock::duration duration,
                     rudp::DeliveryMode mode, std::uint64_t& sent) {
  const rudp::ConnectionHandle c =
      co_await endpoint.async_connect(server, rudp::make_config(rudp::Profile::realtime), use_awaitable);
  ::asio::steady_timer tick(endpoint.get_executor());
  const auto start = Clock::now();
  for (auto next = start; Clock::now() < start + duration; next += kFrame) {
    // The core's clock is the endpoint's own; its deadline is `now` there plus the playout delay.
    const rudp::SendOptions options{.mode = mode, .deadline = endpoint.now() + kPlayout};
    co_await endpoint.async_send(c, capture(sent++), options, use_awaitable);
    tick.expires_at(next + kFrame);
    co_await tick.async_wait(use_awaitable);
  }
  co_await endpoint.async_close(c, use_awaitable);
}

rudp::EndpointConfig endpoint_config(std::uint64_t seed) {
  rudp::EndpointConfig config;
  config.seed = seed;
  config.incoming = rudp::make_config(rudp::Profile::realtime);
  return config;
}

int fail(std::error_code ec) {
  std::fprintf(stderr, "rudp_voice: %s\n", ec.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  ::asio::io_context io;
  const std::string mode = argc > 1 ? argv[1] : "";
  const auto any = ::asio::ip::address_v6::any();
  Counts counts;
  std::uint64_t sent = 0;
  if (mode == "server" && argc == 3) {
    auto endpoint = rudp::asio::Endpoint::open(io.get_executor(), {any, static_cast<std::uint16_t>(std::stoi(argv[2]))},
                                               endpoint_config(1));
    if (!endpoint) return fail(endpoint.error());
    ::asio::co_spawn(io, serve(**endpoint, counts), ::asio::detached);
    io.run();
    return 0;
  }
  if (mode == "client" && argc >= 4 && argc <= 6) {
    auto endpoint = rudp::asio::Endpoint::open(io.get_executor(), {any, 0}, endpoint_config(2));
    if (!endpoint) return fail(endpoint.error());
    const rudp::asio::UdpEndpoint server{::asio::ip::make_address(argv[2]), static_cast<std::uint16_t>(std::stoi(argv[3]))};
    const auto seconds = std::chrono::seconds(argc >= 5 ? std::stoi(argv[4]) : 10);
    const auto delivery = argc == 6 && std::string(argv[5]) == "reliable" ? rudp::DeliveryMode::reliable_ordered
                                                                          : rudp::DeliveryMode::unreliable;
    ::asio::co_spawn(io, talk(**endpoint, server, seconds, delivery, sent), [&](std::exception_ptr e) {
      if (e) std::fprintf(stderr, "rudp_voice: the connection failed\n");
      io.stop();
    });
    io.run();
    std::printf("client: sent %llu frames\n", static_cast<unsigned long long>(sent));
    return 0;
  }
  if (mode == "selftest" && argc == 2) {
    const auto loopback = ::asio::ip::make_address("127.0.0.1");
    auto server = rudp::asio::Endpoint::open(io.get_executor(), {loopback, 0}, endpoint_config(1));
    auto client = rudp::asio::Endpoint::open(io.get_executor(), {loopback, 0}, endpoint_config(2));
    if (!server || !client) return 1;
    bool done = false;
    ::asio::co_spawn(io, serve(**server, counts), ::asio::detached);
    ::asio::co_spawn(io, talk(**client, {loopback, (*server)->local_endpoint().port()}, 2s, rudp::DeliveryMode::unreliable, sent),
                     [&](std::exception_ptr) { done = true; });
    const auto deadline = Clock::now() + 10s;
    while (!(done && counts.on_time + counts.late == sent) && Clock::now() < deadline) io.run_one_for(100ms);
    report(counts);
    // Loopback loses nothing and takes microseconds: every frame is on time.
    const bool ok = done && counts.on_time == sent && sent >= 90;
    std::printf("selftest: %llu of %llu frames on time: %s\n", static_cast<unsigned long long>(counts.on_time),
                static_cast<unsigned long long>(sent), ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
  }
  std::fprintf(stderr, "usage: rudp_voice server PORT | client HOST PORT [SECONDS] [reliable] | selftest\n");
  return 2;
}
