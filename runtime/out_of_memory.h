#pragma once

// A failed allocation that says what it was for.

#include <new>
#include <string>
#include <utility>

namespace octet::runtime {

// Still a std::bad_alloc: the C API reports it as OCTET_ERROR_OUT_OF_MEMORY and the command line as "out of
// memory", with this message, and a caller that catches std::bad_alloc keeps working. (A plain
// std::bad_alloc says only "std::bad_alloc": nothing about which model, tensor or size.)
class OutOfMemory : public std::bad_alloc {
 public:
  explicit OutOfMemory(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

}  // namespace octet::runtime
