#include "kernels/pooling/float_pooling.h"
