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
  std::optional<std::int64_t> def = {};  // what an omitted optional parameter means
};
struct Str {
  const char* name;
  std::size_t max_len = 256;
  std::size_t min_len = 0;
  bool optional = false;
  // A format the text must have (a MAC, an IPv4 address...); ParaInvalid when it has not.
  bool (*valid)(std::string_view) = nullptr;
  std::vector<std::string> one_of = {};  // when not empty: the only texts accepted
};
struct Any {  // an integer or a string: the handler decides (e.g. AT+SAVETRANSLINK modes)
  const char* name;
  bool optional = false;
};
using ParamSpec = std::variant<Int, Str, Any>;

// A leading link id (spec 3.3: "[<link ID>,]"), present only with AT+CIPMUX=1.
enum class LinkId { None, Prefix, PrefixOrAll /* links() itself means every link */ };

// The parameters that follow the first one when it has this value ("TCP", or 1 as "1").
struct Variant {
  std::string when;
  std::vector<ParamSpec> params;
};

// The set form's parameters: a list, or a first parameter whose value chooses the rest
// (AT+CIPSTART by type, AT+SAVETRANSLINK by mode), optionally after a link id.
struct Schema {
  std::vector<ParamSpec> params;
  std::vector<Variant> variants = {};
  LinkId link_id = LinkId::None;

  Schema() = default;
  Schema(std::initializer_list<ParamSpec> p) : params(p) {}
  Schema(std::vector<ParamSpec> p) : params(std::move(p)) {}
  static Schema by_first(ParamSpec selector, std::vector<Variant> variants) {
    Schema s{std::move(selector)};
    s.variants = std::move(variants);
    return s;
  }
  Schema with_link_id(LinkId l) const {
    Schema s = *this;
    s.link_id = l;
    return s;
  }
};

// A validated argument list handed to handlers: by position (the link id not counted) or by
// the schema's name.
class Args {
 public:
  struct Value {
    const char* name = "";
    bool present = false;
    bool is_string = false;
    std::int64_t integer = 0;
    std::string text;
    std::optional<std::int64_t> def;
  };
  Args() = default;
  explicit Args(std::vector<Value> v, std::size_t given, std::optional<int> link = {})
      : values_(std::move(v)), given_(given), link_(link) {}

  std::size_t given() const { return given_; }  // fields typed, omitted ones included
  bool has(std::size_t i) const { return i < values_.size() && values_[i].present; }
  bool is_string(std::size_t i) const { return has(i) && values_[i].is_string; }
  // The value, else the schema's default, else the fallback.
  std::int64_t integer(std::size_t i, std::int64_t fallback = 0) const;
  const std::string& text(std::size_t i) const;  // "" when absent

  bool has(std::string_view name) const { return has(index(name)); }
  std::int64_t integer(std::string_view name) const { return integer(index(name)); }
  const std::string& text(std::string_view name) const { return text(index(name)); }
  // The link id typed before the parameters (AT+CIPMUX=1), if the row takes one.
  std::optional<int> link() const { return link_; }

 private:
  std::size_t index(std::string_view name) const;  // values_.size() when unknown
  std::vector<Value> values_;
  std::size_t given_ = 0;
  std::optional<int> link_;
};

// What the link-id prefix depends on: AT+CIPMUX and the number of links.
struct LinkMode {
  bool multiple = false;
  int links = 5;
};

// Validates raw parameters against a schema. The error codes (spec 3.1.24):
// too many or too few → ParaNum (needed<<8 | given); wrong kind → ParaType; integer out of
// range, text of the wrong format or not one of the choices, or a mandatory parameter
// omitted → ParaInvalid; string too long → ParaLength. Indexes count the link id.
std::variant<Args, ErrCode> check(const std::vector<RawParam>& raw, const Schema& schema, LinkMode links = {});

// Parses and checks in one step.
std::variant<Args, ErrCode> parse_and_check(std::string_view text, const Schema& schema, LinkMode links = {});

// Quotes a string the way responses print it: no escaping (the firmware prints raw bytes).
std::string quoted(std::string_view s);

}  // namespace espat::at
