// SPDX-License-Identifier: MIT
// rudp on real UDP with standalone asio: an endpoint owns one UDP socket and
// drives the sans-IO core with it (datagrams in, datagrams out, one timer
// re-armed from next_timeout()), and offers the core's commands as
// asynchronous operations in asio's conventions. Each takes a completion
// token, so callbacks, asio::use_future and C++20 coroutines
// (asio::use_awaitable) all work; errors are std::error_code of the "rudp"
// category (or the system's, for socket failures).
//
// Cancellation: an accept, a receive or a send that is waiting (for a peer,
// a message, room in the send buffer) ends with operation_aborted when the
// cancellation slot bound to its handler is signalled, of any type: it has
// taken nothing, so the next operation gets what it would have (a receive
// raced against a timer with asio's awaitable operators loses no message).
// Connect and close ignore cancellation: a connect ends at the handshake
// timeout, and core().abort() ends a connection at once.
//
// Threads: an endpoint lives on one executor and is not thread-safe; call it
// from that executor only (run its io_context on one thread, or give it a
// strand), and signal cancellations from there too. To use several cores,
// open several endpoints on one port with SO_REUSEPORT
// (SocketOptions::reuse_port), each with its own connections: the kernel
// spreads peers over them by address.
//
// This is the only public header that includes asio; link rudp::asio.
#pragma once

#include <asio.hpp>

#include <chrono>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "rudp/endpoint.hpp"

namespace rudp::asio {

/// A UDP endpoint as asio names it.
using UdpEndpoint = ::asio::ip::udp::endpoint;

/// How the socket is opened.
struct SocketOptions {
  /// Let other endpoints bind the same port (SO_REUSEPORT), to spread peers over threads.
  bool reuse_port = false;
  /// An IPv6 socket also serves IPv4 peers (IPV6_V6ONLY off).
  bool dual_stack = true;
  /// Kernel receive and send buffer sizes asked for (SO_RCVBUF, SO_SNDBUF),
  /// in bytes; the kernel caps them at net.core.rmem_max / wmem_max. A burst
  /// of datagrams beyond the receive buffer is dropped before rudp sees it
  /// (each small datagram takes a few KiB of it). 0 keeps the system's default.
  std::size_t receive_buffer = 4u << 20;
  std::size_t send_buffer = 4u << 20;
};

/// What an endpoint's socket did: batches sent and received (one sendmmsg
/// or recvmmsg each, unless a fallback split one) and the datagrams in them
/// (each datagram of a segmented send or a GRO read counts).
struct IoStats {
  std::uint64_t send_batches = 0;
  std::uint64_t datagrams_sent = 0;
  std::uint64_t receive_batches = 0;  ///< those that returned datagrams
  std::uint64_t datagrams_received = 0;
};

class BatchIo;
class RecvBatch;
struct OutgoingDatagram;
class Endpoint;

namespace detail {

// How many completions an endpoint posted whose handlers have not run yet.
using CompletionCount = std::shared_ptr<std::atomic<std::uint32_t>>;

// A finished operation's completion handler and its result, type-erased;
// run once, through the handler's associated executor, never inside the
// call that started the operation. It lives in memory from the handler's
// associated allocator (asio's recycling allocator when the handler names
// none), and each of post(), dispatch() and destroy() ends its life: as asio
// requires of its own operations, the memory is given back before the
// handler runs, so the operation the handler starts can reuse it.
class Completion {
 public:
  /// Posts the handler; counted in the endpoint's CompletionCount until it runs.
  virtual void post() = 0;
  /// Runs the handler at once when its executor is the one running (the
  /// endpoint's, from one of the endpoint's own handlers), else posts it.
  virtual void dispatch() = 0;
  /// Frees the completion without running the handler.
  virtual void destroy() noexcept = 0;

  /// Where the operation waits, for a cancellation to find it there; none
  /// before it waits and once it has finished (a cancellation then does nothing).
  enum class Queue : std::uint8_t { none, accept, send, receive };
  Queue queue = Queue::none;
  ConnectionHandle connection{};  ///< of a waiting send or receive
  Endpoint* owner = nullptr;      ///< the endpoint it waits in

 protected:
  ~Completion() = default;
};

// Takes a waiting operation out of its endpoint's queue and completes it
// with operation_aborted (a cancellation signal reached it).
void cancel_waiting(Endpoint& endpoint, Completion& op);

struct DestroyCompletion {
  void operator()(Completion* c) const noexcept { c->destroy(); }
};

template <class C>
using CompletionPtr = std::unique_ptr<C, DestroyCompletion>;

// A pending operation: the result is set when it finishes.
template <class T>
class Pending : public Completion {
 public:
  void set_result(std::error_code ec, T value) {
    ec_ = ec;
    value_ = std::move(value);
  }

 protected:
  ~Pending() = default;

  std::error_code ec_;
  T value_{};
};

template <class T, class Handler, class Executor>
class PendingOf final : public Pending<T> {
 public:
  using HandlerExecutor = ::asio::associated_executor_t<Handler, Executor>;
  using Allocator = typename std::allocator_traits<
      ::asio::associated_allocator_t<Handler, ::asio::recycling_allocator<void>>>::template rebind_alloc<PendingOf>;

  static PendingOf* create(Handler handler, const Executor& own, CompletionCount queued) {
    Allocator from(::asio::get_associated_allocator(handler, ::asio::recycling_allocator<void>()));
    PendingOf* p = std::allocator_traits<Allocator>::allocate(from, 1);
    try {
      return ::new (static_cast<void*>(p)) PendingOf(std::move(handler), own, std::move(queued));
    } catch (...) {
      std::allocator_traits<Allocator>::deallocate(from, p, 1);
      throw;
    }
  }

  void post() override {
    Taken t = release();
    t.queued->fetch_add(1, std::memory_order_relaxed);
    ::asio::post(t.executor, [handler = std::move(t.handler), ec = t.ec, value = std::move(t.value),
                              queued = std::move(t.queued)]() mutable {
      queued->fetch_sub(1, std::memory_order_relaxed);
      std::move(handler)(ec, std::move(value));
    });
  }
  void dispatch() override {
    Taken t = release();
    // Called from one of the endpoint's own handlers: on its executor, the
    // handler runs here, as asio::dispatch would run it, without the trip
    // through the type-erased executor; an exception it throws leaves to the
    // caller, who passes it on to run() (see Endpoint::handle).
    if (!t.work) {
      std::move(t.handler)(t.ec, std::move(t.value));
      return;
    }
    ::asio::dispatch(t.executor, [handler = std::move(t.handler), ec = t.ec, value = std::move(t.value)]() mutable {
      std::move(handler)(ec, std::move(value));
    });
  }
  void destroy() noexcept override { free(allocator()); }

 private:
  using WorkGuard = ::asio::executor_work_guard<HandlerExecutor>;

  using Slot = ::asio::associated_cancellation_slot_t<Handler>;

  // Installed in the handler's cancellation slot: a signal emitted while the
  // operation waits (any type: a waiting operation has taken nothing yet)
  // completes it with operation_aborted.
  struct Canceller {
    PendingOf* op;
    void operator()(::asio::cancellation_type_t type) const {
      if (type != ::asio::cancellation_type::none && op->queue != Completion::Queue::none) {
        cancel_waiting(*op->owner, *op);
      }
    }
  };

  PendingOf(Handler handler, const Executor& own, CompletionCount queued)
      : handler_(std::move(handler)),
        executor_(::asio::get_associated_executor(handler_, own)),
        slot_(::asio::get_associated_cancellation_slot(handler_)),
        queued_(std::move(queued)) {
    // The endpoint's socket always has a wait pending on its own executor,
    // which keeps that one's io_context running: only another needs work.
    if (!is_own(executor_, own)) work_.emplace(executor_);
    if (slot_.is_connected()) slot_.template emplace<Canceller>(this);
  }
  ~PendingOf() {
    if (slot_.is_connected()) slot_.clear();
  }

  // What the handler needs to run, taken out before the memory is freed; the
  // work guard (empty for the endpoint's own executor) is released after.
  struct Taken {
    Handler handler;
    HandlerExecutor executor;
    std::error_code ec;
    T value;
    std::optional<WorkGuard> work;
    CompletionCount queued;
  };
  Taken release() {
    Allocator from = allocator();  // before the handler it comes with is moved out
    Taken taken{std::move(handler_), executor_, this->ec_, std::move(this->value_), std::move(work_),
                std::move(queued_)};
    free(from);
    return taken;
  }

  Allocator allocator() const noexcept {
    return Allocator(::asio::get_associated_allocator(handler_, ::asio::recycling_allocator<void>()));
  }
  void free(Allocator from) noexcept {
    this->~PendingOf();
    std::allocator_traits<Allocator>::deallocate(from, this, 1);
  }

  static bool is_own(const HandlerExecutor& executor, const Executor& own) noexcept {
    if constexpr (std::is_same_v<HandlerExecutor, Executor>) {
      return executor == own;
    } else {
      return false;
    }
  }

  Handler handler_;
  HandlerExecutor executor_;
  Slot slot_;
  std::optional<WorkGuard> work_;
  CompletionCount queued_;
};

}  // namespace detail

class Endpoint {
 public:
  using executor_type = ::asio::any_io_executor;

  /// Opens a UDP socket bound to `local` on `executor` and starts driving a
  /// core endpoint made from `config`. Errors: the core's invalid_config,
  /// or the socket's own (address in use...).
  static Result<std::unique_ptr<Endpoint>> open(const executor_type& executor, const UdpEndpoint& local,
                                                const EndpointConfig& config, const SocketOptions& options = {});

  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;
  /// Closes the socket; operations still pending complete with operation_aborted.
  ~Endpoint();

  executor_type get_executor() const noexcept { return executor_; }
  /// The core's clock: the time since the endpoint opened, from
  /// std::chrono::steady_clock. SendOptions::deadline is on this clock.
  Instant now() const noexcept;
  /// The address the socket is bound to (with the port the system chose for port 0).
  UdpEndpoint local_endpoint() const;

  /// Connects to `peer`; completes with the connection's handle once the
  /// handshake is done, or with std::errc::timed_out after
  /// config.handshake_timeout. Signature: void(std::error_code, ConnectionHandle).
  template <class Token>
  auto async_connect(const UdpEndpoint& peer, const ConnectionConfig& config, Token&& token) {
    return ::asio::async_initiate<Token, void(std::error_code, ConnectionHandle)>(
        [this](auto handler, const UdpEndpoint& to, const ConnectionConfig& c) {
          start_connect(make_pending<ConnectionHandle>(std::move(handler)), to, c);
        },
        token, peer, config);
  }

  /// Completes with the next connection a peer opens (listening starts with
  /// the first call). Cancellable while it waits. Signature:
  /// void(std::error_code, ConnectionHandle).
  template <class Token>
  auto async_accept(Token&& token) {
    return ::asio::async_initiate<Token, void(std::error_code, ConnectionHandle)>(
        [this](auto handler) { start_accept(make_pending<ConnectionHandle>(std::move(handler))); }, token);
  }

  /// Queues `message` (copied) on `connection` with `options`; completes once
  /// the connection took it, waiting for room in its send buffer when it is
  /// full (cancellable while it waits: the message is then not sent).
  /// Signature: void(std::error_code, std::size_t bytes).
  template <class Token>
  auto async_send(ConnectionHandle connection, std::span<const std::byte> message, const SendOptions& options,
                  Token&& token) {
    return ::asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, ConnectionHandle c, std::span<const std::byte> m, const SendOptions& o) {
          start_send(make_pending<std::size_t>(std::move(handler)), c, m, o);
        },
        token, connection, message, options);
  }

  /// Reads the next message of any channel into `buffer`, waiting for one;
  /// `info` (optional) is set to its channel and mode. Errors: end_of_stream
  /// once the peer finished and everything was read, buffer_too_small
  /// (the message stays), connection_closed, operation_aborted when
  /// cancelled while it waits (no message taken). Signature:
  /// void(std::error_code, std::size_t bytes).
  template <class Token>
  auto async_receive(ConnectionHandle connection, std::span<std::byte> buffer, MessageInfo* info, Token&& token) {
    return ::asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, ConnectionHandle c, std::span<std::byte> b, MessageInfo* i) {
          start_receive(make_pending<std::size_t>(std::move(handler)), c, b, i);
        },
        token, connection, buffer, info);
  }

  /// Closes this side gracefully and completes when the connection has
  /// closed (both directions done, or ended otherwise). Signature:
  /// void(std::error_code, CloseReason).
  template <class Token>
  auto async_close(ConnectionHandle connection, Token&& token) {
    return ::asio::async_initiate<Token, void(std::error_code, CloseReason)>(
        [this](auto handler, ConnectionHandle c) { start_close(make_pending<CloseReason>(std::move(handler)), c); },
        token, connection);
  }

  /// The core endpoint, for what has no asynchronous form (stats,
  /// configure_channel, set_config, abort). Call drive() after changing it.
  rudp::Endpoint& core() noexcept { return core_; }
  /// Sends what the core has to send and re-arms the timer, now. The
  /// asynchronous operations see to it themselves: each posts one drive()
  /// (one for all the operations started before it runs), so what they queue
  /// leaves together, after the completion handlers already queued have run.
  /// Operations that complete on the socket's or the timer's account have
  /// their handlers run by the endpoint's own handler, before it sends (see
  /// endpoint.cpp), so replies they make leave with it.
  void drive();
  /// The socket's batches and datagrams so far.
  const IoStats& io_stats() const noexcept { return io_stats_; }

 private:
  template <class T>
  using PendingPtr = detail::CompletionPtr<detail::Pending<T>>;

  template <class T, class Handler>
  PendingPtr<T> make_pending(Handler handler) {
    return PendingPtr<T>(
        detail::PendingOf<T, Handler, executor_type>::create(std::move(handler), executor_, completions_queued_));
  }

  struct SendWait {
    PendingPtr<std::size_t> op;
    std::vector<std::byte> message;
    SendOptions options;
  };
  struct ReceiveWait {
    PendingPtr<std::size_t> op;
    std::span<std::byte> buffer;
    MessageInfo* info = nullptr;
  };
  struct ConnectionOps {
    PendingPtr<ConnectionHandle> connect;
    std::deque<SendWait> sends;
    std::deque<ReceiveWait> receives;
    PendingPtr<CloseReason> close;
  };

  Endpoint(const executor_type& executor, ::asio::ip::udp::socket socket, rudp::Endpoint core);

  void start_connect(PendingPtr<ConnectionHandle> op, const UdpEndpoint& to, const ConnectionConfig& config);
  void start_accept(PendingPtr<ConnectionHandle> op);
  void start_send(PendingPtr<std::size_t> op, ConnectionHandle c, std::span<const std::byte> m, const SendOptions& o);
  void start_receive(PendingPtr<std::size_t> op, ConnectionHandle c, std::span<std::byte> b, MessageInfo* info);
  void start_close(PendingPtr<CloseReason> op, ConnectionHandle c);
  void wait_in(detail::Completion& op, detail::Completion::Queue queue, ConnectionHandle c) noexcept;
  void cancel(detail::Completion& op);
  friend void detail::cancel_waiting(Endpoint& endpoint, detail::Completion& op);

  template <class T>
  void finish(PendingPtr<T> op, std::error_code ec, T value);
  template <class Body>
  void handle(const std::shared_ptr<bool>& alive, Body&& body);

  void wait_readable();
  void read_datagrams();
  void schedule_drive();  // drive() once the handlers queued now, and those they queue, have run
  void flush();
  void arm_timer();
  bool dispatch_events();  // false when the core had no event
  void try_sends(ConnectionHandle c, ConnectionOps& ops);
  void try_receives(ConnectionHandle c, ConnectionOps& ops);
  void fail_all(ConnectionOps& ops, std::error_code ec);
  void prune(ConnectionHandle c);

  executor_type executor_;
  ::asio::ip::udp::socket socket_;
  ::asio::steady_timer timer_;
  bool timer_armed_ = false;                        // a wait on timer_ is pending
  std::chrono::steady_clock::time_point timer_at_;  // when it fires
  rudp::Endpoint core_;
  std::chrono::steady_clock::time_point epoch_;
  std::unique_ptr<BatchIo> io_;
  std::unique_ptr<RecvBatch> rx_;
  std::vector<std::byte> tx_;                // the datagrams of outgoing_, one after another
  std::size_t tx_used_ = 0;
  std::vector<OutgoingDatagram> outgoing_;  // polled from the core, not yet taken by the socket
  bool writing_wait_ = false;
  IoStats io_stats_;
  bool drive_scheduled_ = false;  // a drive() is posted and has not run yet
  unsigned drive_deferrals_ = 0;  // times in a row the posted drive() waited for completion handlers
  detail::CompletionCount completions_queued_ = std::make_shared<std::atomic<std::uint32_t>>(0);
  bool in_handler_ = false;  // one of the endpoint's own handlers is running (handle())
  std::vector<detail::CompletionPtr<detail::Completion>> ready_;  // finished there, to run before it sends
  std::map<ConnectionHandle, ConnectionOps> ops_;
  std::deque<ConnectionHandle> accepted_;  // accepted, not yet handed to async_accept
  std::deque<PendingPtr<ConnectionHandle>> accepts_;
  std::shared_ptr<bool> alive_;  // handlers of socket and timer waits check it
};

}  // namespace rudp::asio
