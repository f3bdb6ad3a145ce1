#include "kernels/elementwise/byte_map.h"

#include <cstring>

#include "kernels/isa.h"

namespace octet::elementwise {

// An ISA below avx512vnni turns VBMI off with the rest of AVX-512 (vbmi_usable).
void map_bytes([[maybe_unused]] Isa isa, const ByteTable& table, const uint8_t* in, uint8_t* out, int64_t n) {
#if defined(__x86_64__)
  if (vbmi_usable(isa)) return map_bytes_avx512vbmi(table, in, out, n);
#endif
  for (int64_t i = 0; i < n; ++i)
    out[i] = table[in[i]];
}

void map_rows([[maybe_unused]] Isa isa, const ByteTable* table, const uint8_t* in, int64_t in_stride,
              uint8_t* out, int64_t out_stride, int64_t width, int64_t rows) {
#if defined(__x86_64__)
  if (vbmi_usable(isa)) return map_rows_avx512vbmi(table, in, in_stride, out, out_stride, width, rows);
#endif
  for (int64_t r = 0; r < rows; ++r, in += in_stride, out += out_stride) {
    if (table)
      for (int64_t i = 0; i < width; ++i)
        out[i] = (*table)[in[i]];
    else
      std::memcpy(out, in, static_cast<size_t>(width));
  }
}

}  // namespace octet::elementwise
