#include "kernels/reference/movement.h"
