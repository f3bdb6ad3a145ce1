#include "kernels/selection/non_max_suppression.h"

#include <algorithm>
#include <queue>

namespace octet::selection {

namespace {

struct Extent {
  float min = 0.0f, max = 0.0f;
};

// A corner pair as (smaller, larger); a pair holding NaN keeps its order.
Extent ordered(float a, float b) {
  return a >= b ? Extent{b, a} : Extent{a, b};
}

// The box's x and y extents.
std::array<Extent, 2> extents(const float* box, bool center_point_box) {
  if (!center_point_box) return {ordered(box[1], box[3]), ordered(box[0], box[2])};
  const float half_width = box[2] / 2;
  const float half_height = box[3] / 2;
  return {Extent{box[0] - half_width, box[0] + half_width},
          Extent{box[1] - half_height, box[1] + half_height}};
}

// The overlap of two extents as (low, high): std::max / std::min keep their first argument unless the
// second compares larger / smaller, which fixes what NaN gives.
Extent overlap(Extent a, Extent b) {
  return {std::max(a.min, b.min), std::min(a.max, b.max)};
}

struct Candidate {
  float score;
  int64_t box;
};

// Orders the heap: the top is the highest score, the lower box index among equal ones.
struct Below {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.score < b.score || (a.score == b.score && a.box > b.box);
  }
};

}  // namespace

bool suppresses(const float* a, const float* b, bool center_point_box, float iou_threshold) {
  const auto [ax, ay] = extents(a, center_point_box);
  const auto [bx, by] = extents(b, center_point_box);
  const Extent ix = overlap(ax, bx);
  if (ix.max <= ix.min) return false;
  const Extent iy = overlap(ay, by);
  if (iy.max <= iy.min) return false;
  const float intersection = (ix.max - ix.min) * (iy.max - iy.min);
  if (intersection <= 0.0f) return false;
  const float area_a = (ax.max - ax.min) * (ay.max - ay.min);
  const float area_b = (bx.max - bx.min) * (by.max - by.min);
  const float union_area = area_a + area_b - intersection;
  if (area_a <= 0.0f || area_b <= 0.0f || union_area <= 0.0f) return false;
  return intersection / union_area > iou_threshold;
}

std::vector<std::array<int64_t, 3>> non_max_suppression(std::span<const float> boxes,
                                                        std::span<const float> scores, const NmsParams& p) {
  std::vector<std::array<int64_t, 3>> selected;
  if (p.max_per_class <= 0) return selected;
  std::vector<Candidate> heap_storage;
  std::vector<int64_t> kept;
  for (int64_t b = 0; b < p.batches; ++b) {
    const float* batch_boxes = boxes.data() + b * p.boxes * 4;
    for (int64_t c = 0; c < p.classes; ++c) {
      const float* class_scores = scores.data() + (b * p.classes + c) * p.boxes;
      heap_storage.clear();
      for (int64_t i = 0; i < p.boxes; ++i)
        if (!p.score_threshold || class_scores[i] > *p.score_threshold)
          heap_storage.push_back({class_scores[i], i});
      std::priority_queue<Candidate, std::vector<Candidate>, Below> candidates(Below{},
                                                                               std::move(heap_storage));
      kept.clear();
      while (!candidates.empty() && static_cast<int64_t>(kept.size()) < p.max_per_class) {
        const Candidate next = candidates.top();
        candidates.pop();
        const float* box = batch_boxes + next.box * 4;
        const bool suppressed = std::any_of(kept.begin(), kept.end(), [&](int64_t k) {
          return suppresses(box, batch_boxes + k * 4, p.center_point_box, p.iou_threshold);
        });
        if (suppressed) continue;
        kept.push_back(next.box);
        selected.push_back({b, c, next.box});
      }
      heap_storage = std::vector<Candidate>();
    }
  }
  return selected;
}

}  // namespace octet::selection
