// The table-driven add / mul and the channel-vector max pool against the reference operators.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include "kernels/elementwise/binary_table.h"
#include "kernels/elementwise/byte_map.h"
#include "kernels/pooling/max_pool.h"
#include "kernels/reference/elementwise.h"
#include "kernels/reference/pooling.h"
#include "test_util.h"

namespace octet {
namespace {

// map_bytes (VBMI where the CPU has it) against a plain lookup: every length around the 64-byte vector,
// unaligned starts, every byte value, and the bytes around the output left untouched.
TEST(ByteMap, MatchesPlainLookup) {
  test::Random rng(5);
  elementwise::ByteTable table;
  for (auto& v : table)
    v = static_cast<uint8_t>(rng.integer(0, 255));
  for (int64_t n = 0; n <= 300; ++n)
    for (int64_t offset : {0, 1, 7}) {
      std::vector<uint8_t> in(static_cast<size_t>(n + offset)),
          out(static_cast<size_t>(n + offset + 8), 0xA5);
      for (size_t i = 0; i < in.size(); ++i)
        in[i] = static_cast<uint8_t>(n > 255 ? i : rng.integer(0, 255));
      elementwise::map_bytes(table, in.data() + offset, out.data() + offset, n);
      for (int64_t i = 0; i < offset; ++i)
        ASSERT_EQ(out[static_cast<size_t>(i)], 0xA5);
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(out[static_cast<size_t>(offset + i)], table[in[static_cast<size_t>(offset + i)]])
            << n << " " << i;
      for (int64_t i = n + offset; i < n + offset + 8; ++i)
        ASSERT_EQ(out[static_cast<size_t>(i)], 0xA5);
    }
}

TEST(ByteMap, RowsMatchPlainLookupAndCopy) {
  test::Random rng(9);
  elementwise::ByteTable table;
  for (auto& v : table)
    v = static_cast<uint8_t>(rng.integer(0, 255));
  for (int trial = 0; trial < 300; ++trial) {
    const int64_t width = rng.integer(1, 150), rows = rng.integer(1, 9);
    const int64_t in_stride = width + rng.integer(0, 5), out_stride = width + rng.integer(0, 70);
    std::vector<uint8_t> in(static_cast<size_t>(rows * in_stride));
    for (auto& v : in)
      v = static_cast<uint8_t>(rng.integer(0, 255));
    std::vector<uint8_t> out(static_cast<size_t>(rows * out_stride), 0x5A), want = out;
    const bool mapped = rng.coin();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < width; ++i) {
        const uint8_t x = in[static_cast<size_t>(r * in_stride + i)];
        want[static_cast<size_t>(r * out_stride + i)] = mapped ? table[x] : x;
      }
    elementwise::map_rows(mapped ? &table : nullptr, in.data(), in_stride, out.data(), out_stride, width,
                          rows);
    ASSERT_EQ(out, want) << "trial " << trial;
  }
}

TEST(BinaryTable, MatchesReferenceWithBroadcasting) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{1, 7, 5, 16}, {1, 7, 5, 16}}, {{2, 4, 3, 8}, {2, 1, 1, 8}},
      {{1, 1, 1, 8}, {3, 4, 5, 8}},   {{6, 5}, {5}},
      {{3, 1, 5}, {1, 4, 1}},         {{1}, {2, 3, 4, 5}}};
  for (uint64_t seed = 0; seed < 60; ++seed)
    for (const auto& [sa, sb] : shapes) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " " + to_string(sa) + " x " + to_string(sb));
      test::Random rng(seed);
      const TensorU8 a = rng.activations(sa, rng.activation_params());
      const TensorU8 b = rng.activations(sb, rng.activation_params());
      const QuantParams out = rng.activation_params();
      const Clamp clamp = rng.coin() ? Clamp{} : Clamp{static_cast<int32_t>(rng.integer(0, 100)), 230};
      const bool add = rng.coin();
      const TensorU8 want = add ? ref::add(a, b, out, clamp) : ref::mul(a, b, out, clamp);
      const auto table = elementwise::make_binary_table(
          add ? elementwise::BinaryOp::add : elementwise::BinaryOp::mul, a.quant, b.quant, out, clamp);
      std::vector<uint8_t> got(want.data.size());
      elementwise::run(table, a.data.data(), a.shape, b.data.data(), b.shape, got.data(), want.shape);
      ASSERT_EQ(got, want.data);
    }
}

TEST(FastMaxPool, MatchesReference) {
  for (uint64_t seed = 0; seed < 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    ref::Pool2dParams p;
    p.kernel_h = rng.integer(1, 4), p.kernel_w = rng.integer(1, 4);
    p.stride_h = rng.integer(1, 3), p.stride_w = rng.integer(1, 3);
    p.dilation_h = rng.integer(1, 2), p.dilation_w = rng.integer(1, 2);
    p.pad = {rng.integer(0, p.kernel_h - 1), rng.integer(0, p.kernel_w - 1), rng.integer(0, p.kernel_h - 1),
             rng.integer(0, p.kernel_w - 1)};
    p.ceil_mode = rng.coin();
    const int64_t ih = rng.integer(p.dilation_h * (p.kernel_h - 1) + 1, 12);
    const int64_t iw = rng.integer(p.dilation_w * (p.kernel_w - 1) + 1, 12);
    const TensorU8 in =
        rng.activations({rng.integer(1, 2), ih, iw, rng.integer(1, 40)}, rng.activation_params());
    const TensorU8 want = ref::max_pool2d(in, p);
    std::vector<uint8_t> got(want.data.size());
    tbb::task_arena arena(static_cast<int>(seed % 2 + 1));
    arena.execute([&] {
      pooling::max_pool2d(in.data.data(), in.dim(0), ih, iw, in.dim(3), p,
                          static_cast<uint8_t>(in.quant.zero_point()), got.data());
    });
    ASSERT_EQ(got, want.data);
  }
}

}  // namespace
}  // namespace octet
