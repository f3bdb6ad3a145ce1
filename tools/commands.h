#pragma once

#include <span>
#include <string>
#include <string_view>

namespace octet::tools {

// Each subcommand of `octet`. They return the process exit code and throw octet::Error for bad input.
int run_demo(std::span<const std::string_view> args);
int run_info(std::span<const std::string_view> args);
int run_run(std::span<const std::string_view> args);
int run_classify(std::span<const std::string_view> args);
int run_bench(std::span<const std::string_view> args);
int run_peak(std::span<const std::string_view> args);

// Parses "--threads N"-style integer option values, naming the option on error.
int64_t parse_int(std::string_view option, std::string_view value, int64_t min, int64_t max);

}  // namespace octet::tools
