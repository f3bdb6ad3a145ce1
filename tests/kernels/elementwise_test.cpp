#include "kernels/reference/elementwise.h"

#include <gtest/gtest.h>

#include "kernels/error.h"
#include "test_util.h"

namespace octet {
namespace {

// Index of the element of `in` (broadcast to `out`) at the multi-index of flat output position `flat`.
int64_t broadcast_index(const Shape& out, const Shape& in, int64_t flat) {
  int64_t index = 0, stride = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    const size_t d = out.size() - 1 - i;
    const int64_t coord = flat % out[d];
    flat /= out[d];
    if (i < in.size()) {
      const int64_t dim = in[in.size() - 1 - i];
      index += (dim == 1 ? 0 : coord) * stride;
      stride *= dim;
    }
  }
  return index;
}

// Shape pairs the graph meets: equal, scalar, per-channel [N,1,1,C] (NHWC squeeze-and-excitation), rows,
// both sides broadcasting.
std::vector<std::pair<Shape, Shape>> shape_pairs() {
  return {
      {{2, 3, 4, 5}, {2, 3, 4, 5}}, {{2, 3, 4, 5}, {1}},    {{1}, {2, 3, 4, 5}}, {{2, 3, 4, 5}, {2, 1, 1, 5}},
      {{2, 3, 4, 5}, {5}},          {{3, 1, 5}, {1, 4, 1}}, {{}, {3}},           {{6, 7}, {6, 7}}};
}

template <class Op, class Real>
void check_binary(Op op, Real real_op, uint64_t seed_base) {
  for (const auto& [sa, sb] : shape_pairs())
    for (uint64_t seed = seed_base; seed < seed_base + 40; ++seed) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " " + to_string(sa) + " x " + to_string(sb));
      test::Random rng(seed);
      const TensorU8 a = rng.activations(sa, rng.activation_params());
      const TensorU8 b = rng.activations(sb, rng.activation_params());
      const Shape out_shape = ref::broadcast_shapes("test", sa, sb);
      const int64_t n = element_count(out_shape, "out");
      const std::vector<double> ra = test::real_values(a), rb = test::real_values(b);
      std::vector<double> exact(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i)
        exact[i] = real_op(ra[broadcast_index(out_shape, sa, i)], rb[broadcast_index(out_shape, sb, i)]);
      const QuantParams out_q = rng.coin() ? test::params_covering(exact) : rng.activation_params();
      const Clamp clamp = rng.coin() ? Clamp{} : activation_clamp(Activation::relu, out_q);
      const TensorU8 out = op(a, b, out_q, clamp);
      ASSERT_EQ(out.shape, out_shape);
      // Within 1 LSB: the intermediate rescaling keeps 20 extra bits, so only the final rounding (half
      // away from zero vs half to even) can differ.
      EXPECT_LE(test::max_lsb_difference(out, test::quantize_all(exact, out_q, clamp.min, clamp.max)), 1);
    }
}

TEST(Add, BroadcastShapesWithinOneLsb) {
  check_binary([](auto&&... args) { return ref::add(args...); }, [](double x, double y) { return x + y; }, 0);
}

TEST(Mul, BroadcastShapesWithinOneLsb) {
  check_binary([](auto&&... args) { return ref::mul(args...); }, [](double x, double y) { return x * y; },
               100);
}

TEST(Add, ExtremeScaleRatios) {
  // One input's scale 1000x the other's: the small one must still count.
  const TensorU8 a({4}, {0, 128, 255, 200}, QuantParams::per_tensor(1.0f, 128));
  const TensorU8 b({4}, {255, 0, 255, 130}, QuantParams::per_tensor(0.001f, 0));
  const QuantParams out_q = QuantParams::per_tensor(0.5f, 128);
  const TensorU8 out = ref::add(a, b, out_q);
  EXPECT_EQ(out.data, (std::vector<uint8_t>{0, 128, 255, 255}));
  const TensorU8 c = ref::add(b, b, QuantParams::per_tensor(0.002f, 0));
  EXPECT_EQ(c.data, (std::vector<uint8_t>{255, 0, 255, 130}));
}

TEST(Elementwise, RejectsIncompatibleShapes) {
  const TensorU8 a({2, 3}, std::vector<uint8_t>(6, 0), QuantParams::per_tensor(1.0f, 0));
  const TensorU8 b({4}, std::vector<uint8_t>(4, 0), QuantParams::per_tensor(1.0f, 0));
  EXPECT_THROW(ref::add(a, b, a.quant), Error);
  EXPECT_THROW(ref::mul(a, b, a.quant), Error);
}

}  // namespace
}  // namespace octet
