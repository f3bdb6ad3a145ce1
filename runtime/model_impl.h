#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "octet/octet.h"
#include "runtime/file_bytes.h"
#include "runtime/program.h"

namespace octet {

// What a Model shares among its Sessions: the ONNX bytes, the program compiled for the declared shapes
// (in LoadOptions::requantization), and programs compiled on demand for other input shapes (dynamic batch)
// or another requantization mode, cached. Logically immutable.

// The kernels' name for the public mode.
RequantMode requant_mode_of(Requantization mode);
// The instruction set SessionOptions::isa names ("" : active_isa()); throws unless this CPU runs it.
Isa isa_of_session(const std::string& name);
struct Model::Impl {
  runtime::ByteBuffer onnx;
  LoadOptions options;
  std::shared_ptr<const runtime::Program> declared;
  std::vector<TensorInfo> inputs, outputs;

  // The program for these input shapes (ONNX order, one per graph input), requantization mode and ISA.
  std::shared_ptr<const runtime::Program> program_for(const std::vector<Shape>& shapes, RequantMode requant,
                                                      Isa isa) const;
  // The shapes `declared` was compiled for, in ONNX order.
  std::vector<Shape> declared_shapes() const;
  // Whether `declared` was compiled with placeholder sizes for some dynamic dimension.
  bool placeholder_shapes() const;

 private:
  mutable std::mutex mutex_;
  mutable std::map<std::tuple<RequantMode, Isa, std::vector<Shape>>, std::shared_ptr<const runtime::Program>>
      compiled_;
};

}  // namespace octet
