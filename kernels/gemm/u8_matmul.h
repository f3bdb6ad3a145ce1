#pragma once

// A matmul of two uint8 activations (attention's Q K^T and its product with V) on the int8 GEMM kernels:
// each batch C = A B with A [M, K], B [K, N], per-tensor params, bit-exact with ref::matmul_u8. B changes
// with every run, so it is packed on every run, straight from its [K, N] rows into the kernels' layout
// (B's columns are the GEMM's weight rows); everything that depends only on the params (multipliers, the
// fused epilogue's constants) is prepared once.

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "kernels/gemm/amx_pack.h"
#include "kernels/gemm/packed_gemm.h"
#include "kernels/quantization/requant_mode.h"

namespace octet::gemm {

// Every batch's packed B of one run, kept from run to run: a run takes a set (or makes one) and gives it
// back, so that runs at the same time never share one and, once made, a run allocates nothing for its packing
// on the VNNI and AMX layouts (AVX2's widening still does; Swin's window attention packs hundreds of small
// batches per run: their allocations cost more than their multiplies). Thread-safe.
class PackedOperandSets {
 public:
  struct Set {
    std::vector<PackedWeights> vnni;
    std::vector<AmxPackedWeights> amx;
  };
  std::unique_ptr<Set> take();
  void give_back(std::unique_ptr<Set> set) noexcept;

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<Set>> free_;
};

struct U8MatMul {
  int64_t m = 0, k = 0, n = 0;
  // The layout, requantization and zero points every batch's packing shares; no data, bias zero.
  PackedWeights shared;
  // avx512amx: the same for the AMX tiles (k padded to 64), which then run the product instead.
  std::optional<AmxPackedWeights> amx;
  // Run the tile walk on the scalar model of the instructions (gemm/amx_tile_model.h) instead of the
  // hardware: what the tests do on machines without AMX. Never set by prepare_u8_matmul.
  bool amx_on_model = false;
  // Shared by copies of this product (one per operator); made by prepare_u8_matmul.
  std::shared_ptr<PackedOperandSets> sets;
};

// Whether K products can never overflow int32 for any bytes of A and B: K * max|a - z_a| * max|b - z_b|
// over all 256 values. Where they can, the reference (which checks the actual bytes) runs instead.
bool u8_matmul_always_fits(int64_t k, const QuantParams& a, const QuantParams& b);

// Prepares the product for `isa` (avx512amx: for the tiles, and for its avx512vnni GEMM). Params per tensor,
// uint8; the sums must always fit (u8_matmul_always_fits). Throws octet::Error naming "matmul" otherwise.
U8MatMul prepare_u8_matmul(Isa isa, int64_t m, int64_t k, int64_t n, const QuantParams& a,
                           const QuantParams& b, const QuantParams& output, Clamp clamp, RequantMode mode);

// One batch's B [K, N] (dense rows) packed as the GEMM's weights, data and folded bias, into `into`: a copy
// of mm.shared (for the vector GEMM) or of *mm.amx (for the AMX tiles), whose storage is reused.
void pack_matmul_operand(const U8MatMul& mm, const uint8_t* b, PackedWeights& into);
void pack_matmul_operand(const U8MatMul& mm, const uint8_t* b, AmxPackedWeights& into);

// Runs batches: output batch i is a's batch operands[i][0] times b's batch operands[i][1] (dense [M, K],
// [K, N] and [M, N] matrices, one after another), in parallel over B's batches and row tiles inside the
// caller's oneTBB arena. The same bytes for any thread count.
void run(const U8MatMul& mm, const uint8_t* a, const uint8_t* b,
         std::span<const std::array<int64_t, 2>> operands, uint8_t* c);

}  // namespace octet::gemm
