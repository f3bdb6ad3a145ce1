#include "kernels/conv/transposed_small.h"

#include <tbb/parallel_for.h>

#include <algorithm>

#include "kernels/error.h"
#include "kernels/isa.h"

namespace octet::conv {

namespace {

// Bytes of input the kernel loads per group of P pixels (two zmm registers).
constexpr int64_t kGroupBytes = 128;

// T for N output values per pixel: N rounded up to a power of two, and wide enough that P = 16 / T pixels
// of C_in bytes fit the loaded window (above 16 where even one pixel does not: not this kernel).
int64_t lanes_per_pixel(int64_t values, int64_t in_channels) {
  int64_t t = 1;
  while (t < values || (16 / t) * in_channels > kGroupBytes)
    t *= 2;
  return t;
}

}  // namespace

bool small_transposed_applies(Isa isa, int64_t kernel_h, int64_t kernel_w, int64_t in_channels,
                              int64_t out_channels) {
  // The kernel is AVX-512 VNNI code, built for x86 only. Where this CPU cannot run it (aarch64, an AVX2
  // machine: avx512amx on the tile model, in the tests) the GEMM runs these shapes, as with vbmi_usable.
  if (vector_isa(isa) != Isa::avx512vnni || !cpu_supports(Isa::avx512vnni) || in_channels < 1 ||
      in_channels % 4 != 0)
    return false;
  const int64_t values = kernel_h * kernel_w * out_channels;
  // Kernel rows of 16 output bytes per pixel fill the GEMM's channel blocks, which then write the output in
  // place (transposed_gemm.cpp): nothing to gain here.
  if (kernel_w * out_channels == 16) return false;
  return values >= 1 && values <= 16 && lanes_per_pixel(values, in_channels) <= 16;
}

SmallTransposed prepare_small_transposed(const gemm::PackedWeights& w, int64_t kernel_h, int64_t kernel_w,
                                         int64_t in_channels, int64_t out_channels) {
  if (!small_transposed_applies(w.isa, kernel_h, kernel_w, in_channels, out_channels) || w.k != in_channels ||
      w.k_padded != in_channels || w.n != kernel_h * kernel_w * out_channels)
    throw Error("conv_transpose2d: small-output kernel does not apply");
  SmallTransposed s;
  s.kernel_h = kernel_h;
  s.kernel_w = kernel_w;
  s.in_channels = in_channels;
  s.out_channels = out_channels;
  const int64_t values = w.n, lanes = lanes_per_pixel(values, in_channels), k4 = in_channels / 4;
  s.lanes_per_pixel = lanes;
  s.needs_row_sums = w.needs_row_sums;
  // The GEMM's layout is [n/16][k/4][16][4]: value t's weights for k group q at ((q * 16) + t) * 4. Lane l
  // holds value l % T.
  s.weights.assign(static_cast<size_t>(k4 * 64), 0);
  for (int64_t q = 0; q < k4; ++q)
    for (int64_t l = 0; l < 16; ++l) {
      const int64_t t = l % lanes;
      if (t >= values) continue;
      for (int64_t b = 0; b < 4; ++b)
        s.weights[static_cast<size_t>((q * 16 + l) * 4 + b)] =
            w.data[static_cast<size_t>((q * 16 + t) * 4 + b)];
    }
  // The same constants, lane by lane; lanes past N keep zeros (computed, never stored).
  const ChannelRequant& from = w.requant;
  ChannelRequant& to = s.requant;
  to.bias.assign(16, 0);
  to.multiplier.assign(16, 0);
  to.left_shift.assign(16, 0);
  to.right_shift.assign(16, 0);
  to.weight_zero_point.assign(16, 0);
  if (from.float_mode()) to.scale.assign(16, 0.0f);
  to.output_zero_point = from.output_zero_point;
  to.clamp = from.clamp;
  const bool fused = !from.fused_ok.empty();
  if (fused) {
    to.fused_round.assign(16, 0);
    to.fused_threshold.assign(16, INT32_MIN);
    to.fused_shift.assign(16, 0);
    to.fused_ok = {from.fused_ok[0]};  // N <= 16: every value is in the GEMM's first block
    to.fused_skip_correction = from.fused_skip_correction;
  }
  // fused_round is stored per 16-lane block in even-odd order (channel_requant.h).
  auto round_slot = [](int64_t lane) { return static_cast<size_t>(lane / 2 + (lane % 2) * 8); };
  for (int64_t l = 0; l < 16; ++l) {
    const int64_t t = l % lanes;
    if (t >= values) continue;
    const auto i = static_cast<size_t>(l), j = static_cast<size_t>(t);
    to.bias[i] = from.bias[j];
    to.multiplier[i] = from.multiplier[j];
    to.left_shift[i] = from.left_shift[j];
    to.right_shift[i] = from.right_shift[j];
    to.weight_zero_point[i] = from.weight_zero_point[j];
    if (from.float_mode()) to.scale[i] = from.scale[j];
    if (fused) {
      to.fused_round[round_slot(l)] = from.fused_round[round_slot(t)];
      to.fused_threshold[i] = from.fused_threshold[j];
      to.fused_shift[i] = from.fused_shift[j];
    }
  }
  return s;
}

void run(const SmallTransposed& s, const uint8_t* input, int64_t n, int64_t ih, int64_t iw, uint8_t* output) {
#if defined(__x86_64__)
  const int64_t rows = n * ih;
  if (rows == 0 || iw == 0) return;
  const uint8_t* input_end = input + rows * iw * s.in_channels;
  // Tasks of whole input rows, a few thousand pixels each.
  const int64_t per_task = std::max<int64_t>(1, 4096 / iw), tasks = (rows + per_task - 1) / per_task;
  tbb::parallel_for(int64_t{0}, tasks, [&](int64_t task) {
    const int64_t first = task * per_task, count = std::min(per_task, rows - first);
    transposed_small_rows_avx512vnni(s, input, input_end, ih, iw, first, count, output);
  });
#else
  (void)s, (void)input, (void)n, (void)ih, (void)iw, (void)output;
  throw Error("conv_transpose2d: the small-output kernel needs AVX-512 VNNI");  // never prepared here
#endif
}

}  // namespace octet::conv
