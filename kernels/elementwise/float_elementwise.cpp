#include "kernels/elementwise/float_elementwise.h"
