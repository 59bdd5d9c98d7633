// SPDX-License-Identifier: MIT
// A file copy over rudp::asio, in the manner of netcat or scp: the receiver
// listens, the sender connects. Everything goes as reliable-ordered messages
// on channel 0: a header (size and name), the data in 64 KiB chunks, then a
// trailer with the XXH64 of the data as read; the receiver hashes what it
// wrote, answers OK or MISMATCH and exits non-zero on a mismatch or a short
// file. A progress bar is drawn when stdout is a terminal.
//
//   rudp_file_transfer receive PORT OUTPUT-FILE     wait for one file, write it
//   rudp_file_transfer send HOST PORT FILE          send FILE to a receiver
//   rudp_file_transfer selftest                     both ends over loopback with
//                                                   a 4 MiB pseudo-random file in
//                                                   a temporary directory
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <asio/experimental/as_tuple.hpp>
#include <rudp/asio.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using ::asio::awaitable;
using ::asio::use_awaitable;
using ::asio::experimental::as_tuple;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr auto kHandshakeTimeout = 5s;
constexpr auto kIdleTimeout = 10s;

// The first byte of every message says what it is.
enum class Kind : char { header = 'H', data = 'D', trailer = 'T', verdict = 'V' };
// The receiver's answer, in the verdict message.
enum class Verdict : std::uint8_t { ok, mismatch, short_file, write_failed, protocol_error };

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::ok: return "OK";
    case Verdict::mismatch: return "MISMATCH";
    case Verdict::short_file: return "SHORT FILE";
    case Verdict::write_failed: return "WRITE FAILED";
    case Verdict::protocol_error: return "PROTOCOL ERROR";
  }
  return "?";
}

void put_u64(std::vector<std::byte>& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}

std::uint64_t get_u64(std::span<const std::byte> in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::to_integer<std::uint64_t>(in[static_cast<std::size_t>(i)]) << (8 * i);
  return v;
}

std::vector<std::byte> message(Kind kind) { return {static_cast<std::byte>(kind)}; }

std::string human(std::uint64_t bytes) {
  char s[32];
  const double b = static_cast<double>(bytes);
  if (bytes < 1024) std::snprintf(s, sizeof s, "%llu B", static_cast<unsigned long long>(bytes));
  else if (bytes < (1u << 20)) std::snprintf(s, sizeof s, "%.1f KiB", b / 1024);
  else if (bytes < (1ull << 30)) std::snprintf(s, sizeof s, "%.1f MiB", b / (1 << 20));
  else std::snprintf(s, sizeof s, "%.2f GiB", b / (1 << 30));
  return s;
}

double mbit_per_s(std::uint64_t bytes, double seconds) {
  return seconds > 0 ? static_cast<double>(bytes) * 8 / seconds / 1e6 : 0.0;
}

// A progress bar on a terminal, redrawn at most ten times a second; elsewhere
// (a pipe, a log) a plain line every ten seconds, or nothing when disabled.
class Progress {
 public:
  enum class Mode { off, auto_detect };
  Progress(const char* verb, std::uint64_t total, Mode mode)
      : verb_(verb), total_(total), start_(Clock::now()),
        tty_(mode == Mode::auto_detect && ::isatty(STDOUT_FILENO) == 1), on_(mode != Mode::off) {}

  void update(std::uint64_t done) {
    if (!on_) return;
    const auto now = Clock::now();
    if (now < next_) return;
    next_ = now + (tty_ ? 100ms : 10s);
    if (tty_) draw(done, now, false);
    else if (now - start_ >= 10s) line(done, now);
  }
  void finish(std::uint64_t done) {
    if (tty_) draw(done, Clock::now(), true);
  }

 private:
  double seconds(Clock::time_point now) const { return std::chrono::duration<double>(now - start_).count(); }
  void draw(std::uint64_t done, Clock::time_point now, bool last) {
    constexpr int kWidth = 30;
    const double fraction = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
    const int filled = static_cast<int>(fraction * kWidth);
    std::printf("\r%s [%-*s] %3d%%  %s / %s  %.1f Mbit/s\033[K%s", verb_, kWidth, std::string(static_cast<std::size_t>(filled), '#').c_str(),
                static_cast<int>(fraction * 100), human(done).c_str(), human(total_).c_str(),
                mbit_per_s(done, seconds(now)), last ? "\n" : "");
    std::fflush(stdout);
  }
  void line(std::uint64_t done, Clock::time_point now) {
    std::printf("%s %s of %s (%.0f%%), %.1f Mbit/s\n", verb_, human(done).c_str(), human(total_).c_str(),
                total_ > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0,
                mbit_per_s(done, seconds(now)));
  }

  const char* verb_;
  std::uint64_t total_;
  Clock::time_point start_;
  Clock::time_point next_{};
  bool tty_;
  bool on_;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

std::string error_text(int error) { return std::strerror(error); }

// What one side ended with; `error` is empty on success.
struct Outcome {
  std::uint64_t bytes = 0;
  double seconds = 0;
  Verdict verdict = Verdict::protocol_error;
  std::string error;
  bool done = false;
};

// Keeps the endpoint running for `how_long`.
awaitable<void> linger(rudp::asio::Endpoint& endpoint, Clock::duration how_long) {
  ::asio::steady_timer timer(endpoint.get_executor(), how_long);
  co_await timer.async_wait(as_tuple(use_awaitable));
}

// ---- receiving ------------------------------------------------------------

// Receives one file on `c` into `out`, answers with a verdict and closes.
awaitable<void> receive_file(rudp::asio::Endpoint& endpoint, rudp::ConnectionHandle c, std::FILE* out,
                             const std::string& out_name, Progress::Mode progress_mode, Outcome& result) {
  std::vector<std::byte> buffer(kChunk + 64);
  const auto start = Clock::now();
  auto answer = [&](Verdict v) -> awaitable<void> {
    result.verdict = v;
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<std::byte> m = message(Kind::verdict);
    m.push_back(static_cast<std::byte>(v));
    co_await endpoint.async_send(c, m, {}, as_tuple(use_awaitable));
    if (v == Verdict::ok || v == Verdict::mismatch) {
      co_await endpoint.async_close(c, as_tuple(use_awaitable));
    } else {
      // The sender may still be sending (and blocked on a window this side
      // no longer opens): give the verdict time to reach it, then reset.
      co_await linger(endpoint, 500ms);
      endpoint.core().abort(c);
      endpoint.drive();
    }
    result.done = true;
  };

  auto [ec, n] = co_await endpoint.async_receive(c, buffer, nullptr, as_tuple(use_awaitable));
  if (ec || n < 9 || buffer[0] != static_cast<std::byte>(Kind::header)) {
    result.error = ec ? "the connection ended before the header: " + ec.message()
                      : "the peer is not a rudp_file_transfer sender";
    co_await answer(Verdict::protocol_error);
    co_return;
  }
  const std::uint64_t size = get_u64(std::span(buffer).subspan(1, 8));
  const std::string name(reinterpret_cast<const char*>(buffer.data()) + 9, n - 9);
  std::printf("receiving %s (%s, %llu bytes) into %s\n", name.c_str(), human(size).c_str(),
              static_cast<unsigned long long>(size), out_name.c_str());

  XXH64_state_t* hash = XXH64_createState();
  XXH64_reset(hash, 0);
  Progress progress("receiving", size, progress_mode);
  while (result.bytes < size) {
    std::tie(ec, n) = co_await endpoint.async_receive(c, buffer, nullptr, as_tuple(use_awaitable));
    if (ec) break;
    if (n < 1 || buffer[0] != static_cast<std::byte>(Kind::data) || result.bytes + (n - 1) > size) {
      result.error = "unexpected message in the data";
      break;
    }
    if (std::fwrite(buffer.data() + 1, 1, n - 1, out) != n - 1) {
      result.error = "cannot write " + out_name + ": " + error_text(errno);
      break;
    }
    XXH64_update(hash, buffer.data() + 1, n - 1);
    result.bytes += n - 1;
    progress.update(result.bytes);
  }
  progress.finish(result.bytes);
  const std::uint64_t local = XXH64_digest(hash);
  XXH64_freeState(hash);
  if (result.bytes == size && result.error.empty() && std::fflush(out) != 0) {
    result.error = "cannot write " + out_name + ": " + error_text(errno);
  }
  if (!result.error.empty()) {
    co_await answer(result.error.starts_with("cannot write") ? Verdict::write_failed : Verdict::protocol_error);
    co_return;
  }
  if (result.bytes < size) {
    result.error = "the connection ended after " + human(result.bytes) + " of " + human(size) +
                   " (the sender stopped, or nothing came through for 10 s)";
    result.verdict = Verdict::short_file;
    result.done = true;
    co_return;
  }

  std::tie(ec, n) = co_await endpoint.async_receive(c, buffer, nullptr, as_tuple(use_awaitable));
  if (ec || n != 9 || buffer[0] != static_cast<std::byte>(Kind::trailer)) {
    result.error = "no checksum after the data";
    co_await answer(Verdict::protocol_error);
    co_return;
  }
  const std::uint64_t sent = get_u64(std::span(buffer).subspan(1, 8));
  std::printf("XXH64 sent %016llx, received %016llx: %s\n", static_cast<unsigned long long>(sent),
              static_cast<unsigned long long>(local), sent == local ? "OK" : "MISMATCH");
  co_await answer(sent == local ? Verdict::ok : Verdict::mismatch);
}

// Resets every sender that connects while a file is coming in: this receiver
// takes one file, and a sender left waiting would only time out.
awaitable<void> refuse_others(rudp::asio::Endpoint& endpoint) {
  while (true) {
    auto [ec, c] = co_await endpoint.async_accept(as_tuple(use_awaitable));
    if (ec) co_return;
    std::fprintf(stderr, "refused a second sender: this receiver takes one file at a time\n");
    endpoint.core().abort(c);
    endpoint.drive();
  }
}

awaitable<void> accept_one(rudp::asio::Endpoint& endpoint, std::FILE* out, std::string out_name,
                           Progress::Mode progress_mode, Outcome& result) {
  const rudp::ConnectionHandle c = co_await endpoint.async_accept(use_awaitable);
  ::asio::co_spawn(endpoint.get_executor(), refuse_others(endpoint), ::asio::detached);
  co_await receive_file(endpoint, c, out, out_name, progress_mode, result);
}

// ---- sending --------------------------------------------------------------

rudp::ConnectionConfig connection_config() {
  rudp::ConnectionConfig config = rudp::make_config(rudp::Profile::tcp_friendly);
  config.handshake_timeout = kHandshakeTimeout;
  config.idle_timeout = kIdleTimeout;
  return config;
}

// The receiver's verdict, read while the data is still going out: a receiver
// that cannot write answers at once and stops reading.
struct VerdictWait {
  explicit VerdictWait(const ::asio::any_io_executor& executor) : arrived(executor, Clock::time_point::max()) {}
  std::optional<Verdict> verdict;
  std::error_code ec;
  bool finished = false;
  bool sending = true;
  ::asio::steady_timer arrived;  // cancelled when finished
};

awaitable<void> read_verdict(rudp::asio::Endpoint& endpoint, rudp::ConnectionHandle c,
                             std::shared_ptr<VerdictWait> wait) {
  std::vector<std::byte> answer(16);
  auto [ec, n] = co_await endpoint.async_receive(c, answer, nullptr, as_tuple(use_awaitable));
  if (ec == ::asio::error::operation_aborted) co_return;  // the endpoint is gone
  if (!ec && n == 2 && answer[0] == static_cast<std::byte>(Kind::verdict) &&
      std::to_integer<int>(answer[1]) <= static_cast<int>(Verdict::protocol_error)) {
    wait->verdict = static_cast<Verdict>(answer[1]);
  } else {
    wait->ec = ec ? ec : make_error_code(std::errc::bad_message);
  }
  wait->finished = true;
  wait->arrived.cancel();
  if (wait->sending) {  // an early answer is a failure: stop sending
    endpoint.core().abort(c);
    endpoint.drive();
  }
}

awaitable<void> send_file(rudp::asio::Endpoint& endpoint, rudp::asio::UdpEndpoint to, std::FILE* in,
                          std::uint64_t size, std::string name, Progress::Mode progress_mode, Outcome& result) {
  auto [ec, c] = co_await endpoint.async_connect(to, connection_config(), as_tuple(use_awaitable));
  if (ec) {
    result.error = ec == std::errc::timed_out
                       ? "no answer from " + to.address().to_string() + " port " + std::to_string(to.port()) +
                             " within 5 s (is the receiver running? is UDP blocked?)"
                       : "cannot connect: " + ec.message();
    co_return;
  }
  const auto start = Clock::now();
  auto wait = std::make_shared<VerdictWait>(endpoint.get_executor());
  ::asio::co_spawn(endpoint.get_executor(), read_verdict(endpoint, c, wait), ::asio::detached);
  std::vector<std::byte> header = message(Kind::header);
  put_u64(header, size);
  for (char ch : name) header.push_back(static_cast<std::byte>(ch));
  std::size_t n = 0;
  std::tie(ec, n) = co_await endpoint.async_send(c, header, {}, as_tuple(use_awaitable));

  XXH64_state_t* hash = XXH64_createState();
  XXH64_reset(hash, 0);
  Progress progress("sending", size, progress_mode);
  std::vector<std::byte> chunk(kChunk + 1);
  chunk[0] = static_cast<std::byte>(Kind::data);
  while (!ec && result.bytes < size) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, size - result.bytes));
    const std::size_t got = std::fread(chunk.data() + 1, 1, want, in);
    if (got == 0) {
      result.error = std::ferror(in) ? "cannot read the file: " + error_text(errno) : "the file shrank while being sent";
      break;
    }
    XXH64_update(hash, chunk.data() + 1, got);
    std::tie(ec, n) = co_await endpoint.async_send(c, std::span(chunk).first(got + 1), {}, as_tuple(use_awaitable));
    result.bytes += got;
    progress.update(result.bytes);
  }
  const std::uint64_t checksum = XXH64_digest(hash);
  XXH64_freeState(hash);
  if (!result.error.empty()) {
    endpoint.core().abort(c);
    endpoint.drive();
    co_return;
  }
  std::vector<std::byte> trailer = message(Kind::trailer);
  put_u64(trailer, checksum);
  if (!ec) std::tie(ec, n) = co_await endpoint.async_send(c, trailer, {}, as_tuple(use_awaitable));
  wait->sending = false;
  if (!wait->finished) co_await wait->arrived.async_wait(as_tuple(use_awaitable));
  progress.finish(result.bytes);
  if (!wait->verdict) {
    result.error = "the connection ended before the receiver confirmed the file; a receiver takes one sender at a "
                   "time (" + (wait->ec ? wait->ec : ec).message() + ")";
    co_return;
  }
  result.verdict = *wait->verdict;
  if (ec) {  // the receiver gave up early and said why
    result.error = std::string("the receiver stopped after ") + human(result.bytes) + " and answered " +
                   to_string(result.verdict) + (result.verdict == Verdict::write_failed ? " (it could not write the file)" : "");
    co_return;
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const auto stats = endpoint.core().stats(c);
  std::printf("sent %s in %.2f s (%.1f Mbit/s), XXH64 %016llx; %llu chunks re-sent, srtt %.2f ms\n",
              human(result.bytes).c_str(), result.seconds, mbit_per_s(result.bytes, result.seconds),
              static_cast<unsigned long long>(checksum),
              stats ? static_cast<unsigned long long>(stats->chunks_retransmitted) : 0ull,
              stats ? std::chrono::duration<double, std::milli>(stats->smoothed_rtt).count() : 0.0);
  co_await endpoint.async_close(c, as_tuple(use_awaitable));
  result.done = true;
}

// ---- the modes ------------------------------------------------------------

rudp::EndpointConfig endpoint_config(std::uint64_t seed) {
  rudp::EndpointConfig config;
  config.seed = seed;
  config.incoming = connection_config();
  return config;
}

std::uint64_t seed_from_clock() { return static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()); }

int fail(const std::string& what) {
  std::fprintf(stderr, "rudp_file_transfer: %s\n", what.c_str());
  return 1;
}

// Runs `io` until `done` or the deadline; false on the deadline.
bool run_until(::asio::io_context& io, const bool& done, Clock::duration limit) {
  const auto deadline = Clock::now() + limit;
  while (!done && Clock::now() < deadline) io.run_one_for(100ms);
  return done;
}

std::optional<std::uint16_t> parse_port(const char* text) {
  char* end = nullptr;
  const long port = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || port < 0 || port > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(port);
}

int receive_mode(const char* port_text, const std::string& out_name) {
  const auto port = parse_port(port_text);
  if (!port) return fail(std::string("not a port number: ") + port_text);
  File out(std::fopen(out_name.c_str(), "wb"));
  if (!out) return fail("cannot write " + out_name + ": " + error_text(errno));
  ::asio::io_context io;
  auto endpoint = rudp::asio::Endpoint::open(io.get_executor(), {::asio::ip::address_v6::any(), *port},
                                             endpoint_config(seed_from_clock()));
  if (!endpoint) {
    endpoint = rudp::asio::Endpoint::open(io.get_executor(), {::asio::ip::address_v4::any(), *port},
                                          endpoint_config(seed_from_clock()));
  }
  if (!endpoint) return fail("cannot listen on UDP port " + std::to_string(*port) + ": " + endpoint.error().message());
  std::printf("waiting for a file on UDP port %u\n", static_cast<unsigned>((*endpoint)->local_endpoint().port()));
  std::fflush(stdout);
  Outcome result;
  ::asio::co_spawn(io, accept_one(**endpoint, out.get(), out_name, Progress::Mode::auto_detect, result),
                   [&](std::exception_ptr e) {
                     if (e) result.error = "the connection failed";
                     result.done = true;
                   });
  while (!result.done) io.run_one();
  if (!result.error.empty()) return fail(result.error + "; " + out_name + " is incomplete");
  std::printf("received %s in %.2f s (%.1f Mbit/s): %s\n", human(result.bytes).c_str(), result.seconds,
              mbit_per_s(result.bytes, result.seconds), to_string(result.verdict));
  return result.verdict == Verdict::ok ? 0 : 1;
}

int send_mode(const std::string& host, const char* port_text, const std::string& path) {
  const auto port = parse_port(port_text);
  if (!port) return fail(std::string("not a port number: ") + port_text);
  std::error_code fs_ec;
  if (std::filesystem::is_directory(path, fs_ec)) return fail(path + " is a directory; send one file at a time");
  File in(std::fopen(path.c_str(), "rb"));
  if (!in) return fail("cannot open " + path + ": " + error_text(errno));
  const auto size = std::filesystem::file_size(path, fs_ec);
  if (fs_ec) return fail("cannot read the size of " + path + ": " + fs_ec.message());

  ::asio::io_context io;
  std::error_code ec;
  ::asio::ip::udp::resolver resolver(io);
  const auto found = resolver.resolve(host, port_text, ec);
  if (ec || found.empty()) return fail("cannot resolve " + host + ": " + ec.message());
  const rudp::asio::UdpEndpoint to = found.begin()->endpoint();
  const rudp::asio::UdpEndpoint local =
      to.address().is_v4() ? rudp::asio::UdpEndpoint{::asio::ip::address_v4::any(), 0}
                           : rudp::asio::UdpEndpoint{::asio::ip::address_v6::any(), 0};
  auto endpoint = rudp::asio::Endpoint::open(io.get_executor(), local, endpoint_config(seed_from_clock()));
  if (!endpoint) return fail("cannot open a UDP socket: " + endpoint.error().message());
  Outcome result;
  ::asio::co_spawn(io,
                   send_file(**endpoint, to, in.get(), size, std::filesystem::path(path).filename().string(),
                             Progress::Mode::auto_detect, result),
                   [&](std::exception_ptr e) {
                     if (e) result.error = "the connection failed";
                     result.done = true;
                   });
  while (!result.done) io.run_one();
  if (!result.error.empty()) return fail(result.error);
  std::printf("receiver: %s\n", to_string(result.verdict));
  return result.verdict == Verdict::ok ? 0 : 1;
}

// A deterministic pseudo-random file (splitmix64).
bool write_random_file(const std::filesystem::path& path, std::size_t size) {
  File f(std::fopen(path.c_str(), "wb"));
  if (!f) return false;
  std::vector<unsigned char> bytes(size);
  std::uint64_t state = 0x9e3779b97f4a7c15ull;
  for (std::size_t i = 0; i < size; i += 8) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    std::memcpy(bytes.data() + i, &z, std::min<std::size_t>(8, size - i));
  }
  return std::fwrite(bytes.data(), 1, size, f.get()) == size;
}

std::optional<std::vector<char>> read_all(const std::filesystem::path& path) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) return std::nullopt;
  std::vector<char> bytes;
  char block[65536];
  for (std::size_t n; (n = std::fread(block, 1, sizeof block, f.get())) > 0;) bytes.insert(bytes.end(), block, block + n);
  return bytes;
}

int selftest() {
  std::string dir_template = (std::filesystem::temp_directory_path() / "rudp_file_transfer.XXXXXX").string();
  if (::mkdtemp(dir_template.data()) == nullptr) return fail("cannot make a temporary directory: " + error_text(errno));
  const std::filesystem::path dir = dir_template;
  const std::filesystem::path in_path = dir / "random.bin", out_path = dir / "copy.bin";
  constexpr std::size_t kSize = (4u << 20) + 12345;  // not a multiple of the chunk
  bool ok = write_random_file(in_path, kSize);

  ::asio::io_context io;
  const auto loopback = ::asio::ip::make_address("127.0.0.1");
  auto receiver = rudp::asio::Endpoint::open(io.get_executor(), {loopback, 0}, endpoint_config(1));
  auto sender = rudp::asio::Endpoint::open(io.get_executor(), {loopback, 0}, endpoint_config(2));
  File in(std::fopen(in_path.c_str(), "rb"));
  File out(std::fopen(out_path.c_str(), "wb"));
  Outcome received, sent;
  if (ok && receiver && sender && in && out) {
    ::asio::co_spawn(io, accept_one(**receiver, out.get(), out_path.string(), Progress::Mode::off, received),
                     ::asio::detached);
    ::asio::co_spawn(io,
                     send_file(**sender, {loopback, (*receiver)->local_endpoint().port()}, in.get(), kSize,
                               "random.bin", Progress::Mode::off, sent),
                     ::asio::detached);
    ok = run_until(io, sent.done, 10s) && run_until(io, received.done, 2s);
  } else {
    ok = false;
  }
  out.reset();
  const auto original = read_all(in_path), copy = read_all(out_path);
  const bool identical = ok && original && copy && *original == *copy;
  const bool hashes_equal = identical && XXH64(original->data(), original->size(), 0) == XXH64(copy->data(), copy->size(), 0);
  ok = identical && hashes_equal && sent.error.empty() && received.error.empty() && sent.verdict == Verdict::ok &&
       received.verdict == Verdict::ok && received.bytes == kSize;
  std::filesystem::remove_all(dir);
  std::printf("selftest: %s in %.2f s, sender heard %s, files %s: %s\n", human(received.bytes).c_str(), sent.seconds,
              to_string(sent.verdict), identical ? "identical" : "DIFFER", ok ? "ok" : "FAILED");
  if (!sent.error.empty()) std::printf("  sender: %s\n", sent.error.c_str());
  if (!received.error.empty()) std::printf("  receiver: %s\n", received.error.c_str());
  return ok ? 0 : 1;
}

int usage() {
  std::fprintf(stderr,
               "usage: rudp_file_transfer receive PORT OUTPUT-FILE\n"
               "       rudp_file_transfer send HOST PORT FILE\n"
               "       rudp_file_transfer selftest\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "receive" && argc == 4) return receive_mode(argv[2], argv[3]);
  if (mode == "send" && argc == 5) return send_mode(argv[2], argv[3], argv[4]);
  if (mode == "selftest" && argc == 2) return selftest();
  return usage();
}
