// SPDX-License-Identifier: MIT
// The syscalls behind BatchIo. Facts this file relies on, from the Linux man
// pages (sendmmsg(2), recvmmsg(2), udp(7)) and net/ipv4/udp*.c:
// - sendmmsg returns how many messages left; an error on a later message is
//   dropped and shows up again when that message is sent first, so the send
//   loop always retries from the first unsent message.
// - UDP_SEGMENT (level SOL_UDP = IPPROTO_UDP) as a cmsg holds a u16 segment
//   size; the kernel cuts the message's payload every that many bytes, so all
//   datagrams but the last must have that size and the last may be shorter.
//   At most UDP_MAX_SEGMENTS of them, and the whole must fit one IP packet.
// - UDP_GRO set on a socket lets a read return several datagrams back to back;
//   a cmsg (SOL_UDP, UDP_GRO) holding an int gives their size, all but the last
//   equal. A read into too small a buffer loses the rest (MSG_TRUNC).
// - A dual-stack IPv6 socket names IPv4 peers as ::ffff:a.b.c.d, and takes
//   them that way as destinations.
#include "rudp/asio/batch_io.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "rudp/asio/address_conversion.hpp"
#include "rudp/assert.hpp"

namespace rudp::asio {
namespace {

#if defined(__linux__)
constexpr bool kHaveMmsg = true;
using MsgHeader = ::mmsghdr;
#else
constexpr bool kHaveMmsg = false;
// The same two fields as Linux's mmsghdr, so both paths share the code.
struct MsgHeader {
  ::msghdr msg_hdr;
  unsigned int msg_len;
};
#endif

// Messages per sendmmsg call and iovecs across them. The kernel takes up to
// UIO_MAXIOV (1024) of each; 128 messages already cover a 150 KB batch of
// plain 1200-byte datagrams, or more than 6 MB with GSO, in one call.
constexpr std::size_t kMaxSendMessages = 128;
constexpr std::size_t kMaxSendIov = 1024;

// Control space per received message: the GRO cmsg needs CMSG_SPACE(int),
// 24 bytes on LP64; the rest is room for cmsgs a future option may enable.
struct alignas(::cmsghdr) RecvControl {
  unsigned char bytes[64];
};
static_assert(CMSG_SPACE(sizeof(int)) <= sizeof(RecvControl::bytes));

struct alignas(::cmsghdr) GsoControl {
  unsigned char bytes[CMSG_SPACE(sizeof(std::uint16_t))];
};

std::error_code last_error() noexcept { return {errno, std::system_category()}; }

bool is_would_block(int error) noexcept { return error == EAGAIN || error == EWOULDBLOCK; }

// The sender of a received datagram, IPv4-mapped senders as plain IPv4.
::asio::ip::udp::endpoint endpoint_of(const ::sockaddr_storage& name) noexcept {
  if (name.ss_family == AF_INET) {
    ::sockaddr_in sa;
    std::memcpy(&sa, &name, sizeof sa);
    return {::asio::ip::address_v4(ntohl(sa.sin_addr.s_addr)), ntohs(sa.sin_port)};
  }
  if (name.ss_family == AF_INET6) {
    ::sockaddr_in6 sa;
    std::memcpy(&sa, &name, sizeof sa);
    ::asio::ip::address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), &sa.sin6_addr, bytes.size());
    return unmapped({::asio::ip::address_v6(bytes, sa.sin6_scope_id), ntohs(sa.sin6_port)});
  }
  return {};
}

// `to` as a socket address of the socket's family: IPv4 peers IPv4-mapped for
// an IPv6 socket, IPv4-mapped peers plain for an IPv4 one. An IPv6 peer of an
// IPv4 socket has no such address: address_family_not_supported.
bool sockaddr_of(const ::asio::ip::udp::endpoint& to, int family, ::sockaddr_storage& out, ::socklen_t& size,
                 std::error_code& error) noexcept {
  const ::asio::ip::address ip = to.address();
  if (family == AF_INET6) {
    const ::asio::ip::address_v6 v6 =
        ip.is_v4() ? ::asio::ip::make_address_v6(::asio::ip::v4_mapped, ip.to_v4()) : ip.to_v6();
    ::sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(to.port());
    const auto bytes = v6.to_bytes();
    std::memcpy(&sa.sin6_addr, bytes.data(), bytes.size());
    sa.sin6_scope_id = static_cast<std::uint32_t>(v6.scope_id());
    std::memcpy(&out, &sa, sizeof sa);
    size = sizeof sa;
    return true;
  }
  ::asio::ip::address_v4 v4;
  if (ip.is_v4()) {
    v4 = ip.to_v4();
  } else if (ip.to_v6().is_v4_mapped()) {
    v4 = ::asio::ip::make_address_v4(::asio::ip::v4_mapped, ip.to_v6());
  } else {
    error = std::make_error_code(std::errc::address_family_not_supported);
    return false;
  }
  ::sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(to.port());
  sa.sin_addr.s_addr = htonl(v4.to_uint());
  std::memcpy(&out, &sa, sizeof sa);
  size = sizeof sa;
  return true;
}

// The datagram size of a GRO read from its cmsg; 0 when it has none (a read
// of one datagram).
std::size_t gro_segment_size(::msghdr& header) noexcept {
#if defined(UDP_GRO)
  for (::cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
    if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
      int size = 0;
      std::memcpy(&size, CMSG_DATA(c), sizeof size);
      return size > 0 ? static_cast<std::size_t>(size) : 0;
    }
  }
#else
  (void)header;
#endif
  return 0;
}

}  // namespace

// --- RecvBatch ---------------------------------------------------------------

struct RecvBatch::Storage {
  // What one kernel read left: `length` bytes at the read's place in the
  // slab, cut into datagrams of `stride` bytes (the last may be shorter).
  struct Read {
    std::size_t length = 0;
    std::size_t stride = 0;
    ::asio::ip::udp::endpoint from;
    bool truncated = false;
  };

  Storage(std::size_t max_reads, std::size_t size)
      : message_size(size),
        slab(std::make_unique_for_overwrite<std::byte[]>(max_reads * size)),
        headers(max_reads),
        iov(max_reads),
        names(max_reads),
        control(max_reads),
        reads(max_reads) {
    for (std::size_t i = 0; i < max_reads; ++i) {
      iov[i].iov_base = slab.get() + i * size;
      iov[i].iov_len = size;
      ::msghdr& h = headers[i].msg_hdr;
      h.msg_iov = &iov[i];
      h.msg_iovlen = 1;
      h.msg_name = &names[i];
      h.msg_control = control[i].bytes;
    }
  }

  const std::byte* data_of(std::size_t read) const noexcept { return slab.get() + read * message_size; }

  std::size_t message_size;
  std::unique_ptr<std::byte[]> slab;
  std::vector<MsgHeader> headers;
  std::vector<::iovec> iov;
  std::vector<::sockaddr_storage> names;
  std::vector<RecvControl> control;
  std::vector<Read> reads;
  std::size_t read_count = 0;
  std::size_t datagram_count = 0;
};

RecvBatch::RecvBatch(std::size_t messages, std::size_t message_size)
    : storage_(std::make_unique<Storage>(std::max<std::size_t>(messages, 1), message_size)) {}
RecvBatch::RecvBatch(RecvBatch&&) noexcept = default;
RecvBatch& RecvBatch::operator=(RecvBatch&&) noexcept = default;
RecvBatch::~RecvBatch() = default;

std::size_t RecvBatch::size() const noexcept { return storage_->datagram_count; }
std::size_t RecvBatch::reads() const noexcept { return storage_->read_count; }
std::size_t RecvBatch::max_reads() const noexcept { return storage_->reads.size(); }
std::size_t RecvBatch::message_size() const noexcept { return storage_->message_size; }
RecvBatch::Iterator RecvBatch::begin() const noexcept { return {storage_.get(), 0}; }
RecvBatch::Iterator RecvBatch::end() const noexcept { return {storage_.get(), storage_->read_count}; }

RecvBatch::Iterator::Iterator(const Storage* storage, std::size_t read) noexcept : storage_(storage), read_(read) {
  load();
}

void RecvBatch::Iterator::load() noexcept {
  if (read_ >= storage_->read_count) return;
  const Storage::Read& r = storage_->reads[read_];
  const std::size_t size = std::min(r.stride, r.length - offset_);
  current_.bytes = {storage_->data_of(read_) + offset_, size};
  current_.from = r.from;
  current_.truncated = r.truncated && offset_ + size == r.length;
}

RecvBatch::Iterator& RecvBatch::Iterator::operator++() noexcept {
  const std::size_t next = offset_ + current_.bytes.size();
  if (next >= storage_->reads[read_].length) {
    ++read_;
    offset_ = 0;
  } else {
    offset_ = next;
  }
  load();
  return *this;
}

// --- BatchIo -------------------------------------------------------------------

struct BatchIo::SendScratch {
  std::array<MsgHeader, kMaxSendMessages> headers;
  std::array<::iovec, kMaxSendIov> iov;
  std::array<::sockaddr_storage, kMaxSendMessages> names;
  std::array<GsoControl, kMaxSendMessages> control;
  // How many of the caller's datagrams each message carries.
  std::array<std::size_t, kMaxSendMessages> datagrams;
};

BatchIo::BatchIo(::asio::ip::udp::socket& socket, const BatchOptions& options)
    : socket_(&socket),
      family_(AF_INET),
      scratch_(std::make_unique<SendScratch>()),
      mmsg_(kHaveMmsg && options.mmsg),
      gso_(false) {
  RUDP_ASSERT(socket.is_open());
  const int fd = socket.native_handle();
  ::sockaddr_storage local{};
  ::socklen_t local_size = sizeof local;
  if (::getsockname(fd, reinterpret_cast<::sockaddr*>(&local), &local_size) == 0) family_ = local.ss_family;

  // Clearing the default segment size changes nothing on the socket, and
  // fails (ENOPROTOOPT) on kernels without UDP GSO: a harmless probe.
#if defined(UDP_SEGMENT)
  if (options.gso) {
    const int none = 0;
    gso_ = ::setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &none, sizeof none) == 0;
  }
#endif
#if defined(UDP_GRO)
  if (options.gro) {
    const int on = 1;
    gro_ = ::setsockopt(fd, IPPROTO_UDP, UDP_GRO, &on, sizeof on) == 0;
  }
#endif
}

BatchIo::~BatchIo() = default;

BatchFeatures BatchIo::features() const noexcept {
  return {.mmsg = mmsg_.load(std::memory_order_relaxed), .gso = gso_.load(std::memory_order_relaxed), .gro = gro_};
}

RecvBatch BatchIo::make_recv_batch(std::size_t max_reads, std::size_t max_datagram_size) const {
  return {max_reads, gro_ ? std::max(max_datagram_size, kGroMessageSize) : max_datagram_size};
}

int BatchIo::receive_messages(RecvBatch::Storage& storage) noexcept {
  const int fd = socket_->native_handle();
  const std::size_t count = storage.headers.size();
  for (std::size_t i = 0; i < count; ++i) {
    ::msghdr& h = storage.headers[i].msg_hdr;
    h.msg_namelen = sizeof(::sockaddr_storage);
    h.msg_controllen = sizeof(RecvControl::bytes);
    h.msg_flags = 0;
  }
#if defined(__linux__)
  while (mmsg_.load(std::memory_order_relaxed)) {
    const int n = ::recvmmsg(fd, storage.headers.data(), static_cast<unsigned int>(count), MSG_DONTWAIT, nullptr);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno != ENOSYS) return -1;
    mmsg_.store(false, std::memory_order_relaxed);  // filtered out (seccomp) or very old kernel
  }
#endif
  std::size_t got = 0;
  while (got < count) {
    const ::ssize_t n = ::recvmsg(fd, &storage.headers[got].msg_hdr, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      // Like recvmmsg, report what arrived; an error other than would-block
      // comes back on the next call only if the socket still holds it.
      if (got > 0) break;
      return -1;
    }
    storage.headers[got].msg_len = static_cast<unsigned int>(n);
    ++got;
  }
  return static_cast<int>(got);
}

Result<std::size_t> BatchIo::receive(RecvBatch& batch) noexcept {
  RecvBatch::Storage& s = *batch.storage_;
  s.read_count = 0;
  s.datagram_count = 0;
  if (gro_ && s.message_size < kGroMessageSize) return errc::buffer_too_small;

  const int n = receive_messages(s);
  if (n < 0) {
    if (is_would_block(errno)) return errc::would_block;
    return last_error();
  }
  if (n == 0) return errc::would_block;

  for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
    MsgHeader& h = s.headers[i];
    RecvBatch::Storage::Read& r = s.reads[i];
    r.length = h.msg_len;
    const std::size_t gso = gro_ ? gro_segment_size(h.msg_hdr) : 0;
    r.stride = gso != 0 ? gso : r.length;
    r.truncated = (h.msg_hdr.msg_flags & MSG_TRUNC) != 0;
    r.from = endpoint_of(s.names[i]);
    s.datagram_count += r.length == 0 ? 1 : (r.length + r.stride - 1) / r.stride;
  }
  s.read_count = static_cast<std::size_t>(n);
  return s.datagram_count;
}

std::size_t BatchIo::gso_run(std::span<const OutgoingDatagram> datagrams, std::size_t room) const noexcept {
  const OutgoingDatagram& head = datagrams[0];
  const std::size_t segment = head.bytes.size();
  // A zero-size datagram cannot be a segment: the kernel would take size 0 as
  // "no segmentation" and it would vanish from the payload anyway.
  if (segment == 0) return 1;
  std::size_t count = 1;
  std::size_t total = segment;
  const std::size_t limit = std::min({kMaxGsoSegments, room, datagrams.size()});
  while (count < limit) {
    const OutgoingDatagram& next = datagrams[count];
    const std::size_t size = next.bytes.size();
    if (size == 0 || size > segment || total + size > kMaxGsoBytes || next.to != head.to) break;
    total += size;
    ++count;
    if (size < segment) break;  // a shorter datagram can only be the last segment
  }
  return count;
}

std::size_t BatchIo::build_messages(std::span<const OutgoingDatagram> datagrams, std::size_t max_messages,
                                    std::size_t plain, std::error_code& head_error) noexcept {
  SendScratch& s = *scratch_;
  const bool gso = gso_.load(std::memory_order_relaxed);
  std::size_t messages = 0;
  std::size_t iov_used = 0;
  std::size_t next = 0;
  while (next < datagrams.size() && messages < max_messages && iov_used < kMaxSendIov) {
    ::socklen_t name_size = 0;
    std::error_code error;
    if (!sockaddr_of(datagrams[next].to, family_, s.names[messages], name_size, error)) {
      // Send what precedes it; once it is first, the caller gets the error.
      if (messages == 0) head_error = error;
      break;
    }
    const std::size_t count = !gso || next < plain ? 1 : gso_run(datagrams.subspan(next), kMaxSendIov - iov_used);

    for (std::size_t k = 0; k < count; ++k) {
      const std::span<const std::byte> bytes = datagrams[next + k].bytes;
      s.iov[iov_used + k].iov_base = const_cast<std::byte*>(bytes.data());
      s.iov[iov_used + k].iov_len = bytes.size();
    }
    MsgHeader& m = s.headers[messages];
    m.msg_len = 0;
    ::msghdr& h = m.msg_hdr;
    h = {};
    h.msg_name = &s.names[messages];
    h.msg_namelen = name_size;
    h.msg_iov = &s.iov[iov_used];
    h.msg_iovlen = count;
#if defined(UDP_SEGMENT)
    if (count > 1) {
      h.msg_control = s.control[messages].bytes;
      h.msg_controllen = sizeof(GsoControl::bytes);
      ::cmsghdr* c = CMSG_FIRSTHDR(&h);
      c->cmsg_level = IPPROTO_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
      // gso_run keeps at least two datagrams under kMaxGsoBytes, so it fits.
      const auto segment = static_cast<std::uint16_t>(datagrams[next].bytes.size());
      std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
    }
#endif
    s.datagrams[messages] = count;
    ++messages;
    next += count;
    iov_used += count;
  }
  return messages;
}

int BatchIo::send_messages(std::size_t count) noexcept {
  const int fd = socket_->native_handle();
#if defined(__linux__)
  // One message goes alone, which costs the kernel less than a batch of one.
  while (count > 1 && mmsg_.load(std::memory_order_relaxed)) {
    const int n = ::sendmmsg(fd, scratch_->headers.data(), static_cast<unsigned int>(count), MSG_DONTWAIT);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno != ENOSYS) return -1;
    mmsg_.store(false, std::memory_order_relaxed);
  }
#else
  (void)count;
#endif
  // A message of one datagram and no control data goes by sendto, which
  // spares the kernel copying in the message header and its iovec.
  const ::msghdr& h = scratch_->headers[0].msg_hdr;
  const bool plain = h.msg_iovlen == 1 && h.msg_controllen == 0;
  for (;;) {
    const ::ssize_t n = plain ? ::sendto(fd, h.msg_iov[0].iov_base, h.msg_iov[0].iov_len, MSG_DONTWAIT,
                                         static_cast<const ::sockaddr*>(h.msg_name), h.msg_namelen)
                              : ::sendmsg(fd, &h, MSG_DONTWAIT);
    if (n >= 0) return 1;
    if (errno != EINTR) return -1;
  }
}

Result<std::size_t> BatchIo::send(std::span<const OutgoingDatagram> datagrams) noexcept {
  std::size_t sent = 0;
  std::size_t plain_until = 0;  // datagrams before this one go out unsegmented (after EINVAL)
  while (sent < datagrams.size()) {
    const std::size_t max_messages = mmsg_.load(std::memory_order_relaxed) ? kMaxSendMessages : 1;
    const std::size_t plain = plain_until > sent ? plain_until - sent : 0;
    std::error_code head_error;
    const std::size_t messages = build_messages(datagrams.subspan(sent), max_messages, plain, head_error);
    if (messages == 0) {
      if (sent > 0) return sent;
      return head_error;
    }

    const int n = send_messages(messages);
    if (n > 0) {
      for (std::size_t m = 0; m < static_cast<std::size_t>(n); ++m) sent += scratch_->datagrams[m];
      continue;
    }
    const int error = n == 0 ? EAGAIN : errno;
    const bool head_segmented = scratch_->datagrams[0] > 1;
    if (head_segmented && error == EIO) {
      // The route cannot checksum segments (no offload): it never will.
      gso_.store(false, std::memory_order_relaxed);
      continue;
    }
    if (head_segmented && error == EINVAL) {
      plain_until = sent + scratch_->datagrams[0];
      continue;
    }
    if (sent > 0) return sent;
    if (is_would_block(error)) return errc::would_block;
    return std::error_code(error, std::system_category());
  }
  return sent;
}

}  // namespace rudp::asio
