#include "kernels/reference/float_conv2d.h"
