#pragma once

// The distance between output pixels for the convolutions that can store into a slice of a wider
// tensor (a channel concatenation's output): the operator's own channel count when none is asked for.

#include <cstdint>
#include <string>

#include "kernels/error.h"

namespace octet::conv {

// requested <= 0 means dense. Throws, naming the operator, when the stride leaves no room for a pixel.
inline int64_t output_pixel_stride(const char* op, int64_t requested, int64_t channels) {
  const int64_t stride = requested > 0 ? requested : channels;
  if (stride < channels)
    throw Error(std::string(op) + ": output pixels " + std::to_string(stride) + " bytes apart cannot hold " +
                std::to_string(channels) + " channels");
  return stride;
}

}  // namespace octet::conv
