#pragma once

// Copies of short runs of input bytes for the convolution kernels that read kernel-row segments
// (gemm_conv2d.cpp, transposed_phases.cpp): a segment that leaves the image is copied, with the input
// zero point at its padding taps.

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace octet::conv {

// Copies n bytes. First layers copy runs of a few bytes per tap (9 for a 3x3 kernel over 3 channels),
// where a call into the C library's memcpy, or a byte loop, costs more than the copy itself: two
// overlapping fixed-size copies cover any n in [w, 2w] without touching a byte outside the run.
template <size_t kWidth>
inline void copy_two(uint8_t* dst, const uint8_t* src, int64_t n) {
  uint8_t head[kWidth], tail[kWidth];
  std::memcpy(head, src, kWidth);
  std::memcpy(tail, src + n - static_cast<int64_t>(kWidth), kWidth);
  std::memcpy(dst, head, kWidth);
  std::memcpy(dst + n - static_cast<int64_t>(kWidth), tail, kWidth);
}

inline void copy_bytes(uint8_t* dst, const uint8_t* src, int64_t n) {
  if (n > 64) {
    std::memcpy(dst, src, static_cast<size_t>(n));
  } else if (n >= 32) {
    copy_two<32>(dst, src, n);
  } else if (n >= 16) {
    copy_two<16>(dst, src, n);
  } else if (n >= 8) {
    copy_two<8>(dst, src, n);
  } else if (n >= 4) {
    copy_two<4>(dst, src, n);
  } else {
    for (int64_t i = 0; i < n; ++i)
      dst[i] = src[i];
  }
}

// One segment's copy: the `columns` input pixels from column x0 on of `line` (nullptr: a padding row),
// `channels` bytes each, with `zero_point` where a column is outside [0, width), then zero bytes up to
// `padded`. The columns inside the image are one contiguous run, copied at once.
inline void copy_segment(uint8_t* copy, const uint8_t* line, int64_t x0, int64_t columns, int64_t width,
                         int64_t channels, uint8_t zero_point, int64_t padded) {
  const int64_t lo = line == nullptr ? columns : std::clamp<int64_t>(-x0, 0, columns);
  const int64_t hi = line == nullptr ? columns : std::clamp<int64_t>(width - x0, lo, columns);
  std::memset(copy, zero_point, static_cast<size_t>(lo * channels));
  if (hi > lo) copy_bytes(copy + lo * channels, line + (x0 + lo) * channels, (hi - lo) * channels);
  std::memset(copy + hi * channels, zero_point, static_cast<size_t>((columns - hi) * channels));
  std::memset(copy + columns * channels, 0, static_cast<size_t>(padded - columns * channels));
}

}  // namespace octet::conv
