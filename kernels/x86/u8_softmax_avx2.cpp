// The uint8 softmax rows compiled for AVX2; only called after the CPU check.
#include "kernels/elementwise/quantize_rows.h"
#include "kernels/reduce/u8_softmax_rows.h"

namespace octet::reduce {

void u8_softmax_rows_avx2(const U8Softmax& s, const uint8_t* x, int64_t rows, float* p, int64_t p_rows,
                          double* looked_up, uint8_t* y) {
  u8_softmax_rows(s, x, rows, p, p_rows, looked_up, y, elementwise::quantize_row_avx2);
}

}  // namespace octet::reduce
