#include "kernels/reduce/float_reduce.h"
