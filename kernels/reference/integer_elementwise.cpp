#include "kernels/reference/integer_elementwise.h"

#include <algorithm>
#include <limits>
#include <string>

#include "kernels/error.h"
#include "kernels/reference/broadcast.h"

namespace octet::ref {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

int64_t wrap(uint64_t v) {
  return static_cast<int64_t>(v);  // two's complement since C++20
}

// a / b and a % b (C's, truncated) for b != 0, without the overflow of INT64_MIN / -1.
int64_t quotient(int64_t a, int64_t b) {
  return a == kMin && b == -1 ? kMin : a / b;
}
int64_t remainder(int64_t a, int64_t b) {
  return b == -1 ? 0 : a % b;
}

int64_t value(BinaryOp op, int64_t a, int64_t b) {
  switch (op) {
    case BinaryOp::add:
      return wrap(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
    case BinaryOp::sub:
      return wrap(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
    case BinaryOp::mul:
      return wrap(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
    case BinaryOp::div:
      return quotient(a, b);
    case BinaryOp::fmod:
      return remainder(a, b);
    case BinaryOp::mod: {
      const int64_t r = remainder(a, b);
      return r != 0 && ((r < 0) != (b < 0)) ? r + b : r;  // |r| < |b| and opposite signs: no overflow
    }
    case BinaryOp::min:
      return std::min(a, b);
    case BinaryOp::max:
      return std::max(a, b);
    case BinaryOp::equal:
      return a == b;
    case BinaryOp::less:
      return a < b;
    case BinaryOp::less_equal:
      return a <= b;
    case BinaryOp::greater:
      return a > b;
    case BinaryOp::greater_equal:
      return a >= b;
    default:
      break;
  }
  throw Error("int64 " + std::string(name_of(op)) + ": not an integer operator");
}

}  // namespace

bool int64_computes(BinaryOp op) {
  switch (op) {
    case BinaryOp::add:
    case BinaryOp::sub:
    case BinaryOp::mul:
    case BinaryOp::div:
    case BinaryOp::mod:
    case BinaryOp::fmod:
    case BinaryOp::min:
    case BinaryOp::max:
    case BinaryOp::equal:
    case BinaryOp::less:
    case BinaryOp::less_equal:
    case BinaryOp::greater:
    case BinaryOp::greater_equal:
      return true;
    default:
      return false;
  }
}

void int64_binary(BinaryOp op, const int64_t* a, const Shape& sa, const int64_t* b, const Shape& sb,
                  void* out, std::string_view what) {
  const std::string name(what);
  if (!int64_computes(op)) throw Error(name + ": int64 tensors have no " + std::string(name_of(op)));
  if (op == BinaryOp::div || op == BinaryOp::mod || op == BinaryOp::fmod) {
    const int64_t n = element_count(sb, what);
    for (int64_t i = 0; i < n; ++i)
      if (b[i] == 0)
        throw Error(name + ": integer division by zero (element " + std::to_string(i) + " of the divisor)");
  }
  const BroadcastRuns<2> runs(name, broadcast_shape(name, sa, sb), {sa, sb});
  const int64_t inner = runs.inner(), step_a = runs.step(0), step_b = runs.step(1);
  const bool bool_out = produces_bool(op);
  runs.for_runs(0, runs.outer(), [&](int64_t o, const std::array<int64_t, 2>& in) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t v = value(op, a[in[0] + i * step_a], b[in[1] + i * step_b]);
      if (bool_out)
        static_cast<uint8_t*>(out)[o + i] = static_cast<uint8_t>(v);
      else
        static_cast<int64_t*>(out)[o + i] = v;
    }
  });
}

}  // namespace octet::ref
