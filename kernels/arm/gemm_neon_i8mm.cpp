// neon_i8mm GEMM (ARMv8.6 int8 matrix multiply extension): its by-element SUDOT multiplies signed weights
// by unsigned activations, so the bytes are used as they are: no EOR per load and no bias compensation.
// Compiled with -march=armv8.2-a+dotprod+i8mm; only called after the CPU check.

#include "kernels/arm/gemm_dot.h"

namespace octet::gemm {

namespace {

struct Sudot {
  using Act = uint8x16_t;
  static Act load16(const uint8_t* p) { return vld1q_u8(p); }
  static Act load4(const uint8_t* p) { return vreinterpretq_u8_u32(vdupq_n_u32(arm::load_u32(p))); }
  template <int lane>
  static int32x4_t dot(int32x4_t acc, int8x16_t w, Act a) {
    return vsudotq_laneq_s32(acc, w, a, lane);
  }
};

}  // namespace

void compute_neon_i8mm(const PackedWeights& w, const void* a, int64_t a_stride, const int32_t* row_sums,
                       int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride) {
  arm::run_gemm<arm::DotKernel<Sudot>>(w, a, a_stride, row_sums, m, n_begin, n_end, c, c_stride);
}

}  // namespace octet::gemm
