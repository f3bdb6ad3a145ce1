#pragma once

// The packed weight layout of PackedWeights::data and the folded bias, shared by pack() (weights at load)
// and pack_matmul_operand() (a uint8 matmul's right-hand operand, packed on every run).

#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/gemm/packed_gemm.h"
#include "kernels/huge_pages.h"

namespace octet::gemm {

// Where weight (r, j) goes in p.data: row_offset(r) + k_offset(j), in elements of the ISA's storage (int16
// for AVX2, int8 otherwise). Separable that way, so that placing a weight needs no division.
class PackedIndex {
 public:
  explicit PackedIndex(const PackedWeights& p);
  int64_t row_offset(int64_t r) const {
    return (r / kChannelBlock * k_pairs_ * kChannelBlock + r % kChannelBlock) * pair_;
  }
  int64_t k_offset(int64_t j) const { return k_offset_[static_cast<size_t>(j)]; }
  // Storage elements in the whole packing.
  int64_t size() const { return n_padded_ * k_pairs_ * pair_; }

 private:
  int64_t pair_ = 4;     // k values of one channel side by side
  int64_t k_pairs_ = 0;  // k_padded / pair_
  int64_t n_padded_ = 0;
  std::vector<int64_t> k_offset_;
};

// Fills p.data (its layout fields set) with value(r, j), the weight of row r and k index j as the kernels
// store it (int8 range; uint8 weights already less 128); padding holds zeros.
template <class Value>
void place_weights(PackedWeights& p, const Value& value) {
  const PackedIndex index(p);
  auto place = [&](auto* packed) {
    for (int64_t r = 0; r < p.n; ++r) {
      auto* row = packed + index.row_offset(r);
      for (int64_t j = 0; j < p.k; ++j)
        row[index.k_offset(j)] = static_cast<std::remove_reference_t<decltype(*row)>>(value(r, j));
    }
  };
  if (p.isa == Isa::avx2) {
    // int16 pairs: AVX2's vpmaddwd takes pairs of 16-bit values.
    std::vector<int16_t> wide;
    resize_large(wide, static_cast<size_t>(index.size()));
    place(wide.data());
    p.data.clear();
    resize_large(p.data, wide.size() * 2);
    std::memcpy(p.data.data(), wide.data(), p.data.size());
  } else {
    p.data.clear();
    resize_large(p.data, static_cast<size_t>(index.size()));
    place(p.data.data());
  }
}

// The int32 that channel r's sums start from (packed_gemm.h): bias - z_a * sum_w + K z_a z_w[r], plus
// 128 * sum_w where the ISA offsets activations; `weight_sum` = sum_k W[r][k] as stored. Modulo 2^32.
int32_t folded_bias(const PackedWeights& p, int64_t r, int64_t bias, int64_t weight_sum);

}  // namespace octet::gemm
