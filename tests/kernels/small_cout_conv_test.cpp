// The kernels for convolutions with few (or awkward numbers of) output channels, bit-exact with the
// reference operators on every ISA this CPU runs, in both requantization modes and for 1 and 3 threads:
// the GEMM's paired tail of at most 8 channels (AVX-512 VNNI: two pixels per register; also under the
// transposed phases), the pixel-lane convolution (AVX-512 VBMI: one channel of 16 pixels per register),
// and the small-output transposed convolution (AVX-512 VNNI: P pixels x T output values per register).
// Shapes are drawn around each path's limits, with per-tensor and per-channel, symmetric and asymmetric,
// int8 and uint8 weights and extreme values.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <variant>

#include "conv_case.h"
#include "kernels/conv/gemm_conv2d.h"
#include "kernels/conv/transposed_gemm.h"
#include "kernels/conv/transposed_phases.h"
#include "kernels/error.h"
#include "kernels/isa.h"
#include "kernels/reference/conv2d.h"
#include "kernels/reference/conv_transpose2d.h"
#include "test_util.h"

namespace octet {
namespace {

// 0: int8 symmetric, 1: int8 asymmetric, 2: uint8 symmetric (zero point 128), 3: uint8 asymmetric.
using Weights = std::variant<TensorS8, TensorU8>;

Weights make_weights(test::Random& rng, const Shape& shape, int kind, bool extreme) {
  const bool per_channel = rng.coin();
  if (kind <= 1) {
    TensorS8 w = test::random_weights<int8_t>(rng, shape, per_channel, kind == 1);
    if (extreme)
      for (auto& v : w.data)
        v = rng.coin() ? int8_t{-128} : int8_t{127};
    return w;
  }
  TensorU8 w = test::random_weights<uint8_t>(rng, shape, per_channel, true);
  if (kind == 2) w.quant.zero_points.assign(w.quant.zero_points.size(), 128);
  if (extreme)
    for (auto& v : w.data)
      v = rng.coin() ? uint8_t{0} : uint8_t{255};
  return w;
}

TensorU8 make_input(test::Random& rng, Shape shape, bool extreme) {
  TensorU8 in = rng.activations(std::move(shape), rng.activation_params());
  if (extreme)
    for (auto& v : in.data)
      v = rng.coin() ? 255 : 0;
  return in;
}

QuantParams random_output(test::Random& rng) {
  // Tiny scales give multipliers above 1 (the general requantization), larger ones the fused form.
  return QuantParams::per_tensor(rng.scale(1e-5, 5.0), static_cast<int32_t>(rng.integer(0, 255)));
}

Clamp random_clamp(test::Random& rng) {
  return rng.coin()
             ? Clamp{}
             : Clamp{static_cast<int32_t>(rng.integer(0, 100)), static_cast<int32_t>(rng.integer(150, 255))};
}

using test::ConvCase;
using test::reference;

conv::GemmConv2d prepare(const ConvCase& c, Isa isa) {
  return std::visit(
      [&](const auto& w) {
        return conv::prepare_gemm_conv2d(isa, w, c.use_bias ? &c.bias : nullptr, c.params, c.input.quant,
                                         c.output, c.clamp, c.mode);
      },
      c.weights);
}

// Runs `prepared` on 1 and on 3 threads and checks both against the reference.
void expect_bit_exact(const conv::GemmConv2d& prepared, const ConvCase& c, const TensorU8& want) {
  for (int threads : {1, 3}) {
    std::vector<uint8_t> got(want.data.size(), 0xEE);
    tbb::task_arena(threads).execute([&] {
      conv::run(prepared, c.input.data.data(), c.input.dim(0), c.input.dim(1), c.input.dim(2), got.data());
    });
    ASSERT_EQ(got, want.data) << threads << " threads";
  }
}

ConvCase random_conv(test::Random& rng, uint64_t seed, int64_t cout, int64_t cin, int64_t max_kernel,
                     int64_t max_stride, int64_t max_width, RequantMode mode) {
  ConvCase c;
  c.mode = mode;
  const int64_t kh = rng.integer(1, max_kernel), kw = rng.integer(1, max_kernel);
  c.params.stride_h = rng.integer(1, max_stride), c.params.stride_w = rng.integer(1, max_stride);
  c.params.dilation_h = rng.integer(1, 2), c.params.dilation_w = seed % 5 == 4 ? 2 : 1;
  c.params.pad = {rng.integer(0, 3), rng.integer(0, 3), rng.integer(0, 3), rng.integer(0, 3)};
  const int64_t ih = c.params.dilation_h * (kh - 1) + rng.integer(1, 8);
  const int64_t iw = c.params.dilation_w * (kw - 1) + rng.integer(1, max_width);
  const bool extreme = seed % 7 == 3;
  c.input = make_input(rng, {rng.integer(1, 2), ih, iw, cin}, extreme);
  // Mostly symmetric weights (the segmented and pixel-lane paths need them), asymmetric now and then.
  const int kind = seed % 4 == 1 ? static_cast<int>(rng.integer(0, 3)) : (seed % 2 == 0 ? 0 : 2);
  c.weights = make_weights(rng, {cout, kh, kw, cin}, kind, extreme);
  std::visit([&](const auto& w) { c.bias = test::random_bias(rng, cout, c.input.quant, w, 50000); },
             c.weights);
  c.use_bias = rng.coin();
  c.output = random_output(rng);
  c.clamp = random_clamp(rng);
  return c;
}

class SmallCoutConv : public ::testing::TestWithParam<test::IsaMode> {
 protected:
  Isa isa() const { return std::get<0>(GetParam()); }
  RequantMode mode() const { return std::get<1>(GetParam()); }
};

// C_out from 1 to 24 (a tail of at most 8 channels alone or after one block) and 33 to 40 (after two
// blocks), through the GEMM kernels alone (the pixel-lane path switched off).
TEST_P(SmallCoutConv, GemmChannelTailsBitExact) {
  int checked = 0;
  for (uint64_t seed = 0; seed < test::random_trials(500); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t cout = seed % 5 == 0 ? rng.integer(33, 40) : rng.integer(1, 24);
    const ConvCase c = random_conv(rng, seed, cout, rng.integer(1, 40), 3, 3, 13, mode());
    TensorU8 want;
    try {
      want = reference(c);
    } catch (const Error&) {
      continue;  // a geometry the reference refuses
    }
    conv::GemmConv2d prepared = prepare(c, isa());
    prepared.pixel_lanes.reset();
    expect_bit_exact(prepared, c, want);
    ++checked;
  }
  EXPECT_GT(checked, test::random_trials(450));
}

// Few input channels: the pixel-lane path where it applies (windows of 16 pixels from 1 to 128 bytes, rows
// of 1 to about 90 output pixels: partial tiles, several steps per row), mostly with at most 8 output
// channels (all in registers), every third case with 9 to 66 (blocks of 16 and a tail block of 4 to 16;
// above 64 the GEMM's).
TEST_P(SmallCoutConv, PixelLanesBitExact) {
  int applied = 0, checked = 0;
  for (uint64_t seed = 0; seed < test::random_trials(500); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t cout = seed % 3 == 2 ? rng.integer(9, 66) : rng.integer(1, 8);
    const ConvCase c = random_conv(rng, seed, cout, rng.integer(1, 4), 7, 3, 90, mode());
    TensorU8 want;
    try {
      want = reference(c);
    } catch (const Error&) {
      continue;
    }
    const conv::GemmConv2d prepared = prepare(c, isa());
    applied += prepared.pixel_lanes.has_value();
    expect_bit_exact(prepared, c, want);
    ++checked;
  }
  EXPECT_GT(checked, test::random_trials(450));
  const ref::Conv2dParams stem{.stride_h = 2, .stride_w = 2, .pad = {1, 1, 1, 1}};
  if (conv::pixel_lanes_apply(isa(), stem, 3, 3, 3, 8))
    EXPECT_GT(applied, test::random_trials(150));
  else
    EXPECT_EQ(applied, 0);
}

// Classifier stems on smaller maps: 3 -> 32 at 3x3 (stride 1 and 2), 3 -> 64 at 7x7 stride 2, 3 -> 16 (one
// whole block: rows stored 64 bytes at a time), 3 -> 24 and 1 -> 44 (tail blocks of 8 and 12), with
// per-tensor and per-channel weights, extreme values, and rows that end in partial tiles. 32 and 64
// channels also on rows of exactly 16 pixels, of 4, and of 22 (whole rows assembled from staged blocks,
// a last tile of 6 pixels: one whole group of 4 and a part of one).
TEST_P(SmallCoutConv, StemsBitExact) {
  struct Stem {
    int64_t cin, cout, kernel, stride, h, w;
  };
  int applied = 0;
  for (const Stem& s : {Stem{3, 32, 3, 1, 9, 45}, Stem{3, 32, 3, 2, 11, 70}, Stem{3, 64, 7, 2, 13, 41},
                        Stem{3, 16, 3, 1, 5, 64}, Stem{3, 24, 3, 2, 7, 37}, Stem{1, 44, 5, 1, 6, 29},
                        Stem{3, 64, 3, 1, 4, 16}, Stem{2, 32, 3, 1, 3, 4}, Stem{4, 64, 3, 1, 2, 22}}) {
    for (uint64_t seed = 0; seed < 4; ++seed) {
      SCOPED_TRACE(std::to_string(s.cin) + " -> " + std::to_string(s.cout) + " " + std::to_string(s.kernel) +
                   "x" + std::to_string(s.kernel) + " stride " + std::to_string(s.stride) + ", seed " +
                   std::to_string(seed));
      test::Random rng(100 + seed);
      ConvCase c;
      c.mode = mode();
      c.params.stride_h = c.params.stride_w = s.stride;
      const int64_t pad = s.kernel / 2;
      c.params.pad = {pad, pad, pad, pad};
      const bool extreme = seed == 3;
      c.input = make_input(rng, {1, s.h, s.w, s.cin}, extreme);
      c.weights = make_weights(rng, {s.cout, s.kernel, s.kernel, s.cin}, 0, extreme);
      c.bias = test::random_bias(rng, s.cout, c.input.quant, std::get<TensorS8>(c.weights), 50000);
      c.use_bias = true;
      c.output = random_output(rng);
      c.clamp = seed % 2 == 0 ? Clamp{0, 255} : random_clamp(rng);
      const TensorU8 want = reference(c);
      const conv::GemmConv2d prepared = prepare(c, isa());
      applied += prepared.pixel_lanes.has_value();
      expect_bit_exact(prepared, c, want);
    }
  }
  const ref::Conv2dParams stem{.stride_h = 2, .stride_w = 2, .pad = {1, 1, 1, 1}};
  EXPECT_EQ(applied, conv::pixel_lanes_apply(isa(), stem, 3, 3, 3, 32) ? 36 : 0);
}

// Scaled accumulators far beyond int32 (a huge requantization scale) on the pixel-lane kernel, whose
// saturating packs clamp: the float mode keeps its float clamp there (ChannelRequant::float_fits_int32).
// Then an ordinary scale, without it.
TEST_P(SmallCoutConv, PixelLanesScaledBeyondInt32) {
  int applied = 0;
  for (const int64_t cout : {8, 24, 32})
    for (const float output_scale : {1e-9f, 0.5f}) {
      SCOPED_TRACE("3 -> " + std::to_string(cout) + ", output scale " + std::to_string(output_scale));
      test::Random rng(static_cast<uint64_t>(cout));
      ConvCase c;
      c.mode = mode();
      c.params.stride_h = c.params.stride_w = 2;
      c.params.pad = {1, 1, 1, 1};
      c.input = make_input(rng, {1, 9, 40, 3}, false);
      c.weights = make_weights(rng, {cout, 3, 3, 3}, 0, false);
      c.bias = test::random_bias(rng, cout, c.input.quant, std::get<TensorS8>(c.weights), 50000);
      c.use_bias = true;
      c.output = QuantParams::per_tensor(output_scale, 90);
      for (const Clamp clamp : {Clamp{}, Clamp{90, 200}}) {
        c.clamp = clamp;
        const conv::GemmConv2d prepared = prepare(c, isa());
        applied += prepared.pixel_lanes.has_value();
        expect_bit_exact(prepared, c, reference(c));
      }
    }
  const ref::Conv2dParams stem{.stride_h = 2, .stride_w = 2, .pad = {1, 1, 1, 1}};
  EXPECT_EQ(applied, conv::pixel_lanes_apply(isa(), stem, 3, 3, 3, 32) ? 12 : 0);
}

// The taps are grouped by 4 across kernel rows (PixelLaneConv::groups): 3 -> 32 at 3x3 takes 7 groups, not
// 3 per row, and rows of fewer than 3 taps are padded to 4 each. Every case bit-exact, on output zero
// point 0 (whose clamp makes the fused form's tie correction moot: the scalar-broadcast epilogue) and 90.
TEST_P(SmallCoutConv, PixelLaneTapGroupsSpanKernelRows) {
  struct Shape {
    int64_t cin, kh, kw, stride, groups;
  };
  int applied = 0;
  for (const Shape& s :
       {Shape{3, 3, 3, 1, 7}, Shape{3, 7, 7, 2, 37}, Shape{1, 3, 3, 1, 3}, Shape{2, 3, 3, 2, 5},
        Shape{1, 2, 2, 1, 2}, Shape{2, 3, 1, 1, 3}, Shape{4, 3, 3, 1, 9}, Shape{3, 5, 1, 2, 4}}) {
    for (const int32_t output_zero_point : {0, 90}) {
      SCOPED_TRACE(std::to_string(s.cin) + " channels, " + std::to_string(s.kh) + "x" + std::to_string(s.kw) +
                   " stride " + std::to_string(s.stride) + ", output zero point " +
                   std::to_string(output_zero_point));
      test::Random rng(static_cast<uint64_t>(s.cin * 100 + s.kh * 10 + s.kw));
      ConvCase c;
      c.mode = mode();
      c.params.stride_h = c.params.stride_w = s.stride;
      c.params.pad = {s.kh / 2, s.kw / 2, s.kh / 2, s.kw / 2};
      c.input = make_input(rng, {2, 7, 37, s.cin}, output_zero_point == 90);
      c.weights = make_weights(rng, {24, s.kh, s.kw, s.cin}, 0, output_zero_point == 90);
      c.bias = test::random_bias(rng, 24, c.input.quant, std::get<TensorS8>(c.weights), 50000);
      c.use_bias = true;
      c.output = QuantParams::per_tensor(0.05f, output_zero_point);
      const conv::GemmConv2d prepared = prepare(c, isa());
      if (prepared.pixel_lanes) {
        ++applied;
        EXPECT_EQ(prepared.pixel_lanes->groups, s.groups);
      }
      expect_bit_exact(prepared, c, reference(c));
    }
  }
  const ref::Conv2dParams stem{.stride_h = 2, .stride_w = 2, .pad = {1, 1, 1, 1}};
  if (conv::pixel_lanes_apply(isa(), stem, 3, 3, 3, 32)) {
    EXPECT_GT(applied, 12);
  }
}

// The text detector's layers, on smaller maps: the 3 -> 8 stem (3x3 stride 2) and a 96 -> 24 3x3 layer.
TEST_P(SmallCoutConv, DetectorLayersBitExact) {
  test::Random rng(5);
  for (const auto& [cin, cout, stride, h, w] : {std::tuple{3, 8, 2, 48, 67}, std::tuple{96, 24, 1, 12, 17},
                                                std::tuple{3, 8, 2, 1, 1}, std::tuple{96, 24, 1, 1, 3}}) {
    SCOPED_TRACE(std::to_string(cin) + " -> " + std::to_string(cout));
    ConvCase c;
    c.mode = mode();
    c.params.stride_h = c.params.stride_w = stride;
    c.params.pad = {1, 1, 1, 1};
    c.input = make_input(rng, {1, h, w, cin}, false);
    c.weights = make_weights(rng, {cout, 3, 3, cin}, 0, false);
    c.bias = test::random_bias(rng, cout, c.input.quant, std::get<TensorS8>(c.weights), 20000);
    c.use_bias = true;
    c.output = QuantParams::per_tensor(cin == 3 ? 0.03f : 0.2f, cin == 3 ? 0 : 128);
    c.clamp = cin == 3 ? Clamp{0, 255} : Clamp{};
    const TensorU8 want = reference(c);
    expect_bit_exact(prepare(c, isa()), c, want);
  }
}

struct TransposedCase {
  TensorU8 input;
  Weights weights;
  TensorS32 bias;
  bool use_bias = false;
  QuantParams output;
  Clamp clamp;
};

// Kernel == stride with N = KH * KW * C_out of at most 16 values per input pixel (and now and then more,
// or C_in not a multiple of 4, where the small kernel does not apply), every weight kind (asymmetric ones
// through the per-pixel channel sums), rows of 1 to 45 pixels (partial groups), batch 2, extreme values.
TEST_P(SmallCoutConv, TransposedBitExact) {
  const Isa isa = this->isa();
  const RequantMode mode = this->mode();
  int applied = 0, checked = 0;
  for (uint64_t seed = 0; seed < test::random_trials(500); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t kh = rng.integer(1, 3), kw = rng.integer(1, 3);
    const int64_t most = std::max<int64_t>(1, 16 / (kh * kw));
    const int64_t cout = seed % 6 == 5 ? rng.integer(1, 20) : rng.integer(1, most);
    const int64_t cin = seed % 6 == 4 ? rng.integer(1, 70) : 4 * rng.integer(1, 16);
    const bool extreme = seed % 7 == 3;
    TransposedCase t;
    t.input = make_input(rng, {rng.integer(1, 2), rng.integer(1, 5), rng.integer(1, 45), cin}, extreme);
    t.weights = make_weights(rng, {cout, kh, kw, cin}, static_cast<int>(seed % 4), extreme);
    std::visit([&](const auto& w) { t.bias = test::random_bias(rng, cout, t.input.quant, w, 50000); },
               t.weights);
    t.use_bias = rng.coin();
    t.output = random_output(rng);
    t.clamp = random_clamp(rng);
    ref::ConvTranspose2dParams p;
    p.stride_h = kh, p.stride_w = kw;
    const TensorS32* bias = t.use_bias ? &t.bias : nullptr;
    TensorU8 want;
    conv::TransposedGemm prepared;
    try {
      std::visit(
          [&](const auto& w) {
            want = ref::conv_transpose2d(t.input, w, bias, p, t.output, t.clamp, mode);
            prepared = conv::prepare_transposed_gemm(isa, w, bias, t.input.quant, t.output, t.clamp, mode);
          },
          t.weights);
    } catch (const Error&) {
      continue;  // an accumulator that could overflow: refused by both
    }
    ASSERT_EQ(prepared.small.has_value(), conv::small_transposed_applies(isa, kh, kw, cin, cout));
    applied += prepared.small.has_value();
    for (int threads : {1, 3}) {
      std::vector<uint8_t> got(want.data.size(), 0xEE);
      tbb::task_arena(threads).execute([&] {
        conv::run(prepared, t.input.data.data(), t.input.dim(0), t.input.dim(1), t.input.dim(2), got.data());
      });
      ASSERT_EQ(got, want.data) << threads << " threads";
    }
    ++checked;
  }
  EXPECT_GT(checked, test::random_trials(450));
  if (vector_isa(isa) == Isa::avx512vnni)
    EXPECT_GT(applied, test::random_trials(250));
  else
    EXPECT_EQ(applied, 0);
}

// Other transposed convolutions (padding, output padding, strides other than the kernel) with C_out from
// 1 to 24: phases on the segmented GEMM, whose last block of at most 8 channels is the paired tail.
TEST_P(SmallCoutConv, TransposedPhasesChannelTailsBitExact) {
  const Isa isa = this->isa();
  const RequantMode mode = this->mode();
  ref::ConvTranspose2dParams any;
  any.pad = {1, 0, 0, 1};
  if (!conv::transposed_phases_apply(isa, any)) GTEST_SKIP() << "no phase kernel on " << name_of(isa);
  int checked = 0;
  for (uint64_t seed = 0; seed < test::random_trials(300); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    ref::ConvTranspose2dParams p;
    const int64_t kh = rng.integer(1, 4), kw = rng.integer(1, 4);
    p.stride_h = rng.integer(1, 3), p.stride_w = rng.integer(1, 3);
    p.pad = {rng.integer(0, 2), rng.integer(0, 2), rng.integer(0, 2), rng.integer(0, 2)};
    p.output_padding_h = rng.integer(0, p.stride_h - 1), p.output_padding_w = rng.integer(0, p.stride_w - 1);
    const int64_t cin = rng.integer(1, 24), cout = rng.integer(1, 24);
    const bool extreme = seed % 7 == 3;
    const TensorU8 in =
        make_input(rng, {rng.integer(1, 2), rng.integer(1, 6), rng.integer(1, 19), cin}, extreme);
    const Weights weights = make_weights(rng, {cout, kh, kw, cin}, seed % 2 == 0 ? 0 : 2, extreme);
    const QuantParams out = random_output(rng);
    const Clamp clamp = random_clamp(rng);
    std::visit(
        [&](const auto& w) {
          const TensorS32 bias = test::random_bias(rng, cout, in.quant, w, 50000);
          const TensorS32* b = rng.coin() ? &bias : nullptr;
          TensorU8 want;
          try {
            want = ref::conv_transpose2d(in, w, b, p, out, clamp, mode);
          } catch (const Error&) {
            return;  // an output size the reference refuses
          }
          const conv::TransposedPhases t =
              conv::prepare_transposed_phases(isa, w, b, p, in.quant, out, clamp, mode);
          for (int threads : {1, 3}) {
            std::vector<uint8_t> got(want.data.size(), 0xEE);
            tbb::task_arena(threads).execute(
                [&] { conv::run(t, in.data.data(), in.dim(0), in.dim(1), in.dim(2), got.data()); });
            ASSERT_EQ(got, want.data) << threads << " threads";
          }
          ++checked;
        },
        weights);
  }
  EXPECT_GT(checked, test::random_trials(200));
}

// The detector's 2x2 stride-2 upsampling from 24 channels to 1, on a smaller map.
TEST_P(SmallCoutConv, DetectorTransposedBitExact) {
  test::Random rng(9);
  const TensorU8 in = make_input(rng, {1, 24, 37, 24}, false);
  const auto w = std::get<TensorS8>(make_weights(rng, {1, 2, 2, 24}, 0, false));
  const TensorS32 bias = test::random_bias(rng, 1, in.quant, w, 20000);
  ref::ConvTranspose2dParams p;
  p.stride_h = p.stride_w = 2;
  const QuantParams out = QuantParams::per_tensor(0.05f, 120);
  const TensorU8 want = ref::conv_transpose2d(in, w, &bias, p, out, Clamp{}, mode());
  const conv::TransposedGemm t =
      conv::prepare_transposed_gemm(isa(), w, &bias, in.quant, out, Clamp{}, mode());
  EXPECT_EQ(t.small.has_value(), vector_isa(isa()) == Isa::avx512vnni);
  for (int threads : {1, 3}) {
    std::vector<uint8_t> got(want.data.size(), 0xEE);
    tbb::task_arena(threads).execute([&] { conv::run(t, in.data.data(), 1, 24, 37, got.data()); });
    ASSERT_EQ(got, want.data) << threads << " threads";
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, SmallCoutConv, test::isas_and_modes(supported_isas()), test::isa_mode_name);

}  // namespace
}  // namespace octet
