// The library-wide facts of the public API: version and instruction sets.

#include "kernels/error.h"
#include "kernels/isa.h"
#include "runtime/model_impl.h"

namespace octet {

std::vector<std::string> available_isas() {
  std::vector<std::string> names;
  for (const Isa isa : supported_isas())
    names.emplace_back(name_of(isa));
  return names;
}

std::string default_isa() {
  return std::string(name_of(active_isa()));
}

const char* version() {
  return OCTET_VERSION;
}

Isa isa_of_session(const std::string& name) {
  if (name.empty()) return active_isa();
  Isa isa{};
  try {
    isa = parse_isa(name);
  } catch (const Error& e) {
    throw Error(std::string("SessionOptions: ") + e.what());
  }
  if (!cpu_supports(isa))
    throw Error("SessionOptions: instruction set '" + name + "' is not available on this CPU (available: " +
                [] {
                  std::string list;
                  for (const std::string& n : available_isas())
                    list += (list.empty() ? "" : ", ") + n;
                  return list;
                }() +
                ")");
  return isa;
}

}  // namespace octet
