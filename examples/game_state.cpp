// SPDX-License-Identifier: MIT
// Game state over rudp::asio: the client sends its state 60 times a second
// as unreliable-sequenced snapshots on a high-priority channel (a newer one
// replaces an unsent older one: supersede key), and a reliable-ordered event
// now and then on another channel; the server prints what arrived each second.
//
//   rudp_game_state server 4000
//   rudp_game_state client 127.0.0.1 4000 [seconds]
//   rudp_game_state selftest        both ends over loopback for 2 s; exits 0
//                                   when every event and most snapshots arrived
#include <asio/experimental/as_tuple.hpp>
#include <rudp/asio.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using ::asio::awaitable;
using ::asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr rudp::ChannelId kSnapshots = 0;
constexpr rudp::ChannelId kEvents = 1;

// Every message starts with the time it was made (steady clock, shared by
// the processes of one machine) and its number.
struct Header {
  std::int64_t made_ns;
  std::uint64_t number;
};

std::vector<std::byte> make_message(std::uint64_t number, std::size_t size) {
  std::vector<std::byte> bytes(std::max(size, sizeof(Header)));
  const Header h{Clock::now().time_since_epoch().count(), number};
  std::memcpy(bytes.data(), &h, sizeof h);
  return bytes;
}

struct Tally {
  std::uint64_t snapshots = 0;
  std::uint64_t events = 0;
  std::uint64_t newest_snapshot = 0;
  double worst_ms = 0;
};

awaitable<void> serve_one(rudp::asio::Endpoint& endpoint, rudp::ConnectionHandle c, Tally& total) {
  std::vector<std::byte> buffer(2048);
  Tally second;
  auto next_print = Clock::now() + 1s;
  while (true) {
    rudp::MessageInfo info;
    auto [ec, n] = co_await endpoint.async_receive(c, buffer, &info, ::asio::experimental::as_tuple(use_awaitable));
    if (ec) break;
    Header h{};
    std::memcpy(&h, buffer.data(), std::min(n, sizeof h));
    const double age_ms = std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch() -
                                                                      Clock::duration(h.made_ns)).count();
    Tally& t = second;
    if (info.channel == kSnapshots) {
      ++t.snapshots;
      t.newest_snapshot = h.number;
    } else {
      ++t.events;
    }
    t.worst_ms = std::max(t.worst_ms, age_ms);
    if (Clock::now() >= next_print) {
      const auto stats = endpoint.core().stats(c);
      std::printf("server: %3llu snapshots (newest #%llu), %llu events, worst age %.2f ms, srtt %.2f ms\n",
                  static_cast<unsigned long long>(t.snapshots), static_cast<unsigned long long>(t.newest_snapshot),
                  static_cast<unsigned long long>(t.events), t.worst_ms,
                  stats ? std::chrono::duration<double, std::milli>(stats->smoothed_rtt).count() : 0.0);
      total.snapshots += t.snapshots;
      total.events += t.events;
      total.worst_ms = std::max(total.worst_ms, t.worst_ms);
      second = {};
      next_print += 1s;
    }
  }
  total.snapshots += second.snapshots;
  total.events += second.events;
  co_await endpoint.async_close(c, ::asio::experimental::as_tuple(use_awaitable));
}

awaitable<void> serve(rudp::asio::Endpoint& endpoint, Tally& total) {
  while (true) {
    const rudp::ConnectionHandle c = co_await endpoint.async_accept(use_awaitable);
    ::asio::co_spawn(endpoint.get_executor(), serve_one(endpoint, c, total), ::asio::detached);
  }
}

// Plays for `duration`: a snapshot every 1/60 s, an event every half second.
awaitable<void> play(rudp::asio::Endpoint& endpoint, rudp::asio::UdpEndpoint server, Clock::duration duration,
                     std::uint64_t& events_sent, std::uint64_t& snapshots_sent) {
  const rudp::ConnectionHandle c =
      co_await endpoint.async_connect(server, rudp::make_config(rudp::Profile::realtime), use_awaitable);
  endpoint.core().configure_channel(c, kSnapshots,
                                    {.mode = rudp::DeliveryMode::unreliable_sequenced, .priority = 1});
  endpoint.core().configure_channel(c, kEvents, {.mode = rudp::DeliveryMode::reliable_ordered});
  ::asio::steady_timer tick(endpoint.get_executor());
  const auto end = Clock::now() + duration;
  auto next = Clock::now();
  for (std::uint64_t frame = 0; Clock::now() < end; ++frame) {
    co_await endpoint.async_send(c, make_message(frame, 200), {.channel = kSnapshots, .supersede_key = 1},
                                 use_awaitable);
    ++snapshots_sent;
    if (frame % 30 == 0) {
      co_await endpoint.async_send(c, make_message(events_sent, 40), {.channel = kEvents}, use_awaitable);
      ++events_sent;
    }
    next += std::chrono::microseconds(16'667);
    tick.expires_at(next);
    co_await tick.async_wait(use_awaitable);
  }
  co_await endpoint.async_close(c, use_awaitable);
}

int fail(std::error_code ec) {
  std::fprintf(stderr, "rudp_game_state: %s\n", ec.message().c_str());
  return 1;
}

rudp::EndpointConfig endpoint_config(std::uint64_t seed) {
  rudp::EndpointConfig config;
  config.seed = seed;
  config.incoming = rudp::make_config(rudp::Profile::realtime);
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  ::asio::io_context io;
  const std::string mode = argc > 1 ? argv[1] : "";
  const auto any = ::asio::ip::address_v6::any();
  Tally total;
  std::uint64_t events_sent = 0, snapshots_sent = 0;
  if (mode == "server" && argc == 3) {
    auto endpoint = rudp::asio::Endpoint::open(io.get_executor(), {any, static_cast<std::uint16_t>(std::stoi(argv[2]))},
                                               endpoint_config(1));
    if (!endpoint) return fail(endpoint.error());
    ::asio::co_spawn(io, serve(**endpoint, total), ::asio::detached);
    io.run();
    return 0;
  }
  if (mode == "client" && (argc == 4 || argc == 5)) {
    auto endpoint = rudp::asio::Endpoint::open(io.get_executor(), {any, 0}, endpoint_config(2));
    if (!endpoint) return fail(endpoint.error());
    const rudp::asio::UdpEndpoint server{::asio::ip::make_address(argv[2]), static_cast<std::uint16_t>(std::stoi(argv[3]))};
    const auto seconds = std::chrono::seconds(argc == 5 ? std::stoi(argv[4]) : 10);
    ::asio::co_spawn(io, play(**endpoint, server, seconds, events_sent, snapshots_sent), [&](std::exception_ptr e) {
      if (e) std::fprintf(stderr, "rudp_game_state: the connection failed\n");
      io.stop();
    });
    io.run();
    std::printf("client: sent %llu snapshots and %llu events\n", static_cast<unsigned long long>(snapshots_sent),
                static_cast<unsigned long long>(events_sent));
    return 0;
  }
  if (mode == "selftest" && argc == 2) {
    const auto loopback = ::asio::ip::make_address("127.0.0.1");
    auto server = rudp::asio::Endpoint::open(io.get_executor(), {loopback, 0}, endpoint_config(1));
    auto client = rudp::asio::Endpoint::open(io.get_executor(), {loopback, 0}, endpoint_config(2));
    if (!server || !client) return 1;
    bool done = false;
    ::asio::co_spawn(io, serve(**server, total), ::asio::detached);
    ::asio::co_spawn(io, play(**client, {loopback, (*server)->local_endpoint().port()}, 2s, events_sent, snapshots_sent),
                     [&](std::exception_ptr) { done = true; });
    const auto deadline = Clock::now() + 10s;
    while (!(done && total.events == events_sent) && Clock::now() < deadline) io.run_one_for(100ms);
    const bool ok = done && total.events == events_sent && total.snapshots * 10 >= snapshots_sent * 9;
    std::printf("selftest: %llu/%llu snapshots, %llu/%llu events: %s\n",
                static_cast<unsigned long long>(total.snapshots), static_cast<unsigned long long>(snapshots_sent),
                static_cast<unsigned long long>(total.events), static_cast<unsigned long long>(events_sent),
                ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
  }
  std::fprintf(stderr, "usage: rudp_game_state server PORT | client HOST PORT [SECONDS] | selftest\n");
  return 2;
}
