// SPDX-License-Identifier: MIT
// BatchIo over loopback: batches of 1 to 200 datagrams, equal and mixed sizes,
// arrive whole, once, in send order and from the sender, over 127.0.0.1 and ::1,
// with each feature (sendmmsg/recvmmsg, GSO, GRO) on and forced off; a
// dual-stack socket talks to an IPv4 peer; the fallbacks hold. Nothing here
// measures time: a wait for a datagram only guards against a hang.
#include "rudp/asio/batch_io.hpp"

#include <sys/socket.h>

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <catch2/catch.hpp>
#include <cstddef>
#include <span>
#include <vector>

#include "loopback.hpp"
#include "rudp/asio/address_conversion.hpp"

using namespace loopback;
using rudp::Address;

TEST_CASE("Address converts to an endpoint and back", "[asio]") {
  using rudp::asio::to_address;
  using rudp::asio::to_endpoint;
  using rudp::asio::unmapped;

  const udp::endpoint v4(::asio::ip::make_address("192.0.2.7"), 4433);
  CHECK(to_address(v4) == Address::v4({192, 0, 2, 7}, 4433));
  CHECK(to_endpoint(to_address(v4)) == v4);
  CHECK(to_endpoint(Address::v4({10, 1, 2, 3}, 1)) == udp::endpoint(::asio::ip::make_address("10.1.2.3"), 1));

  const udp::endpoint v6(::asio::ip::make_address("2001:db8::1:2"), 65535);
  const Address a6 = to_address(v6);
  CHECK_FALSE(a6.is_v4());
  CHECK(a6.port() == 65535);
  CHECK(a6.bytes() == ::asio::ip::make_address_v6("2001:db8::1:2").to_bytes());
  CHECK(to_endpoint(a6) == v6);

  // A dual-stack socket's view of an IPv4 peer is the same Address, and comes
  // back as plain IPv4.
  const udp::endpoint mapped(::asio::ip::make_address("::ffff:192.0.2.7"), 4433);
  CHECK(to_address(mapped) == to_address(v4));
  CHECK(to_endpoint(to_address(mapped)) == v4);
  CHECK(unmapped(mapped) == v4);
  CHECK(unmapped(v6) == v6);
  CHECK(unmapped(v4) == v4);

  // The unspecified addresses stay apart: 0.0.0.0 is IPv4, :: is not.
  CHECK(to_address(udp::endpoint(udp::v4(), 9)).is_v4());
  CHECK_FALSE(to_address(udp::endpoint(udp::v6(), 9)).is_v4());
  CHECK(to_endpoint(to_address(udp::endpoint(udp::v6(), 9))) == udp::endpoint(udp::v6(), 9));
}

TEST_CASE("receive on an empty socket is would_block, not an error", "[asio]") {
  ::asio::io_context io;
  for (const udp::endpoint& loopback : loopbacks()) {
    for (const BatchOptions& options : all_options()) {
      CAPTURE(loopback, describe(options));
      Peer peer(io, loopback, options);
      RecvBatch batch = peer.batch_io->make_recv_batch(8);
      const auto got = peer.batch_io->receive(batch);
      REQUIRE_FALSE(got);
      CHECK(got.error() == errc::would_block);
      CHECK(batch.empty());
      CHECK(batch.begin() == batch.end());
    }
  }
}

TEST_CASE("this kernel's features are reported", "[asio]") {
  ::asio::io_context io;
  Peer peer(io, {::asio::ip::address_v4::loopback(), 0}, {});
  const BatchFeatures f = peer.batch_io->features();
  // Not a requirement (the fallbacks are tested below), but worth seeing.
  WARN("BatchIo features on this kernel: " << describe(f));
  Peer none(io, {::asio::ip::address_v4::loopback(), 0}, {.mmsg = false, .gso = false, .gro = false});
  CHECK_FALSE(none.batch_io->features().mmsg);
  CHECK_FALSE(none.batch_io->features().gso);
  CHECK_FALSE(none.batch_io->features().gro);
}

TEST_CASE("batches arrive whole, in order, from the sender, whatever the features", "[asio]") {
  ::asio::io_context io;
  for (const udp::endpoint& loopback : loopbacks()) {
    for (const BatchOptions& send_options : all_options()) {
      for (const BatchOptions& receive_options : all_options()) {
        if (receive_options.gso) continue;  // GSO does nothing for a reader
        Peer sender(io, loopback, send_options);
        Peer receiver(io, loopback, receive_options);
        CAPTURE(loopback, describe(sender.batch_io->features()), describe(receiver.batch_io->features()));
        std::uint32_t seed = 0;
        for (const Shape& shape : shapes()) {
          CAPTURE(shape.name);
          const auto sent = sized(shape.sizes, ++seed);
          const Collected got = exchange(sender, receiver, receiver.local(), sent);
          check_arrived(got, sent, sender.local());
        }
      }
    }
  }
}

TEST_CASE("GSO on and forced off give the same datagrams", "[asio]") {
  ::asio::io_context io;
  for (const udp::endpoint& loopback : loopbacks()) {
    CAPTURE(loopback);
    Peer with_gso(io, loopback, {.gso = true});
    Peer without_gso(io, loopback, {.gso = false});
    Peer receiver(io, loopback, {.gro = false});
    if (!with_gso.batch_io->features().gso) WARN("no UDP GSO here: both runs go without it");
    CHECK_FALSE(without_gso.batch_io->features().gso);
    for (const Shape& shape : shapes()) {
      CAPTURE(shape.name);
      const auto sent = sized(shape.sizes, 7);
      Collected a = exchange(with_gso, receiver, receiver.local(), sent);
      Collected b = exchange(without_gso, receiver, receiver.local(), sent);
      REQUIRE(a.datagrams.size() == b.datagrams.size());
      for (std::size_t i = 0; i < a.datagrams.size(); ++i) {
        CHECK(a.datagrams[i].bytes == b.datagrams[i].bytes);
        CHECK(a.datagrams[i].bytes == sent[i]);
      }
    }
  }
}

TEST_CASE("GRO reads are split into the datagrams a reader without GRO sees", "[asio]") {
  ::asio::io_context io;
  for (const udp::endpoint& loopback : loopbacks()) {
    CAPTURE(loopback);
    Peer sender(io, loopback, {.gso = true});
    Peer with_gro(io, loopback, {.gro = true});
    Peer without_gro(io, loopback, {.gro = false});
    const BatchFeatures f = with_gro.batch_io->features();
    if (!f.gro) WARN("no UDP GRO here: both readers go without it");
    bool merged = false;
    for (const Shape& shape : shapes()) {
      CAPTURE(shape.name);
      const auto sent = sized(shape.sizes, 11);
      const Collected a = exchange(sender, with_gro, with_gro.local(), sent);
      const Collected b = exchange(sender, without_gro, without_gro.local(), sent);
      check_arrived(a, sent, sender.local());
      check_arrived(b, sent, sender.local());
      CHECK_FALSE(b.merged);
      merged = merged || a.merged;
    }
    // Over loopback a GSO message reaches a GRO socket in one piece, so the
    // splitting was exercised, not only the reads of one datagram.
    if (f.gro && sender.batch_io->features().gso) CHECK(merged);
  }
}

TEST_CASE("a dual-stack IPv6 socket talks to an IPv4 peer", "[asio]") {
  if (!has_ipv6_loopback()) {
    WARN("no IPv6 on this machine: skipped");
    return;
  }
  ::asio::io_context io;
  for (const BatchOptions& options : {BatchOptions{}, BatchOptions{.mmsg = false, .gso = false, .gro = false}}) {
    CAPTURE(describe(options));
    Peer dual(io, {::asio::ip::address_v6::any(), 0}, options, /*v6_only=*/false);
    Peer v4(io, {::asio::ip::address_v4::loopback(), 0}, options);
    const udp::endpoint dual_at_v4(::asio::ip::address_v4::loopback(), dual.local().port());
    const udp::endpoint v4_mapped(::asio::ip::make_address("::ffff:127.0.0.1"), v4.local().port());

    for (const Shape& shape : shapes()) {
      CAPTURE(shape.name);
      const auto sent = sized(shape.sizes, 5);
      // The IPv4 peer shows up as plain IPv4 at the dual-stack socket...
      check_arrived(exchange(v4, dual, dual_at_v4, sent), sent, v4.local());
      // ...which reaches it under that name, and under the IPv4-mapped one.
      check_arrived(exchange(dual, v4, v4.local(), sent), sent, dual_at_v4);
      check_arrived(exchange(dual, v4, v4_mapped, sent), sent, dual_at_v4);
    }
  }
}

TEST_CASE("an IPv4 socket sends to IPv4-mapped peers and refuses IPv6 ones", "[asio]") {
  ::asio::io_context io;
  Peer sender(io, {::asio::ip::address_v4::loopback(), 0}, {});
  Peer receiver(io, {::asio::ip::address_v4::loopback(), 0}, {});
  const udp::endpoint mapped(::asio::ip::make_address("::ffff:127.0.0.1"), receiver.local().port());
  const udp::endpoint v6(::asio::ip::address_v6::loopback(), receiver.local().port());

  const auto sent = sized(repeat(1200, 6), 3);
  check_arrived(exchange(sender, receiver, mapped, sent), sent, sender.local());

  // The datagrams before the unreachable one leave; then the error is its own.
  const std::vector<OutgoingDatagram> out{{receiver.local(), sent[0]}, {receiver.local(), sent[1]}, {v6, sent[2]}};
  const auto first = sender.batch_io->send(out);
  REQUIRE(first);
  CHECK(*first == 2);
  const auto second = sender.batch_io->send(std::span(out).subspan(2));
  REQUIRE_FALSE(second);
  CHECK(second.error() == std::errc::address_family_not_supported);
  RecvBatch batch = receiver.batch_io->make_recv_batch(8);
  Collected got;
  receive_n(receiver, batch, 2, got);
  CHECK(got.datagrams[0].bytes == sent[0]);
  CHECK(got.datagrams[1].bytes == sent[1]);
}

TEST_CASE("a GSO message the socket refuses (EINVAL) goes out unsegmented", "[asio]") {
  // With UDP checksums off (SO_NO_CHECK) the kernel refuses segmented sends
  // with EINVAL, the same answer as for a segment larger than the route's MTU.
  ::asio::io_context io;
  Peer sender(io, {::asio::ip::address_v4::loopback(), 0}, {.gso = true});
  Peer receiver(io, {::asio::ip::address_v4::loopback(), 0}, {.gro = true});
  if (!sender.batch_io->features().gso) {
    WARN("no UDP GSO here: skipped");
    return;
  }
  const int on = 1;
  REQUIRE(::setsockopt(sender.socket.native_handle(), SOL_SOCKET, SO_NO_CHECK, &on, sizeof on) == 0);
  for (const Shape& shape : shapes()) {
    CAPTURE(shape.name);
    const auto sent = sized(shape.sizes, 13);
    const Collected got = exchange(sender, receiver, receiver.local(), sent);
    check_arrived(got, sent, sender.local());
    CHECK_FALSE(got.merged);  // nothing left segmented
  }
  CHECK(sender.batch_io->features().gso);  // EINVAL is about the message, not the kernel
}

TEST_CASE("a datagram longer than the batch's room is cut and marked", "[asio]") {
  ::asio::io_context io;
  Peer sender(io, {::asio::ip::address_v4::loopback(), 0}, {});
  Peer receiver(io, {::asio::ip::address_v4::loopback(), 0}, {.gro = false});
  const auto sent = sized({300, 100, 99}, 1);
  std::vector<OutgoingDatagram> out;
  for (const Bytes& b : sent) out.push_back({receiver.local(), b});
  send_all(sender, out);

  RecvBatch small(4, 100);
  Collected got;
  receive_n(receiver, small, 3, got);
  CHECK(got.datagrams[0].truncated);
  CHECK(got.datagrams[0].bytes == Bytes(sent[0].begin(), sent[0].begin() + 100));
  CHECK_FALSE(got.datagrams[1].truncated);
  CHECK(got.datagrams[1].bytes == sent[1]);
  CHECK_FALSE(got.datagrams[2].truncated);
  CHECK(got.datagrams[2].bytes == sent[2]);

  Peer gro(io, {::asio::ip::address_v4::loopback(), 0}, {.gro = true});
  if (gro.batch_io->features().gro) {
    // A GRO read may be 64 KiB long; a smaller room would lose datagrams.
    const auto refused = gro.batch_io->receive(small);
    CHECK(refused.error() == errc::buffer_too_small);
    CHECK(gro.batch_io->make_recv_batch(4, 100).message_size() == BatchIo::kGroMessageSize);
  }
}
