#include "kernels/reference/float_normalization.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/error.h"
#include "kernels/reference/float_math.h"
#include "kernels/reference/float_reduce_order.h"

namespace octet::ref {

namespace {

void check_sizes(std::string_view op, std::initializer_list<int64_t> sizes) {
  for (const int64_t size : sizes)
    if (size < 0) throw Error(std::string(op) + ": sizes must be >= 0, got " + std::to_string(size));
}

// The statistics of `count` elements x[i * stride]: the mean and sqrt(var + epsilon).
struct Moments {
  float mean = 0.0f;
  float denominator = 1.0f;
};

Moments moments(const float* x, int64_t count, int64_t stride, float epsilon) {
  Moments m;
  m.mean = ordered_accumulate(Accumulate::sum, x, count, stride) / static_cast<float>(count);
  const float var = ordered_accumulate(Accumulate::centered_square_sum, x, count, stride, m.mean) /
                    static_cast<float>(count);
  m.denominator = std::sqrt(var + epsilon);
  return m;
}

}  // namespace

void float_channel_affine(const float* x, int64_t outer, int64_t channels, int64_t inner, const float* scale,
                          const float* shift, float* y) {
  check_sizes("float_channel_affine", {outer, channels, inner});
  if (scale == nullptr || shift == nullptr) throw Error("float_channel_affine: scale and shift are required");
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t e = (o * channels + c) * inner + i;
        y[e] = std::fma(x[e], scale[c], shift[c]);
      }
}

void float_instance_norm(const float* x, int64_t n, int64_t channels, int64_t spatial, bool channels_last,
                         const float* scale, const float* bias, float epsilon, float* y) {
  check_sizes("float_instance_norm", {n, channels, spatial});
  if (scale == nullptr || bias == nullptr) throw Error("float_instance_norm: scale and bias are required");
  if (spatial == 0) return;
  // Element s of plane (b, c) sits at `plane + s * step`.
  const int64_t step = channels_last ? channels : 1;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t c = 0; c < channels; ++c) {
      const int64_t plane = channels_last ? b * spatial * channels + c : (b * channels + c) * spatial;
      const Moments m = moments(x + plane, spatial, step, epsilon);
      for (int64_t s = 0; s < spatial; ++s) {
        const int64_t e = plane + s * step;
        y[e] = (x[e] - m.mean) / m.denominator * scale[c] + bias[c];
      }
    }
}

void float_layer_norm(const float* x, int64_t outer, int64_t inner, const float* scale, const float* bias,
                      float epsilon, float* y) {
  check_sizes("float_layer_norm", {outer, inner});
  if (scale == nullptr) throw Error("float_layer_norm: scale is required");
  if (inner == 0) return;
  for (int64_t o = 0; o < outer; ++o) {
    const float* row = x + o * inner;
    const Moments m = moments(row, inner, 1, epsilon);
    for (int64_t i = 0; i < inner; ++i) {
      const float normalized = (row[i] - m.mean) / m.denominator * scale[i];
      // Without a bias nothing is added: + 0.0f would turn a -0 result into +0.
      y[o * inner + i] = bias != nullptr ? normalized + bias[i] : normalized;
    }
  }
}

void float_group_norm(const float* x, int64_t n, int64_t channels, int64_t spatial, bool channels_last,
                      int64_t groups, const float* scale, const float* bias, float epsilon, float* y,
                      int64_t item_begin, int64_t item_end) {
  check_sizes("float_group_norm", {n, channels, spatial});
  if (groups < 1 || channels % groups != 0)
    throw Error("float_group_norm: " + std::to_string(groups) + " groups do not divide " +
                std::to_string(channels) + " channels");
  if (scale == nullptr || bias == nullptr) throw Error("float_group_norm: scale and bias are required");
  if (item_end < 0) item_end = n * groups;
  if (item_begin < 0 || item_begin > item_end || item_end > n * groups)
    throw Error("float_group_norm: item range out of bounds");
  const int64_t per_group = channels / groups;
  const int64_t count = per_group * spatial;
  if (count == 0) return;
  // Element (c, s) of image b.
  auto index = [&](int64_t b, int64_t c, int64_t s) {
    return channels_last ? (b * spatial + s) * channels + c : (b * channels + c) * spatial + s;
  };
  for (int64_t item = item_begin; item < item_end; ++item) {
    const int64_t b = item / groups, c0 = (item % groups) * per_group;
    double sum = 0.0;
    for (int64_t c = c0; c < c0 + per_group; ++c)
      for (int64_t s = 0; s < spatial; ++s)
        sum += x[index(b, c, s)];
    const double mean64 = sum / static_cast<double>(count);
    double squares = 0.0;
    for (int64_t c = c0; c < c0 + per_group; ++c)
      for (int64_t s = 0; s < spatial; ++s) {
        const double d = x[index(b, c, s)] - mean64;
        squares += d * d;
      }
    const auto mean = static_cast<float>(mean64);
    const float denominator = std::sqrt(static_cast<float>(squares / static_cast<double>(count)) + epsilon);
    for (int64_t c = c0; c < c0 + per_group; ++c)
      for (int64_t s = 0; s < spatial; ++s) {
        const int64_t e = index(b, c, s);
        y[e] = (x[e] - mean) / denominator * scale[c] + bias[c];
      }
  }
}

void float_lrn(const float* x, int64_t outer, int64_t channels, int64_t inner, const LrnParams& p, float* y,
               int64_t o_begin, int64_t o_end) {
  check_sizes("float_lrn", {outer, channels, inner});
  if (p.size < 1) throw Error("float_lrn: size must be >= 1, got " + std::to_string(p.size));
  if (o_end < 0) o_end = outer;
  if (o_begin < 0 || o_begin > o_end || o_end > outer) throw Error("float_lrn: row range out of bounds");
  const float alpha_over_size = p.alpha / static_cast<float>(p.size);
  const int64_t before = (p.size - 1) / 2, after = p.size / 2;
  // Each element's sum runs over its window in channel order. Channels apart (inner > 1), the window's rows
  // are added a whole row of `inner` elements at a time into `sums`; channel-last (inner == 1), a pixel's
  // window sums are taken first into `sums`, one per channel. Either way the divisions then run over a
  // contiguous row, one loop per power, so that they vectorize (this file is compiled without errno).
  const int64_t row = inner == 1 ? channels : inner;
  std::vector<float> sums(static_cast<size_t>(row)), squares(inner == 1 ? static_cast<size_t>(channels) : 0);
  auto finish = [&](const float* xs, float* ys) {
    auto each = [&](auto power) {
      for (int64_t i = 0; i < row; ++i)
        ys[i] = xs[i] / power(p.bias + alpha_over_size * sums[static_cast<size_t>(i)]);
    };
    if (p.beta == 0.75f)
      each([](float t) {
        const float root = std::sqrt(t);
        return root * std::sqrt(root);
      });
    else if (p.beta == 0.5f)
      each([](float t) { return std::sqrt(t); });
    else if (p.beta == 1.0f)
      each([](float t) { return t; });
    else
      each([&](float t) { return fmath::pow(t, p.beta); });  // octet's own: the same bytes everywhere
  };
  for (int64_t o = o_begin; o < o_end; ++o) {
    if (inner == 1) {
      // The window offsets in ascending order, each over every channel it reaches: channel c receives
      // its terms in the order k = c + offset ascending, as the definition adds them.
      const float* xs = x + o * channels;
      for (int64_t c = 0; c < channels; ++c)
        squares[static_cast<size_t>(c)] = xs[c] * xs[c];
      std::fill(sums.begin(), sums.end(), 0.0f);
      for (int64_t offset = -std::min(before, channels); offset <= std::min(after, channels); ++offset) {
        const int64_t c_begin = std::max<int64_t>(0, -offset), c_end = std::min(channels, channels - offset);
        for (int64_t c = c_begin; c < c_end; ++c)
          sums[static_cast<size_t>(c)] += squares[static_cast<size_t>(c + offset)];
      }
      finish(xs, y + o * channels);
      continue;
    }
    for (int64_t c = 0; c < channels; ++c) {
      const int64_t first = std::max<int64_t>(0, c - before), last = std::min(channels - 1, c + after);
      std::fill(sums.begin(), sums.end(), 0.0f);
      for (int64_t k = first; k <= last; ++k) {
        const float* xk = x + (o * channels + k) * inner;
        for (int64_t i = 0; i < inner; ++i)
          sums[static_cast<size_t>(i)] += xk[i] * xk[i];
      }
      finish(x + (o * channels + c) * inner, y + (o * channels + c) * inner);
    }
  }
}

}  // namespace octet::ref
