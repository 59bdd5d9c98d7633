// SPDX-License-Identifier: MIT
// The driver loop of rudp::asio::Endpoint: when the socket is readable,
// every datagram waiting is fed to the core, read in batches (BatchIo:
// recvmmsg, GRO); then the core's events complete pending operations, its
// datagrams are sent in batches (sendmmsg, GSO) until it has no more or the
// socket would block (the rest waits for writability), and the timer is
// re-armed from next_timeout().
//
// Sending waits for the application's replies, so that they leave with the
// acknowledgements of what they answer, and operations started in a row
// leave in one batch instead of one syscall each:
// - The socket's, the timer's and the writability wait's handlers go through
//   handle(): the operations they finish (a message received, a connection
//   accepted) have their completion handlers run there, once the core has
//   been fed, and so do the operations those handlers start that finish at
//   once (a send the core takes, a message already waiting), up to
//   kMaxInline; then one drive() sends what they all queued. A handler runs
//   only after the call that started its operation returned, as asio
//   requires, without a trip through the scheduler: one on the endpoint's
//   executor is called directly (as asio::dispatch would call it), one on
//   another executor (a strand) is dispatched to it.
// - Operations started anywhere else post one drive(), which runs after the
//   completion handlers already queued and waits (a bounded number of times)
//   for those they queue in turn, as does the drive() of a handle() whose
//   handlers were not all run there.
#include "rudp/asio.hpp"

#include "rudp/asio/address_conversion.hpp"
#include "rudp/asio/batch_io.hpp"

#include <algorithm>
#include <exception>

namespace rudp::asio {
namespace {

// The largest UDP payload: the room poll_transmit() may need.
constexpr std::size_t kMaxUdpPayload = 65527;
// Datagrams sent in one batch at most, and the bytes they may take.
constexpr std::size_t kSendBatch = 256;
constexpr std::size_t kSendBytes = 4 * 65536;
// Kernel reads per receive batch, each with room for the largest datagram (or
// a GRO read of 64 KiB): 1 MiB per endpoint.
constexpr std::size_t kReceiveBatch = 16;
// How many times in a row a posted drive() lets queued completion handlers
// run first: about the messages that leave in one batch when an application
// sends each from the previous one's handler.
constexpr unsigned kMaxDriveDeferrals = 64;
// Completion handlers one handle() runs at most: enough for a message, the
// reply to it and the next receive. Those beyond are posted and the drive
// waits for them, as for operations started elsewhere, so a long chain (a
// bulk receiver's) batches much as before: in alternated runs, bulk goodput
// was about 9% lower with 64 run here, about 4% with 8.
constexpr std::size_t kMaxInline = 8;

}  // namespace

Result<std::unique_ptr<Endpoint>> Endpoint::open(const executor_type& executor, const UdpEndpoint& local,
                                                 const EndpointConfig& config, const SocketOptions& options) {
  auto core = rudp::Endpoint::create(config, Instant{});
  if (!core) return core.error();
  std::error_code ec;
  ::asio::ip::udp::socket socket(executor);
  socket.open(local.protocol(), ec);
  if (!ec && local.address().is_v6()) socket.set_option(::asio::ip::v6_only(!options.dual_stack), ec);
  if (!ec && options.reuse_port) {
    const int on = 1;
    if (::setsockopt(socket.native_handle(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
      ec = std::error_code(errno, std::system_category());
    }
  }
  // A buffer the kernel refuses to grow is no reason to fail: it stays as it was.
  std::error_code ignored;
  if (!ec && options.receive_buffer > 0) {
    socket.set_option(::asio::socket_base::receive_buffer_size(static_cast<int>(options.receive_buffer)), ignored);
  }
  if (!ec && options.send_buffer > 0) {
    socket.set_option(::asio::socket_base::send_buffer_size(static_cast<int>(options.send_buffer)), ignored);
  }
  if (!ec) socket.bind(local, ec);
  if (!ec) socket.non_blocking(true, ec);
  if (ec) return ec;
  std::unique_ptr<Endpoint> endpoint(new Endpoint(executor, std::move(socket), std::move(*core)));
  endpoint->wait_readable();
  endpoint->arm_timer();
  return endpoint;
}

Endpoint::Endpoint(const executor_type& executor, ::asio::ip::udp::socket socket, rudp::Endpoint core)
    : executor_(executor),
      socket_(std::move(socket)),
      timer_(executor),
      core_(std::move(core)),
      epoch_(std::chrono::steady_clock::now()),
      io_(std::make_unique<BatchIo>(socket_)),
      rx_(std::make_unique<RecvBatch>(io_->make_recv_batch(kReceiveBatch, kMaxUdpPayload))),
      tx_(kSendBytes),
      alive_(std::make_shared<bool>(true)) {
  outgoing_.reserve(kSendBatch);
}

Endpoint::~Endpoint() {
  *alive_ = false;
  // Destroyed from a completion handler that handle() ran: the others it
  // had yet to run are posted (the one running was taken out of ready_).
  in_handler_ = false;
  for (auto& op : ready_) {
    if (op) op.release()->post();
  }
  const std::error_code aborted = ::asio::error::operation_aborted;
  for (auto& [handle, ops] : ops_) fail_all(ops, aborted);
  for (auto& accept : accepts_) finish(std::move(accept), aborted, {});
}

UdpEndpoint Endpoint::local_endpoint() const { return socket_.local_endpoint(); }

// The core's clock starts when the endpoint does; steady_clock never goes back.
Instant Endpoint::now() const noexcept { return Instant{std::chrono::steady_clock::now() - epoch_}; }

template <class T>
void Endpoint::finish(PendingPtr<T> op, std::error_code ec, T value) {
  op->queue = detail::Completion::Queue::none;
  op->set_result(ec, std::move(value));
  if (in_handler_ && ready_.size() < kMaxInline) {
    ready_.push_back(std::move(op));
  } else {
    op.release()->post();
  }
}

// Runs `body` as one of the endpoint's own handlers, then the completion
// handlers of what finished (see the top of the file), then drive(). Stops
// at once if one of them destroyed the endpoint.
template <class Body>
void Endpoint::handle(const std::shared_ptr<bool>& alive, Body&& body) {
  in_handler_ = true;
  body();
  // As when asio runs a handler inline, one that throws does not stop the
  // others: the first exception leaves through run() once this handler is done.
  std::exception_ptr thrown;
  for (std::size_t i = 0; i < ready_.size(); ++i) {
    try {
      ready_[i].release()->dispatch();
    } catch (...) {
      if (!thrown) thrown = std::current_exception();
    }
    if (!*alive) break;
  }
  if (*alive) {
    ready_.clear();
    in_handler_ = false;
    // Handlers posted beyond kMaxInline may queue more: the drive waits for them.
    if (completions_queued_->load(std::memory_order_relaxed) > 0) {
      schedule_drive();
    } else {
      drive();
    }
  }
  if (thrown) std::rethrow_exception(thrown);
}

void Endpoint::wait_readable() {
  socket_.async_wait(::asio::socket_base::wait_read, [this, alive = alive_](std::error_code ec) {
    if (!*alive || ec) return;
    handle(alive, [this] {
      read_datagrams();
      wait_readable();  // once the socket is drained, before the completion handlers run
      dispatch_events();
    });
  });
}

void Endpoint::read_datagrams() {
  // A socket error (an ICMP port unreachable reported on it) is about one
  // datagram; reading goes on, but not forever.
  for (int errors = 0, batches = 0; errors < 16;) {
    const auto received = io_->receive(*rx_);
    if (!received) {
      if (received.error() == errc::would_block) return;
      ++errors;
      continue;
    }
    // Answers to the previous batch go out before this one is handled, so a
    // burst of handshakes does not outgrow the core's queue of SYN-ACKs
    // waiting to be sent; those to the last batch wait for the posted drive().
    if (batches++ > 0) flush();
    ++io_stats_.receive_batches;
    io_stats_.datagrams_received += rx_->size();
    const Instant t = now();
    for (const ReceivedDatagram& d : *rx_) {
      if (!d.truncated) core_.handle_datagram(t, to_address(d.from), d.bytes);
    }
    // A batch with room to spare emptied the socket: no read to see it fail.
    // A datagram arriving from now on is not missed: asio's wait for
    // readability reports a socket already readable when it starts (the
    // epoll reactor re-arms the descriptor; the others poll its level).
    if (rx_->reads() < rx_->max_reads()) return;
  }
}

void Endpoint::drive() {
  flush();
  if (dispatch_events()) flush();  // the operations completed may have queued more
  arm_timer();
}

void Endpoint::schedule_drive() {
  if (drive_scheduled_ || in_handler_) return;  // handle() ends with a drive()
  drive_scheduled_ = true;
  ::asio::post(executor_, [this, alive = alive_] {
    if (!*alive) return;
    drive_scheduled_ = false;
    // A completion handler still queued may start another operation (a
    // sender's next message): wait for it, a bounded number of times, so a
    // chain of operations leaves in one batch rather than two messages at a time.
    if (completions_queued_->load(std::memory_order_relaxed) > 0 && drive_deferrals_ < kMaxDriveDeferrals) {
      ++drive_deferrals_;
      schedule_drive();
      return;
    }
    drive_deferrals_ = 0;
    drive();
  });
}

void Endpoint::flush() {
  while (true) {
    while (outgoing_.size() < kSendBatch && tx_used_ + kMaxUdpPayload <= tx_.size()) {
      const auto t = core_.poll_transmit(now(), std::span(tx_).subspan(tx_used_));
      if (!t) break;
      outgoing_.push_back({to_endpoint(t->to), std::span(tx_).subspan(tx_used_, t->size)});
      tx_used_ += t->size;
    }
    if (outgoing_.empty()) return;
    auto sent = io_->send(outgoing_);
    if (!sent && sent.error() == errc::would_block) {
      if (!writing_wait_) {
        writing_wait_ = true;
        socket_.async_wait(::asio::socket_base::wait_write, [this, alive = alive_](std::error_code ec) {
          if (!*alive || ec) return;
          writing_wait_ = false;
          handle(alive, [] {});
        });
      }
      return;
    }
    // A datagram the system refuses (no route, too large) is lost like one
    // dropped on the path; the protocol recovers from both.
    const std::size_t done = sent ? *sent : 1;
    ++io_stats_.send_batches;
    if (sent) io_stats_.datagrams_sent += done;
    outgoing_.erase(outgoing_.begin(), outgoing_.begin() + static_cast<std::ptrdiff_t>(done));
    if (outgoing_.empty()) tx_used_ = 0;
  }
}

// The core's next timeout moves at nearly every packet (ACK delay, loss
// detection, pacing), mostly later. Re-arming at each move cost a cancelled
// wait, its handler and a timerfd_settime per datagram; so a pending wait that
// fires no later than needed is kept, and when it fires early handle_timeout
// finds nothing due and drive() arms the timer again.
void Endpoint::arm_timer() {
  const auto due = core_.next_timeout();
  if (!due) return;  // a pending wait may fire; handle_timeout then finds nothing due
  const auto at = epoch_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(due->time_since_epoch());
  if (timer_armed_ && timer_at_ <= at) return;
  timer_armed_ = true;
  timer_at_ = at;
  timer_.expires_at(at);  // cancels the pending wait, if any
  timer_.async_wait([this, alive = alive_](std::error_code ec) {
    if (!*alive || ec) return;
    timer_armed_ = false;
    handle(alive, [this] {
      core_.handle_timeout(now());
      dispatch_events();
    });
  });
}

bool Endpoint::dispatch_events() {
  bool any = false;
  while (auto event = core_.poll_event()) {
    any = true;
    std::visit(
        [&](const auto& e) {
          using E = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<E, Connected>) {
            if (e.incoming) {
              if (!accepts_.empty()) {
                finish(std::move(accepts_.front()), {}, e.connection);
                accepts_.pop_front();
              } else {
                accepted_.push_back(e.connection);
              }
            } else if (auto it = ops_.find(e.connection); it != ops_.end() && it->second.connect) {
              finish(std::exchange(it->second.connect, nullptr), {}, e.connection);
            }
          } else if constexpr (std::is_same_v<E, Readable> || std::is_same_v<E, PeerFinished>) {
            if (auto it = ops_.find(e.connection); it != ops_.end()) try_receives(e.connection, it->second);
          } else if constexpr (std::is_same_v<E, Writable>) {
            if (auto it = ops_.find(e.connection); it != ops_.end()) try_sends(e.connection, it->second);
          } else if constexpr (std::is_same_v<E, Closed>) {
            auto it = ops_.find(e.connection);
            if (it == ops_.end()) return;
            ConnectionOps ops = std::move(it->second);
            ops_.erase(it);
            // The ACK of the peer's FIN leaves before the close completes: a
            // program may exit in its completion handler.
            flush();
            if (ops.close) finish(std::exchange(ops.close, nullptr), {}, e.reason);
            // A connect that never completed failed its handshake.
            if (ops.connect && e.reason == CloseReason::handshake_timeout) {
              finish(std::exchange(ops.connect, nullptr), make_error_code(std::errc::timed_out), {});
            }
            fail_all(ops, make_error_code(errc::connection_closed));
          }
        },
        *event);
  }
  return any;
}

void Endpoint::fail_all(ConnectionOps& ops, std::error_code ec) {
  if (ops.connect) finish(std::exchange(ops.connect, nullptr), ec, {});
  for (auto& s : ops.sends) finish(std::move(s.op), ec, std::size_t{0});
  ops.sends.clear();
  for (auto& r : ops.receives) finish(std::move(r.op), ec, std::size_t{0});
  ops.receives.clear();
  if (ops.close) finish(std::exchange(ops.close, nullptr), ec, CloseReason::aborted);
}

void Endpoint::try_sends(ConnectionHandle c, ConnectionOps& ops) {
  while (!ops.sends.empty()) {
    SendWait& s = ops.sends.front();
    const std::error_code ec = core_.send_message(c, s.message, s.options);
    if (ec == errc::would_block) return;  // Writable comes back
    finish(std::move(s.op), ec, ec ? std::size_t{0} : s.message.size());
    ops.sends.pop_front();
  }
}

void Endpoint::try_receives(ConnectionHandle c, ConnectionOps& ops) {
  while (!ops.receives.empty()) {
    ReceiveWait& r = ops.receives.front();
    const auto info = core_.next_message(c);
    const auto n = core_.receive_message(c, r.buffer);
    if (!n && n.error() == errc::would_block) return;
    if (n && r.info && info) *r.info = *info;
    finish(std::move(r.op), n.error(), n.value_or(0));
    ops.receives.pop_front();
  }
}

void Endpoint::start_connect(PendingPtr<ConnectionHandle> op, const UdpEndpoint& to, const ConnectionConfig& config) {
  const auto handle = core_.connect(now(), to_address(to), config);
  if (!handle) {
    finish(std::move(op), handle.error(), {});
    return;
  }
  ops_[*handle].connect = std::move(op);
  schedule_drive();
}

void Endpoint::start_accept(PendingPtr<ConnectionHandle> op) {
  core_.set_accept_incoming(true);
  if (!accepted_.empty()) {
    finish(std::move(op), {}, accepted_.front());
    accepted_.pop_front();
    return;
  }
  wait_in(*op, detail::Completion::Queue::accept, {});
  accepts_.push_back(std::move(op));
}

// Forgets the pending operations of `c` when none is left.
void Endpoint::prune(ConnectionHandle c) {
  const auto it = ops_.find(c);
  if (it != ops_.end() && !it->second.connect && it->second.sends.empty() && it->second.receives.empty() &&
      !it->second.close) {
    ops_.erase(it);
  }
}

// A send or receive that the core can serve at once, with none of the same
// kind waiting before it, completes without a copy of the message and without
// an entry in ops_ (creating and pruning one cost several allocations per
// operation); the others wait in ops_, in order.
void Endpoint::start_send(PendingPtr<std::size_t> op, ConnectionHandle c, std::span<const std::byte> m,
                          const SendOptions& o) {
  if (const auto it = ops_.find(c); it == ops_.end() || it->second.sends.empty()) {
    const std::error_code ec = core_.send_message(c, m, o);
    if (ec != errc::would_block) {
      finish(std::move(op), ec, ec ? std::size_t{0} : m.size());
      schedule_drive();
      return;
    }
  }
  ConnectionOps& ops = ops_[c];
  wait_in(*op, detail::Completion::Queue::send, c);
  ops.sends.push_back({std::move(op), std::vector<std::byte>(m.begin(), m.end()), o});
  try_sends(c, ops);
  prune(c);
  schedule_drive();
}

void Endpoint::start_receive(PendingPtr<std::size_t> op, ConnectionHandle c, std::span<std::byte> b,
                             MessageInfo* info) {
  if (const auto it = ops_.find(c); it == ops_.end() || it->second.receives.empty()) {
    const auto next = core_.next_message(c);
    const auto n = core_.receive_message(c, b);
    if (n || n.error() != errc::would_block) {
      if (n && info && next) *info = *next;
      finish(std::move(op), n.error(), n.value_or(0));
      schedule_drive();
      return;
    }
  }
  ConnectionOps& ops = ops_[c];
  wait_in(*op, detail::Completion::Queue::receive, c);
  ops.receives.push_back({std::move(op), b, info});
  try_receives(c, ops);
  prune(c);
  schedule_drive();
}

void Endpoint::wait_in(detail::Completion& op, detail::Completion::Queue queue, ConnectionHandle c) noexcept {
  op.queue = queue;
  op.connection = c;
  op.owner = this;
}

// A cancellation signal reached a waiting operation: it leaves its queue and
// completes with operation_aborted. A receive has taken no message and a
// send has given none to the core, so nothing is lost; the connection carries on.
void Endpoint::cancel(detail::Completion& op) {
  // Finishing the operation may free it: what is needed of it is read first.
  const detail::Completion::Queue queue = op.queue;
  const ConnectionHandle c = op.connection;
  const auto take = [target = &op, this](auto& waiting, auto op_of) {
    const auto it =
        std::find_if(waiting.begin(), waiting.end(), [&](const auto& w) { return op_of(w).get() == target; });
    if (it == waiting.end()) return;
    auto taken = std::move(op_of(*it));
    waiting.erase(it);
    finish(std::move(taken), ::asio::error::operation_aborted, {});
  };
  if (queue == detail::Completion::Queue::accept) {
    take(accepts_, [](auto& w) -> auto& { return w; });
    return;
  }
  const auto it = ops_.find(c);
  if (it == ops_.end()) return;
  if (queue == detail::Completion::Queue::send) take(it->second.sends, [](auto& w) -> auto& { return w.op; });
  if (queue == detail::Completion::Queue::receive) take(it->second.receives, [](auto& w) -> auto& { return w.op; });
  prune(c);
}

namespace detail {

void cancel_waiting(Endpoint& endpoint, Completion& op) { endpoint.cancel(op); }

}  // namespace detail

void Endpoint::start_close(PendingPtr<CloseReason> op, ConnectionHandle c) {
  if (const auto ec = core_.close(c)) {
    finish(std::move(op), ec, CloseReason::aborted);
    return;
  }
  ops_[c].close = std::move(op);
  schedule_drive();
}

}  // namespace rudp::asio
