// The depthwise kernels of every vector ISA this CPU runs, in both requantization modes, bit-exact against
// the reference conv2d.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <algorithm>

#include "kernels/conv/depthwise_conv2d.h"
#include "kernels/isa.h"
#include "kernels/reference/conv2d.h"
#include "test_util.h"

namespace octet {
namespace {

std::vector<Isa> vector_isas() {
  std::vector<Isa> out;
  for (Isa isa : supported_isas())
    if (isa != Isa::scalar) out.push_back(isa);
  return out;
}

template <class W>
void check(const test::IsaMode& isa_mode, const TensorU8& input, const Tensor<W>& weights,
           const TensorS32* bias, const ref::Conv2dParams& p, const QuantParams& output, Clamp clamp) {
  const auto [isa, mode] = isa_mode;
  const TensorU8 want = ref::conv2d(input, weights, bias, p, output, clamp, mode);
  const conv::DepthwiseConv2d d =
      conv::prepare_depthwise_conv2d(isa, weights, bias, p, input.quant, output, clamp, mode);
  TensorU8 got(want.shape, output);
  conv::run(d, input.data.data(), input.dim(0), input.dim(1), input.dim(2), got.data.data());
  ASSERT_EQ(got.data, want.data);
}

// Each value `first` or `second` by a coin toss: the extremes that make the largest accumulators.
template <class T>
void set_each_to_one_of(test::Random& rng, std::vector<T>& values, T first, T second) {
  for (auto& v : values)
    v = rng.coin() ? first : second;
}

class Depthwise : public ::testing::TestWithParam<test::IsaMode> {};

TEST_P(Depthwise, RandomShapesBitExact) {
  for (uint64_t seed = 0; seed < test::random_trials(400); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t c = rng.integer(1, 70);
    ref::Conv2dParams p;
    p.groups = c;
    const int64_t kh = rng.integer(1, 5), kw = rng.integer(1, 5);
    p.stride_h = rng.integer(1, 2), p.stride_w = rng.integer(1, 2);
    p.dilation_h = rng.integer(1, 2), p.dilation_w = rng.integer(1, 2);
    p.pad = {rng.integer(0, 2), rng.integer(0, 2), rng.integer(0, 2), rng.integer(0, 2)};
    const int64_t ih = rng.integer(p.dilation_h * (kh - 1) + 1, 12),
                  iw = rng.integer(p.dilation_w * (kw - 1) + 1, 12);
    const TensorU8 in = rng.activations({rng.integer(1, 2), ih, iw, c}, rng.activation_params());
    const QuantParams out =
        QuantParams::per_tensor(rng.scale(1e-4, 2.0), static_cast<int32_t>(rng.integer(0, 255)));
    const Clamp clamp = rng.coin() ? Clamp{} : Clamp{static_cast<int32_t>(rng.integer(0, 90)), 200};
    if (seed % 3 == 2) {
      const auto w = test::random_weights<uint8_t>(rng, {c, kh, kw, 1}, rng.coin(), true);
      const TensorS32 bias = test::random_bias(rng, c, in.quant, w, 30000);
      check(GetParam(), in, w, rng.coin() ? &bias : nullptr, p, out, clamp);
    } else {
      const auto w = test::random_weights<int8_t>(rng, {c, kh, kw, 1}, rng.coin(), seed % 3 == 1);
      const TensorS32 bias = test::random_bias(rng, c, in.quant, w, 30000);
      check(GetParam(), in, w, rng.coin() ? &bias : nullptr, p, out, clamp);
    }
  }
}

TEST_P(Depthwise, ExtremeValues) {
  for (int64_t k : {5, 7})
    for (int32_t a : {0, 255})
      for (int32_t wv : {-128, -127, 127}) {
        const int64_t c = 37;
        const TensorU8 in({1, 6, 6, c},
                          std::vector<uint8_t>(static_cast<size_t>(36 * c), static_cast<uint8_t>(a)),
                          QuantParams::per_tensor(0.1f, 7));
        const TensorS8 w({c, k, k, 1},
                         std::vector<int8_t>(static_cast<size_t>(k * k * c), static_cast<int8_t>(wv)),
                         QuantParams::per_tensor(0.01f, 0));
        ref::Conv2dParams p;
        p.groups = c;
        p.pad = {k / 2, k / 2, k / 2, k / 2};
        check(GetParam(), in, w, nullptr, p, QuantParams::per_tensor(1.0f, 128), Clamp{});
      }
}

// Scaled accumulators far beyond int32 (a huge requantization scale), and then ordinary ones: the float
// mode clamps before converting to int32. Full 16-channel blocks and widths of 4 and 8 pixels (the 3x3 column
// kernel's packed stores), random accumulators of both signs, a narrow clamp.
TEST_P(Depthwise, ScaledBeyondInt32) {
  for (float output_scale : {1e-8f, 0.5f})
    for (int64_t width : {4, 8, 19}) {
      SCOPED_TRACE("output scale " + std::to_string(output_scale) + " width " + std::to_string(width));
      test::Random rng(static_cast<uint64_t>(width));
      const int64_t c = 48;
      const TensorU8 in = rng.activations({1, 5, width, c}, QuantParams::per_tensor(1.0f, 100));
      const auto w = test::random_weights<int8_t>(rng, {c, 3, 3, 1}, true, false);
      const TensorS32 bias = test::random_bias(rng, c, in.quant, w, 30000);
      ref::Conv2dParams p;
      p.groups = c;
      p.pad = {1, 1, 1, 1};
      for (Clamp clamp : {Clamp{}, Clamp{77, 200}})
        check(GetParam(), in, w, &bias, p, QuantParams::per_tensor(output_scale, 77), clamp);
    }
}

// 3x3, 5x5 and 7x7 take a column kernel on AVX-512 (blocks of 8 pixels at stride 1, 4
// at stride 2) and on AVX2 (4 pixels): widths around the block sizes, every padding (5x5 and 7x7: up to K -
// 1, so that whole blocks and kernel rows fall in it), both strides, partial channel blocks, clamps, extreme
// values.
TEST_P(Depthwise, ColumnKernelSizesAllWidthsAndPaddings) {
  for (uint64_t seed = 0; seed < test::random_trials(900); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t k = std::vector<int64_t>{3, 5, 7}[seed % 3];
    const int64_t c = seed % 5 == 0 ? std::vector<int64_t>{96, 64, 128, 144, 200}[seed / 5 % 5]
                                    : rng.integer(1, k == 3 ? 40 : 140);
    ref::Conv2dParams p;
    p.groups = c;
    p.stride_h = rng.integer(1, 2), p.stride_w = rng.integer(1, 2);
    const int64_t max_pad = k == 3 ? 2 : k - 1;
    p.pad = {rng.integer(0, max_pad), rng.integer(0, max_pad), rng.integer(0, max_pad),
             rng.integer(0, max_pad)};
    const int64_t ih = rng.integer(k == 3 ? 3 : 1, 9), iw = rng.integer(k == 3 ? 3 : 1, 21);
    if (ih + p.pad.top + p.pad.bottom < k || iw + p.pad.left + p.pad.right < k) continue;
    TensorU8 in = rng.activations({rng.integer(1, 2), ih, iw, c}, rng.activation_params());
    if (seed % 7 == 3) set_each_to_one_of(rng, in.data, uint8_t{255}, uint8_t{0});
    const QuantParams out =
        QuantParams::per_tensor(rng.scale(1e-4, 2.0), static_cast<int32_t>(rng.integer(0, 255)));
    auto w = test::random_weights<int8_t>(rng, {c, k, k, 1}, rng.coin(), seed % 4 == 1);
    if (seed % 7 == 3) set_each_to_one_of(rng, w.data, int8_t{-128}, int8_t{127});
    const TensorS32 bias = test::random_bias(rng, c, in.quant, w, 30000);
    const Clamp clamp = seed % 3 != 0 ? Clamp{}
                                      : Clamp{static_cast<int32_t>(rng.integer(0, 120)),
                                              static_cast<int32_t>(rng.integer(130, 255))};
    check(GetParam(), in, w, rng.coin() ? &bias : nullptr, p, out, clamp);
  }
}

// Dilated 3x3, 5x5 and 7x7 layers (DeepLab's atrous depthwise convolutions) take the column kernel too where
// the rows are wide enough, one phase of every D-th output pixel at a time (conv::ColumnRow), and the tap
// kernel otherwise: dilations 1-4 in width and 1-3 in height, both strides, paddings up to the dilated
// kernel's extent, the AVX-512 byte, 64-channel and word forms (symmetric and asymmetric weights for every
// size); and, for some, the same bytes at 2-4 threads.
TEST_P(Depthwise, DilatedColumnKernels) {
  const auto [isa, mode] = GetParam();
  for (uint64_t seed = 0; seed < test::random_trials(600); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed + 5000);
    const int64_t k = std::vector<int64_t>{3, 5, 7}[seed % 3];
    const uint64_t variant = seed / 3;  // independent of k
    const bool asymmetric = variant % 3 == 1;
    const int64_t c =
        variant % 4 == 0 ? std::vector<int64_t>{64, 96, 136, 200}[variant / 4 % 4] : rng.integer(1, 70);
    ref::Conv2dParams p;
    p.groups = c;
    p.dilation_h = rng.integer(1, 3), p.dilation_w = rng.integer(seed % 5 == 0 ? 1 : 2, 4);
    p.stride_h = rng.integer(1, 2), p.stride_w = rng.integer(1, 2);
    const int64_t reach_h = p.dilation_h * (k - 1), reach_w = p.dilation_w * (k - 1);
    p.pad = {rng.integer(0, reach_h), rng.integer(0, reach_w), rng.integer(0, reach_h),
             rng.integer(0, reach_w)};
    const int64_t ih = rng.integer(1, reach_h + 4), iw = rng.integer(1, reach_w + 40);
    if (ih + p.pad.top + p.pad.bottom <= reach_h || iw + p.pad.left + p.pad.right <= reach_w) continue;
    TensorU8 in = rng.activations({rng.integer(1, 2), ih, iw, c}, rng.activation_params());
    if (seed % 7 == 3) set_each_to_one_of(rng, in.data, uint8_t{255}, uint8_t{0});
    const QuantParams out =
        QuantParams::per_tensor(rng.scale(1e-4, 2.0), static_cast<int32_t>(rng.integer(0, 255)));
    // Asymmetric weights: on AVX-512 the 3x3 word form, the tap kernel for 5x5 and 7x7.
    auto w = test::random_weights<int8_t>(rng, {c, k, k, 1}, rng.coin(), asymmetric);
    if (seed % 7 == 3) set_each_to_one_of(rng, w.data, int8_t{-128}, int8_t{127});
    const TensorS32 bias = test::random_bias(rng, c, in.quant, w, 30000);
    const Clamp clamp = seed % 2 == 0 ? Clamp{} : Clamp{static_cast<int32_t>(rng.integer(0, 120)), 255};
    check(GetParam(), in, w, &bias, p, out, clamp);
    if (seed % 10 == 0) {
      const conv::DepthwiseConv2d d =
          conv::prepare_depthwise_conv2d(isa, w, &bias, p, in.quant, out, clamp, mode);
      if (!asymmetric) {
        ASSERT_EQ(d.column_kernel, d.isa == Isa::avx2 || d.isa == Isa::avx512vnni ? k : 0);
      }
      const TensorU8 want = ref::conv2d(in, w, &bias, p, out, clamp, mode);
      for (int threads : {2, 3, 4}) {
        TensorU8 got(want.shape, out);
        tbb::task_arena(threads).execute(
            [&] { conv::run(d, in.data.data(), in.dim(0), in.dim(1), in.dim(2), got.data.data()); });
        ASSERT_EQ(got.data, want.data) << threads << " threads";
      }
    }
  }
}

// Dilated rows whose phases start in the padding or have no input column at all (images 1-5 pixels wide
// under wide paddings), at the narrowest widths that still take the column kernel (4 or 2 pixels a phase)
// and a little wider, at 1 and 3 threads.
TEST_P(Depthwise, DilatedPhasesAtTheImageEdges) {
  const auto [isa, mode] = GetParam();
  for (const int64_t k : {3, 5, 7})
    for (const int64_t dilation : {2, 3, 4})
      for (const int64_t iw : {1, 2, 5})
        for (const int64_t pad_left : {int64_t{0}, int64_t{1}, dilation, dilation * (k - 1)})
          for (const int64_t narrowest : {2, 4})
            for (const int64_t extra : {0, 3}) {
              SCOPED_TRACE("kernel " + std::to_string(k) + " dilation " + std::to_string(dilation) +
                           " width " + std::to_string(iw) + " left pad " + std::to_string(pad_left) +
                           " output width " + std::to_string(narrowest * dilation + extra));
              // Output width narrowest * dilation + extra at stride 1: ow = iw + pads - dilation * (k - 1).
              const int64_t pad_right = narrowest * dilation + extra + dilation * (k - 1) - iw - pad_left;
              if (pad_right < 0) continue;
              test::Random rng(static_cast<uint64_t>(k * 1000 + dilation * 100 + iw * 10 + pad_left));
              const int64_t c = k == 3 && extra == 0 ? 64 : 70;
              ref::Conv2dParams p;
              p.groups = c;
              p.dilation_w = dilation;
              p.pad = {k / 2, pad_left, k / 2, pad_right};
              const TensorU8 in = rng.activations({1, 3, iw, c}, rng.activation_params());
              const auto w = test::random_weights<int8_t>(rng, {c, k, k, 1}, true, false);
              const TensorS32 bias = test::random_bias(rng, c, in.quant, w, 30000);
              const QuantParams out = QuantParams::per_tensor(rng.scale(1e-3, 0.5), 11);
              const TensorU8 want = ref::conv2d(in, w, &bias, p, out, Clamp{}, mode);
              const conv::DepthwiseConv2d d =
                  conv::prepare_depthwise_conv2d(isa, w, &bias, p, in.quant, out, Clamp{}, mode);
              for (int threads : {1, 3}) {
                TensorU8 got(want.shape, out);
                tbb::task_arena(threads).execute(
                    [&] { conv::run(d, in.data.data(), 1, 3, iw, got.data.data()); });
                ASSERT_EQ(got.data, want.data) << threads << " threads";
              }
            }
}

// Few rows and many channels: the column kernel's work is split over channel groups too, whose
// boundaries move with the thread count.
// Also rows narrower than 4 output pixels (3x3 images at stride 1, 4x4 at stride 2), which the AVX-512
// column kernel computes 4 pixels wide into a scratch row: channel groups from the middle of the row too.
TEST_P(Depthwise, ChannelSplitIdenticalForAnyThreadCount) {
  for (const int64_t k : {3, 5, 7})
    for (const int64_t size : {7, 3, 4}) {
      SCOPED_TRACE("kernel " + std::to_string(k) + " image " + std::to_string(size));
      test::Random rng(31);
      const int64_t c = 200;
      ref::Conv2dParams p;
      p.groups = c;
      p.pad = {k / 2, k / 2, k / 2, k / 2};
      p.stride_h = p.stride_w = size == 4 ? 2 : 1;
      const TensorU8 in = rng.activations({1, size, size, c}, rng.activation_params());
      const auto w = test::random_weights<int8_t>(rng, {c, k, k, 1}, true, false);
      const TensorS32 bias = test::random_bias(rng, c, in.quant, w, 30000);
      const QuantParams out = QuantParams::per_tensor(0.02f, 9);
      const auto [isa, mode] = GetParam();
      const TensorU8 want = ref::conv2d(in, w, &bias, p, out, Clamp{}, mode);
      const conv::DepthwiseConv2d d =
          conv::prepare_depthwise_conv2d(isa, w, &bias, p, in.quant, out, Clamp{}, mode);
      for (int threads : {1, 2, 3, 4, 8}) {
        TensorU8 got(want.shape, out);
        tbb::task_arena(threads).execute(
            [&] { conv::run(d, in.data.data(), 1, size, size, got.data.data()); });
        ASSERT_EQ(got.data, want.data) << threads << " threads";
      }
    }
}

// On AVX-512 a 3x3 layer's column kernel multiplies bytes (vpdpbusd, and 64-channel blocks through
// DepthwiseConv2d::lanes64) where every w - z_w fits int8, and int16 pairs otherwise; a 5x5 or 7x7 layer's
// multiplies bytes where they fit and leaves the rest to the tap kernel. AVX2's multiplies int16 pairs for
// every size and any weights. Weights on both sides of that
// boundary, against activations at 0 and 255 and random ones; channel counts that leave whole 64-channel
// blocks, 16-channel blocks and a partial block; both strides.
TEST_P(Depthwise, ColumnFormsAtTheInt8Boundary) {
  const auto [isa, mode] = GetParam();
  struct Form {
    int32_t zero_point;
    int32_t outlier;  // one weight, or 0 for none
    bool bytes;
  };
  // w - z_w reaching -128 and 127 (zero point 0) and -128 and 107 (zero point 20): bytes; one of -129 or
  // 128: int16 pairs.
  constexpr Form kForms[] = {{0, 0, true}, {20, 0, true}, {1, -128, false}, {-1, 127, false}};
  for (int64_t k : {3, 5, 7})
    for (int64_t c : {64, 80, 136, 200})
      for (const Form& form : kForms) {
        SCOPED_TRACE("kernel " + std::to_string(k) + " channels " + std::to_string(c) +
                     " weight zero point " + std::to_string(form.zero_point));
        test::Random rng(static_cast<uint64_t>(c * 4 + form.zero_point));
        auto w = test::random_weights<int8_t>(rng, {c, k, k, 1}, true, false);
        const int32_t zw = form.zero_point;
        const int32_t lo = std::max(-128, -128 + zw), hi = std::min(127, 127 + zw);  // w - z_w fits int8
        w.quant.zero_points.assign(static_cast<size_t>(c), zw);
        for (size_t i = 0; i < w.data.size(); ++i) {
          const int32_t v = i % 7 == 0 ? lo : i % 11 == 0 ? hi : static_cast<int32_t>(w.data[i]);
          w.data[i] = static_cast<int8_t>(std::clamp(v, lo, hi));
        }
        if (form.outlier != 0) w.data[w.data.size() / 2] = static_cast<int8_t>(form.outlier);
        TensorU8 in = rng.activations({1, 6, 19, c}, rng.activation_params());
        for (size_t i = 0; i < in.data.size(); i += 3)
          in.data[i] = i % 2 == 0 ? 255 : 0;
        const TensorS32 bias = test::random_bias(rng, c, in.quant, w, 30000);
        for (int64_t stride : {1, 2}) {
          ref::Conv2dParams p;
          p.groups = c;
          p.stride_h = p.stride_w = stride;
          p.pad = {k / 2, k / 2, k / 2, k / 2};
          const QuantParams out = QuantParams::per_tensor(rng.scale(1e-3, 0.5), 7);
          check(GetParam(), in, w, &bias, p, out, Clamp{});
          const conv::DepthwiseConv2d d =
              conv::prepare_depthwise_conv2d(isa, w, &bias, p, in.quant, out, Clamp{}, mode);
          if (isa == Isa::avx2) {  // int16 pairs for any weights
            EXPECT_EQ(d.column_kernel, k);
            EXPECT_TRUE(d.column_bytes.empty());
            EXPECT_EQ(d.column_weights.size(), static_cast<size_t>((k + 1) / 2 * k * d.channels_padded * 2));
          }
          if (isa != Isa::avx512vnni) continue;
          EXPECT_EQ(!d.column_bytes.empty(), form.bytes);
          EXPECT_EQ(d.column_kernel, k == 3 || form.bytes ? k : 0);
          EXPECT_EQ(d.lanes64.channels, form.bytes && k == 3 ? c / 64 * 64 : 0);
        }
      }
}

// lanes64_channel swaps a block's 4-channel groups between vector and 128-bit lane, and undoes itself.
TEST(DepthwiseLanes64, ChannelOrderIsATransposeOfGroups) {
  EXPECT_EQ(conv::lanes64_channel(0), 0);
  EXPECT_EQ(conv::lanes64_channel(4), 16);   // vector 0, lane 1: channel 16
  EXPECT_EQ(conv::lanes64_channel(16), 4);   // vector 1, lane 0: channel 4
  EXPECT_EQ(conv::lanes64_channel(27), 39);  // vector 1, lane 2, dword 3: channel 32 + 4 + 3
  EXPECT_EQ(conv::lanes64_channel(64 + 16), 64 + 4);
  for (int64_t p = 0; p < 256; ++p)
    EXPECT_EQ(conv::lanes64_channel(conv::lanes64_channel(p)), p);
}

INSTANTIATE_TEST_SUITE_P(Isas, Depthwise, test::isas_and_modes(vector_isas()), test::isa_mode_name);

}  // namespace
}  // namespace octet
