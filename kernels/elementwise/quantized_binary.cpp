#include "kernels/elementwise/quantized_binary.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "kernels/elementwise/float_equivalent_add.h"
#include "kernels/elementwise/quantized_add.h"
#include "kernels/elementwise/quantized_mul.h"
#include "kernels/error.h"
#include "kernels/parallel.h"
#include "kernels/reference/elementwise.h"

namespace octet::elementwise {

namespace {

// The table kernel: one lookup per element in the 65536 results of the reference operator.
class TableRows final : public BinaryRows {
 public:
  explicit TableRows(BinaryTable table) : table_(std::move(table)) {}

  void operator()(const uint8_t* a, const uint8_t* b, uint8_t* out, int64_t n,
                  Repeated repeated) const override {
    const uint8_t* t = table_.table.data();
    switch (repeated) {
      case Repeated::none:
        for (int64_t i = 0; i < n; ++i)
          out[i] = t[a[i] * 256 + b[i]];
        return;
      case Repeated::a:
        if (n > 0) {
          const uint8_t* row = t + a[0] * 256;
          for (int64_t i = 0; i < n; ++i)
            out[i] = row[b[i]];
        }
        return;
      case Repeated::b:
        if (n > 0) {
          const uint8_t* column = t + b[0];
          for (int64_t i = 0; i < n; ++i)
            out[i] = column[a[i] * 256];
        }
        return;
    }
  }

 private:
  BinaryTable table_;
};

Shape right_aligned(const Shape& s, size_t rank) {
  Shape aligned(rank - s.size(), 1);
  aligned.insert(aligned.end(), s.begin(), s.end());
  return aligned;
}

void check_params(std::string_view op, const QuantParams& q, const Shape& shape, const std::string& what) {
  validate(q, ElementType::u8, shape, std::string(op) + " " + what);
  if (!q.is_per_tensor()) throw Error(std::string(op) + ": " + what + " must be quantized per tensor");
}

struct ChosenRows {
  std::unique_ptr<const BinaryRows> rows;
  QuantizedBinary::Path path;
};

ChosenRows choose_rows(BinaryOp op, const QuantParams& a, const QuantParams& b, const QuantParams& output,
                       Clamp clamp, Isa isa, RequantMode mode, bool a_first) {
  const std::string name = op == BinaryOp::add ? "add" : "mul";
  check_params(name, a, {}, "input A");
  check_params(name, b, {}, "input B");
  check_params(name, output, {}, "output");
  validate(clamp, name);
  if (isa == Isa::scalar)
    throw Error(name + ": no row kernel for the scalar ISA (the reference runs instead)");
  using Path = QuantizedBinary::Path;
  const auto table = [&] {
    return ChosenRows{
        std::make_unique<const TableRows>(make_binary_table(op, a, b, output, clamp, mode, a_first)),
        Path::table};
  };
  if (mode == RequantMode::float_scale) {
    auto rows = op == BinaryOp::add
                    ? make_float_add_rows(isa, ref::float_add_constants(a, b, output, a_first), clamp)
                    : make_float_mul_rows(isa, ref::float_mul_constants(a, b, output), clamp);
    return rows ? ChosenRows{std::move(rows), Path::vector} : table();
  }
  if (op == BinaryOp::add) {
    // The float mode's kernel where constants exist that make it give the fixed-point bytes on every byte
    // pair (float_equivalent_add.h): about three times faster than the fixed-point steps. The search
    // takes the table where it is the fallback, so that it is built once.
    const ref::AddConstants k = ref::add_constants(a, b, output);
    const bool fused = add_rows_supported(isa, k);
    std::optional<BinaryTable> fallback;
    if (!fused) fallback = make_binary_table(op, a, b, output, clamp);
    const auto f = fused ? float_equivalent_add(a, b, output, clamp, isa)
                         : float_equivalent_add(a, b, output, clamp, isa, fallback->table);
    if (f)
      if (auto rows = make_float_equivalent_add_rows(isa, *f, clamp))
        return {std::move(rows), Path::float_equivalent};
    if (fused) return {make_add_rows(isa, k, clamp), Path::vector};
    return {std::make_unique<const TableRows>(std::move(*fallback)), Path::table};
  } else {
    const ref::MulConstants k = ref::mul_constants(a, b, output);
    if (mul_rows_supported(isa, k)) return {make_mul_rows(isa, k, clamp), Path::vector};
  }
  return table();
}

}  // namespace

std::unique_ptr<const BinaryRows> make_binary_rows(BinaryOp op, const QuantParams& a, const QuantParams& b,
                                                   const QuantParams& output, Clamp clamp, Isa isa,
                                                   RequantMode mode, bool a_first) {
  return choose_rows(op, a, b, output, clamp, isa, mode, a_first).rows;
}

QuantizedBinary::QuantizedBinary(BinaryOp op, const QuantParams& a, const QuantParams& b,
                                 const QuantParams& output, Clamp clamp, const Shape& a_shape,
                                 const Shape& b_shape, const Shape& output_shape, Isa isa, RequantMode mode)
    : op_(op),
      a_params_(a),
      b_params_(b),
      out_params_(output),
      clamp_(clamp),
      mode_(mode),
      a_shape_(a_shape),
      b_shape_(b_shape),
      out_shape_(output_shape) {
  const std::string name = op == BinaryOp::add ? "add" : "mul";
  check_params(name, a, a_shape, "input A");
  check_params(name, b, b_shape, "input B");
  check_params(name, output, {}, "output");
  validate(clamp, name);
  if (broadcast_shape(name, a_shape, b_shape) != output_shape)
    throw Error(name + ": output shape " + to_string(output_shape) + " is not the broadcast of " +
                to_string(a_shape) + " and " + to_string(b_shape));
  total_ = element_count(output_shape, name + " output");
  runs_.emplace(name, output_shape, std::array<Shape, 2>{a_shape, b_shape});
  if (total_ > 0 && runs_->step(0) == 0 && runs_->step(1) == 0)
    throw Error(name + ": internal error: a broadcast run in which no operand advances");

  if (isa == Isa::scalar) return;  // the reference needs no schedule
  ChosenRows chosen =
      choose_rows(op, a, b, output, clamp, isa, mode, ref::float_add_a_first(a_shape, b_shape));
  rows_ = std::move(chosen.rows);
  path_ = chosen.path;

  // Short runs in which both operands advance: find the output's trailing dimensions that make up one run
  // (C elements, a "pixel"), and walk the dimensions before them as runs of pixels. In such a run one operand
  // advances pixel by pixel and the other repeats one row of C values (both advancing would have been one
  // longer run), so the repeating one's offsets, like the advancing one's, are pixel offsets times C.
  const int64_t inner = runs_->inner();
  if (total_ == 0 || runs_->outer() <= 1 || runs_->step(0) != 1 || runs_->step(1) != 1 ||
      inner > kMaxRepeatedRow)
    return;
  const size_t rank = output_shape.size();
  const Shape sa = right_aligned(a_shape, rank), sb = right_aligned(b_shape, rank);
  size_t first = rank;
  for (int64_t product = 1; product != inner;)
    product *= output_shape[--first];
  const auto leading = [first](const Shape& s) {
    return Shape(s.begin(), s.begin() + static_cast<ptrdiff_t>(first));
  };
  BroadcastRuns<2> pixels(name, leading(output_shape), {leading(sa), leading(sb)});
  if (pixels.step(0) + pixels.step(1) != 1) return;
  pixels_.emplace(std::move(pixels));
  row_ = inner;
  advancing_ = pixels_->step(0) == 1 ? 0 : 1;
}

QuantizedBinary::QuantizedBinary(QuantizedBinary&&) noexcept = default;
QuantizedBinary& QuantizedBinary::operator=(QuantizedBinary&&) noexcept = default;
QuantizedBinary::~QuantizedBinary() = default;

void QuantizedBinary::run(const uint8_t* a, const uint8_t* b, uint8_t* out) const {
  if (total_ == 0) return;
  if (!rows_) return run_reference(a, b, out);
  if (pixels_) return run_repeated_rows(a, b, out);
  run_runs(a, b, out);
}

void QuantizedBinary::run_reference(const uint8_t* a, const uint8_t* b, uint8_t* out) const {
  const auto copy = [](const uint8_t* p, const Shape& s, const QuantParams& q) {
    const auto n = static_cast<size_t>(element_count(s, "operand"));
    return TensorU8(s, std::vector<uint8_t>(p, p + n), q);
  };
  const TensorU8 ta = copy(a, a_shape_, a_params_), tb = copy(b, b_shape_, b_params_);
  const TensorU8 result = op_ == BinaryOp::add ? ref::add(ta, tb, out_params_, clamp_, mode_)
                                               : ref::mul(ta, tb, out_params_, clamp_, mode_);
  std::memcpy(out, result.data.data(), result.data.size());
}

void QuantizedBinary::run_runs(const uint8_t* a, const uint8_t* b, uint8_t* out) const {
  const BroadcastRuns<2>& runs = *runs_;
  const Repeated repeated = runs.step(0) == 0   ? Repeated::a
                            : runs.step(1) == 0 ? Repeated::b
                                                : Repeated::none;
  parallel_ranges(total_, kTaskElements, [&](int64_t first, int64_t last) {
    runs.for_range(first, last, [&](int64_t o, const std::array<int64_t, 2>& in, int64_t length) {
      (*rows_)(a + in[0], b + in[1], out + o, length, repeated);
    });
  });
}

void QuantizedBinary::run_repeated_rows(const uint8_t* a, const uint8_t* b, uint8_t* out) const {
  const BroadcastRuns<2>& pixels = *pixels_;
  const int64_t c = row_;
  const size_t repeating = 1 - advancing_;
  const std::array<const uint8_t*, 2> operands{a, b};
  // Pixel offsets: the advancing operand's step is 1, the repeating one's 0.
  parallel_ranges(total_ / c, grain(c), [&](int64_t first, int64_t last) {
    pixels.for_range(first, last, [&](int64_t o, const std::array<int64_t, 2>& in, int64_t length) {
      rows_->against_row(operands[advancing_] + in[advancing_] * c, operands[repeating] + in[repeating] * c,
                         advancing_ == 0, c, length, out + o * c);
    });
  });
}

}  // namespace octet::elementwise
