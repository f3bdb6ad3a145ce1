#include "kernels/resize/float_resize.h"
