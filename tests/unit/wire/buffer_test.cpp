// SPDX-License-Identifier: MIT
// Unit tests of the bounded Reader and Writer and of QUIC varints
// (rudp/wire/WIRE.md §1, RFC 9000 §16 and appendix A.1).
#include "rudp/wire/buffer.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "wire_test_support.hpp"

using namespace rudp;
using namespace rudp::wire;
using rudp::wire::test::hex;

namespace {

template <class... T>
std::vector<std::byte> bytes_of(T... values) {
  return {std::byte(values)...};
}

bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

TEST_CASE("varint sizes at every length boundary", "[wire]") {
  CHECK(varint_size(0) == 1);
  CHECK(varint_size(63) == 1);
  CHECK(varint_size(64) == 2);
  CHECK(varint_size(16383) == 2);
  CHECK(varint_size(16384) == 4);
  CHECK(varint_size((1u << 30) - 1) == 4);
  CHECK(varint_size(1u << 30) == 8);
  CHECK(varint_size(kMaxVarint) == 8);
}

TEST_CASE("varints round trip at the boundary values of every length", "[wire]") {
  const auto [value, size] = GENERATE(table<std::uint64_t, std::size_t>({
      {0, 1},
      {1, 1},
      {63, 1},
      {64, 2},
      {16383, 2},
      {16384, 4},
      {(std::uint64_t{1} << 30) - 1, 4},
      {std::uint64_t{1} << 30, 8},
      {kMaxVarint - 1, 8},
      {kMaxVarint, 8},
  }));
  CAPTURE(value);
  std::array<std::byte, 8> buffer{};
  Writer writer(buffer);
  REQUIRE(writer.varint(value));
  CHECK(writer.position() == size);
  // The two top bits of the first byte give the length: 00, 01, 10, 11.
  const auto length_bits = std::to_integer<unsigned>(buffer[0]) >> 6;
  CHECK((std::size_t{1} << length_bits) == size);

  Reader reader(writer.written());
  std::uint64_t decoded = ~value;
  REQUIRE(reader.varint(decoded));
  CHECK(decoded == value);
  CHECK(reader.empty());
}

TEST_CASE("varints encode to the bytes of RFC 9000 appendix A.1", "[wire]") {
  const auto [value, encoding] = GENERATE(table<std::uint64_t, std::vector<std::byte>>({
      {151'288'809'941'952'652, bytes_of(0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c)},
      {494'878'333, bytes_of(0x9d, 0x7f, 0x3e, 0x7d)},
      {15'293, bytes_of(0x7b, 0xbd)},
      {37, bytes_of(0x25)},
  }));
  CAPTURE(value);
  std::array<std::byte, 8> buffer{};
  Writer writer(buffer);
  REQUIRE(writer.varint(value));
  CHECK(hex(writer.written()) == hex(encoding));

  Reader reader(encoding);
  std::uint64_t decoded = 0;
  REQUIRE(reader.varint(decoded));
  CHECK(decoded == value);
  CHECK(reader.empty());
}

TEST_CASE("varints longer than their value needs are non_canonical", "[wire]") {
  const auto encoding = GENERATE(bytes_of(0x40, 0x01),  // 1 in two bytes
                                 bytes_of(0x40, 0x00),  // 0 in two bytes
                                 bytes_of(0x40, 0x25),  // RFC 9000 A.1's two-byte 37
                                 bytes_of(0x40, 0x3f),  // 63, the largest one-byte value, in two
                                 bytes_of(0x80, 0x00, 0x00, 0x3f),
                                 bytes_of(0x80, 0x00, 0x3f, 0xff),  // 16383 in four bytes
                                 bytes_of(0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00),
                                 bytes_of(0xc0, 0x00, 0x00, 0x00, 0x3f, 0xff, 0xff, 0xff));  // 2^30 - 1 in eight
  CAPTURE(hex(encoding));
  Reader reader(encoding);
  std::uint64_t value = 12345;
  CHECK_FALSE(reader.varint(value));
  CHECK(reader.error() == errc::non_canonical);
  CHECK(reader.position() == 0);
  CHECK(value == 12345);
}

TEST_CASE("the smallest value of each varint length is canonical", "[wire]") {
  const auto [encoding, value] = GENERATE(table<std::vector<std::byte>, std::uint64_t>({
      {bytes_of(0x40, 0x40), 64},
      {bytes_of(0x80, 0x00, 0x40, 0x00), 16384},
      {bytes_of(0xc0, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00), std::uint64_t{1} << 30},
  }));
  CAPTURE(hex(encoding));
  Reader reader(encoding);
  std::uint64_t decoded = 0;
  REQUIRE(reader.varint(decoded));
  CHECK(decoded == value);
  CHECK(reader.empty());
}

TEST_CASE("a varint that runs off the end is bad_varint", "[wire]") {
  const std::uint64_t value = GENERATE(as<std::uint64_t>{}, 0, 64, 16384, std::uint64_t{1} << 30, kMaxVarint);
  std::array<std::byte, 8> buffer{};
  Writer writer(buffer);
  REQUIRE(writer.varint(value));
  const auto full = writer.written();
  for (std::size_t cut = 0; cut < full.size(); ++cut) {
    CAPTURE(value, cut);
    Reader reader(full.first(cut));
    std::uint64_t decoded = 777;
    CHECK_FALSE(reader.varint(decoded));
    CHECK(reader.error() == errc::bad_varint);
    CHECK(reader.position() == 0);
    CHECK(decoded == 777);
  }
}

TEST_CASE("a varint over its bound is field_out_of_range and the reader stays put", "[wire]") {
  const auto encoding = bytes_of(0x07, 0x44, 0xb0);  // 7, then 1200
  Reader reader(encoding);
  std::uint64_t value = 0;
  REQUIRE(reader.varint(value, 7));
  CHECK(value == 7);
  CHECK_FALSE(reader.varint(value, 1199));
  CHECK(reader.error() == errc::field_out_of_range);
  CHECK(reader.position() == 1);
  CHECK(value == 7);
  REQUIRE(reader.varint(value, 1200));
  CHECK(value == 1200);
  CHECK(reader.empty());
}

TEST_CASE("a failed read leaves the reader's position and output unchanged", "[wire]") {
  // 0x11; 0x40 0x01, a non-canonical varint; then 0xaa 0xbb 0xc0: the first
  // bytes of a 4-byte and of an 8-byte varint, neither complete.
  const auto encoding = bytes_of(0x11, 0x40, 0x01, 0xaa, 0xbb, 0xc0);
  Reader reader(encoding);
  std::uint8_t byte = 0x5a;
  std::uint32_t u32 = 0x5a5a5a5a;
  std::uint64_t varint = 0x5a5a;
  std::span<const std::byte> view;
  const auto check_failed = [&](bool read, errc why, std::size_t position) {
    CHECK_FALSE(read);
    CHECK(reader.error() == why);
    CHECK(reader.position() == position);
    CHECK(byte == 0x5a);
    CHECK(u32 == 0x5a5a5a5a);
    CHECK(varint == 0x5a5a);
    CHECK(view.empty());
  };

  REQUIRE(reader.u8(byte));
  CHECK(byte == 0x11);
  byte = 0x5a;
  check_failed(reader.bytes(6, view), errc::truncated, 1);
  check_failed(reader.varint(varint), errc::non_canonical, 1);
  check_failed(reader.varint(varint, 0), errc::non_canonical, 1);

  REQUIRE(reader.bytes(2, view));
  view = {};
  check_failed(reader.u32(u32), errc::truncated, 3);
  check_failed(reader.uint(4, u32), errc::truncated, 3);
  check_failed(reader.varint(varint), errc::bad_varint, 3);
  check_failed(reader.varint(varint, 0), errc::bad_varint, 3);

  REQUIRE(reader.u8(byte));
  REQUIRE(reader.u8(byte));
  CHECK(byte == 0xbb);
  byte = 0x5a;
  check_failed(reader.varint(varint), errc::bad_varint, 5);
  check_failed(reader.uint(2, u32), errc::truncated, 5);

  REQUIRE(reader.u8(byte));
  CHECK(byte == 0xc0);
  byte = 0x5a;
  CHECK(reader.empty());
  check_failed(reader.u8(byte), errc::truncated, 6);
  check_failed(reader.bytes(1, view), errc::truncated, 6);
  check_failed(reader.varint(varint), errc::bad_varint, 6);
  CHECK(reader.bytes(0, view));
  CHECK(view.empty());
}

TEST_CASE("skip_zeros, rest and since see exactly the reader's bytes", "[wire]") {
  const auto encoding = bytes_of(0x00, 0x00, 0x00, 0x05, 0x00);
  Reader reader(encoding);
  CHECK(reader.skip_zeros() == 3);
  CHECK(reader.skip_zeros() == 0);
  CHECK(hex(reader.since(1)) == "0000");
  CHECK(hex(reader.rest()) == "0500");
  CHECK(reader.empty());
  CHECK(reader.rest().empty());
  CHECK(reader.skip_zeros() == 0);
}

TEST_CASE("a writer never writes past its span", "[wire]") {
  // Each write, and the bytes it appends, against a model of the contract:
  // a write that does not fit writes nothing, and no write succeeds after it.
  struct Step {
    const char* what;
    std::size_t size;
  };
  const std::array<Step, 7> steps{{
      {"u8", 1},
      {"u32", 4},
      {"uint(3)", 3},
      {"varint 2^30", 8},
      {"varint 64", 2},
      {"bytes(5)", 5},
      {"zeros(3)", 3},
  }};
  const auto payload = bytes_of(0xde, 0xad, 0xbe, 0xef, 0x42);
  const auto run = [&](Writer& w, std::size_t i) {
    switch (i) {
      case 0:
        return w.u8(0x11);
      case 1:
        return w.u32(0x22334455);
      case 2:
        return w.uint(3, 0xff667788);
      case 3:
        return w.varint(std::uint64_t{1} << 30);
      case 4:
        return w.varint(64);
      case 5:
        return w.bytes(payload);
      default:
        return w.zeros(3);
    }
  };

  std::array<std::byte, 64> reference_buffer{};
  Writer reference(reference_buffer);
  for (std::size_t i = 0; i < steps.size(); ++i) REQUIRE(run(reference, i));
  CHECK(hex(reference.written()) == "1122334455667788c0000000400000004040deadbeef42000000");

  constexpr auto kSentinel = std::byte{0xa5};
  const std::size_t capacity = GENERATE(range(std::size_t{0}, std::size_t{27}));
  const std::size_t start = GENERATE(std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{4},
                                     std::size_t{5}, std::size_t{6});
  CAPTURE(capacity, start);
  std::array<std::byte, 64> buffer{};
  buffer.fill(kSentinel);
  Writer writer(std::span<std::byte>(buffer).first(capacity));
  std::size_t model_position = 0;
  bool model_ok = true;
  // Starting partway through the list puts each kind of write at the overflow point.
  for (std::size_t n = 0; n < steps.size(); ++n) {
    const std::size_t i = (start + n) % steps.size();
    CAPTURE(steps[i].what);
    const bool fits = model_ok && model_position + steps[i].size <= capacity;
    CHECK(run(writer, i) == fits);
    if (fits) {
      model_position += steps[i].size;
    } else {
      model_ok = false;
    }
    CHECK(writer.ok() == model_ok);
    CHECK(writer.position() == model_position);
    CHECK(writer.written().size() == model_position);
  }
  for (std::size_t i = capacity; i < buffer.size(); ++i) {
    CAPTURE(i);
    REQUIRE(buffer[i] == kSentinel);
  }
  for (std::size_t i = model_position; i < capacity; ++i) {
    CAPTURE(i);
    REQUIRE(buffer[i] == kSentinel);
  }
  if (start == 0) CHECK(same_bytes(writer.written(), reference.written().first(model_position)));
}

TEST_CASE("a writer that overflowed stays failed even for writes that would fit", "[wire]") {
  std::array<std::byte, 4> buffer{};
  Writer writer(buffer);
  REQUIRE(writer.u8(1));
  CHECK_FALSE(writer.u32(2));
  CHECK_FALSE(writer.ok());
  CHECK(writer.remaining() == 3);
  CHECK_FALSE(writer.u8(3));
  CHECK_FALSE(writer.zeros(0));
  CHECK_FALSE(writer.bytes({}));
  CHECK(writer.position() == 1);
  CHECK(hex(writer.written()) == "01");
}
