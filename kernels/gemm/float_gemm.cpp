#include "kernels/gemm/float_gemm.h"
