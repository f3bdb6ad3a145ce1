#include "kernels/reference/float_elementwise.h"
