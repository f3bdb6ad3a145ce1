#pragma once

// A strict little JSON parser for checking what `octet bench` writes (the trace and the --json record):
// the test must fail on output that Perfetto or a JSON consumer would reject, without a JSON dependency.

#include <cctype>
#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace octet::test {

struct Json;
using JsonArray = std::vector<Json>;
using JsonObject = std::map<std::string, Json>;

struct Json {
  std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<JsonArray>,
               std::shared_ptr<JsonObject>>
      v;
  bool is_number() const { return std::holds_alternative<double>(v); }
  bool is_string() const { return std::holds_alternative<std::string>(v); }
  bool is_array() const { return std::holds_alternative<std::shared_ptr<JsonArray>>(v); }
  bool is_object() const { return std::holds_alternative<std::shared_ptr<JsonObject>>(v); }
  double number() const { return std::get<double>(v); }
  const std::string& string() const { return std::get<std::string>(v); }
  const JsonArray& array() const { return *std::get<std::shared_ptr<JsonArray>>(v); }
  const JsonObject& object() const { return *std::get<std::shared_ptr<JsonObject>>(v); }
  bool has(const std::string& key) const { return is_object() && object().count(key) != 0; }
  const Json& operator[](const std::string& key) const { return object().at(key); }
};

class JsonParser {
 public:
  // Throws std::runtime_error, naming the offset, on anything that is not one complete JSON value.
  static Json parse(std::string_view text) {
    JsonParser p(text);
    Json value = p.value();
    p.space();
    if (p.at_ < text.size()) p.fail("trailing characters");
    return value;
  }

 private:
  explicit JsonParser(std::string_view text) : text_(text) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("JSON: " + what + " at offset " + std::to_string(at_));
  }
  void space() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_])))
      ++at_;
  }
  char peek() {
    space();
    if (at_ >= text_.size()) fail("unexpected end");
    return text_[at_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++at_;
  }
  bool literal(std::string_view word) {
    if (text_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

  Json value() {
    const char c = peek();
    if (c == '{') return object();
    if (c == '[') return array();
    if (c == '"') return Json{string()};
    if (literal("true")) return Json{true};
    if (literal("false")) return Json{false};
    if (literal("null")) return Json{nullptr};
    return Json{number()};
  }

  Json object() {
    auto members = std::make_shared<JsonObject>();
    expect('{');
    if (peek() == '}') return ++at_, Json{members};
    for (;;) {
      if (peek() != '"') fail("expected a key");
      std::string key = string();
      if (members->count(key)) fail("duplicate key '" + key + "'");
      expect(':');
      (*members)[key] = value();
      if (peek() == '}') return ++at_, Json{members};
      expect(',');
    }
  }

  Json array() {
    auto items = std::make_shared<JsonArray>();
    expect('[');
    if (peek() == ']') return ++at_, Json{items};
    for (;;) {
      items->push_back(value());
      if (peek() == ']') return ++at_, Json{items};
      expect(',');
    }
  }

  std::string string() {
    expect('"');
    std::string out;
    while (at_ < text_.size() && text_[at_] != '"') {
      const char c = text_[at_++];
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_ >= text_.size()) fail("unfinished escape");
      const char e = text_[at_++];
      if (e == 'u') {
        if (at_ + 4 > text_.size()) fail("short \\u escape");
        for (size_t i = 0; i < 4; ++i)
          if (!std::isxdigit(static_cast<unsigned char>(text_[at_ + i]))) fail("bad \\u escape");
        out += '?';
        at_ += 4;
      } else if (std::string_view("\"\\/bfnrt").find(e) != std::string_view::npos) {
        out += e;
      } else {
        fail("bad escape");
      }
    }
    if (at_ >= text_.size()) fail("unterminated string");
    ++at_;
    return out;
  }

  double number() {
    // JSON's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? ; strtod alone accepts more (inf, hex).
    const size_t begin = at_;
    auto digits = [&] {
      const size_t start = at_;
      while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_])))
        ++at_;
      if (at_ == start) fail("expected a digit");
    };
    if (text_[at_] == '-') ++at_;
    if (at_ < text_.size() && text_[at_] == '0')
      ++at_;
    else
      digits();
    if (at_ < text_.size() && text_[at_] == '.') ++at_, digits();
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      ++at_;
      if (at_ < text_.size() && (text_[at_] == '+' || text_[at_] == '-')) ++at_;
      digits();
    }
    return std::strtod(std::string(text_.substr(begin, at_ - begin)).c_str(), nullptr);
  }

  std::string_view text_;
  size_t at_ = 0;
};

}  // namespace octet::test
