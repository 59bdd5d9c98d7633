// SPDX-License-Identifier: MIT
// Unit tests of packets (rudp/wire/WIRE.md §2): round trips of both header
// forms through PacketWriter and parse_packet, and every class of malformed
// datagram, each rejected with its own errc. Malformed packets carry a
// correct checksum (see seal()), so that what is checked is the field, not
// the checksum.
#include "rudp/wire/packet.hpp"

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <initializer_list>
#include <variant>
#include <vector>

#include "wire_test_support.hpp"

using namespace rudp;
using namespace rudp::wire;
using rudp::wire::test::coin;
using rudp::wire::test::FrameFactory;
using rudp::wire::test::hex;
using rudp::wire::test::Rng;
using rudp::wire::test::test_seeds;
using rudp::wire::test::uniform;

namespace {

using Bytes = std::vector<std::byte>;

template <class... T>
Bytes bytes_of(T... values) {
  return {std::byte(values)...};
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

Bytes varint(std::uint64_t value) {
  Bytes out(8);
  Writer writer(out);
  REQUIRE(writer.varint(value));
  out.resize(writer.position());
  return out;
}

Bytes big_endian_u32(std::uint32_t value) {
  return bytes_of(value >> 24, (value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff);
}

/// `body` with its checksum appended: a datagram that passes the checksum
/// whatever else is wrong with it.
Bytes seal(Bytes body) {
  const Bytes sum = big_endian_u32(checksum(body));
  body.insert(body.end(), sum.begin(), sum.end());
  return body;
}

/// A data header: connection id 0x0a0b0c0d, a 1-byte packet number 42.
Bytes data_header(unsigned first_byte = 0x00) { return bytes_of(first_byte, 0x0a, 0x0b, 0x0c, 0x0d, 42); }

/// A handshake header: ids 0x0a0b0c0d and 0x01020304, a 1-byte packet number 42.
Bytes handshake_header(std::uint32_t version = kVersion, unsigned first_byte = 0x80) {
  return concat({bytes_of(first_byte), big_endian_u32(version), bytes_of(0x0a, 0x0b, 0x0c, 0x0d),
                 bytes_of(0x01, 0x02, 0x03, 0x04), bytes_of(42)});
}

/// How parse_packet judged `datagram`: errc{} when it parsed.
errc parse_error(std::span<const std::byte> datagram) {
  const Result<Packet> result = parse_packet(datagram);
  if (result) return errc{};
  REQUIRE(result.error().category() == rudp_category());
  return static_cast<errc>(result.error().value());
}

/// Checks that `frame_bytes`, sealed after either header form, is rejected as `why`.
void check_rejected(const Bytes& frame_bytes, errc why) {
  CAPTURE(hex(frame_bytes));
  CHECK(parse_error(seal(concat({data_header(), frame_bytes}))) == why);
  CHECK(parse_error(seal(concat({handshake_header(), frame_bytes}))) == why);
  // A valid frame before the bad one does not save the packet.
  CHECK(parse_error(seal(concat({data_header(), bytes_of(0x01), frame_bytes}))) == why);
}

/// Checks that `frame_bytes`, sealed after either header form, parses: the
/// control case next to each rejection, one step inside the bound.
void check_accepted(const Bytes& frame_bytes) {
  CAPTURE(hex(frame_bytes));
  CHECK(parse_error(seal(concat({data_header(), frame_bytes}))) == errc{});
  CHECK(parse_error(seal(concat({handshake_header(), frame_bytes}))) == errc{});
}

std::vector<Frame> frames_of(const Packet& packet) {
  std::vector<Frame> out;
  for (const Frame& f : packet.frames()) out.push_back(f);
  return out;
}

Header random_header(Rng& rng, HeaderForm form, std::uint8_t number_length) {
  Header h;
  h.form = form;
  h.destination.value = static_cast<std::uint32_t>(uniform(rng, 0, 0xffffffff));
  if (form == HeaderForm::handshake) h.source.value = static_cast<std::uint32_t>(uniform(rng, 0, 0xffffffff));
  h.number.length = number_length;
  h.number.value = static_cast<std::uint32_t>(uniform(rng, 0, (std::uint64_t{1} << (8 * number_length)) - 1));
  return h;
}

/// A valid datagram, with what went into it.
struct BuiltPacket {
  Header header;
  std::vector<Frame> frames;
  std::vector<std::size_t> frame_ends;  ///< the offset just past each frame
  Bytes bytes;
};

BuiltPacket build_packet(const Header& header, std::vector<Frame> frames) {
  BuiltPacket b{header, std::move(frames), {}, Bytes(kMaxDatagramSize)};
  PacketWriter writer(b.bytes, header);
  for (const Frame& f : b.frames) {
    REQUIRE(encode_frame(writer.frames(), f));
    b.frame_ends.push_back(writer.frames().position());
  }
  const Result<std::size_t> size = writer.finish();
  REQUIRE(size);
  b.bytes.resize(*size);
  return b;
}

BuiltPacket random_packet(Rng& rng, FrameFactory& factory, bool self_delimiting) {
  const HeaderForm form = coin(rng) ? HeaderForm::handshake : HeaderForm::data;
  const auto length = static_cast<std::uint8_t>(uniform(rng, 1, 4));
  const Header header = random_header(rng, form, length);
  return build_packet(header, factory.random_payload(8, self_delimiting));
}

}  // namespace

TEST_CASE("packets of both header forms round trip with several frames", "[wire]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  const HeaderForm form = GENERATE(HeaderForm::data, HeaderForm::handshake);
  const auto number_length = static_cast<std::uint8_t>(GENERATE(1, 2, 3, 4));
  CAPTURE(seed, form, number_length);
  Rng rng(seed);
  FrameFactory factory(rng);
  for (int i = 0; i < 100; ++i) {
    CAPTURE(i);
    const Header header = random_header(rng, form, number_length);
    const bool self_delimiting = coin(rng);
    const BuiltPacket built = build_packet(header, factory.random_payload(8, self_delimiting));
    CAPTURE(hex(built.bytes));
    const Result<Packet> parsed = parse_packet(built.bytes);
    REQUIRE(parsed);
    CHECK(parsed->header == built.header);
    CHECK(built.bytes.size() == built.frame_ends.back() + kChecksumSize);
    CHECK(parsed->payload.data() == built.bytes.data() + header_size(built.header));
    CHECK(parsed->payload.size() == built.frame_ends.back() - header_size(built.header));
    const std::vector<Frame> frames = frames_of(*parsed);
    REQUIRE(frames.size() == built.frames.size());
    bool eliciting = false;
    bool closes = false;
    for (std::size_t f = 0; f < frames.size(); ++f) {
      CAPTURE(f, frames[f].index());
      CHECK(frames[f] == built.frames[f]);
      eliciting = eliciting || !(std::holds_alternative<AckFrame>(built.frames[f]) ||
                                 std::holds_alternative<PaddingFrame>(built.frames[f]));
      closes = closes || std::holds_alternative<CloseFrame>(built.frames[f]);
    }
    CHECK(parsed->ack_eliciting == eliciting);
    CHECK(parsed->closes == closes);

    // Canonical encoding: re-encoding what was parsed gives the same bytes.
    Bytes again(kMaxDatagramSize);
    PacketWriter rewriter(again, parsed->header);
    for (const Frame& f : frames) REQUIRE(encode_frame(rewriter.frames(), f));
    const Result<std::size_t> size = rewriter.finish();
    REQUIRE(size);
    again.resize(*size);
    CHECK(hex(again) == hex(built.bytes));
  }
}

TEST_CASE("the header layout is the one WIRE.md describes", "[wire]") {
  std::array<std::byte, 64> buffer{};
  SECTION("data header") {
    PacketWriter writer(buffer, Header{HeaderForm::data, kVersion, {0x0a0b0c0d}, {}, {0x0102, 2}});
    REQUIRE(encode_frame(writer.frames(), PingFrame{}));
    const Result<std::size_t> size = writer.finish();
    REQUIRE(size);
    const auto packet = std::span<const std::byte>(buffer).first(*size);
    CHECK(hex(packet.first(8)) == "01" "0a0b0c0d" "0102" "01");
    CHECK(hex(packet.last(4)) == hex(big_endian_u32(checksum(packet.first(8)))));
  }
  SECTION("handshake header") {
    PacketWriter writer(buffer, Header{HeaderForm::handshake, kVersion, {0x0a0b0c0d}, {0x01020304}, {0xabcdef, 3}});
    REQUIRE(encode_frame(writer.frames(), PingFrame{}));
    const Result<std::size_t> size = writer.finish();
    REQUIRE(size);
    const auto packet = std::span<const std::byte>(buffer).first(*size);
    CHECK(hex(packet.first(17)) == "82" "00000001" "0a0b0c0d" "01020304" "abcdef" "01");
    CHECK(packet.size() == 21);
  }
}

TEST_CASE("PacketWriter reports a buffer too small and a packet without frames", "[wire]") {
  const Header header{HeaderForm::handshake, kVersion, {1}, {2}, {3, 4}};  // 17 header bytes
  SECTION("no frame") {
    std::array<std::byte, 64> buffer{};
    PacketWriter writer(buffer, header);
    CHECK(writer.finish().error() == errc::truncated);
  }
  SECTION("a header that does not fit") {
    const std::size_t capacity = GENERATE(as<std::size_t>{}, 0, 1, 4, 16, 20);
    CAPTURE(capacity);
    Bytes buffer(capacity);
    PacketWriter writer(buffer, header);
    encode_frame(writer.frames(), PingFrame{});
    CHECK(writer.finish().error() == errc::buffer_too_small);
  }
  SECTION("a frame that does not fit, by one byte") {
    Bytes buffer(17 + 3 + kChecksumSize);
    PacketWriter writer(buffer, header);
    CHECK_FALSE(encode_frame(writer.frames(), CreditFrame{16384}));  // 1 + 4 bytes
    CHECK(writer.finish().error() == errc::buffer_too_small);
  }
  SECTION("a frame that fits exactly") {
    Bytes buffer(17 + 5 + kChecksumSize);
    PacketWriter writer(buffer, header);
    CHECK(encode_frame(writer.frames(), CreditFrame{16384}));
    const Result<std::size_t> size = writer.finish();
    REQUIRE(size);
    CHECK(*size == buffer.size());
    CHECK(parse_error(buffer) == errc{});
  }
}

TEST_CASE("PacketWriter never seals a datagram longer than kMaxDatagramSize", "[wire]") {
  Bytes buffer(kMaxDatagramSize + 100);
  PacketWriter writer(buffer, Header{});
  REQUIRE(encode_frame(writer.frames(), PingFrame{}));
  CHECK(writer.frames().remaining() == kMaxDatagramSize - kChecksumSize - 7);
  REQUIRE(encode_frame(writer.frames(), PaddingFrame{writer.frames().remaining()}));
  const Result<std::size_t> size = writer.finish();
  REQUIRE(size);
  CHECK(*size == kMaxDatagramSize);
  CHECK(parse_error(std::span<const std::byte>(buffer).first(*size)) == errc{});
}

TEST_CASE("truncation at every byte offset is rejected", "[wire]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  FrameFactory factory(rng);
  for (int i = 0; i < 40; ++i) {
    // No PADDING and no DATA without a length, so a frame is never complete
    // before its last byte.
    const BuiltPacket built = random_packet(rng, factory, true);
    CAPTURE(i, hex(built.bytes));
    const std::span<const std::byte> datagram = built.bytes;
    const std::size_t body_size = datagram.size() - kChecksumSize;
    for (std::size_t cut = 0; cut < datagram.size(); ++cut) {
      CAPTURE(cut);
      // Cut as it arrives: the checksum no longer matches, or it is too short.
      CHECK(parse_error(datagram.first(cut)) != errc{});
      if (cut >= body_size) continue;

      // Cut, then sealed again: only the fields are wrong.
      const Bytes resealed = seal(Bytes(datagram.begin(), datagram.begin() + static_cast<std::ptrdiff_t>(cut)));
      const errc why = parse_error(resealed);
      CAPTURE(why);
      const auto frame_end = std::find(built.frame_ends.begin(), built.frame_ends.end(), cut);
      if (frame_end == built.frame_ends.end()) {
        CHECK((why == errc::truncated || why == errc::bad_varint));
      } else {
        // Cut right after a frame: a valid packet of the frames before the cut.
        REQUIRE(why == errc{});
        const Result<Packet> parsed = parse_packet(resealed);
        const std::vector<Frame> frames = frames_of(*parsed);
        const auto kept = static_cast<std::size_t>(frame_end - built.frame_ends.begin()) + 1;
        REQUIRE(frames.size() == kept);
        CHECK(std::equal(frames.begin(), frames.end(), built.frames.begin()));
      }
    }
  }
}

TEST_CASE("every single-bit flip of a valid packet is a checksum_mismatch", "[wire]") {
  const std::uint64_t seed = GENERATE(from_range(test_seeds()));
  CAPTURE(seed);
  Rng rng(seed);
  FrameFactory factory(rng);
  std::vector<BuiltPacket> packets;
  for (int i = 0; i < 64; ++i) packets.push_back(random_packet(rng, factory, coin(rng)));
  // The smallest packets of each form, where a flip has the fewest bytes to hide in.
  packets.push_back(build_packet(Header{}, {PingFrame{}}));
  packets.push_back(build_packet(Header{HeaderForm::handshake, kVersion, {}, {7}, {0, 1}}, {PingFrame{}}));

  std::size_t flips = 0;
  std::size_t rejected = 0;
  const auto flip_and_parse = [&](Bytes& bytes, std::size_t bit) {
    bytes[bit / 8] ^= std::byte(1u << (bit % 8));
    const errc why = parse_error(bytes);
    bytes[bit / 8] ^= std::byte(1u << (bit % 8));
    ++flips;
    if (why == errc::checksum_mismatch) {
      ++rejected;
    } else {
      CAPTURE(hex(bytes), bit, why);
      FAIL_CHECK("a single-bit flip was not a checksum_mismatch");
    }
  };
  // Every bit of every packet ...
  for (BuiltPacket& p : packets) {
    for (std::size_t bit = 0; bit < p.bytes.size() * 8; ++bit) flip_and_parse(p.bytes, bit);
  }
  // ... and 100,000 more sampled at random over the set.
  for (int i = 0; i < 100'000; ++i) {
    BuiltPacket& p = packets[static_cast<std::size_t>(uniform(rng, 0, packets.size() - 1))];
    flip_and_parse(p.bytes, static_cast<std::size_t>(uniform(rng, 0, p.bytes.size() * 8 - 1)));
  }
  CHECK(flips >= 100'000);
  CHECK(rejected == flips);
  for (const BuiltPacket& p : packets) REQUIRE(parse_error(p.bytes) == errc{});
}

TEST_CASE("datagrams too short or without a frame are truncated", "[wire]") {
  for (std::size_t size = 0; size < kMinPacketSize; ++size) {
    CAPTURE(size);
    CHECK(parse_error(Bytes(size)) == errc::truncated);
  }
  // Bytes(11) is long enough but all zero: its checksum does not match.
  CHECK(parse_error(Bytes(kMinPacketSize)) == errc::checksum_mismatch);
  CHECK(parse_error(seal(data_header())) == errc::truncated);
  CHECK(parse_error(seal(bytes_of(0x03, 1, 2, 3, 4, 5, 6, 7, 8))) == errc::truncated);
  CHECK(parse_error(seal(handshake_header())) == errc::truncated);
  CHECK(parse_error(seal(concat({handshake_header(), bytes_of(0x01)}))) == errc{});
  // Handshake headers that end early: in the ids, in the packet number.
  CHECK(parse_error(seal(bytes_of(0x80, 0, 0, 0, 1, 9, 9, 9))) == errc::truncated);
  CHECK(parse_error(seal(bytes_of(0x83, 0, 0, 0, 1, 9, 9, 9, 9, 8, 8, 8, 8, 7, 7))) == errc::truncated);
}

TEST_CASE("datagrams longer than kMaxDatagramSize are field_out_of_range", "[wire]") {
  // A data header, a PING, then PADDING up to `size` with the checksum.
  const auto padded = [](std::size_t size) {
    Bytes body = concat({data_header(), bytes_of(0x01)});
    body.resize(size - kChecksumSize);
    return seal(std::move(body));
  };
  CHECK(parse_error(padded(kMaxDatagramSize)) == errc{});
  CHECK(parse_error(padded(kMaxDatagramSize + 1)) == errc::field_out_of_range);
  CHECK(parse_error(padded(2 * kMaxDatagramSize)) == errc::field_out_of_range);
  // The size is judged before the checksum.
  Bytes corrupt = padded(kMaxDatagramSize + 1);
  corrupt[8] ^= std::byte{0x10};
  CHECK(parse_error(corrupt) == errc::field_out_of_range);
}

TEST_CASE("the checksum is verified before any other field", "[wire]") {
  Bytes bad_version = seal(concat({handshake_header(2), bytes_of(0x01)}));
  Bytes reserved_bit = seal(concat({data_header(0x40), bytes_of(0x01)}));
  Bytes unknown_frame = seal(concat({data_header(), bytes_of(0x0a)}));
  for (Bytes* datagram : {&bad_version, &reserved_bit, &unknown_frame}) {
    CHECK(parse_error(*datagram) != errc::checksum_mismatch);
    datagram->back() ^= std::byte{0x01};
    CHECK(parse_error(*datagram) == errc::checksum_mismatch);
  }
}

TEST_CASE("handshake headers of another version are unsupported_version", "[wire]") {
  const std::uint32_t version = GENERATE(0u, 2u, 0x0100'0000u, 0xffff'ffffu);
  CAPTURE(version);
  CHECK(parse_error(seal(concat({handshake_header(version), bytes_of(0x01)}))) == errc::unsupported_version);

  std::array<std::byte, 64> buffer{};
  PacketWriter writer(buffer, Header{HeaderForm::handshake, version, {1}, {2}, {3, 1}});
  REQUIRE(encode_frame(writer.frames(), PingFrame{}));
  const Result<std::size_t> size = writer.finish();
  REQUIRE(size);
  CHECK(parse_error(std::span<const std::byte>(buffer).first(*size)) == errc::unsupported_version);
}

TEST_CASE("reserved header bits are field_out_of_range", "[wire]") {
  const unsigned bit = GENERATE(0x04u, 0x08u, 0x10u, 0x20u, 0x40u);
  const unsigned number_length_bits = GENERATE(0u, 3u);
  CAPTURE(bit, number_length_bits);
  // With the packet number length bits set too, the header needs 3 more bytes.
  const Bytes extra = number_length_bits == 0 ? Bytes{} : bytes_of(0, 0, 0);
  CHECK(parse_error(seal(concat({data_header(bit | number_length_bits), extra, bytes_of(0x01)}))) ==
        errc::field_out_of_range);
  CHECK(parse_error(seal(concat({handshake_header(kVersion, 0x80 | bit | number_length_bits), extra,
                                 bytes_of(0x01)}))) == errc::field_out_of_range);
  CHECK(parse_error(seal(concat({data_header(number_length_bits), extra, bytes_of(0x01)}))) == errc{});
}

TEST_CASE("ACK frames claiming too many ranges are field_out_of_range", "[wire]") {
  const Bytes head = concat({bytes_of(0x02), varint(100'000), varint(0)});
  check_rejected(concat({head, varint(std::uint64_t{1} << 30), varint(0)}), errc::field_out_of_range);
  check_rejected(concat({head, varint(kMaxVarint), varint(0)}), errc::field_out_of_range);
  check_rejected(concat({head, varint(kMaxAckRanges), varint(0)}), errc::field_out_of_range);
  // kMaxAckRanges - 1 extra ranges of one packet each, every other packet.
  Bytes most = concat({head, varint(kMaxAckRanges - 1), varint(0)});
  for (std::uint64_t i = 0; i + 1 < kMaxAckRanges; ++i) most.insert(most.end(), {std::byte{0}, std::byte{0}});
  check_accepted(most);
}

TEST_CASE("ACK ranges that pass below packet number 0 are field_out_of_range", "[wire]") {
  // largest 5, first range 2: packets 3 to 5.
  const Bytes head = bytes_of(0x02, 5, 0);
  check_rejected(concat({bytes_of(0x02, 5, 0, 0), varint(6)}), errc::field_out_of_range);  // first range below 0
  check_rejected(concat({bytes_of(0x02, 5, 0, 0), varint(kMaxVarint)}), errc::field_out_of_range);
  check_rejected(concat({head, bytes_of(1, 2, 2, 0)}), errc::field_out_of_range);  // gap: largest -1
  check_rejected(concat({head, bytes_of(1, 2), varint(kMaxVarint), bytes_of(0)}), errc::field_out_of_range);
  check_rejected(concat({head, bytes_of(1, 2, 1, 1)}), errc::field_out_of_range);  // length: smallest -1
  check_rejected(concat({head, bytes_of(1, 2, 0), varint(kMaxVarint)}), errc::field_out_of_range);
  check_rejected(bytes_of(0x02, 1, 0, 1, 0, 0, 0), errc::field_out_of_range);  // smallest 1: no room for a gap
  check_rejected(bytes_of(0x02, 5, 0, 2, 2, 1, 0, 0, 0), errc::field_out_of_range);  // the third range underflows
  check_accepted(concat({head, bytes_of(1, 2, 1, 0)}));  // packets 3 to 5, then 0
  check_accepted(concat({head, bytes_of(1, 2, 0, 1)}));  // packets 3 to 5, then 0 to 1
  check_accepted(concat({bytes_of(0x02, 5, 0, 0), varint(5)}));
}

TEST_CASE("other fields over their bounds are field_out_of_range", "[wire]") {
  const Bytes params_ok = concat({varint(kMinDatagramSize), varint(0), varint(0)});
  SECTION("ack delay") {
    check_rejected(concat({bytes_of(0x02, 5), varint(kMaxAckDelay + 1), bytes_of(0, 0)}), errc::field_out_of_range);
    check_accepted(concat({bytes_of(0x02, 5), varint(kMaxAckDelay), bytes_of(0, 0)}));
  }
  SECTION("reason longer than kMaxReasonLength") {
    for (const unsigned type : {0x04u, 0x05u}) {
      CAPTURE(type);
      check_rejected(concat({bytes_of(type, 0), varint(kMaxReasonLength + 1), Bytes(kMaxReasonLength + 1)}),
                     errc::field_out_of_range);
      check_rejected(concat({bytes_of(type, 0), varint(kMaxVarint)}), errc::field_out_of_range);
      check_accepted(concat({bytes_of(type, 0), varint(kMaxReasonLength), Bytes(kMaxReasonLength)}));
    }
  }
  SECTION("cookie longer than kMaxCookieSize") {
    for (const unsigned type : {0x07u, 0x08u}) {
      CAPTURE(type);
      check_rejected(concat({bytes_of(type), params_ok, varint(kMaxCookieSize + 1), Bytes(kMaxCookieSize + 1)}),
                     errc::field_out_of_range);
      check_accepted(concat({bytes_of(type), params_ok, varint(kMaxCookieSize), Bytes(kMaxCookieSize)}));
    }
  }
  SECTION("handshake params") {
    for (const unsigned type : {0x06u, 0x07u, 0x08u}) {
      CAPTURE(type);
      const Bytes cookie = type == 0x06u ? Bytes{} : bytes_of(0);
      const auto params = [&](std::uint64_t size, std::uint64_t idle) {
        return concat({bytes_of(type), varint(size), varint(kMaxVarint), varint(idle), cookie});
      };
      check_rejected(params(kMinDatagramSize - 1, 0), errc::field_out_of_range);
      check_rejected(params(0, 0), errc::field_out_of_range);
      check_rejected(params(kMaxDatagramSize + 1, 0), errc::field_out_of_range);
      check_rejected(params(kMinDatagramSize, kMaxIdleTimeoutMillis + 1), errc::field_out_of_range);
      check_accepted(params(kMinDatagramSize, kMaxIdleTimeoutMillis));
      check_accepted(params(kMaxDatagramSize, 0));
    }
  }
  SECTION("fragment index and count") {
    // DATA, unreliable, fragment flag, length flag; sequence 1, then index, count, empty payload.
    const auto fragment = [](std::uint64_t index, std::uint64_t count) {
      return concat({bytes_of(0x85, 1), varint(index), varint(count), bytes_of(0)});
    };
    check_rejected(fragment(2, 2), errc::field_out_of_range);
    check_rejected(fragment(3, 2), errc::field_out_of_range);
    check_rejected(fragment(kMaxFragmentCount, kMaxFragmentCount), errc::field_out_of_range);
    check_rejected(fragment(0, 1), errc::field_out_of_range);
    check_rejected(fragment(0, 0), errc::field_out_of_range);
    check_rejected(fragment(0, kMaxFragmentCount + 1), errc::field_out_of_range);
    check_accepted(fragment(1, 2));
    check_accepted(fragment(kMaxFragmentCount - 1, kMaxFragmentCount));
  }
  SECTION("SKIP count and last chunk") {
    // SKIP on channel 3, then sequence, count and a cost of 10.
    const auto skip = [](std::uint64_t sequence, std::uint64_t count) {
      return concat({bytes_of(0x09, 3), varint(sequence), varint(count), varint(10)});
    };
    check_rejected(skip(5, 0), errc::field_out_of_range);
    check_rejected(skip(5, kMaxFragmentCount + 1), errc::field_out_of_range);
    check_rejected(skip(5, kMaxVarint), errc::field_out_of_range);
    check_rejected(skip(kMaxVarint, 2), errc::field_out_of_range);
    check_rejected(skip(kMaxVarint - (kMaxFragmentCount - 2), kMaxFragmentCount), errc::field_out_of_range);
    check_accepted(skip(5, 1));
    check_accepted(skip(5, kMaxFragmentCount));
    check_accepted(skip(kMaxVarint, 1));
    check_accepted(skip(kMaxVarint - (kMaxFragmentCount - 1), kMaxFragmentCount));
  }
}

TEST_CASE("non-canonical encodings inside frames are non_canonical", "[wire]") {
  check_rejected(bytes_of(0x03, 0x40, 0x01), errc::non_canonical);               // CREDIT limit 1 in 2 bytes
  check_rejected(bytes_of(0x02, 0x40, 0x05, 0, 0, 0), errc::non_canonical);      // ACK largest
  check_rejected(bytes_of(0x02, 5, 0, 0x80, 0, 0, 0, 0), errc::non_canonical);   // ACK range count
  check_rejected(bytes_of(0x02, 5, 0, 1, 2, 0x40, 0, 0), errc::non_canonical);   // ACK gap
  check_rejected(bytes_of(0x04, 0, 0x40, 0x01, 0xaa), errc::non_canonical);      // CLOSE reason length
  check_rejected(bytes_of(0x05, 0x40, 0x00, 0), errc::non_canonical);            // RESET error code
  check_rejected(bytes_of(0x06, 0x80, 0, 0x04, 0xb0, 0, 0), errc::non_canonical);  // SYN max datagram size
  check_rejected(bytes_of(0x99, 0x40, 0x05, 0), errc::non_canonical);            // DATA sequence
  check_rejected(bytes_of(0x85, 1, 0, 0x40, 2, 0), errc::non_canonical);         // DATA fragment count
  check_rejected(bytes_of(0x81, 0x40, 0x01, 0xaa), errc::non_canonical);         // DATA length
  check_rejected(bytes_of(0x09, 0, 0x40, 0x05, 1, 0), errc::non_canonical);      // SKIP sequence
  check_rejected(bytes_of(0x09, 0, 5, 0x40, 0x01, 0), errc::non_canonical);      // SKIP count
  check_rejected(bytes_of(0x09, 0, 5, 1, 0x40, 0x00), errc::non_canonical);      // SKIP cost
  check_accepted(bytes_of(0x09, 0, 5, 1, 0));
  check_accepted(bytes_of(0x81, 0x01, 0xaa));
}

TEST_CASE("DATA with the channel flag and channel 0 is non_canonical", "[wire]") {
  for (unsigned type = 0x82; type <= 0x9f; ++type) {
    if ((type & 0x02u) == 0) continue;
    CAPTURE(type);
    // Channel, then sequence 1 (read only where the mode or fragment flag asks
    // for it), fragment index 0 and count 2 (only with the fragment flag),
    // then an empty payload or a zero length.
    const Bytes rest = (type & 0x04u) ? bytes_of(1, 0, 2, 0) : ((type & 0x18u) ? bytes_of(1, 0) : bytes_of(0));
    check_rejected(concat({bytes_of(type, 0), rest}), errc::non_canonical);
    check_accepted(concat({bytes_of(type, 1), rest}));
  }
}

TEST_CASE("reserved frame types and DATA reserved bits are unknown_frame", "[wire]") {
  for (unsigned type = 0x0a; type <= 0x7f; ++type) {
    CAPTURE(type);
    check_rejected(bytes_of(type, 0, 0, 0), errc::unknown_frame);
  }
  for (unsigned type = 0xa0; type <= 0xff; ++type) {
    CAPTURE(type);
    check_rejected(bytes_of(type, 1, 1, 0), errc::unknown_frame);
    // The same frame without the reserved bits is a DATA frame.
    if (type == (0xa0u | 0x01u)) check_accepted(bytes_of(type & ~0x60u, 0));
  }
}

TEST_CASE("frames that end early are truncated or bad_varint", "[wire]") {
  check_rejected(bytes_of(0x81, 5, 1, 2, 3, 4), errc::truncated);  // DATA length past the end
  check_rejected(bytes_of(0x83), errc::truncated);                 // DATA channel byte missing
  check_rejected(bytes_of(0x04, 0, 3, 1, 2), errc::truncated);     // CLOSE reason past the end
  check_rejected(bytes_of(0x07, 0x44, 0xb0, 0, 0, 5, 1, 2), errc::truncated);  // SYN-ACK cookie past the end
  check_rejected(bytes_of(0x03), errc::bad_varint);                       // CREDIT limit missing
  check_rejected(bytes_of(0x03, 0x80, 0, 0), errc::bad_varint);           // CREDIT limit cut
  check_rejected(bytes_of(0x02, 5, 0, 1, 0, 0), errc::bad_varint);        // ACK range length missing
  check_rejected(bytes_of(0x99), errc::bad_varint);                       // DATA sequence missing
  check_rejected(bytes_of(0x09), errc::truncated);                        // SKIP channel missing
  check_rejected(bytes_of(0x09, 0, 5, 1), errc::bad_varint);              // SKIP cost missing
  check_rejected(bytes_of(0x09, 0, 5, 0x40), errc::bad_varint);           // SKIP count cut
}
