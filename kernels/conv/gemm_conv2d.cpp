#include "kernels/conv/gemm_conv2d.h"

#include <tbb/parallel_for.h>

#include <cstring>
#include <vector>

#include "kernels/error.h"

namespace octet::conv {

namespace {

// Output pixels per task: a multiple of both microkernels' row counts (8 and 6), small enough that the
// tile's im2col rows stay in L2 next to the weights.
constexpr int64_t kTilePixels = 48;

}  // namespace

template <class W>
GemmConv2d prepare_gemm_conv2d(Isa isa, const Tensor<W>& weights, const TensorS32* bias,
                               const ref::Conv2dParams& params, const QuantParams& input,
                               const QuantParams& output, Clamp clamp) {
  if (params.groups != 1) throw Error("gemm conv2d: grouped convolutions take another kernel");
  GemmConv2d c;
  c.params = params;
  c.out_channels = weights.shape.at(0);
  c.kernel_h = weights.shape.at(1);
  c.kernel_w = weights.shape.at(2);
  c.in_channels = weights.shape.at(3);
  const int64_t k = c.kernel_h * c.kernel_w * c.in_channels;
  c.weights = gemm::pack(isa, weights.data.data(), c.out_channels, k, weights.quant,
                         bias ? bias->data.data() : nullptr, input, output, clamp, "conv2d");
  return c;
}

template GemmConv2d prepare_gemm_conv2d(Isa, const Tensor<int8_t>&, const TensorS32*,
                                        const ref::Conv2dParams&, const QuantParams&, const QuantParams&,
                                        Clamp);
template GemmConv2d prepare_gemm_conv2d(Isa, const Tensor<uint8_t>&, const TensorS32*,
                                        const ref::Conv2dParams&, const QuantParams&, const QuantParams&,
                                        Clamp);

void run(const GemmConv2d& c, const uint8_t* input, int64_t n, int64_t ih, int64_t iw, uint8_t* output) {
  const auto& p = c.params;
  const gemm::PackedWeights& w = c.weights;
  const int64_t oh = ref::conv_output_size("conv2d", "height", ih, c.kernel_h, p.stride_h, p.dilation_h,
                                           p.pad.top, p.pad.bottom);
  const int64_t ow = ref::conv_output_size("conv2d", "width", iw, c.kernel_w, p.stride_w, p.dilation_w,
                                           p.pad.left, p.pad.right);
  const int64_t pixels = n * oh * ow, cin = c.in_channels, cout = c.out_channels;
  const int64_t elem = w.a_element_size();
  const bool in_place = c.kernel_h == 1 && c.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 &&
                        p.pad.top == 0 && p.pad.left == 0 && p.pad.bottom == 0 && p.pad.right == 0 &&
                        w.k_padded == w.k && elem == 1 && !w.needs_row_sums;
  const int64_t tiles = (pixels + kTilePixels - 1) / kTilePixels;
  tbb::parallel_for(int64_t{0}, tiles, [&](int64_t t) {
    const int64_t first = t * kTilePixels, rows = std::min(kTilePixels, pixels - first);
    uint8_t* out = output + first * cout;
    if (in_place) {
      gemm::compute(w, input + first * cin, cin, nullptr, rows, 0, cout, out, cout);
      return;
    }
    const int64_t row_bytes = w.k_padded * elem;
    std::vector<uint8_t> a(static_cast<size_t>(rows * row_bytes), 0);
    std::vector<int32_t> sums(static_cast<size_t>(rows), 0);
    const auto za = static_cast<uint8_t>(w.input_zero_point);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t pixel = first + r, b = pixel / (oh * ow), y = pixel / ow % oh, x = pixel % ow;
      uint8_t* row = a.data() + r * row_bytes;
      int64_t k = 0;
      int32_t sum = 0;
      for (int64_t ky = 0; ky < c.kernel_h; ++ky) {
        const int64_t iy = y * p.stride_h - p.pad.top + ky * p.dilation_h;
        for (int64_t kx = 0; kx < c.kernel_w; ++kx, k += cin) {
          const int64_t ix = x * p.stride_w - p.pad.left + kx * p.dilation_w;
          const bool inside = iy >= 0 && iy < ih && ix >= 0 && ix < iw;
          const uint8_t* src = inside ? input + ((b * ih + iy) * iw + ix) * cin : nullptr;
          if (elem == 1) {
            if (inside)
              std::memcpy(row + k, src, static_cast<size_t>(cin));
            else
              std::memset(row + k, za, static_cast<size_t>(cin));
          } else {
            auto* wide = reinterpret_cast<int16_t*>(row) + k;
            for (int64_t i = 0; i < cin; ++i)
              wide[i] = inside ? src[i] : za;
          }
          if (w.needs_row_sums)
            for (int64_t i = 0; i < cin; ++i)
              sum += inside ? src[i] : za;
        }
      }
      sums[static_cast<size_t>(r)] = sum;
    }
    gemm::compute(w, a.data(), row_bytes, sums.data(), rows, 0, cout, out, cout);
  });
}

}  // namespace octet::conv
