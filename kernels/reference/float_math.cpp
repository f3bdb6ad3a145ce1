#include "kernels/reference/float_math.h"

#include <bit>
#include <cstdint>

namespace octet::fmath::detail {

namespace {

// The bits of 2/pi after the binary point, most significant first (256 bits: enough for the largest float,
// whose reduction needs bits 1 to 199).
constexpr uint32_t kTwoOverPiBits[] = {0xA2F9836E, 0x4E441529, 0xFC2757D1, 0xF534DDC0,
                                       0xDB629599, 0x3C439041, 0xFE5163AB, 0xDEBBC561};

}  // namespace

// Payne-Hanek: a = M 2^E with a 24-bit integer M, so a (2/pi) mod 4 only needs the bits of 2/pi from
// weight 2^(1-E) down (higher ones contribute multiples of 4); a 96-bit window of them times M gives the
// quadrant and ~90 fraction bits, of which the top 64 give r = fraction * pi/2 in double, then float.
void reduce_pi_over_2_large(float a, float& r, uint32_t& quadrant) {
  __extension__ typedef unsigned __int128 u128;  // GCC / Clang on every 64-bit target octet builds for
  const uint32_t bits = std::bit_cast<uint32_t>(a);
  const uint64_t mantissa = (bits & 0x007fffffu) | 0x00800000u;
  const int exponent = static_cast<int>((bits >> 23) & 0xffu) - 150;  // a = mantissa * 2^exponent
  // First bit of the window (bit i of 2/pi has weight 2^-i): i0 = max(1, exponent - 1).
  const int first = exponent - 1 > 1 ? exponent - 1 : 1;
  const int word = (first - 1) / 32, shift = (first - 1) % 32;
  u128 window = (u128{kTwoOverPiBits[word]} << 96) | (u128{kTwoOverPiBits[word + 1]} << 64) |
                (u128{kTwoOverPiBits[word + 2]} << 32) | u128{kTwoOverPiBits[word + 3]};
  window = (window << shift) >> 32;  // bits first .. first + 95
  // a (2/pi) = product * 2^(exponent - first - 95): the binary point sits `point` bits up.
  const u128 product = window * mantissa;
  const int point = first + 95 - exponent;  // in [94, 102]
  quadrant = static_cast<uint32_t>(product >> point) & 3u;
  uint64_t fraction = static_cast<uint64_t>((product << (128 - point)) >> 64);
  // A fraction of one half or more belongs to the next quadrant, as fraction - 1 (two's complement).
  if (fraction >> 63) quadrant = (quadrant + 1) & 3u;
  const double f = static_cast<double>(static_cast<int64_t>(fraction)) * 0x1p-64;
  r = static_cast<float>(f * 0x1.921fb54442d18p+0);
}

}  // namespace octet::fmath::detail
