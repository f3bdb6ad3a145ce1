#include "kernels/conv/gemm_conv2d.h"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/conv/output_stride.h"
#include "kernels/conv/segment_copy.h"
#include "kernels/conv/segment_rows.h"
#include "kernels/error.h"
#include "kernels/gemm/row_sums.h"

namespace octet::conv {

namespace {

// Output pixels per task at most: a multiple of both microkernels' row counts (8 and 4), small enough that
// the tile's im2col rows stay in L2 next to the weights. Each tile streams the layer's weights through the
// caches once, so a layer's pixels are spread evenly over as few tiles as this allows: 49 pixels (a 7x7
// layer, whose 3x3x512 weights are 2.4 MB) make one tile, not 48 pixels and one more pass over the weights
// for the last pixel.
constexpr int64_t kMaxTilePixels = 64;

int64_t tile_pixels(int64_t pixels) {
  const int64_t tiles = std::max<int64_t>(1, (pixels + kMaxTilePixels - 1) / kMaxTilePixels);
  return ((pixels + tiles - 1) / tiles + 7) / 8 * 8;
}

// Each tap's weights [C_out, KH, KW, C_in] summed over the input channels, as packed (uint8 weights less
// 128, gemm::pack's int8 form): [KH * KW][n_padded].
template <class W>
std::vector<int32_t> tap_sums(const Tensor<W>& weights, int64_t n_padded) {
  constexpr int32_t shift = std::is_same_v<W, uint8_t> ? 128 : 0;
  const int64_t cout = weights.shape.at(0), taps = weights.shape.at(1) * weights.shape.at(2);
  const int64_t cin = weights.shape.at(3);
  std::vector<int32_t> sums(static_cast<size_t>(taps * n_padded), 0);
  for (int64_t n = 0; n < cout; ++n)
    for (int64_t t = 0; t < taps; ++t) {
      int32_t sum = 0;
      for (int64_t i = 0; i < cin; ++i)
        sum += static_cast<int32_t>(weights.data[static_cast<size_t>((n * taps + t) * cin + i)]) - shift;
      sums[static_cast<size_t>(t * n_padded + n)] = sum;
    }
  return sums;
}

// How the task rows of a segmented convolution are made (segment_rows.h).
SegmentLayout segment_layout(const GemmConv2d& c) {
  const auto& p = c.params;
  SegmentLayout l;
  l.kernel_h = c.kernel_h, l.kernel_w = c.kernel_w, l.channels = c.in_channels;
  l.stride_h = p.stride_h, l.stride_w = p.stride_w, l.dilation_h = p.dilation_h, l.dilation_w = p.dilation_w;
  l.pad_top = p.pad.top, l.pad_left = p.pad.left;
  l.per_tap = c.per_tap_segments;
  l.trims_columns = c.in_channels % 4 == 0;
  // The AMX walk reads every segment of every row.
  l.skips_padding = !c.amx;
  l.segment_padded = c.weights.segment_padded;
  l.zero_point = static_cast<uint8_t>(c.weights.input_zero_point);
  l.out_channels = c.out_channels, l.n_padded = c.weights.n_padded;
  l.tap_sums = c.tap_sums;
  return l;
}

inline void fill_bytes(uint8_t* dst, uint8_t value, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    dst[i] = value;
}

// One im2col row: the K = KH * KW * C_in input bytes under output pixel (b, y, x) in (ky, kx, c) order,
// with the input zero point at padding taps. With no horizontal dilation, the taps of one kernel row that
// lie inside the image are one contiguous run of NHWC memory, copied at once.
void fill_row(const GemmConv2d& c, const uint8_t* input, int64_t b, int64_t y, int64_t x, int64_t ih,
              int64_t iw, uint8_t* row) {
  const auto& p = c.params;
  const int64_t cin = c.in_channels, span = c.kernel_w * cin;
  const auto za = static_cast<uint8_t>(c.weights.input_zero_point);
  for (int64_t ky = 0; ky < c.kernel_h; ++ky, row += span) {
    const int64_t iy = y * p.stride_h - p.pad.top + ky * p.dilation_h;
    if (iy < 0 || iy >= ih) {
      fill_bytes(row, za, span);
      continue;
    }
    const uint8_t* line = input + (b * ih + iy) * iw * cin;
    const int64_t ix0 = x * p.stride_w - p.pad.left;
    if (p.dilation_w == 1) {
      copy_segment(row, line, ix0, c.kernel_w, iw, cin, za, span);
      continue;
    }
    for (int64_t kx = 0; kx < c.kernel_w; ++kx) {
      const int64_t ix = ix0 + kx * p.dilation_w;
      if (ix >= 0 && ix < iw)
        copy_bytes(row + kx * cin, line + ix * cin, cin);
      else
        fill_bytes(row + kx * cin, za, cin);
    }
  }
}

}  // namespace

template <class W>
GemmConv2d prepare_gemm_conv2d(Isa isa, const Tensor<W>& weights, const TensorS32* bias,
                               const ref::Conv2dParams& params, const QuantParams& input,
                               const QuantParams& output, Clamp clamp, RequantMode mode) {
  if (params.groups != 1) throw Error("gemm conv2d: grouped convolutions take another kernel");
  GemmConv2d c;
  c.params = params;
  c.out_channels = weights.shape.at(0);
  c.kernel_h = weights.shape.at(1);
  c.kernel_w = weights.shape.at(2);
  c.in_channels = weights.shape.at(3);
  const int64_t k = c.kernel_h * c.kernel_w * c.in_channels;
  auto pack = [&](int64_t segments) {
    return gemm::pack(isa, weights.data.data(), c.out_channels, k, weights.quant,
                      bias ? bias->data.data() : nullptr, input, output, clamp, "conv2d", segments, mode);
  };
  // The AMX weights in the VNNI weights' segments; not where the pixel-lane kernel takes the layer.
  auto pack_amx = [&] {
    if (isa != Isa::avx512amx || c.pixel_lanes) return;
    c.amx = AmxConv{gemm::amx_pack(weights.data.data(), c.out_channels, k, weights.quant,
                                   bias ? bias->data.data() : nullptr, input, output, clamp, "conv2d", mode,
                                   c.weights.segments)};
  };
  const bool one_by_one_in_place = c.kernel_h == 1 && c.kernel_w == 1 && params.stride_h == 1 &&
                                   params.stride_w == 1 && params.pad.top == 0 && params.pad.left == 0 &&
                                   params.pad.bottom == 0 && params.pad.right == 0;
  // VNNI reads each kernel row's taps (a contiguous run of NHWC memory when there is no horizontal
  // dilation) in place, one segment per kernel row, for kernels up to kMaxKernelRows tall. With horizontal
  // dilation, one segment per tap, where a tap is whole k steps (C_in a multiple of 4) and at least 4 of
  // them (shorter runs spend more on their row pointers than on their multiplies), and the AMX walk is not
  // to read them (it takes kernel rows). The others copy them into im2col rows.
  const bool row_runs = params.dilation_w == 1 || c.kernel_w == 1;
  const bool per_tap = !row_runs && c.in_channels % 4 == 0 && c.in_channels >= 16 && isa != Isa::avx512amx &&
                       c.kernel_h * c.kernel_w <= kMaxRuns;
  if (gemm::has_segmented_kernel(isa) && (row_runs || per_tap) && c.kernel_h <= kMaxKernelRows &&
      !(one_by_one_in_place && k % 4 == 0)) {
    c.weights = pack(per_tap ? c.kernel_h * c.kernel_w : c.kernel_h);
    if (!c.weights.needs_row_sums) {
      c.segmented = true;
      c.per_tap_segments = per_tap;
      if (pixel_lanes_apply(isa, params, c.kernel_h, c.kernel_w, c.in_channels, c.out_channels))
        c.pixel_lanes =
            prepare_pixel_lanes(c.weights, params, c.kernel_h, c.kernel_w, c.in_channels, c.out_channels);
      pack_amx();
      // What a group that skips padding taps starts from; the AMX walk reads every tap.
      if (!c.amx) c.tap_sums = tap_sums(weights, c.weights.n_padded);
      return c;
    }
  }
  c.weights = pack(1);
  pack_amx();
  return c;
}

template GemmConv2d prepare_gemm_conv2d(Isa, const Tensor<int8_t>&, const TensorS32*,
                                        const ref::Conv2dParams&, const QuantParams&, const QuantParams&,
                                        Clamp, RequantMode);
template GemmConv2d prepare_gemm_conv2d(Isa, const Tensor<uint8_t>&, const TensorS32*,
                                        const ref::Conv2dParams&, const QuantParams&, const QuantParams&,
                                        Clamp, RequantMode);

void run(const GemmConv2d& c, const uint8_t* input, int64_t n, int64_t ih, int64_t iw, uint8_t* output,
         const ResidualAdd* residual, int64_t output_stride) {
  const auto& p = c.params;
  const gemm::PackedWeights& w = c.weights;
  const int64_t oh = ref::conv_output_size("conv2d", "height", ih, c.kernel_h, p.stride_h, p.dilation_h,
                                           p.pad.top, p.pad.bottom);
  const int64_t ow = ref::conv_output_size("conv2d", "width", iw, c.kernel_w, p.stride_w, p.dilation_w,
                                           p.pad.left, p.pad.right);
  const int64_t pixels = n * oh * ow, cin = c.in_channels, cout = c.out_channels;
  // Output pixels out_stride bytes apart: cout, or more for a slice of a concatenation's output.
  const int64_t out_stride = output_pixel_stride("conv2d", output_stride, cout);
  if (out_stride != cout && residual) throw Error("conv2d: a fused residual add needs a dense output");
  if (c.pixel_lanes && out_stride == cout) {
    // First layers, which residual adds do not follow in practice: one pass after the whole output.
    run(*c.pixel_lanes, input, n, ih, iw, output);
    if (residual) residual->apply_all(output, pixels * cout);
    return;
  }
  // The residual operator on a task's output while it is in cache, where the task has every channel of its
  // pixels (a contiguous run) and the output fits in a core's L2 cache; else over the whole output
  // afterwards. Tasks split by channels (late layers with few pixels) would apply it in pieces of 32
  // channels per pixel. Past the L2 cache (224x224x64: 3.2 MB) the fused add measured 1.5-3% slower at one
  // thread than a pass of its own (AMD Zen 5, benchmarks/residual_add_bench).
  constexpr int64_t kPerTaskResidualBytes = int64_t{1} << 20;
  bool per_task = residual != nullptr && pixels * cout <= kPerTaskResidualBytes;
  auto prepare = [&](int64_t first, int64_t rows, int64_t n_begin, int64_t n_end) {
    if (per_task && n_begin == 0 && n_end == cout) residual->prefetch(first * cout, rows * cout);
  };
  auto finish = [&](int64_t first, int64_t rows, int64_t n_begin, int64_t n_end) {
    if (per_task && n_begin == 0 && n_end == cout) residual->apply(output, first * cout, rows * cout);
  };
  auto after_all_tasks = [&] {
    if (residual && !per_task) residual->apply_all(output, pixels * cout);
  };
  const int64_t elem = w.a_element_size();
  const bool in_place = c.kernel_h == 1 && c.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 &&
                        p.pad.top == 0 && p.pad.left == 0 && p.pad.bottom == 0 && p.pad.right == 0 &&
                        w.k_padded == w.k && elem == 1 && !w.needs_row_sums;
  const int64_t tile = tile_pixels(pixels), tiles = (pixels + tile - 1) / tile;
  struct Scratch {
    std::vector<uint8_t> a, narrow;
    std::vector<int32_t> sums;
  };
  static tbb::enumerable_thread_specific<Scratch> scratch_space;
  // Tasks are tiles of pixels x groups of output channels. Late layers have few pixels (7x7: one tile)
  // and many channels: split by pixels alone, one thread would do all of the work. Channel groups are
  // multiples of the microkernel's 32 channels; a task's A rows (copies, segment pointers) are prepared once
  // per task, so the split is only made when threads can use it.
  const int64_t threads = tbb::this_task_arena::max_concurrency();
  int64_t groups = 1;
  if (threads > 1 && tiles < 4 * threads)
    groups = std::min((cout + 31) / 32, (4 * threads + tiles - 1) / tiles);
  const int64_t group_width = ((cout + groups - 1) / groups + 31) / 32 * 32;
  groups = (cout + group_width - 1) / group_width;
  per_task = per_task && groups == 1;
  auto for_each_task = [&](auto&& body) {
    tbb::parallel_for(int64_t{0}, tiles * groups, [&](int64_t task) {
      const int64_t g = task % groups;
      body(task / groups, g * group_width, std::min(cout, (g + 1) * group_width));
    });
  };
  if (c.segmented) {
    const SegmentLayout layout = segment_layout(c);
    const TapWindows windows = tap_windows(layout, ih, iw, oh, ow);
    static tbb::enumerable_thread_specific<SegmentRows> rows_space;
    for_each_task([&](int64_t t, int64_t n_begin, int64_t n_end) {
      const int64_t first = t * tile, rows = std::min(tile, pixels - first);
      prepare(first, rows, n_begin, n_end);
      const SegmentTask task{input, n, ih, iw, oh, ow, first, rows, output, out_stride, n_begin, n_end};
      SegmentRows& builder = rows_space.local();
      const std::span<const gemm::RowPieces> pieces = builder.build(layout, windows, task);
      if (c.amx) {
        // Without skipping: one group, every segment of the task's rows in order, straight to the output.
        if (pieces.size() != 1 || pieces[0].m != rows || pieces[0].initial != nullptr)
          throw Error("conv2d: the AMX walk takes every segment of every row");
        amx_compute_segmented(*c.amx, pieces[0].rows, rows, n_begin, n_end, output + first * out_stride,
                              out_stride);
      } else {
        gemm::compute_pieces(w, pieces, n_begin, n_end);
      }
      builder.scatter(task);
      finish(first, rows, n_begin, n_end);
    });
    return after_all_tasks();
  }
  for_each_task([&](int64_t t, int64_t n_begin, int64_t n_end) {
    const int64_t first = t * tile, rows = std::min(tile, pixels - first);
    prepare(first, rows, n_begin, n_end);
    uint8_t* out = output + first * out_stride;
    if (in_place) {
      if (c.amx)
        amx_compute(*c.amx, input + first * cin, cin, nullptr, rows, n_begin, n_end, out, out_stride);
      else
        gemm::compute(w, input + first * cin, cin, nullptr, rows, n_begin, n_end, out, out_stride);
      return finish(first, rows, n_begin, n_end);
    }
    const int64_t row_bytes = w.k_padded * elem;
    // Per-thread scratch, reused across tiles and runs: only the K padding of each row needs zeroing.
    Scratch& scratch = scratch_space.local();
    scratch.a.resize(static_cast<size_t>(tile * row_bytes));
    scratch.sums.resize(static_cast<size_t>(tile));
    scratch.narrow.resize(static_cast<size_t>(w.k));
    std::vector<uint8_t>& a = scratch.a;
    std::vector<int32_t>& sums = scratch.sums;
    std::vector<uint8_t>& narrow = scratch.narrow;
    // The tile's first pixel by division, the others by stepping: three 64-bit divisions per pixel
    // cost more than filling a first layer's row.
    int64_t b = first / (oh * ow), y = first / ow % oh, x = first % ow;
    for (int64_t r = 0; r < rows; ++r, ++x) {
      if (x == ow) {
        x = 0;
        if (++y == oh) y = 0, ++b;
      }
      uint8_t* row = a.data() + r * row_bytes;
      std::memset(row + w.k * elem, 0, static_cast<size_t>((w.k_padded - w.k) * elem));
      if (elem == 1) {
        fill_row(c, input, b, y, x, ih, iw, row);
      } else {
        // AVX2 rows are int16: build the uint8 row, then widen it.
        fill_row(c, input, b, y, x, ih, iw, narrow.data());
        auto* wide = reinterpret_cast<int16_t*>(row);
        for (int64_t i = 0; i < w.k; ++i)
          wide[i] = narrow[static_cast<size_t>(i)];
      }
      if (w.needs_row_sums) {
        sums[static_cast<size_t>(r)] = gemm::byte_sum(elem == 1 ? row : narrow.data(), w.k);
      }
    }
    if (c.amx)
      amx_compute(*c.amx, a.data(), row_bytes, w.needs_row_sums ? sums.data() : nullptr, rows, n_begin, n_end,
                  out, out_stride);
    else
      gemm::compute(w, a.data(), row_bytes, sums.data(), rows, n_begin, n_end, out, out_stride);
    finish(first, rows, n_begin, n_end);
  });
  after_all_tasks();
}

}  // namespace octet::conv
