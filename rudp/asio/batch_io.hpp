// SPDX-License-Identifier: MIT
// Batched UDP I/O on a socket that asio opened, for the runtime to sit on:
// receives fill a caller-owned RecvBatch with one recvmmsg(2) (and, with UDP
// GRO, kernel reads that each carry several equal-size datagrams, split here
// into separate ones); sends go out with as few sendmmsg(2) calls as the batch
// allows (and, with UDP GSO, runs of equal-size datagrams to one destination
// leave as one segmented message, UDP_SEGMENT). Every feature is probed and
// falls back on its own: without GSO or GRO datagrams travel one per message,
// without the mmsg calls one message per sendmsg(2) or recvmsg(2). IPv4 and
// IPv6 sockets both work, and a dual-stack IPv6 socket (IPV6_V6ONLY off)
// talks to IPv4 peers, whom it reports as plain IPv4 endpoints. Calls never
// block (MSG_DONTWAIT): the socket's own blocking mode is left as it is.
#pragma once

#include <asio/ip/udp.hpp>

#include <atomic>
#include <cstddef>
#include <iterator>
#include <memory>
#include <span>

#include <rudp/result.hpp>

namespace rudp::asio {

/// What a BatchIo may try. Each feature asked for is still probed, and stays
/// off when the kernel or the socket refuses it.
struct BatchOptions {
  /// sendmmsg/recvmmsg; false: one sendmsg/recvmsg per message.
  bool mmsg = true;
  /// UDP generic segmentation offload (Linux 4.18): several datagrams per send.
  bool gso = true;
  /// UDP generic receive offload (Linux 5.0): several datagrams per read.
  bool gro = true;
};

/// What a BatchIo uses now. `gro` is fixed at construction; `gso` and `mmsg`
/// may turn off later, when a send finds the kernel or the route without them.
struct BatchFeatures {
  bool mmsg = false;
  bool gso = false;
  bool gro = false;
};

/// A datagram to send: `bytes` to `to`, which may be IPv4 or IPv6 (IPv4 peers
/// of a dual-stack socket may be given either way).
struct OutgoingDatagram {
  ::asio::ip::udp::endpoint to;
  std::span<const std::byte> bytes;
};

/// A datagram received into a RecvBatch. `bytes` points into the batch and
/// stays valid until the batch is next received into or destroyed.
struct ReceivedDatagram {
  std::span<const std::byte> bytes;
  /// The sender; IPv4 peers of a dual-stack socket appear as plain IPv4.
  ::asio::ip::udp::endpoint from;
  /// The datagram was longer than the room the batch had for it and was cut
  /// to `bytes`; the rest is lost.
  bool truncated = false;
};

/// Caller-owned storage for BatchIo::receive(): room for `messages` kernel
/// reads of up to `message_size` bytes each, the addresses they came from,
/// and the datagrams of the last receive. Without GRO each read is one
/// datagram; with GRO a read may hold many (up to 64 KiB together), which is
/// why a GRO socket needs BatchIo::kGroMessageSize bytes per message: make the
/// batch with BatchIo::make_recv_batch(). Allocates only when constructed;
/// a moved-from batch may only be assigned to or destroyed.
class RecvBatch {
 public:
  class Iterator;

  /// Room for `messages` (at least 1) reads of `message_size` bytes each.
  RecvBatch(std::size_t messages, std::size_t message_size);
  RecvBatch(RecvBatch&&) noexcept;
  RecvBatch& operator=(RecvBatch&&) noexcept;
  ~RecvBatch();

  /// Datagrams that the last receive() left in the batch.
  std::size_t size() const noexcept;
  bool empty() const noexcept { return size() == 0; }
  /// Kernel reads they came in: size() without GRO, fewer when GRO merged some.
  std::size_t reads() const noexcept;
  /// Most reads one receive() takes.
  std::size_t max_reads() const noexcept;
  /// Bytes of room per read.
  std::size_t message_size() const noexcept;

  /// The datagrams in arrival order (datagrams of one read in the order they
  /// were sent). Iterators are invalidated by the next receive().
  Iterator begin() const noexcept;
  Iterator end() const noexcept;

 private:
  friend class BatchIo;
  struct Storage;
  std::unique_ptr<Storage> storage_;
};

/// Walks a RecvBatch's reads and, within each, its datagrams.
class RecvBatch::Iterator {
 public:
  using iterator_concept = std::forward_iterator_tag;
  using iterator_category = std::input_iterator_tag;
  using value_type = ReceivedDatagram;
  using difference_type = std::ptrdiff_t;

  Iterator() = default;
  const ReceivedDatagram& operator*() const noexcept { return current_; }
  const ReceivedDatagram* operator->() const noexcept { return &current_; }
  Iterator& operator++() noexcept;
  Iterator operator++(int) noexcept {
    Iterator before = *this;
    ++*this;
    return before;
  }
  friend bool operator==(const Iterator& a, const Iterator& b) noexcept {
    return a.read_ == b.read_ && a.offset_ == b.offset_;
  }

 private:
  friend class RecvBatch;
  Iterator(const Storage* storage, std::size_t read) noexcept;
  void load() noexcept;

  const Storage* storage_ = nullptr;
  std::size_t read_ = 0;    // index of the current kernel read
  std::size_t offset_ = 0;  // where the current datagram starts within it
  ReceivedDatagram current_;
};

/// Batched, non-blocking sends and receives on an open UDP socket. Read the
/// socket only through this object once it is made: with GRO on, a plain
/// receive_from() would return several datagrams glued together.
///
/// Threads: receive() and send() may run at the same time on two threads;
/// two send() calls may not (they share scratch space); features() may be
/// called from anywhere.
class BatchIo {
 public:
  /// Most datagrams one GSO message carries: the kernel's UDP_MAX_SEGMENTS,
  /// 64 since UDP GSO came in (recent kernels, such as 6.18, allow 128).
  static constexpr std::size_t kMaxGsoSegments = 64;
  /// Most bytes one GSO message carries: the largest IPv4 UDP payload.
  static constexpr std::size_t kMaxGsoBytes = 65507;
  /// Room per read that a GRO socket needs: a merged read may be a whole
  /// 64 KiB IP packet's payload.
  static constexpr std::size_t kGroMessageSize = 65536;

  /// Wraps `socket`, which must be open and must outlive this object, and
  /// probes the features `options` asks for: GSO by clearing the socket's
  /// default UDP_SEGMENT (which succeeds only where the kernel has it), GRO by
  /// setting UDP_GRO. A refused probe (ENOPROTOOPT, EINVAL, ...) leaves the
  /// feature off; it is never an error.
  explicit BatchIo(::asio::ip::udp::socket& socket, const BatchOptions& options = {});
  BatchIo(const BatchIo&) = delete;
  BatchIo& operator=(const BatchIo&) = delete;
  ~BatchIo();

  /// The features in use now (see BatchFeatures for which may change).
  BatchFeatures features() const noexcept;

  /// A batch that receive() accepts: `max_reads` reads of `max_datagram_size`
  /// bytes each, or of kGroMessageSize bytes each when GRO is on.
  RecvBatch make_recv_batch(std::size_t max_reads, std::size_t max_datagram_size = 2048) const;

  /// Replaces `batch`'s contents with the datagrams waiting on the socket,
  /// up to batch.max_reads() kernel reads, and returns how many datagrams
  /// that is (at least 1). Errors: rudp::errc::would_block when none is
  /// waiting (the batch is then empty); rudp::errc::buffer_too_small when GRO
  /// is on and the batch has less than kGroMessageSize bytes per read; a
  /// system error (std::system_category) the socket reported, such as
  /// ECONNREFUSED after an ICMP port unreachable on a connected socket, which
  /// the caller may log and then call again.
  Result<std::size_t> receive(RecvBatch& batch) noexcept;

  /// Sends `datagrams` in order, merging what it can into few syscalls, and
  /// returns how many from the front left (at least 1). Fewer than all means
  /// the rest met a full send buffer or an error: call again with the rest.
  /// Errors, only when not even the first datagram left:
  /// rudp::errc::would_block when the send buffer is full (wait until the
  /// socket is writable); otherwise a system error about that first datagram
  /// (EMSGSIZE, EAFNOSUPPORT for an IPv6 peer of an IPv4 socket, ...), which
  /// the caller should drop before sending the rest.
  ///
  /// A GSO message refused with EIO (a route without checksum offload, on
  /// kernels that do not checksum segments in software) turns GSO off for
  /// good; one refused with EINVAL (a segment too large for the route's MTU,
  /// or a socket with UDP checksums off) goes out unsegmented. Either way the
  /// datagrams are sent again without GSO before returning.
  Result<std::size_t> send(std::span<const OutgoingDatagram> datagrams) noexcept;

  /// The socket this object sends and receives on.
  ::asio::ip::udp::socket& socket() const noexcept { return *socket_; }

 private:
  struct SendScratch;

  std::size_t build_messages(std::span<const OutgoingDatagram> datagrams, std::size_t max_messages, std::size_t plain,
                             std::error_code& head_error) noexcept;
  std::size_t gso_run(std::span<const OutgoingDatagram> datagrams, std::size_t room) const noexcept;
  int send_messages(std::size_t count) noexcept;
  int receive_messages(RecvBatch::Storage& storage) noexcept;

  ::asio::ip::udp::socket* socket_;
  int family_;  // AF_INET or AF_INET6, of the socket
  std::unique_ptr<SendScratch> scratch_;
  std::atomic<bool> mmsg_;
  std::atomic<bool> gso_;
  bool gro_ = false;
};

}  // namespace rudp::asio
