// The AMX walk's epilogue in AVX-512 (kernels/gemm/amx_gemm.h): one block's int32 accumulators, stored by
// the tiles 32 channels to a row, to requantized bytes with the GEMM's vector requantization
// (x86/requant_avx512.h, both modes, the fused form where the block has it): pairs of rows of two full
// channel blocks through PackRows, the rest 16 channels at a time with a masked store for a partial block.
// Compiled with AVX-512 flags; only called on CPUs with them (every AMX CPU has them).

#include <immintrin.h>

#include <algorithm>

#include "kernels/gemm/amx_gemm.h"
#include "kernels/x86/requant_avx512.h"

namespace octet::gemm::amx {

namespace {

inline __m512i load_row(const int32_t* acc, int64_t r, int64_t column) {
  return _mm512_loadu_si512(acc + r * kBlockChannels + column);
}

// Rows [first, rows) of one 16-channel block (`valid` of its channels stored), 16 channels at a time.
template <class Requant>
void block_rows(const Requant& requant, const int32_t* acc, const int32_t* row_sums, int64_t first,
                int64_t rows, int64_t column, int64_t valid, uint8_t* c, int64_t c_stride, int64_t n) {
  const __mmask16 keep =
      valid >= kChannelBlock ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << valid) - 1);
  for (int64_t r = first; r < rows; ++r) {
    const __m128i bytes = requant(load_row(acc, r, column), row_sums ? row_sums[r] : 0);
    if (valid >= kChannelBlock)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(c + r * c_stride + n), bytes);
    else
      _mm_mask_storeu_epi8(c + r * c_stride + n, keep, bytes);
  }
}

template <class Requant>
void two_blocks(const Requant& left, const Requant& right, const x86::PackRows& pack, const int32_t* acc,
                const int32_t* row_sums, int64_t rows, uint8_t* c, int64_t c_stride, int64_t n0) {
  int64_t r = 0;
  for (; r + 2 <= rows; r += 2) {
    const int32_t s0 = row_sums ? row_sums[r] : 0, s1 = row_sums ? row_sums[r + 1] : 0;
    const __m512i bytes = pack(left.value_to_pack(load_row(acc, r, 0), s0),
                               right.value_to_pack(load_row(acc, r, kChannelBlock), s0),
                               left.value_to_pack(load_row(acc, r + 1, 0), s1),
                               right.value_to_pack(load_row(acc, r + 1, kChannelBlock), s1));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * c_stride + n0), _mm512_castsi512_si256(bytes));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + (r + 1) * c_stride + n0),
                        _mm512_extracti64x4_epi64(bytes, 1));
  }
  if (r < rows) {
    block_rows(left, acc, row_sums, r, rows, 0, kChannelBlock, c, c_stride, n0);
    block_rows(right, acc, row_sums, r, rows, kChannelBlock, kChannelBlock, c, c_stride, n0 + kChannelBlock);
  }
}

}  // namespace

void avx512_epilogue(const AmxPackedWeights& w, const int32_t* acc, const int32_t* row_sums, int64_t rows,
                     int64_t n0, int64_t n1, uint8_t* c, int64_t c_stride) {
  const ChannelRequant& rq = w.requant;
  const bool sums = w.needs_row_sums;
  if (!sums) row_sums = nullptr;
  if (n1 - n0 == 2 * kChannelBlock) {
    const x86::PackRows pack(rq.clamp);
    x86::with_requant(rq, x86::FusedRequant16::usable(rq, n0, 2 * kChannelBlock), [&](auto kind) {
      using Requant = typename decltype(kind)::type;
      two_blocks(Requant(rq, n0, sums), Requant(rq, n0 + kChannelBlock, sums), pack, acc, row_sums, rows, c,
                 c_stride, n0);
    });
    return;
  }
  for (int64_t n = n0; n < n1; n += kChannelBlock) {
    const int64_t valid = std::min(kChannelBlock, n1 - n);
    x86::with_requant(rq, x86::FusedRequant16::usable(rq, n), [&](auto kind) {
      using Requant = typename decltype(kind)::type;
      block_rows(Requant(rq, n, sums), acc, row_sums, 0, rows, n - n0, valid, c, c_stride, n);
    });
  }
}

}  // namespace octet::gemm::amx
