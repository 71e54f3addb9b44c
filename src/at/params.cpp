#include "at/params.hpp"

#include <algorithm>
#include <charconv>

namespace espat::at {

namespace {
bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}
}  // namespace

std::variant<std::vector<RawParam>, ParseFailure> parse_params(std::string_view text) {
  std::vector<RawParam> out;
  std::size_t i = 0;
  for (;;) {
    const std::size_t index = out.size();
    while (i < text.size() && is_space(text[i])) ++i;
    RawParam p;
    if (i < text.size() && text[i] == '"') {
      p.kind = RawParam::Kind::String;
      ++i;
      bool closed = false;
      while (i < text.size()) {
        char c = text[i++];
        if (c == '\\') {
          if (i == text.size()) return ParseFailure{index};
          p.text.push_back(text[i++]);  // \\ \, \" and \<any>: keep the next byte
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          p.text.push_back(c);
        }
      }
      if (!closed) return ParseFailure{index};
      while (i < text.size() && is_space(text[i])) ++i;
      if (i < text.size() && text[i] != ',') return ParseFailure{index};
    } else {
      std::size_t end = text.find(',', i);
      if (end == std::string_view::npos) end = text.size();
      std::string_view token = trim(text.substr(i, end - i));
      if (!token.empty()) {
        p.kind = RawParam::Kind::Bare;
        p.text = std::string(token);
      }
      i = end;
    }
    out.push_back(std::move(p));
    if (i >= text.size()) break;
    ++i;  // the comma
  }
  return out;
}

std::optional<std::int64_t> parse_integer(std::string_view token) {
  bool negative = false;
  if (!token.empty() && (token[0] == '-' || token[0] == '+')) {
    negative = token[0] == '-';
    token.remove_prefix(1);
  }
  int base = 10;
  if (token.size() > 2 && token[0] == '0' && (token[1] == 'x' || token[1] == 'X')) {
    base = 16;
    token.remove_prefix(2);
  }
  if (token.empty()) return std::nullopt;
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), v, base);
  if (ec != std::errc() || ptr != token.data() + token.size()) return std::nullopt;
  if (v > std::uint64_t(INT64_MAX)) return std::nullopt;
  return negative ? -std::int64_t(v) : std::int64_t(v);
}

std::int64_t Args::integer(std::size_t i, std::int64_t fallback) const {
  if (has(i)) return values_[i].integer;
  if (i < values_.size() && values_[i].def) return *values_[i].def;
  return fallback;
}

const std::string& Args::text(std::size_t i) const {
  static const std::string empty;
  return has(i) ? values_[i].text : empty;
}

std::size_t Args::index(std::string_view name) const {
  for (std::size_t i = 0; i < values_.size(); ++i)
    if (name == values_[i].name) return i;
  return values_.size();
}

namespace {
bool spec_optional(const ParamSpec& s) {
  return std::visit([](const auto& p) { return p.optional; }, s);
}
const char* spec_name(const ParamSpec& s) {
  return std::visit([](const auto& p) { return p.name; }, s);
}

// One present parameter against its spec; idx is its position on the line.
std::optional<ErrCode> check_one(const RawParam& r, const ParamSpec& spec, std::uint16_t idx, Args::Value& v) {
  v.present = true;
  if (const Int* s = std::get_if<Int>(&spec)) {
    if (r.kind != RawParam::Kind::Bare) return ErrCode::make(Sub::ParaType, idx);
    auto n = parse_integer(r.text);
    if (!n) return ErrCode::make(Sub::ParaType, idx);
    if (*n < s->min || *n > s->max) return ErrCode::make(Sub::ParaInvalid, idx);
    v.integer = *n;
  } else if (const Str* s = std::get_if<Str>(&spec)) {
    if (r.kind != RawParam::Kind::String) return ErrCode::make(Sub::ParaType, idx);
    if (r.text.size() > s->max_len || r.text.size() < s->min_len) return ErrCode::make(Sub::ParaLength, idx);
    if (s->valid && !s->valid(r.text)) return ErrCode::make(Sub::ParaInvalid, idx);
    if (!s->one_of.empty() && std::find(s->one_of.begin(), s->one_of.end(), r.text) == s->one_of.end())
      return ErrCode::make(Sub::ParaInvalid, idx);
    v.is_string = true;
    v.text = r.text;
  } else {  // Any
    if (r.kind == RawParam::Kind::String) {
      v.is_string = true;
      v.text = r.text;
    } else {
      auto n = parse_integer(r.text);
      if (!n) return ErrCode::make(Sub::ParaType, idx);
      v.integer = *n;
      v.text = r.text;
    }
  }
  return std::nullopt;
}

// The count of the list after the link id; `offset` is the link id's place.
std::optional<ErrCode> check_count(std::vector<RawParam>& raw, const std::vector<ParamSpec>& schema, std::size_t offset) {
  // "AT+T=1,2," equals "AT+T=1,2": omitted fields past the schema are dropped (§6.4.6).
  while (raw.size() > schema.size() && raw.back().kind == RawParam::Kind::Omitted) raw.pop_back();
  std::size_t mandatory = 0;
  for (std::size_t i = 0; i < schema.size(); ++i)
    if (!spec_optional(schema[i])) mandatory = i + 1;
  if (raw.size() > schema.size())
    return ErrCode::para_num(unsigned(offset + schema.size()), unsigned(offset + raw.size()));
  if (raw.size() < mandatory) return ErrCode::para_num(unsigned(offset + mandatory), unsigned(offset + raw.size()));
  return std::nullopt;
}

// Each parameter of a list whose count is right.
std::variant<std::vector<Args::Value>, ErrCode> check_values(const std::vector<RawParam>& raw,
                                                             const std::vector<ParamSpec>& schema, std::size_t offset) {
  std::vector<Args::Value> values(schema.size());
  for (std::size_t i = 0; i < schema.size(); ++i) {
    values[i].name = spec_name(schema[i]);
    if (const Int* s = std::get_if<Int>(&schema[i])) values[i].def = s->def;
  }
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const auto idx = std::uint16_t(offset + i);
    if (raw[i].kind == RawParam::Kind::Omitted) {
      if (!spec_optional(schema[i])) return ErrCode::make(Sub::ParaInvalid, idx);
      continue;
    }
    if (auto e = check_one(raw[i], schema[i], idx, values[i])) return *e;
  }
  return values;
}
}  // namespace

// The order of the firmware's handlers: the count, then the link id, then each parameter.
std::variant<Args, ErrCode> check(const std::vector<RawParam>& raw_in, const Schema& schema, LinkMode links) {
  const std::size_t given = raw_in.size();
  std::vector<RawParam> raw = raw_in;
  std::optional<RawParam> link_raw;
  std::size_t offset = 0;
  if (schema.link_id != LinkId::None && links.multiple && !raw.empty()) {
    link_raw = raw.front();
    raw.erase(raw.begin());
    offset = 1;
  }
  const std::vector<ParamSpec>* list = &schema.params;
  std::vector<ParamSpec> chosen;
  if (!schema.variants.empty()) {
    // The first parameter picks the shape of the rest; a link id typed before it is checked
    // first, as the first parameter ("TCP" where AT+CIPMUX=1 wants an id is a type error).
    if (link_raw && link_raw->kind == RawParam::Kind::String) return ErrCode::make(Sub::ParaType, 0);
    if (raw.empty()) return ErrCode::para_num(unsigned(offset + 1), unsigned(offset));
    if (raw[0].kind == RawParam::Kind::Omitted) return ErrCode::make(Sub::ParaInvalid, std::uint16_t(offset));
    Args::Value first;
    if (auto e = check_one(raw[0], schema.params.at(0), std::uint16_t(offset), first)) return *e;
    const std::string key = first.is_string ? first.text : std::to_string(first.integer);
    auto v = std::find_if(schema.variants.begin(), schema.variants.end(), [&](const Variant& x) { return x.when == key; });
    if (v == schema.variants.end()) return ErrCode::make(Sub::ParaInvalid, std::uint16_t(offset));
    chosen.push_back(schema.params[0]);
    chosen.insert(chosen.end(), v->params.begin(), v->params.end());
    list = &chosen;
  }
  if (schema.link_id != LinkId::None && links.multiple && !link_raw)
    return ErrCode::para_num(unsigned(1 + list->size()), 0);
  if (auto e = check_count(raw, *list, offset)) return *e;
  std::optional<int> link;
  if (link_raw) {
    const int max = schema.link_id == LinkId::PrefixOrAll ? links.links : links.links - 1;
    Args::Value v;
    if (link_raw->kind == RawParam::Kind::Omitted) return ErrCode::make(Sub::ParaInvalid, 0);
    if (auto e = check_one(*link_raw, Int{"link ID", 0, max}, 0, v)) return *e;
    link = int(v.integer);
  }
  auto values = check_values(raw, *list, offset);
  if (auto* e = std::get_if<ErrCode>(&values)) return *e;
  return Args(std::move(std::get<std::vector<Args::Value>>(values)), given, link);
}

std::variant<Args, ErrCode> parse_and_check(std::string_view text, const Schema& schema, LinkMode links) {
  auto parsed = parse_params(text);
  if (auto* f = std::get_if<ParseFailure>(&parsed)) return ErrCode::make(Sub::ParaParse, std::uint16_t(f->index));
  return check(std::get<std::vector<RawParam>>(parsed), schema, links);
}

std::string quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  out.append(s);
  out.push_back('"');
  return out;
}

}  // namespace espat::at
