#pragma once

// ONNX NonMaxSuppression: per batch entry and class, the boxes that survive greedy suppression, in the
// order ONNX Runtime selects them, with its float32 arithmetic (so the same boxes are chosen where two
// overlaps are within a rounding of the threshold).

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace octet::selection {

struct NmsParams {
  int64_t batches = 0, classes = 0, boxes = 0;
  bool center_point_box =
      false;  // boxes are [x_center, y_center, width, height], else two corners [y1, x1, y2, x2]
  int64_t max_per_class = 0;             // at most this many boxes per batch entry and class (<= 0: none)
  float iou_threshold = 0.0f;            // a box overlapping a selected one by more than this is suppressed
  std::optional<float> score_threshold;  // only boxes scoring more than this are candidates
};

// Whether candidate box `a` is suppressed by selected box `b` (4 floats each): their intersection over
// union exceeds `iou_threshold`. Boxes that do not overlap, have no area or hold NaN never suppress.
bool suppresses(const float* a, const float* b, bool center_point_box, float iou_threshold);

// `boxes` [batches, boxes, 4], `scores` [batches, classes, boxes]. Returns the selected (batch, class, box)
// triples: by batch, then class, then in selection order (highest score first; ties: the lower box index).
std::vector<std::array<int64_t, 3>> non_max_suppression(std::span<const float> boxes,
                                                        std::span<const float> scores, const NmsParams& p);

}  // namespace octet::selection
