#include "kernels/conv/segment_rows.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "kernels/conv/segment_copy.h"
#include "kernels/error.h"

namespace octet::conv {

namespace {

// A group of fewer pixels than this runs its tiles with so few rows that reading the weights costs more
// than the padding taps it would skip: such groups join a larger group whose taps cover theirs (their
// padding taps then read the zero point, as every tap did before), or one group of their own. A 7x7 map
// under a 3x3 kernel keeps its four edges of 5 pixels (6 of 9 taps) and gives its corners to the
// interior.
constexpr int64_t kMinGroupPixels = 4;

// The kernel indices k in [0, taps) with 0 <= origin + k * dilation < size, as one range.
TapRange inside(int64_t origin, int64_t dilation, int64_t size, int64_t taps) {
  const int64_t lo = origin >= 0 ? 0 : (-origin + dilation - 1) / dilation;
  const int64_t hi = origin > size - 1 ? 0 : (size - 1 - origin) / dilation + 1;
  const int64_t clamped_lo = std::min(lo, taps), clamped_hi = std::min(hi, taps);
  if (clamped_lo >= clamped_hi) return {};
  return {static_cast<int32_t>(clamped_lo), static_cast<int32_t>(clamped_hi)};
}

bool empty(TapRange r) {
  return r.lo >= r.hi;
}

bool covers(TapRange outer, TapRange inner) {
  return empty(inner) || (outer.lo <= inner.lo && inner.hi <= outer.hi);
}

TapRange hull(TapRange a, TapRange b) {
  if (empty(a)) return b;
  if (empty(b)) return a;
  return {std::min(a.lo, b.lo), std::max(a.hi, b.hi)};
}

int64_t round_up(int64_t x, int64_t m) {
  return (x + m - 1) / m * m;
}

// Floor and ceiling of a / b for b > 0 and any a.
int64_t floor_div(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}
int64_t ceil_div(int64_t a, int64_t b) {
  return -floor_div(-a, b);
}

}  // namespace

TapWindows tap_windows(const SegmentLayout& l, int64_t ih, int64_t iw, int64_t oh, int64_t ow) {
  TapWindows w;
  w.rows.resize(static_cast<size_t>(oh));
  w.columns.resize(static_cast<size_t>(ow));
  for (int64_t y = 0; y < oh; ++y)
    w.rows[static_cast<size_t>(y)] = inside(y * l.stride_h - l.pad_top, l.dilation_h, ih, l.kernel_h);
  for (int64_t x = 0; x < ow; ++x)
    w.columns[static_cast<size_t>(x)] = inside(x * l.stride_w - l.pad_left, l.dilation_w, iw, l.kernel_w);
  // Untrimmed kernel rows are read whole wherever one of their taps is inside.
  w.column_keys = w.columns;
  if (!l.trims_columns)
    for (TapRange& key : w.column_keys)
      if (!empty(key)) key = {0, static_cast<int32_t>(l.kernel_w)};
  double rows_read = 0, columns_read = 0;
  for (const TapRange& r : w.rows)
    rows_read += empty(r) ? 0 : r.hi - r.lo;
  for (const TapRange& c : w.column_keys)
    columns_read += empty(c) ? 0 : c.hi - c.lo;
  const double all = static_cast<double>(oh * l.kernel_h) * static_cast<double>(ow * l.kernel_w);
  w.skippable = all > 0 ? 1.0 - rows_read * columns_read / all : 0.0;
  return w;
}

void SegmentRows::add_span(TapRange rows, TapRange columns, const Span& span) {
  // Neighbouring pixels mostly share their taps: the last group used first.
  for (size_t i = used_; i-- > 0;) {
    Group& g = groups_[i];
    if (g.rows == rows && g.columns == columns) {
      g.spans.push_back(span);
      g.pixels += span.x_end - span.x_begin;
      if (i + 1 != used_) std::swap(groups_[i], groups_[used_ - 1]);
      return;
    }
  }
  if (used_ == groups_.size()) groups_.emplace_back();
  Group& g = groups_[used_++];
  g.rows = rows;
  g.columns = columns;
  g.spans.assign(1, span);
  g.pixels = span.x_end - span.x_begin;
  g.unsorted = false;
}

void SegmentRows::merge_small_groups() {
  auto taps = [](const Group& g) -> int64_t {
    return empty(g.rows) || empty(g.columns) ? 0
                                             : int64_t{g.rows.hi - g.rows.lo} * (g.columns.hi - g.columns.lo);
  };
  auto move_into = [](Group& from, Group& into) {
    into.spans.insert(into.spans.end(), from.spans.begin(), from.spans.end());
    into.pixels += from.pixels;
    from.spans.clear();
    from.pixels = 0;
  };
  // Each small group joins the group of enough pixels with the fewest taps that cover its own (a map's
  // corner joins an edge, not the interior), the larger of equals.
  bool moved = false;
  size_t left = 0, first_left = used_;
  TapRange rows, columns;  // the hull of the small groups that no group covers
  for (size_t i = 0; i < used_; ++i) {
    Group& g = groups_[i];
    if (g.pixels == 0 || g.pixels >= kMinGroupPixels) continue;
    size_t target = used_;
    for (size_t j = 0; j < used_; ++j) {
      const Group& t = groups_[j];
      if (t.pixels < kMinGroupPixels || !covers(t.rows, g.rows) || !covers(t.columns, g.columns)) continue;
      if (target == used_ || taps(t) < taps(groups_[target]) ||
          (taps(t) == taps(groups_[target]) && t.pixels > groups_[target].pixels))
        target = j;
    }
    if (target != used_) {
      move_into(g, groups_[target]);
      groups_[target].unsorted = true;
      moved = true;
      continue;
    }
    rows = hull(rows, g.rows);
    columns = hull(columns, g.columns);
    if (left++ == 0) first_left = i;
  }
  // The small groups that none covers become one, reading the hull of their taps.
  if (left > 1) {
    Group& into = groups_[first_left];
    into.rows = rows;
    into.columns = columns;
    for (size_t i = first_left + 1; i < used_; ++i)
      if (groups_[i].pixels > 0 && groups_[i].pixels < kMinGroupPixels) move_into(groups_[i], into);
    into.unsorted = true;
    moved = true;
  }
  if (!moved) return;
  // Spans back in the order of their pixels; the emptied groups dropped, keeping their storage.
  size_t kept = 0;
  for (size_t i = 0; i < used_; ++i) {
    Group& g = groups_[i];
    if (g.pixels == 0) continue;
    if (g.unsorted)
      std::sort(g.spans.begin(), g.spans.end(),
                [](const Span& a, const Span& b) { return a.index < b.index; });
    g.unsorted = false;
    std::swap(groups_[kept++], g);
  }
  used_ = kept;
}

void SegmentRows::make_runs(const SegmentLayout& l, const Group& g) {
  if (g.runs == 0) return;
  const auto steps = static_cast<int32_t>(l.segment_padded / 4);
  for (int32_t ky = g.rows.lo; ky < g.rows.hi; ++ky) {
    if (l.per_tap) {
      for (int32_t kx = g.columns.lo; kx < g.columns.hi; ++kx)
        runs_.push_back({(ky * static_cast<int32_t>(l.kernel_w) + kx) * steps, steps});
    } else if (l.trims_columns) {
      const auto tap_steps = static_cast<int32_t>(l.channels / 4);
      runs_.push_back({ky * steps + g.columns.lo * tap_steps, (g.columns.hi - g.columns.lo) * tap_steps});
    } else {
      runs_.push_back({ky * steps, steps});
    }
  }
}

void SegmentRows::make_initial(const SegmentLayout& l, const Group& g, const SegmentTask& task,
                               int32_t* initial) {
  // The zero point times the weights of the taps the group leaves out, for the channel blocks the kernel
  // reads; uint32 arithmetic: the folded bias wraps the same way.
  const int64_t n_hi = std::min(l.n_padded, round_up(task.n_end, gemm::kChannelBlock));
  for (int64_t n = task.n_begin; n < n_hi; ++n)
    initial[n] = 0;
  for (int64_t ky = 0; ky < l.kernel_h; ++ky)
    for (int64_t kx = 0; kx < l.kernel_w; ++kx) {
      const bool read =
          g.runs > 0 && ky >= g.rows.lo && ky < g.rows.hi && kx >= g.columns.lo && kx < g.columns.hi;
      if (read) continue;
      const int32_t* sums = l.tap_sums.data() + (ky * l.kernel_w + kx) * l.n_padded;
      for (int64_t n = task.n_begin; n < n_hi; ++n)
        initial[n] = static_cast<int32_t>(static_cast<uint32_t>(initial[n]) + static_cast<uint32_t>(sums[n]));
    }
  for (int64_t n = task.n_begin; n < n_hi; ++n)
    initial[n] = static_cast<int32_t>(static_cast<uint32_t>(initial[n]) * l.zero_point);
}

void SegmentRows::make_pointers(const SegmentLayout& l, const TapWindows& windows, const SegmentTask& task,
                                const Group& g, const uint8_t**& table, uint8_t*& copies) const {
  const int64_t cin = l.channels, ih = task.ih, iw = task.iw, seg = l.segment_padded;
  const int64_t input_bytes = task.batch * ih * iw * cin;
  // Kernel-row segments read taps [kx_lo, kx_hi) of each row: the group's, or with untrimmed rows all.
  const bool whole_rows = !l.per_tap && !l.trims_columns;
  const int64_t kx_lo = whole_rows ? 0 : g.columns.lo, kx_hi = whole_rows ? l.kernel_w : g.columns.hi;
  const int64_t run_bytes = whole_rows ? seg : (kx_hi - kx_lo) * cin;
  const uint8_t* zero_row = copies_.data();  // per-tap segments: one row of the zero point
  const int64_t runs_per_row = l.per_tap ? kx_hi - kx_lo : 1;
  const int64_t runs = (g.rows.hi - g.rows.lo) * runs_per_row;
  std::array<const uint8_t*, kMaxKernelRows> lines{};
  std::array<const uint8_t*, kMaxRuns> at{};
  for (const Span& span : g.spans) {
    // The span's kernel rows: null where outside the image.
    const TapRange have_rows = windows.rows[static_cast<size_t>(span.y)];
    const int64_t iy0 = span.y * l.stride_h - l.pad_top;
    for (int64_t ky = g.rows.lo; ky < g.rows.hi; ++ky)
      lines[static_cast<size_t>(ky)] = ky >= have_rows.lo && ky < have_rows.hi
                                           ? task.input + ((span.b * ih + iy0 + ky * l.dilation_h) * iw) * cin
                                           : nullptr;
    // Interior pixels [x_lo, x_hi): every run inside the image (its first tap at column >= 0, its last
    // < iw) and, for whole padded rows, ending inside the input. Their pointers are a few adds apart.
    int64_t x_lo = span.x_end, x_hi = span.x_end;
    if (covers(have_rows, g.rows) && !empty(have_rows)) {
      int64_t max_ix0 = iw - 1 - (kx_hi - 1) * l.dilation_w;
      if (whole_rows) {
        const uint8_t* last_line = lines[static_cast<size_t>(g.rows.hi - 1)];
        max_ix0 = std::min(max_ix0, floor_div(input_bytes - (last_line - task.input) - seg, cin));
      }
      x_lo = std::clamp(ceil_div(l.pad_left - kx_lo * l.dilation_w, l.stride_w), span.x_begin, span.x_end);
      x_hi = std::clamp(floor_div(max_ix0 + l.pad_left, l.stride_w) + 1, x_lo, span.x_end);
    }
    auto border_pixel = [&](int64_t x) {
      const int64_t ix0 = x * l.stride_w - l.pad_left;
      const TapRange have_columns = windows.columns[static_cast<size_t>(x)];
      for (int64_t ky = g.rows.lo; ky < g.rows.hi; ++ky) {
        const uint8_t* line = lines[static_cast<size_t>(ky)];
        if (l.per_tap) {
          for (int64_t kx = kx_lo; kx < kx_hi; ++kx) {
            const bool tap_inside = line != nullptr && kx >= have_columns.lo && kx < have_columns.hi;
            *table++ = tap_inside ? line + (ix0 + kx * l.dilation_w) * cin : zero_row;
          }
          continue;
        }
        const int64_t x0 = ix0 + kx_lo, columns = kx_hi - kx_lo;  // kernel rows: no horizontal dilation
        // Offsets, not pointers: a padded row's end may lie past the input's.
        if (line != nullptr && x0 >= 0 && x0 + columns <= iw &&
            (line - task.input) + x0 * cin + run_bytes <= input_bytes) {
          *table++ = line + x0 * cin;
          continue;
        }
        copy_segment(copies, line, x0, columns, iw, cin, l.zero_point, run_bytes);
        *table++ = copies;
        copies += run_bytes;
      }
    };
    for (int64_t x = span.x_begin; x < x_lo; ++x)
      border_pixel(x);
    if (x_hi > x_lo) {  // else a line may be null, and no pointer into it may be formed
      const int64_t ix0 = x_lo * l.stride_w - l.pad_left, step = l.stride_w * cin;
      size_t i = 0;
      for (int64_t ky = g.rows.lo; ky < g.rows.hi; ++ky)
        for (int64_t kx = kx_lo; kx < kx_lo + runs_per_row; ++kx)
          at[i++] = lines[static_cast<size_t>(ky)] + (ix0 + kx * l.dilation_w) * cin;
      for (int64_t x = x_lo; x < x_hi; ++x)
        for (int64_t r = 0; r < runs; ++r)
          *table++ = at[static_cast<size_t>(r)] + (x - x_lo) * step;
    }
    for (int64_t x = x_hi; x < span.x_end; ++x)
      border_pixel(x);
  }
}

std::span<const gemm::RowPieces> SegmentRows::build(const SegmentLayout& l, const TapWindows& windows,
                                                    const SegmentTask& task) {
  // The packing's limits (prepare_gemm_conv2d), which the fixed arrays of make_pointers rely on.
  if (l.kernel_h > kMaxKernelRows || (l.per_tap && l.kernel_h * l.kernel_w > kMaxRuns) ||
      (!l.per_tap && l.dilation_w != 1 && l.kernel_w != 1))
    throw Error("conv2d: a segmented layout this kernel cannot read (" + std::to_string(l.kernel_h) + "x" +
                std::to_string(l.kernel_w) + " kernel)");
  used_ = 0;
  const bool skips = l.skips_padding && windows.skippable >= kMinSkippedShare;
  const TapRange all_rows{0, static_cast<int32_t>(l.kernel_h)},
      all_columns{0, static_cast<int32_t>(l.kernel_w)};
  // The pixels as spans along output rows, each of one group's taps: the first pixel by division, the
  // others by stepping.
  int64_t b = task.first / (task.oh * task.ow), y = task.first / task.ow % task.oh, x = task.first % task.ow;
  for (int64_t r = 0; r < task.count;) {
    const int64_t row_end = x + std::min(task.count - r, task.ow - x);
    const TapRange rows = skips ? windows.rows[static_cast<size_t>(y)] : all_rows;
    if (empty(rows) || !skips) {
      // One key for the whole run: no tap inside the image, or every tap read.
      add_span(empty(rows) ? TapRange{} : rows, empty(rows) ? TapRange{} : all_columns,
               Span{b, y, x, row_end, static_cast<int32_t>(r)});
      r += row_end - x;
      x = row_end;
    }
    while (x < row_end) {
      const TapRange columns = windows.column_keys[static_cast<size_t>(x)];
      const int64_t begin = x;
      for (++x; x < row_end && windows.column_keys[static_cast<size_t>(x)] == columns; ++x) {
      }
      const bool none = empty(columns);
      add_span(none ? TapRange{} : rows, columns, Span{b, y, begin, x, static_cast<int32_t>(r)});
      r += x - begin;
    }
    if (x == task.ow) {
      x = 0;
      if (++y == task.oh) y = 0, ++b;
    }
  }
  if (skips) merge_small_groups();

  // Sizes first (the spans and pointers below must not move), then the contents.
  size_t pointers = 0, staged = 0, initials = 0;
  for (size_t i = 0; i < used_; ++i) {
    Group& g = groups_[i];
    const bool reads = !empty(g.rows) && !empty(g.columns);
    g.runs = reads ? (g.rows.hi - g.rows.lo) * (l.per_tap ? g.columns.hi - g.columns.lo : 1) : 0;
    g.every_tap = g.rows == all_rows && g.columns == all_columns;
    pointers += static_cast<size_t>(g.pixels * g.runs);
    const Span& front = g.spans.front();
    const Span& back = g.spans.back();
    g.direct = back.index + (back.x_end - back.x_begin) - front.index == g.pixels;
    if (!g.direct) staged += static_cast<size_t>(g.pixels * l.out_channels);
    if (!g.every_tap) initials += static_cast<size_t>(l.n_padded);
  }
  runs_.clear();
  for (size_t i = 0; i < used_; ++i)
    make_runs(l, groups_[i]);
  table_.resize(pointers);
  staged_.resize(staged);
  initial_.resize(initials);
  // Copies: kernel-row segments that leave the image, at most one per pointer; per-tap segments point at
  // one row of the zero point instead.
  const int64_t seg = l.segment_padded;
  const size_t copy_bytes = l.per_tap ? static_cast<size_t>(seg) : pointers * static_cast<size_t>(seg);
  if (copies_.size() < copy_bytes) copies_.resize(copy_bytes);
  if (l.per_tap) std::memset(copies_.data(), l.zero_point, static_cast<size_t>(seg));

  pieces_.resize(used_);
  const uint8_t** table = table_.data();
  uint8_t* copies = copies_.data();
  uint8_t* staging = staged_.data();
  int32_t* initial = initial_.data();
  const gemm::KSteps* group_runs = runs_.data();
  for (size_t i = 0; i < used_; ++i) {
    const Group& g = groups_[i];
    gemm::RowPieces& p = pieces_[i];
    p.rows = table;
    p.m = g.pixels;
    p.runs = std::span(group_runs, static_cast<size_t>(g.runs));
    group_runs += g.runs;
    p.initial = nullptr;
    if (!g.every_tap) {
      make_initial(l, g, task, initial);
      p.initial = initial;
      initial += l.n_padded;
    }
    if (g.direct) {
      p.c = task.output + (task.first + g.spans.front().index) * task.out_stride;
      p.c_stride = task.out_stride;
    } else {
      p.c = staging;
      p.c_stride = l.out_channels;
      staging += p.m * l.out_channels;
    }
    if (g.runs > 0) make_pointers(l, windows, task, g, table, copies);
  }
  return std::span<const gemm::RowPieces>(pieces_.data(), used_);
}

void SegmentRows::scatter(const SegmentTask& task) const {
  const auto width = static_cast<size_t>(task.n_end - task.n_begin);
  for (size_t i = 0; i < used_; ++i) {
    const Group& g = groups_[i];
    if (g.direct) continue;
    const gemm::RowPieces& p = pieces_[i];
    const uint8_t* from = p.c + task.n_begin;
    for (const Span& span : g.spans)
      for (int64_t k = 0; k < span.x_end - span.x_begin; ++k, from += p.c_stride)
        std::memcpy(task.output + (task.first + span.index + k) * task.out_stride + task.n_begin, from,
                    width);
  }
}

}  // namespace octet::conv
