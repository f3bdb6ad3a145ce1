#include "kernels/elementwise/binary_table.h"

#include <algorithm>

#include "kernels/error.h"
#include "kernels/reference/elementwise.h"

namespace octet::elementwise {

BinaryTable make_binary_table(BinaryOp op, const QuantParams& a, const QuantParams& b,
                              const QuantParams& output, Clamp clamp, RequantMode mode, bool a_first) {
  if (mode == RequantMode::float_scale) {
    // The reference's per-element arithmetic, with the operand order of the real shapes.
    BinaryTable t;
    t.table.resize(256 * 256);
    const ref::FloatAddConstants add = ref::float_add_constants(a, b, output, a_first);
    const ref::FloatMulConstants mul = ref::float_mul_constants(a, b, output);
    for (int32_t x = 0; x < 256; ++x)
      for (int32_t y = 0; y < 256; ++y) {
        const int32_t v =
            op == BinaryOp::add ? ref::float_add_value(add, x, y) : ref::float_mul_value(mul, x, y);
        t.table[static_cast<size_t>(x * 256 + y)] = static_cast<uint8_t>(std::clamp(v, clamp.min, clamp.max));
      }
    return t;
  }
  TensorU8 left({256, 256}, a), right({256, 256}, b);
  for (int i = 0; i < 256 * 256; ++i) {
    left.data[static_cast<size_t>(i)] = static_cast<uint8_t>(i / 256);
    right.data[static_cast<size_t>(i)] = static_cast<uint8_t>(i % 256);
  }
  BinaryTable t;
  t.table =
      (op == BinaryOp::add ? ref::add(left, right, output, clamp) : ref::mul(left, right, output, clamp))
          .data;
  return t;
}

void run(const BinaryTable& t, const uint8_t* a, const Shape& sa, const uint8_t* b, const Shape& sb,
         uint8_t* out, const Shape& so) {
  const uint8_t* table = t.table.data();
  if (sa == so && sb == so) {
    const int64_t n = element_count(so, "binary output");
    for (int64_t i = 0; i < n; ++i)
      out[i] = table[a[i] * 256 + b[i]];
    return;
  }
  if (so.size() > 4) throw Error("binary elementwise kernel: rank above 4");
  // Right-align every shape to rank 4; a broadcast dimension gets stride 0.
  auto dims4 = [](const Shape& s) {
    Shape d(4 - s.size(), 1);
    d.insert(d.end(), s.begin(), s.end());
    return d;
  };
  const Shape da = dims4(sa), db = dims4(sb), d = dims4(so);
  auto strides = [&](const Shape& s) {
    std::vector<int64_t> st(4, 0);
    int64_t stride = 1;
    for (int k = 3; k >= 0; --k) {
      st[static_cast<size_t>(k)] = s[static_cast<size_t>(k)] == 1 ? 0 : stride;
      stride *= s[static_cast<size_t>(k)];
    }
    return st;
  };
  const auto ta = strides(da), tb = strides(db);
  int64_t o = 0;
  for (int64_t i0 = 0; i0 < d[0]; ++i0)
    for (int64_t i1 = 0; i1 < d[1]; ++i1)
      for (int64_t i2 = 0; i2 < d[2]; ++i2) {
        const uint8_t* pa = a + i0 * ta[0] + i1 * ta[1] + i2 * ta[2];
        const uint8_t* pb = b + i0 * tb[0] + i1 * tb[1] + i2 * tb[2];
        for (int64_t i3 = 0; i3 < d[3]; ++i3)
          out[o++] = table[pa[i3 * ta[3]] * 256 + pb[i3 * tb[3]]];
      }
}

}  // namespace octet::elementwise
