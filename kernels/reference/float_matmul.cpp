#include "kernels/reference/float_matmul.h"
