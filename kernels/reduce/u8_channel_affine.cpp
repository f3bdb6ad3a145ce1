#include "kernels/reduce/u8_channel_affine.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/elementwise/quantize_rows.h"
#include "kernels/error.h"
#include "kernels/float_kernels.h"
#include "kernels/parallel.h"
#include "kernels/reduce/channel_affine_rows.h"

namespace octet::reduce {

namespace {

// Floats per block of the three-kernel form: 16 KB, in L1 beside the block's input and output bytes.
constexpr int64_t kBlockElements = 4096;
// Bytes per block of a Concat's pieces joined in L1 (u8_channel_affine_pieces).
constexpr int64_t kJoinedBytes = 16384;

struct Affine {
  Isa isa;
  const float* scale;
  const float* shift;
  FloatClamp clamp;
  UnaryParams activation;
  U8AffineQuantization q;
  const elementwise::ByteTable* output_table;
};

// `rows` rows of `channels` bytes from x into y, on the calling thread (a task's share).
void affine_rows(const Affine& a, const uint8_t* x, int64_t rows, int64_t channels, uint8_t* y) {
  const FloatReduceKernels* kernels = float_kernels(a.isa).reduce;
  if (kernels != nullptr && a.activation.op == UnaryOp::identity && std::isfinite(a.q.out_scale) &&
      a.q.out_scale > 0.0f) {
    // Without an activation, the ISA's one-pass loop: the same steps in registers (u8_affine_simd.h); an
    // output table maps each block of bytes while it is in L1.
    const int64_t block_rows = a.output_table ? std::max<int64_t>(1, kJoinedBytes / channels) : rows;
    for (int64_t b0 = 0; b0 < rows; b0 += block_rows) {
      const int64_t count = std::min(block_rows, rows - b0);
      uint8_t* out = y + b0 * channels;
      kernels->u8_affine_rows(x + b0 * channels, count, channels, a.scale, a.shift, a.clamp, a.q.in_scale,
                              a.q.in_zero_point, a.q.out_scale, a.q.out_zero_point, out);
      if (a.output_table) elementwise::map_bytes(a.isa, *a.output_table, out, out, count * channels);
    }
    return;
  }
  const int64_t block_rows = std::max<int64_t>(1, kBlockElements / channels);
  // The thread's own buffer: nothing in a block calls back into the scheduler.
  thread_local std::vector<float> values;
  values.resize(static_cast<size_t>(std::min(block_rows, rows) * channels));
  for (int64_t b0 = 0; b0 < rows; b0 += block_rows) {
    const int64_t count = std::min(block_rows, rows - b0), n = count * channels;
    elementwise::dequantize_row(a.isa, x + b0 * channels, n, a.q.in_scale, a.q.in_zero_point, values.data());
    channel_affine_rows(a.isa, kernels, values.data(), count, channels, a.scale, a.shift, a.clamp,
                        a.activation, values.data());
    uint8_t* out = y + b0 * channels;
    elementwise::quantize_row(a.isa, values.data(), n, a.q.out_scale, a.q.out_zero_point, out);
    if (a.output_table) elementwise::map_bytes(a.isa, *a.output_table, out, out, n);
  }
}

void check_arguments(const char* name, int64_t rows, int64_t channels, const float* scale,
                     const float* shift) {
  if (rows < 0 || channels < 0) throw Error(std::string(name) + ": negative row or channel count");
  if (scale == nullptr || shift == nullptr) throw Error(std::string(name) + ": scale and shift are required");
}

}  // namespace

void u8_channel_affine(Isa isa, const uint8_t* x, int64_t rows, int64_t channels, const float* scale,
                       const float* shift, FloatClamp clamp, const UnaryParams& activation,
                       const U8AffineQuantization& q, uint8_t* y,
                       const elementwise::ByteTable* output_table) {
  check_arguments("u8_channel_affine", rows, channels, scale, shift);
  if (rows == 0 || channels == 0) return;
  const Affine a{isa, scale, shift, clamp, activation, q, output_table};
  parallel_ranges(rows, grain(channels), [&](int64_t r0, int64_t r1) {
    affine_rows(a, x + r0 * channels, r1 - r0, channels, y + r0 * channels);
  });
}

void u8_channel_affine_pieces(Isa isa, std::span<const U8ChannelPiece> pieces, int64_t rows,
                              const float* scale, const float* shift, FloatClamp clamp,
                              const UnaryParams& activation, const U8AffineQuantization& q, uint8_t* y,
                              const elementwise::ByteTable* output_table) {
  int64_t channels = 0;
  for (const U8ChannelPiece& p : pieces) {
    if (p.channels < 0 || (rows > 0 && p.channels > 0 && p.x == nullptr))
      throw Error("u8_channel_affine_pieces: a piece without data or with negative channels");
    channels += p.channels;
  }
  check_arguments("u8_channel_affine_pieces", rows, channels, scale, shift);
  if (rows == 0 || channels == 0) return;
  const Affine a{isa, scale, shift, clamp, activation, q, output_table};
  const int64_t block_rows = std::max<int64_t>(1, kJoinedBytes / channels);
  parallel_ranges(rows, grain(channels), [&](int64_t r0, int64_t r1) {
    // A block of rows of the Concat, assembled in L1 from its pieces (each through its requantization
    // table), then the affine of those rows: the Concat's bytes, never stored in memory.
    thread_local std::vector<uint8_t> joined;
    joined.resize(static_cast<size_t>(std::min(block_rows, r1 - r0) * channels));
    for (int64_t b0 = r0; b0 < r1; b0 += block_rows) {
      const int64_t count = std::min(block_rows, r1 - b0);
      int64_t first = 0;  // the piece's first channel
      for (const U8ChannelPiece& p : pieces) {
        elementwise::map_rows(isa, p.table, p.x + b0 * p.channels, p.channels, joined.data() + first,
                              channels, p.channels, count);
        first += p.channels;
      }
      affine_rows(a, joined.data(), count, channels, y + b0 * channels);
    }
  });
}

}  // namespace octet::reduce
