#pragma once

// The model inputs a command is given: data (`--input NAME=FILE.npy`) and shapes of random data
// (`--shape NAME=1x3x480x640`), shared by run, bench and info. A model with dynamic dimensions is
// compiled for the shapes actually run, and a dynamic dimension that nothing fixes is an error naming the
// input, never a silent placeholder.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "octet/octet.h"
#include "tools/npy.h"

namespace octet::tools {

struct ModelInputs {
  std::map<std::string, std::string> files;            // --input NAME=FILE.npy
  std::map<std::string, std::vector<int64_t>> shapes;  // --shape NAME=AxBxC
  std::map<std::string, npy::Array> data;              // the files, read
};

// Takes `--input` or `--shape` with its value (returns false for any other flag). Throws for a malformed
// value or a name given twice (in either flag).
bool take_input_flag(std::string_view command, std::string_view flag, const std::string& value,
                     ModelInputs& in);

// Reads every --input file.
void read_input_files(ModelInputs& in);

// Loads the model compiled for the shapes given (--shape, and the shapes of the --input files). Every input
// dynamic dimension must be fixed by them, except a dynamic first (batch) dimension when `default_batch` > 0,
// which then takes that size; otherwise the error names the input, its dimensions, and the flags to use.
Model load_for_inputs(std::string_view command, const std::string& path, const ModelInputs& in,
                      int64_t default_batch, LoadOptions options = {});

// A HostTensor of an .npy array for a model input (float32 inputs also take pre-quantized uint8 data).
HostTensor to_host_tensor(const std::string& what, const TensorInfo& info, const npy::Array& a);
// An output as an .npy array.
npy::Array to_npy(const HostTensor& t);

// "[N, 3, H, W]" with the symbolic names of dynamic dimensions.
std::string describe_dims(const TensorInfo& info);

}  // namespace octet::tools
