#pragma once

#include <stdexcept>
#include <string>

namespace octet {

// The one exception type octet throws for bad models, bad parameters and bad inputs. Its message always
// names the offending thing (operator, tensor, parameter) so a caller can act on it without a debugger.
// The public header (runtime/include/octet/octet.h) declares the same class for applications; the guard
// keeps the two declarations one.
#ifndef OCTET_ERROR_DEFINED
#define OCTET_ERROR_DEFINED
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
#endif

}  // namespace octet
