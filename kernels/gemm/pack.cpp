#include <algorithm>
#include <array>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>

#include "kernels/error.h"
#include "kernels/gemm/pack_layout.h"
#include "kernels/gemm/packed_gemm.h"
#include "kernels/quantization/conv_requant.h"

namespace octet::gemm {

namespace {

int64_t round_up(int64_t x, int64_t m) {
  return (x + m - 1) / m * m;
}

}  // namespace

PackedIndex::PackedIndex(const PackedWeights& p)
    : pair_(p.isa == Isa::avx2 ? 2 : k_group(p.isa)),
      k_pairs_(p.k_padded / pair_),
      n_padded_(p.n_padded),
      k_offset_(static_cast<size_t>(p.k)) {
  // Segments are padded one by one: logical weight j of segment j / segment sits at
  // (j / segment) * segment_padded + j % segment along the packed k.
  const int64_t segment = p.k / p.segments;
  for (int64_t j = 0; j < p.k; ++j) {
    const int64_t q = j / segment * p.segment_padded + j % segment;
    k_offset_[static_cast<size_t>(j)] = q / pair_ * kChannelBlock * pair_ + q % pair_;
  }
}

int32_t folded_bias(const PackedWeights& p, int64_t r, int64_t bias, int64_t weight_sum) {
  const int64_t za = p.input_zero_point, zw = p.requant.weight_zero_point[static_cast<size_t>(r)];
  int64_t folded = bias - za * weight_sum + p.k * za * zw;
  if (offsets_activations(p.isa)) folded += 128 * weight_sum;  // the kernel sums (a - 128) * w
  return static_cast<int32_t>(static_cast<uint32_t>(folded));  // modulo 2^32, see packed_gemm.h
}

template <class W>
PackedWeights pack(Isa isa, const W* weights, int64_t rows, int64_t k, const QuantParams& weight_params,
                   const int32_t* bias, const QuantParams& input, const QuantParams& output, Clamp clamp,
                   std::string_view op, int64_t segments, RequantMode mode) {
  if (rows < 1 || k < 1) throw Error(std::string(op) + ": empty weights");
  if (segments < 1 || k % segments != 0) throw Error(std::string(op) + ": k does not split into segments");
  // The overflow guard and the multipliers are exactly those of the reference operators.
  const TensorU8 probe({1, k}, input);
  TensorS32 bias_tensor;
  if (bias) bias_tensor = TensorS32({rows}, std::vector<int32_t>(bias, bias + rows));
  const ConvRequant rq = prepare_conv_requant(
      op, probe, std::span<const W>(weights, static_cast<size_t>(rows * k)), Shape{rows, k}, weight_params,
      bias ? &bias_tensor : nullptr, output, clamp, rows, k, mode);

  isa = vector_isa(isa);  // avx512amx's vector GEMM is avx512vnni's (its tiles take amx_pack)
  PackedWeights p;
  p.isa = isa;
  p.n = rows;
  p.k = k;
  const int64_t segment = k / segments;
  p.segments = segments;
  p.segment_padded = round_up(segment, k_group(isa));
  p.k_padded = segments * p.segment_padded;
  p.n_padded = round_up(rows, kChannelBlock);
  p.input_zero_point = rq.input_zero_point;
  // uint8 weights become int8 by subtracting 128 from values and zero point alike: same real values.
  constexpr int32_t shift = std::is_same_v<W, uint8_t> ? 128 : 0;
  p.requant = make_channel_requant(rq, p.n_padded, shift);

  auto w_at = [&](int64_t r, int64_t i) { return static_cast<int32_t>(weights[r * k + i]) - shift; };
  for (int64_t r = 0; r < rows; ++r) {
    int64_t sum_w = 0;
    for (int64_t j = 0; j < k; ++j)
      sum_w += w_at(r, j);
    p.requant.bias[static_cast<size_t>(r)] = folded_bias(p, r, bias ? bias[r] : 0, sum_w);
    p.needs_row_sums = p.needs_row_sums || p.requant.weight_zero_point[static_cast<size_t>(r)] != 0;
  }
  place_weights(p, w_at);
  return p;
}

template PackedWeights pack(Isa, const int8_t*, int64_t, int64_t, const QuantParams&, const int32_t*,
                            const QuantParams&, const QuantParams&, Clamp, std::string_view, int64_t,
                            RequantMode);
template PackedWeights pack(Isa, const uint8_t*, int64_t, int64_t, const QuantParams&, const int32_t*,
                            const QuantParams&, const QuantParams&, Clamp, std::string_view, int64_t,
                            RequantMode);

void compute(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums, int64_t m,
             int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride) {
  switch (w.isa) {
#if defined(__x86_64__)
    case Isa::avx512vnni:
      return compute_avx512vnni(w, a, a_stride, row_sums, m, n_begin, n_end, c, c_stride);
    case Isa::avx2:
      return compute_avx2(w, a, a_stride, row_sums, m, n_begin, n_end, c, c_stride);
#endif
#if defined(__aarch64__)
    case Isa::neon:
      return compute_neon(w, a, a_stride, row_sums, m, n_begin, n_end, c, c_stride);
    case Isa::neon_dotprod:
      return compute_neon_dotprod(w, a, a_stride, row_sums, m, n_begin, n_end, c, c_stride);
    case Isa::neon_i8mm:
      return compute_neon_i8mm(w, a, a_stride, row_sums, m, n_begin, n_end, c, c_stride);
#endif
    case Isa::scalar:
      return compute_scalar(w, a, a_stride, row_sums, m, n_begin, n_end, c, c_stride);
    default:
      throw Error("gemm: no " + std::string(name_of(w.isa)) + " kernel on this architecture");
  }
}

namespace {

// The runs of every segment of the packing into `runs` (w.segments of them).
void fill_whole_segments(const PackedWeights& w, std::span<KSteps> runs) {
  const auto steps = static_cast<int32_t>(w.segment_padded / 4);
  for (size_t s = 0; s < runs.size(); ++s)
    runs[s] = {static_cast<int32_t>(s) * steps, steps};
}

}  // namespace

std::vector<KSteps> whole_segments(const PackedWeights& w) {
  std::vector<KSteps> runs(static_cast<size_t>(w.segments));
  fill_whole_segments(w, runs);
  return runs;
}

void compute_pieces(const PackedWeights& w, std::span<const RowPieces> groups, int64_t n_begin,
                    int64_t n_end) {
#if defined(__x86_64__)
  if (w.isa == Isa::avx512vnni) return compute_pieces_avx512vnni(w, groups, n_begin, n_end);
#else
  (void)groups, (void)n_begin, (void)n_end;
#endif
  throw Error("gemm: no segmented " + std::string(name_of(w.isa)) + " kernel");
}

void compute_segmented(const PackedWeights& w, const uint8_t* const* rows, int64_t m, int64_t n_begin,
                       int64_t n_end, uint8_t* c, int64_t c_stride) {
  // Called once per task: the runs of up to 64 segments (every convolution's) without an allocation.
  constexpr size_t kOnStack = 64;
  std::array<KSteps, kOnStack> on_stack;
  std::vector<KSteps> on_heap;
  std::span<const KSteps> runs;
  if (static_cast<size_t>(w.segments) <= kOnStack) {
    const std::span<KSteps> filled(on_stack.data(), static_cast<size_t>(w.segments));
    fill_whole_segments(w, filled);
    runs = filled;
  } else {
    on_heap = whole_segments(w);
    runs = on_heap;
  }
  const RowPieces group{rows, m, runs, nullptr, c, c_stride};
  compute_pieces(w, std::span(&group, 1), n_begin, n_end);
}

}  // namespace octet::gemm
