#include "kernels/reference/float_reduce.h"
