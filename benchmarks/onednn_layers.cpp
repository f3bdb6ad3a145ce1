// The layer suite through oneDNN, the peer layers_bench compares octet with in the same run. Built only
// when CMake finds oneDNN (a benchmark-only dependency the runtime never links).

#include "benchmarks/onednn_layers.h"

#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#include <vector>

namespace octet::bench {

namespace {

void BM_onednn(benchmark::State& state, const bench::Layer& l) {
  using namespace dnnl;
  const int threads = static_cast<int>(state.range(0));
  omp_set_num_threads(threads);
  const bench::Operands o = bench::make_operands(l);
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  const int64_t oh = bench::output_size(l, l.h), ow = bench::output_size(l, l.w);
  const memory::dims src_dims{1, l.cin, l.h, l.w}, dst_dims{1, l.cout, oh, ow};
  // oneDNN counts dilation from 0 (no dilation), ONNX from 1.
  const memory::dims strides{l.stride, l.stride}, pads{l.pad, l.pad}, dilates{l.dilation - 1, l.dilation - 1};
  memory::dims w_dims = l.groups > 1 ? memory::dims{l.groups, l.cout / l.groups, l.cin / l.groups, l.k, l.k}
                                     : memory::dims{l.cout, l.cin, l.k, l.k};
  if (l.transposed) w_dims = {l.cout, l.cin, l.k, l.k};
  auto src_md = memory::desc(src_dims, memory::data_type::u8, memory::format_tag::nhwc);
  auto dst_md = memory::desc(dst_dims, memory::data_type::u8, memory::format_tag::nhwc);
  auto w_any = memory::desc(w_dims, memory::data_type::s8, memory::format_tag::any);
  auto b_md = memory::desc({l.cout}, memory::data_type::s32, memory::format_tag::x);
  primitive_attr attr;
  std::vector<float> scales;
  for (float s : o.weight_scales)
    scales.push_back(o.in_scale * s / o.out_scale);
  attr.set_output_scales(2, scales);
  primitive prim;
  memory::desc w_md;
  if (l.transposed) {
    auto d = deconvolution_forward::desc(prop_kind::forward_inference, algorithm::deconvolution_direct,
                                         src_md, w_any, b_md, dst_md, strides, pads, pads);
    auto pd = deconvolution_forward::primitive_desc(d, attr, eng);
    w_md = pd.weights_desc();
    prim = deconvolution_forward(pd);
  } else {
    auto d = convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct, src_md,
                                       w_any, b_md, dst_md, strides, dilates, pads, pads);
    auto pd = convolution_forward::primitive_desc(d, attr, eng);
    w_md = pd.weights_desc();
    prim = convolution_forward(pd);
  }
  // Weights: our [cout, k, k, cin/g] -> oneDNN's plain goihw / oihw (transposed: its weights are [cout, cin,
  // k, k] for deconvolution too), then reordered into the primitive's layout once, as a runtime would.
  std::vector<int8_t> plain(o.weights.size());
  const int64_t cig = l.cin / l.groups;
  for (int64_t oc = 0; oc < l.cout; ++oc)
    for (int64_t ky = 0; ky < l.k; ++ky)
      for (int64_t kx = 0; kx < l.k; ++kx)
        for (int64_t ic = 0; ic < cig; ++ic)
          plain[static_cast<size_t>(((oc * cig + ic) * l.k + ky) * l.k + kx)] =
              o.weights[static_cast<size_t>(((oc * l.k + ky) * l.k + kx) * cig + ic)];
  const auto plain_tag = l.groups > 1 ? memory::format_tag::goihw : memory::format_tag::oihw;
  memory w_plain({w_dims, memory::data_type::s8, plain_tag}, eng, plain.data());
  memory w_mem(w_md, eng);
  reorder(w_plain, w_mem).execute(strm, w_plain, w_mem);
  bench::AlignedBytes src(o.input), dst(static_cast<size_t>(oh * ow * l.cout));
  std::vector<int32_t> bias(o.bias);
  memory src_mem(src_md, eng, src.data()), dst_mem(dst_md, eng, dst.data()), b_mem(b_md, eng, bias.data());
  const std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, src_mem}, {DNNL_ARG_WEIGHTS, w_mem}, {DNNL_ARG_BIAS, b_mem}, {DNNL_ARG_DST, dst_mem}};
  for (auto _ : state) {
    prim.execute(strm, args);
    strm.wait();
  }
  bench::set_layer_counters(state, l, threads);
}

}  // namespace

void register_onednn_benchmarks() {
  for (const Layer& l : kLayers)
    benchmark::RegisterBenchmark((std::string("onednn/") + l.name).c_str(), BM_onednn, l)
        ->Arg(1)
        ->Arg(2)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(0.3);
}

}  // namespace octet::bench
