#include "kernels/reference/float_normalization.h"
