#include "tools/npy.h"

#include <bit>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <string_view>

#include "kernels/error.h"
#include "runtime/file_bytes.h"

namespace octet::npy {

namespace {

static_assert(std::endian::native == std::endian::little, "npy I/O assumes a little-endian host");

size_t element_size(Dtype d) {
  switch (d) {
    case Dtype::uint8:
    case Dtype::int8:
    case Dtype::boolean:
      return 1;
    case Dtype::float32:
    case Dtype::int32:
      return 4;
    case Dtype::float64:
    case Dtype::int64:
      return 8;
  }
  return 1;
}

const char* descr_of(Dtype d) {
  switch (d) {
    case Dtype::float32:
      return "<f4";
    case Dtype::float64:
      return "<f8";
    case Dtype::uint8:
      return "|u1";
    case Dtype::int8:
      return "|i1";
    case Dtype::int32:
      return "<i4";
    case Dtype::int64:
      return "<i8";
    case Dtype::boolean:
      return "|b1";
  }
  return "";
}

Dtype parse_descr(const std::string& d, const std::string& what) {
  if (d == "<f4") return Dtype::float32;
  if (d == "<f8") return Dtype::float64;
  if (d == "|u1" || d == "<u1" || d == "u1") return Dtype::uint8;
  if (d == "|i1" || d == "<i1" || d == "i1") return Dtype::int8;
  if (d == "<i4") return Dtype::int32;
  if (d == "<i8") return Dtype::int64;
  if (d == "|b1" || d == "<b1" || d == "b1") return Dtype::boolean;
  throw Error(what + ": unsupported dtype '" + d +
              "' (float32, float64, uint8, int8, int32, int64, little-endian)");
}

// memcpy with a null pointer is undefined even for zero bytes, and an empty vector's data() may be null.
void copy_bytes(void* dst, const void* src, size_t n) {
  if (n > 0) std::memcpy(dst, src, n);
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// The header text after `'key':` (whitespace skipped), or nullopt when the dictionary has no such key.
// A plain scan rather than std::regex: libstdc++'s regex matcher recurses once per character matched and
// overflowed the stack on a header of a few thousand bytes, which any file can declare.
std::optional<std::string_view> value_of(std::string_view header, std::string_view key) {
  // Appended piece by piece: GCC 12 at -O3 warns falsely (-Wrestrict) about "'" + std::string(...).
  std::string quoted(1, '\'');
  quoted.append(key);
  quoted.push_back('\'');
  for (size_t at = header.find(quoted); at != std::string_view::npos; at = header.find(quoted, at + 1)) {
    size_t i = at + quoted.size();
    while (i < header.size() && is_space(header[i]))
      ++i;
    if (i == header.size() || header[i] != ':') continue;
    ++i;
    while (i < header.size() && is_space(header[i]))
      ++i;
    return header.substr(i);
  }
  return std::nullopt;
}

template <class T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

const char* name_of(Dtype d) {
  switch (d) {
    case Dtype::float32:
      return "float32";
    case Dtype::float64:
      return "float64";
    case Dtype::uint8:
      return "uint8";
    case Dtype::int8:
      return "int8";
    case Dtype::int32:
      return "int32";
    case Dtype::int64:
      return "int64";
    case Dtype::boolean:
      return "bool";
  }
  return "?";
}

int64_t Array::element_count() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

namespace {

// Every element of `data`, stored as In, converted to Out. The dtype is dispatched once per array, not
// once per element.
template <class Out, class In>
std::vector<Out> convert_all(const std::vector<std::byte>& data, int64_t count) {
  std::vector<Out> out(static_cast<size_t>(count));
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<Out>(load<In>(data.data() + i * sizeof(In)));
  return out;
}

}  // namespace

std::vector<float> Array::to_float() const {
  switch (dtype) {
    case Dtype::float32:
      return convert_all<float, float>(data, element_count());
    case Dtype::float64:
      return convert_all<float, double>(data, element_count());
    case Dtype::uint8:
      return convert_all<float, uint8_t>(data, element_count());
    case Dtype::int8:
      return convert_all<float, int8_t>(data, element_count());
    case Dtype::int32:
      return convert_all<float, int32_t>(data, element_count());
    case Dtype::int64:
      return convert_all<float, int64_t>(data, element_count());
    case Dtype::boolean:
      return convert_all<float, uint8_t>(data, element_count());
  }
  throw Error("unknown .npy dtype");
}

std::vector<uint8_t> Array::to_uint8() const {
  if (dtype != Dtype::uint8) throw Error(std::string("expected uint8 data, got ") + name_of(dtype));
  std::vector<uint8_t> out(data.size());
  copy_bytes(out.data(), data.data(), data.size());
  return out;
}

std::vector<uint8_t> Array::to_bool() const {
  if (dtype != Dtype::boolean) throw Error(std::string("expected bool data, got ") + name_of(dtype));
  std::vector<uint8_t> out(data.size());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = data[i] != std::byte{0} ? 1 : 0;
  return out;
}

std::vector<int64_t> Array::to_int64() const {
  switch (dtype) {
    case Dtype::uint8:
      return convert_all<int64_t, uint8_t>(data, element_count());
    case Dtype::int8:
      return convert_all<int64_t, int8_t>(data, element_count());
    case Dtype::int32:
      return convert_all<int64_t, int32_t>(data, element_count());
    case Dtype::int64:
      return convert_all<int64_t, int64_t>(data, element_count());
    default:
      throw Error(std::string("expected integer data, got ") + name_of(dtype));
  }
}

Array parse(std::span<const std::byte> bytes, const std::string& what) {
  constexpr char kMagic[] = "\x93NUMPY";
  if (bytes.size() < 10 || std::memcmp(bytes.data(), kMagic, 6) != 0) throw Error(what + ": not a .npy file");
  const auto major = static_cast<uint8_t>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = load<uint16_t>(bytes.data() + 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw Error(what + ": truncated header");
    header_len = load<uint32_t>(bytes.data() + 8);
    offset = 12;
  } else {
    throw Error(what + ": unsupported .npy format version " + std::to_string(major));
  }
  if (header_len > bytes.size() - offset) throw Error(what + ": truncated header");
  const std::string_view header(reinterpret_cast<const char*>(bytes.data() + offset), header_len);
  Array a;
  const auto descr = value_of(header, "descr");
  if (!descr || !descr->starts_with('\'') || descr->find('\'', 1) == std::string_view::npos)
    throw Error(what + ": header has no 'descr'");
  a.dtype = parse_descr(std::string(descr->substr(1, descr->find('\'', 1) - 1)), what);
  const auto fortran = value_of(header, "fortran_order");
  if (!fortran || !(fortran->starts_with("True") || fortran->starts_with("False")))
    throw Error(what + ": header has no 'fortran_order'");
  if (fortran->starts_with("True")) throw Error(what + ": Fortran-ordered arrays are not supported");
  const auto shape = value_of(header, "shape");
  if (!shape || !shape->starts_with('(') || shape->find(')') == std::string_view::npos)
    throw Error(what + ": header has no 'shape'");
  // Dimensions of 1 to 18 digits, comma-separated, with an optional trailing comma: (), (5,), (2, 3).
  const std::string_view dims = shape->substr(1, shape->find(')') - 1);
  int64_t count = 1;
  size_t pos = dims.find_first_not_of(' ') == std::string_view::npos ? dims.size() : 0;
  while (pos < dims.size()) {
    const size_t comma = dims.find(',', pos);
    std::string_view digits =
        dims.substr(pos, comma == std::string_view::npos ? dims.size() - pos : comma - pos);
    while (!digits.empty() && digits.front() == ' ')
      digits.remove_prefix(1);
    while (!digits.empty() && digits.back() == ' ')
      digits.remove_suffix(1);
    int64_t d = 0;
    if (digits.empty() || digits.size() > 18 ||
        digits.find_first_not_of("0123456789") != std::string_view::npos ||
        std::from_chars(digits.data(), digits.data() + digits.size(), d).ec != std::errc())
      throw Error(what + ": malformed shape");
    if (d != 0 && count > std::numeric_limits<int64_t>::max() / d) throw Error(what + ": shape overflows");
    count *= d;
    a.shape.push_back(d);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
    if (dims.find_first_not_of(' ', pos) == std::string_view::npos) break;  // the trailing comma
  }
  const size_t data_offset = offset + header_len;
  const size_t size = element_size(a.dtype);
  if (static_cast<uint64_t>(count) > (bytes.size() - data_offset) / size)
    throw Error(what + ": holds " + std::to_string(bytes.size() - data_offset) +
                " data bytes, its shape needs " + std::to_string(count) + " x " + std::to_string(size));
  if (static_cast<uint64_t>(count) * size != bytes.size() - data_offset)
    throw Error(what + ": has trailing bytes after its data");
  a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(data_offset), bytes.end());
  return a;
}

Array read(const std::string& path) {
  const std::optional<runtime::ByteBuffer> bytes = runtime::read_file_bytes(path);
  if (!bytes) throw Error("cannot open or read '" + path + "'");
  return parse(*bytes, path);
}

std::vector<std::byte> serialize(const Array& a) {
  std::string header =
      "{'descr': '" + std::string(descr_of(a.dtype)) + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < a.shape.size(); ++i)
    header += std::to_string(a.shape[i]) + (a.shape.size() == 1 || i + 1 < a.shape.size() ? "," : "");
  header += "), }";
  // Format version 1 stores the header's length in 16 bits; a longer header (thousands of dimensions) needs
  // version 2 and its 32-bit length, as NumPy does, instead of a silently truncated length.
  const bool v2 = header.size() + 1 + 63 > std::numeric_limits<uint16_t>::max();
  const size_t prefix = v2 ? 12 : 10;
  // Pad with spaces so that the data starts on a 64-byte boundary, ending the header with a newline.
  const size_t unpadded = prefix + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::vector<std::byte> out(prefix + header.size() + a.data.size());
  std::memcpy(out.data(), v2 ? "\x93NUMPY\x02\x00" : "\x93NUMPY\x01\x00", 8);
  if (v2) {
    const auto len = static_cast<uint32_t>(header.size());
    std::memcpy(out.data() + 8, &len, 4);
  } else {
    const auto len = static_cast<uint16_t>(header.size());
    std::memcpy(out.data() + 8, &len, 2);
  }
  std::memcpy(out.data() + prefix, header.data(), header.size());
  copy_bytes(out.data() + prefix + header.size(), a.data.data(), a.data.size());
  return out;
}

void write(const std::string& path, const Array& a) {
  const std::vector<std::byte> bytes = serialize(a);
  std::ofstream file(path, std::ios::binary);
  if (!file) throw Error("cannot write '" + path + "'");
  file.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!file) throw Error("cannot write '" + path + "'");
}

void create_directory(const std::string& dir, const std::string& flag) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error || !std::filesystem::is_directory(dir))
    throw Error(flag + " '" + dir + "': cannot create the folder" + (error ? ": " + error.message() : ""));
}

Array from_float(std::vector<int64_t> shape, std::span<const float> values) {
  Array a{Dtype::float32, std::move(shape), std::vector<std::byte>(values.size_bytes())};
  copy_bytes(a.data.data(), values.data(), values.size_bytes());
  return a;
}

Array from_uint8(std::vector<int64_t> shape, std::span<const uint8_t> values) {
  Array a{Dtype::uint8, std::move(shape), std::vector<std::byte>(values.size())};
  copy_bytes(a.data.data(), values.data(), values.size());
  return a;
}

Array from_int64(std::vector<int64_t> shape, std::span<const int64_t> values) {
  Array a{Dtype::int64, std::move(shape), std::vector<std::byte>(values.size_bytes())};
  copy_bytes(a.data.data(), values.data(), values.size_bytes());
  return a;
}

Array from_int32(std::vector<int64_t> shape, std::span<const int32_t> values) {
  Array a{Dtype::int32, std::move(shape), std::vector<std::byte>(values.size_bytes())};
  copy_bytes(a.data.data(), values.data(), values.size_bytes());
  return a;
}

Array from_bool(std::vector<int64_t> shape, std::span<const uint8_t> values) {
  Array a{Dtype::boolean, std::move(shape), std::vector<std::byte>(values.size())};
  copy_bytes(a.data.data(), values.data(), values.size());
  return a;
}

}  // namespace octet::npy
