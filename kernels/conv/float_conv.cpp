#include "kernels/conv/float_conv.h"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "kernels/conv/float_depthwise.h"
#include "kernels/conv/float_depthwise_simd.h"
#include "kernels/elementwise/float_elementwise.h"
#include "kernels/error.h"
#include "kernels/float_kernels.h"
#include "kernels/gemm/float_gemm.h"
#include "kernels/gemm/float_gemm_kernel.h"
#include "kernels/parallel.h"
#include "kernels/reference/float_elementwise.h"

namespace octet::conv {

// How a convolution runs (chosen once, by prepare_float_conv2d):
//   gemm       one GEMM per group, K = (ky, kx, ci) as the weights' rows: 1x1 stride-1 unpadded
//              convolutions read the input rows in place; others with small weights read the input in
//              place too, row by row, im2col rows only at the borders (run_direct_rows); the rest over
//              im2col tiles; on AVX-512, groups of at most 8 output channels run AVX2's microkernel
//              (narrow_gemm_isa)
//   depthwise  groups == C_in, one input channel per group: a vector kernel across channels; also grouped
//              convolutions whose groups have as many input as output channels, G, with G dividing the
//              vector width and less than it (ResNeXt's 4 and 8 and RegNet's 8 on AVX-512, 2 and 4 on
//              AVX2, 2 on NEON), whose per-group GEMMs would be a few columns wide: each vector of input
//              channels holds whole groups and the kernel moves each output channel's i-th operand into
//              its lane (lane_group); and the other grouped convolutions with fewer output channels per
//              group than kVectorGroupOut, on an input expanded so that each output channel finds its
//              group's i-th input channel at the same place (run_depthwise)
struct FloatConv2d {
  Isa isa = Isa::scalar;
  ref::Conv2dParams params;
  FloatClamp clamp;        // with adds_residual, applied after the add (the GEMM's epilogue; finish_block
                           // after the depthwise kernel, which then clamps nothing)
  UnaryParams activation;  // identity: none
  bool adds_residual = false;
  int64_t kernel_h = 1, kernel_w = 1, in_channels = 0, out_channels = 0, group_in = 0, group_out = 0;
  bool depthwise = false;
  // gemm: the ISA whose microkernel multiplies (and packed B): AVX2's 8-float vectors where a group has at
  // most 8 output channels on AVX-512, whose 16-float vectors would be half empty (narrow_gemm_isa).
  Isa gemm_isa = Isa::scalar;
  std::vector<gemm::PackedFloatB> packed;  // gemm: per group, B [KH * KW * group_in, group_out]
  std::vector<float> depthwise_weights;    // depthwise: [KH * KW * group_in, C_out]
  // depthwise with an expanded input: element [i][oc] of an expanded pixel is input channel
  // expand_from[i * C_out + oc] = (oc / group_out) * group_in + i
  std::vector<int32_t> expand_from;
  // depthwise on the input itself, for groups of lane_group input and output channels (FloatDepthwiseRow)
  int64_t lane_group = 0;
  std::vector<float> bias;  // [C_out], or empty for none
};

// Gathered per output row and per class of output columns that take the same taps: the taps' input
// channels are copied into A rows and multiplied by only those taps' rows of B (KRun), in (ky, kx, ci)
// order, so a tap that falls outside the input is skipped, as the reference skips it, not multiplied by 0.
struct FloatConvTranspose2d {
  Isa isa = Isa::scalar;
  ref::ConvTranspose2dParams params;
  FloatClamp clamp;
  UnaryParams activation;  // identity: none
  int64_t kernel_h = 1, kernel_w = 1, in_channels = 0, out_channels = 0, group_in = 0, group_out = 0;
  std::vector<gemm::PackedFloatB> packed;  // per group, B [KH * KW * group_in, group_out]
  std::vector<float> bias;                 // [C_out], or empty for none
};

void float_depthwise_row_scalar(const FloatDepthwiseRow& row) {
  float_depthwise_row_simd<simd::ScalarArch>(row);
}

void no_grouped_row_kernel(const FloatDepthwiseRow& row, int64_t width) {
  throw Error("float_conv2d: no kernel for groups of " + std::to_string(row.lane_group) +
              " channels in vectors of " + std::to_string(width) + " floats, with " +
              std::to_string(row.channels) + " channels");
}

namespace {

constexpr int64_t round_up(int64_t x, int64_t m) {
  return (x + m - 1) / m * m;
}

// Grouped convolutions with fewer output channels per group than this run on the depthwise kernel with an
// expanded input, unless lane_group() takes them (which also takes some wider groups). (AMD Zen 4, 1 thread,
// 3x3: with the GEMMs on im2col rows 4 per group ran 4.5x faster there; since the GEMMs read their input
// in place with 8-float vectors (run_direct_rows, narrow_gemm_isa), 4 per group run faster on them
// (ResNeXt's 32 x 4 on 56 x 56: 2.0 -> 1.55 ms; 64 x 4 on 28 x 28 the same), 2 per group still 2.6x
// slower.)
constexpr int64_t kVectorGroupOut = 4;

// Groups of G input and G output channels run on the depthwise kernel without an expanded input
// (FloatDepthwiseRow::lane_group) where G divides the ISA's vector width and is less than it: returns G
// there, else 0. (AMD Zen 5, 1 thread, ResNeXt-50's grouped 3x3 layers against their GEMMs: groups of 4
// on 56 x 56, 7-8 -> 38-42 GMAC/s on AVX-512 and 7 -> 23 on AVX2; groups of 8 on 28 x 28, 18-20 -> 28-44
// on AVX-512. Groups as wide as the vector, each input value splat from memory, ran at 22-30 GMAC/s
// against the GEMM's 31-32, so they stay on the GEMM.)
int64_t lane_group(Isa isa, int64_t group_in, int64_t group_out, int64_t out_channels) {
  const int64_t lanes = gemm::float_tile(isa).vector_width;  // the depthwise kernel's too (float_conv_*.cpp)
  const bool fits = group_in == group_out && group_in > 1 && group_in < lanes && lanes % group_in == 0;
  return fits && out_channels >= lanes ? group_in : 0;
}

// The GEMM of groups with at most 8 output channels (RegNet's 8-channel groups before lane_group() took
// them; groups of unequal widths still) on AVX-512 runs AVX2's microkernel: the same arithmetic per
// output, in vectors as wide as the group. (16-float vectors were half zero padding; AMD Zen 4 runs
// 8-float FMAs at the same rate per float.)
Isa narrow_gemm_isa(Isa isa, int64_t group_out) {
  return vector_isa(isa) == Isa::avx512vnni && group_out <= 8 ? Isa::avx2 : isa;
}
// The expanded input rows a depthwise task builds for its band of output rows: about this many bytes.
constexpr int64_t kBandBytes = 1024 * 1024;
constexpr int64_t kMaxBandRows = 16;

// A tile's im2col rows (tile x K floats) are built by the thread that multiplies them and read once per
// panel of B, a block of K at a time (gemm::float_gemm_k_block): rows of one block within about this many
// bytes stay in L2 beside the panel's block. Where K is blocked, B is larger than L2 and each tile reads all
// of it again, so long tiles matter there. (AMD Zen 5, 1 thread: 3x3 from 512 to 512 channels on 7x7, one
// tile of 49 pixels instead of 5 tiles of 12: 1.17 -> 1.10 ms; 1x1 from 2048 to 512 on 7x7: 0.51 -> 0.47 ms;
// layers whose K is not blocked, from 96 KiB: the same times.)
constexpr int64_t kTileBytes = 256 * 1024;
// Tiles are multiples of every microkernel's full row count (6 and 4; tiles one vector wide, which take up
// to 12 or 16 rows, split a tile evenly whatever its length).
constexpr int64_t kRowQuantum = 12;
constexpr int64_t kMaxTileRows = 240;

int64_t tile_pixels(Isa isa, int64_t pixels, int64_t k, int64_t n) {
  const int64_t bytes_per_row =
      std::max<int64_t>(1, gemm::float_gemm_k_block(isa, k, n)) * static_cast<int64_t>(sizeof(float));
  const int64_t most =
      std::clamp<int64_t>(kTileBytes / bytes_per_row / kRowQuantum * kRowQuantum, kRowQuantum, kMaxTileRows);
  // The pixels spread evenly over as few tiles as `most` allows.
  const int64_t tiles = (pixels + most - 1) / most;
  return round_up((pixels + tiles - 1) / tiles, kRowQuantum);
}

struct Scratch {
  std::vector<float> a, out;
  std::vector<gemm::KRun> runs;
};
tbb::enumerable_thread_specific<Scratch> scratch_space;

// The parameters every convolution checks when it is prepared: their meaning does not depend on the input.
void check_window(std::string_view op, int64_t stride_h, int64_t stride_w, int64_t dilation_h,
                  int64_t dilation_w, const ref::Padding2d& pad, int64_t groups) {
  const std::string name(op);
  if (stride_h < 1 || stride_w < 1)
    throw Error(name + ": strides must be >= 1, got " + std::to_string(stride_h) + " x " +
                std::to_string(stride_w));
  if (dilation_h < 1 || dilation_w < 1)
    throw Error(name + ": dilations must be >= 1, got " + std::to_string(dilation_h) + " x " +
                std::to_string(dilation_w));
  if (pad.top < 0 || pad.left < 0 || pad.bottom < 0 || pad.right < 0)
    throw Error(name + ": padding must be >= 0");
  if (groups < 1) throw Error(name + ": group count must be >= 1, got " + std::to_string(groups));
}

// Weights [C_out, KH, KW, C_in / groups]: returns {C_out, KH, KW, C_in / groups} after the checks the
// references make that do not need the input.
Shape check_weights(std::string_view op, const Shape& shape, int64_t groups) {
  const std::string name(op);
  if (shape.size() != 4)
    throw Error(name + ": weights must be [C_out, KH, KW, C_in / groups] (rank 4), got " + to_string(shape));
  element_count(shape, name + " weights");
  if (shape[1] < 1 || shape[2] < 1) throw Error(name + ": kernel size must be >= 1, got " + to_string(shape));
  if (shape[0] % groups != 0)
    throw Error(name + ": group count " + std::to_string(groups) + " must divide output channels " +
                std::to_string(shape[0]));
  return shape;
}

void check_input(std::string_view op, int64_t n, int64_t h, int64_t w) {
  if (n < 0 || h < 0 || w < 0)
    throw Error(std::string(op) + ": negative input size " + std::to_string(n) + " x " + std::to_string(h) +
                " x " + std::to_string(w));
}

// Per group g, B_g [K, group_out] from the weight rows of its output channels ([group_out, K], transposed).
std::vector<gemm::PackedFloatB> pack_groups(Isa isa, const float* weights, int64_t k, int64_t groups,
                                            int64_t group_out) {
  std::vector<gemm::PackedFloatB> packed;
  for (int64_t g = 0; g < groups; ++g)
    packed.push_back(gemm::pack_float_b(isa, weights + g * group_out * k, k, group_out, true));
  return packed;
}

// Runs B's panels [p0, p1) of one group on A rows `rows` (rows `lda` apart) into out (rows `ldo` apart), the
// residual (null, or laid out as out) added after the sums, then the clamp.
void multiply_panels(const gemm::PackedFloatB& b, int64_t p0, int64_t p1, const float* a, int64_t lda,
                     int64_t rows, const gemm::KRun* runs, int64_t run_count, const float* bias,
                     FloatClamp clamp, const float* residual, float* out, int64_t ldo) {
  gemm::float_gemm_panels({.b = &b,
                           .p0 = p0,
                           .p1 = p1,
                           .a = a,
                           .lda = lda,
                           .rows = rows,
                           .runs = runs,
                           .run_count = run_count,
                           .bias = bias,
                           .residual = residual,
                           .clamp = clamp,
                           .out = out,
                           .ldo = ldo});
}

// The steps after the sum over a block of the output its task has just written (`rows` rows of `cols`
// floats, `ld` apart), in place, on this thread: the residual's elements added (`residual`: the block's
// place in it, or null), the clamp where it comes after the add, the activation. The block is still in
// cache, where separate operators would read the whole tensor back from memory.
void finish_block(const UnaryParams& activation, Isa isa, FloatClamp clamp, const float* residual, float* out,
                  int64_t rows, int64_t cols, int64_t ld) {
  const bool activates = activation.op != UnaryOp::identity;
  if ((residual == nullptr && !activates) || rows * cols == 0) return;
  const FloatKernels& kernels = float_kernels(isa);
  auto finish = [&](float* y, const float* r, int64_t n) {
    if (r != nullptr) {
      if (kernels.binary == nullptr) {
        for (int64_t i = 0; i < n; ++i)
          y[i] = ref::binary_value(BinaryOp::add, y[i], r[i]);
      } else {
        const elementwise::BinarySegment all{0, 0, 0, n};
        kernels.binary(BinaryOp::add, y, 1, r, 1, y, &all, 1);
      }
    }
    // Without a residual the GEMM's epilogue has clamped already.
    elementwise::clamp_and_activate(isa, r != nullptr ? clamp : FloatClamp{}, activation, y, n);
  };
  if (cols == ld) return finish(out, residual, rows * cols);
  for (int64_t i = 0; i < rows; ++i)
    finish(out + i * ld, residual ? residual + i * ld : nullptr, cols);
}

// The im2col rows of `rows` output pixels from pixel `first` on, for group `group`: K = (ky, kx, ci),
// zeros at padding taps (which the reference multiplies too).
void fill_rows(const FloatConv2d& c, const float* input, int64_t ih, int64_t iw, int64_t oh, int64_t ow,
               int64_t first, int64_t rows, int64_t group, float* a) {
  const auto& p = c.params;
  const int64_t cin = c.in_channels, cg = c.group_in, span = c.kernel_w * cg;
  const bool whole_runs = c.group_in == cin && p.dilation_w == 1;  // a kernel row's taps: one run of input
  int64_t b = first / (oh * ow), y = first / ow % oh, x = first % ow;
  for (int64_t r = 0; r < rows; ++r) {
    float* row = a + r * c.kernel_h * span;
    const int64_t ix0 = x * p.stride_w - p.pad.left;
    for (int64_t ky = 0; ky < c.kernel_h; ++ky, row += span) {
      const int64_t iy = y * p.stride_h - p.pad.top + ky * p.dilation_h;
      if (iy < 0 || iy >= ih) {
        std::fill_n(row, span, 0.0f);
        continue;
      }
      const float* line = input + (b * ih + iy) * iw * cin + group * cg;
      if (whole_runs) {
        const int64_t lo = std::clamp<int64_t>(-ix0, 0, c.kernel_w),
                      hi = std::clamp<int64_t>(iw - ix0, lo, c.kernel_w);
        std::fill_n(row, lo * cg, 0.0f);
        std::copy_n(line + (ix0 + lo) * cin, (hi - lo) * cg, row + lo * cg);
        std::fill_n(row + hi * cg, (c.kernel_w - hi) * cg, 0.0f);
        continue;
      }
      for (int64_t kx = 0; kx < c.kernel_w; ++kx) {
        const int64_t ix = ix0 + kx * p.dilation_w;
        if (ix >= 0 && ix < iw)
          std::copy_n(line + ix * cin, cg, row + kx * cg);
        else
          std::fill_n(row + kx * cg, cg, 0.0f);
      }
    }
    if (++x == ow) {
      x = 0;
      if (++y == oh) y = 0, ++b;
    }
  }
}

// The clamp the depthwise kernel applies: none when a residual is added after it (finish_block: the clamp
// comes after the add). The GEMM's microkernel adds the residual itself, before its clamp.
FloatClamp kernel_clamp(const FloatConv2d& c) {
  return c.adds_residual ? FloatClamp{} : c.clamp;
}

// Convolutions with small weights per group (B within 128 KiB): run_direct_rows reads their input in
// place, where im2col rows cost about as much to build, a few floats per copy, as the GEMM takes to
// multiply them (the first layer of an image network: SSDlite's, 3x3 stride 2 from 3 to 16 channels, spent
// 2.7x its GEMM's time building them; RegNet's 8-channel groups copied 8 floats per tap). It multiplies one
// output row at a time, reading all of B for each: where B is large and rows short (3x3 from 256 to 256
// channels on 14x14), that cost more than the copies saved (AMD Zen 4, 1 thread: 2.04 -> 2.45 ms), where B
// stays in L2 it did not (32 to 32 channels on 112x112: 2.47 -> 2.13 ms; 16 to 16 on 160x160: 1.66 ->
// 1.12 ms). B that small never has its K blocked (gemm::float_gemm_k_block: a panel over 256 KiB).
constexpr int64_t kDirectWeightBytes = 128 * 1024;

bool reads_input_rows(const FloatConv2d& c) {
  const int64_t k = c.kernel_h * c.kernel_w * c.group_in;
  return k * c.group_out * static_cast<int64_t>(sizeof(float)) <= kDirectWeightBytes;
}

// Output row by output row and group by group. With groups 1, the pixels whose every tap is inside the input
// take their A rows straight from it (row r at stride_w * C_in floats from the last, a kernel row's taps
// one K run from where its input starts, or a run per tap with horizontal dilation), the others from
// im2col rows (fill_rows). A grouped convolution's task first copies its group's channels of the input rows
// its kernel rows read into a strip (fill_strip), zeros where a tap falls outside the input, and reads
// every pixel from there: a kernel row's taps become one run, and the border pixels no longer run as
// tiles of one row each, whose sums are a single chain of dependent fmas (ResNeXt's 16- and 32-channel
// groups on 14x14 and 7x7, where the border is a quarter to a half of the pixels). Either way the same k
// order, (ky, kx, ci), and the same zeros at padding taps: the bits of run_gemm.
// Output columns per strip: a strip holds kernel_h rows of about this many pixels' taps, in L1 / L2.
constexpr int64_t kStripColumns = 128;

// The strip of output row y (of image b) from output column x0 on, for group `group`: kernel_h rows, one
// per ky, each of `width` pixels of the group's group_in channels from input column x0 stride_w - pad_left
// on (columns x0 to x0 + n - 1 read the first (n - 1) stride_w + (kernel_w - 1) dilation_w + 1); 0.0f
// where the pixel is outside the input.
void fill_strip(const FloatConv2d& c, const float* input, int64_t ih, int64_t iw, int64_t b, int64_t y,
                int64_t x0, int64_t width, int64_t group, float* strip) {
  const auto& p = c.params;
  const int64_t cin = c.in_channels, cg = c.group_in;
  const int64_t ix0 = x0 * p.stride_w - p.pad.left;
  // The strip's columns that lie inside the input: [lo, hi).
  const int64_t lo = std::clamp<int64_t>(-ix0, 0, width), hi = std::clamp<int64_t>(iw - ix0, lo, width);
  for (int64_t ky = 0; ky < c.kernel_h; ++ky, strip += width * cg) {
    const int64_t iy = y * p.stride_h - p.pad.top + ky * p.dilation_h;
    if (iy < 0 || iy >= ih) {
      std::fill_n(strip, width * cg, 0.0f);
      continue;
    }
    std::fill_n(strip, lo * cg, 0.0f);
    if (lo < hi) {
      const float* from = input + ((b * ih + iy) * iw + ix0 + lo) * cin + group * cg;
      // A loop, not std::copy_n: groups are a few floats, and a library call per pixel cost more than the
      // multiply on 8-channel groups at stride 2 (RegNet's).
      for (int64_t j = lo; j < hi; ++j, from += cin)
        for (int64_t i = 0; i < cg; ++i)
          strip[j * cg + i] = from[i];
    }
    std::fill_n(strip + hi * cg, (width - hi) * cg, 0.0f);
  }
}

void run_direct_rows(const FloatConv2d& c, const float* input, int64_t n, int64_t ih, int64_t iw, int64_t oh,
                     int64_t ow, float* output, const float* residual) {
  const auto& p = c.params;
  const int64_t cin = c.in_channels, cout = c.out_channels, cg = c.group_in;
  const int64_t k = c.kernel_h * c.kernel_w * cg, groups = static_cast<int64_t>(c.packed.size());
  const int64_t panel = gemm::float_tile(c.gemm_isa).panel_width();
  const int64_t panels = (c.group_out + panel - 1) / panel;
  const float* bias = c.bias.empty() ? nullptr : c.bias.data();
  // The columns whose taps are all inside a row: ix0 = x stride - pad_left >= 0 and
  // ix0 + (kernel_w - 1) dilation_w < iw.
  const int64_t span = (c.kernel_w - 1) * p.dilation_w + 1;
  const int64_t x_begin = std::min(ow, (p.pad.left + p.stride_w - 1) / p.stride_w);
  const int64_t x_end =
      iw + p.pad.left < span ? x_begin : std::clamp((iw + p.pad.left - span) / p.stride_w + 1, x_begin, ow);
  // A kernel row's taps in A, from where its input row starts (`row_stride` floats between kernel rows) and
  // pixels `pixel` floats apart: one run where they are contiguous, else one per tap.
  auto kernel_runs = [&](int64_t row_stride, int64_t pixel) {
    std::vector<gemm::KRun> runs;
    for (int64_t ky = 0; ky < c.kernel_h; ++ky) {
      if (pixel == cg && p.dilation_w == 1) {
        runs.push_back({ky * c.kernel_w * cg, c.kernel_w * cg, ky * row_stride});
        continue;
      }
      for (int64_t kx = 0; kx < c.kernel_w; ++kx)
        runs.push_back({(ky * c.kernel_w + kx) * cg, cg, ky * row_stride + kx * p.dilation_w * pixel});
    }
    return runs;
  };
  const bool strips = cg < cin;
  const int64_t strip_columns = std::min(ow, kStripColumns);
  const int64_t strip_width = (strip_columns - 1) * p.stride_w + (c.kernel_w - 1) * p.dilation_w + 1;
  // In place: kernel rows dilation_h input rows apart; in a strip, its rows (every strip is as wide: the
  // row's last may hold columns past its pixels' taps).
  const std::vector<gemm::KRun> runs =
      strips ? kernel_runs(strip_width * cg, cg) : kernel_runs(p.dilation_h * iw * cin, cin);
  const gemm::KRun whole{0, k};
  // Few rows (late layers, several B panels): each group's panels split too, so every thread gets work.
  const int64_t splits = column_split(n * oh * groups, panels), per_split = (panels + splits - 1) / splits;
  tbb::parallel_for(int64_t{0}, n * oh * groups * splits, [&](int64_t task) {
    const int64_t split = task % splits, g = task / splits % groups, row = task / splits / groups;
    const int64_t p0 = split * per_split, p1 = std::min(panels, (split + 1) * per_split);
    const int64_t b = row / oh, y = row % oh;
    const int64_t iy0 = y * p.stride_h - p.pad.top;
    const bool rows_inside = iy0 >= 0 && iy0 + (c.kernel_h - 1) * p.dilation_h < ih;
    const int64_t inside_begin = rows_inside ? x_begin : ow, inside_end = rows_inside ? x_end : ow;
    const gemm::PackedFloatB& packed = c.packed[static_cast<size_t>(g)];
    const float* group_bias = bias ? bias + g * c.group_out : nullptr;
    float* out = output + row * ow * cout + g * c.group_out;
    const float* row_residual = residual ? residual + row * ow * cout + g * c.group_out : nullptr;
    auto residual_at = [&](int64_t x) { return row_residual ? row_residual + x * cout : nullptr; };
    // Columns [x0, x1) through im2col rows, in tiles as run_gemm builds them (a whole row of a wide image
    // whose kernel rows leave the input would otherwise be one scratch buffer of ow x K floats).
    auto gathered = [&](int64_t x0, int64_t x1) {
      if (x1 <= x0) return;
      Scratch& scratch = scratch_space.local();
      const int64_t tile = tile_pixels(c.gemm_isa, x1 - x0, k, c.group_out);
      scratch.a.resize(static_cast<size_t>(std::min(tile, x1 - x0) * k));
      for (int64_t t0 = x0; t0 < x1; t0 += tile) {
        const int64_t count = std::min(tile, x1 - t0);
        fill_rows(c, input, ih, iw, oh, ow, row * ow + t0, count, g, scratch.a.data());
        multiply_panels(packed, p0, p1, scratch.a.data(), k, count, &whole, 1, group_bias, c.clamp,
                        residual_at(t0), out + t0 * cout, cout);
      }
    };
    if (strips) {
      Scratch& scratch = scratch_space.local();
      scratch.a.resize(static_cast<size_t>(c.kernel_h * strip_width * cg));
      for (int64_t x0 = 0; x0 < ow; x0 += strip_columns) {
        const int64_t columns = std::min(strip_columns, ow - x0);
        fill_strip(c, input, ih, iw, b, y, x0, strip_width, g, scratch.a.data());
        multiply_panels(packed, p0, p1, scratch.a.data(), p.stride_w * cg, columns, runs.data(),
                        static_cast<int64_t>(runs.size()), group_bias, c.clamp, residual_at(x0),
                        out + x0 * cout, cout);
      }
    } else {
      gathered(0, inside_begin);
      if (inside_end > inside_begin) {
        const float* a =
            input + ((b * ih + iy0) * iw + inside_begin * p.stride_w - p.pad.left) * cin + g * cg;
        multiply_panels(packed, p0, p1, a, p.stride_w * cin, inside_end - inside_begin, runs.data(),
                        static_cast<int64_t>(runs.size()), group_bias, c.clamp, residual_at(inside_begin),
                        out + inside_begin * cout, cout);
      }
      gathered(std::max(inside_begin, inside_end), ow);
    }
    const int64_t col0 = std::min(p0 * panel, c.group_out), col1 = std::min(p1 * panel, c.group_out);
    const int64_t at = row * ow * cout + g * c.group_out + col0;
    finish_block(c.activation, c.isa, c.clamp, nullptr, output + at, ow, col1 - col0, cout);
  });
}

void run_gemm(const FloatConv2d& c, const float* input, int64_t n, int64_t ih, int64_t iw, int64_t oh,
              int64_t ow, float* output, const float* residual) {
  const auto& p = c.params;
  const int64_t pixels = n * oh * ow, cout = c.out_channels;
  const int64_t group_count = static_cast<int64_t>(c.packed.size());
  const int64_t k = c.kernel_h * c.kernel_w * c.group_in;
  const bool in_place = c.kernel_h == 1 && c.kernel_w == 1 && p.stride_h == 1 && p.stride_w == 1 &&
                        p.pad.top == 0 && p.pad.left == 0 && p.pad.bottom == 0 && p.pad.right == 0;
  if (!in_place && reads_input_rows(c)) return run_direct_rows(c, input, n, ih, iw, oh, ow, output, residual);
  const int64_t tile = tile_pixels(c.gemm_isa, pixels, k, c.group_out), tiles = (pixels + tile - 1) / tile;
  // Few tiles (late layers): also split each group's panels, so every thread gets work.
  const int64_t panel = gemm::float_tile(c.gemm_isa).panel_width();
  const int64_t panels = (c.group_out + panel - 1) / panel;
  const int64_t splits = column_split(tiles * group_count, panels);
  const int64_t per_split = (panels + splits - 1) / splits;
  const float* bias = c.bias.empty() ? nullptr : c.bias.data();
  const gemm::KRun run{0, k};
  tbb::parallel_for(int64_t{0}, tiles * group_count * splits, [&](int64_t task) {
    const int64_t split = task % splits, g = task / splits % group_count, t = task / splits / group_count;
    const int64_t first = t * tile, rows = std::min(tile, pixels - first);
    const float* a = input + first * c.in_channels + g * c.group_in;
    int64_t lda = c.in_channels;
    if (!in_place) {
      Scratch& scratch = scratch_space.local();
      scratch.a.resize(static_cast<size_t>(std::max<int64_t>(1, rows * k)));
      fill_rows(c, input, ih, iw, oh, ow, first, rows, g, scratch.a.data());
      a = scratch.a.data();
      lda = k;
    }
    const int64_t p0 = split * per_split, p1 = std::min(panels, (split + 1) * per_split);
    float* out = output + first * cout + g * c.group_out;
    multiply_panels(c.packed[static_cast<size_t>(g)], p0, p1, a, lda, rows, &run, 1,
                    bias ? bias + g * c.group_out : nullptr, c.clamp,
                    residual ? residual + first * cout + g * c.group_out : nullptr, out, cout);
    const int64_t col0 = std::min(p0 * panel, c.group_out), col1 = std::min(p1 * panel, c.group_out);
    const int64_t at = first * cout + g * c.group_out + col0;
    finish_block(c.activation, c.isa, c.clamp, nullptr, output + at, rows, col1 - col0, cout);
  });
}

// The depthwise kernel's input for a grouped convolution: output channel oc (of group oc / group_out) reads
// its group's input channel i at [pixel][i][oc], so that the kernel's lanes find their operands side by
// side. Depthwise layers with a channel multiplier repeat each input channel; plain ones use the input.
bool expands_input(const FloatConv2d& c) {
  return c.lane_group == 0 && (c.group_in > 1 || c.group_out > 1);
}

void run_depthwise(const FloatConv2d& c, const float* input, int64_t n, int64_t ih, int64_t iw, int64_t oh,
                   int64_t ow, float* output, const float* residual) {
  const int64_t cout = c.out_channels, cin = c.in_channels, gi = c.group_in;
  const auto& p = c.params;
  const bool expands = expands_input(c);
  // Tasks of `band` output rows; an expanding task first builds the input rows its band reads.
  const int64_t row_floats = iw * gi * cout;
  auto rows_read = [&](int64_t rows) {
    return (rows - 1) * p.stride_h + (c.kernel_h - 1) * p.dilation_h + 1;
  };
  int64_t band = 1;
  if (expands)
    while (band < kMaxBandRows && rows_read(band + 1) * row_floats * 4 <= kBandBytes)
      ++band;
  const int64_t bands = (oh + band - 1) / band;
  const auto row_kernel = float_kernels(c.isa).depthwise_row;
  tbb::parallel_for(int64_t{0}, n * bands, [&](int64_t task) {
    const int64_t b = task / bands, oy0 = task % bands * band, oy1 = std::min(oh, oy0 + band);
    const float* image = input + b * ih * iw * cin;
    int64_t first_row = 0;
    if (expands) {
      // Input rows [first_row, last_row) of this band, those inside the image, expanded: output channel oc
      // (of group oc / go) finds its group's input channel i at [row][x][i][oc].
      first_row = std::clamp<int64_t>(oy0 * p.stride_h - p.pad.top, 0, ih);
      const int64_t last_row = std::clamp<int64_t>(
          (oy1 - 1) * p.stride_h - p.pad.top + (c.kernel_h - 1) * p.dilation_h + 1, first_row, ih);
      thread_local std::unique_ptr<float[]> scratch;
      thread_local int64_t capacity = 0;
      const int64_t need = std::max<int64_t>(1, (last_row - first_row) * row_floats);
      if (need > capacity) {
        scratch = std::make_unique_for_overwrite<float[]>(static_cast<size_t>(need));
        capacity = need;
      }
      const int32_t* from = c.expand_from.data();
      const int64_t pixel = gi * cout;
      for (int64_t px = first_row * iw; px < last_row * iw; ++px) {
        const float* x = image + px * cin;
        float* e = scratch.get() + (px - first_row * iw) * pixel;
        for (int64_t k = 0; k < pixel; ++k)
          e[k] = x[from[k]];
      }
      image = scratch.get();
    }
    for (int64_t oy = oy0; oy < oy1; ++oy) {
      const int64_t at = (b * oh + oy) * ow * cout;
      row_kernel({.image = image,
                  .first_row = first_row,
                  .ih = ih,
                  .iw = iw,
                  .channels = cout,
                  .inner = gi,
                  .lane_group = c.lane_group,
                  .weights = c.depthwise_weights.data(),
                  .bias = c.bias.empty() ? nullptr : c.bias.data(),
                  .kernel_h = c.kernel_h,
                  .kernel_w = c.kernel_w,
                  .params = c.params,
                  .clamp = kernel_clamp(c),
                  .oy = oy,
                  .ox_begin = 0,
                  .ox_end = ow,
                  .out = output + at});
      finish_block(c.activation, c.isa, c.clamp, residual ? residual + at : nullptr, output + at, 1,
                   ow * cout, ow * cout);
    }
  });
}

}  // namespace

std::shared_ptr<const FloatConv2d> prepare_float_conv2d(Isa isa, const float* weights,
                                                        const Shape& weight_shape, const float* bias,
                                                        const ref::Conv2dParams& params, FloatClamp clamp,
                                                        const UnaryParams& activation, bool adds_residual) {
  constexpr std::string_view op = "float_conv2d";
  check_window(op, params.stride_h, params.stride_w, params.dilation_h, params.dilation_w, params.pad,
               params.groups);
  const Shape s = check_weights(op, weight_shape, params.groups);
  if (!cpu_supports(isa))
    throw Error("float_conv2d: this CPU cannot run " + std::string(name_of(isa)) + " kernels");
  auto c = std::make_shared<FloatConv2d>();
  c->isa = isa;
  c->params = params;
  c->clamp = clamp;
  c->activation = activation;
  c->adds_residual = adds_residual;
  c->out_channels = s[0];
  c->kernel_h = s[1];
  c->kernel_w = s[2];
  c->group_in = s[3];
  c->in_channels = s[3] * params.groups;
  c->group_out = s[0] / params.groups;
  if (bias != nullptr) c->bias.assign(bias, bias + c->out_channels);
  const int64_t taps = c->kernel_h * c->kernel_w;
  c->lane_group = params.groups > 1 ? lane_group(isa, c->group_in, c->group_out, c->out_channels) : 0;
  c->depthwise =
      params.groups > 1 && (c->group_in == 1 || c->group_out < kVectorGroupOut || c->lane_group > 0);
  if (c->depthwise) {
    // Tap (ky, kx, i) of output channel oc: weights[oc][ky][kx][i].
    const int64_t gi = c->group_in, cout = c->out_channels;
    c->depthwise_weights.resize(static_cast<size_t>(taps * gi * cout));
    for (int64_t oc = 0; oc < cout; ++oc)
      for (int64_t t = 0; t < taps * gi; ++t)
        c->depthwise_weights[static_cast<size_t>(t * cout + oc)] = weights[oc * taps * gi + t];
    if (expands_input(*c)) {
      c->expand_from.resize(static_cast<size_t>(gi * cout));
      for (int64_t i = 0; i < gi; ++i)
        for (int64_t oc = 0; oc < cout; ++oc)
          c->expand_from[static_cast<size_t>(i * cout + oc)] =
              static_cast<int32_t>(oc / c->group_out * gi + i);
    }
  }
  if (!c->depthwise) {
    c->gemm_isa = narrow_gemm_isa(isa, c->group_out);
    c->packed = pack_groups(c->gemm_isa, weights, taps * c->group_in, params.groups, c->group_out);
  }
  return c;
}

void run(const FloatConv2d& c, const float* input, int64_t n, int64_t h, int64_t w, float* output,
         const float* residual) {
  constexpr std::string_view op = "float_conv2d";
  check_input(op, n, h, w);
  if ((residual != nullptr) != c.adds_residual)
    throw Error(c.adds_residual ? "float_conv2d: prepared to add a residual tensor, given none"
                                : "float_conv2d: given a residual tensor it was not prepared to add");
  const auto& p = c.params;
  const int64_t oh =
      ref::conv_output_size(op, "height", h, c.kernel_h, p.stride_h, p.dilation_h, p.pad.top, p.pad.bottom);
  const int64_t ow =
      ref::conv_output_size(op, "width", w, c.kernel_w, p.stride_w, p.dilation_w, p.pad.left, p.pad.right);
  if (n * oh * ow * c.out_channels == 0) return;
  if (c.depthwise)
    run_depthwise(c, input, n, h, w, oh, ow, output, residual);
  else
    run_gemm(c, input, n, h, w, oh, ow, output, residual);
}

int64_t lane_group_of(const FloatConv2d& c) {
  return c.lane_group;
}

std::shared_ptr<const FloatConvTranspose2d> prepare_float_conv_transpose2d(
    Isa isa, const float* weights, const Shape& weight_shape, const float* bias,
    const ref::ConvTranspose2dParams& params, FloatClamp clamp, const UnaryParams& activation) {
  constexpr std::string_view op = "float_conv_transpose2d";
  check_window(op, params.stride_h, params.stride_w, params.dilation_h, params.dilation_w, params.pad,
               params.groups);
  if (params.output_padding_h < 0 || params.output_padding_w < 0)
    throw Error("float_conv_transpose2d: output_padding must be >= 0");
  const Shape s = check_weights(op, weight_shape, params.groups);
  if (!cpu_supports(isa))
    throw Error("float_conv_transpose2d: this CPU cannot run " + std::string(name_of(isa)) + " kernels");
  auto c = std::make_shared<FloatConvTranspose2d>();
  c->isa = isa;
  c->params = params;
  c->clamp = clamp;
  c->activation = activation;
  c->out_channels = s[0];
  c->kernel_h = s[1];
  c->kernel_w = s[2];
  c->group_in = s[3];
  c->in_channels = s[3] * params.groups;
  c->group_out = s[0] / params.groups;
  if (bias != nullptr) c->bias.assign(bias, bias + c->out_channels);
  c->packed = pack_groups(isa, weights, c->kernel_h * c->kernel_w * c->group_in, params.groups, c->group_out);
  return c;
}

namespace {

// A tap of a transposed convolution along one axis: kernel index k reaches input index i.
struct Tap {
  int64_t k = 0, i = 0;
};

// The taps that reach output index `o` along an axis, in kernel order: those whose input index
// (o + pad - k * dilation) / stride is whole and inside [0, input).
std::vector<Tap> taps_at(int64_t o, int64_t kernel, int64_t stride, int64_t dilation, int64_t pad,
                         int64_t input) {
  std::vector<Tap> taps;
  for (int64_t k = 0; k < kernel; ++k) {
    const int64_t t = o + pad - k * dilation;
    if (t >= 0 && t % stride == 0 && t / stride < input) taps.push_back({k, t / stride});
  }
  return taps;
}

// Output columns that take the same kernel columns, in increasing order.
struct ColumnClass {
  std::vector<int64_t> kx;
  std::vector<int64_t> columns;
};

// Output columns per A block of a transposed convolution.
constexpr int64_t kTransposedRows = 96;

}  // namespace

void run(const FloatConvTranspose2d& c, const float* input, int64_t n, int64_t h, int64_t w, float* output) {
  check_input("float_conv_transpose2d", n, h, w);
  const auto& p = c.params;
  const int64_t oh = ref::conv_transpose_output_size("height", h, c.kernel_h, p.stride_h, p.dilation_h,
                                                     p.pad.top, p.pad.bottom, p.output_padding_h);
  const int64_t ow = ref::conv_transpose_output_size("width", w, c.kernel_w, p.stride_w, p.dilation_w,
                                                     p.pad.left, p.pad.right, p.output_padding_w);
  if (n * oh * ow * c.out_channels == 0) return;
  const int64_t cin = c.in_channels, cout = c.out_channels, cg = c.group_in, kw = c.kernel_w;
  // The column classes, once per run (they do not depend on the row).
  std::vector<ColumnClass> classes;
  {
    std::map<std::vector<int64_t>, size_t> index;
    for (int64_t ox = 0; ox < ow; ++ox) {
      std::vector<int64_t> kx;
      for (const Tap& t : taps_at(ox, kw, p.stride_w, p.dilation_w, p.pad.left, w))
        kx.push_back(t.k);
      const auto [at, added] = index.try_emplace(kx, classes.size());
      if (added) classes.push_back({kx, {}});
      classes[at->second].columns.push_back(ox);
    }
  }
  const int64_t groups = static_cast<int64_t>(c.packed.size());
  const float* bias = c.bias.empty() ? nullptr : c.bias.data();
  const int64_t panels =
      (c.group_out + gemm::float_tile(c.isa).panel_width() - 1) / gemm::float_tile(c.isa).panel_width();
  tbb::parallel_for(int64_t{0}, n * oh * groups, [&](int64_t task) {
    const int64_t g = task % groups, oy = task / groups % oh, b = task / groups / oh;
    const std::vector<Tap> rows_taps = taps_at(oy, c.kernel_h, p.stride_h, p.dilation_h, p.pad.top, h);
    Scratch& scratch = scratch_space.local();
    float* out_row = output + (b * oh + oy) * ow * cout + g * c.group_out;
    const float* group_bias = bias ? bias + g * c.group_out : nullptr;
    for (const ColumnClass& cls : classes) {
      // The taps in (ky, kx) order as runs of B rows; a run continues while the next tap's rows follow on.
      scratch.runs.clear();
      int64_t a_column = 0;  // the gathered A rows hold the taps one after another
      for (const Tap& ty : rows_taps)
        for (int64_t kx : cls.kx) {
          const int64_t first = (ty.k * kw + kx) * cg;
          if (!scratch.runs.empty() && scratch.runs.back().b_row + scratch.runs.back().length == first)
            scratch.runs.back().length += cg;
          else
            scratch.runs.push_back({first, cg, a_column});
          a_column += cg;
        }
      const int64_t k = static_cast<int64_t>(rows_taps.size() * cls.kx.size()) * cg;
      const int64_t members = static_cast<int64_t>(cls.columns.size());
      for (int64_t m0 = 0; m0 < members; m0 += kTransposedRows) {
        const int64_t rows = std::min(kTransposedRows, members - m0);
        const int64_t* columns = cls.columns.data() + m0;
        scratch.a.resize(static_cast<size_t>(std::max<int64_t>(1, rows * k)));
        float* a = scratch.a.data();
        for (int64_t r = 0; r < rows; ++r)
          for (const Tap& ty : rows_taps)
            for (int64_t kx : cls.kx) {
              const int64_t ix = (columns[r] + p.pad.left - kx * p.dilation_w) / p.stride_w;
              a = std::copy_n(input + ((b * h + ty.i) * w + ix) * cin + g * cg, cg, a);
            }
        // Columns evenly spaced (the usual case) are written in place; others through a copy.
        const int64_t step = rows > 1 ? columns[1] - columns[0] : 1;
        bool even = true;
        for (int64_t r = 2; r < rows && even; ++r)
          even = columns[r] - columns[r - 1] == step;
        float* out = out_row + columns[0] * cout;
        int64_t ldo = step * cout;
        if (!even) {
          scratch.out.resize(static_cast<size_t>(rows * c.group_out));
          out = scratch.out.data();
          ldo = c.group_out;
        }
        multiply_panels(c.packed[static_cast<size_t>(g)], 0, panels, scratch.a.data(), k, rows,
                        scratch.runs.data(), static_cast<int64_t>(scratch.runs.size()), group_bias, c.clamp,
                        nullptr, out, ldo);
        if (!even)
          for (int64_t r = 0; r < rows; ++r)
            std::copy_n(scratch.out.data() + r * c.group_out, c.group_out, out_row + columns[r] * cout);
      }
    }
    finish_block(c.activation, c.isa, c.clamp, nullptr, out_row, ow, c.group_out, cout);
  });
}

}  // namespace octet::conv
