// The data-dependent selections (kernels/selection): NonZero's coordinates, and NonMaxSuppression against
// ONNX's rules (ties to the lower box index, strict score and IoU thresholds, at most max_per_class, both
// box formats, NaN boxes never suppressing) and, on random boxes, against a float64 evaluation of the same
// greedy selection wherever no overlap lies within rounding of the threshold.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <span>
#include <vector>

#include "kernels/selection/compress.h"
#include "kernels/selection/non_max_suppression.h"
#include "kernels/selection/non_zero.h"

namespace octet {
namespace {

using selection::NmsParams;
using Rows = std::vector<std::array<int64_t, 3>>;

TEST(NonZero, CoordinatesInRowMajorOrder) {
  const std::vector<uint8_t> mask = {0, 1, 0, 1, 1, 0};  // [2, 3]
  EXPECT_EQ(selection::non_zero_coordinates(mask, {2, 3}), (std::vector<int64_t>{0, 1, 1, 1, 0, 1}));
  const std::vector<uint8_t> cube = {1, 0, 0, 0, 0, 0, 0, 1};  // [2, 2, 2]
  EXPECT_EQ(selection::non_zero_coordinates(cube, {2, 2, 2}), (std::vector<int64_t>{0, 1, 0, 1, 0, 1}));
}

TEST(NonZero, ScalarsEmptyTensorsAndNothingSelected) {
  const std::vector<uint8_t> one = {1};
  EXPECT_EQ(selection::non_zero_coordinates(one, {}), (std::vector<int64_t>{0}));  // [1, 1]
  const std::vector<uint8_t> zero = {0};
  EXPECT_TRUE(selection::non_zero_coordinates(zero, {}).empty());  // [1, 0]
  EXPECT_TRUE(selection::non_zero_coordinates({}, {2, 0, 3}).empty());
  EXPECT_TRUE(selection::non_zero_coordinates(std::vector<uint8_t>(6, 0), {2, 3}).empty());
}

// Compress against slicing written out here: every axis of a [2, 3, 4] int64 tensor, conditions shorter
// or longer than the axis, keeping nothing or everything.
TEST(Compress, KeepsTheSlicesTheConditionSelects) {
  std::vector<int64_t> x(24);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<int64_t>(i);
  const Shape shape = {2, 3, 4};
  const auto bytes = std::as_bytes(std::span(x));
  for (int64_t axis = 0; axis < 3; ++axis) {
    const int64_t length = shape[static_cast<size_t>(axis)];
    for (int64_t pattern = 0; pattern < (int64_t{1} << length); ++pattern) {
      // Up to two entries past the axis, which select nothing (ONNX Runtime reads the axis's only).
      for (int64_t given = 0; given <= length + 2; ++given) {
        std::vector<uint8_t> condition(static_cast<size_t>(given), 1);
        for (int64_t i = 0; i < std::min(given, length); ++i)
          condition[static_cast<size_t>(i)] = (pattern >> i) & 1;
        std::vector<int64_t> want;
        for (int64_t a = 0; a < 2; ++a)
          for (int64_t b = 0; b < 3; ++b)
            for (int64_t c = 0; c < 4; ++c) {
              const int64_t at[] = {a, b, c};
              const int64_t i = at[axis];
              if (i < given && condition[static_cast<size_t>(i)])
                want.push_back(x[static_cast<size_t>((a * 3 + b) * 4 + c)]);
            }
        int64_t kept = -1;
        const std::vector<std::byte> got =
            selection::compress(bytes, shape, sizeof(int64_t), axis, condition, kept);
        std::vector<int64_t> values(got.size() / sizeof(int64_t));
        if (!got.empty()) std::memcpy(values.data(), got.data(), got.size());
        EXPECT_EQ(values, want) << "axis " << axis << " pattern " << pattern << " given " << given;
        EXPECT_EQ(kept * (24 / length), static_cast<int64_t>(want.size()));
      }
    }
  }
}

NmsParams params(int64_t classes, int64_t boxes, int64_t max_per_class, float iou) {
  NmsParams p;
  p.batches = 1;
  p.classes = classes;
  p.boxes = boxes;
  p.max_per_class = max_per_class;
  p.iou_threshold = iou;
  return p;
}

TEST(NonMaxSuppression, EqualScoresGoToTheLowerIndexAndThresholdsAreStrict) {
  // Three disjoint unit boxes (corners [y1, x1, y2, x2]) with equal scores, and a fourth box equal to box 2.
  const std::vector<float> boxes = {0, 0, 1, 1, 0, 5, 1, 6, 0, 10, 1, 11, 0, 10, 1, 11};
  const std::vector<float> scores = {0.5f, 0.5f, 0.9f, 0.5f};
  NmsParams p = params(1, 4, 10, 0.5f);
  EXPECT_EQ(selection::non_max_suppression(boxes, scores, p), (Rows{{0, 0, 2}, {0, 0, 0}, {0, 0, 1}}));
  // IoU 1 is not above a threshold of 1: identical boxes both stay.
  p.iou_threshold = 1.0f;
  EXPECT_EQ(selection::non_max_suppression(boxes, scores, p).size(), 4u);
  // A score equal to the threshold is not above it.
  p.score_threshold = 0.5f;
  EXPECT_EQ(selection::non_max_suppression(boxes, scores, p), (Rows{{0, 0, 2}}));
  p.score_threshold.reset();
  p.max_per_class = 2;
  EXPECT_EQ(selection::non_max_suppression(boxes, scores, p), (Rows{{0, 0, 2}, {0, 0, 0}}));
  p.max_per_class = 0;
  EXPECT_TRUE(selection::non_max_suppression(boxes, scores, p).empty());
  p.max_per_class = -3;
  EXPECT_TRUE(selection::non_max_suppression(boxes, scores, p).empty());
}

TEST(NonMaxSuppression, BoxFormatsAgreeAndFlippedCornersAreTheSameBox) {
  // Centre format [xc, yc, w, h] with even sizes (exact halves), and the same boxes as corners, some flipped.
  const std::vector<float> centred = {2, 2, 4, 4, 3, 3, 4, 4, 20, 20, 2, 2};
  const std::vector<float> corners = {0, 0, 4, 4, 5, 5, 1, 1, 19, 19, 21, 21};
  const std::vector<float> scores = {0.9f, 0.8f, 0.7f};
  NmsParams p = params(1, 3, 3, 0.3f);
  const Rows expected = {{0, 0, 0}, {0, 0, 2}};  // box 1 overlaps box 0 by 9 / 23
  EXPECT_EQ(selection::non_max_suppression(corners, scores, p), expected);
  p.center_point_box = true;
  EXPECT_EQ(selection::non_max_suppression(centred, scores, p), expected);
}

TEST(NonMaxSuppression, NanBoxesNeverSuppressAndRowsGoByBatchThenClass) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> boxes = {0, 0, 1, 1, nan, 0, 1, 1,   // batch 0
                                    0, 0, 1, 1, 0,   0, 1, 1};  // batch 1: two equal boxes
  const std::vector<float> scores = {0.9f, 0.8f, 0.1f, 0.2f,    // batch 0, classes 0 and 1
                                     0.3f, 0.4f, 0.6f, 0.5f};   // batch 1
  NmsParams p = params(2, 2, 5, 0.0f);
  p.batches = 2;
  EXPECT_EQ(selection::non_max_suppression(boxes, scores, p),
            (Rows{{0, 0, 0}, {0, 0, 1}, {0, 1, 1}, {0, 1, 0}, {1, 0, 1}, {1, 1, 0}}));
}

// The greedy selection with IoU in float64; `ambiguous` is set where an IoU lies within 1e-4 of the
// threshold, where float32 rounding may decide differently.
Rows select_in_double(const std::vector<float>& boxes, const std::vector<float>& scores, const NmsParams& p,
                      bool& ambiguous) {
  auto iou = [&](int64_t a, int64_t b) {
    const float* x = &boxes[static_cast<size_t>(a * 4)];
    const float* y = &boxes[static_cast<size_t>(b * 4)];
    const double ix = std::min<double>(std::max(x[1], x[3]), std::max(y[1], y[3])) -
                      std::max<double>(std::min(x[1], x[3]), std::min(y[1], y[3]));
    const double iy = std::min<double>(std::max(x[0], x[2]), std::max(y[0], y[2])) -
                      std::max<double>(std::min(x[0], x[2]), std::min(y[0], y[2]));
    if (ix <= 0 || iy <= 0) return 0.0;
    const double area_x = std::abs(double{x[2]} - x[0]) * std::abs(double{x[3]} - x[1]);
    const double area_y = std::abs(double{y[2]} - y[0]) * std::abs(double{y[3]} - y[1]);
    return ix * iy / (area_x + area_y - ix * iy);
  };
  Rows rows;
  for (int64_t c = 0; c < p.classes; ++c) {
    std::vector<int64_t> order;
    for (int64_t i = 0; i < p.boxes; ++i)
      if (!p.score_threshold || scores[static_cast<size_t>(c * p.boxes + i)] > *p.score_threshold)
        order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return scores[static_cast<size_t>(c * p.boxes + a)] > scores[static_cast<size_t>(c * p.boxes + b)];
    });
    std::vector<int64_t> kept;
    for (int64_t i : order) {
      if (static_cast<int64_t>(kept.size()) >= p.max_per_class) break;
      bool suppressed = false;
      for (int64_t k : kept) {
        const double v = iou(i, k);
        ambiguous = ambiguous || std::abs(v - p.iou_threshold) < 1e-4;
        suppressed = suppressed || v > p.iou_threshold;
      }
      if (!suppressed) {
        kept.push_back(i);
        rows.push_back({0, c, i});
      }
    }
  }
  return rows;
}

TEST(NonMaxSuppression, MatchesFloat64GreedySelectionOnRandomBoxes) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> coordinate(0.0f, 10.0f);
  std::uniform_int_distribution<int> score_step(0, 20);  // repeated scores: ties
  int compared = 0;
  for (int trial = 0; trial < 200; ++trial) {
    NmsParams p =
        params(1 + trial % 3, 1 + trial % 17, 1 + trial % 6, 0.05f * static_cast<float>(trial % 19));
    if (trial % 4 == 0) p.score_threshold = 0.25f;
    std::vector<float> boxes(static_cast<size_t>(p.boxes * 4));
    for (float& v : boxes)
      v = coordinate(rng);
    std::vector<float> scores(static_cast<size_t>(p.classes * p.boxes));
    for (float& s : scores)
      s = static_cast<float>(score_step(rng)) / 20.0f;
    bool ambiguous = false;
    const Rows expected = select_in_double(boxes, scores, p, ambiguous);
    if (ambiguous) continue;
    ++compared;
    EXPECT_EQ(selection::non_max_suppression(boxes, scores, p), expected) << "trial " << trial;
  }
  EXPECT_GT(compared, 150);
}

}  // namespace
}  // namespace octet
