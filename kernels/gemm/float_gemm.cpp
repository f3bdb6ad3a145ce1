#include "kernels/gemm/float_gemm.h"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <string>

#include "kernels/error.h"
#include "kernels/float_kernels.h"
#include "kernels/gemm/float_gemm_kernel.h"
#include "kernels/gemm/float_gemm_simd.h"
#include "kernels/huge_pages.h"
#include "kernels/parallel.h"
#include "kernels/reference/broadcast.h"

namespace octet::gemm {

void float_gemm_block_scalar(const FloatGemmBlock& block) {
  constexpr FloatTile tile = float_tile(Isa::scalar);
  float_gemm_block_simd<simd::ScalarArch, tile>(block);
}

namespace {

constexpr int64_t round_up(int64_t x, int64_t m) {
  return (x + m - 1) / m * m;
}

// Rows per task in float_gemm: a multiple of every microkernel's row count (6, 4), whose A rows (up to
// 96 x K floats) are read once per panel of B and K block.
constexpr int64_t kRowBlock = 96;

// float_gemm_panels blocks K where a panel of B (K x panel floats) is larger than kPanelBytes: every tile of
// 6 rows would read the whole panel from L3 or memory, where a block of about kKBlock rows of it (256 KiB on
// AVX-512) stays in L2 for all the rows of a task. And while a block multiplies, the microkernel brings the
// B of the next one into L2 (FloatGemmBlock::prefetch): in a whole model the weights come from memory, and
// the first tile of rows would otherwise wait for them. (AMD Zen 5, 1 thread, ResNet-50's last 13
// convolutions, K up to 4608 and 9.4 MB of weights each: 12.3 -> 10.7 ms for the prefetch; its 3x3 from 512
// to 512 channels alone, weights in L3, 1.17 -> 1.10 ms for the blocks and the longer tiles they allow
// (float_conv.cpp's tile_pixels); blocks of 256 or 512 rows were slower than 1024.)
constexpr int64_t kPanelBytes = 256 * 1024;
constexpr int64_t kKBlock = 1024;

// The pieces of the runs that two blocks take (float_gemm_panels), kept between calls. Safe per thread
// because nothing between cutting them and using them yields to oneTBB (a microkernel that ran a nested
// parallel_for could be re-entered by a stolen task here and would need its own pieces).
thread_local std::vector<KRun> block_pieces[2];

// The rows of B a list of runs reads, as one range (a transposed convolution's runs may skip rows).
struct RowRange {
  int64_t first = 0, count = 0;
};
RowRange rows_read(const KRun* runs, int64_t run_count) {
  if (run_count == 0) return {};
  int64_t lo = runs[0].b_row, hi = lo;
  for (const KRun* r = runs; r != runs + run_count; ++r)
    lo = std::min(lo, r->b_row), hi = std::max(hi, r->b_row + r->length);
  return {lo, hi - lo};
}

void check_isa(Isa isa, std::string_view op) {
  if (!cpu_supports(isa))
    throw Error(std::string(op) + ": this CPU cannot run " + std::string(name_of(isa)) + " kernels");
}

}  // namespace

int64_t float_gemm_k_block(Isa isa, int64_t k, int64_t n) {
  const FloatTile tile = float_tile(isa);
  const int64_t width = std::min(tile.panel_width(), round_up(n, tile.vector_width));
  if (k * width * static_cast<int64_t>(sizeof(float)) <= kPanelBytes) return k;
  const int64_t blocks = (k + kKBlock - 1) / kKBlock;
  return (k + blocks - 1) / blocks;
}

void float_gemm_panels(const FloatGemmPanels& job) {
  const PackedFloatB& b = *job.b;
  const FloatTile tile = float_tile(b.isa);
  const int64_t panel = tile.panel_width();
  const auto block_kernel = float_kernels(b.isa).gemm_block;
  int64_t k = 0;
  for (int64_t i = 0; i < job.run_count; ++i)
    k += job.runs[i].length;
  const int64_t per_block = float_gemm_k_block(b.isa, k, b.n);
  const int64_t blocks = per_block >= k ? 1 : (k + per_block - 1) / per_block;
  // Cuts block `block`'s k terms from the runs, from where the last cut ended: in run `run`, after `used`.
  int64_t run = 0, used = 0;
  auto cut = [&](int64_t block, std::vector<KRun>& pieces) {
    pieces.clear();
    for (int64_t left = std::min(per_block, k - block * per_block); left > 0;) {
      const KRun& r = job.runs[run];
      const int64_t take = std::min(left, r.length - used);
      pieces.push_back({r.b_row + used, take, r.a_column + used});
      left -= take;
      used += take;
      if (used == r.length) ++run, used = 0;
    }
  };
  // B's rows `rows` of panel p, where they start and how many floats they span.
  auto panel_rows = [&](int64_t p, RowRange rows) {
    const int64_t ldb = round_up(std::min(panel, b.n - p * panel), tile.vector_width);
    return std::pair{b.data.data() + p * panel * b.k + rows.first * ldb, rows.count * ldb};
  };
  std::vector<KRun>*current = &block_pieces[0], *following = &block_pieces[1];
  if (blocks > 1) cut(0, *current);
  for (int64_t block = 0; block < blocks; ++block) {
    const KRun* runs = blocks > 1 ? current->data() : job.runs;
    const int64_t run_count = blocks > 1 ? static_cast<int64_t>(current->size()) : job.run_count;
    if (block + 1 < blocks) cut(block + 1, *following);
    const RowRange here = rows_read(runs, run_count);
    for (int64_t p = job.p0; p < job.p1; ++p) {
      const int64_t n0 = p * panel, cols = std::min(panel, b.n - n0);
      // The B that the next call reads (the next panel's rows of this block, or the first panel's of the
      // next block), brought into L2 while this one multiplies.
      std::pair<const float*, int64_t> next{nullptr, 0};
      if (p + 1 < job.p1)
        next = panel_rows(p + 1, here);
      else if (block + 1 < blocks)
        next = panel_rows(job.p0, rows_read(following->data(), static_cast<int64_t>(following->size())));
      block_kernel({.a = job.a,
                    .lda = job.lda,
                    .rows = job.rows,
                    .runs = runs,
                    .run_count = run_count,
                    .b = b.data.data() + n0 * b.k,
                    .ldb = round_up(cols, tile.vector_width),
                    .cols = cols,
                    .bias = job.bias ? job.bias + n0 : nullptr,
                    .addend = job.addend ? job.addend + n0 : nullptr,
                    .residual = job.residual ? job.residual + n0 : nullptr,
                    .ldr = job.ldo,
                    .clamp = job.clamp,
                    .out = job.out + n0,
                    .ldo = job.ldo,
                    .resumes = block > 0,
                    .finishes = block == blocks - 1,
                    .prefetch = next.first,
                    .prefetch_floats = next.second});
    }
    std::swap(current, following);
  }
}

PackedFloatB pack_float_b(Isa isa, const float* b, int64_t k, int64_t n, bool transposed) {
  if (k < 0 || n < 0)
    throw Error("float gemm: B must be [K, N] with K, N >= 0, got K = " + std::to_string(k) +
                ", N = " + std::to_string(n));
  check_isa(isa, "float gemm");
  const FloatTile tile = float_tile(isa);
  const int64_t panel = tile.panel_width(), width = tile.vector_width;
  PackedFloatB packed;
  packed.isa = isa;
  packed.k = k;
  packed.n = n;
  // Every panel but the last is full, so panel p starts at p * panel * k = n0 * k.
  const int64_t full = n / panel * panel;
  resize_large(packed.data, static_cast<size_t>(full * k + round_up(n - full, width) * k));
  for (int64_t n0 = 0; n0 < n; n0 += panel) {
    const int64_t cols = std::min(panel, n - n0), stride = round_up(cols, width);
    float* dst = packed.data.data() + n0 * k;
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t j = 0; j < cols; ++j)
        dst[kk * stride + j] = transposed ? b[(n0 + j) * k + kk] : b[kk * n + n0 + j];
  }
  return packed;
}

void float_gemm(const float* a, int64_t rows, int64_t lda, const PackedFloatB& b, const float* bias,
                FloatClamp clamp, float* out, int64_t ldo, const float* addend) {
  if (rows < 0) throw Error("float gemm: negative row count " + std::to_string(rows));
  if (rows > 1 && (lda < b.k || ldo < b.n))
    throw Error("float gemm: row strides lda " + std::to_string(lda) + ", ldo " + std::to_string(ldo) +
                " are shorter than the rows (K " + std::to_string(b.k) + ", N " + std::to_string(b.n) + ")");
  const FloatTile tile = float_tile(b.isa);
  const int64_t panel = tile.panel_width(), width = tile.vector_width;
  if (static_cast<int64_t>(b.data.size()) != b.n / panel * panel * b.k + round_up(b.n % panel, width) * b.k)
    throw Error("float gemm: B was not packed by pack_float_b for " + std::string(name_of(b.isa)));
  if (rows == 0 || b.n == 0) return;
  check_isa(b.isa, "float gemm");
  const KRun run{0, b.k};
  const int64_t row_blocks = (rows + kRowBlock - 1) / kRowBlock, panels = (b.n + panel - 1) / panel;
  const int64_t groups = column_split(row_blocks, panels), per_group = (panels + groups - 1) / groups;
  tbb::parallel_for(int64_t{0}, row_blocks * groups, [&](int64_t task) {
    const int64_t r0 = task / groups * kRowBlock, p0 = task % groups * per_group;
    float_gemm_panels({.b = &b,
                       .p0 = p0,
                       .p1 = std::min(panels, p0 + per_group),
                       .a = a + r0 * lda,
                       .lda = lda,
                       .rows = std::min(kRowBlock, rows - r0),
                       .runs = &run,
                       .run_count = 1,
                       .bias = bias,
                       .addend = addend,
                       .clamp = clamp,
                       .out = out + r0 * ldo,
                       .ldo = ldo});
  });
}

void float_matmul(Isa isa, const float* a, const Shape& sa, const float* b, const Shape& sb, float* out) {
  const Shape so = ref::float_matmul_shape(sa, sb);
  check_isa(isa, "matmul");
  const int64_t m = sa[sa.size() - 2], k = sa[sa.size() - 1], n = sb[sb.size() - 1];
  const Shape batch(so.begin(), so.end() - 2);
  const BroadcastRuns<2> runs("matmul", batch,
                              {Shape(sa.begin(), sa.end() - 2), Shape(sb.begin(), sb.end() - 2)});
  const int64_t batches = runs.outer() * runs.inner();
  if (batches == 0 || m == 0 || n == 0) return;
  if (k == 0) {  // no terms: every accumulator stays 0.0f (and B may be empty, even null)
    std::fill_n(out, batches * m * n, 0.0f);
    return;
  }
  // Each output matrix's operands, in order.
  std::vector<std::array<const float*, 2>> operands;
  operands.reserve(static_cast<size_t>(batches));
  runs.for_runs(0, runs.outer(), [&](int64_t, const std::array<int64_t, 2>& at) {
    for (int64_t i = 0; i < runs.inner(); ++i)
      operands.push_back({a + (at[0] + i * runs.step(0)) * m * k, b + (at[1] + i * runs.step(1)) * k * n});
  });
  // B is read in place (row stride N) for its whole vectors of columns; the last N % W columns, which a
  // vector load would read past, from a zero-padded copy made by the task that needs it.
  const FloatTile tile = float_tile(isa);
  const int64_t panel = tile.panel_width(), width = tile.vector_width;
  const int64_t in_place = n / width * width, rest = n - in_place;
  const int64_t row_blocks = (m + kRowBlock - 1) / kRowBlock, chunks = (n + panel - 1) / panel;
  const int64_t groups = column_split(batches * row_blocks, chunks),
                per_group = (chunks + groups - 1) / groups;
  static tbb::enumerable_thread_specific<std::vector<float>> edge_space;
  const auto block_kernel = float_kernels(isa).gemm_block;
  tbb::parallel_for(int64_t{0}, batches * row_blocks * groups, [&](int64_t task) {
    const int64_t group = task % groups, row_block = task / groups % row_blocks,
                  matrix = task / groups / row_blocks;
    const auto [am, bm] = operands[static_cast<size_t>(matrix)];
    const int64_t r0 = row_block * kRowBlock, c0 = group * per_group * panel;
    // Rounding the groups up can leave the last ones without columns; they must not redo the edge columns,
    // which the group that reaches the end writes.
    if (c0 >= n) return;
    const int64_t c1 = std::min(n, c0 + per_group * panel);
    const KRun run{0, k};
    FloatGemmBlock block{.a = am + r0 * k,
                         .lda = k,
                         .rows = std::min(kRowBlock, m - r0),
                         .runs = &run,
                         .run_count = 1,
                         .b = bm + c0,
                         .ldb = n,
                         .cols = std::min(c1, in_place) - c0,
                         .clamp = {},
                         .out = out + (matrix * m + r0) * n + c0,
                         .ldo = n};
    if (block.cols > 0) block_kernel(block);
    if (c1 == n && rest > 0) {
      std::vector<float>& edge = edge_space.local();
      edge.assign(static_cast<size_t>(k * width), 0.0f);
      for (int64_t kk = 0; kk < k; ++kk)
        std::copy_n(bm + kk * n + in_place, rest, edge.begin() + kk * width);
      block.b = edge.data();
      block.ldb = width;
      block.cols = rest;
      block.out = out + (matrix * m + r0) * n + in_place;
      block_kernel(block);
    }
  });
}

}  // namespace octet::gemm
