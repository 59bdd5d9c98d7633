// SPDX-License-Identifier: MIT
// Micro-benchmarks of the wire codec: encoding a packet with PacketWriter, and
// decoding one as a receiver does (parse_packet, which verifies the checksum
// and validates every frame, then iterating the frames and any ACK ranges).
// Three shapes: a 1-byte unreliable message, a full 1200-byte reliable-ordered
// DATA packet and a 32-range ACK, all with mid-connection packet numbers. The
// default time is ns per packet; bytes/s counts the whole datagram.
#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <variant>
#include <vector>

#include "rudp/wire/frame.hpp"
#include "rudp/wire/packet.hpp"
#include "rudp/wire/packet_number.hpp"

namespace {

using namespace rudp;
using namespace rudp::wire;

constexpr std::size_t kFullPacketSize = 1200;
constexpr std::uint64_t kPacketNumber = 1000;
constexpr std::uint64_t kLargestAcked = 990;
constexpr std::uint64_t kSequence = 500;
constexpr std::uint64_t kAckDelay = 25;
constexpr std::size_t kAckRangeCount = 32;

Header data_header() noexcept {
  Header header;
  header.form = HeaderForm::data;
  header.destination = ConnectionId{0x5e6f7081};
  header.number = truncate_packet_number(kPacketNumber, kLargestAcked);
  return header;
}

/// The payload that makes a one-DATA-frame reliable-ordered packet exactly kFullPacketSize bytes.
std::size_t full_payload_size() noexcept {
  const std::size_t frame_header = 1 + varint_size(kSequence);
  return kFullPacketSize - header_size(data_header()) - frame_header - kChecksumSize;
}

/// 32 ranges of three packets each, one packet missing between neighbours.
std::vector<AckRange> ack_ranges() {
  std::vector<AckRange> ranges;
  std::uint64_t largest = 5000;
  for (std::size_t i = 0; i < kAckRangeCount; ++i) {
    ranges.push_back({largest - 2, largest});
    largest -= 4;
  }
  return ranges;
}

enum class Shape { tiny_unreliable, full_reliable, ack_32 };

/// Everything an encode needs, built once outside the timed loop.
struct Inputs {
  std::vector<std::byte> payload;
  std::vector<AckRange> ranges;
};

Inputs make_inputs(Shape shape) {
  Inputs in;
  switch (shape) {
    case Shape::tiny_unreliable:
      in.payload.assign(1, std::byte{0x2a});
      break;
    case Shape::full_reliable:
      in.payload.resize(full_payload_size());
      for (std::size_t i = 0; i < in.payload.size(); ++i) in.payload[i] = std::byte(i * 31 + 7);
      break;
    case Shape::ack_32:
      in.ranges = ack_ranges();
      break;
  }
  return in;
}

/// Encodes one packet of `shape` into `out`; returns its size, 0 on failure.
std::size_t encode(Shape shape, const Inputs& in, std::span<std::byte> out) noexcept {
  PacketWriter packet(out, data_header());
  switch (shape) {
    case Shape::tiny_unreliable: {
      DataFrame f;
      f.mode = DeliveryMode::unreliable;
      f.explicit_length = false;
      f.payload = in.payload;
      encode_frame(packet.frames(), f);
      break;
    }
    case Shape::full_reliable: {
      DataFrame f;
      f.mode = DeliveryMode::reliable_ordered;
      f.sequence = kSequence;
      f.explicit_length = false;
      f.payload = in.payload;
      encode_frame(packet.frames(), f);
      break;
    }
    case Shape::ack_32:
      write_ack_frame(packet.frames(), kAckDelay, in.ranges);
      break;
  }
  const auto size = packet.finish();
  return size ? *size : 0;
}

std::vector<std::byte> encoded(Shape shape) {
  const Inputs in = make_inputs(shape);
  std::vector<std::byte> out(kMaxDatagramSize);
  const std::size_t size = encode(shape, in, out);
  if (size == 0) {
    std::fprintf(stderr, "wire_bench: could not encode the benchmark packet\n");
    std::abort();
  }
  out.resize(size);
  return out;
}

void bm_encode(benchmark::State& state, Shape shape) {
  const Inputs in = make_inputs(shape);
  std::array<std::byte, kFullPacketSize> out{};
  std::size_t size = 0;
  for (auto _ : state) {
    size = encode(shape, in, out);
    benchmark::DoNotOptimize(size);
    benchmark::ClobberMemory();
  }
  if (size == 0) state.SkipWithError("encode failed");
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(size));
}

/// Consumes one decoded frame the way a receiver would look at it: the DATA
/// payload's size, every ACK range, the size of everything else.
std::uint64_t touch(const Frame& frame) noexcept {
  if (const auto* data = std::get_if<DataFrame>(&frame)) return data->sequence + data->payload.size();
  if (const auto* ack = std::get_if<AckFrame>(&frame)) {
    std::uint64_t sum = ack->ack_delay;
    for (const AckRange& r : ack->ranges) sum += r.largest - r.smallest;
    return sum;
  }
  return frame.index();
}

void bm_decode(benchmark::State& state, Shape shape) {
  const std::vector<std::byte> datagram = encoded(shape);
  std::span<const std::byte> bytes(datagram);
  for (auto _ : state) {
    benchmark::DoNotOptimize(bytes);
    const auto packet = parse_packet(bytes);
    if (!packet) {
      state.SkipWithError("parse_packet failed");
      break;
    }
    std::uint64_t sum = packet->header.number.value;
    for (const Frame& frame : packet->frames()) sum += touch(frame);
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(datagram.size()));
}

/// The checksum alone over a full packet's body: the floor under bm_decode(full_reliable).
void bm_checksum_full(benchmark::State& state) {
  const std::vector<std::byte> datagram = encoded(Shape::full_reliable);
  std::span<const std::byte> body = std::span<const std::byte>(datagram).first(datagram.size() - kChecksumSize);
  for (auto _ : state) {
    benchmark::DoNotOptimize(body);
    std::uint32_t sum = checksum(body);
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(datagram.size()));
}

BENCHMARK_CAPTURE(bm_encode, tiny_unreliable_1B, Shape::tiny_unreliable);
BENCHMARK_CAPTURE(bm_encode, full_reliable_1200B, Shape::full_reliable);
BENCHMARK_CAPTURE(bm_encode, ack_32_ranges, Shape::ack_32);
BENCHMARK_CAPTURE(bm_decode, tiny_unreliable_1B, Shape::tiny_unreliable);
BENCHMARK_CAPTURE(bm_decode, full_reliable_1200B, Shape::full_reliable);
BENCHMARK_CAPTURE(bm_decode, ack_32_ranges, Shape::ack_32);
BENCHMARK(bm_checksum_full);

}  // namespace
