#pragma once

// oneDNN's half of layers_bench (onednn_layers.cpp), present when CMake found oneDNN.

#include "benchmarks/layer_suite.h"

namespace octet::bench {

// Registers "onednn/<layer>" at 1 and 2 threads for every layer of the suite.
void register_onednn_benchmarks();

}  // namespace octet::bench
