#include "kernels/reference/elementwise.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "kernels/quantization/fixed_point.h"

namespace octet::ref {

namespace {

// Walks the output of a broadcast binary op in row-major order, tracking the matching flat offsets into
// both inputs (stride 0 along broadcast dimensions).
class BroadcastWalk {
 public:
  BroadcastWalk(const Shape& out, const Shape& a, const Shape& b)
      : out_(out), index_(out.size(), 0), stride_a_(strides_for(out, a)), stride_b_(strides_for(out, b)) {}

  int64_t a() const { return offset_a_; }
  int64_t b() const { return offset_b_; }

  void next() {
    for (size_t d = out_.size(); d-- > 0;) {
      offset_a_ += stride_a_[d];
      offset_b_ += stride_b_[d];
      if (++index_[d] < out_[d]) return;
      offset_a_ -= stride_a_[d] * out_[d];
      offset_b_ -= stride_b_[d] * out_[d];
      index_[d] = 0;
    }
  }

 private:
  static std::vector<int64_t> strides_for(const Shape& out, const Shape& in) {
    std::vector<int64_t> strides(out.size(), 0);
    int64_t stride = 1;
    for (size_t i = 0; i < in.size(); ++i) {
      const size_t d_in = in.size() - 1 - i;
      const size_t d_out = out.size() - 1 - i;
      strides[d_out] = in[d_in] == 1 ? 0 : stride;
      stride *= in[d_in];
    }
    return strides;
  }

  Shape out_;
  std::vector<int64_t> index_;
  std::vector<int64_t> stride_a_, stride_b_;
  int64_t offset_a_ = 0, offset_b_ = 0;
};

void check_operands(std::string_view op, const TensorU8& a, const TensorU8& b, const QuantParams& output,
                    Clamp clamp) {
  const std::string o(op);
  check_consistent(a, o + " input A");
  check_consistent(b, o + " input B");
  validate(a.quant, ElementType::u8, a.shape, o + " input A");
  validate(b.quant, ElementType::u8, b.shape, o + " input B");
  validate(output, ElementType::u8, {}, o + " output");
  if (!a.quant.is_per_tensor() || !b.quant.is_per_tensor() || !output.is_per_tensor())
    throw Error(o + ": inputs and output must be quantized per tensor");
  validate(clamp, op);
}

template <class Combine>
TensorU8 broadcast_binary(std::string_view op, const TensorU8& a, const TensorU8& b,
                          const QuantParams& output, Combine combine) {
  TensorU8 out(broadcast_shapes(op, a.shape, b.shape), output);
  BroadcastWalk walk(out.shape, a.shape, b.shape);
  for (auto& value : out.data) {
    value = static_cast<uint8_t>(
        combine(a.data[static_cast<size_t>(walk.a())], b.data[static_cast<size_t>(walk.b())]));
    walk.next();
  }
  return out;
}

}  // namespace

Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1)
      throw Error(std::string(op) + ": shapes " + to_string(a) + " and " + to_string(b) +
                  " cannot be broadcast");
    out[out.size() - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

AddConstants add_constants(const QuantParams& a, const QuantParams& b, const QuantParams& output) {
  // Extra fractional bits carried through the rescaling step; 255 << 20 still fits int32 comfortably.
  const double sa = a.scale(), sb = b.scale(), so = output.scale();
  const double common = 2.0 * std::max(sa, sb);
  return {quantize_multiplier(sa / common),
          quantize_multiplier(sb / common),
          quantize_multiplier(common / (static_cast<double>(1 << kAddLeftShift) * so)),
          a.zero_point(),
          b.zero_point(),
          output.zero_point()};
}

FloatAddConstants float_add_constants(const QuantParams& a, const QuantParams& b, const QuantParams& output,
                                      bool a_first) {
  FloatAddConstants k;
  k.ratio_a = a.scale() / output.scale();
  k.ratio_b = b.scale() / output.scale();
  const auto za = static_cast<float>(a.zero_point()), zb = static_cast<float>(b.zero_point());
  // Folding a first, ONNX Runtime has swapped the operands, so the zero-point term swaps too.
  k.offset = static_cast<float>(output.zero_point()) -
             (a_first ? std::fma(k.ratio_b, zb, k.ratio_a * za) : std::fma(k.ratio_a, za, k.ratio_b * zb));
  k.a_first = a_first;
  return k;
}

int32_t float_add_value(const FloatAddConstants& k, int32_t a, int32_t b) {
  const auto fa = static_cast<float>(a), fb = static_cast<float>(b);
  const float v = k.a_first ? std::fma(fb, k.ratio_b, std::fma(fa, k.ratio_a, k.offset))
                            : std::fma(fa, k.ratio_a, std::fma(fb, k.ratio_b, k.offset));
  return static_cast<int32_t>(std::nearbyint(std::clamp(v, 0.0f, 255.0f)));
}

bool float_add_a_first(const Shape& a, const Shape& b) {
  return element_count(a, "add input A") < element_count(b, "add input B");
}

FloatMulConstants float_mul_constants(const QuantParams& a, const QuantParams& b, const QuantParams& output) {
  return {a.scale() * b.scale() / output.scale(), a.zero_point(), b.zero_point(), output.zero_point()};
}

int32_t float_mul_value(const FloatMulConstants& k, int32_t a, int32_t b) {
  // The zero point is added in float32 before rounding, as ONNX Runtime's x86 and NEON kernels do (one
  // more float rounding): rounding first and adding it after gives another byte where the product lands
  // within half an ulp of 128-255 of a tie, or on a tie with an odd zero point.
  const float v = static_cast<float>((a - k.za) * (b - k.zb)) * k.ratio + static_cast<float>(k.zo);
  return std::clamp(static_cast<int32_t>(std::nearbyint(std::clamp(v, -512.0f, 512.0f))), 0, 255);
}

TensorU8 add(const TensorU8& a, const TensorU8& b, const QuantParams& output, Clamp clamp, RequantMode mode) {
  check_operands("add", a, b, output, clamp);
  if (mode == RequantMode::float_scale) {
    const FloatAddConstants k =
        float_add_constants(a.quant, b.quant, output, float_add_a_first(a.shape, b.shape));
    return broadcast_binary("add", a, b, output, [&](int32_t x, int32_t y) {
      return std::clamp(float_add_value(k, x, y), clamp.min, clamp.max);
    });
  }
  const AddConstants k = add_constants(a.quant, b.quant, output);
  return broadcast_binary("add", a, b, output, [&](int32_t x, int32_t y) {
    const int32_t xs = multiply_by_fixed((x - k.za) * (1 << kAddLeftShift), k.a);
    const int32_t ys = multiply_by_fixed((y - k.zb) * (1 << kAddLeftShift), k.b);
    return requantize(xs + ys, k.out, k.zo, clamp.min, clamp.max);
  });
}

MulConstants mul_constants(const QuantParams& a, const QuantParams& b, const QuantParams& output) {
  return {quantize_multiplier(static_cast<double>(a.scale()) * b.scale() / output.scale()), a.zero_point(),
          b.zero_point(), output.zero_point()};
}

TensorU8 mul(const TensorU8& a, const TensorU8& b, const QuantParams& output, Clamp clamp, RequantMode mode) {
  check_operands("mul", a, b, output, clamp);
  if (mode == RequantMode::float_scale) {
    const FloatMulConstants k = float_mul_constants(a.quant, b.quant, output);
    return broadcast_binary("mul", a, b, output, [&](int32_t x, int32_t y) {
      return std::clamp(float_mul_value(k, x, y), clamp.min, clamp.max);
    });
  }
  const MulConstants k = mul_constants(a.quant, b.quant, output);
  return broadcast_binary("mul", a, b, output, [&](int32_t x, int32_t y) {
    return requantize((x - k.za) * (y - k.zb), k.m, k.zo, clamp.min, clamp.max);
  });
}

}  // namespace octet::ref
