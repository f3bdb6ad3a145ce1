#include "tools/trace.h"

#include <cstdio>
#include <string>

namespace octet::tools {

namespace {

// Microseconds to the nanosecond: the stream's default six significant digits would round a timestamp
// 10 s into the run to 10 us.
std::string micros(double seconds) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.3f", seconds * 1e6);
  return buffer;
}

}  // namespace

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20) {
      char u[8];
      std::snprintf(u, sizeof u, "\\u%04x", static_cast<unsigned>(c));
      out += u;
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

void write_chrome_trace(std::ostream& out, const std::vector<std::vector<TraceRun>>& streams, int threads) {
  out << "{\"traceEvents\":[\n";
  out << "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"octet bench\"}}";
  for (size_t s = 0; s < streams.size(); ++s) {
    out << ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":" << s + 1
        << ",\"args\":{\"name\":\"stream " << s << " (" << threads << " thread" << (threads == 1 ? "" : "s")
        << " per operator)\"}}";
    for (const TraceRun& run : streams[s])
      for (const NodeTiming& t : run.nodes)
        out << ",\n{\"name\":\"" << json_escape(t.name) << "\",\"cat\":\"" << json_escape(t.op)
            << "\",\"ph\":\"X\",\"pid\":1,\"tid\":" << s + 1
            << ",\"ts\":" << micros(run.start_seconds + t.start_seconds) << ",\"dur\":" << micros(t.seconds)
            << ",\"args\":{\"onnx_op\":\"" << json_escape(t.onnx_op) << "\",\"macs\":" << t.macs << "}}";
  }
  out << "\n],\"displayTimeUnit\":\"ms\"}\n";
}

}  // namespace octet::tools
