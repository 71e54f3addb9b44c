// The parameter list of a set command (spec 3.15, protocol-rules §1, reference §1.3):
// comma separated; strings in double quotes with the escapes \\ \, \" \<any>; integers bare
// (decimal, or 0x hex as the guide writes lengths); an empty field is an omitted parameter;
// "" is an empty string, not an omission; a trailing comma adds one omitted field.
// Each command declares its parameters once (a schema); check() validates a parsed list
// against it and names the failing parameter in the error code.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "at/error.hpp"

namespace espat::at {

struct RawParam {
  enum class Kind { Omitted, String, Bare } kind = Kind::Omitted;
  std::string text;  // String: unescaped contents; Bare: the token as typed (spaces trimmed)
};

struct ParseFailure {
  std::size_t index;  // 0-based parameter where parsing failed
};

// Splits and unescapes the text after '='. Fails on an unterminated quote or bytes after a
// closing quote.
std::variant<std::vector<RawParam>, ParseFailure> parse_params(std::string_view text);

// A bare token as an integer: optional sign, decimal or 0x hex, fits in int64.
std::optional<std::int64_t> parse_integer(std::string_view token);

// ---- schema -------------------------------------------------------------------------------
struct Int {
  const char* name;
  std::int64_t min = INT32_MIN, max = INT32_MAX;
  bool optional = false;
};
struct Str {
  const char* name;
  std::size_t max_len = 256;
  std::size_t min_len = 0;
  bool optional = false;
};
struct Any {  // an integer or a string: the handler decides (e.g. AT+SAVETRANSLINK modes)
  const char* name;
  bool optional = false;
};
using ParamSpec = std::variant<Int, Str, Any>;

// A validated argument list handed to handlers.
class Args {
 public:
  struct Value {
    bool present = false;
    bool is_string = false;
    std::int64_t integer = 0;
    std::string text;
  };
  Args() = default;
  explicit Args(std::vector<Value> v, std::size_t given) : values_(std::move(v)), given_(given) {}

  std::size_t given() const { return given_; }  // fields typed, omitted ones included
  bool has(std::size_t i) const { return i < values_.size() && values_[i].present; }
  bool is_string(std::size_t i) const { return has(i) && values_[i].is_string; }
  std::int64_t integer(std::size_t i, std::int64_t fallback = 0) const {
    return has(i) ? values_[i].integer : fallback;
  }
  const std::string& text(std::size_t i) const;  // "" when absent

 private:
  std::vector<Value> values_;
  std::size_t given_ = 0;
};

// Validates raw parameters against a schema. The error codes (spec 3.1.24):
// too many or too few → ParaNum (needed<<8 | given); wrong kind → ParaType; integer out of
// range or a mandatory parameter omitted → ParaInvalid; string too long → ParaLength.
std::variant<Args, ErrCode> check(const std::vector<RawParam>& raw, const std::vector<ParamSpec>& schema);

// Parses and checks in one step.
std::variant<Args, ErrCode> parse_and_check(std::string_view text, const std::vector<ParamSpec>& schema);

// Quotes a string the way responses print it: no escaping (the firmware prints raw bytes).
std::string quoted(std::string_view s);

}  // namespace espat::at
