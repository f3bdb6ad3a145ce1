#include "kernels/gemm/amx_pack.h"

#include <algorithm>
#include <utility>

namespace octet::gemm {

namespace {

// Byte offset of weight (channel r, k index j) in the AMX layout: block, k step, k group row, channel, byte.
int64_t amx_offset(const AmxPackedWeights& w, int64_t r, int64_t real_j) {
  const int64_t j = real_j / w.segment_k() * w.segment_padded + real_j % w.segment_k();
  return ((r / kChannelBlock * w.k_steps() + j / kAmxKStep) * kAmxTileRows + j % kAmxKStep / 4) *
             kChannelBlock * 4 +
         r % kChannelBlock * 4 + j % 4;
}

}  // namespace

template <class W>
AmxPackedWeights amx_pack(const W* weights, int64_t rows, int64_t k, const QuantParams& weight_params,
                          const int32_t* bias, const QuantParams& input, const QuantParams& output,
                          Clamp clamp, std::string_view op, RequantMode mode, int64_t segments) {
  // The scalar packing computes everything (its layout is ours with each segment padded to 4, not 64, and
  // it multiplies uint8 activations by int8 weights as TDPBUSD does, so its folded bias is ours too).
  PackedWeights p =
      pack(Isa::scalar, weights, rows, k, weight_params, bias, input, output, clamp, op, segments, mode);
  AmxPackedWeights a;
  a.n = p.n;
  a.k = p.k;
  a.n_padded = p.n_padded;
  a.segments = p.segments;
  a.segment_padded = (p.segment_padded + kAmxKStep - 1) / kAmxKStep * kAmxKStep;
  a.k_padded = a.segments * a.segment_padded;
  a.requant = std::move(p.requant);
  a.needs_row_sums = p.needs_row_sums;
  a.input_zero_point = p.input_zero_point;
  // Each segment of a channel block, [segment_padded / 4][16][4], is the scalar block's segment
  // [p.segment_padded / 4][16][4] followed by zero k groups.
  const int64_t scalar_segment = p.segment_padded * kChannelBlock,
                amx_segment = a.segment_padded * kChannelBlock;
  a.data.assign(static_cast<size_t>(a.n_padded * a.k_padded), 0);
  for (int64_t b = 0; b < a.n_padded / kChannelBlock; ++b)
    for (int64_t s = 0; s < a.segments; ++s)
      std::copy_n(p.data.begin() + (b * a.segments + s) * scalar_segment, scalar_segment,
                  a.data.begin() + (b * a.segments + s) * amx_segment);
  return a;
}

template AmxPackedWeights amx_pack(const int8_t*, int64_t, int64_t, const QuantParams&, const int32_t*,
                                   const QuantParams&, const QuantParams&, Clamp, std::string_view,
                                   RequantMode, int64_t);
template AmxPackedWeights amx_pack(const uint8_t*, int64_t, int64_t, const QuantParams&, const int32_t*,
                                   const QuantParams&, const QuantParams&, Clamp, std::string_view,
                                   RequantMode, int64_t);

std::vector<int8_t> amx_unpack(const AmxPackedWeights& w) {
  std::vector<int8_t> out(static_cast<size_t>(w.n * w.k));
  for (int64_t r = 0; r < w.n; ++r)
    for (int64_t j = 0; j < w.k; ++j)
      out[static_cast<size_t>(r * w.k + j)] = w.data[static_cast<size_t>(amx_offset(w, r, j))];
  return out;
}

bool amx_padding_is_zero(const AmxPackedWeights& w) {
  std::vector<uint8_t> real(w.data.size(), 0);
  for (int64_t r = 0; r < w.n; ++r)
    for (int64_t j = 0; j < w.k; ++j)
      real[static_cast<size_t>(amx_offset(w, r, j))] = 1;
  for (size_t i = 0; i < w.data.size(); ++i)
    if (!real[i] && w.data[i] != 0) return false;
  return true;
}

}  // namespace octet::gemm
