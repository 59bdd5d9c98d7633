// SPDX-License-Identifier: MIT
// Writes the seed corpus of the wire fuzz targets: one file per valid packet,
// covering every frame type, both header forms, every DeliveryMode, fragments,
// channels, ACK frames of 1, 32 and 256 ranges, packet numbers of 1 to 4 bytes
// and varints of every length. It is deterministic, checks that each packet it
// writes parses, and never deletes files, so regression entries beside the
// seeds survive a rerun. Usage: rudp_seed_corpus DIRECTORY; the same files
// seed fuzz/corpus/parse_packet/ and fuzz/corpus/roundtrip/.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "rudp/wire/frame.hpp"
#include "rudp/wire/limits.hpp"
#include "rudp/wire/packet.hpp"

namespace {

namespace fs = std::filesystem;
using namespace rudp;
using namespace rudp::wire;

constexpr ConnectionId kClient{0x11223344};
constexpr ConnectionId kServer{0xa1b2c3d4};

/// An ACK frame by value; the codec writes those with write_ack_frame, since a
/// decoded AckFrame is a view into a datagram.
struct Ack {
  std::uint64_t delay = 0;
  std::vector<AckRange> ranges;
};

using Part = std::variant<Frame, Ack>;

std::span<const std::byte> text(std::string_view s) { return std::as_bytes(std::span(s)); }

Header handshake_header(ConnectionId destination, ConnectionId source, TruncatedPacketNumber number) {
  Header h;
  h.form = HeaderForm::handshake;
  h.destination = destination;
  h.source = source;
  h.number = number;
  return h;
}

Header data_header(TruncatedPacketNumber number) {
  Header h;
  h.destination = kServer;
  h.number = number;
  return h;
}

HandshakeParams client_params() { return {1452, 1 << 20, 30'000}; }

DataFrame data(DeliveryMode mode, std::uint64_t sequence, std::string_view payload) {
  DataFrame f;
  f.mode = mode;
  f.sequence = has_sequence(mode, 1) ? sequence : 0;
  f.payload = text(payload);
  return f;
}

DataFrame on_channel(DataFrame f, std::uint8_t channel) {
  f.channel = channel;
  return f;
}

DataFrame fragment(DataFrame f, std::uint32_t index, std::uint32_t count) {
  f.fragment_index = index;
  f.fragment_count = count;
  return f;
}

DataFrame implicit_length(DataFrame f) {
  f.explicit_length = false;
  return f;
}

/// `count` ranges below `largest`, each `length` packets long with `gap` missing between neighbours.
Ack ack_ranges(std::uint64_t largest, std::uint64_t count, std::uint64_t length, std::uint64_t gap) {
  Ack ack{25, {}};
  for (std::uint64_t i = 0; i < count; ++i) {
    ack.ranges.push_back({largest - (length - 1), largest});
    largest -= length + gap;
  }
  return ack;
}

class CorpusWriter {
 public:
  explicit CorpusWriter(fs::path directory) : directory_(std::move(directory)) {}

  bool ok() const { return ok_; }
  std::size_t files() const { return files_; }

  /// Writes `header` and `parts` as one packet to the file `name`, ending in
  /// a PADDING frame that fills it to `padded_size` bytes when it is shorter.
  void write(const char* name, const Header& header, const std::vector<Part>& parts, std::size_t padded_size = 0) {
    std::vector<std::byte> buffer(kMaxDatagramSize);
    PacketWriter packet(buffer, header);
    for (const Part& part : parts) {
      if (const auto* ack = std::get_if<Ack>(&part)) {
        write_ack_frame(packet.frames(), ack->delay, ack->ranges);
      } else {
        encode_frame(packet.frames(), std::get<Frame>(part));
      }
    }
    const std::size_t unpadded = packet.frames().position() + kChecksumSize;
    if (padded_size > unpadded) encode_frame(packet.frames(), PaddingFrame{padded_size - unpadded});
    const auto size = packet.finish();
    if (!size) return fail(name, size.error().message().c_str());
    const auto bytes = std::span(buffer).first(*size);
    if (const auto parsed = parse_packet(bytes); !parsed) return fail(name, parsed.error().message().c_str());

    std::ofstream out(directory_ / name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) return fail(name, "cannot write the file");
    ++files_;
  }

 private:
  void fail(const char* name, const char* why) {
    std::fprintf(stderr, "seed_corpus: %s: %s\n", name, why);
    ok_ = false;
  }

  fs::path directory_;
  std::size_t files_ = 0;
  bool ok_ = true;
};

void write_handshake(CorpusWriter& w) {
  const auto cookie = text("0123456789abcdef0123456789abcdef");
  w.write("syn_padded.bin", handshake_header({}, kClient, {0, 1}), {SynFrame{client_params()}}, kMinDatagramSize);
  w.write("syn_ack_cookie.bin", handshake_header(kClient, kServer, {0, 1}),
          {SynAckFrame{{1350, 262'144, 10'000}, cookie}});
  const std::string long_cookie(kMaxCookieSize, 'c');
  w.write("syn_ack_max_cookie.bin", handshake_header(kClient, kServer, {0, 1}),
          {SynAckFrame{{kMaxDatagramSize, 0, kMaxIdleTimeoutMillis}, text(long_cookie)}});
  w.write("cookie_ack_data.bin", handshake_header(kServer, kClient, {1, 1}),
          {CookieAckFrame{client_params(), cookie}, data(DeliveryMode::reliable_ordered, 0, "hello")});
}

void write_data(CorpusWriter& w) {
  w.write("data_unreliable.bin", data_header({2, 1}), {data(DeliveryMode::unreliable, 0, "unreliable payload")});
  w.write("data_unreliable_sequenced.bin", data_header({3, 1}),
          {data(DeliveryMode::unreliable_sequenced, 7, "sequenced payload")});
  w.write("data_reliable_unordered.bin", data_header({4, 1}),
          {data(DeliveryMode::reliable_unordered, 100, "unordered payload")});
  w.write("data_reliable_ordered.bin", data_header({5, 1}),
          {data(DeliveryMode::reliable_ordered, 20'000, "ordered payload")});
  w.write("data_implicit_length.bin", data_header({6, 1}),
          {implicit_length(data(DeliveryMode::reliable_ordered, 1, "runs to the end of the packet"))});
  w.write("data_empty_payload.bin", data_header({7, 1}), {data(DeliveryMode::unreliable, 0, "")});
  w.write("data_channel_7.bin", data_header({8, 1}),
          {on_channel(data(DeliveryMode::reliable_ordered, 3, "on channel 7"), 7)});
  w.write("data_channel_255.bin", data_header({9, 1}),
          {on_channel(data(DeliveryMode::unreliable_sequenced, 9, "on channel 255"), 255)});

  const auto message = data(DeliveryMode::reliable_ordered, 5, "one third of a message");
  w.write("data_fragment_first.bin", data_header({10, 1}), {fragment(message, 0, 3)});
  w.write("data_fragment_middle.bin", data_header({11, 1}), {on_channel(fragment(message, 1, 3), 2)});
  w.write("data_fragment_last.bin", data_header({12, 1}), {implicit_length(fragment(message, 2, 3))});
  w.write("data_fragment_unreliable.bin", data_header({13, 1}),
          {fragment(data(DeliveryMode::unreliable, 0, "half of an unreliable message"), 1, 2)});
  w.write("data_fragment_max_count.bin", data_header({14, 1}),
          {fragment(data(DeliveryMode::reliable_unordered, 77, "the last of many"), kMaxFragmentCount - 1,
                    kMaxFragmentCount)});

  // Sequence numbers on both sides of every varint length boundary.
  std::vector<Part> boundaries;
  constexpr std::uint64_t kBoundaries[] = {63, 64, 16'383, 16'384, (1ULL << 30) - 1, 1ULL << 30, kMaxVarint};
  for (const std::uint64_t sequence : kBoundaries) {
    boundaries.emplace_back(data(DeliveryMode::reliable_unordered, sequence, "x"));
  }
  w.write("data_varint_boundaries.bin", data_header({15, 1}), boundaries);

  // SKIP: one abandoned chunk; the most one frame abandons, ending on the
  // largest sequence number; a skipped message followed by the next one.
  w.write("skip_one_chunk.bin", data_header({16, 1}), {SkipFrame{0, 4, 1, 37}});
  w.write("skip_max_count.bin", data_header({17, 1}),
          {SkipFrame{255, kMaxVarint - (kMaxFragmentCount - 1), kMaxFragmentCount, kMaxVarint}});
  w.write("skip_then_data.bin", data_header({18, 1}),
          {SkipFrame{2, 10, 3, 3'096}, on_channel(data(DeliveryMode::reliable_ordered, 13, "after the gap"), 2)});
}

void write_control(CorpusWriter& w) {
  w.write("ack_one_range.bin", data_header({20, 1}), {Ack{25, {{10, 12}}}});
  w.write("ack_packet_zero.bin", data_header({21, 1}), {Ack{0, {{0, 0}}}});
  w.write("ack_32_ranges.bin", data_header({22, 1}), {ack_ranges(10'000, 32, 3, 5)});
  w.write("ack_256_ranges.bin", data_header({23, 1}), {ack_ranges(1'000'000, kMaxAckRanges, 100, 2'000)});
  w.write("ack_max_delay.bin", data_header({24, 1}), {Ack{kMaxAckDelay, {{1ULL << 40, (1ULL << 40) + 99}}}});
  w.write("credit.bin", data_header({25, 1}), {CreditFrame{65'536}});
  w.write("credit_max_varint.bin", data_header({26, 1}), {CreditFrame{kMaxVarint}});
  w.write("ping.bin", data_header({27, 1}), {PingFrame{}});
  w.write("close_reason.bin", data_header({28, 1}), {CloseFrame{0, text("done")}});
  w.write("close_app_error_no_reason.bin", data_header({29, 1}), {CloseFrame{42, {}}});
  w.write("reset_reason.bin", data_header({30, 1}), {ResetFrame{7, text("protocol violation")}});
  const std::string long_reason(kMaxReasonLength, 'r');
  w.write("reset_max_reason.bin", data_header({31, 1}), {ResetFrame{kMaxVarint, text(long_reason)}});
  w.write("padding_only.bin", data_header({32, 1}), {PaddingFrame{20}});
  w.write("ping_padded.bin", data_header({33, 1}), {PingFrame{}}, kMinDatagramSize);
}

void write_mixed(CorpusWriter& w) {
  w.write(
      "multi_frame.bin", data_header({40, 1}),
      {ack_ranges(500, 3, 4, 1), CreditFrame{1 << 20},
       on_channel(data(DeliveryMode::reliable_ordered, 12, "first message"), 3),
       data(DeliveryMode::unreliable, 0, "second message"), PingFrame{}, PaddingFrame{3}, CloseFrame{0, text("bye")}});
  w.write("multi_data_last_implicit.bin", data_header({41, 1}),
          {data(DeliveryMode::reliable_unordered, 1, "one"), data(DeliveryMode::unreliable_sequenced, 2, "two"),
           implicit_length(data(DeliveryMode::reliable_ordered, 3, "three, to the end"))});
  w.write("pn_1_byte.bin", data_header({0x7f, 1}), {PingFrame{}, CreditFrame{100}});
  w.write("pn_2_byte.bin", data_header({0x1234, 2}), {PingFrame{}, CreditFrame{100}});
  w.write("pn_3_byte.bin", data_header({0x123456, 3}), {PingFrame{}, CreditFrame{100}});
  w.write("pn_4_byte.bin", data_header({0x12345678, 4}), {PingFrame{}, CreditFrame{100}});
  w.write("pn_4_byte_handshake.bin", handshake_header(kServer, kClient, {0xfedcba98, 4}),
          {CookieAckFrame{client_params(), text("cookie")}, PingFrame{}});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
    return 2;
  }
  const fs::path directory = argv[1];
  std::error_code ec;
  fs::create_directories(directory, ec);
  if (ec) {
    std::fprintf(stderr, "seed_corpus: cannot create %s: %s\n", directory.c_str(), ec.message().c_str());
    return 1;
  }
  CorpusWriter w(directory);
  write_handshake(w);
  write_data(w);
  write_control(w);
  write_mixed(w);
  std::printf("seed_corpus: wrote %zu files to %s\n", w.files(), directory.c_str());
  return w.ok() ? 0 : 1;
}
