#include "kernels/reduce/u8_softmax.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/elementwise/quantize_rows.h"
#include "kernels/error.h"
#include "kernels/reduce/u8_softmax_rows.h"
#include "kernels/reference/softmax.h"

namespace octet::reduce {

U8Softmax prepare_u8_softmax(const QuantParams& input, int64_t width, const QuantParams& output,
                             RequantMode mode, ref::SoftmaxOverflow overflow) {
  validate(input, ElementType::u8, {}, "softmax input");
  validate(output, ElementType::u8, {}, "softmax output");
  if (!input.is_per_tensor() || !output.is_per_tensor())
    throw Error("softmax: input and output must be quantized per tensor");
  if (width < 1) throw Error("softmax: input needs a non-empty last axis, got " + std::to_string(width));
  U8Softmax s;
  s.mode = mode;
  s.width = width;
  s.output_scale = output.scale();
  s.output_zero_point = output.zero_point();
  if (mode == RequantMode::fixed_point) {
    s.fixed_table = ref::softmax_exp_table(input.scale());
    for (size_t i = 0; i < s.fixed_table.size(); ++i)
      s.fixed_reals[i] = static_cast<double>(s.fixed_table[i]);
  } else {
    s.float_table = ref::onnxruntime_softmax_table(input.scale(), width);
    s.float_numerator = std::floor(1.0f / output.scale());
    if (overflow == ref::SoftmaxOverflow::int8_saturation) {
      constexpr float inf = std::numeric_limits<float>::infinity();
      s.float_overflow = ref::softmax_overflow_byte(overflow, s.output_zero_point) == 255 ? inf : -inf;
    }
  }
  return s;
}

void run(Isa isa, const U8Softmax& s, const uint8_t* x, int64_t rows, uint8_t* y) {
  const int64_t grain = std::max<int64_t>(1, 4096 / s.width);
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, rows, grain), [&](const tbb::blocked_range<int64_t>& r) {
    const uint8_t* in = x + r.begin() * s.width;
    uint8_t* out = y + r.begin() * s.width;
    const int64_t count = r.end() - r.begin();
    // Probabilities for about 4096 elements' rows at a time (one row at least), quantized together.
    const int64_t p_rows = std::min(count, grain);
    std::vector<float> p(static_cast<size_t>(p_rows * s.width));
    std::vector<double> looked_up(s.mode == RequantMode::fixed_point ? static_cast<size_t>(s.width) : 0);
    switch (vector_isa(isa)) {
#if defined(__x86_64__)
      case Isa::avx512vnni:
        return u8_softmax_rows_avx512(s, in, count, p.data(), p_rows, looked_up.data(), out);
      case Isa::avx2:
        return u8_softmax_rows_avx2(s, in, count, p.data(), p_rows, looked_up.data(), out);
#endif
      default:
        return u8_softmax_rows(s, in, count, p.data(), p_rows, looked_up.data(), out,
                               [isa](const float* v, int64_t n, float scale, int32_t zp, uint8_t* q) {
                                 elementwise::quantize_row(isa, v, n, scale, zp, q);
                               });
    }
  });
}

}  // namespace octet::reduce
