// The GEMM convolution on every ISA this CPU runs, in both requantization modes, bit-exact against the
// scalar reference conv2d; and avx512amx's on the scalar model of the tile instructions, on any machine.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include "conv_case.h"
#include "kernels/conv/gemm_conv2d.h"
#include "kernels/error.h"
#include "kernels/gemm/packed_gemm.h"
#include "kernels/isa.h"
#include "kernels/reference/conv2d.h"
#include "test_util.h"

namespace octet {
namespace {

using Case = test::ConvCase;
using test::reference;

conv::GemmConv2d prepare(const Case& c, Isa isa) {
  return std::visit(
      [&](const auto& w) {
        return conv::prepare_gemm_conv2d(isa, w, c.use_bias ? &c.bias : nullptr, c.params, c.input.quant,
                                         c.output, c.clamp, c.mode);
      },
      c.weights);
}

TensorU8 fast(const Case& c, Isa isa) {
  const conv::GemmConv2d prepared = prepare(c, isa);
  const TensorU8 expected_shape = reference(c);  // for the output shape only
  TensorU8 out(expected_shape.shape, c.output);
  conv::run(prepared, c.input.data.data(), c.input.dim(0), c.input.dim(1), c.input.dim(2), out.data.data());
  return out;
}

Case random_case(test::Random& rng, int weight_kind, RequantMode mode) {
  Case c;
  c.mode = mode;
  const int64_t cin = rng.integer(1, 40), cout = rng.integer(1, 70);
  const int64_t kh = rng.integer(1, 3), kw = rng.integer(1, 3);
  c.params.stride_h = rng.integer(1, 2), c.params.stride_w = rng.integer(1, 2);
  c.params.dilation_h = rng.integer(1, 2), c.params.dilation_w = rng.integer(1, 2);
  c.params.pad = {rng.integer(0, 2), rng.integer(0, 2), rng.integer(0, 2), rng.integer(0, 2)};
  const int64_t ih = rng.integer(c.params.dilation_h * (kh - 1) + 1, 12);
  const int64_t iw = rng.integer(c.params.dilation_w * (kw - 1) + 1, 12);
  c.input = rng.activations({rng.integer(1, 2), ih, iw, cin}, rng.activation_params());
  // Output scales from tiny (multipliers far below 1) to large (multipliers above 1).
  test::randomize_weights_and_output(rng, c, {cout, kh, kw, cin}, weight_kind);
  return c;
}

// Every activation `a` and every weight `w`, 3x3 over `cin` channels on a padded 5x5 map: the largest
// products and sums, K = 9 * cin.
Case extreme_case(int32_t a, int32_t w, int64_t cin, RequantMode mode) {
  Case c;
  c.mode = mode;
  c.input =
      TensorU8({1, 5, 5, cin}, std::vector<uint8_t>(static_cast<size_t>(25 * cin), static_cast<uint8_t>(a)),
               QuantParams::per_tensor(0.05f, a == 0 ? 0 : 3));
  c.weights = TensorS8({33, 3, 3, cin},
                       std::vector<int8_t>(static_cast<size_t>(33 * 9 * cin), static_cast<int8_t>(w)),
                       QuantParams::per_tensor(0.001f, 0));
  c.params.pad = {1, 1, 1, 1};
  c.output = QuantParams::per_tensor(cin > 100 ? 20.0f : 1.0f, 128);
  return c;
}

// A 3x3 layer over a 7x7 map with `cout` output channels: few pixels, so the work is split over channel
// groups too.
Case few_pixels_many_channels(uint64_t seed, int64_t cout, RequantMode mode) {
  test::Random rng(seed);
  Case c = random_case(rng, 0, mode);
  c.input = rng.activations({1, 7, 7, 24}, rng.activation_params());
  c.weights = test::random_weights<int8_t>(rng, {cout, 3, 3, 24}, true, false);
  c.bias = test::random_bias(rng, cout, c.input.quant, std::get<TensorS8>(c.weights));
  c.use_bias = true;
  c.clamp = {};
  c.params = {};
  c.params.pad = {1, 1, 1, 1};
  c.output = QuantParams::per_tensor(0.05f, 10);
  return c;
}

class GemmConv : public ::testing::TestWithParam<test::IsaMode> {
 protected:
  Isa isa() const { return std::get<0>(GetParam()); }
  RequantMode mode() const { return std::get<1>(GetParam()); }
};

TEST_P(GemmConv, RandomShapesBitExact) {
  for (uint64_t seed = 0; seed < test::random_trials(600); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " isa " + std::string(name_of(isa())) + " requant " +
                 std::string(name_of(mode())));
    test::Random rng(seed);
    const Case c = random_case(rng, static_cast<int>(seed % 3), mode());
    const TensorU8 want = reference(c), got = fast(c, isa());
    ASSERT_EQ(got.shape, want.shape);
    ASSERT_EQ(got.data, want.data);
  }
}

// Geometries where many taps fall in the padding, which the segmented kernels skip (segment_rows.h):
// dilations up to 13 on maps smaller than the dilated kernel, pads wider than the kernel (whole kernel rows
// and columns outside the image, and pixels with no tap inside it), kernels up to 5 x 5 and 7 x 1, C_in
// a multiple of 4 (runs trimmed to the taps inside; with horizontal dilation one segment per tap) or not
// (whole kernel rows), 1-8 output channels (the few-channel kernel) and more (blocks and tails), batches
// of 2, extreme values (the skipped taps' zero point times weights of +-127 in the sums' start), 1 and 3
// threads.
TEST_P(GemmConv, PaddingTapsSkippedBitExact) {
  int segmented = 0, per_tap = 0;
  for (uint64_t seed = 0; seed < test::random_trials(300); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed + 9000);
    Case c = random_case(rng, seed % 5 == 4 ? 2 : 0, mode());
    const bool column = seed % 7 == 6;
    const int64_t kh = rng.integer(1, column ? 7 : 5), kw = column ? 1 : rng.integer(1, 5);
    const int64_t cin = seed % 3 == 0 ? rng.integer(1, 20) : 4 * rng.integer(1, 12);
    const int64_t cout = seed % 4 == 0 ? rng.integer(1, 8) : rng.integer(9, 72);
    c.params.dilation_h = rng.integer(1, 13), c.params.dilation_w = rng.integer(1, 13);
    c.params.stride_h = rng.integer(1, 3), c.params.stride_w = rng.integer(1, 3);
    const int64_t reach_h = c.params.dilation_h * (kh - 1), reach_w = c.params.dilation_w * (kw - 1);
    c.params.pad = {rng.integer(0, reach_h + 2), rng.integer(0, reach_w + 2), rng.integer(0, reach_h + 2),
                    rng.integer(0, reach_w + 2)};
    const int64_t ih = rng.integer(1, 20), iw = rng.integer(1, 20);
    if (ih + c.params.pad.top + c.params.pad.bottom <= reach_h ||
        iw + c.params.pad.left + c.params.pad.right <= reach_w)
      continue;  // no output pixel
    c.input = rng.activations({rng.integer(1, 2), ih, iw, cin}, rng.activation_params());
    if (seed % 6 == 5) {
      for (auto& v : c.input.data)
        v = rng.coin() ? 255 : 0;
      c.input.quant.zero_points.assign(1, rng.coin() ? 255 : 0);
    }
    if (seed % 5 == 4) {
      c.weights = test::random_weights<uint8_t>(rng, {cout, kh, kw, cin}, rng.coin(), true);
      auto& w = std::get<TensorU8>(c.weights);
      w.quant.zero_points.assign(w.quant.zero_points.size(), 128);  // symmetric: no row sums
    } else {
      c.weights = test::random_weights<int8_t>(rng, {cout, kh, kw, cin}, rng.coin(), false);
      if (seed % 6 == 5)
        for (auto& v : std::get<TensorS8>(c.weights).data)
          v = rng.coin() ? int8_t{-127} : int8_t{127};
    }
    std::visit([&](const auto& w) { c.bias = test::random_bias(rng, cout, c.input.quant, w, 50000); },
               c.weights);
    const TensorU8 want = reference(c);
    const conv::GemmConv2d prepared = prepare(c, isa());
    segmented += prepared.segmented;
    per_tap += prepared.per_tap_segments;
    for (int threads : {1, 3}) {
      TensorU8 got(want.shape, c.output);
      tbb::task_arena(threads).execute(
          [&] { conv::run(prepared, c.input.data.data(), c.input.dim(0), ih, iw, got.data.data()); });
      ASSERT_EQ(got.data, want.data) << threads << " threads";
    }
  }
  // The skipping path itself, where the ISA has it: most cases, and the per-tap segments in some.
  if (gemm::has_segmented_kernel(isa())) {
    EXPECT_GT(segmented, test::random_trials(150));
    EXPECT_GT(per_tap, test::random_trials(40));
  } else {
    EXPECT_EQ(segmented, 0);
  }
}

// The segmented layouts at their limits, padding-heavy: 16 kernel rows (kMaxKernelRows), 8 x 8 taps with
// horizontal dilation (64 per-tap runs, kMaxRuns), and a one-column kernel with horizontal dilation (whole
// kernel rows: one column is one run of memory whatever the dilation).
TEST_P(GemmConv, PaddingTapsAtTheLayoutLimits) {
  struct Limit {
    int64_t kh, kw, dilation_h, dilation_w, cin, pad_h, pad_w, ih, iw;
    bool per_tap;
  };
  for (const Limit& lim :
       {Limit{16, 1, 3, 1, 8, 30, 0, 12, 9, false}, Limit{8, 8, 2, 3, 16, 9, 14, 10, 12, true},
        Limit{3, 1, 2, 5, 12, 2, 3, 9, 7, false}}) {
    for (uint64_t seed = 0; seed < 3; ++seed) {
      SCOPED_TRACE(std::to_string(lim.kh) + "x" + std::to_string(lim.kw) + " seed " + std::to_string(seed));
      test::Random rng(seed + 9500);
      Case c = random_case(rng, 0, mode());
      c.params.dilation_h = lim.dilation_h, c.params.dilation_w = lim.dilation_w;
      c.params.stride_h = c.params.stride_w = 1 + static_cast<int64_t>(seed % 2);
      c.params.pad = {lim.pad_h, lim.pad_w, lim.pad_h, lim.pad_w};
      c.input = rng.activations({2, lim.ih, lim.iw, lim.cin}, rng.activation_params());
      const int64_t cout = seed == 0 ? 5 : 40;
      c.weights = test::random_weights<int8_t>(rng, {cout, lim.kh, lim.kw, lim.cin}, true, false);
      c.bias = test::random_bias(rng, cout, c.input.quant, std::get<TensorS8>(c.weights));
      const TensorU8 want = reference(c);
      const conv::GemmConv2d prepared = prepare(c, isa());
      if (gemm::has_segmented_kernel(isa())) {
        EXPECT_TRUE(prepared.segmented);
        EXPECT_EQ(prepared.per_tap_segments, lim.per_tap);
      }
      for (int threads : {1, 2}) {
        TensorU8 got(want.shape, c.output);
        tbb::task_arena(threads).execute(
            [&] { conv::run(prepared, c.input.data.data(), 2, lim.ih, lim.iw, got.data.data()); });
        ASSERT_EQ(got.data, want.data) << threads << " threads";
      }
    }
  }
}

// 1x1 layers over 1-68 input channels: on AVX-512 a K of up to 8 k steps, 12 or 16 takes the small-K loop
// (weights and constants kept over all rows), the rest the tiles; pixel counts that leave a part tile,
// 32 to 100 output channels (whole pairs of blocks, then a block and a tail), every weight kind (row sums
// for asymmetric weights), extreme activations.
TEST_P(GemmConv, OneByOneEverySmallK) {
  for (int64_t cin = 1; cin <= 68; ++cin) {
    SCOPED_TRACE("cin " + std::to_string(cin));
    test::Random rng(static_cast<uint64_t>(1000 + cin));
    Case c = random_case(rng, static_cast<int>(cin % 3), mode());
    const int64_t cout = std::vector<int64_t>{32, 40, 64, 72, 96, 100}[static_cast<size_t>(cin % 6)];
    c.params = {};
    c.input = rng.activations({1, 7, cin % 2 == 0 ? 9 : 8, cin}, rng.activation_params());
    if (cin % 5 == 0)
      for (size_t i = 0; i < c.input.data.size(); ++i)
        c.input.data[i] = i % 3 == 0 ? 0 : 255;
    const Shape ws{cout, 1, 1, cin};
    if (cin % 3 == 0)
      c.weights = test::random_weights<int8_t>(rng, ws, true, false);
    else if (cin % 3 == 1)
      c.weights = test::random_weights<int8_t>(rng, ws, true, true);
    else
      c.weights = test::random_weights<uint8_t>(rng, ws, false, true);
    std::visit([&](const auto& w) { c.bias = test::random_bias(rng, cout, c.input.quant, w, 50000); },
               c.weights);
    ASSERT_EQ(fast(c, isa()).data, reference(c).data);
  }
}

// The small-K kernels run only channel blocks with the fused form in fixed point and stop at the first
// block without it (here channels 32-47, whose multiplier exceeds 1: a left shift); the tiles compute the
// rest. Rows not a multiple of the 8-row tile, with a ReLU clamp (the uncorrected epilogue) and without.
TEST_P(GemmConv, SmallKWithABlockWithoutTheFusedForm) {
  for (const bool relu : {true, false}) {
    SCOPED_TRACE(relu ? "relu" : "no clamp");
    test::Random rng(77);
    Case c;
    c.mode = mode();
    const int64_t cin = 24, cout = 96;
    c.input = rng.activations({1, 5, 7, cin}, QuantParams::per_tensor(0.02f, 110));
    auto w = test::random_weights<int8_t>(rng, {cout, 1, 1, cin}, true, false);
    std::vector<float> scales(static_cast<size_t>(cout), 0.01f);
    for (size_t ch = 32; ch < 48; ++ch)
      scales[ch] = 0.1f;  // 0.02 * 0.1 / 0.001 = 2
    w.quant = QuantParams::per_axis(scales, std::vector<int32_t>(static_cast<size_t>(cout), 0), 0);
    c.bias = test::random_bias(rng, cout, c.input.quant, w, 2000);
    c.use_bias = true;
    c.weights = w;
    c.output = QuantParams::per_tensor(0.001f, relu ? 0 : 100);
    c.clamp = Clamp{};
    ASSERT_EQ(fast(c, isa()).data, reference(c).data);
  }
}

TEST_P(GemmConv, ExtremeValuesAndLargeK) {
  for (int32_t a : {0, 255})
    for (int32_t wv : {-128, -127, 127})
      for (int64_t cin : {3, 64, 512}) {
        SCOPED_TRACE("a " + std::to_string(a) + " w " + std::to_string(wv) + " cin " + std::to_string(cin));
        const Case c = extreme_case(a, wv, cin, mode());
        ASSERT_EQ(fast(c, isa()).data, reference(c).data);
      }
}

// Scaled accumulators far beyond int32 (a huge requantization scale): the float mode's clamp comes before
// the conversion to int32, so these saturate to the clamp's ends; random accumulators of both signs, 32 and
// more channels (the kernels that pack two channel blocks at once) and narrow clamps. Then the same layer
// with an ordinary scale.
TEST_P(GemmConv, ScaledBeyondInt32) {
  for (float output_scale : {1e-7f, 0.5f})
    for (int64_t cout : {32, 64, 70}) {
      SCOPED_TRACE("output scale " + std::to_string(output_scale) + " cout " + std::to_string(cout));
      test::Random rng(static_cast<uint64_t>(cout));
      Case c;
      c.mode = mode();
      c.input = rng.activations({1, 6, 9, 48}, QuantParams::per_tensor(1.0f, 100));
      c.weights = test::random_weights<int8_t>(rng, {cout, 3, 3, 48}, true, false);
      c.bias = test::random_bias(rng, cout, c.input.quant, std::get<TensorS8>(c.weights), 50000);
      c.use_bias = true;
      c.params.pad = {1, 1, 1, 1};
      c.output = QuantParams::per_tensor(output_scale, 77);
      for (Clamp clamp : {Clamp{}, Clamp{77, 200}}) {
        c.clamp = clamp;
        const TensorU8 want = reference(c);
        ASSERT_EQ(fast(c, isa()).data, want.data);
      }
    }
}

TEST_P(GemmConv, IdenticalForAnyThreadCount) {
  test::Random rng(77);
  Case c = random_case(rng, 0, mode());
  c.input = rng.activations({2, 30, 30, 16}, rng.activation_params());
  c.weights = test::random_weights<int8_t>(rng, {40, 3, 3, 16}, true, false);
  c.bias = test::random_bias(rng, 40, c.input.quant, std::get<TensorS8>(c.weights));
  c.use_bias = true;
  c.clamp = {};
  c.params = {};
  c.params.pad = {1, 1, 1, 1};
  c.output = QuantParams::per_tensor(0.05f, 10);
  std::vector<uint8_t> first;
  for (int threads : {1, 2, 4}) {
    tbb::task_arena arena(threads);
    TensorU8 out;
    arena.execute([&] { out = fast(c, isa()); });
    if (first.empty()) first = out.data;
    ASSERT_EQ(out.data, first) << threads << " threads";
  }
  EXPECT_EQ(first, reference(c).data);
}

// Few pixels and many channels: the work is split over channel groups too, whose boundaries move with
// the thread count.
TEST_P(GemmConv, ChannelSplitIdenticalForAnyThreadCount) {
  const Case c = few_pixels_many_channels(78, 200, mode());
  const TensorU8 want = reference(c);
  for (int threads : {1, 2, 3, 4, 8}) {
    tbb::task_arena arena(threads);
    TensorU8 out;
    arena.execute([&] { out = fast(c, isa()); });
    ASSERT_EQ(out.data, want.data) << threads << " threads";
  }
}

// Output pixels wider apart than C_out, the convolution's channels at an offset inside them (as when it
// stores into its channel concatenation's output): the same bytes as the dense reference, no byte of the
// rest of each row written; first layers too (they leave the pixel-lane kernel for the GEMM when strided),
// 1-8 output channels (the few-channel kernel), 1 and 3 threads.
TEST_P(GemmConv, StridedOutputSlice) {
  for (uint64_t seed = 0; seed < test::random_trials(300); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed + 5000);
    const Case c = random_case(rng, static_cast<int>(seed % 3), mode());
    const TensorU8 want = reference(c);
    const int64_t cout = want.dim(3), pixels = want.dim(0) * want.dim(1) * want.dim(2);
    const int64_t lead = rng.integer(0, 20), stride = lead + cout + rng.integer(0, 40);
    const conv::GemmConv2d prepared = prepare(c, isa());
    for (int threads : {1, 3}) {
      test::StridedOutput out(pixels, cout, stride, lead);
      tbb::task_arena(threads).execute([&] {
        conv::run(prepared, c.input.data.data(), c.input.dim(0), c.input.dim(1), c.input.dim(2), out.slice(),
                  nullptr, stride);
      });
      ASSERT_EQ(out.dense(), want.data) << threads << " threads, stride " << stride << " lead " << lead;
      ASSERT_EQ(out.first_stray_write(), -1) << threads << " threads, stride " << stride << " lead " << lead;
    }
  }
}

// A stride that cannot hold the channels, and a fused residual add into strided rows, are refused.
TEST_P(GemmConv, StridedOutputRefusals) {
  test::Random rng(9);
  Case c = random_case(rng, 0, mode());
  const int64_t cout = std::get<TensorS8>(c.weights).dim(0);
  const conv::GemmConv2d prepared = conv::prepare_gemm_conv2d(
      isa(), std::get<TensorS8>(c.weights), nullptr, c.params, c.input.quant, c.output, c.clamp, c.mode);
  std::vector<uint8_t> out(reference(c).data.size() * 2);
  if (cout > 1) {
    EXPECT_THROW(conv::run(prepared, c.input.data.data(), c.input.dim(0), c.input.dim(1), c.input.dim(2),
                           out.data(), nullptr, cout - 1),
                 Error);
  }
  const conv::ResidualAdd residual;  // refused before it is read
  EXPECT_THROW(conv::run(prepared, c.input.data.data(), c.input.dim(0), c.input.dim(1), c.input.dim(2),
                         out.data(), &residual, cout + 1),
               Error);
}

INSTANTIATE_TEST_SUITE_P(Isas, GemmConv, test::isas_and_modes(supported_isas()), test::isa_mode_name);

// avx512amx's convolutions on any machine: prepared for that ISA, their GEMM run on the scalar model of the
// tile instructions (AmxConv::on_model) instead of AMX hardware, so everything but the intrinsics is what
// runs on AMX: the weights packed in segments, the segment table read in place or copied per tile, 1x1
// layers read in place, im2col rows with row sums for asymmetric weights, channel groups, the epilogue.
// On a machine with AMX, the GemmConv suite above runs the same layers on the hardware.
class AmxConvOnTileModel : public ::testing::TestWithParam<RequantMode> {
 protected:
  struct Run {
    TensorU8 out;
    bool amx = false, segmented = false;
  };
  static Run run_model(const Case& c) {
    conv::GemmConv2d prepared = prepare(c, Isa::avx512amx);
    Run r;
    r.amx = prepared.amx.has_value();
    r.segmented = prepared.segmented;
    if (prepared.amx) prepared.amx->on_model = true;
    r.out = TensorU8(reference(c).shape, c.output);
    conv::run(prepared, c.input.data.data(), c.input.dim(0), c.input.dim(1), c.input.dim(2),
              r.out.data.data());
    return r;
  }
};

TEST_P(AmxConvOnTileModel, RandomShapesBitExact) {
  int on_amx = 0, segmented = 0;
  for (uint64_t seed = 0; seed < test::random_trials(400); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed + 1000);
    const Case c = random_case(rng, static_cast<int>(seed % 3), GetParam());
    const Run r = run_model(c);
    ASSERT_EQ(r.out.data, reference(c).data);
    on_amx += r.amx;
    segmented += r.amx && r.segmented;
  }
  // All but the pixel-lane layers (a few input channels, where the CPU has VBMI); kernel rows read through
  // the segment table where the weights are symmetric and there is no horizontal dilation.
  EXPECT_GT(on_amx, test::random_trials(300));
  EXPECT_GT(segmented, test::random_trials(50));
}

// Interior runs long enough for tiles read in place: 3x3 over 64 channels (whole 64-byte steps) and over 32
// (one step in two copied), stride 1 and 2, 1x1 in place, 0 / 255 activations against extreme weights
// with K up to 4608.
TEST_P(AmxConvOnTileModel, ConvolutionShapesAndExtremes) {
  struct Shape4 {
    int64_t cin, cout, kernel, stride, h, w;
  };
  uint64_t seed = 7;
  for (const Shape4& s :
       {Shape4{64, 40, 3, 1, 6, 36}, Shape4{32, 33, 3, 2, 7, 40}, Shape4{64, 48, 1, 1, 5, 21},
        Shape4{16, 17, 3, 1, 4, 35}, Shape4{128, 16, 1, 2, 6, 10}}) {
    SCOPED_TRACE(std::to_string(s.cin) + " -> " + std::to_string(s.cout) + " " + std::to_string(s.kernel) +
                 "x" + std::to_string(s.kernel) + " stride " + std::to_string(s.stride));
    test::Random rng(++seed);
    Case c;
    c.mode = GetParam();
    c.params.stride_h = c.params.stride_w = s.stride;
    const int64_t pad = s.kernel / 2;
    c.params.pad = {pad, pad, pad, pad};
    c.input = rng.activations({1, s.h, s.w, s.cin}, rng.activation_params());
    c.weights = test::random_weights<int8_t>(rng, {s.cout, s.kernel, s.kernel, s.cin}, true, false);
    c.bias = test::random_bias(rng, s.cout, c.input.quant, std::get<TensorS8>(c.weights), 50000);
    c.use_bias = true;
    c.output = QuantParams::per_tensor(rng.scale(0.01, 1.0), static_cast<int32_t>(rng.integer(0, 255)));
    const Run r = run_model(c);
    EXPECT_TRUE(r.amx);
    ASSERT_EQ(r.out.data, reference(c).data);
  }
  for (int32_t a : {0, 255})
    for (int32_t wv : {-128, 127})
      for (int64_t cin : {64, 512}) {
        SCOPED_TRACE("a " + std::to_string(a) + " w " + std::to_string(wv) + " cin " + std::to_string(cin));
        const Case c = extreme_case(a, wv, cin, GetParam());
        ASSERT_EQ(run_model(c).out.data, reference(c).data);
      }
}

// Strided output rows, as GemmConv.StridedOutputSlice, on the tile model: the AMX epilogue's stores at the
// row stride, nothing else in each row written.
TEST_P(AmxConvOnTileModel, StridedOutputSlice) {
  int on_amx = 0;
  for (uint64_t seed = 0; seed < test::random_trials(150); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed + 7000);
    const Case c = random_case(rng, static_cast<int>(seed % 3), GetParam());
    const TensorU8 want = reference(c);
    const int64_t cout = want.dim(3), pixels = want.dim(0) * want.dim(1) * want.dim(2);
    const int64_t lead = rng.integer(0, 20), stride = lead + cout + rng.integer(1, 40);
    conv::GemmConv2d prepared = prepare(c, Isa::avx512amx);
    if (prepared.amx) prepared.amx->on_model = true;
    on_amx += prepared.amx.has_value();
    test::StridedOutput out(pixels, cout, stride, lead);
    conv::run(prepared, c.input.data.data(), c.input.dim(0), c.input.dim(1), c.input.dim(2), out.slice(),
              nullptr, stride);
    ASSERT_EQ(out.dense(), want.data) << "stride " << stride << " lead " << lead;
    ASSERT_EQ(out.first_stray_write(), -1) << "stride " << stride << " lead " << lead;
  }
  EXPECT_GT(on_amx, test::random_trials(100));
}

// Tasks split by pixels and by channel groups, whose boundaries move with the thread count.
TEST_P(AmxConvOnTileModel, IdenticalForAnyThreadCount) {
  const Case c = few_pixels_many_channels(79, 100, GetParam());
  const TensorU8 want = reference(c);
  for (int threads : {1, 2, 3, 4}) {
    tbb::task_arena arena(threads);
    TensorU8 out;
    arena.execute([&] { out = run_model(c).out; });
    ASSERT_EQ(out.data, want.data) << threads << " threads";
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, AmxConvOnTileModel, ::testing::ValuesIn(test::kRequantModes),
                         [](const auto& info) { return std::string(name_of(info.param)); });

}  // namespace
}  // namespace octet
