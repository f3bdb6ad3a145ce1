#include "kernels/conv/float_conv.h"
