// SPDX-License-Identifier: MIT
// BatchIo's fallbacks for errors this kernel does not produce on loopback:
// EIO from a segmented send (older kernels give it for routes without
// checksum offload; 6.18 checksums the segments in software), ENOSYS from sendmmsg/recvmmsg (seccomp filters, very old
// kernels), EINTR, and a send buffer that fills part-way through a batch.
// This executable defines sendmmsg, sendmsg and recvmmsg itself, so the calls
// BatchIo makes land here first (ELF symbol interposition) and reach libc's
// through dlsym(RTLD_NEXT) unless a fault is armed. It is its own executable
// so that no other test runs with these in place.
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "loopback.hpp"

using namespace loopback;

namespace fault {

bool eio_on_segmented = false;  // a message with UDP_SEGMENT fails with EIO
bool enosys = false;            // sendmmsg and recvmmsg fail with ENOSYS
int eintr = 0;                  // this many calls fail with EINTR first
bool one_then_eagain = false;   // the next sendmmsg sends one message, the one after fails with EAGAIN
bool eagain_next = false;
int injected = 0;  // faults delivered

void reset() {
  eio_on_segmented = enosys = one_then_eagain = eagain_next = false;
  eintr = injected = 0;
}

bool segmented(const ::msghdr& h) {
  for (const ::cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr;
       c = CMSG_NXTHDR(const_cast<::msghdr*>(&h), const_cast<::cmsghdr*>(c))) {
    if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_SEGMENT) return true;
  }
  return false;
}

int fail(int error) {
  ++injected;
  errno = error;
  return -1;
}

template <class Fn>
Fn next(const char* name) {
  void* symbol = ::dlsym(RTLD_NEXT, name);
  REQUIRE(symbol != nullptr);
  Fn fn;
  std::memcpy(&fn, &symbol, sizeof fn);
  return fn;
}

}  // namespace fault

extern "C" int sendmmsg(int fd, ::mmsghdr* messages, unsigned int count, int flags) {
  using Fn = int (*)(int, ::mmsghdr*, unsigned int, int);
  static const Fn real = fault::next<Fn>("sendmmsg");
  if (fault::enosys) return fault::fail(ENOSYS);
  if (fault::eintr > 0) {
    --fault::eintr;
    return fault::fail(EINTR);
  }
  if (fault::eagain_next) {
    fault::eagain_next = false;
    return fault::fail(EAGAIN);
  }
  if (fault::one_then_eagain) {
    fault::one_then_eagain = false;
    fault::eagain_next = true;
    count = std::min(count, 1u);
  }
  if (fault::eio_on_segmented) {
    // As the kernel does: the messages before the failing one leave, and the
    // error comes back when the failing one is first.
    for (unsigned int i = 0; i < count; ++i) {
      if (!fault::segmented(messages[i].msg_hdr)) continue;
      if (i == 0) return fault::fail(EIO);
      count = i;
      break;
    }
  }
  return real(fd, messages, count, flags);
}

extern "C" ::ssize_t sendmsg(int fd, const ::msghdr* message, int flags) {
  using Fn = ::ssize_t (*)(int, const ::msghdr*, int);
  static const Fn real = fault::next<Fn>("sendmsg");
  if (fault::eintr > 0) {
    --fault::eintr;
    return fault::fail(EINTR);
  }
  if (fault::eio_on_segmented && fault::segmented(*message)) return fault::fail(EIO);
  return real(fd, message, flags);
}

extern "C" int recvmmsg(int fd, ::mmsghdr* messages, unsigned int count, int flags, ::timespec* timeout) {
  using Fn = int (*)(int, ::mmsghdr*, unsigned int, int, ::timespec*);
  static const Fn real = fault::next<Fn>("recvmmsg");
  if (fault::enosys) return fault::fail(ENOSYS);
  if (fault::eintr > 0) {
    --fault::eintr;
    return fault::fail(EINTR);
  }
  return real(fd, messages, count, flags, timeout);
}

namespace {

const udp::endpoint kLoopback{::asio::ip::address_v4::loopback(), 0};

}  // namespace

TEST_CASE("a segmented send refused with EIO turns GSO off and goes again without it", "[asio]") {
  ::asio::io_context io;
  for (const bool mmsg : {true, false}) {
    for (const Shape& shape : shapes()) {
      CAPTURE(mmsg, shape.name);
      fault::reset();
      Peer sender(io, kLoopback, {.mmsg = mmsg, .gso = true});
      Peer receiver(io, kLoopback, {.gro = true});
      if (!sender.batch_io->features().gso) {
        WARN("no UDP GSO here: skipped");
        return;
      }
      fault::eio_on_segmented = true;
      const auto sent = sized(shape.sizes, 17);
      const Collected got = exchange(sender, receiver, receiver.local(), sent);
      check_arrived(got, sent, sender.local());
      CHECK_FALSE(got.merged);
      // A shape with no run of equal sizes never tries GSO, so never fails.
      CHECK(sender.batch_io->features().gso == (fault::injected == 0));
      CHECK(fault::injected <= 1);
    }
  }
  fault::reset();
}

TEST_CASE("sendmmsg and recvmmsg refused with ENOSYS fall back to one message per call", "[asio]") {
  ::asio::io_context io;
  for (const BatchOptions& options : {BatchOptions{.gso = false, .gro = false}, BatchOptions{}}) {
    CAPTURE(describe(options));
    fault::reset();
    Peer sender(io, kLoopback, options);
    Peer receiver(io, kLoopback, options);
    fault::enosys = true;
    for (const Shape& shape : shapes()) {
      CAPTURE(shape.name);
      const auto sent = sized(shape.sizes, 19);
      check_arrived(exchange(sender, receiver, receiver.local(), sent), sent, sender.local());
    }
    CHECK(fault::injected == 2);  // once each: the fallback sticks
    CHECK_FALSE(sender.batch_io->features().mmsg);
    CHECK_FALSE(receiver.batch_io->features().mmsg);
    CHECK(sender.batch_io->features().gso == options.gso);
  }
  fault::reset();
}

TEST_CASE("EINTR is retried, not reported", "[asio]") {
  ::asio::io_context io;
  for (const bool mmsg : {true, false}) {
    CAPTURE(mmsg);
    fault::reset();
    Peer sender(io, kLoopback, {.mmsg = mmsg});
    Peer receiver(io, kLoopback, {});
    const auto sent = sized(mixed(50, 4), 23);
    fault::eintr = 3;
    check_arrived(exchange(sender, receiver, receiver.local(), sent), sent, sender.local());
    CHECK(fault::injected == 3);
  }
  fault::reset();
}

TEST_CASE("a send buffer that fills part-way counts what left and a full one is would_block", "[asio]") {
  ::asio::io_context io;
  fault::reset();
  Peer sender(io, kLoopback, {.gso = false});
  Peer receiver(io, kLoopback, {});
  const auto sent = sized({100, 200, 300}, 29);
  std::vector<OutgoingDatagram> out;
  for (const Bytes& b : sent) out.push_back({receiver.local(), b});
  const std::span<const OutgoingDatagram> all(out);

  // One message leaves, the next sendmmsg meets a full buffer: the call
  // reports the one.
  fault::one_then_eagain = true;
  const auto first = sender.batch_io->send(all);
  REQUIRE(first);
  CHECK(*first == 1);
  CHECK(fault::injected == 1);
  // Full from the start: nothing left, and that is would_block, not an error.
  fault::eagain_next = true;
  const auto blocked = sender.batch_io->send(all.subspan(1));
  CHECK(blocked.error() == errc::would_block);
  const auto rest = sender.batch_io->send(all.subspan(1));
  REQUIRE(rest);
  CHECK(*rest == 2);

  RecvBatch batch = receiver.batch_io->make_recv_batch(8);
  Collected got;
  receive_n(receiver, batch, 3, got);
  check_arrived(got, sent, sender.local());
  fault::reset();
}
