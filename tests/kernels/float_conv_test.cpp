// Float convolutions and matrix products: the references against float64 arithmetic done here, and the fast
// kernels (kernels/gemm/float_gemm.h, kernels/conv/float_conv.h) against the references bit for bit on every
// ISA this CPU runs and on 1 and 3 threads.
//
// Tolerance of the references: an output is a chain of K fused multiply-adds, each one rounding, so its
// error against the exact sum is at most K * u * sum(|terms|) with u = 2^-24 (the standard bound gamma_K
// for a recursive sum, to first order; the products themselves are exact inside an fma). The float64
// computation here is exact in its products (24 + 24 bits < 53) and its own summation error is
// 2^-29 times smaller. Each comparison allows (K + 1) * u * sum(|terms|) plus K smallest subnormals (an
// fma whose result is subnormal rounds to a multiple of 2^-149). The clamp is 1-Lipschitz, so clamping
// both sides keeps the bound.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/conv/float_conv.h"
#include "kernels/error.h"
#include "kernels/gemm/float_gemm.h"
#include "kernels/reference/float_conv2d.h"
#include "kernels/reference/float_elementwise.h"
#include "kernels/reference/float_matmul.h"
#include "test_util.h"

namespace octet {
namespace {

constexpr double kUnit = 0x1p-24;  // float32 unit roundoff
constexpr double kSubnormal = 0x1p-149;
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Uniform values in [-1, 1] (full mantissas, so any change of summation order shows), with some exact
// zeros of both signs; with `specials`, also a sprinkling of infinities, NaN, subnormals and huge and tiny
// magnitudes.
std::vector<float> random_values(test::Random& rng, int64_t count, bool specials = false) {
  static const float kSpecials[] = {kInf, -kInf, kNaN, 1e-40f, -3e-42f, 1e30f, -2e34f, 1e-30f, 0.0f, -0.0f};
  std::vector<float> v(static_cast<size_t>(count));
  for (auto& x : v) {
    const int64_t pick = rng.integer(0, 99);
    if (pick == 0)
      x = 0.0f;
    else if (pick == 1)
      x = -0.0f;
    else if (specials && pick < 6)
      x = kSpecials[rng.integer(0, std::size(kSpecials) - 1)];
    else
      x = static_cast<float>(rng.real(-1.0, 1.0));
  }
  return v;
}

bool same_float(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) || std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b);
}

// Bit-identical outputs (any NaN equals any NaN; -0 differs from +0).
void expect_identical(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    if (!same_float(got[i], want[i])) {
      ADD_FAILURE() << "element " << i << " of " << got.size() << ": got " << got[i] << " (0x" << std::hex
                    << std::bit_cast<uint32_t>(got[i]) << "), reference " << std::dec << want[i] << " (0x"
                    << std::hex << std::bit_cast<uint32_t>(want[i]) << std::dec << ")";
      return;
    }
}

// An exact sum and the sum of its terms' magnitudes, for the error bound.
struct Exact {
  double sum = 0.0, magnitude = 0.0;
  int64_t terms = 0;
  void add(double x) { sum += x, magnitude += std::abs(x), ++terms; }
};

double clamped(double x, FloatClamp c) {
  return x < c.lo ? c.lo : (x > c.hi ? c.hi : x);
}

// The reference's outputs against exact sums (finite operands only), within the bound above.
void expect_close(const std::vector<float>& got, const std::vector<Exact>& exact, FloatClamp clamp) {
  ASSERT_EQ(got.size(), exact.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const Exact& e = exact[i];
    const double tolerance = (e.terms + 1) * kUnit * e.magnitude + e.terms * kSubnormal;
    const double want = clamped(e.sum, clamp);
    if (!(std::abs(got[i] - want) <= tolerance)) {
      ADD_FAILURE() << "element " << i << ": got " << got[i] << ", exact " << want << ", tolerance "
                    << tolerance;
      return;
    }
  }
}

// ---- Convolution cases ----

struct ConvCase {
  Shape input, weights;
  ref::Conv2dParams params;
  bool bias = false;
  FloatClamp clamp;
};

std::string describe(const ConvCase& c) {
  const auto& p = c.params;
  return "input " + to_string(c.input) + " weights " + to_string(c.weights) + " stride " +
         std::to_string(p.stride_h) + "x" + std::to_string(p.stride_w) + " dilation " +
         std::to_string(p.dilation_h) + "x" + std::to_string(p.dilation_w) + " pads " +
         std::to_string(p.pad.top) + "," + std::to_string(p.pad.left) + "," + std::to_string(p.pad.bottom) +
         "," + std::to_string(p.pad.right) + " groups " + std::to_string(p.groups) + (c.bias ? " bias" : "") +
         (c.clamp.is_identity() ? "" : " clamp");
}

enum class ConvKind { dense, grouped, depthwise, pointwise, tiny };

FloatClamp random_clamp(test::Random& rng) {
  switch (rng.integer(0, 3)) {
    case 0:
      return {0.0f, kInf};  // Relu
    case 1:
      return {-0.25f, 0.5f};  // Clip
    default:
      return {};
  }
}

ConvCase random_conv(test::Random& rng, ConvKind kind, int64_t max_size = 11) {
  ConvCase c;
  auto& p = c.params;
  int64_t groups = 1, cin_g = rng.integer(1, 19), cout_g = rng.integer(1, 40);
  int64_t kh = rng.integer(1, 5), kw = rng.integer(1, 5);
  p.stride_h = rng.integer(1, 3), p.stride_w = rng.integer(1, 3);
  p.dilation_h = rng.integer(1, 4) == 4 ? 2 : 1, p.dilation_w = rng.integer(1, 4) == 4 ? 3 : 1;
  p.pad = {rng.integer(0, 2), rng.integer(0, 2), rng.integer(0, 2), rng.integer(0, 2)};
  switch (kind) {
    case ConvKind::dense:
      break;
    case ConvKind::grouped:
      groups = rng.integer(2, 4), cin_g = rng.integer(1, 9), cout_g = rng.integer(1, 20);
      break;
    case ConvKind::depthwise:
      groups = rng.integer(1, 40), cin_g = 1, cout_g = rng.integer(1, 4) == 4 ? rng.integer(2, 3) : 1;
      break;
    case ConvKind::pointwise:
      kh = kw = 1, p.stride_h = p.stride_w = 1, p.pad = {}, cin_g = rng.integer(1, 70),
      cout_g = rng.integer(1, 80);
      break;
    case ConvKind::tiny:  // maps smaller than the kernel, saved by the padding
      kh = rng.integer(3, 5), kw = rng.integer(3, 5),
      p.pad = {kh - 1, kw - 1, rng.integer(0, 2), rng.integer(0, 2)};
      break;
  }
  const int64_t extent_h = p.dilation_h * (kh - 1) + 1, extent_w = p.dilation_w * (kw - 1) + 1;
  int64_t ih = rng.integer(1, max_size), iw = rng.integer(1, max_size);
  if (kind == ConvKind::tiny) ih = rng.integer(1, 2), iw = rng.integer(1, 2);
  ih = std::max(ih, extent_h - p.pad.top - p.pad.bottom);
  iw = std::max(iw, extent_w - p.pad.left - p.pad.right);
  p.groups = groups;
  c.input = {rng.integer(1, 3) == 3 ? 2 : 1, ih, iw, groups * cin_g};
  c.weights = {groups * cout_g, kh, kw, cin_g};
  c.bias = rng.coin();
  c.clamp = random_clamp(rng);
  return c;
}

struct ConvData {
  std::vector<float> input, weights, bias;
  const float* bias_or_null() const { return bias.empty() ? nullptr : bias.data(); }
};

ConvData random_data(test::Random& rng, const ConvCase& c, bool specials, int64_t bias_count) {
  ConvData d{random_values(rng, element_count(c.input, "t"), specials),
             random_values(rng, element_count(c.weights, "t"), specials),
             {}};
  if (c.bias) d.bias = random_values(rng, bias_count, specials);
  return d;
}

int64_t conv_out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1) {
  return (in + p0 + p1 - d * (k - 1) - 1) / s + 1;
}

// Direct float64 convolution: for each output, the exact sum of its bias and of input x weight over the
// window's taps inside the image (padding adds 0).
std::vector<Exact> exact_conv(const ConvCase& c, const ConvData& d) {
  const auto& p = c.params;
  const int64_t n = c.input[0], ih = c.input[1], iw = c.input[2], cin = c.input[3];
  const int64_t cout = c.weights[0], kh = c.weights[1], kw = c.weights[2], cg = c.weights[3];
  const int64_t oh = conv_out(ih, kh, p.stride_h, p.dilation_h, p.pad.top, p.pad.bottom);
  const int64_t ow = conv_out(iw, kw, p.stride_w, p.dilation_w, p.pad.left, p.pad.right);
  const int64_t per_group = cout / p.groups;
  std::vector<Exact> out;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x = 0; x < ow; ++x)
        for (int64_t oc = 0; oc < cout; ++oc) {
          Exact e;
          if (c.bias) e.add(d.bias[static_cast<size_t>(oc)]), --e.terms;  // the start value, not a rounding
          for (int64_t ky = 0; ky < kh; ++ky)
            for (int64_t kx = 0; kx < kw; ++kx)
              for (int64_t ci = 0; ci < cg; ++ci) {
                const int64_t iy = y * p.stride_h - p.pad.top + ky * p.dilation_h;
                const int64_t ix = x * p.stride_w - p.pad.left + kx * p.dilation_w;
                const bool inside = iy >= 0 && iy < ih && ix >= 0 && ix < iw;
                const double xv = inside ? d.input[static_cast<size_t>(((b * ih + iy) * iw + ix) * cin +
                                                                       oc / per_group * cg + ci)]
                                         : 0.0;
                e.add(xv * d.weights[static_cast<size_t>(((oc * kh + ky) * kw + kx) * cg + ci)]);
              }
          out.push_back(e);
        }
  return out;
}

std::vector<float> reference_conv(const ConvCase& c, const ConvData& d) {
  const auto& p = c.params;
  const int64_t oh = conv_out(c.input[1], c.weights[1], p.stride_h, p.dilation_h, p.pad.top, p.pad.bottom);
  const int64_t ow = conv_out(c.input[2], c.weights[2], p.stride_w, p.dilation_w, p.pad.left, p.pad.right);
  std::vector<float> out(static_cast<size_t>(c.input[0] * oh * ow * c.weights[0]));
  ref::float_conv2d(d.input.data(), c.input, d.weights.data(), c.weights, d.bias_or_null(), p, c.clamp,
                    out.data());
  return out;
}

// ---- Transposed convolution cases ----

struct TransposedCase {
  Shape input, weights;
  ref::ConvTranspose2dParams params;
  bool bias = false;
  FloatClamp clamp;
};

std::string describe(const TransposedCase& c) {
  const auto& p = c.params;
  return "input " + to_string(c.input) + " weights " + to_string(c.weights) + " stride " +
         std::to_string(p.stride_h) + "x" + std::to_string(p.stride_w) + " dilation " +
         std::to_string(p.dilation_h) + "x" + std::to_string(p.dilation_w) + " pads " +
         std::to_string(p.pad.top) + "," + std::to_string(p.pad.left) + "," + std::to_string(p.pad.bottom) +
         "," + std::to_string(p.pad.right) + " output_padding " + std::to_string(p.output_padding_h) + "x" +
         std::to_string(p.output_padding_w) + " groups " + std::to_string(p.groups);
}

int64_t transposed_out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1, int64_t op) {
  return (in - 1) * s - p0 - p1 + d * (k - 1) + op + 1;
}

TransposedCase random_transposed(test::Random& rng, int64_t max_size = 8) {
  TransposedCase c;
  auto& p = c.params;
  p.groups = rng.integer(1, 3) == 3 ? rng.integer(2, 3) : 1;
  const int64_t cin_g = rng.integer(1, 12), cout_g = rng.integer(1, 30);
  const int64_t kh = rng.integer(1, 5), kw = rng.integer(1, 5);
  p.stride_h = rng.integer(1, 3), p.stride_w = rng.integer(1, 3);
  p.dilation_h = rng.integer(1, 4) == 4 ? 2 : 1, p.dilation_w = rng.integer(1, 4) == 4 ? 2 : 1;
  p.output_padding_h = rng.integer(0, std::max(p.stride_h, p.dilation_h) - 1);
  p.output_padding_w = rng.integer(0, std::max(p.stride_w, p.dilation_w) - 1);
  const int64_t ih = rng.integer(1, max_size), iw = rng.integer(1, max_size);
  // Pads that leave at least one output pixel.
  const int64_t full_h = transposed_out(ih, kh, p.stride_h, p.dilation_h, 0, 0, p.output_padding_h);
  const int64_t full_w = transposed_out(iw, kw, p.stride_w, p.dilation_w, 0, 0, p.output_padding_w);
  p.pad.top = rng.integer(0, std::min<int64_t>(2, (full_h - 1) / 2));
  p.pad.bottom = rng.integer(0, std::min<int64_t>(2, (full_h - 1) / 2));
  p.pad.left = rng.integer(0, std::min<int64_t>(2, (full_w - 1) / 2));
  p.pad.right = rng.integer(0, std::min<int64_t>(2, (full_w - 1) / 2));
  c.input = {rng.integer(1, 3) == 3 ? 2 : 1, ih, iw, p.groups * cin_g};
  c.weights = {p.groups * cout_g, kh, kw, cin_g};
  c.bias = rng.coin();
  c.clamp = random_clamp(rng);
  return c;
}

// Float64 transposed convolution in scatter form (each input pixel adds to the outputs its taps reach),
// independent of the reference's gather form.
std::vector<Exact> exact_transposed(const TransposedCase& c, const ConvData& d) {
  const auto& p = c.params;
  const int64_t n = c.input[0], ih = c.input[1], iw = c.input[2], cin = c.input[3];
  const int64_t cout = c.weights[0], kh = c.weights[1], kw = c.weights[2], cg = c.weights[3];
  const int64_t oh =
      transposed_out(ih, kh, p.stride_h, p.dilation_h, p.pad.top, p.pad.bottom, p.output_padding_h);
  const int64_t ow =
      transposed_out(iw, kw, p.stride_w, p.dilation_w, p.pad.left, p.pad.right, p.output_padding_w);
  const int64_t per_group = cout / p.groups;
  std::vector<Exact> out(static_cast<size_t>(n * oh * ow * cout));
  if (c.bias)
    for (size_t i = 0; i < out.size(); ++i) {
      out[i].add(d.bias[i % static_cast<size_t>(cout)]);
      --out[i].terms;  // the start value, not a rounding
    }
  for (int64_t b = 0; b < n; ++b)
    for (int64_t iy = 0; iy < ih; ++iy)
      for (int64_t ix = 0; ix < iw; ++ix)
        for (int64_t ky = 0; ky < kh; ++ky)
          for (int64_t kx = 0; kx < kw; ++kx) {
            const int64_t y = iy * p.stride_h - p.pad.top + ky * p.dilation_h;
            const int64_t x = ix * p.stride_w - p.pad.left + kx * p.dilation_w;
            if (y < 0 || y >= oh || x < 0 || x >= ow) continue;
            for (int64_t oc = 0; oc < cout; ++oc)
              for (int64_t ci = 0; ci < cg; ++ci)
                out[static_cast<size_t>(((b * oh + y) * ow + x) * cout + oc)].add(
                    static_cast<double>(d.input[static_cast<size_t>(((b * ih + iy) * iw + ix) * cin +
                                                                    oc / per_group * cg + ci)]) *
                    d.weights[static_cast<size_t>(((oc * kh + ky) * kw + kx) * cg + ci)]);
          }
  return out;
}

std::vector<float> reference_transposed(const TransposedCase& c, const ConvData& d) {
  const auto& p = c.params;
  const int64_t oh = transposed_out(c.input[1], c.weights[1], p.stride_h, p.dilation_h, p.pad.top,
                                    p.pad.bottom, p.output_padding_h);
  const int64_t ow = transposed_out(c.input[2], c.weights[2], p.stride_w, p.dilation_w, p.pad.left,
                                    p.pad.right, p.output_padding_w);
  std::vector<float> out(static_cast<size_t>(c.input[0] * oh * ow * c.weights[0]));
  ref::float_conv_transpose2d(d.input.data(), c.input, d.weights.data(), c.weights, d.bias_or_null(), p,
                              c.clamp, out.data());
  return out;
}

// ---- Matrix products ----

// Float64 NumPy matmul with broadcast batch dimensions, indexing each operand by its own strides.
std::vector<Exact> exact_matmul(const std::vector<float>& a, const Shape& sa, const std::vector<float>& b,
                                const Shape& sb, const Shape& so) {
  const int64_t m = sa[sa.size() - 2], k = sa.back(), n = sb.back();
  const size_t rank = so.size();
  std::vector<Exact> out;
  const int64_t batches = element_count(so, "t") / std::max<int64_t>(1, m * n);
  for (int64_t bi = 0; bi < batches; ++bi) {
    // Output batch index -> each operand's batch offset (size-1 dimensions repeat).
    int64_t rest = bi, oa = 0, ob = 0, stride_a = 1, stride_b = 1;
    for (size_t d = rank - 2; d-- > 0;) {
      const int64_t i = rest % so[d];
      rest /= so[d];
      const int64_t da = d + sa.size() >= rank ? sa[d + sa.size() - rank] : 1;
      const int64_t db = d + sb.size() >= rank ? sb[d + sb.size() - rank] : 1;
      oa += (da == 1 ? 0 : i) * stride_a, stride_a *= da;
      ob += (db == 1 ? 0 : i) * stride_b, stride_b *= db;
    }
    for (int64_t r = 0; r < m; ++r)
      for (int64_t col = 0; col < n; ++col) {
        Exact e;
        for (int64_t j = 0; j < k; ++j)
          e.add(static_cast<double>(a[static_cast<size_t>((oa * m + r) * k + j)]) *
                b[static_cast<size_t>((ob * k + j) * n + col)]);
        out.push_back(e);
      }
  }
  return out;
}

// Runs f on an arena of `threads` threads.
template <class F>
void with_threads(int threads, F&& f) {
  tbb::task_arena arena(threads);
  arena.execute(f);
}

// =====================================================================================================
// References against float64
// =====================================================================================================

TEST(FloatConvReference, MatchesFloat64OnRandomShapes) {
  test::Random rng(101);
  const ConvKind kinds[] = {ConvKind::dense, ConvKind::grouped, ConvKind::depthwise, ConvKind::pointwise,
                            ConvKind::tiny};
  for (int round = 0; round < test::random_trials(150); ++round) {
    const ConvCase c = random_conv(rng, kinds[round % 5]);
    SCOPED_TRACE("round " + std::to_string(round) + ": " + describe(c));
    const ConvData d = random_data(rng, c, false, c.weights[0]);
    expect_close(reference_conv(c, d), exact_conv(c, d), c.clamp);
  }
}

TEST(FloatConvReference, PaddingTapsAreMultipliedByZero) {
  // The definition includes padding taps as fma(0, w, acc): an infinite weight makes NaN exactly at the
  // outputs whose window puts that tap on the padding.
  const Shape input{1, 3, 3, 1}, weights{1, 3, 3, 1};
  std::vector<float> x(9, 1.0f), w(9, 0.5f);
  w[0] = kInf;  // tap (0, 0): on the padding for output row 0 or column 0
  ref::Conv2dParams p;
  p.pad = {1, 1, 1, 1};
  std::vector<float> out(9);
  ref::float_conv2d(x.data(), input, w.data(), weights, nullptr, p, {}, out.data());
  for (int64_t y = 0; y < 3; ++y)
    for (int64_t xo = 0; xo < 3; ++xo)
      EXPECT_EQ(std::isnan(out[static_cast<size_t>(y * 3 + xo)]), y == 0 || xo == 0) << y << "," << xo;
  // And a bias of -0 with only padding and zero-weight taps ends at +0 (fma(0, 0, -0) = +0).
  const Shape one{1, 1, 1, 1}, k1{1, 1, 1, 1};
  ref::Conv2dParams pad_only;
  pad_only.pad = {1, 0, 0, 0};
  const float x1 = 2.0f, w1 = 0.0f, minus_zero = -0.0f;
  float y[2];
  ref::float_conv2d(&x1, one, &w1, k1, &minus_zero, pad_only, {}, y);
  EXPECT_EQ(std::bit_cast<uint32_t>(y[0]), 0u);  // padding row: fma(0, 0, -0) = +0
}

TEST(FloatConvReference, SpecialValuesPropagate) {
  // NaN in the input reaches exactly the outputs whose window holds it; +inf and -inf in one window give NaN.
  const Shape input{1, 4, 4, 1}, weights{1, 2, 2, 1};
  std::vector<float> x(16, 1.0f), w(4, 1.0f);
  x[5] = kNaN;  // (1, 1)
  std::vector<float> out(9);
  ref::float_conv2d(x.data(), input, w.data(), weights, nullptr, {}, {}, out.data());
  for (int64_t y = 0; y < 3; ++y)
    for (int64_t xo = 0; xo < 3; ++xo)
      EXPECT_EQ(std::isnan(out[static_cast<size_t>(y * 3 + xo)]), y <= 1 && xo <= 1);
  x[5] = kInf, x[6] = -kInf;  // (1, 1) and (1, 2)
  ref::float_conv2d(x.data(), input, w.data(), weights, nullptr, {}, {}, out.data());
  EXPECT_TRUE(std::isnan(out[1]));  // both in the window of output (0, 1)
  EXPECT_EQ(out[0], kInf);
  EXPECT_EQ(out[2], -kInf);
  EXPECT_EQ(out[8], 4.0f);
  // The clamp lets NaN through and bounds infinities.
  ref::float_conv2d(x.data(), input, w.data(), weights, nullptr, {}, {0.0f, 6.0f}, out.data());
  EXPECT_TRUE(std::isnan(out[1]));
  EXPECT_EQ(out[0], 6.0f);
  EXPECT_EQ(out[2], 0.0f);
  EXPECT_EQ(out[8], 4.0f);
}

TEST(FloatConvReference, HugeAndTinyMagnitudes) {
  const Shape input{1, 1, 1, 2}, weights{1, 1, 1, 2};
  const float w[2] = {1.0f, 1.0f};
  float out = 1.0f;
  // No flush to zero: a subnormal times 1 stays that subnormal.
  const float tiny[2] = {1e-40f, 0.0f};
  ref::float_conv2d(tiny, input, w, weights, nullptr, {}, {}, &out);
  EXPECT_EQ(out, 1e-40f);
  // A sum past FLT_MAX overflows to infinity, as float arithmetic does.
  const float huge[2] = {3e38f, 3e38f};
  ref::float_conv2d(huge, input, w, weights, nullptr, {}, {}, &out);
  EXPECT_EQ(out, kInf);
}

TEST(FloatConvTransposeReference, MatchesFloat64OnRandomShapes) {
  test::Random rng(202);
  for (int round = 0; round < test::random_trials(150); ++round) {
    const TransposedCase c = random_transposed(rng);
    SCOPED_TRACE("round " + std::to_string(round) + ": " + describe(c));
    const ConvData data{random_values(rng, element_count(c.input, "t")),
                        random_values(rng, element_count(c.weights, "t")),
                        c.bias ? random_values(rng, c.weights[0]) : std::vector<float>{}};
    expect_close(reference_transposed(c, data), exact_transposed(c, data), c.clamp);
  }
}

TEST(FloatConvTransposeReference, TapsOutsideTheInputContributeNothing) {
  // Stride 2: odd output columns take kernel column 1 only, even ones kernel columns 0 and 2. An infinite
  // weight at kernel column 0 reaches only the even columns whose tap 0 lands inside the input.
  const Shape input{1, 1, 2, 1}, weights{1, 1, 3, 1};
  const float x[2] = {1.0f, 2.0f}, w[3] = {kInf, 0.5f, 0.25f};
  ref::ConvTranspose2dParams p;
  p.stride_w = 2;
  std::vector<float> out(5);  // (2 - 1) * 2 + 3
  ref::float_conv_transpose2d(x, input, w, weights, nullptr, p, {}, out.data());
  EXPECT_EQ(out[0], kInf);  // x0 * w0
  EXPECT_EQ(out[1], 0.5f);  // x0 * w1
  EXPECT_EQ(out[2], kInf);  // x0 * w2 + x1 * w0
  EXPECT_EQ(out[3], 1.0f);  // x1 * w1
  EXPECT_EQ(out[4], 0.5f);  // x1 * w2: tap 0 would read input 2, outside: skipped, not 0 * inf
  // A bias of -0 where no tap lands stays -0 (nothing is added).
  ref::ConvTranspose2dParams q;
  q.stride_w = 3;  // output column 1 and 2 of [x0 . . x1] take no tap with a 1-wide kernel
  const float w1 = 1.0f, minus_zero = -0.0f;
  std::vector<float> y(4);
  ref::float_conv_transpose2d(x, input, &w1, {1, 1, 1, 1}, &minus_zero, q, {}, y.data());
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(std::bit_cast<uint32_t>(y[1]), 0x80000000u);
  EXPECT_EQ(y[3], 2.0f);
}

TEST(FloatMatmulReference, MatchesFloat64WithBroadcastBatches) {
  test::Random rng(303);
  const std::pair<Shape, Shape> cases[] = {
      {{2, 1, 3, 4}, {5, 4, 2}}, {{3, 4}, {2, 4, 6}},          {{2, 3, 4}, {4, 5}}, {{1, 7, 9}, {3, 9, 1}},
      {{1, 1}, {1, 1}},          {{4, 1, 2, 5}, {1, 3, 5, 3}}, {{6, 33}, {33, 17}}};
  for (const auto& [sa, sb] : cases) {
    SCOPED_TRACE(to_string(sa) + " x " + to_string(sb));
    const Shape so = ref::float_matmul_shape(sa, sb);
    const auto a = random_values(rng, element_count(sa, "t")), b = random_values(rng, element_count(sb, "t"));
    std::vector<float> out(static_cast<size_t>(element_count(so, "t")));
    ref::float_matmul(a.data(), sa, b.data(), sb, out.data());
    expect_close(out, exact_matmul(a, sa, b, sb, so), {});
  }
  EXPECT_EQ(ref::float_matmul_shape({2, 1, 3, 4}, {5, 4, 2}), (Shape{2, 5, 3, 2}));
  EXPECT_EQ(ref::float_matmul_shape({3, 4}, {2, 4, 6}), (Shape{2, 3, 6}));
}

TEST(FloatMatmulReference, EmptyAndDegenerateShapes) {
  // K = 0: every output is 0. M or N or a batch dimension 0: no output.
  std::vector<float> out(6, 7.0f);
  ref::float_matmul(nullptr, {2, 0}, nullptr, {0, 3}, out.data());
  for (float v : out)
    EXPECT_EQ(std::bit_cast<uint32_t>(v), 0u);
  EXPECT_EQ(ref::float_matmul_shape({0, 3, 4}, {4, 5}), (Shape{0, 3, 5}));
  ref::float_matmul(nullptr, {0, 3, 4}, nullptr, {4, 5}, nullptr);
  ref::float_matmul(nullptr, {3, 0}, nullptr, {0, 0}, nullptr);
}

TEST(FloatMatmulReference, RejectsBadShapes) {
  EXPECT_THROW(ref::float_matmul_shape({3}, {3, 4}), Error);
  EXPECT_THROW(ref::float_matmul_shape({2, 3}, {4, 5}), Error);        // K mismatch
  EXPECT_THROW(ref::float_matmul_shape({2, 2, 3}, {3, 3, 5}), Error);  // batch 2 vs 3
  EXPECT_THROW(ref::float_matmul_shape({-1, 3}, {3, 5}), Error);
}

TEST(FloatGemmReference, MatchesFloat64WithTransposesAlphaBetaAndBroadcastC) {
  test::Random rng(404);
  for (int round = 0; round < test::random_trials(80); ++round) {
    const int64_t m = rng.integer(1, 9), k = rng.integer(0, 40), n = rng.integer(1, 9);
    const bool ta = rng.coin(), tb = rng.coin();
    const Shape c_shapes[] = {{}, {n}, {1, n}, {m, 1}, {m, n}, {1}, {1, 1}};
    const int64_t pick = rng.integer(-1, 6);
    const Shape sc = pick < 0 ? Shape{} : c_shapes[pick];
    const float alpha = rng.coin() ? 1.0f : static_cast<float>(rng.real(-2.0, 2.0));
    const float beta = rng.coin() ? 1.0f : static_cast<float>(rng.real(-2.0, 2.0));
    const FloatClamp clamp = random_clamp(rng);
    SCOPED_TRACE("round " + std::to_string(round));
    const auto a = random_values(rng, m * k), b = random_values(rng, k * n);
    const auto c = random_values(rng, std::max<int64_t>(1, element_count(sc, "t")));
    std::vector<float> y(static_cast<size_t>(m * n));
    ref::float_gemm(a.data(), m, k, ta, b.data(), n, tb, pick < 0 ? nullptr : c.data(), sc, alpha, beta,
                    clamp, y.data());
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        Exact e;
        for (int64_t t = 0; t < k; ++t)
          e.add(static_cast<double>(ta ? a[static_cast<size_t>(t * m + i)]
                                       : a[static_cast<size_t>(i * k + t)]) *
                (tb ? b[static_cast<size_t>(j * k + t)] : b[static_cast<size_t>(t * n + j)]));
        double cv = 0.0;
        if (pick >= 0) {
          const int64_t rows = sc.size() == 2 ? sc[0] : 1, cols = sc.empty() ? 1 : sc.back();
          cv = c[static_cast<size_t>((rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j))];
        }
        // Error: K roundings in the sum (scaled by |alpha|), one in alpha * acc, one in beta * c, one in the
        // final add: first order (K + 2) u |alpha| S + 2 u |beta c|; 1% for the second-order terms.
        const double exact = alpha * e.sum + beta * cv;
        const double tolerance =
            1.01 * ((e.terms + 2) * kUnit * std::abs(alpha) * e.magnitude + 2 * kUnit * std::abs(beta * cv)) +
            (e.terms + 2) * kSubnormal;
        const float got = y[static_cast<size_t>(i * n + j)];
        ASSERT_LE(std::abs(got - clamped(exact, clamp)), tolerance) << i << "," << j;
      }
  }
}

TEST(FloatGemmReference, RejectsCThatDoesNotBroadcast) {
  const float x[12] = {};
  float y[12];
  EXPECT_THROW(ref::float_gemm(x, 2, 3, false, x, 4, false, x, {3}, 1, 1, {}, y), Error);
  EXPECT_THROW(ref::float_gemm(x, 2, 3, false, x, 4, false, x, {2, 4, 1}, 1, 1, {}, y), Error);
  EXPECT_THROW(ref::float_gemm(x, 2, 3, false, x, 4, false, x, {4, 2}, 1, 1, {}, y), Error);
  EXPECT_NO_THROW(ref::float_gemm(x, 2, 3, false, x, 4, false, x, {2, 1}, 1, 1, {}, y));
}

TEST(FloatConvReference, RejectsBadParameters) {
  const std::vector<float> x(64), w(64);
  std::vector<float> y(256);
  ref::Conv2dParams p;
  auto conv = [&](Shape in, Shape ws, ref::Conv2dParams params) {
    ref::float_conv2d(x.data(), in, w.data(), ws, nullptr, params, {}, y.data());
  };
  p.groups = 3;
  EXPECT_THROW(conv({1, 2, 2, 4}, {3, 1, 1, 1}, p), Error);  // 3 does not divide 4
  p.groups = 2;
  EXPECT_THROW(conv({1, 2, 2, 4}, {3, 1, 1, 2}, p), Error);   // nor 3 output channels
  EXPECT_THROW(conv({1, 2, 2, 4}, {2, 1, 1, 4}, p), Error);   // 4 channels per group, expected 2
  EXPECT_THROW(conv({1, 2, 2}, {2, 1, 1, 2}, {}), Error);     // rank 3
  EXPECT_THROW(conv({1, 2, 2, 2}, {2, 3, 3, 2}, {}), Error);  // kernel larger than the input
  ref::Conv2dParams bad;
  bad.stride_h = 0;
  EXPECT_THROW(conv({1, 2, 2, 2}, {2, 1, 1, 2}, bad), Error);
  ref::ConvTranspose2dParams tp;
  tp.output_padding_w = 2;  // >= stride and dilation
  EXPECT_THROW(
      ref::float_conv_transpose2d(x.data(), {1, 2, 2, 2}, w.data(), {2, 1, 1, 2}, nullptr, tp, {}, y.data()),
      Error);
}

TEST(FloatConvReference, EmptyBatchProducesNothing) {
  ref::float_conv2d(nullptr, {0, 3, 3, 2}, nullptr, {0, 3, 3, 2}, nullptr, {}, {}, nullptr);
  const float w[4] = {1, 2, 3, 4};
  ref::float_conv2d(nullptr, {0, 3, 3, 2}, w, {2, 1, 1, 2}, nullptr, {}, {}, nullptr);
  ref::float_conv_transpose2d(nullptr, {0, 3, 3, 2}, w, {2, 1, 1, 2}, nullptr, {}, {}, nullptr);
}

// =====================================================================================================
// Fast kernels against the references, bit for bit, on every ISA and on 1 and 3 threads
// =====================================================================================================

class FloatConvFast : public ::testing::TestWithParam<Isa> {};

// Runs a prepared convolution (direct or transposed) on `input` of shape [n, h, w, c] on 1 and 3 threads
// and expects `want` bit for bit; `residual`: the tensor a direct one prepared to add one is given.
template <class Prepared>
void expect_runs_as(const Prepared& prepared, const Shape& shape, const float* input,
                    const std::vector<float>& want, const float* residual = nullptr) {
  for (int threads : {1, 3}) {
    SCOPED_TRACE(std::to_string(threads) + " threads");
    std::vector<float> got(want.size(), 12345.0f);
    with_threads(threads, [&] {
      if constexpr (std::is_same_v<Prepared, conv::FloatConv2d>)
        conv::run(prepared, input, shape[0], shape[1], shape[2], got.data(), residual);
      else
        conv::run(prepared, input, shape[0], shape[1], shape[2], got.data());
    });
    expect_identical(got, want);
  }
}

void check_conv(Isa isa, const ConvCase& c, const ConvData& d) {
  const auto conv =
      conv::prepare_float_conv2d(isa, d.weights.data(), c.weights, d.bias_or_null(), c.params, c.clamp);
  expect_runs_as(*conv, c.input, d.input.data(), reference_conv(c, d));
}

// A random convolution for the fused-epilogue tests, of the kind `round` picks; every tenth has few pixels
// and many output channels, so that the GEMM splits its panels over tasks.
ConvCase fused_epilogue_case(test::Random& rng, int round) {
  const ConvKind kinds[] = {ConvKind::dense, ConvKind::grouped, ConvKind::depthwise, ConvKind::pointwise,
                            ConvKind::tiny};
  ConvCase c = random_conv(rng, kinds[round % 5], round % 3 == 0 ? 20 : 9);
  if (round % 10 == 0) {
    c.input = {1, 3, 3, 24};
    c.weights = {150, 1, 1, 24};
    c.params = {};
  }
  return c;
}

TEST_P(FloatConvFast, ConvolutionsMatchTheReference) {
  test::Random rng(505);
  const ConvKind kinds[] = {ConvKind::dense, ConvKind::grouped, ConvKind::depthwise, ConvKind::pointwise,
                            ConvKind::tiny};
  for (int round = 0; round < test::random_trials(200); ++round) {
    ConvCase c = random_conv(rng, kinds[round % 5], round % 3 == 0 ? 20 : 9);
    const bool specials = round % 4 == 3;
    SCOPED_TRACE("round " + std::to_string(round) + ": " + describe(c) + (specials ? " specials" : ""));
    check_conv(GetParam(), c, random_data(rng, c, specials, c.weights[0]));
  }
}

TEST_P(FloatConvFast, LayerShapesMatchTheReference) {
  // Shapes like the ones the fast paths are built for: several pixel tiles, several B panels with a partial
  // vector at the end, the in-place 1x1, 3x3 with padding, a stride-2 first layer, depthwise 3x3 with
  // channels not a multiple of any vector width, and a 7x7 late layer split by output channels.
  test::Random rng(606);
  struct Layer {
    Shape input, weights;
    int64_t stride, pad, groups;
  };
  const Layer layers[] = {{{1, 14, 14, 32}, {70, 3, 3, 32}, 1, 1, 1},
                          {{2, 12, 13, 48}, {100, 1, 1, 48}, 1, 0, 1},
                          {{1, 23, 21, 3}, {16, 3, 3, 3}, 2, 1, 1},
                          {{1, 15, 15, 37}, {37, 3, 3, 1}, 1, 1, 37},
                          {{1, 9, 9, 24}, {72, 5, 5, 1}, 2, 2, 24},
                          {{1, 7, 7, 64}, {200, 3, 3, 64}, 1, 1, 1},
                          {{1, 10, 10, 64}, {64, 3, 3, 16}, 1, 1, 4},
                          {{1, 28, 28, 16}, {8, 1, 1, 16}, 1, 0, 1},
                          // Small weights, read in place (run_direct_rows): a ResNet-like 7x7 stride-2 first
                          // layer with border columns on both sides and two B panels, two images.
                          {{2, 31, 45, 3}, {72, 7, 7, 3}, 2, 3, 1},
                          // Weights over 128 KiB: im2col tiles, strided with borders.
                          {{1, 15, 13, 64}, {72, 3, 3, 64}, 2, 1, 1},
                          // RegNet's 8-channel groups, strided and not: read in place group by group on
                          // AVX2 and the scalar ISA, on their input (lane_group) on AVX-512.
                          {{1, 13, 17, 48}, {48, 3, 3, 8}, 2, 1, 6},
                          {{2, 9, 11, 40}, {40, 3, 3, 8}, 1, 1, 5},
                          // ResNeXt's 4 x 4 groups, strided (the GEMM on the scalar ISA, lane_group on the
                          // others but NEON), a channel multiplier and 3 in x 3 out (the depthwise kernel on
                          // an expanded input, in bands of rows, everywhere), 2 in x 6 out (the GEMM), and
                          // rows so wide that a band is one output row.
                          {{1, 9, 11, 32}, {32, 3, 3, 4}, 1, 1, 8},
                          {{2, 13, 12, 32}, {32, 3, 3, 4}, 2, 1, 8},
                          {{1, 9, 9, 8}, {24, 3, 3, 1}, 1, 1, 8},
                          {{1, 9, 11, 24}, {24, 3, 3, 3}, 2, 1, 8},
                          {{1, 7, 8, 16}, {48, 3, 3, 2}, 1, 1, 8},
                          {{1, 5, 300, 64}, {64, 3, 3, 4}, 1, 1, 16},
                          {{1, 5, 300, 48}, {48, 3, 3, 3}, 1, 1, 16},
                          // Groups of as many input as output channels on the input itself (lane_group):
                          // ResNeXt's 4, 8 and 16 per group (16: the GEMM), strided, and RegNet's 8 with
                          // channels past the last whole vector (40 = 16 + 16 + 8, the last vector from
                          // channel 24).
                          {{1, 10, 9, 64}, {64, 3, 3, 4}, 1, 1, 16},
                          {{2, 11, 10, 64}, {64, 3, 3, 8}, 2, 1, 8},
                          {{1, 7, 7, 96}, {96, 3, 3, 16}, 1, 1, 6},
                          {{1, 9, 13, 40}, {40, 3, 3, 8}, 1, 1, 5},
                          // ResNeXt's 16 and 32 per group on 14x14 and 7x7 (the GEMM on the group's strip of
                          // input rows), 16 in and 24 out, and rows wider than a strip (kStripColumns, 128),
                          // strided.
                          {{1, 6, 7, 64}, {64, 3, 3, 16}, 1, 1, 4},
                          {{2, 5, 7, 64}, {64, 3, 3, 32}, 1, 1, 2},
                          {{1, 5, 9, 48}, {48, 3, 3, 16}, 1, 1, 3},
                          {{1, 4, 290, 32}, {32, 3, 3, 16}, 1, 1, 2},
                          {{1, 5, 301, 32}, {48, 3, 3, 16}, 2, 1, 2},
                          // Channels past the last whole vector (MobileNetV3's 72 and 120): a last vector
                          // overlapping the one before, depthwise and grouped.
                          {{1, 11, 13, 72}, {72, 3, 3, 1}, 1, 1, 72},
                          {{1, 9, 10, 120}, {120, 5, 5, 1}, 1, 2, 120},
                          {{1, 9, 11, 40}, {40, 3, 3, 4}, 1, 1, 10},
                          // Border pixels in checked blocks of up to four: EfficientNet's 5x5 at 7x7 (an
                          // interior narrower than a block: the whole row checked) and at 14x14 (the last
                          // interior block overlapping), 7x7 kernels, stride 2 with three output pixels.
                          {{1, 7, 7, 48}, {48, 5, 5, 1}, 1, 2, 48},
                          {{1, 14, 14, 40}, {40, 5, 5, 1}, 1, 2, 40},
                          {{1, 5, 17, 33}, {33, 7, 7, 1}, 1, 3, 33},
                          {{1, 6, 6, 32}, {32, 3, 3, 1}, 2, 1, 32},
                          {{1, 9, 15, 24}, {24, 3, 3, 1}, 2, 1, 24},
                          // Depthwise rows whose interior holds two or more blocks of eight (AVX-512's wide
                          // interior blocks): 18 and 19 interior pixels (an overlapping last block), two
                          // vectors and a partial one, 5x5, stride 2, and a channel multiplier.
                          {{1, 4, 20, 16}, {16, 3, 3, 1}, 1, 1, 16},
                          {{2, 3, 21, 40}, {40, 3, 3, 1}, 1, 1, 40},
                          {{1, 5, 37, 72}, {72, 5, 5, 1}, 1, 2, 72},
                          {{1, 5, 41, 24}, {24, 3, 3, 1}, 2, 1, 24},
                          {{1, 3, 33, 8}, {16, 3, 3, 1}, 1, 1, 8}};
  for (const Layer& l : layers) {
    ConvCase c;
    c.input = l.input, c.weights = l.weights;
    c.params.stride_h = c.params.stride_w = l.stride;
    c.params.pad = {l.pad, l.pad, l.pad, l.pad};
    c.params.groups = l.groups;
    for (int variant = 0; variant < 2; ++variant) {
      c.bias = variant == 0;
      c.clamp = variant == 0 ? FloatClamp{} : FloatClamp{0.0f, 6.0f};
      SCOPED_TRACE(describe(c));
      check_conv(GetParam(), c, random_data(rng, c, false, c.weights[0]));
    }
  }
  // Depthwise with horizontal dilation and uneven padding (DeepLab's atrous depthwise layers): border
  // blocks whose taps leave the image on one side only, and interiors of several widths.
  for (const int64_t width : {5, 9, 19}) {
    ConvCase c;
    c.input = {1, 7, width, 35};
    c.weights = {35, 3, 3, 1};
    c.params.dilation_h = 2, c.params.dilation_w = 3;
    c.params.pad = {2, 1, 3, 2};  // top, left, bottom, right
    c.params.groups = 35;
    c.bias = true;
    SCOPED_TRACE(describe(c));
    check_conv(GetParam(), c, random_data(rng, c, false, c.weights[0]));
  }
  // The same on grouped layers' strips of input rows: taps 2 and 3 pixels apart, rows narrower and wider
  // than a strip.
  for (const int64_t width : {6, 150}) {
    for (const int64_t dilation_w : {2, 3}) {
      ConvCase c;
      c.input = {1, 7, width, 32};
      c.weights = {40, 3, 3, 16};
      c.params.dilation_h = 2, c.params.dilation_w = dilation_w;
      c.params.stride_w = width == 150 ? 2 : 1;
      c.params.pad = {2, 1, 3, 2};
      c.params.groups = 2;
      c.bias = true;
      SCOPED_TRACE(describe(c));
      check_conv(GetParam(), c, random_data(rng, c, false, c.weights[0]));
    }
  }
}

// Floats per vector of the float kernels of `isa`.
int64_t vector_floats(Isa isa) {
  switch (vector_isa(isa)) {
    case Isa::avx512vnni:
      return 16;
    case Isa::avx2:
      return 8;
    case Isa::neon:
    case Isa::neon_dotprod:
    case Isa::neon_i8mm:
      return 4;
    default:
      return 1;
  }
}

// Groups of as many input as output channels, 2 to 16 (ResNeXt's and RegNet's), which run on the
// depthwise kernel without an expanded input where the group size divides the ISA's vector width
// (FloatDepthwiseRow::lane_group): group sizes up to and past the width, channel counts below a vector and
// past the last whole one (a last vector overlapping the one before), every pixel count of a block (rows of
// 1 to 13 pixels), strides, dilations and padding wider than the kernel, batches of 2, specials.
TEST_P(FloatConvFast, GroupsOfEqualWidthMatchTheReference) {
  test::Random rng(808);
  const int64_t sizes[] = {2, 4, 8, 16};
  for (int round = 0; round < test::random_trials(160); ++round) {
    ConvCase c;
    auto& p = c.params;
    const int64_t g = sizes[round % 4];
    p.groups = round % 7 == 6 ? rng.integer(2, 3) : rng.integer(2, 64 / g + 3);
    const int64_t kh = rng.integer(1, 4), kw = rng.integer(1, 4);
    p.stride_h = rng.integer(1, 2), p.stride_w = rng.integer(1, 3);
    p.dilation_h = rng.integer(1, 5) == 5 ? 2 : 1, p.dilation_w = rng.integer(1, 5) == 5 ? 3 : 1;
    p.pad = {rng.integer(0, kh), rng.integer(0, kw), rng.integer(0, kh), rng.integer(0, kw)};
    const int64_t extent_h = p.dilation_h * (kh - 1) + 1, extent_w = p.dilation_w * (kw - 1) + 1;
    const int64_t ih = std::max(rng.integer(1, 9), extent_h - p.pad.top - p.pad.bottom);
    const int64_t iw = std::max(rng.integer(1, 26), extent_w - p.pad.left - p.pad.right);
    c.input = {rng.integer(1, 4) == 4 ? 2 : 1, ih, iw, p.groups * g};
    c.weights = {p.groups * g, kh, kw, g};
    c.bias = rng.coin();
    c.clamp = random_clamp(rng);
    const bool specials = round % 5 == 4;
    SCOPED_TRACE("round " + std::to_string(round) + ": " + describe(c) + (specials ? " specials" : ""));
    const ConvData d = random_data(rng, c, specials, c.weights[0]);
    const auto conv = conv::prepare_float_conv2d(GetParam(), d.weights.data(), c.weights, d.bias_or_null(),
                                                 c.params, c.clamp);
    // The layers the path is for take it: groups narrower than the vector, which they divide, and at least
    // one vector of channels.
    const int64_t lanes = vector_floats(GetParam());
    EXPECT_EQ(conv::lane_group_of(*conv), g < lanes && p.groups * g >= lanes ? g : 0);
    expect_runs_as(*conv, c.input, d.input.data(), reference_conv(c, d));
  }
}

TEST_P(FloatConvFast, MinusZeroBiasAndInfiniteWeightsAtThePadding) {
  // The edge semantics of the definition survive the fast paths: -0 biases, zero weights and infinite
  // weights on padding taps (im2col zeros, the depthwise kernel's zero vector).
  test::Random rng(707);
  // Depthwise widths 6, 4 and 3: border blocks of one pixel beside interior blocks, and rows too narrow
  // for an interior block, checked in blocks of four and of three.
  // Then groups of 4 and of 8 on their input (lane_group), 32 channels, a row of 6 pixels: blocks of four
  // and of two.
  struct Layer {
    int64_t groups, width, cin, cout, cin_per_group;
  };
  for (const Layer& l : {Layer{1, 6, 5, 21, 5}, Layer{19, 6, 19, 19, 1}, Layer{19, 4, 19, 19, 1},
                         Layer{19, 3, 19, 19, 1}, Layer{8, 6, 32, 32, 4}, Layer{4, 6, 32, 32, 8}}) {
    ConvCase c;
    c.input = {1, 5, l.width, l.cin};
    c.weights = {l.cout, 3, 3, l.cin_per_group};
    c.params.pad = {1, 1, 1, 1};
    c.params.groups = l.groups;
    c.bias = true;
    ConvData d = random_data(rng, c, false, c.weights[0]);
    for (auto& b : d.bias)
      b = -0.0f;
    for (size_t i = 0; i < d.weights.size(); ++i)
      d.weights[i] = i % 9 == 0 ? kInf : (i % 3 == 0 ? -0.0f : 0.0f);
    SCOPED_TRACE(describe(c));
    check_conv(GetParam(), c, d);
  }
}

TEST_P(FloatConvFast, TransposedConvolutionsMatchTheReference) {
  test::Random rng(808);
  for (int round = 0; round < test::random_trials(120); ++round) {
    const TransposedCase c = random_transposed(rng, round % 3 == 0 ? 14 : 7);
    const bool specials = round % 4 == 3;
    SCOPED_TRACE("round " + std::to_string(round) + ": " + describe(c) + (specials ? " specials" : ""));
    const ConvData d{random_values(rng, element_count(c.input, "t"), specials),
                     random_values(rng, element_count(c.weights, "t"), specials),
                     c.bias ? random_values(rng, c.weights[0], specials) : std::vector<float>{}};
    const auto conv = conv::prepare_float_conv_transpose2d(GetParam(), d.weights.data(), c.weights,
                                                           d.bias_or_null(), c.params, c.clamp);
    expect_runs_as(*conv, c.input, d.input.data(), reference_transposed(c, d));
  }
}

TEST_P(FloatConvFast, TransposedSkipsTapsOutsideTheInput) {
  // -0 biases and infinite weights: a fast path that multiplied absent taps by 0 would differ.
  test::Random rng(909);
  TransposedCase c;
  c.input = {1, 4, 5, 6};
  c.weights = {20, 3, 3, 6};
  c.params.stride_h = c.params.stride_w = 2;
  c.params.pad = {1, 0, 0, 1};
  c.params.output_padding_h = 1;
  c.bias = true;
  ConvData d{random_values(rng, element_count(c.input, "t")),
             random_values(rng, element_count(c.weights, "t")), std::vector<float>(20, -0.0f)};
  for (size_t i = 0; i < d.weights.size(); i += 7)
    d.weights[i] = kInf;
  const std::vector<float> want = reference_transposed(c, d);
  const auto conv = conv::prepare_float_conv_transpose2d(GetParam(), d.weights.data(), c.weights,
                                                         d.bias.data(), c.params, c.clamp);
  std::vector<float> got(want.size());
  conv::run(*conv, d.input.data(), 1, 4, 5, got.data());
  expect_identical(got, want);
}

TEST_P(FloatConvFast, FusedActivationsEqualTheConvolutionThenTheOperator) {
  // A unary operator fused into the convolution (applied to each block of the output as it is written):
  // the bits of the reference convolution followed by the reference operator, for every kind of layer,
  // the GEMM's panel splits and the transposed kernel's row tasks included.
  test::Random rng(1111);
  const UnaryParams activations[] = {{UnaryOp::silu},       {UnaryOp::sigmoid}, {UnaryOp::leaky_relu, 0.1f},
                                     {UnaryOp::hard_swish}, {UnaryOp::tanh},    {UnaryOp::gelu}};
  auto then_activation = [](std::vector<float> v, const UnaryParams& a) {
    ref::float_unary(a, v.data(), v.data(), static_cast<int64_t>(v.size()));
    return v;
  };
  for (int round = 0; round < test::random_trials(60); ++round) {
    const UnaryParams& activation = activations[round % 6];
    const ConvCase c = fused_epilogue_case(rng, round);
    SCOPED_TRACE("round " + std::to_string(round) + ": " + describe(c) + " then " +
                 std::string(name_of(activation.op)));
    const ConvData d = random_data(rng, c, round % 4 == 3, c.weights[0]);
    const auto conv = conv::prepare_float_conv2d(GetParam(), d.weights.data(), c.weights, d.bias_or_null(),
                                                 c.params, c.clamp, activation);
    expect_runs_as(*conv, c.input, d.input.data(), then_activation(reference_conv(c, d), activation));
  }
  for (int round = 0; round < 24; ++round) {
    const UnaryParams& activation = activations[round % 6];
    const TransposedCase c = random_transposed(rng, round % 3 == 0 ? 14 : 7);
    SCOPED_TRACE("transposed round " + std::to_string(round) + ": " + describe(c) + " then " +
                 std::string(name_of(activation.op)));
    const ConvData d{random_values(rng, element_count(c.input, "t")),
                     random_values(rng, element_count(c.weights, "t")),
                     c.bias ? random_values(rng, c.weights[0]) : std::vector<float>{}};
    const auto conv = conv::prepare_float_conv_transpose2d(GetParam(), d.weights.data(), c.weights,
                                                           d.bias_or_null(), c.params, c.clamp, activation);
    expect_runs_as(*conv, c.input, d.input.data(), then_activation(reference_transposed(c, d), activation));
  }
}

// A fused residual Add's reference: the convolution's sum (clamped by nothing), plus a random residual's
// element, then the clamp, each rounding as the separate operators round. Returns {want, residual}.
std::pair<std::vector<float>, std::vector<float>> then_residual(test::Random& rng, const ConvCase& c,
                                                                const ConvData& d, bool specials) {
  ConvCase unclamped = c;
  unclamped.clamp = {};
  std::vector<float> want = reference_conv(unclamped, d);
  std::vector<float> residual = random_values(rng, static_cast<int64_t>(want.size()), specials);
  for (size_t i = 0; i < want.size(); ++i)
    want[i] = c.clamp.apply(want[i] + residual[i]);
  return {std::move(want), std::move(residual)};
}

TEST_P(FloatConvFast, FusedResidualAddsEqualTheConvolutionThenTheAdd) {
  // A residual connection's Add fused in: the convolution's sum (clamped by nothing), plus the residual's
  // element, then the clamp and the activation, each rounding as the separate operators round.
  test::Random rng(1212);
  const UnaryParams activations[] = {{}, {UnaryOp::silu}, {UnaryOp::relu}, {UnaryOp::tanh}};
  for (int round = 0; round < test::random_trials(60); ++round) {
    const UnaryParams& activation = activations[round % 4];
    const ConvCase c = fused_epilogue_case(rng, round);
    const bool specials = round % 4 == 3;
    SCOPED_TRACE("round " + std::to_string(round) + ": " + describe(c) + " then add, " +
                 std::string(name_of(activation.op)) + (specials ? " specials" : ""));
    const ConvData d = random_data(rng, c, specials, c.weights[0]);
    auto [want, residual] = then_residual(rng, c, d, specials);
    ref::float_unary(activation, want.data(), want.data(), static_cast<int64_t>(want.size()));
    const auto conv = conv::prepare_float_conv2d(GetParam(), d.weights.data(), c.weights, d.bias_or_null(),
                                                 c.params, c.clamp, activation, true);
    expect_runs_as(*conv, c.input, d.input.data(), want, residual.data());
    if (round == 0) {  // the residual is given exactly when the convolution was prepared for one
      std::vector<float> out(want.size());
      EXPECT_THROW(conv::run(*conv, d.input.data(), c.input[0], c.input[1], c.input[2], out.data()), Error);
      const auto plain = conv::prepare_float_conv2d(GetParam(), d.weights.data(), c.weights, d.bias_or_null(),
                                                    c.params, c.clamp);
      EXPECT_THROW(
          conv::run(*plain, d.input.data(), c.input[0], c.input[1], c.input[2], out.data(), residual.data()),
          Error);
    }
  }
}

TEST_P(FloatConvFast, SumsBlockedOverKMatchTheReference) {
  // K long enough that gemm::float_gemm_panels multiplies it in blocks (a panel of B over 256 KiB: K beyond
  // 1024 on AVX-512's 64-column panels, 4096 on 16-column ones, 8192 on the scalar 8-column ones). Each
  // output's fma chain goes on through the sums stored between blocks, so the bytes are the reference's:
  // a block boundary inside a run of K and between runs (a transposed convolution's taps), partial last
  // vectors, specials, and the residual, clamp and addend applied once, after the last block.
  test::Random rng(1313);
  for (const int64_t cin : {130, 470, 1000}) {  // K = 9 x cin: 1170, 4230, 9000
    for (int variant = 0; variant < 2; ++variant) {
      const bool specials = variant == 1;
      ConvCase c;
      c.input = {variant == 0 ? 1 : 2, 6, 5, cin};
      c.weights = {70, 3, 3, cin};
      c.params.pad = {1, 1, 1, 1};
      c.params.stride_w = variant == 0 ? 1 : 2;
      c.bias = true;
      c.clamp = variant == 0 ? FloatClamp{} : FloatClamp{0.0f, 6.0f};
      SCOPED_TRACE(describe(c) + (specials ? " specials" : ""));
      const ConvData d = random_data(rng, c, specials, c.weights[0]);
      check_conv(GetParam(), c, d);
      // With a residual added after the sums, then the clamp.
      const auto [want, residual] = then_residual(rng, c, d, specials);
      const auto conv = conv::prepare_float_conv2d(GetParam(), d.weights.data(), c.weights, d.bias_or_null(),
                                                   c.params, c.clamp, {}, true);
      SCOPED_TRACE("residual");
      expect_runs_as(*conv, c.input, d.input.data(), want, residual.data());
    }
  }
  // 8 output channels, K = 9000: on AVX-512 the narrow groups' AVX2 microkernel (narrow_gemm_isa), blocked.
  {
    ConvCase c;
    c.input = {1, 4, 5, 1000};
    c.weights = {8, 3, 3, 1000};
    c.params.pad = {1, 1, 1, 1};
    c.bias = true;
    SCOPED_TRACE(describe(c));
    check_conv(GetParam(), c, random_data(rng, c, true, c.weights[0]));
  }
  // A transposed convolution, 4x4 stride 2: every output takes 4 taps that are not contiguous rows of B,
  // 4 runs of K, which the blocks cut inside and between.
  for (const int64_t cin : {300, 2100}) {  // K = 4 x cin: 1200, 8400
    TransposedCase c;
    c.input = {1, 3, 4, cin};
    c.weights = {66, 4, 4, cin};
    c.params.stride_h = c.params.stride_w = 2;
    c.params.pad = {1, 1, 1, 1};
    c.bias = true;
    c.clamp = {-0.25f, 0.5f};
    SCOPED_TRACE(describe(c));
    const ConvData d{random_values(rng, element_count(c.input, "t")),
                     random_values(rng, element_count(c.weights, "t")), random_values(rng, c.weights[0])};
    const auto conv = conv::prepare_float_conv_transpose2d(GetParam(), d.weights.data(), c.weights,
                                                           d.bias_or_null(), c.params, c.clamp);
    expect_runs_as(*conv, c.input, d.input.data(), reference_transposed(c, d));
  }
  // The packed GEMM (fully connected layers), with an addend after the sums.
  for (const int64_t k : {1100, 4200, 8300}) {
    const int64_t rows = 13, n = 70;
    SCOPED_TRACE("gemm k " + std::to_string(k));
    const auto a = random_values(rng, rows * k, true), b = random_values(rng, k * n, true);
    const auto bias = random_values(rng, n), addend = random_values(rng, n);
    std::vector<float> b_nk(b.size());
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t j = 0; j < n; ++j)
        b_nk[static_cast<size_t>(j * k + kk)] = b[static_cast<size_t>(kk * n + j)];
    std::vector<float> want(static_cast<size_t>(rows * n));
    ref::float_conv2d(a.data(), {1, 1, rows, k}, b_nk.data(), {n, 1, 1, k}, bias.data(), {}, {}, want.data());
    for (size_t i = 0; i < want.size(); ++i)
      want[i] = ref::binary_value(BinaryOp::add, want[i], addend[i % static_cast<size_t>(n)]);
    const gemm::PackedFloatB packed = gemm::pack_float_b(GetParam(), b.data(), k, n, false);
    for (int threads : {1, 3}) {
      std::vector<float> got(want.size(), 777.0f);
      with_threads(threads, [&] {
        gemm::float_gemm(a.data(), rows, k, packed, bias.data(), {}, got.data(), n, addend.data());
      });
      SCOPED_TRACE(std::to_string(threads) + " threads");
      expect_identical(got, want);
    }
  }
}

TEST_P(FloatConvFast, GemmMatchesTheReference) {
  test::Random rng(1001);
  for (int round = 0; round < test::random_trials(60); ++round) {
    const int64_t rows = round % 5 == 0 ? rng.integer(90, 230) : rng.integer(0, 20);
    const int64_t k = rng.integer(0, 70), n = round % 3 == 0 ? rng.integer(60, 150) : rng.integer(1, 40);
    const int64_t lda = k + rng.integer(0, 3), ldo = n + rng.integer(0, 5);
    const bool transposed = rng.coin(), with_bias = rng.coin(), specials = round % 4 == 3;
    // An addend (a MatMul's bias Add taken in, added after the sums), in every third round, without a clamp:
    // the reference adds it to the finished sums as the Add does.
    const bool with_addend = round % 3 == 1;
    const FloatClamp clamp = with_addend ? FloatClamp{} : random_clamp(rng);
    SCOPED_TRACE("round " + std::to_string(round) + ": rows " + std::to_string(rows) + " k " +
                 std::to_string(k) + " n " + std::to_string(n) + (with_addend ? " addend" : ""));
    const auto a = random_values(rng, std::max<int64_t>(1, rows * lda), specials);
    const auto b = random_values(rng, k * n, specials), bias = random_values(rng, n, specials);
    // The reference: B as [K, N] (transposing the [N, K] operand first), bias as a broadcast C.
    std::vector<float> b_kn(b.size()), a_rows(static_cast<size_t>(rows * k));
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t j = 0; j < n; ++j)
        b_kn[static_cast<size_t>(kk * n + j)] =
            transposed ? b[static_cast<size_t>(j * k + kk)] : b[static_cast<size_t>(kk * n + j)];
    for (int64_t r = 0; r < rows; ++r)
      std::copy_n(a.begin() + r * lda, k, a_rows.begin() + r * k);
    // The references: without a bias, Gemm's; with one, a 1x1 convolution (acc starts at the bias) of the
    // rows as pixels, with B as [N, K] weights.
    std::vector<float> want(static_cast<size_t>(rows * n));
    if (!with_bias) {
      ref::float_gemm(a_rows.data(), rows, k, false, b_kn.data(), n, false, nullptr, {}, 1.0f, 1.0f, clamp,
                      want.data());
    } else if (rows > 0) {
      std::vector<float> b_nk(b.size());
      for (int64_t kk = 0; kk < k; ++kk)
        for (int64_t j = 0; j < n; ++j)
          b_nk[static_cast<size_t>(j * k + kk)] = b_kn[static_cast<size_t>(kk * n + j)];
      ref::float_conv2d(a_rows.data(), {1, 1, rows, k}, b_nk.data(), {n, 1, 1, k}, bias.data(), {}, clamp,
                        want.data());
    }
    const auto addend = random_values(rng, n, specials);
    if (with_addend)
      for (size_t i = 0; i < want.size(); ++i)
        want[i] = ref::binary_value(BinaryOp::add, want[i], addend[i % static_cast<size_t>(n)]);
    const gemm::PackedFloatB packed = gemm::pack_float_b(GetParam(), b.data(), k, n, transposed);
    for (int threads : {1, 3}) {
      std::vector<float> out(static_cast<size_t>(std::max<int64_t>(1, rows * ldo)), 777.0f);
      with_threads(threads, [&] {
        gemm::float_gemm(a.data(), rows, lda, packed, with_bias ? bias.data() : nullptr, clamp, out.data(),
                         ldo, with_addend ? addend.data() : nullptr);
      });
      std::vector<float> got(want.size());
      for (int64_t r = 0; r < rows; ++r) {
        std::copy_n(out.begin() + r * ldo, n, got.begin() + r * n);
        for (int64_t j = n; j < ldo; ++j)  // the row padding is not written
          ASSERT_EQ(out[static_cast<size_t>(r * ldo + j)], 777.0f);
      }
      SCOPED_TRACE(std::to_string(threads) + " threads");
      expect_identical(got, want);
    }
  }
}

TEST_P(FloatConvFast, MatmulMatchesTheReference) {
  test::Random rng(1102);
  const std::pair<Shape, Shape> cases[] = {
      {{2, 1, 3, 4}, {5, 4, 2}},    {{3, 4}, {2, 4, 6}},      {{2, 3, 4}, {4, 5}},     {{1, 7, 9}, {3, 9, 1}},
      {{200, 37}, {37, 70}},        {{3, 100, 19}, {19, 33}}, {{5, 17}, {2, 17, 130}}, {{1, 64}, {64, 1000}},
      {{4, 1, 2, 5}, {1, 3, 5, 3}}, {{2, 0, 4}, {4, 3}},      {{2, 3, 0}, {0, 5}},     {{9, 8}, {8, 16}}};
  for (const auto& [sa, sb] : cases)
    for (bool specials : {false, true}) {
      SCOPED_TRACE(to_string(sa) + " x " + to_string(sb) + (specials ? " specials" : ""));
      const Shape so = ref::float_matmul_shape(sa, sb);
      const auto a = random_values(rng, element_count(sa, "t"), specials);
      const auto b = random_values(rng, element_count(sb, "t"), specials);
      std::vector<float> want(static_cast<size_t>(element_count(so, "t")));
      ref::float_matmul(a.data(), sa, b.data(), sb, want.data());
      for (int threads : {1, 3}) {
        SCOPED_TRACE(std::to_string(threads) + " threads");
        std::vector<float> got(want.size(), 12345.0f);
        // (Structured bindings are not captured by lambdas in clang 14: the shapes by name.)
        const Shape &shape_a = sa, &shape_b = sb;
        with_threads(threads, [&] {
          gemm::float_matmul(GetParam(), a.data(), shape_a, b.data(), shape_b, got.data());
        });
        expect_identical(got, want);
      }
    }
}

TEST_P(FloatConvFast, RejectsBadParameters) {
  const std::vector<float> w(64);
  ref::Conv2dParams p;
  p.groups = 3;
  EXPECT_THROW(conv::prepare_float_conv2d(GetParam(), w.data(), {4, 1, 1, 1}, nullptr, p, {}), Error);
  EXPECT_THROW(conv::prepare_float_conv2d(GetParam(), w.data(), {4, 0, 1, 1}, nullptr, {}, {}), Error);
  EXPECT_THROW(conv::prepare_float_conv2d(GetParam(), w.data(), {4, 1, 1}, nullptr, {}, {}), Error);
  ref::Conv2dParams bad;
  bad.dilation_w = 0;
  EXPECT_THROW(conv::prepare_float_conv2d(GetParam(), w.data(), {4, 1, 1, 1}, nullptr, bad, {}), Error);
  const auto conv = conv::prepare_float_conv2d(GetParam(), w.data(), {2, 3, 3, 2}, nullptr, {}, {});
  std::vector<float> out(64);
  EXPECT_THROW(conv::run(*conv, w.data(), 1, 2, 2, out.data()), Error);  // input smaller than the kernel
  EXPECT_THROW(conv::run(*conv, w.data(), -1, 4, 4, out.data()), Error);
  conv::run(*conv, nullptr, 0, 4, 4, nullptr);  // an empty batch: nothing to do
  EXPECT_THROW(gemm::pack_float_b(GetParam(), w.data(), -1, 4, false), Error);
  const gemm::PackedFloatB packed = gemm::pack_float_b(GetParam(), w.data(), 4, 4, false);
  EXPECT_THROW(gemm::float_gemm(w.data(), 2, 3, packed, nullptr, {}, out.data(), 4), Error);  // lda < K
  EXPECT_THROW(gemm::float_matmul(GetParam(), w.data(), {2, 3}, w.data(), {4, 2}, out.data()), Error);
  ref::ConvTranspose2dParams tp;
  tp.groups = 2;
  EXPECT_THROW(conv::prepare_float_conv_transpose2d(GetParam(), w.data(), {3, 1, 1, 2}, nullptr, tp, {}),
               Error);
}

INSTANTIATE_TEST_SUITE_P(Isas, FloatConvFast, ::testing::ValuesIn(test::float_kernel_isas()),
                         [](const auto& info) { return std::string(name_of(info.param)); });

}  // namespace
}  // namespace octet
