#include "kernels/reference/float_pooling.h"
