// Grouped convolutions on the GEMM (conv/grouped_gemm_conv.h) on every ISA this CPU runs, in both
// requantization modes, bit-exact against the scalar reference conv2d with its groups.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include "conv_case.h"
#include "kernels/conv/grouped_gemm_conv.h"
#include "kernels/error.h"
#include "kernels/isa.h"
#include "kernels/reference/conv2d.h"
#include "test_util.h"

namespace octet {
namespace {

using Case = test::ConvCase;
using test::reference;

conv::GroupedGemmConv prepare(const Case& c, Isa isa) {
  return std::visit(
      [&](const auto& w) {
        return conv::prepare_grouped_gemm_conv(isa, w, c.use_bias ? &c.bias : nullptr, c.params,
                                               c.input.quant, c.output, c.clamp, c.mode);
      },
      c.weights);
}

TensorU8 fast(const Case& c, Isa isa) {
  const conv::GroupedGemmConv prepared = prepare(c, isa);
  TensorU8 out(reference(c).shape, c.output);
  conv::run(prepared, c.input.data.data(), c.input.dim(0), c.input.dim(1), c.input.dim(2), out.data.data());
  return out;
}

// Channels per group from 1 to 20 on each side: 1 input channel with several outputs (a channel
// multiplier), group widths that merge into 16-channel parts (1, 2, 4, 8) and ones that do not (3, 12, 20).
Case random_case(test::Random& rng, int weight_kind, RequantMode mode) {
  Case c;
  c.mode = mode;
  const int64_t groups = rng.integer(2, 9), cin_g = rng.integer(1, 20), cout_g = rng.integer(1, 20);
  const int64_t kh = rng.integer(1, 3), kw = rng.integer(1, 3);
  c.params.groups = groups;
  c.params.stride_h = rng.integer(1, 2), c.params.stride_w = rng.integer(1, 2);
  c.params.dilation_h = rng.integer(1, 2), c.params.dilation_w = rng.integer(1, 2);
  c.params.pad = {rng.integer(0, 2), rng.integer(0, 2), rng.integer(0, 2), rng.integer(0, 2)};
  const int64_t ih = rng.integer(c.params.dilation_h * (kh - 1) + 1, 10);
  const int64_t iw = rng.integer(c.params.dilation_w * (kw - 1) + 1, 10);
  c.input = rng.activations({rng.integer(1, 2), ih, iw, groups * cin_g}, rng.activation_params());
  test::randomize_weights_and_output(rng, c, {groups * cout_g, kh, kw, cin_g}, weight_kind);
  return c;
}

class GroupedConv : public ::testing::TestWithParam<test::IsaMode> {
 protected:
  Isa isa() const { return std::get<0>(GetParam()); }
  RequantMode mode() const { return std::get<1>(GetParam()); }
};

TEST_P(GroupedConv, RandomShapesBitExact) {
  for (uint64_t seed = 0; seed < test::random_trials(300); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed + 900);
    const Case c = random_case(rng, static_cast<int>(seed % 3), mode());
    ASSERT_EQ(fast(c, isa()).data, reference(c).data);
  }
}

// Saturated activations and weights, over input channels per group whose parts merge (K of the merged part
// 9216) and whose parts stay single groups (K 4608 each; merged it would exceed the bound on a part's K).
TEST_P(GroupedConv, ExtremeValuesAndLargeK) {
  for (int32_t a : {0, 255})
    for (int32_t wv : {-128, 127})
      for (int64_t cin_g : {256, 512}) {
        SCOPED_TRACE("a " + std::to_string(a) + " w " + std::to_string(wv) + " cin_g " +
                     std::to_string(cin_g));
        Case c;
        c.mode = mode();
        const int64_t groups = 4, cout_g = 4;
        c.params.groups = groups;
        c.params.pad = {1, 1, 1, 1};
        c.input =
            TensorU8({1, 4, 4, groups * cin_g},
                     std::vector<uint8_t>(static_cast<size_t>(16 * groups * cin_g), static_cast<uint8_t>(a)),
                     QuantParams::per_tensor(0.05f, a == 0 ? 0 : 3));
        c.weights = TensorS8(
            {groups * cout_g, 3, 3, cin_g},
            std::vector<int8_t>(static_cast<size_t>(groups * cout_g * 9 * cin_g), static_cast<int8_t>(wv)),
            QuantParams::per_tensor(0.001f, 0));
        c.output = QuantParams::per_tensor(20.0f, 128);
        const conv::GroupedGemmConv prepared = prepare(c, isa());
        EXPECT_EQ(prepared.parts.size(), cin_g == 256 ? 1u : 4u);
        ASSERT_EQ(fast(c, isa()).data, reference(c).data);
      }
}

TEST_P(GroupedConv, IdenticalForAnyThreadCount) {
  test::Random rng(31);
  Case c;
  c.mode = mode();
  c.params.groups = 13;  // RegNet's: 104 channels in groups of 8
  c.params.pad = {1, 1, 1, 1};
  c.input = rng.activations({1, 28, 28, 104}, rng.activation_params());
  c.weights = test::random_weights<int8_t>(rng, {104, 3, 3, 8}, true, false);
  c.bias = test::random_bias(rng, 104, c.input.quant, std::get<TensorS8>(c.weights));
  c.use_bias = true;
  c.output = QuantParams::per_tensor(0.05f, 10);
  const TensorU8 want = reference(c);
  for (int threads : {1, 2, 3, 4}) {
    tbb::task_arena arena(threads);
    TensorU8 out;
    arena.execute([&] { out = fast(c, isa()); });
    ASSERT_EQ(out.data, want.data) << threads << " threads";
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, GroupedConv, test::isas_and_modes(supported_isas()), test::isa_mode_name);

// Groups of fewer than 16 output channels merge into parts of 16 where they fill it exactly; wider or
// uneven groups stay alone; never more groups than there are.
TEST(GroupedConvParts, GroupsPerPart) {
  EXPECT_EQ(conv::groups_per_part(8, 13), 2);
  EXPECT_EQ(conv::groups_per_part(4, 32), 4);
  EXPECT_EQ(conv::groups_per_part(1, 64), 16);
  EXPECT_EQ(conv::groups_per_part(2, 3), 3);
  EXPECT_EQ(conv::groups_per_part(12, 8), 1);
  EXPECT_EQ(conv::groups_per_part(16, 8), 1);
  EXPECT_EQ(conv::groups_per_part(32, 8), 1);
}

TEST(GroupedConvParts, ChannelsThatDoNotSplitIntoTheGroupsAreRefused) {
  const TensorS8 w({10, 1, 1, 2}, QuantParams::per_tensor(0.01f, 0));
  ref::Conv2dParams p;
  p.groups = 3;
  EXPECT_THROW(conv::prepare_grouped_gemm_conv(Isa::scalar, w, nullptr, p, QuantParams::per_tensor(0.1f, 0),
                                               QuantParams::per_tensor(0.1f, 0), Clamp{}),
               Error);
}

}  // namespace
}  // namespace octet
