// The transposed convolution kernels against the reference, in both requantization modes: kernel == stride
// as one GEMM on every ISA, and any transposed convolution by phases (AVX-512 VNNI); both also with
// avx512amx's AMX GEMM on the scalar model of the tile instructions.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <cmath>

#include "kernels/conv/transposed_gemm.h"
#include "kernels/conv/transposed_phases.h"
#include "kernels/error.h"
#include "kernels/isa.h"
#include "test_util.h"

namespace octet {
namespace {

// Prepared for `isa`; with `on_model`, its AMX GEMM (avx512amx) runs on the scalar model of the tile
// instructions, as on a machine without AMX.
template <class W>
conv::TransposedGemm prepare_gemm(Isa isa, bool on_model, const Tensor<W>& w, const TensorS32* bias,
                                  const QuantParams& in, const QuantParams& out, Clamp clamp,
                                  RequantMode mode) {
  conv::TransposedGemm t = conv::prepare_transposed_gemm(isa, w, bias, in, out, clamp, mode);
  EXPECT_EQ(t.amx.has_value(), isa == Isa::avx512amx && !t.small);
  if (on_model && t.amx) t.amx->on_model = true;
  return t;
}

void gemm_bit_exact_with_reference(Isa isa, RequantMode mode, bool on_model) {
  for (uint64_t seed = 0; seed < test::random_trials(200); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    const int64_t k = rng.integer(1, 3), cin = rng.integer(1, 40), cout = rng.integer(1, 40);
    ref::ConvTranspose2dParams p;
    p.stride_h = p.stride_w = k;
    const TensorU8 in = rng.activations({rng.integer(1, 2), rng.integer(1, 7), rng.integer(1, 7), cin},
                                        rng.activation_params());
    const QuantParams out =
        QuantParams::per_tensor(rng.scale(1e-4, 2.0), static_cast<int32_t>(rng.integer(0, 255)));
    const Clamp clamp = rng.coin() ? Clamp{} : Clamp{static_cast<int32_t>(rng.integer(0, 90)), 220};
    auto check = [&](const auto& w) {
      const TensorS32 bias = test::random_bias(rng, cout, in.quant, w, 20000);
      const TensorS32* b = rng.coin() ? &bias : nullptr;
      const TensorU8 want = ref::conv_transpose2d(in, w, b, p, out, clamp, mode);
      ASSERT_TRUE(conv::transposed_gemm_applies(p, k, k));
      const conv::TransposedGemm t = prepare_gemm(isa, on_model, w, b, in.quant, out, clamp, mode);
      std::vector<uint8_t> got(want.data.size());
      conv::run(t, in.data.data(), in.dim(0), in.dim(1), in.dim(2), got.data());
      ASSERT_EQ(got, want.data);
    };
    if (seed % 3 == 2)
      check(test::random_weights<uint8_t>(rng, {cout, k, k, cin}, rng.coin(), true));
    else
      check(test::random_weights<int8_t>(rng, {cout, k, k, cin}, rng.coin(), seed % 3 == 1));
  }
}

// Wide rows (several pixel tiles per input row) with channel counts whose kernel-row runs are whole
// channel blocks: the GEMM then writes into the output in place.
void gemm_wide_rows_written_in_place(Isa isa, RequantMode mode, bool on_model) {
  test::Random rng(21);
  for (const int64_t cout : {8, 16, 32, 40}) {
    SCOPED_TRACE("cout " + std::to_string(cout));
    ref::ConvTranspose2dParams p;
    p.stride_h = p.stride_w = 2;
    const TensorU8 in = rng.activations({2, 3, 101, 16}, rng.activation_params());
    const auto w = test::random_weights<int8_t>(rng, {cout, 2, 2, 16}, true, false);
    const TensorS32 bias = test::random_bias(rng, cout, in.quant, w, 20000);
    const QuantParams out = QuantParams::per_tensor(0.03f, 100);
    const TensorU8 want = ref::conv_transpose2d(in, w, &bias, p, out, Clamp{}, mode);
    const conv::TransposedGemm t = prepare_gemm(isa, on_model, w, &bias, in.quant, out, Clamp{}, mode);
    std::vector<uint8_t> got(want.data.size());
    conv::run(t, in.data.data(), 2, 3, 101, got.data());
    ASSERT_EQ(got, want.data);
  }
}

// Output pixels wider apart than C_out, the channels at an offset inside them (a transposed convolution
// storing into its channel concatenation's output): the dense reference's bytes, nothing else in each row
// written. Channel counts of whole blocks (the GEMM writes kernel-row runs in place) and others (copied per
// tap), rows of several pixel tiles, 1 and 3 threads.
void gemm_strided_output_slice(Isa isa, RequantMode mode, bool on_model) {
  for (uint64_t seed = 0; seed < test::random_trials(120); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed + 3000);
    const int64_t k = rng.integer(1, 3), cin = rng.integer(1, 40);
    const int64_t cout = seed % 4 == 0 ? 16 * rng.integer(1, 3) : rng.integer(1, 40);
    ref::ConvTranspose2dParams p;
    p.stride_h = p.stride_w = k;
    const int64_t iw = seed % 5 == 0 ? rng.integer(40, 70) : rng.integer(1, 7);
    const TensorU8 in =
        rng.activations({rng.integer(1, 2), rng.integer(1, 5), iw, cin}, rng.activation_params());
    const QuantParams out =
        QuantParams::per_tensor(rng.scale(1e-4, 2.0), static_cast<int32_t>(rng.integer(0, 255)));
    const Clamp clamp = rng.coin() ? Clamp{} : Clamp{static_cast<int32_t>(rng.integer(0, 90)), 220};
    const auto w = test::random_weights<int8_t>(rng, {cout, k, k, cin}, rng.coin(), seed % 3 == 1);
    const TensorS32 bias = test::random_bias(rng, cout, in.quant, w, 20000);
    const TensorU8 want = ref::conv_transpose2d(in, w, &bias, p, out, clamp, mode);
    const conv::TransposedGemm t = prepare_gemm(isa, on_model, w, &bias, in.quant, out, clamp, mode);
    const int64_t pixels = want.dim(0) * want.dim(1) * want.dim(2);
    const int64_t lead = rng.integer(0, 20), stride = lead + cout + rng.integer(1, 40);
    for (int threads : {1, 3}) {
      test::StridedOutput got(pixels, cout, stride, lead);
      tbb::task_arena(threads).execute(
          [&] { conv::run(t, in.data.data(), in.dim(0), in.dim(1), in.dim(2), got.slice(), stride); });
      ASSERT_EQ(got.dense(), want.data) << threads << " threads, stride " << stride << " lead " << lead;
      ASSERT_EQ(got.first_stray_write(), -1) << threads << " threads, stride " << stride << " lead " << lead;
    }
  }
}

class TransposedGemm : public ::testing::TestWithParam<test::IsaMode> {
 protected:
  Isa isa() const { return std::get<0>(GetParam()); }
  RequantMode mode() const { return std::get<1>(GetParam()); }
};

TEST_P(TransposedGemm, BitExactWithReference) {
  gemm_bit_exact_with_reference(isa(), mode(), false);
}

TEST_P(TransposedGemm, WideRowsWrittenInPlace) {
  gemm_wide_rows_written_in_place(isa(), mode(), false);
}

TEST_P(TransposedGemm, StridedOutputSlice) {
  gemm_strided_output_slice(isa(), mode(), false);
}

// avx512amx's GEMM on the tile model, on any machine (on a machine with AMX the suite above runs it on the
// hardware).
TEST(TransposedGemmAmxOnTileModel, BitExactWithReference) {
  for (const RequantMode mode : test::kRequantModes) {
    gemm_bit_exact_with_reference(Isa::avx512amx, mode, true);
    gemm_wide_rows_written_in_place(Isa::avx512amx, mode, true);
    gemm_strided_output_slice(Isa::avx512amx, mode, true);
  }
}

// Any transposed convolution (groups 1, no horizontal dilation) as stride_h x stride_w phases: every
// stride, kernel, padding, vertical dilation and output padding, phases without taps (stride above the
// kernel), batch 2, extreme values, thread counts; in both requantization modes.
// On AVX-512 VNNI where the CPU has it, and avx512amx's AMX GEMM on the tile model (on any machine).
TEST(TransposedPhases, BitExactWithReference) {
  std::vector<Isa> isas;
  if (cpu_supports(Isa::avx512vnni)) isas.push_back(Isa::avx512vnni);
  if (cpu_supports(Isa::avx512amx)) isas.push_back(Isa::avx512amx);  // on the hardware
  isas.push_back(Isa::avx512amx);                                    // on the tile model (the last one)
  for (const RequantMode mode : test::kRequantModes) {
    SCOPED_TRACE("requant " + std::string(name_of(mode)));
    int checked = 0;
    for (uint64_t seed = 0; seed < test::random_trials(400); ++seed) {
      SCOPED_TRACE("seed " + std::to_string(seed));
      test::Random rng(seed);
      ref::ConvTranspose2dParams p;
      const int64_t kh = rng.integer(1, 5), kw = rng.integer(1, 5);
      p.stride_h = rng.integer(1, 4), p.stride_w = rng.integer(1, 4);
      p.dilation_h = rng.integer(1, 2);
      p.pad = {rng.integer(0, 2), rng.integer(0, 2), rng.integer(0, 2), rng.integer(0, 2)};
      p.output_padding_h = rng.integer(0, p.stride_h - 1);
      p.output_padding_w = rng.integer(0, p.stride_w - 1);
      const int64_t cin = rng.integer(1, 24), cout = rng.integer(1, 40);
      TensorU8 in = rng.activations({rng.integer(1, 2), rng.integer(1, 7), rng.integer(1, 9), cin},
                                    rng.activation_params());
      if (seed % 7 == 3)
        for (auto& v : in.data)
          v = rng.coin() ? 255 : 0;
      const QuantParams out =
          QuantParams::per_tensor(rng.scale(1e-3, 2.0), static_cast<int32_t>(rng.integer(0, 255)));
      const Clamp clamp = rng.coin() ? Clamp{} : Clamp{static_cast<int32_t>(rng.integer(0, 90)), 220};
      auto check = [&](const auto& w) {
        const TensorS32 bias = test::random_bias(rng, cout, in.quant, w, 20000);
        const TensorS32* b = rng.coin() ? &bias : nullptr;
        TensorU8 want;
        try {
          want = ref::conv_transpose2d(in, w, b, p, out, clamp, mode);
        } catch (const Error&) {
          return;  // an output size the reference refuses
        }
        for (size_t i = 0; i < isas.size(); ++i) {
          SCOPED_TRACE(std::string(name_of(isas[i])) + (i + 1 == isas.size() ? " on the tile model" : ""));
          conv::TransposedPhases t =
              conv::prepare_transposed_phases(isas[i], w, b, p, in.quant, out, clamp, mode);
          for (conv::TransposedPhase& ph : t.phases) {
            ASSERT_EQ(ph.amx.has_value(), isas[i] == Isa::avx512amx);
            if (ph.amx && i + 1 == isas.size()) ph.amx->on_model = true;
          }
          for (int threads : {1, 3}) {
            std::vector<uint8_t> got(want.data.size(), 0xEE);
            tbb::task_arena(threads).execute(
                [&] { conv::run(t, in.data.data(), in.dim(0), in.dim(1), in.dim(2), got.data()); });
            ASSERT_EQ(got, want.data) << threads << " threads";
          }
        }
        ++checked;
      };
      if (seed % 3 == 2) {
        auto w = test::random_weights<uint8_t>(rng, {cout, kh, kw, cin}, rng.coin(), false);
        w.quant.zero_points.assign(w.quant.zero_points.size(), 128);
        check(w);
      } else {
        auto w = test::random_weights<int8_t>(rng, {cout, kh, kw, cin}, rng.coin(), false);
        if (seed % 7 == 3)
          for (auto& v : w.data)
            v = rng.coin() ? int8_t{-128} : int8_t{127};
        check(w);
      }
    }
    EXPECT_GT(checked, test::random_trials(300));
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, TransposedGemm, test::isas_and_modes(supported_isas()), test::isa_mode_name);

}  // namespace
}  // namespace octet
