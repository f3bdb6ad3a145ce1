#pragma once

// The int8 GEMM at the heart of convolutions and fully connected layers:
//
//   C[m][n] = requantize(bias[n] + sum_k (A[m][k] - z_a) * (W[n][k] - z_w[n]))
//
// with uint8 A (im2col rows of activations), int8 W (one row per output channel) and the fixed-point
// requantization of kernels/quantization/fixed_point.h. Weights are packed once, at model load, in the
// layout of the ISA that will run them, with the zero-point terms that do not depend on A folded into the
// bias (docs/quantization.md, section 5):
//
//   bias'[n] = bias[n] - z_a * sum_k W[n][k] + K * z_a * z_w[n]      (int32, wrapping)
//   acc      = bias'[n] + sum_k A[m][k] * W[n][k] - z_w[n] * sum_k A[m][k]
//
// The last term is needed only for asymmetric weights; the caller then passes the row sums of A.
// int32 wrap-around in the intermediate sums is harmless: the overflow guard of prepare_conv_requant
// proves the true result fits, and two's-complement sums are exact modulo 2^32.

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/isa.h"
#include "kernels/quantization/channel_requant.h"
#include "kernels/quantization/clamp.h"
#include "kernels/tensor.h"

namespace octet::gemm {

// Output channels are packed in blocks of this many.
constexpr int64_t kChannelBlock = 16;

struct PackedWeights {
  Isa isa = Isa::scalar;
  int64_t n = 0;         // output channels
  int64_t k = 0;         // reduction length
  int64_t k_padded = 0;  // k rounded up to the ISA's k group (4 for VNNI and scalar, 2 for AVX2, 8 for i8mm)
  int64_t n_padded = 0;  // n rounded up to kChannelBlock
  // avx512vnni, scalar, neon and neon_dotprod: int8 [n_padded / 16][k_padded / 4][16][4];
  // neon_i8mm: int8 [n_padded / 16][k_padded / 8][16][8] (USMMLA takes 2 channels x 8 k per register);
  // avx2: int16 [n_padded / 16][k_padded / 2][16][2] (pre-widened: the AVX2 path multiplies int16 pairs
  // with vpmaddwd, which is exact, instead of vpmaddubsw, which saturates).
  std::vector<int8_t> data;
  // k is split into this many equal segments, each padded with zero weights to a multiple of the k group
  // on its own (k_padded = segments * segment_padded): a convolution reads each kernel row's taps as one
  // run of input memory, so a segment can be read in place (compute_segmented) instead of copied.
  int64_t segments = 1;
  int64_t segment_padded = 0;
  ChannelRequant requant;        // bias folded as above (+ 128 * sum_k W[n][k], see below)
  bool needs_row_sums = false;   // some weight zero point is not 0
  int32_t input_zero_point = 0;  // what padding taps of A must hold

  // Bytes per element of A rows for this ISA (int16 for AVX2, uint8 otherwise).
  int64_t a_element_size() const { return isa == Isa::avx2 ? 2 : 1; }
};

// How many k values of one channel the packed weights keep side by side (see PackedWeights::data).
constexpr int64_t k_group(Isa isa) {
  return isa == Isa::avx2 ? 2 : isa == Isa::neon_i8mm ? 8 : 4;
}

// Whether the kernels of `isa` multiply signed activations a - 128 instead of a: ARM's SDOT and SMULL
// take int8 x int8, so the neon and neon_dotprod kernels flip each activation's top bit. pack() then adds
// the compensation 128 * sum_k W[n][k] to the bias. (neon_i8mm's USMMLA is mixed-sign and needs none.)
constexpr bool offsets_activations(Isa isa) {
  return isa == Isa::neon || isa == Isa::neon_dotprod;
}

// Packs `rows` x `k` weights (row-major, one row per output channel) for `isa`. Params as for
// prepare_conv_requant: input and output uint8 per tensor, weights per tensor or per row, bias optional
// with scale s_in * s_w[n]. Throws octet::Error (naming `op`) when an accumulator could overflow.
template <class W>
PackedWeights pack(Isa isa, const W* weights, int64_t rows, int64_t k, const QuantParams& weight_params,
                   const int32_t* bias, const QuantParams& input, const QuantParams& output, Clamp clamp,
                   std::string_view op, int64_t segments = 1, RequantMode mode = RequantMode::fixed_point);

// Computes rows [0, m) and output channels [n_begin, n_end) of C. `a` holds m rows of k_padded elements
// (a_element_size() bytes each; the k_padded - k tail zero), `a_stride` bytes apart; `row_sums` (m values,
// the sums over the k real elements) only when needs_row_sums. n_begin must be a multiple of
// kChannelBlock. C rows are `c_stride` bytes apart.
void compute(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums, int64_t m,
             int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride);

// Like compute, with A given by segments: rows[r * w.segments + s] points at the w.segment_padded bytes of
// row r's segment s (bytes past the segment's real length meet zero weights: any readable values do).
// Only without row sums, and only for ISAs with has_segmented_kernel.
void compute_segmented(const PackedWeights& w, const uint8_t* const* rows, int64_t m, int64_t n_begin,
                       int64_t n_end, uint8_t* c, int64_t c_stride);
constexpr bool has_segmented_kernel(Isa isa) {
  return vector_isa(isa) == Isa::avx512vnni;
}

// A run of k steps of the packed weights (a k step: the k group of 4 values that one vpdpbusd takes):
// steps [begin, begin + count), k values [4 begin, 4 (begin + count)).
struct KSteps {
  int32_t begin = 0;
  int32_t count = 0;
};

// Rows of A that read the same runs of k steps, each run from a pointer of its own: rows[r * runs.size() +
// i] points at the 4 * runs[i].count bytes of row r for run i. The k steps in no run are left out of the
// sums, which start from `initial` instead (or from zero where it is null): one value per channel, indexed
// by channel (n_padded values), of which the kernels read those of the 16-channel blocks they compute,
// [n_begin, n_end rounded up to 16). For a convolution, the input zero point times the weights of the
// padding taps that no run reads, so that the result is the same int32 sum as with those taps read.
// Row r's channel n goes to c + r * c_stride + n.
struct RowPieces {
  const uint8_t* const* rows = nullptr;
  int64_t m = 0;
  std::span<const KSteps> runs;
  const int32_t* initial = nullptr;
  uint8_t* c = nullptr;
  int64_t c_stride = 0;
};

// compute_segmented for several groups of rows with runs of their own, output channels [n_begin, n_end)
// of each (n_begin a multiple of kChannelBlock): each block of channels' weights is read from memory once
// for every group, not once per group. Only without row sums, and only for ISAs with
// has_segmented_kernel.
void compute_pieces(const PackedWeights& w, std::span<const RowPieces> groups, int64_t n_begin,
                    int64_t n_end);
void compute_pieces_avx512vnni(const PackedWeights& w, std::span<const RowPieces> groups, int64_t n_begin,
                               int64_t n_end);
// Every segment of the packing, in order (compute_segmented's runs).
std::vector<KSteps> whole_segments(const PackedWeights& w);

// The per-ISA implementations of compute (kernels/x86/*.cpp, gemm_scalar.cpp).
void compute_scalar(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums,
                    int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride);
void compute_avx2(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums, int64_t m,
                  int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride);
void compute_avx512vnni(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums,
                        int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride);
// aarch64 (kernels/arm/gemm_*.cpp).
void compute_neon(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums, int64_t m,
                  int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride);
void compute_neon_dotprod(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums,
                          int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride);
void compute_neon_i8mm(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums,
                       int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride);

}  // namespace octet::gemm
