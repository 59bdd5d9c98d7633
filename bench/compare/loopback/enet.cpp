// SPDX-License-Identifier: MIT
// The loopback comparison's ENet rows: libenet with one reliable channel.
// Built only with libenet (RUDP_HAVE_ENET); main.cpp skips the rows without it.
#if defined(RUDP_HAVE_ENET)
#include <enet/enet.h>

#include <cstdint>
#include <span>
#include <vector>

#include "compare/loopback/harness.hpp"
#include "compare/loopback/transports.hpp"

namespace rudp::bench::loopback {
namespace {

ENetHost* open_enet_host(std::size_t peers) {
  ENetAddress address{};
  enet_address_set_host_ip(&address, "127.0.0.1");
  address.port = 0;
  // Bandwidth 0 in and out: unlimited, and the largest window ENet allows.
  ENetHost* host = enet_host_create(&address, peers, 1, 0, 0);
  if (host != nullptr) {
    enet_socket_set_option(host->socket, ENET_SOCKOPT_RCVBUF, static_cast<int>(kSocketBuffer));
    enet_socket_set_option(host->socket, ENET_SOCKOPT_SNDBUF, static_cast<int>(kSocketBuffer));
  }
  return host;
}

ENetPeer* connect_enet(ENetHost* host, std::uint16_t port) {
  ENetAddress to{};
  enet_address_set_host_ip(&to, "127.0.0.1");
  to.port = port;
  ENetPeer* peer = enet_host_connect(host, &to, 1, 0);
  ENetEvent event;
  const auto limit = Clock::now() + 5s;
  while (peer != nullptr && Clock::now() < limit) {
    if (enet_host_service(host, &event, 10) > 0 && event.type == ENET_EVENT_TYPE_CONNECT) return peer;
  }
  return nullptr;
}

// Messages handed to ENet and not yet acknowledged (ENet frees a reliable
// packet once the peer acknowledged it): the sender keeps these under 4 MiB,
// rudp's send buffer, since ENet's own queue has no limit.
thread_local std::uint64_t g_enet_unacked = 0;
void on_enet_packet_freed(ENetPacket*) { --g_enet_unacked; }

void enet_bulk_sender(BulkShared& shared, std::uint16_t port) {
  ENetHost* host = open_enet_host(1);
  ENetPeer* peer = host != nullptr ? connect_enet(host, port) : nullptr;
  if (peer == nullptr) {
    shared.tx_error = "connect";
    if (host != nullptr) enet_host_destroy(host);
    return;
  }
  constexpr std::uint64_t kMaxUnacked = kSocketBuffer / kBulkSize;
  std::vector<std::byte> message(kBulkSize);
  std::uint64_t next = 0;
  ENetEvent event;
  g_enet_unacked = 0;
  while (!shared.stop.load(std::memory_order_relaxed)) {
    while (g_enet_unacked < kMaxUnacked) {
      fill(message, next);
      ENetPacket* packet = enet_packet_create(message.data(), message.size(), ENET_PACKET_FLAG_RELIABLE);
      packet->freeCallback = on_enet_packet_freed;
      ++g_enet_unacked;
      enet_peer_send(peer, 0, packet);
      shared.sent.store(++next, std::memory_order_relaxed);
      if ((next & 63) == 0) break;  // let service() run between bursts
    }
    enet_host_service(host, &event, g_enet_unacked < kMaxUnacked ? 0 : 1);
  }
  fill_end(message, next);
  enet_peer_send(peer, 0, enet_packet_create(message.data(), message.size(), ENET_PACKET_FLAG_RELIABLE));
  enet_peer_disconnect_later(peer, 0);
  const auto limit = Clock::now() + kGuard;
  bool closed = false;
  while (!closed && Clock::now() < limit) {
    if (enet_host_service(host, &event, 10) > 0 && event.type == ENET_EVENT_TYPE_DISCONNECT) closed = true;
  }
  if (!closed) shared.tx_error = "did not disconnect";
  enet_host_destroy(host);
}

void enet_bulk_receiver(BulkShared& shared, ENetHost* host) {
  StreamCheck check;
  ENetEvent event;
  const auto guard = Clock::now() + kGuard + 60s;
  bool closed = false;
  while (!closed && Clock::now() < guard) {
    if (enet_host_service(host, &event, 10) <= 0) continue;
    if (event.type == ENET_EVENT_TYPE_RECEIVE) {
      const std::span<const std::byte> data(reinterpret_cast<const std::byte*>(event.packet->data),
                                            event.packet->dataLength);
      if (!check.finished && !check.on_message(data) && !check.error.empty()) {
        shared.rx_error = check.error;
        enet_packet_destroy(event.packet);
        return;
      }
      enet_packet_destroy(event.packet);
      shared.delivered.store(check.next, std::memory_order_relaxed);
    } else if (event.type == ENET_EVENT_TYPE_DISCONNECT) {
      closed = true;
    }
  }
  shared.rx_finished = check.finished && check.error.empty();
  if (!check.finished) shared.rx_error = "disconnected before the end marker";
}

// ENet: the client queues the ping and services the host until the pong
// arrives; the server services until a ping arrives, queues the pong and
// flushes at once.
void enet_ping_client(PingShared& shared, std::size_t total) {
  ENetHost* host = open_enet_host(1);
  ENetPeer* peer = host != nullptr ? connect_enet(host, shared.port.load()) : nullptr;
  if (peer == nullptr) {
    shared.client_error = "connect";
    if (host != nullptr) enet_host_destroy(host);
    return;
  }
  PingCheck check;
  ENetEvent event;
  const auto guard = Clock::now() + kGuard;
  const std::uint32_t packets_at_start = host->totalSentPackets;
  while (shared.rtt_us.size() < total && Clock::now() < guard) {
    check.prepare(shared.rtt_us.size());
    enet_peer_send(peer, 0, enet_packet_create(check.ping.data(), check.ping.size(), ENET_PACKET_FLAG_RELIABLE));
    bool answered = false;
    while (!answered && Clock::now() < guard) {
      if (enet_host_service(host, &event, 10) <= 0 || event.type != ENET_EVENT_TYPE_RECEIVE) continue;
      const double rtt = micros_since(check.sent_at);
      const std::span<const std::byte> data(reinterpret_cast<const std::byte*>(event.packet->data),
                                            event.packet->dataLength);
      const bool ok = check.matches(data);
      enet_packet_destroy(event.packet);
      if (!ok) {
        shared.client_error = "a pong differs from its ping";
        enet_host_destroy(host);
        return;
      }
      shared.rtt_us.push_back(rtt);
      answered = true;
    }
  }
  shared.client_datagrams = host->totalSentPackets - packets_at_start;
  shared.counted = true;
  enet_peer_disconnect(peer, 0);
  while (Clock::now() < guard) {
    if (enet_host_service(host, &event, 10) > 0 && event.type == ENET_EVENT_TYPE_DISCONNECT) break;
  }
  enet_host_destroy(host);
}

void enet_ping_server(PingShared& shared, ENetHost* host) {
  ENetEvent event;
  const auto guard = Clock::now() + kGuard;
  bool first = true;
  std::uint32_t packets_at_start = 0;
  while (Clock::now() < guard) {
    if (enet_host_service(host, &event, 10) <= 0) continue;
    if (event.type == ENET_EVENT_TYPE_RECEIVE) {
      if (first) {
        first = false;
        packets_at_start = host->totalSentPackets;
      }
      enet_peer_send(event.peer, 0,
                     enet_packet_create(event.packet->data, event.packet->dataLength, ENET_PACKET_FLAG_RELIABLE));
      enet_packet_destroy(event.packet);
      enet_host_flush(host);
      shared.server_datagrams = host->totalSentPackets - packets_at_start;
    } else if (event.type == ENET_EVENT_TYPE_DISCONNECT) {
      return;
    }
  }
  shared.server_error = "no disconnect";
}

}  // namespace

std::optional<BulkSample> run_bulk_enet(const Options& o) {
  ENetHost* receiver = open_enet_host(1);
  if (receiver == nullptr) return std::nullopt;
  const std::uint16_t port = receiver->address.port;
  auto sample = measure_bulk(
      o, true, [&](BulkShared& s) { enet_bulk_sender(s, port); },
      [&](BulkShared& s) { enet_bulk_receiver(s, receiver); });
  enet_host_destroy(receiver);
  return sample;
}

std::optional<PingSample> run_ping_enet(const Options& o, std::size_t server_cpu) {
  const std::size_t total = o.warmup + o.roundtrips;
  ENetHost* server = open_enet_host(1);
  if (server == nullptr) return std::nullopt;
  const std::uint16_t port = server->address.port;
  auto sample = measure_ping(
      o, server_cpu,
      [&](PingShared& s) {
        s.port = port;
        enet_ping_client(s, total);
      },
      [&](PingShared& s) { enet_ping_server(s, server); });
  enet_host_destroy(server);
  return sample;
}

}  // namespace rudp::bench::loopback
#endif
