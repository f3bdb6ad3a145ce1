#pragma once

// The benchmark layer suite of ../shared/peers/PEERS.md (L1-L7): batch 1, NHWC, uint8 activations, int8
// per-channel weights. Shared by every benchmark program so that their figures compare.

#include <cstdint>

namespace octet::bench {

struct Layer {
  const char* name;
  int64_t h, w, cin, cout, k, stride, pad, groups;
  bool transposed;
};

constexpr Layer kLayers[] = {
    {"L1_conv3x3_56x56_64to64", 56, 56, 64, 64, 3, 1, 1, 1, false},
    {"L2_conv1x1_56x56_256to64", 56, 56, 256, 64, 1, 1, 0, 1, false},
    {"L3_conv3x3s2_56x56_128to128", 56, 56, 128, 128, 3, 2, 1, 1, false},
    {"L4_depthwise3x3_112x112_96", 112, 112, 96, 96, 3, 1, 1, 96, false},
    {"L5_conv3x3_256x256_3to32", 256, 256, 3, 32, 3, 1, 1, 1, false},
    {"L6_convT2x2s2_64x64_128to64", 64, 64, 128, 64, 2, 2, 0, 1, true},
    {"L7_conv3x3_32x32_256to256", 32, 32, 256, 256, 3, 1, 1, 1, false},
};

constexpr int64_t output_size(const Layer& l, int64_t in) {
  return l.transposed ? (in - 1) * l.stride + l.k - 2 * l.pad : (in + 2 * l.pad - l.k) / l.stride + 1;
}

// Multiply-accumulates: a transposed convolution's every input pixel meets every tap once; a direct
// one's every output pixel does.
constexpr double macs(const Layer& l) {
  const double taps = double(l.k) * double(l.k) * double(l.cin / l.groups) * double(l.cout);
  return l.transposed ? double(l.h) * double(l.w) * taps
                      : double(output_size(l, l.h)) * double(output_size(l, l.w)) * taps;
}

}  // namespace octet::bench
