// The table-driven add / mul and the channel-vector max pool against the reference operators.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include "kernels/elementwise/binary_table.h"
#include "kernels/elementwise/byte_map.h"
#include "kernels/elementwise/quantized_add.h"
#include "kernels/isa.h"
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
      std::vector<uint8_t> in(static_cast<size_t>(n + offset));
      for (size_t i = 0; i < in.size(); ++i)
        in[i] = static_cast<uint8_t>(n > 255 ? i : rng.integer(0, 255));
      for (const Isa isa : supported_isas()) {
        std::vector<uint8_t> out(static_cast<size_t>(n + offset + 8), 0xA5);
        elementwise::map_bytes(isa, table, in.data() + offset, out.data() + offset, n);
        for (int64_t i = 0; i < offset; ++i)
          ASSERT_EQ(out[static_cast<size_t>(i)], 0xA5);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(out[static_cast<size_t>(offset + i)], table[in[static_cast<size_t>(offset + i)]])
              << n << " " << i << " on " << name_of(isa);
        for (int64_t i = n + offset; i < n + offset + 8; ++i)
          ASSERT_EQ(out[static_cast<size_t>(i)], 0xA5);
      }
    }
}

TEST(ByteMap, RowsMatchPlainLookupAndCopy) {
  test::Random rng(9);
  elementwise::ByteTable table;
  for (auto& v : table)
    v = static_cast<uint8_t>(rng.integer(0, 255));
  for (int trial = 0; trial < test::random_trials(300); ++trial) {
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
    for (const Isa isa : supported_isas()) {
      std::fill(out.begin(), out.end(), uint8_t{0x5A});
      elementwise::map_rows(isa, mapped ? &table : nullptr, in.data(), in_stride, out.data(), out_stride,
                            width, rows);
      ASSERT_EQ(out, want) << "trial " << trial << " on " << name_of(isa);
    }
  }
}

// The vector add against ref::add on every (a, b) byte pair, for scales from equal to 1000x apart, output
// scales giving right shifts from 0 to the kernel's limit, every zero point corner, and clamps.
TEST(QuantizedAdd, EveryPairMatchesReference) {
  if (!cpu_supports(Isa::avx512vnni)) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::vector<uint8_t> a(65536), b(65536);
  for (int i = 0; i < 65536; ++i)
    a[static_cast<size_t>(i)] = static_cast<uint8_t>(i / 256),
    b[static_cast<size_t>(i)] = static_cast<uint8_t>(i % 256);
  int checked = 0;
  for (uint64_t seed = 0; seed < test::random_trials(120); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::Random rng(seed);
    auto params = [&] {
      const auto z = static_cast<int32_t>(seed % 4 == 0 ? (rng.coin() ? 0 : 255) : rng.integer(0, 255));
      return QuantParams::per_tensor(rng.scale(1e-3, 1.0), z);
    };
    const QuantParams pa = params(), pb = seed % 5 == 0 ? pa : params();
    const QuantParams po =
        QuantParams::per_tensor(static_cast<float>(std::max(pa.scale(), pb.scale()) *
                                                   std::exp(rng.real(std::log(0.02), std::log(50.0)))),
                                static_cast<int32_t>(rng.integer(0, 255)));
    const Clamp clamp = rng.coin() ? Clamp{} : Clamp{static_cast<int32_t>(rng.integer(0, 100)), 220};
    const ref::AddConstants k = ref::add_constants(pa, pb, po);
    if (!elementwise::add_rows_supported(Isa::avx512vnni, k)) continue;
    const TensorU8 ta({65536}, a, pa), tb({65536}, b, pb);
    const TensorU8 want = ref::add(ta, tb, po, clamp);
    std::vector<uint8_t> got(65536 + 7);
    // An odd length and offset exercise the masked tail.
    const auto rows = elementwise::make_add_rows(Isa::avx512vnni, k, clamp);
    (*rows)(a.data(), b.data(), got.data(), 65536, elementwise::Repeated::none);
    (*rows)(a.data() + 3, b.data() + 3, got.data() + 65536 - 13 + 7, 13, elementwise::Repeated::none);
    for (size_t i = 0; i < 65536 - 13; ++i)
      ASSERT_EQ(got[i], want.data[i]) << "a=" << int(a[i]) << " b=" << int(b[i]);
    for (size_t i = 0; i < 13; ++i)
      ASSERT_EQ(got[65536 - 13 + 7 + i], want.data[3 + i]);
    ++checked;
  }
  EXPECT_GT(checked, test::random_trials(100));
}

TEST(BinaryTable, MatchesReferenceWithBroadcasting) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{1, 7, 5, 16}, {1, 7, 5, 16}}, {{2, 4, 3, 8}, {2, 1, 1, 8}},
      {{1, 1, 1, 8}, {3, 4, 5, 8}},   {{6, 5}, {5}},
      {{3, 1, 5}, {1, 4, 1}},         {{1}, {2, 3, 4, 5}}};
  for (uint64_t seed = 0; seed < test::random_trials(60); ++seed)
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
  for (uint64_t seed = 0; seed < test::random_trials(300); ++seed) {
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
        rng.activations({rng.integer(1, 2), ih, iw, rng.integer(1, 150)}, rng.activation_params());
    const TensorU8 want = ref::max_pool2d(in, p);
    for (const Isa isa : supported_isas()) {
      std::vector<uint8_t> got(want.data.size());
      tbb::task_arena arena(static_cast<int>(seed % 2 + 1));
      arena.execute([&] {
        pooling::max_pool2d(isa, in.data.data(), in.dim(0), ih, iw, in.dim(3), p,
                            static_cast<uint8_t>(in.quant.zero_point()), got.data());
      });
      ASSERT_EQ(got, want.data) << name_of(isa);
    }
  }
}

// Inputs narrower and shorter than the window, reached only through the padding (each side its own), with
// dilations that can leave a window between two input pixels, both ceil modes, on 1 and 2 threads: the
// pixels whose window lies inside the row take a path of their own, which these have none or few of, and
// windows with no input row or column give the zero point.
TEST(FastMaxPool, InputsSmallerThanTheWindow) {
  test::Random rng(77);
  for (int64_t trial = 0; trial < test::random_trials(3000); ++trial) {
    ref::Pool2dParams p;
    p.kernel_h = rng.integer(1, 4), p.kernel_w = rng.integer(1, 4);
    p.stride_h = rng.integer(1, 3), p.stride_w = rng.integer(1, 3);
    p.dilation_h = rng.integer(1, 3), p.dilation_w = rng.integer(1, 3);
    const int64_t extent_h = p.dilation_h * (p.kernel_h - 1) + 1,
                  extent_w = p.dilation_w * (p.kernel_w - 1) + 1;
    p.pad = {rng.integer(0, extent_h - 1), rng.integer(0, extent_w - 1), rng.integer(0, extent_h - 1),
             rng.integer(0, extent_w - 1)};
    p.ceil_mode = rng.coin();
    const int64_t ih = rng.integer(1, 4), iw = rng.integer(1, 4);
    if (ih + p.pad.top + p.pad.bottom < extent_h || iw + p.pad.left + p.pad.right < extent_w)
      continue;  // no output
    // Around each ISA's vector width: 16 (SSE2, NEON), 32 (AVX2) and 64 bytes (AVX-512).
    const int64_t c =
        std::vector<int64_t>{1, 15, 16, 24, 33, 40, 64, 65, 100}[static_cast<size_t>(rng.integer(0, 8))];
    SCOPED_TRACE("trial " + std::to_string(trial));
    const TensorU8 in = rng.activations({rng.integer(1, 2), ih, iw, c}, rng.activation_params());
    const TensorU8 want = ref::max_pool2d(in, p);
    for (const Isa isa : supported_isas()) {
      std::vector<uint8_t> got(want.data.size());
      tbb::task_arena arena(static_cast<int>(trial % 2 + 1));
      arena.execute([&] {
        pooling::max_pool2d(isa, in.data.data(), in.dim(0), ih, iw, c, p,
                            static_cast<uint8_t>(in.quant.zero_point()), got.data());
      });
      ASSERT_EQ(got, want.data) << name_of(isa);
    }
  }
}

}  // namespace
}  // namespace octet
