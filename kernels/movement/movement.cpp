#include "kernels/movement/movement.h"
