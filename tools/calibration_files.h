#pragma once
// The calibration data of `octet quantize`: an .npy file holding a batch of samples ([N, ...]) or one
// sample (the model input's shape without its batch dimension), or a folder of such files, read in name
// order (so the result is deterministic). Files are read when their samples are needed, not all at once.

#include <cstdint>
#include <string>
#include <vector>

#include "octet/quantize.h"

namespace octet::tools {

// `input`: the model input the samples feed. Throws octet::Error for a missing path, an empty folder, a
// file whose dtype is not float32 or whose shape does not fit the input (naming the file).
// Each run takes several samples of one file at once where the input's batch dimension is dynamic (up to
// `max_batch`, and no more than `max_run_bytes` of input: calibration keeps every tensor of a run), and
// exactly the input's batch otherwise.
CalibrationData calibration_files(const std::string& path, const TensorInfo& input, int64_t max_batch = 16,
                                  int64_t max_run_bytes = int64_t{16} << 20);

}  // namespace octet::tools
