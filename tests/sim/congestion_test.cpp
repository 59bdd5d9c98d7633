// SPDX-License-Identifier: MIT
// The congestion controllers and the pacer inside real connections on the
// simulator: link utilisation, fairness between flows sharing a bottleneck,
// the latency-first controller's queue, burst sizes, and profile switches on
// a live connection.
#include <catch2/catch.hpp>

#include <map>

#include "scenario.hpp"

using namespace rudp;
using namespace rudp::test;
using namespace std::chrono_literals;

namespace {

sim::LinkConfig bottleneck(std::uint64_t bits_per_second, Duration one_way, double queue_bdps) {
  sim::LinkConfig link;
  link.delay = one_way;
  link.rate_bits_per_second = bits_per_second;
  const double bdp = static_cast<double>(bits_per_second) / 8 * std::chrono::duration<double>(2 * one_way).count();
  link.queue_bytes = static_cast<std::size_t>(bdp * queue_bdps);
  return link;
}

// Keeps `connection` of `pair.client` supplied with data and counts what the
// server reads on each of its connections.
struct Flows {
  Pair& pair;
  std::vector<ConnectionHandle> senders;
  std::map<ConnectionHandle, std::uint64_t> received;  // by server connection
  std::vector<std::byte> block = pattern(64 * 1024, 99);
  std::vector<std::byte> sink = std::vector<std::byte>(64 * 1024);

  void pump() {
    if (pair.server_conn) received.try_emplace(*pair.server_conn, 0);
    while (auto e = pair.server->poll_event()) {
      if (const auto* c = std::get_if<Connected>(&*e)) received.try_emplace(c->connection, 0);
    }
    while (pair.client->poll_event()) {
    }
    for (const ConnectionHandle h : senders) {
      while (pair.client->send(h, block).value_or(0) > 0) {
      }
    }
    for (auto& [h, bytes] : received) {
      while (true) {
        const auto n = pair.server->receive(h, sink);
        if (!n || *n == 0) break;
        bytes += *n;
      }
    }
  }

  // Runs for `duration` of virtual time, pumping at every step.
  void run_for(Duration duration) {
    const Instant end = pair.net.now() + duration;
    pair.net.run_until([&] {
      pump();
      return pair.net.now() >= end;
    });
  }

  std::uint64_t total() const {
    std::uint64_t sum = 0;
    for (const auto& [h, bytes] : received) sum += bytes;
    return sum;
  }
};

double goodput_fraction(std::uint64_t bytes, Duration over, std::uint64_t bits_per_second) {
  return static_cast<double>(bytes) * 8 / std::chrono::duration<double>(over).count() /
         static_cast<double>(bits_per_second);
}

}  // namespace

namespace {

// Goodput over 20 s, after 10 s of warm-up, of one flow with `profile` on a
// 100 Mbit/s, 50 ms RTT path with a one-BDP queue and `loss` each way.
double utilisation(Profile profile, double loss) {
  const std::uint64_t rate = 100'000'000;
  ConnectionConfig config = make_config(profile);
  config.send_buffer = config.receive_window = 16u << 20;
  Pair pair(50, config, config);
  sim::LinkConfig link = bottleneck(rate, 25ms, 1.0);
  link.loss = loss;
  pair.net.set_path(kClient, kServer, link);
  REQUIRE(pair.handshake());
  Flows flows{pair, {pair.client_conn}};
  flows.run_for(10s);
  const std::uint64_t before = flows.total();
  flows.run_for(20s);
  return goodput_fraction(flows.total() - before, 20s, rate);
}

}  // namespace

TEST_CASE("one flow fills a 100 Mbit/s, 50 ms path", "[sim][cc]") {
  // Latency-first at 0.01% random loss: it backs off by 15% per loss event and
  // refills from its bandwidth estimate at once.
  const double fast = utilisation(Profile::fast, 0.0001);
  CAPTURE(fast);
  CHECK(fast >= 0.90);
  // CUBIC without random loss. At 0.01% loss (one loss a second here) no
  // loss-based controller fills this path: RFC 9438's response function puts
  // CUBIC's mean window near 110 datagrams against a BDP of 520.
  const double cubic = utilisation(Profile::tcp_friendly, 0.0);
  CAPTURE(cubic);
  CHECK(cubic >= 0.90);
}

TEST_CASE("two CUBIC flows share a bottleneck fairly", "[sim][cc]") {
  const std::uint64_t rate = 20'000'000;
  ConnectionConfig config;
  config.send_buffer = config.receive_window = 8u << 20;
  Pair pair(51, config, config);
  pair.net.set_path(kClient, kServer, bottleneck(rate, 25ms, 1.0));
  REQUIRE(pair.handshake());
  // Both connections leave the same endpoint, so they share its link: the bottleneck.
  const ConnectionHandle second = pair.client->connect(pair.net.now(), kServer, config).value();
  Flows flows{pair, {pair.client_conn, second}};
  flows.run_for(10s);
  std::map<ConnectionHandle, std::uint64_t> before = flows.received;
  flows.run_for(30s);
  REQUIRE(flows.received.size() == 2);
  double sum = 0;
  double squares = 0;
  for (const auto& [h, bytes] : flows.received) {
    const double x = static_cast<double>(bytes - before[h]);
    sum += x;
    squares += x * x;
  }
  const double jain = sum * sum / (2 * squares);
  CAPTURE(jain, sum);
  CHECK(jain >= 0.95);
  CHECK(goodput_fraction(static_cast<std::uint64_t>(sum), 30s, rate) >= 0.85);
}

TEST_CASE("latency-first keeps the queue under its target and uses the link", "[sim][cc]") {
  const std::uint64_t rate = 20'000'000;
  ConnectionConfig config = make_config(Profile::fast);
  config.send_buffer = config.receive_window = 8u << 20;
  Pair pair(52, config, config);
  pair.net.set_path(kClient, kServer, bottleneck(rate, 20ms, 4.0));  // a deep, bloated queue
  REQUIRE(pair.handshake());
  Flows flows{pair, {pair.client_conn}};
  flows.run_for(5s);
  const std::uint64_t before = flows.total();
  // Sample the queueing delay the sender sees, every 100 ms.
  Duration worst{};
  Duration sum{};
  int samples = 0;
  for (int i = 0; i < 150; ++i) {
    flows.run_for(100ms);
    const auto s = pair.client->stats(pair.client_conn).value();
    const Duration queueing = s.smoothed_rtt - s.min_rtt;
    worst = std::max(worst, queueing);
    sum += queueing;
    ++samples;
  }
  const double fraction = goodput_fraction(flows.total() - before, 15s, rate);
  const Duration mean = sum / samples;
  CAPTURE(fraction, mean.count(), worst.count());
  CHECK(fraction >= 0.80);
  CHECK(mean <= config.latency_target);
}

TEST_CASE("the pacer lets out no burst above max_burst_packets", "[sim][cc]") {
  ConnectionConfig config;
  config.max_burst_packets = 4;
  config.send_buffer = config.receive_window = 8u << 20;
  Pair pair(53, config, config);
  pair.net.set_path(kClient, kServer, bottleneck(50'000'000, 10ms, 2.0));
  REQUIRE(pair.handshake());
  // Bytes of ack-eliciting packets that leave at the same instant: the bucket
  // holds max_burst_packets full datagrams (a burst of short packets may
  // count more packets, never more bytes).
  std::map<Instant, std::size_t> bytes_per_instant;
  pair.net.set_drop_filter([&](const sim::Datagram& d) {
    if (d.from == kClient && !ack_only(d.bytes)) bytes_per_instant[pair.net.now()] += d.bytes.size();
    return false;
  });
  Flows flows{pair, {pair.client_conn}};
  flows.run_for(5s);
  std::size_t largest = 0;
  for (const auto& [at, bytes] : bytes_per_instant) largest = std::max(largest, bytes);
  CAPTURE(largest, bytes_per_instant.size());
  CHECK(bytes_per_instant.size() > 1000);
  CHECK(largest <= 4 * config.max_datagram_size);
}

TEST_CASE("switching profiles mid-transfer loses and reorders nothing and acts within one RTT", "[sim][cc]") {
  ConnectionConfig config = make_config(Profile::tcp_friendly);
  config.send_buffer = config.receive_window = 8u << 20;
  Pair pair(54, config, config);
  pair.net.set_path(kClient, kServer, bottleneck(20'000'000, 25ms, 1.0));
  REQUIRE(pair.handshake());
  std::uint64_t server_packets = 0;
  pair.net.set_drop_filter([&](const sim::Datagram& d) {
    if (d.from == kServer) ++server_packets;
    return false;
  });
  const auto data = pattern(12u << 20, 7);
  std::size_t sent = 0;
  std::vector<std::byte> received;
  std::vector<std::byte> buffer(64 * 1024);
  auto pump = [&] {
    pair.drain_events();
    if (sent < data.size()) sent += pair.client->send(pair.client_conn, std::span(data).subspan(sent)).value_or(0);
    while (pair.server_conn) {
      const auto n = pair.server->receive(*pair.server_conn, buffer);
      if (!n || *n == 0) break;
      received.insert(received.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(*n));
    }
  };
  auto run = [&](Duration d) {
    const Instant end = pair.net.now() + d;
    pair.net.run_until([&] {
      pump();
      return pair.net.now() >= end;
    });
  };
  run(2s);
  // The receiver's ACKs per data packet, over one RTT, before and after it
  // switches from delayed ACKs (every second packet) to immediate ones.
  auto acks_per_packet = [&] {
    const auto before_acks = server_packets;
    const auto before_received = pair.server->stats(*pair.server_conn).value().packets_received;
    run(50ms);
    return static_cast<double>(server_packets - before_acks) /
           static_cast<double>(pair.server->stats(*pair.server_conn).value().packets_received - before_received);
  };
  const double delayed = acks_per_packet();
  REQUIRE_FALSE(pair.server->set_config(*pair.server_conn, make_config(Profile::fast)));
  REQUIRE_FALSE(pair.client->set_config(pair.client_conn, make_config(Profile::fast)));
  const double immediate = acks_per_packet();
  CAPTURE(delayed, immediate);
  CHECK(delayed < 0.6);
  CHECK(immediate > 0.9);
  REQUIRE(pair.net.run_until([&] {
    pump();
    return received.size() >= data.size();
  }));
  CHECK(received == data);
}

TEST_CASE("the default controller delivers byte-exact over every impairment", "[sim][cc]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    Pair pair(seed);
    sim::LinkConfig link = bottleneck(20'000'000, 20ms, 1.0);
    pair.net.set_path(kClient, kServer, link);
    REQUIRE(pair.handshake());
    link.loss = 0.03;
    link.reorder = 0.02;
    link.reorder_delay = 10ms;
    link.duplicate = 0.02;
    link.corrupt = 0.02;
    link.jitter = 3ms;
    pair.net.set_path(kClient, kServer, link);
    const auto data = pattern(1u << 20, seed);
    const Transfer t = transfer(pair, data, 120s);
    REQUIRE(t.completed);
    CHECK(t.received == data);
    CHECK(pair.client->stats(pair.client_conn).value().congestion_events > 0);
  }
}

namespace {

// 100-byte messages every 16 ms for 10 s over 50 ms one way and 10% loss each
// way; returns the mean latency from send to receive, and the client's stats.
std::pair<Duration, ConnectionStats> game_messages(const ConnectionConfig& config) {
  Pair pair(55, config, config);
  sim::LinkConfig link;
  link.delay = 50ms;
  pair.net.set_path(kClient, kServer, link);
  REQUIRE(pair.handshake());
  link.loss = 0.10;
  pair.net.set_path(kClient, kServer, link);
  std::vector<Instant> sent_at;
  std::vector<Duration> latencies;
  std::vector<std::byte> buffer(256);
  Instant next = pair.net.now();
  const Instant end = next + 10s;
  REQUIRE(pair.net.run_until([&] {
    pair.drain_events();
    if (pair.net.now() >= next && next < end) {
      auto message = pattern(100, sent_at.size());
      REQUIRE_FALSE(pair.client->send_message(pair.client_conn, message));
      sent_at.push_back(pair.net.now());
      next += 16ms;
    }
    while (true) {
      const auto n = pair.server->receive_message(*pair.server_conn, buffer);
      if (!n) break;
      CHECK(std::equal(buffer.begin(), buffer.begin() + 100, pattern(100, latencies.size()).begin()));
      latencies.push_back(pair.net.now() - sent_at[latencies.size()]);
    }
    return latencies.size() == 625;
  }, 5'000'000));
  Duration sum{};
  for (const Duration d : latencies) sum += d;
  return {sum / static_cast<std::int64_t>(latencies.size()), pair.client->stats(pair.client_conn).value()};
}

}  // namespace

TEST_CASE("re-bundling small messages cuts their latency under loss without adding packets", "[sim][cc]") {
  ConnectionConfig plain = make_config(Profile::fast);
  plain.rebundle_small_chunks = false;
  const auto [without, plain_stats] = game_messages(plain);
  const auto [with, rebundled_stats] = game_messages(make_config(Profile::fast));
  CAPTURE(without.count(), with.count(), plain_stats.packets_sent, rebundled_stats.packets_sent);
  CHECK(rebundled_stats.chunks_rebundled > 0);
  CHECK(with < without);
  CHECK(rebundled_stats.packets_sent <= plain_stats.packets_sent * 21 / 20);
}

TEST_CASE("a tail loss probe recovers a lost last packet without collapsing the window", "[sim][cc]") {
  for (const bool probe : {false, true}) {
    CAPTURE(probe);
    ConnectionConfig config = make_config(Profile::realtime);
    config.tail_loss_probe = probe;
    Pair pair(56, config, config);
    sim::LinkConfig link;
    link.delay = 20ms;
    pair.net.set_path(kClient, kServer, link);
    REQUIRE(pair.handshake());
    // Warm the window up with a second of traffic.
    const auto warm = pattern(400'000, 1);
    REQUIRE(transfer(pair, warm, 10s).completed);
    const auto before = pair.client->stats(pair.client_conn).value();
    // Then a burst of ten messages whose last packet is lost.
    int data_packets = 0;
    pair.net.set_drop_filter([&](const sim::Datagram& d) {
      return d.from == kClient && has_frame<wire::DataFrame>(d.bytes) && ++data_packets == 10;
    });
    for (std::uint64_t i = 0; i < 10; ++i) REQUIRE_FALSE(pair.client->send_message(pair.client_conn, pattern(1000, i)));
    std::vector<std::byte> buffer(2000);
    int received = 0;
    REQUIRE(pair.net.run_until([&] {
      pair.drain_events();
      while (pair.server->receive_message(*pair.server_conn, buffer)) ++received;
      return received == 10;
    }));
    const auto after = pair.client->stats(pair.client_conn).value();
    CAPTURE(before.congestion_window, after.congestion_window, after.probe_timeouts, after.tail_loss_probes);
    if (probe) {
      CHECK(after.tail_loss_probes == before.tail_loss_probes + 1);
      CHECK(after.congestion_window >= before.congestion_window * 8 / 10);
    } else {
      CHECK(after.tail_loss_probes == 0);
      CHECK(after.congestion_window < before.congestion_window / 2);
    }
  }
}
