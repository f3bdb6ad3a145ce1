// Every way the reference operators can be handed bad parameters fails with an octet::Error whose message
// names the parameter, never a crash or a silent wrong answer.

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "kernels/error.h"
#include "kernels/reference/concat.h"
#include "kernels/reference/conv2d.h"
#include "kernels/reference/conv_transpose2d.h"
#include "kernels/reference/elementwise.h"
#include "kernels/reference/fully_connected.h"
#include "kernels/reference/pooling.h"
#include "kernels/reference/softmax.h"

namespace octet {
namespace {

// Expects `f` to throw an octet::Error whose message contains every one of `needles`.
template <class F>
void expect_error(F f, std::initializer_list<std::string_view> needles) {
  try {
    f();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (std::string_view n : needles)
      EXPECT_NE(msg.find(n), std::string::npos) << "'" << n << "' not in: " << msg;
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a non-octet exception: " << e.what();
    return;
  }
  ADD_FAILURE() << "no error thrown";
}

struct ConvCase {
  TensorU8 input{{1, 4, 4, 4}, std::vector<uint8_t>(64, 3), QuantParams::per_tensor(0.1f, 10)};
  TensorS8 weights{
      {2, 3, 3, 4}, std::vector<int8_t>(72, 1), QuantParams::per_axis({0.01f, 0.02f}, {0, 0}, 0)};
  TensorS32 bias{{2}, {5, -5}};
  ref::Conv2dParams params;
  QuantParams output = QuantParams::per_tensor(0.2f, 0);

  TensorU8 run() const { return ref::conv2d(input, weights, &bias, params, output); }
};

TEST(BadInput, ValidConvRuns) {
  EXPECT_NO_THROW(ConvCase{}.run());
}

TEST(BadInput, Scales) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  for (float bad : {0.0f, -0.5f, nan, inf, -inf}) {
    ConvCase c;
    c.input.quant.scales[0] = bad;
    expect_error([&] { c.run(); }, {"conv2d", "input", "scale"});
    ConvCase w;
    w.weights.quant.scales[1] = bad;
    expect_error([&] { w.run(); }, {"conv2d", "weights", "scale[1]"});
    ConvCase o;
    o.output.scales[0] = bad;
    expect_error([&] { o.run(); }, {"conv2d", "output", "scale"});
  }
}

TEST(BadInput, ZeroPointsOutOfRange) {
  for (int32_t bad : {-1, 256}) {
    ConvCase c;
    c.input.quant.zero_points[0] = bad;
    expect_error([&] { c.run(); }, {"conv2d", "input", "zero point"});
    ConvCase o;
    o.output.zero_points[0] = bad;
    expect_error([&] { o.run(); }, {"conv2d", "output", "zero point"});
  }
  for (int32_t bad : {-129, 128}) {
    ConvCase w;
    w.weights.quant.zero_points[0] = bad;
    expect_error([&] { w.run(); }, {"conv2d", "weights", "zero point[0]"});
  }
}

TEST(BadInput, PerChannelParamsOfWrongLength) {
  ConvCase c;
  c.weights.quant = QuantParams::per_axis({0.1f, 0.1f, 0.1f}, {0, 0, 0}, 0);
  expect_error([&] { c.run(); }, {"weights", "needs 2 scales"});
}

TEST(BadInput, ShapesThatDoNotMatch) {
  ConvCase c;
  c.weights = TensorS8({2, 3, 3, 3}, std::vector<int8_t>(54, 1), QuantParams::per_tensor(0.1f, 0));
  expect_error([&] { c.run(); }, {"conv2d", "input channels"});
  ConvCase data;
  data.input.data.resize(10);  // shape says 64 elements
  expect_error([&] { data.run(); }, {"conv2d input", "64"});
  ConvCase rank;
  rank.input.shape = {4, 4, 4};
  expect_error([&] { rank.run(); }, {"conv2d input", "rank 4"});
  ConvCase bias;
  bias.bias = TensorS32({3}, {1, 2, 3});
  expect_error([&] { bias.run(); }, {"conv2d", "bias"});
  ConvCase bias_scale;
  bias_scale.bias.quant = QuantParams::per_axis({1.0f, 1.0f}, {0, 0}, 0);  // not s_in * s_w
  expect_error([&] { bias_scale.run(); }, {"bias scale"});
  ConvCase negative;
  negative.input.shape = {1, -4, -4, 4};
  expect_error([&] { negative.run(); }, {"conv2d input"});
}

TEST(BadInput, KernelLargerThanPaddedInput) {
  ConvCase c;
  c.weights = TensorS8({2, 7, 7, 4}, std::vector<int8_t>(392, 1), QuantParams::per_tensor(0.1f, 0));
  expect_error([&] { c.run(); }, {"conv2d", "height", "kernel extent 7", "padded input 4"});
  c.params.pad = {2, 2, 2, 2};
  c.params.dilation_h = 2;
  expect_error([&] { c.run(); }, {"kernel extent 13"});
  ConvCase s;
  s.params.stride_w = 0;
  expect_error([&] { s.run(); }, {"width", "stride"});
  ConvCase p;
  p.params.pad.left = -1;
  expect_error([&] { p.run(); }, {"padding"});
}

// Sizes from attributes near 2^63 (a malformed model's): an error, not a sum that wraps around.
TEST(BadInput, WindowSizesThatOverflow) {
  constexpr int64_t kHuge = int64_t{1} << 62;
  expect_error([] { ref::conv_output_size("conv2d", "height", 4, 3, 1, 1, kHuge, kHuge); },
               {"conv2d", "height", "overflows"});
  expect_error([] { ref::conv_output_size("conv2d", "width", 4, kHuge, 1, 4, 0, 0); },
               {"width", "overflows"});
  expect_error([] { ref::pool_output_size("max_pool2d", "height", 4, 3, 1, 1, kHuge, kHuge, true); },
               {"max_pool2d", "overflows"});
  expect_error([] { ref::conv_transpose_output_size("height", 4, 3, kHuge, 1, 0, 0, 0); },
               {"conv_transpose2d", "overflows"});
  // Ceil mode with a stride near 2^63 divides instead of adding the stride (span + stride - 1 wrapped for
  // the largest stride): one window, or two where the second would start inside the input.
  EXPECT_EQ(ref::pool_output_size("max_pool2d", "height", 4, 3, kHuge, 1, 0, 0, true), 1);
  EXPECT_EQ(
      ref::pool_output_size("max_pool2d", "height", 5, 3, std::numeric_limits<int64_t>::max(), 1, 0, 0, true),
      1);
  EXPECT_EQ(ref::pool_output_size("max_pool2d", "height", 5, 2, 3, 1, 0, 0, true), 2);
  EXPECT_EQ(ref::pool_output_size("max_pool2d", "height", 6, 2, 3, 1, 0, 0, true), 2);
  EXPECT_EQ(ref::pool_output_size("max_pool2d", "height", 7, 2, 3, 1, 0, 1, true), 3);
}

TEST(BadInput, GroupsThatDoNotDivideChannels) {
  for (int64_t groups : {0, 3, -1}) {
    ConvCase c;
    c.params.groups = groups;
    expect_error([&] { c.run(); }, {"conv2d", "group count " + std::to_string(groups)});
  }
}

TEST(BadInput, OtherOperators) {
  const TensorU8 x({1, 2, 2, 3}, std::vector<uint8_t>(12, 0), QuantParams::per_tensor(0.0f, 0));
  expect_error([&] { ref::average_pool2d(x, {}, QuantParams::per_tensor(1.0f, 0)); },
               {"average_pool2d input", "scale"});
  expect_error([&] { ref::global_average_pool(x, QuantParams::per_tensor(1.0f, 0)); },
               {"global_average_pool input"});
  const TensorU8 ok({1, 2, 2, 3}, std::vector<uint8_t>(12, 0), QuantParams::per_tensor(1.0f, 0));
  expect_error([&] { ref::add(ok, x, ok.quant); }, {"add input B", "scale"});
  expect_error([&] { ref::mul(ok, ok, QuantParams::per_tensor(1.0f, 300)); }, {"mul output", "zero point"});
  expect_error([&] { ref::concat({&ok, &x}, 3, ok.quant, RequantMode::fixed_point); }, {"concat input 1"});
  expect_error([&] { ref::softmax_u8(x, ok.quant); }, {"softmax input"});
  const TensorS8 w({2, 3}, std::vector<int8_t>(6, 1), QuantParams::per_tensor(1.0f, 0));
  const TensorU8 row({1, 3}, {1, 2, 3}, QuantParams::per_tensor(1.0f, 0));
  expect_error(
      [&] {
        ref::fully_connected(row, w, nullptr, ok.quant, Clamp{200, 100});
      },
      {"fully_connected", "clamp"});
}

}  // namespace
}  // namespace octet
