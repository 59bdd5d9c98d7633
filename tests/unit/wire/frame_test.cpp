// SPDX-License-Identifier: MIT
// Unit tests of the frame codec (rudp/wire/WIRE.md §3): seeded random round
// trips of every frame type, ACK frames of every range count, DATA frames of
// every flag combination, SKIP frames at their bounds and cut short, and a few
// fixed encodings that pin the format.
#include "rudp/wire/frame.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <variant>
#include <vector>

#include "wire_test_support.hpp"

using namespace rudp;
using namespace rudp::wire;
using rudp::wire::test::FrameFactory;
using rudp::wire::test::hex;
using rudp::wire::test::kFrameKinds;
using rudp::wire::test::random_varint;
using rudp::wire::test::Rng;
using rudp::wire::test::test_seeds;
using rudp::wire::test::uniform;

namespace {

// Big enough for an ACK frame of kMaxAckRanges ranges of 8-byte varints.
constexpr std::size_t kBufferSize = 8192;

bool is_data_without_length(const Frame& frame) {
  const auto* data = std::get_if<DataFrame>(&frame);
  return data != nullptr && !data->explicit_length;
}

std::vector<AckRange> ranges_of(const AckFrame& frame) {
  std::vector<AckRange> out;
  for (const AckRange& r : frame.ranges) out.push_back(r);
  return out;
}

/// Encodes `frame`, decodes it back and checks that the decoder consumed the
/// encoding exactly (a PING after it stays unread, where the frame has an
/// end of its own), that the frames are equal, and that re-encoding the
/// decoded frame gives the same bytes.
void check_round_trip(const Frame& frame) {
  std::vector<std::byte> buffer(kBufferSize);
  Writer writer(buffer);
  REQUIRE(encode_frame(writer, frame));
  const auto encoded = writer.written();
  CAPTURE(frame.index(), hex(encoded));
  const bool self_delimiting = !is_data_without_length(frame);
  if (self_delimiting) REQUIRE(writer.u8(static_cast<std::uint8_t>(FrameType::ping)));

  Reader reader(writer.written());
  Frame decoded = PingFrame{};
  REQUIRE(decode_frame(reader, decoded) == errc{});
  CHECK(reader.position() == encoded.size());
  CHECK(reader.remaining() == (self_delimiting ? 1u : 0u));
  REQUIRE(decoded.index() == frame.index());
  CHECK(decoded == frame);

  std::vector<std::byte> again(kBufferSize);
  Writer rewriter(again);
  REQUIRE(encode_frame(rewriter, decoded));
  CHECK(hex(rewriter.written()) == hex(encoded));
}

}  // namespace

TEST_CASE("every frame type round trips with random field values", "[wire]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  FrameFactory factory(rng);
  for (std::size_t kind = 0; kind < kFrameKinds; ++kind) {
    for (int i = 0; i < 300; ++i) {
      CAPTURE(kind, i);
      check_round_trip(factory.random_frame(kind));
    }
  }
}

TEST_CASE("ACK frames round trip with 1 to kMaxAckRanges random ranges", "[wire]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  FrameFactory factory(rng);
  for (std::uint64_t count = 1; count <= kMaxAckRanges; ++count) {
    CAPTURE(count);
    const std::vector<AckRange> ranges = factory.random_ack_ranges(count);
    REQUIRE(ranges.size() == count);
    const std::uint64_t delay = random_varint(rng, kMaxAckDelay);
    std::vector<std::byte> buffer(kBufferSize);
    Writer writer(buffer);
    REQUIRE(write_ack_frame(writer, delay, ranges));

    Reader reader(writer.written());
    Frame decoded;
    REQUIRE(decode_frame(reader, decoded) == errc{});
    CHECK(reader.empty());
    const auto* ack = std::get_if<AckFrame>(&decoded);
    REQUIRE(ack != nullptr);
    CHECK(ack->ack_delay == delay);
    CHECK(ack->ranges.size() == count);
    CHECK(ack->ranges.largest() == ranges.front().largest);
    CHECK(ranges_of(*ack) == ranges);
    // The same frame built from the ranges without the decoder is equal to it.
    CHECK(*ack == factory.ack_frame(delay, ranges));
  }
}

TEST_CASE("ACK ranges at the edges of the packet number space round trip", "[wire]") {
  const auto ranges = GENERATE(
      std::vector<AckRange>{{0, 0}},
      std::vector<AckRange>{{0, kMaxPacketNumber}},
      std::vector<AckRange>{{kMaxPacketNumber, kMaxPacketNumber}},
      // Every other packet down to 0: the smallest gap, ending exactly at zero.
      std::vector<AckRange>{{10, 10}, {8, 8}, {6, 6}, {4, 4}, {2, 2}, {0, 0}},
      std::vector<AckRange>{{kMaxPacketNumber, kMaxPacketNumber}, {0, kMaxPacketNumber - 2}},
      std::vector<AckRange>{{1u << 30, 1u << 30}, {63, 16383}, {0, 61}});
  CAPTURE(ranges);
  const std::uint64_t delay = GENERATE(std::uint64_t{0}, kMaxAckDelay);
  std::array<std::byte, 128> buffer{};
  Writer writer(buffer);
  REQUIRE(write_ack_frame(writer, delay, ranges));
  Reader reader(writer.written());
  Frame decoded;
  REQUIRE(decode_frame(reader, decoded) == errc{});
  CHECK(reader.empty());
  REQUIRE(std::holds_alternative<AckFrame>(decoded));
  CHECK(std::get<AckFrame>(decoded).ack_delay == delay);
  CHECK(ranges_of(std::get<AckFrame>(decoded)) == ranges);
}

TEST_CASE("DATA frames round trip in every mode, with and without channel, fragment and length", "[wire]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  FrameFactory factory(rng);
  for (std::uint8_t mode = 0; mode < 4; ++mode) {
    for (const bool with_channel : {false, true}) {
      for (const bool fragmented : {false, true}) {
        for (const bool explicit_length : {false, true}) {
          for (int i = 0; i < 25; ++i) {
            CAPTURE(mode, with_channel, fragmented, explicit_length, i);
            const DataFrame f =
                factory.random_data(static_cast<DeliveryMode>(mode), with_channel, fragmented, explicit_length);
            check_round_trip(f);

            // The type byte is 0b100MMFCL (WIRE.md §3.6).
            std::vector<std::byte> buffer(kBufferSize);
            Writer writer(buffer);
            REQUIRE(encode_frame(writer, f));
            const unsigned type = 0x80u | (unsigned{mode} << 3) | (fragmented ? 0x04u : 0u) |
                                  (with_channel ? 0x02u : 0u) | (explicit_length ? 0x01u : 0u);
            CHECK(std::to_integer<unsigned>(buffer[0]) == type);
          }
        }
      }
    }
  }
}

TEST_CASE("frames encode to the bytes WIRE.md describes", "[wire]") {
  const std::array<std::byte, 2> payload{std::byte{0xab}, std::byte{0xcd}};
  const std::vector<AckRange> ack_ranges{{8, 10}, {2, 5}};
  std::vector<std::byte> buffer(256);
  Writer writer(buffer);

  SECTION("PADDING and PING") {
    REQUIRE(encode_frame(writer, PaddingFrame{3}));
    REQUIRE(encode_frame(writer, PingFrame{}));
    CHECK(hex(writer.written()) == "00000001");
  }
  SECTION("ACK: largest, delay, extra range count, first range, then gap and length") {
    REQUIRE(write_ack_frame(writer, 3, ack_ranges));
    CHECK(hex(writer.written()) == "020a0301020103");
  }
  SECTION("CREDIT, CLOSE and RESET") {
    REQUIRE(encode_frame(writer, CreditFrame{15293}));
    REQUIRE(encode_frame(writer, CloseFrame{0, payload}));
    REQUIRE(encode_frame(writer, ResetFrame{64, {}}));
    CHECK(hex(writer.written()) == "037bbd" "040002abcd" "05404000");
  }
  SECTION("SYN, SYN-ACK and COOKIE-ACK") {
    const HandshakeParams params{1200, 65536, 3000};
    REQUIRE(encode_frame(writer, SynFrame{params}));
    REQUIRE(encode_frame(writer, SynAckFrame{params, payload}));
    REQUIRE(encode_frame(writer, CookieAckFrame{params, {}}));
    CHECK(hex(writer.written()) == "06" "44b0" "80010000" "4bb8"
                                   "07" "44b0" "80010000" "4bb8" "02abcd"
                                   "08" "44b0" "80010000" "4bb8" "00");
  }
  SECTION("DATA: unreliable on channel 0, last in its packet, costs one byte") {
    DataFrame f;
    f.explicit_length = false;
    f.payload = payload;
    REQUIRE(encode_frame(writer, f));
    CHECK(hex(writer.written()) == "80abcd");
  }
  SECTION("DATA: reliable-ordered on channel 7, sequence 5, with a length") {
    DataFrame f;
    f.mode = DeliveryMode::reliable_ordered;
    f.channel = 7;
    f.sequence = 5;
    f.payload = payload;
    REQUIRE(encode_frame(writer, f));
    CHECK(hex(writer.written()) == "9b070502abcd");
  }
  SECTION("SKIP: channel byte, then sequence, count and cost varints") {
    REQUIRE(encode_frame(writer, SkipFrame{3, 64, 2, 100}));
    REQUIRE(encode_frame(writer, SkipFrame{0, 0, 1, 0}));
    CHECK(hex(writer.written()) == "09" "03" "4040" "02" "4064"
                                   "09" "00" "00" "01" "00");
  }
  SECTION("DATA: an unreliable fragment carries a sequence, index and count") {
    DataFrame f;
    f.sequence = 9;
    f.fragment_index = 2;
    f.fragment_count = 300;
    f.payload = payload;
    REQUIRE(encode_frame(writer, f));
    CHECK(hex(writer.written()) == "85" "09" "02" "412c" "02abcd");
  }
}

TEST_CASE("encode_frame fails cleanly in any buffer too small for the frame", "[wire]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  FrameFactory factory(rng);
  for (std::size_t kind = 0; kind < kFrameKinds; ++kind) {
    const Frame frame = factory.random_frame(kind, 8);
    std::vector<std::byte> full(kBufferSize);
    Writer sizer(full);
    REQUIRE(encode_frame(sizer, frame));
    const std::size_t size = sizer.position();
    for (std::size_t capacity = 0; capacity < size; ++capacity) {
      CAPTURE(kind, size, capacity);
      std::vector<std::byte> buffer(size, std::byte{0xa5});
      Writer writer(std::span<std::byte>(buffer).first(capacity));
      CHECK_FALSE(encode_frame(writer, frame));
      CHECK_FALSE(writer.ok());
      CHECK(writer.position() <= capacity);
      for (std::size_t i = capacity; i < size; ++i) REQUIRE(buffer[i] == std::byte{0xa5});
    }
  }
}

TEST_CASE("consecutive PADDING bytes decode as one frame up to the next non-zero byte", "[wire]") {
  const std::array<std::byte, 6> bytes{std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0},
                                       std::byte{0x01}, std::byte{0}};
  Reader reader(bytes);
  Frame frame;
  REQUIRE(decode_frame(reader, frame) == errc{});
  CHECK(frame == Frame{PaddingFrame{4}});
  REQUIRE(decode_frame(reader, frame) == errc{});
  CHECK(frame == Frame{PingFrame{}});
  REQUIRE(decode_frame(reader, frame) == errc{});
  CHECK(frame == Frame{PaddingFrame{1}});
  CHECK(reader.empty());
}

TEST_CASE("SKIP frames round trip at the edges of their fields", "[wire]") {
  const SkipFrame f = GENERATE(SkipFrame{0, 0, 1, 0}, SkipFrame{255, 0, kMaxFragmentCount, kMaxVarint},
                               SkipFrame{7, kMaxVarint, 1, 32},
                               SkipFrame{1, kMaxVarint - (kMaxFragmentCount - 1), kMaxFragmentCount, 1},
                               SkipFrame{200, 63, 64, 16383}, SkipFrame{9, 16384, 16383, (1u << 30) - 1});
  CAPTURE(f.channel, f.sequence, f.count, f.cost);
  check_round_trip(f);
}

TEST_CASE("a SKIP frame cut at any byte fails to decode", "[wire]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  FrameFactory factory(rng);
  for (int i = 0; i < 100; ++i) {
    const SkipFrame f = factory.random_skip();
    std::vector<std::byte> buffer(kBufferSize);
    Writer writer(buffer);
    REQUIRE(encode_frame(writer, f));
    const auto encoded = writer.written();
    for (std::size_t cut = 0; cut < encoded.size(); ++cut) {
      CAPTURE(i, hex(encoded), cut);
      Reader reader(encoded.first(cut));
      Frame decoded = PingFrame{};
      // The type and channel bytes are plain bytes; the rest are varints.
      CHECK(decode_frame(reader, decoded) == (cut < 2 ? errc::truncated : errc::bad_varint));
    }
  }
}
