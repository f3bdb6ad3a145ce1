#include "kernels/gemm/u8_matmul.h"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "kernels/error.h"
#include "kernels/gemm/amx_gemm.h"
#include "kernels/gemm/pack_layout.h"
#include "kernels/gemm/row_sums.h"

namespace octet::gemm {

namespace {

int64_t max_deviation(const QuantParams& q) {
  const int64_t z = q.zero_point();
  return std::max<int64_t>(z, 255 - z);
}

// Rows of A per task: a few of the GEMM's row blocks, enough tasks for threads when batches are few.
constexpr int64_t kRowTile = 64;

// One k step of one 16-channel block in the int8 layout [16 channels][4 k values]: 16 columns of 4 rows of
// B (`rows` point at 16 readable bytes each), less 128 (the top bit flipped), interleaved.
void interleave_step(const uint8_t* const rows[4], int8_t* out) {
  using Bytes = xsimd::batch<uint8_t>;
  using Pairs = xsimd::batch<uint16_t>;
  if constexpr (Bytes::size == 16) {
    const Bytes flip(uint8_t{0x80});
    const Bytes r0 = Bytes::load_unaligned(rows[0]) ^ flip, r1 = Bytes::load_unaligned(rows[1]) ^ flip;
    const Bytes r2 = Bytes::load_unaligned(rows[2]) ^ flip, r3 = Bytes::load_unaligned(rows[3]) ^ flip;
    // Byte pairs (k, k + 1) of each column, then pairs of those pairs: 4 k values per column.
    const auto lo01 = xsimd::bitwise_cast<Pairs>(xsimd::zip_lo(r0, r1));
    const auto hi01 = xsimd::bitwise_cast<Pairs>(xsimd::zip_hi(r0, r1));
    const auto lo23 = xsimd::bitwise_cast<Pairs>(xsimd::zip_lo(r2, r3));
    const auto hi23 = xsimd::bitwise_cast<Pairs>(xsimd::zip_hi(r2, r3));
    auto* dst = reinterpret_cast<uint8_t*>(out);
    xsimd::bitwise_cast<Bytes>(xsimd::zip_lo(lo01, lo23)).store_unaligned(dst);
    xsimd::bitwise_cast<Bytes>(xsimd::zip_hi(lo01, lo23)).store_unaligned(dst + 16);
    xsimd::bitwise_cast<Bytes>(xsimd::zip_lo(hi01, hi23)).store_unaligned(dst + 32);
    xsimd::bitwise_cast<Bytes>(xsimd::zip_hi(hi01, hi23)).store_unaligned(dst + 48);
  } else {
    for (int lane = 0; lane < 16; ++lane)
      for (int j = 0; j < 4; ++j)
        out[lane * 4 + j] = static_cast<int8_t>(rows[j][lane] ^ 0x80);
  }
}

// B [K, N] into the int8 [n_padded / 16][k_padded / 4][16][4] layout (the VNNI GEMM's and, with k padded to
// 64, the AMX tiles'), 64 bytes per k step of a block; columns past N and rows past K (the padding) hold
// 128, which is 0 once less 128.
void interleave(const uint8_t* b, int64_t k, int64_t n, int64_t k_padded, int64_t n_padded,
                std::vector<int8_t>& data) {
  const int64_t steps = k_padded / 4, whole_steps = k / 4;
  data.resize(static_cast<size_t>(n_padded * k_padded));
  // A block's steps that need padding (the last, partial block's; past K every block's), 16 bytes per row
  // of B, copied into one buffer filled with 128 beforehand: a memset and a memcpy per row and step cost
  // Swin's attention more than the interleave (a last block of 1 column: 49 = 3 x 16 + 1).
  thread_local std::vector<uint8_t> padded;
  for (int64_t block = 0; block < n_padded / kChannelBlock; ++block) {
    const int64_t first = block * kChannelBlock, width = std::min(kChannelBlock, n - first);
    int8_t* out = data.data() + block * steps * 64;
    const int64_t direct = width == kChannelBlock ? whole_steps : 0;  // steps read straight from B
    for (int64_t s = 0; s < direct; ++s, out += 64) {
      const uint8_t* rows[4];
      for (int64_t j = 0; j < 4; ++j)
        rows[j] = b + (4 * s + j) * n + first;
      interleave_step(rows, out);
    }
    if (direct == steps) continue;
    padded.assign(static_cast<size_t>((steps - direct) * 4 * 16), 128);
    if (width > 0)
      for (int64_t row = 4 * direct; row < k; ++row)
        std::memcpy(padded.data() + (row - 4 * direct) * 16, b + row * n + first, static_cast<size_t>(width));
    for (int64_t s = direct; s < steps; ++s, out += 64) {
      const uint8_t* rows[4];
      for (int64_t j = 0; j < 4; ++j)
        rows[j] = padded.data() + ((s - direct) * 4 + j) * 16;
      interleave_step(rows, out);
    }
  }
}

// The folded bias of each of B's columns (packed_gemm.h) into bias[0, n): from its sum less 128 * K, the
// weights' sum as stored. `layout` gives the zero points; the AMX tiles fold the same way. The sums are
// gathered in `bias` itself, a row of B at a time (contiguous, vectorised).
void fold_column_sums(const PackedWeights& layout, const uint8_t* b, std::vector<int32_t>& bias) {
  const int64_t k = layout.k, n = layout.n;
  std::fill(bias.begin(), bias.begin() + n, 0);
  for (int64_t j = 0; j < k; ++j) {
    const uint8_t* row = b + j * n;
    for (int64_t c = 0; c < n; ++c)
      bias[static_cast<size_t>(c)] += row[c];
  }
  for (int64_t c = 0; c < n; ++c)
    bias[static_cast<size_t>(c)] = folded_bias(layout, c, 0, bias[static_cast<size_t>(c)] - 128 * k);
}

// Each of `rows` rows' sum of its k bytes.
void row_sums(const uint8_t* a, int64_t rows, int64_t k, std::vector<int32_t>& sums) {
  sums.resize(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r)
    sums[static_cast<size_t>(r)] = byte_sum(a + r * k, k);
}

struct Scratch {
  std::vector<uint8_t> rows;
  std::vector<int32_t> sums;
};

}  // namespace

bool u8_matmul_always_fits(int64_t k, const QuantParams& a, const QuantParams& b) {
  if (k < 0 || k > std::numeric_limits<int32_t>::max()) return false;
  return k * max_deviation(a) * max_deviation(b) <= std::numeric_limits<int32_t>::max();
}

U8MatMul prepare_u8_matmul(Isa isa, int64_t m, int64_t k, int64_t n, const QuantParams& a,
                           const QuantParams& b, const QuantParams& output, Clamp clamp, RequantMode mode) {
  if (m < 1 || k < 1 || n < 1)
    throw Error("matmul: empty operands [" + std::to_string(m) + ", " + std::to_string(k) + "] x [" +
                std::to_string(k) + ", " + std::to_string(n) + "]");
  if (!a.is_per_tensor() || !b.is_per_tensor())
    throw Error("matmul: both operands must be quantized per tensor");
  if (!u8_matmul_always_fits(k, a, b))
    throw Error("matmul: " + std::to_string(k) + " products can overflow int32 for some operand bytes");
  // The params' constants (multipliers, float scales and the bound on what the float epilogue converts)
  // from the worst case B, every byte the farthest from its zero point: they then hold for any B.
  const auto farthest = static_cast<uint8_t>(b.zero_point() >= 128 ? 0 : 255);
  const std::vector<uint8_t> worst(static_cast<size_t>(n * k), farthest);
  U8MatMul mm{m,
              k,
              n,
              pack(isa, worst.data(), n, k, b, nullptr, a, output, clamp, "matmul", 1, mode),
              {},
              false,
              std::make_shared<PackedOperandSets>()};
  mm.shared.data = {};
  std::fill(mm.shared.requant.bias.begin(), mm.shared.requant.bias.end(), 0);
  if (isa == Isa::avx512amx) {
    mm.amx = amx_pack(worst.data(), n, k, b, nullptr, a, output, clamp, "matmul", mode);
    mm.amx->data = {};
    std::fill(mm.amx->requant.bias.begin(), mm.amx->requant.bias.end(), 0);
  }
  return mm;
}

void pack_matmul_operand(const U8MatMul& mm, const uint8_t* b, PackedWeights& into) {
  if (into.n != mm.n || into.k != mm.k || static_cast<int64_t>(into.requant.bias.size()) < mm.n)
    throw Error("matmul: the packing is not a copy of the product's layout");
  if (k_group(into.isa) == 4)
    interleave(b, mm.k, mm.n, into.k_padded, into.n_padded, into.data);
  else
    place_weights(into, [&](int64_t r, int64_t j) { return static_cast<int32_t>(b[j * mm.n + r]) - 128; });
  fold_column_sums(mm.shared, b, into.requant.bias);
}

void pack_matmul_operand(const U8MatMul& mm, const uint8_t* b, AmxPackedWeights& into) {
  if (!mm.amx) throw Error("matmul: not prepared for AMX tiles");
  if (into.n != mm.n || into.k != mm.k || static_cast<int64_t>(into.requant.bias.size()) < mm.n)
    throw Error("matmul: the packing is not a copy of the product's AMX layout");
  interleave(b, mm.k, mm.n, into.k_padded, into.n_padded, into.data);
  fold_column_sums(mm.shared, b, into.requant.bias);
}

std::unique_ptr<PackedOperandSets::Set> PackedOperandSets::take() {
  const std::lock_guard lock(mutex_);
  if (free_.empty()) return std::make_unique<Set>();
  std::unique_ptr<Set> set = std::move(free_.back());
  free_.pop_back();
  return set;
}

void PackedOperandSets::give_back(std::unique_ptr<Set> set) noexcept {
  const std::lock_guard lock(mutex_);
  try {
    free_.push_back(std::move(set));
  } catch (...) {  // out of memory: the set is freed instead of kept (give_back runs in a destructor)
  }
}

namespace {

// Runs every output batch's row tiles in parallel, B's batches packed first into `packed` (grown with copies
// of `layout` as needed); compute(w, rows of A, row count, C) computes one tile.
template <class Packed, class Compute>
void run_batches(const U8MatMul& mm, const uint8_t* a, const uint8_t* b,
                 std::span<const std::array<int64_t, 2>> operands, uint8_t* c, const Packed& layout,
                 std::vector<Packed>& packed, Compute&& compute) {
  const int64_t m = mm.m, k = mm.k, n = mm.n;
  int64_t b_batches = 0;
  for (const auto& at : operands)
    b_batches = std::max(b_batches, at[1] + 1);
  if (static_cast<int64_t>(packed.size()) < b_batches) packed.resize(static_cast<size_t>(b_batches), layout);
  const int64_t tiles = (m + kRowTile - 1) / kRowTile;
  // Output batch i multiplying B's batch i (attention's heads), and batches enough to keep every thread
  // busy: each task packs its B and multiplies it straight away, while the packing is in L1. Packing every
  // batch first, then multiplying, read the packed B back from L2 or beyond (Swin-T's first stage packs
  // 192 of them, 400 KB, beside 300 KB of A and 460 KB of output).
  bool one_to_one = static_cast<int64_t>(operands.size()) == b_batches;
  for (int64_t i = 0; i < b_batches && one_to_one; ++i)
    one_to_one = operands[static_cast<size_t>(i)][1] == i;
  if (one_to_one && b_batches >= 4 * tbb::this_task_arena::max_concurrency()) {
    tbb::parallel_for(int64_t{0}, b_batches, [&](int64_t batch) {
      Packed& w = packed[static_cast<size_t>(batch)];
      pack_matmul_operand(mm, b + batch * k * n, w);
      const int64_t at = operands[static_cast<size_t>(batch)][0];
      for (int64_t first = 0; first < m; first += kRowTile)
        compute(w, a + (at * m + first) * k, std::min(kRowTile, m - first), c + (batch * m + first) * n);
    });
    return;
  }
  tbb::parallel_for(int64_t{0}, b_batches, [&](int64_t i) {
    pack_matmul_operand(mm, b + i * k * n, packed[static_cast<size_t>(i)]);
  });
  tbb::parallel_for(int64_t{0}, static_cast<int64_t>(operands.size()) * tiles, [&](int64_t task) {
    const int64_t batch = task / tiles, first = task % tiles * kRowTile, rows = std::min(kRowTile, m - first);
    const auto& at = operands[static_cast<size_t>(batch)];
    compute(packed[static_cast<size_t>(at[1])], a + (at[0] * m + first) * k, rows,
            c + (batch * m + first) * n);
  });
}

// A set of mm's packing storage for one run, given back when the run ends (by an exception too).
class SetForRun {
 public:
  explicit SetForRun(PackedOperandSets& sets) : sets_(sets), set_(sets.take()) {}
  ~SetForRun() { sets_.give_back(std::move(set_)); }
  SetForRun(const SetForRun&) = delete;
  SetForRun& operator=(const SetForRun&) = delete;
  PackedOperandSets::Set& operator*() const { return *set_; }

 private:
  PackedOperandSets& sets_;
  std::unique_ptr<PackedOperandSets::Set> set_;
};

}  // namespace

void run(const U8MatMul& mm, const uint8_t* a, const uint8_t* b,
         std::span<const std::array<int64_t, 2>> operands, uint8_t* c) {
  const int64_t k = mm.k, n = mm.n;
  static tbb::enumerable_thread_specific<Scratch> scratch_space;
  if (!mm.sets) throw Error("matmul: not prepared");
  const SetForRun set(*mm.sets);
  if (mm.amx) {
    // The tile walk reads A's rows in place (copies at a partial last k step of its own).
    return run_batches(mm, a, b, operands, c, *mm.amx, (*set).amx,
                       [&](const AmxPackedWeights& w, const uint8_t* x, int64_t rows, uint8_t* out) {
                         Scratch& scratch = scratch_space.local();
                         if (w.needs_row_sums) row_sums(x, rows, k, scratch.sums);
                         const int32_t* sums = w.needs_row_sums ? scratch.sums.data() : nullptr;
                         if (mm.amx_on_model) return compute_amx_model(w, x, k, sums, rows, 0, n, out, n);
#if defined(__x86_64__)
                         compute_amx(w, x, k, sums, rows, 0, n, out, n);
#else
          throw Error("matmul: AMX tiles on a CPU that is not x86");
#endif
                       });
  }
  // Where A ends, as far as the operands show: rows read in place may run k_padded - k bytes past their
  // end, into the next row, up to this point.
  int64_t a_batches = 0;
  for (const auto& at : operands)
    a_batches = std::max(a_batches, at[0] + 1);
  const uint8_t* a_end = a + a_batches * mm.m * k;
  run_batches(mm, a, b, operands, c, mm.shared, (*set).vnni,
              [&](const PackedWeights& w, const uint8_t* x, int64_t rows, uint8_t* out) {
                Scratch& scratch = scratch_space.local();
                if (w.needs_row_sums) row_sums(x, rows, k, scratch.sums);
                const int64_t elem = w.a_element_size();
                // Rows of bytes are read in place, K a multiple of the k step or not: the packed B is zero
                // in the padding steps, so whatever bytes of the next row a row's last step reads add
                // nothing (the row sums take K bytes). Only a tile whose padding would run past A's end
                // (the last one, where K is not a multiple) is copied. Swin's attention times V (K = 49):
                // the copies were 20% of its time.
                if (elem == 1 && (w.k_padded == k || x + rows * k + (w.k_padded - k) <= a_end))
                  return compute(w, x, k, scratch.sums.data(), rows, 0, n, out, n);
                // Rows padded to k_padded with zeros (and widened to int16 for AVX2), as the kernels read
                // them.
                const int64_t row_bytes = w.k_padded * elem;
                scratch.rows.assign(static_cast<size_t>(rows * row_bytes), 0);
                for (int64_t r = 0; r < rows; ++r) {
                  uint8_t* row = scratch.rows.data() + r * row_bytes;
                  if (elem == 1) {
                    std::memcpy(row, x + r * k, static_cast<size_t>(k));
                  } else {
                    auto* wide = reinterpret_cast<int16_t*>(row);
                    for (int64_t j = 0; j < k; ++j)
                      wide[j] = x[r * k + j];
                  }
                }
                compute(w, scratch.rows.data(), row_bytes, scratch.sums.data(), rows, 0, n, out, n);
              });
}

}  // namespace octet::gemm
