// SPDX-License-Identifier: MIT
// What the rudp::asio tests share: a bound socket with its BatchIo (Peer),
// sending a whole batch, receiving a known number of datagrams, the batch
// shapes and feature combinations the tests go through, and the check that a
// batch arrived whole, in order and from its sender. Waits only guard against
// a hang; nothing measures time.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/ip/v6_only.hpp>
#include <bit>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "rudp/asio/batch_io.hpp"

namespace loopback {

using rudp::errc;
using rudp::asio::BatchFeatures;
using rudp::asio::BatchIo;
using rudp::asio::BatchOptions;
using rudp::asio::OutgoingDatagram;
using rudp::asio::RecvBatch;
using udp = ::asio::ip::udp;

using Bytes = std::vector<std::byte>;

// A guard against a lost datagram hanging the test, not a timing assertion.
inline constexpr int kWaitMs = 10'000;

inline bool wait_for(udp::socket& socket, short events) {
  ::pollfd p{};
  p.fd = socket.native_handle();
  p.events = events;
  return ::poll(&p, 1, kWaitMs) == 1;
}

inline std::string describe(const BatchOptions& o) {
  return std::string(o.mmsg ? "mmsg" : "no-mmsg") + (o.gso ? "+gso" : "") + (o.gro ? "+gro" : "");
}

inline std::string describe(const BatchFeatures& f) {
  return std::string(f.mmsg ? "mmsg" : "no-mmsg") + (f.gso ? "+gso" : "") + (f.gro ? "+gro" : "");
}

// A bound socket and the BatchIo over it.
struct Peer {
  Peer(::asio::io_context& io, const udp::endpoint& bind_to, const BatchOptions& options, bool v6_only = true)
      : socket(io) {
    socket.open(bind_to.protocol());
    if (bind_to.address().is_v6()) socket.set_option(::asio::ip::v6_only(v6_only));
    // Room for a whole test batch while nobody reads (the kernel caps it at
    // net.core.rmem_max; exchange() sends in smaller pieces if that is small).
    socket.set_option(udp::socket::receive_buffer_size(8 << 20));
    socket.set_option(udp::socket::send_buffer_size(4 << 20));
    socket.bind(bind_to);
    batch_io = std::make_unique<BatchIo>(socket, options);
  }

  udp::endpoint local() const { return socket.local_endpoint(); }
  std::size_t receive_buffer() const {
    udp::socket::receive_buffer_size size;
    socket.get_option(size);
    return static_cast<std::size_t>(size.value());
  }

  udp::socket socket;
  std::unique_ptr<BatchIo> batch_io;
};

struct Received {
  Bytes bytes;
  udp::endpoint from;
  bool truncated = false;
};

struct Collected {
  std::vector<Received> datagrams;
  std::size_t reads = 0;
  bool merged = false;  // some read carried several datagrams (GRO)
};

inline void send_all(Peer& from, std::span<const OutgoingDatagram> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const auto sent = from.batch_io->send(out.subspan(done));
    if (!sent) {
      REQUIRE(sent.error() == errc::would_block);
      REQUIRE(wait_for(from.socket, POLLOUT));
      continue;
    }
    REQUIRE(*sent >= 1);
    done += *sent;
  }
}

inline void receive_n(Peer& at, RecvBatch& batch, std::size_t n, Collected& into) {
  const std::size_t goal = into.datagrams.size() + n;
  while (into.datagrams.size() < goal) {
    const auto got = at.batch_io->receive(batch);
    if (!got) {
      REQUIRE(got.error() == errc::would_block);
      REQUIRE(batch.empty());
      INFO("waiting for datagram " << into.datagrams.size() << " of " << goal);
      REQUIRE(wait_for(at.socket, POLLIN));
      continue;
    }
    REQUIRE(*got == batch.size());
    std::size_t seen = 0;
    for (const auto& d : batch) {
      into.datagrams.push_back({Bytes(d.bytes.begin(), d.bytes.end()), d.from, d.truncated});
      ++seen;
    }
    REQUIRE(seen == batch.size());
    REQUIRE(batch.reads() <= batch.size());
    into.reads += batch.reads();
    if (batch.reads() < batch.size()) into.merged = true;
  }
  REQUIRE(into.datagrams.size() == goal);
}

// The kernel's rough charge for a queued datagram (its buffer rounded up to a
// power of two, plus the sk_buff), to keep what is in flight under rcvbuf.
inline std::size_t queue_cost(std::size_t size) { return std::bit_ceil(size + 320) + 512; }

// Sends `payloads` from `from` to `to` and collects them at `at`, in pieces
// small enough for `at`'s receive buffer (one piece on a usual machine).
inline Collected exchange(Peer& from, Peer& at, const udp::endpoint& to, const std::vector<Bytes>& payloads) {
  RecvBatch batch = at.batch_io->make_recv_batch(32, 65536);
  Collected got;
  const std::size_t budget = at.receive_buffer() / 2;
  std::size_t start = 0;
  while (start < payloads.size()) {
    std::vector<OutgoingDatagram> piece;
    std::size_t cost = 0;
    for (std::size_t i = start; i < payloads.size(); ++i) {
      cost += queue_cost(payloads[i].size());
      if (!piece.empty() && cost > budget) break;
      piece.push_back({to, payloads[i]});
    }
    send_all(from, piece);
    receive_n(at, batch, piece.size(), got);
    start += piece.size();
  }
  // Nothing more, in particular no duplicate.
  const auto extra = at.batch_io->receive(batch);
  CHECK(extra.error() == errc::would_block);
  return got;
}

// Datagram `index` of a batch, `size` bytes that differ from every other's.
inline Bytes payload(std::size_t index, std::size_t size, std::uint32_t seed) {
  Bytes b(size);
  for (std::size_t j = 0; j < size; ++j) b[j] = std::byte(static_cast<std::uint8_t>(index * 131 + j * 7 + seed));
  if (size >= 2) {
    b[0] = std::byte(static_cast<std::uint8_t>(index));
    b[1] = std::byte(static_cast<std::uint8_t>(index >> 8));
  }
  return b;
}

inline std::vector<Bytes> sized(const std::vector<std::size_t>& sizes, std::uint32_t seed) {
  std::vector<Bytes> out;
  for (std::size_t i = 0; i < sizes.size(); ++i) out.push_back(payload(i, sizes[i], seed));
  return out;
}

struct Shape {
  std::string name;
  std::vector<std::size_t> sizes;
};

inline std::vector<std::size_t> repeat(std::size_t size, std::size_t count) {
  return std::vector<std::size_t>(count, size);
}

inline std::vector<std::size_t> concat(std::initializer_list<std::vector<std::size_t>> parts) {
  std::vector<std::size_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Mixed sizes from a seeded generator, zero and runs of equal sizes included.
inline std::vector<std::size_t> mixed(std::size_t count, std::uint64_t seed) {
  static constexpr std::size_t kSizes[] = {0, 1, 2, 17, 500, 1199, 1200, 1200, 1200, 1201, 1472, 3000};
  std::vector<std::size_t> out;
  std::uint64_t x = seed;
  while (out.size() < count) {
    x = x * 6364136223846793005u + 1442695040888963407u;  // an LCG is plenty for picking sizes
    const std::size_t size = kSizes[(x >> 33) % std::size(kSizes)];
    const std::size_t run = 1 + (x >> 50) % 8;
    for (std::size_t k = 0; k < run && out.size() < count; ++k) out.push_back(size);
  }
  return out;
}

inline std::vector<Shape> shapes() {
  return {
      {"1 x 1200", repeat(1200, 1)},
      {"2 x 1200", repeat(1200, 2)},
      {"54 x 1200 (one full GSO message)", repeat(1200, 54)},
      {"55 x 1200", repeat(1200, 55)},
      {"64 x 100 (the segment limit)", repeat(100, 64)},
      {"65 x 100", repeat(100, 65)},
      {"200 x 1200", repeat(1200, 200)},
      {"10 x 1200 then 500", concat({repeat(1200, 10), {500}})},
      {"10 x 1200, 500, 10 x 1200", concat({repeat(1200, 10), {500}, repeat(1200, 10)})},
      {"runs with a bigger one after", concat({repeat(700, 5), repeat(900, 5), {0, 0}, repeat(1, 3)})},
      {"3 x 30000 (over 64 KiB together)", repeat(30000, 3)},
      {"7 mixed", mixed(7, 1)},
      {"200 mixed", mixed(200, 2)},
      {"200 mixed, other seed", mixed(200, 3)},
  };
}

inline std::vector<BatchOptions> all_options() {
  std::vector<BatchOptions> out;
  for (const bool mmsg : {true, false}) {
    for (const bool gso : {true, false}) {
      for (const bool gro : {true, false}) out.push_back({.mmsg = mmsg, .gso = gso, .gro = gro});
    }
  }
  return out;
}

inline bool has_ipv6_loopback() {
  ::asio::io_context io;
  udp::socket s(io);
  std::error_code ec;
  s.open(udp::v6(), ec);
  if (!ec) s.bind({::asio::ip::address_v6::loopback(), 0}, ec);
  return !ec;
}

inline std::vector<udp::endpoint> loopbacks() {
  std::vector<udp::endpoint> out{{::asio::ip::address_v4::loopback(), 0}};
  if (has_ipv6_loopback()) {
    out.push_back({::asio::ip::address_v6::loopback(), 0});
  } else {
    WARN("no ::1 on this machine: the IPv6 cases are skipped");
  }
  return out;
}

inline void check_arrived(const Collected& got, const std::vector<Bytes>& sent, const udp::endpoint& sender) {
  REQUIRE(got.datagrams.size() == sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    INFO("datagram " << i << " of " << sent.size());
    CHECK(got.datagrams[i].bytes == sent[i]);
    CHECK(got.datagrams[i].from == sender);
    CHECK_FALSE(got.datagrams[i].truncated);
  }
}

}  // namespace loopback
