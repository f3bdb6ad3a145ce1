// Which arithmetic an imported model's Resize takes in each requantization mode (ref::ResizeArithmetic):
// octet's fixed point by default; in the float mode ONNX Runtime's, which depends on the form the model gives
// the Resize in. A QDQ Resize (DequantizeLinear -> Resize -> QuantizeLinear) resizes real values in float32;
// a Resize of a QLinearConv's raw uint8 output (a QOperator network) takes ONNX Runtime's integer blend. The
// kernels' bytes against ONNX Runtime's are pinned by tests/kernels/ort_float_requant_test.cpp; this checks
// that the importer and the runtime pick the right one, on tests/models/onnx's models.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/quantization/element_type.h"
#include "kernels/quantization/quantize.h"
#include "kernels/reference/requantize.h"
#include "kernels/reference/resize.h"
#include "octet/octet.h"
#include "tools/npy.h"

namespace octet {
namespace {

const std::string kDir = std::string(OCTET_TEST_MODELS_DIR) + "/onnx/";

TensorU8 nchw_to_nhwc(const std::vector<int64_t>& nchw, std::span<const uint8_t> bytes,
                      const QuantParams& q) {
  const int64_t n = nchw[0], c = nchw[1], h = nchw[2], w = nchw[3];
  TensorU8 t({n, h, w, c}, q);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
          t.data[static_cast<size_t>(((b * h + y) * w + x) * c + ch)] =
              bytes[static_cast<size_t>(((b * c + ch) * h + y) * w + x)];
  return t;
}

std::vector<uint8_t> nhwc_to_nchw(const TensorU8& t) {
  const int64_t n = t.dim(0), h = t.dim(1), w = t.dim(2), c = t.dim(3);
  std::vector<uint8_t> out(t.data.size());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
          out[static_cast<size_t>(((b * c + ch) * h + y) * w + x)] =
              t.data[static_cast<size_t>(((b * h + y) * w + x) * c + ch)];
  return out;
}

ref::ResizeParams linear_resize(ref::CoordinateMode coordinates, int64_t out_h, int64_t out_w) {
  ref::ResizeParams p;
  p.mode = ref::ResizeMode::linear;
  p.coordinate_mode = coordinates;
  p.out_h = out_h, p.out_w = out_w;
  return p;
}

// The bytes of every uint8 output of a run of `model` on `input` (its first input) in `mode`, on `threads`.
std::vector<std::vector<uint8_t>> run_model(const Model& model, const HostTensor& input, Requantization mode,
                                            int threads) {
  Session session(model, {.threads = threads, .requantization = mode});
  const auto outputs = session.run({{model.inputs().at(0).name, input}});
  std::vector<std::vector<uint8_t>> bytes;
  for (const TensorInfo& o : model.outputs()) {
    const auto data = outputs.at(o.name).uint8_data();
    bytes.emplace_back(data.begin(), data.end());
  }
  return bytes;
}

constexpr Requantization kModes[] = {Requantization::fixed_point, Requantization::float_scale};
constexpr int kThreads[] = {1, 3};

// QLinearConv -> Resize (linear, half_pixel, 6x7 -> 11x13): the model's second output is the Resize of its
// first, the convolution's bytes.
TEST(RequantModeModels, QOperatorResizeOfRawBytes) {
  const Model model = Model::load(kDir + "qop_conv_resize_linear.onnx");
  const npy::Array input = npy::read(kDir + "qop_conv_resize_linear.input.npy");
  const HostTensor x = HostTensor::from_uint8(input.shape, input.to_uint8(), 0.02f, 100);
  const ref::ResizeParams p = linear_resize(ref::CoordinateMode::half_pixel, 11, 13);
  const TensorInfo& conv_info = model.outputs().at(0);
  const QuantParams q = QuantParams::per_tensor(conv_info.scale, conv_info.zero_point);
  const Shape conv_shape = {1, 6, 6, 7};
  for (const Requantization mode : kModes)
    for (int threads : kThreads) {
      SCOPED_TRACE(std::string(mode == Requantization::fixed_point ? "fixed_point" : "float") + ", " +
                   std::to_string(threads) + " threads");
      const auto outputs = run_model(model, x, mode, threads);
      const auto arithmetic = ref::resize_arithmetic(
          mode == Requantization::fixed_point ? RequantMode::fixed_point : RequantMode::float_scale, false);
      EXPECT_EQ(arithmetic, mode == Requantization::fixed_point ? ref::ResizeArithmetic::fixed_point
                                                                : ref::ResizeArithmetic::onnxruntime_bytes);
      const TensorU8 conv = nchw_to_nhwc(conv_shape, outputs[0], q);
      EXPECT_EQ(outputs[1], nhwc_to_nchw(ref::resize(conv, p, arithmetic, q)));
      // The two arithmetics differ on this model, or the check could not tell them apart.
      EXPECT_NE(ref::resize(conv, p, ref::ResizeArithmetic::fixed_point, q).data,
                ref::resize(conv, p, ref::ResizeArithmetic::onnxruntime_bytes, q).data);
    }
}

// Input -> QuantizeLinear -> DequantizeLinear -> Resize (linear, align_corners, 6x7 -> 10x12) ->
// QuantizeLinear with the same params, the uint8 output.
TEST(RequantModeModels, QdqResizeOfRealValues) {
  const Model model = Model::load(kDir + "qdq_resize_linear_align_corners.onnx");
  const npy::Array input = npy::read(kDir + "qdq_resize_linear_align_corners.input.npy");
  const TensorInfo& out_info = model.outputs().at(0);
  const QuantParams q = QuantParams::per_tensor(out_info.scale, out_info.zero_point);
  const std::vector<float> x = input.to_float();
  std::vector<uint8_t> xq;
  for (float v : x)
    xq.push_back(
        static_cast<uint8_t>(quantize_value(v, q.scale(), q.zero_point(), range_of(ElementType::u8))));
  const ref::ResizeParams p = linear_resize(ref::CoordinateMode::align_corners, 10, 12);
  const TensorU8 in = nchw_to_nhwc(input.shape, xq, q);
  const std::vector<uint8_t> want_fixed =
      nhwc_to_nchw(ref::resize(in, p, ref::ResizeArithmetic::fixed_point, q));
  const std::vector<uint8_t> want_float =
      nhwc_to_nchw(ref::resize(in, p, ref::ResizeArithmetic::onnxruntime_real, q));
  EXPECT_NE(want_fixed, want_float);  // or the check could not tell the arithmetics apart
  for (const Requantization mode : kModes)
    for (int threads : kThreads)
      EXPECT_EQ(run_model(model, HostTensor::from_float(input.shape, x), mode, threads)[0],
                mode == Requantization::fixed_point ? want_fixed : want_float)
          << threads << " threads";
}

// uint8 input -> DequantizeLinear -> Resize (linear, half_pixel, 5x6 -> 9x11) -> QuantizeLinear with other
// params: both arithmetics resize straight into the output's params, each with its own blend (float32
// against octet's 11-bit fixed-point weights).
TEST(RequantModeModels, QdqResizeIntoOtherParams) {
  const Model model = Model::load(kDir + "qdq_resize_into_other_params.onnx");
  const npy::Array input = npy::read(kDir + "qdq_resize_into_other_params.input.npy");
  const TensorInfo& in_info = model.inputs().at(0);
  const TensorInfo& out_info = model.outputs().at(0);
  const QuantParams in_q = QuantParams::per_tensor(in_info.scale, in_info.zero_point);
  const QuantParams out_q = QuantParams::per_tensor(out_info.scale, out_info.zero_point);
  ASSERT_FALSE(in_q == out_q);
  const ref::ResizeParams p = linear_resize(ref::CoordinateMode::half_pixel, 9, 11);
  const TensorU8 in = nchw_to_nhwc(input.shape, input.to_uint8(), in_q);
  const std::vector<uint8_t> want_float =
      nhwc_to_nchw(ref::resize(in, p, ref::ResizeArithmetic::onnxruntime_real, out_q));
  const std::vector<uint8_t> want_fixed =
      nhwc_to_nchw(ref::resize(in, p, ref::ResizeArithmetic::fixed_point, out_q));
  EXPECT_NE(want_float, want_fixed);
  const HostTensor x =
      HostTensor::from_uint8(input.shape, input.to_uint8(), in_info.scale, in_info.zero_point);
  for (const Requantization mode : kModes)
    for (int threads : kThreads)
      EXPECT_EQ(run_model(model, x, mode, threads)[0],
                mode == Requantization::fixed_point ? want_fixed : want_float)
          << threads << " threads";
}

// int8 com.microsoft QLinearSoftmax over an axis of length 1, output scale 1/256, zero points -128 and 0:
// probability 1 saturates to 127 in fixed point (ONNX's definition); in float mode ONNX Runtime 1.30's int8
// kernel gives 127 for zero point -128 and -128 for 0 (ref::SoftmaxOverflow), on every ISA octet runs.
TEST(RequantModeModels, Int8QLinearSoftmaxOfRowsOfOne) {
  const Model model = Model::load(kDir + "qop_softmax_int8_rows_of_one.onnx");
  const npy::Array input = npy::read(kDir + "qop_softmax_int8_rows_of_one.input.npy");
  const HostTensor x = HostTensor::from_float(input.shape, input.to_float());
  ASSERT_EQ(model.outputs().size(), 2u);
  for (const Requantization mode : kModes)
    for (const std::string& isa : available_isas()) {
      SCOPED_TRACE(isa + (mode == Requantization::fixed_point ? " fixed_point" : " float"));
      Session session(model, {.requantization = mode, .isa = isa});
      const auto outputs = session.run({{model.inputs().at(0).name, x}});
      const float low_zero_point = 255.0f / 256.0f;  // (127 + 128) / 256
      const float zero_zero_point = mode == Requantization::fixed_point ? 127.0f / 256.0f : -0.5f;
      for (const float v : outputs.at(model.outputs()[0].name).float_data())
        EXPECT_EQ(v, low_zero_point);
      for (const float v : outputs.at(model.outputs()[1].name).float_data())
        EXPECT_EQ(v, zero_zero_point);
    }
}

}  // namespace
}  // namespace octet
