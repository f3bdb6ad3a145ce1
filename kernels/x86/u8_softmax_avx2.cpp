// The uint8 softmax rows compiled for AVX2; only called after the CPU check.
#include "kernels/elementwise/quantize_rows.h"
#include "kernels/reduce/u8_softmax_rows.h"

namespace octet::reduce {

void u8_softmax_rows_avx2(const U8Softmax& s, const uint8_t* x, int64_t rows, float* p, int64_t p_rows,
                          double* looked_up, uint8_t* y) {
  // A lambda, not the function pointer: with the same function type in both ISAs' files the two would be
  // one instantiation of u8_softmax_rows, which the linker may merge into one ISA's code.
  u8_softmax_rows(s, x, rows, p, p_rows, looked_up, y,
                  [](const float* v, int64_t n, float scale, int32_t zero_point, uint8_t* q) {
                    elementwise::quantize_row_avx2(v, n, scale, zero_point, q);
                  });
}

}  // namespace octet::reduce
