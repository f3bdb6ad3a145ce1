#pragma once

// The A rows of a segmented convolution (gemm_conv2d.cpp) for one task of output pixels: pointers into the
// NHWC input per pixel and run of k steps (gemm::RowPieces), with the pixels grouped by the kernel taps
// that fall inside the image. A group reads only the runs of its taps; the weights of the taps it leaves
// out meet the input zero point in the full sum, so the group's accumulators start from the zero point
// times those weights (the folded bias assumes every tap was read). The int32 sums, and so the bytes, are
// the same as with every tap read: only padding is skipped. Where the output is small or dilated padding is
// much of the work (of a 3x3 kernel's taps on a 7x7 map 18%, DeepLab's 3x3 at dilation 12 on 33x33 43%).

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/gemm/packed_gemm.h"

namespace octet::conv {

// Padding is skipped where at least this share of a layer's taps can be left out. Grouping costs a little
// per pixel and splits tiles: on a 56x56 map under a 3x3 kernel (2.4% padding, of which the tiles' edge
// pixels keep most) it cost L1 (64 -> 64) more than it saved; from 28x28 (4.7%) on it gains.
constexpr double kMinSkippedShare = 0.03;

// Kernels up to this tall, and up to this many runs of k steps per pixel (kernel rows, or taps).
constexpr int64_t kMaxKernelRows = 16;
constexpr int64_t kMaxRuns = 64;

// How a convolution's weights are segmented, and what its rows may leave out.
struct SegmentLayout {
  int64_t kernel_h = 1, kernel_w = 1, channels = 1;  // channels: C_in
  int64_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1, pad_top = 0, pad_left = 0;
  // One segment per kernel tap (dilated kernel rows are not one run of memory), else one per kernel row.
  bool per_tap = false;
  // Runs may start and end at any tap of a kernel row: C_in is a multiple of the k group (4), so a tap's
  // first k step is a whole step of the packed weights.
  bool trims_columns = false;
  // Pixels are grouped by their taps inside the image where that leaves out at least kMinSkippedShare of
  // the taps; else one group reads every tap, with the zero point copied in at padding taps (the table of
  // gemm::compute_segmented, which the AMX walk takes).
  bool skips_padding = false;
  int64_t segment_padded = 0;
  uint8_t zero_point = 0;
  int64_t out_channels = 0, n_padded = 0;
  // [kernel_h * kernel_w][n_padded]: each tap's weights summed over the input channels.
  std::span<const int32_t> tap_sums;
};

// Kernel indices [lo, hi) along one axis whose taps lie inside the image (lo >= hi: none).
struct TapRange {
  int32_t lo = 0, hi = 0;
  friend bool operator==(const TapRange&, const TapRange&) = default;
};

// The tap ranges of every output row and column of one input size: made once per run.
struct TapWindows {
  std::vector<TapRange> rows, columns;
  std::vector<TapRange> column_keys;  // the columns a pixel's group reads (all, without trimmed runs)
  // Of all the taps of all output pixels, the share a group could leave out.
  double skippable = 0;
};
TapWindows tap_windows(const SegmentLayout& layout, int64_t ih, int64_t iw, int64_t oh, int64_t ow);

// One task: output pixels [first, first + count) in NHWC order, channels [n_begin, n_end).
struct SegmentTask {
  const uint8_t* input = nullptr;
  int64_t batch = 1, ih = 0, iw = 0, oh = 0, ow = 0;
  int64_t first = 0, count = 0;
  uint8_t* output = nullptr;
  int64_t out_stride = 0;  // bytes between output pixels
  int64_t n_begin = 0, n_end = 0;
};

// Builds a task's groups in scratch of its own (one per thread, reused across tasks).
class SegmentRows {
 public:
  // The groups of the task's pixels, for gemm::compute_pieces. Groups whose pixels are not one run of the
  // output are computed into scratch: call scatter() after the GEMM.
  std::span<const gemm::RowPieces> build(const SegmentLayout& layout, const TapWindows& windows,
                                         const SegmentTask& task);
  // Copies the groups computed into scratch to their pixels of the task's output.
  void scatter(const SegmentTask& task) const;

 private:
  // Pixels [x_begin, x_end) of output row y of image b: the task's pixels `index` on.
  struct Span {
    int64_t b, y, x_begin, x_end;
    int32_t index;
  };
  struct Group {
    TapRange rows, columns;   // the taps it reads
    std::vector<Span> spans;  // in the order of their pixels in the task
    int64_t pixels = 0;
    // Derived once the groups are final (build): runs per pixel, whether it reads every tap.
    int64_t runs = 0;
    bool every_tap = false;
    bool direct = false;    // one run of the task's pixels: computed straight into the output
    bool unsorted = false;  // took another group's spans
  };
  void add_span(TapRange rows, TapRange columns, const Span& span);
  void merge_small_groups();
  void make_runs(const SegmentLayout& layout, const Group& g);
  static void make_initial(const SegmentLayout& layout, const Group& g, const SegmentTask& task,
                           int32_t* initial);
  void make_pointers(const SegmentLayout& layout, const TapWindows& windows, const SegmentTask& task,
                     const Group& g, const uint8_t**& table, uint8_t*& copies) const;

  std::vector<Group> groups_;
  size_t used_ = 0;  // groups_[0, used_) belong to the current task (the others keep their capacity)
  std::vector<gemm::KSteps> runs_;  // every group's runs, one after the other
  std::vector<const uint8_t*> table_;
  std::vector<uint8_t> copies_;
  std::vector<int32_t> initial_;
  std::vector<uint8_t> staged_;  // outputs of the groups that are not direct, pixels x out_channels each
  std::vector<gemm::RowPieces> pieces_;
};

}  // namespace octet::conv
