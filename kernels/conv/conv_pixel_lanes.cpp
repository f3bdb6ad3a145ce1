#include "kernels/conv/conv_pixel_lanes.h"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "kernels/error.h"

namespace octet::conv {

namespace {

// The kernel loads 128 bytes of input row per kernel row and 16 output pixels (two zmm registers).
constexpr int64_t kWindow = 128;
constexpr int64_t kPixels = 16;
constexpr int64_t kMaxKernelHeight = 16;
constexpr int64_t kMaxTiles = 4;  // tiles of 16 pixels per step of the kernel

int64_t round_up(int64_t x, int64_t m) {
  return (x + m - 1) / m * m;
}

}  // namespace

bool pixel_lanes_apply(Isa isa, const ref::Conv2dParams& p, int64_t kernel_h, int64_t kernel_w,
                       int64_t in_channels, int64_t out_channels) {
  if (!vbmi_usable(isa)) return false;
  if (p.groups != 1 || p.dilation_w != 1 || out_channels < 1 || out_channels > kPixelLanesMaxOutChannels ||
      kernel_h < 1 || kernel_h > kMaxKernelHeight || kernel_w < 1 || in_channels < 1 || p.stride_w < 1)
    return false;
  return (kPixels - 1) * p.stride_w * in_channels + round_up(kernel_w * in_channels, 4) <= kWindow;
}

PixelLaneConv prepare_pixel_lanes(const gemm::PackedWeights& w, const ref::Conv2dParams& params,
                                  int64_t kernel_h, int64_t kernel_w, int64_t in_channels,
                                  int64_t out_channels) {
  if (!pixel_lanes_apply(w.isa, params, kernel_h, kernel_w, in_channels, out_channels) ||
      w.segments != kernel_h || w.n != out_channels || w.k != kernel_h * kernel_w * in_channels ||
      w.segment_padded != round_up(kernel_w * in_channels, 4) || w.needs_row_sums)
    throw Error("conv2d: the pixel-lane kernel does not apply");
  PixelLaneConv c;
  c.params = params;
  c.kernel_h = kernel_h;
  c.kernel_w = kernel_w;
  c.in_channels = in_channels;
  c.out_channels = out_channels;
  c.input_zero_point = w.input_zero_point;
  c.channel_stride = out_channels <= 8 ? out_channels : round_up(out_channels, 4);
  // Tap t of the window (kernel row t / row_taps, byte t % row_taps of it), or past the end for the
  // padding taps. Rows of fewer than 3 taps are padded to 4 each (no group spans three rows).
  const int64_t row_taps = kernel_w * in_channels, padded_row = row_taps < 3 ? 4 : row_taps;
  const int64_t taps = kernel_h * padded_row;
  c.groups = (taps + 3) / 4;
  const auto tap_row = [&](int64_t t) { return t / padded_row; };
  const auto tap_in_row = [&](int64_t t) -> std::optional<int64_t> {
    if (t >= taps || t % padded_row >= row_taps) return std::nullopt;
    return t % padded_row;
  };
  // The packed layout is [n/16][k/4][16][4], kernel row ky's byte j at k group ky * row_groups + j / 4.
  const int64_t row_groups = w.segment_padded / 4, k_groups = w.k_padded / 4;
  c.weights.assign(static_cast<size_t>(c.groups * c.channel_stride), 0);
  for (int64_t g = 0; g < c.groups; ++g)
    for (int64_t oc = 0; oc < out_channels; ++oc) {
      auto* to = reinterpret_cast<int8_t*>(&c.weights[static_cast<size_t>(g * c.channel_stride + oc)]);
      for (int64_t b = 0; b < 4; ++b) {
        const int64_t t = 4 * g + b;
        const std::optional<int64_t> j = tap_in_row(t);
        if (!j) continue;
        const int64_t k_group = tap_row(t) * row_groups + *j / 4;
        to[b] = static_cast<int8_t>(w.data[static_cast<size_t>(
            ((oc / gemm::kChannelBlock * k_groups + k_group) * gemm::kChannelBlock +
             oc % gemm::kChannelBlock) *
                4 +
            *j % 4)]);
      }
    }
  const int64_t pixel_step = params.stride_w * in_channels;
  c.row_first_group.assign(static_cast<size_t>(kernel_h + 1), c.groups);
  for (int64_t g = c.groups - 1; g >= 0; --g)
    for (int64_t ky = 0; ky <= tap_row(4 * g); ++ky)
      c.row_first_group[static_cast<size_t>(ky)] = g;
  c.next_row_bytes.assign(static_cast<size_t>(c.groups), 0);
  c.tap_index.assign(static_cast<size_t>(c.groups * 64), 0);
  c.next_tap_index.assign(static_cast<size_t>(c.groups * 64), 0);
  for (int64_t g = 0; g < c.groups; ++g) {
    const int64_t row = tap_row(4 * g);
    for (int64_t i = 0; i < 64; ++i) {
      const int64_t t = 4 * g + i % 4;
      const std::optional<int64_t> j = tap_in_row(t);
      if (!j) continue;  // a padding tap: any byte meets its zero weight
      const auto index = static_cast<uint8_t>(i / 4 * pixel_step + *j);
      if (tap_row(t) == row) {
        c.tap_index[static_cast<size_t>(g * 64 + i)] = index;
      } else {
        c.next_tap_index[static_cast<size_t>(g * 64 + i)] = index;
        c.next_row_bytes[static_cast<size_t>(g)] |= uint64_t{1} << i;
      }
    }
  }
  if (out_channels <= 8) {
    c.interleave.resize(2 * 64);
    for (int64_t i = 0; i < 2 * 64; ++i) {
      const int64_t p = i / out_channels, oc = i % out_channels;
      c.interleave[static_cast<size_t>(i)] =
          static_cast<uint8_t>(p < kPixels ? oc / 4 * 64 + 16 * (p / 4) + 4 * (oc % 4) + p % 4 : 0);
    }
  }
  // Channel oc's constants in all 16 lanes of block oc (fused_round's even-odd order is then moot); the
  // padding channels repeat the last channel's.
  const ChannelRequant& from = w.requant;
  ChannelRequant& to = c.requant;
  const auto lanes = static_cast<size_t>(16 * c.channel_stride);
  to.bias.resize(lanes);
  to.multiplier.resize(lanes);
  to.left_shift.resize(lanes);
  to.right_shift.resize(lanes);
  to.weight_zero_point.resize(lanes);
  if (from.float_mode()) to.scale.resize(lanes);
  to.float_fits_int32 = from.float_fits_int32;
  to.output_zero_point = from.output_zero_point;
  to.clamp = from.clamp;
  const bool fused = !from.fused_ok.empty();
  if (fused) {
    to.fused_round.resize(lanes);
    to.fused_threshold.resize(lanes);
    to.fused_shift.resize(lanes);
    to.fused_ok.resize(static_cast<size_t>(c.channel_stride));
    to.fused_skip_correction = from.fused_skip_correction;
  }
  constexpr int64_t kFusedBlock = ChannelRequant::kFusedBlock;
  PixelLaneConv::ChannelScalars& scalars = c.scalars;
  const bool all_fused =
      fused && std::all_of(from.fused_ok.begin(), from.fused_ok.end(), [](uint8_t ok) { return ok != 0; });
  for (int64_t lane_block = 0; lane_block < c.channel_stride; ++lane_block) {
    const int64_t oc = std::min(lane_block, out_channels - 1), in_block = oc % kFusedBlock;
    const auto j = static_cast<size_t>(oc);
    // fused_round is in even-odd order within each block of kFusedBlock channels.
    const auto slot = static_cast<size_t>(oc - in_block + in_block / 2 + (in_block % 2) * (kFusedBlock / 2));
    if (fused)
      to.fused_ok[static_cast<size_t>(lane_block)] = from.fused_ok[static_cast<size_t>(oc / kFusedBlock)];
    scalars.bias.push_back(from.bias[j]);
    if (from.float_mode()) scalars.scale.push_back(from.scale[j]);
    if (all_fused) {
      scalars.multiplier.push_back(from.multiplier[j]);
      scalars.round.push_back(from.fused_round[slot]);
      scalars.shift.push_back(from.fused_shift[j]);
    }
    for (auto i = static_cast<size_t>(16 * lane_block); i < static_cast<size_t>(16 * (lane_block + 1)); ++i) {
      to.bias[i] = from.bias[j];
      to.multiplier[i] = from.multiplier[j];
      to.left_shift[i] = from.left_shift[j];
      to.right_shift[i] = from.right_shift[j];
      to.weight_zero_point[i] = from.weight_zero_point[j];
      if (from.float_mode()) to.scale[i] = from.scale[j];
      if (fused) {
        to.fused_round[i] = from.fused_round[slot];
        to.fused_threshold[i] = from.fused_threshold[j];
        to.fused_shift[i] = from.fused_shift[j];
      }
    }
  }
  return c;
}

void run(const PixelLaneConv& c, const uint8_t* input, int64_t n, int64_t ih, int64_t iw, uint8_t* output) {
#if !defined(__x86_64__)
  (void)c, (void)input, (void)n, (void)ih, (void)iw, (void)output;
  throw Error("conv2d: the pixel-lane kernel needs AVX-512 VBMI");  // never prepared here
#else
  const auto& p = c.params;
  const int64_t oh = ref::conv_output_size("conv2d", "height", ih, c.kernel_h, p.stride_h, p.dilation_h,
                                           p.pad.top, p.pad.bottom);
  const int64_t ow = ref::conv_output_size("conv2d", "width", iw, c.kernel_w, p.stride_w, p.dilation_w,
                                           p.pad.left, p.pad.right);
  const int64_t rows = n * oh, cin = c.in_channels, kh = c.kernel_h;
  if (rows == 0 || ow == 0) return;
  // A padded input row: column -pad_left at byte 0, the input zero point outside the image, readable as
  // far as the last tile's window reaches.
  const int64_t last_tile = round_up(ow, kMaxTiles * kPixels) - kPixels;  // the kernel's steps of tiles
  const int64_t length = std::max((p.pad.left + iw) * cin, last_tile * p.stride_w * cin + kWindow);
  const int64_t copy_at = p.pad.left * cin, copy_bytes = iw * cin;
  const auto za = static_cast<uint8_t>(c.input_zero_point);
  static tbb::enumerable_thread_specific<std::vector<uint8_t>> scratch_space;
  // About 4096 output pixel-channels x 8 per task: whole rows, but small enough that the last, short task
  // of a map with many channels does not leave the other threads idle (4096 pixels of 64 channels per task
  // gave a 112x112 map 4 tasks, one of 4 rows).
  const int64_t per_task = std::max<int64_t>(1, 4096 * 8 / (ow * std::max<int64_t>(8, c.channel_stride)));
  const int64_t tasks = (rows + per_task - 1) / per_task;
  tbb::parallel_for(int64_t{0}, tasks, [&](int64_t task) {
    // KH padded lines, then one of zero points alone. Each row rewrites only the image columns of a line:
    // the padding is set once per task.
    std::vector<uint8_t>& scratch = scratch_space.local();
    scratch.resize(static_cast<size_t>((kh + 1) * length));
    for (int64_t ky = 0; ky < kh; ++ky) {
      uint8_t* line = scratch.data() + ky * length;
      std::memset(line, za, static_cast<size_t>(copy_at));
      std::memset(line + copy_at + copy_bytes, za, static_cast<size_t>(length - copy_at - copy_bytes));
    }
    uint8_t* zero_line = scratch.data() + kh * length;
    std::memset(zero_line, za, static_cast<size_t>(length));
    const uint8_t* lines[kMaxKernelHeight];
    for (int64_t row = task * per_task; row < std::min(rows, (task + 1) * per_task); ++row) {
      const int64_t b = row / oh, y = row % oh;
      for (int64_t ky = 0; ky < kh; ++ky) {
        const int64_t iy = y * p.stride_h - p.pad.top + ky * p.dilation_h;
        if (iy < 0 || iy >= ih) {
          lines[ky] = zero_line;
          continue;
        }
        uint8_t* line = scratch.data() + ky * length;
        std::memcpy(line + copy_at, input + (b * ih + iy) * iw * cin, static_cast<size_t>(copy_bytes));
        lines[ky] = line;
      }
      pixel_lanes_row_avx512vbmi(c, lines, ow, output + row * ow * c.out_channels);
    }
  });
#endif
}

}  // namespace octet::conv
