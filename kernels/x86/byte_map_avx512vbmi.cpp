// 256-entry byte table lookups with AVX-512 VBMI: vpermi2b selects from 128 table bytes held in two
// registers by the low 7 bits of each index, once for each half of the table, and the index's top bit
// picks the half. Compiled with AVX-512 BW + VBMI flags; only called after the CPU check.

#include <immintrin.h>

#include "kernels/elementwise/byte_map.h"

namespace octet::elementwise {

namespace {

inline __m512i lookup(const __m512i t[4], __m512i x) {
  const __m512i low = _mm512_permutex2var_epi8(t[0], x, t[1]);
  const __m512i high = _mm512_permutex2var_epi8(t[2], x, t[3]);
  return _mm512_mask_blend_epi8(_mm512_movepi8_mask(x), low, high);
}

}  // namespace

void map_bytes_avx512vbmi(const ByteTable& table, const uint8_t* in, uint8_t* out, int64_t n) {
  __m512i t[4];
  for (int i = 0; i < 4; ++i)
    t[i] = _mm512_loadu_si512(table.data() + 64 * i);
  int64_t i = 0;
  for (; i + 64 <= n; i += 64)
    _mm512_storeu_si512(out + i, lookup(t, _mm512_loadu_si512(in + i)));
  if (i < n) {
    const __mmask64 keep = _bzhi_u64(~uint64_t{0}, static_cast<unsigned>(n - i));
    _mm512_mask_storeu_epi8(out + i, keep, lookup(t, _mm512_maskz_loadu_epi8(keep, in + i)));
  }
}

void map_rows_avx512vbmi(const ByteTable* table, const uint8_t* in, int64_t in_stride, uint8_t* out,
                         int64_t out_stride, int64_t width, int64_t rows) {
  __m512i t[4];
  if (table)
    for (int i = 0; i < 4; ++i)
      t[i] = _mm512_loadu_si512(table->data() + 64 * i);
  auto map = [&](__m512i x) { return table ? lookup(t, x) : x; };
  const __mmask64 tail = _bzhi_u64(~uint64_t{0}, static_cast<unsigned>(width % 64));
  for (int64_t r = 0; r < rows; ++r, in += in_stride, out += out_stride) {
    int64_t i = 0;
    for (; i + 64 <= width; i += 64)
      _mm512_storeu_si512(out + i, map(_mm512_loadu_si512(in + i)));
    if (i < width) _mm512_mask_storeu_epi8(out + i, tail, map(_mm512_maskz_loadu_epi8(tail, in + i)));
  }
}

}  // namespace octet::elementwise
