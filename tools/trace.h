#pragma once

// `octet bench --trace`: Chrome trace event JSON (opens in Perfetto or chrome://tracing).

#include <ostream>
#include <string>
#include <vector>

#include "octet/octet.h"

namespace octet::tools {

// One profiled run: when it started (seconds since the timed runs began) and its operators' timings.
struct TraceRun {
  double start_seconds = 0.0;
  std::vector<NodeTiming> nodes;
};

// One complete ("X") slice per operator per run, at its real time, with tid = stream + 1: each stream's
// session runs its operators in order on its own calling thread, so that thread's slices are the whole
// timeline of the stream. Operators that parallelise use the session's oneTBB workers inside the slice;
// those workers get no slices of their own. Metadata events name each stream's thread.
void write_chrome_trace(std::ostream& out, const std::vector<std::vector<TraceRun>>& streams, int threads);

// The same JSON string escaping the trace and the JSON record use.
std::string json_escape(const std::string& s);

}  // namespace octet::tools
