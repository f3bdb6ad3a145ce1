#include "kernels/elementwise/float_elementwise.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <type_traits>

#include "kernels/elementwise/float_elementwise_kernels.h"
#include "kernels/error.h"
#include "kernels/float_kernels.h"
#include "kernels/parallel.h"
#include "kernels/reference/broadcast.h"
#include "kernels/reference/float_elementwise_ops.h"

namespace octet::elementwise {

namespace {

// A fixed-size batch of segments handed to the ISA kernel in one call (runs can be a few elements long).
class SegmentBatch {
 public:
  SegmentBatch(FloatBinaryKernel kernel, ::octet::BinaryOp op, const float* a, int64_t a_step, const float* b,
               int64_t b_step, void* out)
      : kernel_(kernel), op_(op), a_(a), b_(b), a_step_(a_step), b_step_(b_step), out_(out) {}
  SegmentBatch(const SegmentBatch&) = delete;
  SegmentBatch& operator=(const SegmentBatch&) = delete;
  ~SegmentBatch() = default;

  void add(const BinarySegment& segment) {
    segments_[count_++] = segment;
    if (count_ == kCapacity) flush();
  }
  void flush() {
    if (count_ > 0) kernel_(op_, a_, a_step_, b_, b_step_, out_, segments_.data(), count_);
    count_ = 0;
  }

 private:
  static constexpr int64_t kCapacity = 64;
  FloatBinaryKernel kernel_;
  ::octet::BinaryOp op_;
  const float *a_, *b_;
  int64_t a_step_, b_step_;
  void* out_;
  std::array<BinarySegment, kCapacity> segments_{};
  int64_t count_ = 0;
};

// The operators without a vector kernel (mod, fmod, the logical ones): the reference's element definition,
// in parallel.
void scalar_binary(::octet::BinaryOp op, const void* a, const void* b, void* out,
                   const BroadcastRuns<2>& runs) {
  const bool bool_in = takes_bool(op), bool_out = produces_bool(op);
  parallel_ranges(runs.outer() * runs.inner(), kTaskElements, [&](int64_t first, int64_t last) {
    runs.for_range(first, last, [&](int64_t o, const std::array<int64_t, 2>& in, int64_t length) {
      for (int64_t i = 0; i < length; ++i) {
        const int64_t ia = in[0] + i * runs.step(0), ib = in[1] + i * runs.step(1);
        const float va = bool_in ? static_cast<float>(static_cast<const uint8_t*>(a)[ia] != 0)
                                 : static_cast<const float*>(a)[ia];
        const float vb = bool_in ? static_cast<float>(static_cast<const uint8_t*>(b)[ib] != 0)
                                 : static_cast<const float*>(b)[ib];
        const float v = ref::binary_value(op, va, vb);
        if (bool_out)
          static_cast<uint8_t*>(out)[o + i] = v != 0.0f ? 1 : 0;
        else
          static_cast<float*>(out)[o + i] = v;
      }
    });
  });
}

// Where: out = cond ? x : y on `size`-byte elements, whole pieces copied or filled where the condition is
// one value for the piece, else a select per element (a plain loop of fixed-size moves the compiler turns
// into vector blends for the common sizes).
template <size_t kSize>
struct FixedSize {
  static constexpr size_t size(size_t) { return kSize; }
};
struct RuntimeSize {
  static size_t size(size_t runtime) { return runtime; }
};

template <class Size>
void where_piece(const uint8_t* cond, int64_t cond_step, const std::byte* x, int64_t x_step,
                 const std::byte* y, int64_t y_step, std::byte* out, int64_t length, size_t runtime_size) {
  const size_t size = Size::size(runtime_size);
  const auto offset = [size](int64_t elements) { return static_cast<size_t>(elements) * size; };
  if (cond_step == 0) {
    const bool take_x = *cond != 0;
    const std::byte* from = take_x ? x : y;
    if ((take_x ? x_step : y_step) != 0) {
      std::memcpy(out, from, offset(length));
    } else {
      for (int64_t i = 0; i < length; ++i)
        std::memcpy(out + offset(i), from, size);
    }
    return;
  }
  if constexpr (std::is_same_v<Size, RuntimeSize>) {
    for (int64_t i = 0; i < length; ++i)
      std::memcpy(out + offset(i), cond[i] != 0 ? x + offset(i * x_step) : y + offset(i * y_step), size);
  } else {
    for (int64_t i = 0; i < length; ++i) {
      std::byte vx[Size::size(0)], vy[Size::size(0)];
      std::memcpy(vx, x + offset(i * x_step), size);
      std::memcpy(vy, y + offset(i * y_step), size);
      std::memcpy(out + offset(i), cond[i] != 0 ? vx : vy, size);
    }
  }
}

template <class Size>
void where_runs(const uint8_t* cond, const void* x, const void* y, size_t size, void* out,
                const BroadcastRuns<3>& runs) {
  const auto* bx = static_cast<const std::byte*>(x);
  const auto* by = static_cast<const std::byte*>(y);
  auto* bo = static_cast<std::byte*>(out);
  const auto offset = [size](int64_t elements) { return static_cast<size_t>(elements) * size; };
  parallel_ranges(runs.outer() * runs.inner(), kTaskElements, [&](int64_t first, int64_t last) {
    runs.for_range(first, last, [&](int64_t o, const std::array<int64_t, 3>& in, int64_t length) {
      where_piece<Size>(cond + in[0], runs.step(0), bx + offset(in[1]), runs.step(1), by + offset(in[2]),
                        runs.step(2), bo + offset(o), length, size);
    });
  });
}

}  // namespace

void float_unary(Isa isa, const UnaryParams& p, const float* x, float* y, int64_t n) {
  if (n < 0) throw Error("float " + std::string(name_of(p.op)) + ": negative element count");
  const FloatUnaryKernel kernel = float_kernels(isa).unary;
  if (kernel == nullptr) return ref::float_unary(p, x, y, n);
  float_ops::with_unary_op(p, [](const auto&) {});  // rejects an unknown operator before any thread starts
  parallel_ranges(n, kTaskElements,
                  [&](int64_t first, int64_t last) { kernel(p, x + first, y + first, last - first); });
}

void clamp_and_activate(Isa isa, FloatClamp clamp, const UnaryParams& activation, float* y, int64_t n) {
  if (n <= 0) return;
  const FloatUnaryKernel kernel = float_kernels(isa).unary;
  auto unary = [&](const UnaryParams& p) {
    if (kernel == nullptr)
      ref::float_unary(p, y, y, n);
    else
      kernel(p, y, y, n);
  };
  if (!clamp.is_identity()) unary(UnaryParams{UnaryOp::clip, clamp.lo, clamp.hi});
  if (activation.op != UnaryOp::identity) unary(activation);
}

void float_binary(Isa isa, ::octet::BinaryOp op, const void* a, const Shape& sa, const void* b,
                  const Shape& sb, void* out) {
  const FloatBinaryKernel kernel = float_kernels(isa).binary;
  if (kernel == nullptr) return ref::float_binary(op, a, sa, b, sb, out);
  const std::string name = "float " + std::string(name_of(op));
  const BroadcastRuns<2> runs(name, broadcast_shape(name, sa, sb), {sa, sb});
  if (!float_ops::is_arithmetic(op) && !float_ops::is_comparison(op)) {
    ref::binary_value(op, 0.0f, 1.0f);  // rejects an unknown operator before any thread starts
    return scalar_binary(op, a, b, out, runs);
  }
  const auto* fa = static_cast<const float*>(a);
  const auto* fb = static_cast<const float*>(b);
  parallel_ranges(runs.outer() * runs.inner(), kTaskElements, [&](int64_t first, int64_t last) {
    SegmentBatch batch(kernel, op, fa, runs.step(0), fb, runs.step(1), out);
    runs.for_range(first, last, [&](int64_t o, const std::array<int64_t, 2>& in, int64_t length) {
      batch.add({o, in[0], in[1], length});
    });
    batch.flush();
  });
}

void where(Isa isa, const uint8_t* cond, const Shape& sc, const void* x, const Shape& sx, const void* y,
           const Shape& sy, size_t element_size, void* out) {
  if (isa == Isa::scalar) return ref::where(cond, sc, x, sx, y, sy, element_size, out);
  if (element_size == 0) throw Error("where: element size 0");
  const Shape so = broadcast_shape("where", broadcast_shape("where", sc, sx), sy);
  const BroadcastRuns<3> runs("where", so, {sc, sx, sy});
  switch (element_size) {
    case 1:
      return where_runs<FixedSize<1>>(cond, x, y, element_size, out, runs);
    case 2:
      return where_runs<FixedSize<2>>(cond, x, y, element_size, out, runs);
    case 4:
      return where_runs<FixedSize<4>>(cond, x, y, element_size, out, runs);
    case 8:
      return where_runs<FixedSize<8>>(cond, x, y, element_size, out, runs);
    default:
      return where_runs<RuntimeSize>(cond, x, y, element_size, out, runs);
  }
}

}  // namespace octet::elementwise
