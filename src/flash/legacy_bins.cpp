#include "flash/legacy_bins.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/core.h>

#include "flash/nvs_csv.hpp"

namespace espat::flash {

namespace {

bool is_comment_or_blank(const CsvRecord& r) {
  if (!r.fields.empty() && !r.fields[0].empty() && r.fields[0][0] == '#') return true;
  return std::all_of(r.fields.begin(), r.fields.end(), [](const std::string& f) { return f.empty(); });
}

}  // namespace

std::vector<std::uint8_t> gen_legacy_factory_param(std::string_view module, std::string_view data_csv,
                                                   std::string_view type_csv, std::string_view platform,
                                                   std::string_view data_name, std::string_view type_name) {
  struct Field {
    std::string name;
    long long offset, size;
    bool is_string;
    std::size_t line;
  };
  std::vector<Field> fields;
  bool header = false;
  for (const auto& r : parse_csv(type_csv)) {
    if (is_comment_or_blank(r)) continue;
    auto fail = [&](const std::string& m) { return CsvError(fmt::format("{}:{}: {}", type_name, r.line, m)); };
    if (!header) {
      if (r.fields.size() < 4 || r.fields[0] != "param_name")
        throw fail("expected the header `param_name,offset,type,size`");
      header = true;
      continue;
    }
    if (r.fields.size() != 4) throw fail("expected 4 fields (param_name,offset,type,size)");
    Field f{r.fields[0], 0, 0, false, r.line};
    if (!parse_int(r.fields[1], f.offset) || !parse_int(r.fields[3], f.size)) throw fail("bad offset or size");
    std::string t = r.fields[2];
    std::transform(t.begin(), t.end(), t.begin(), ::tolower);
    if (t != "string" && t != "integer") throw fail(fmt::format("unknown type `{}` (String or integer)", r.fields[2]));
    f.is_string = t == "string";
    if (f.offset >= 0 && (f.size < 0 || f.offset + f.size > static_cast<long long>(kLegacyFactoryParamSize)))
      throw fail("field outside the 4096-byte partition");
    if (f.offset >= 0 && !f.is_string && f.size > 8) throw fail("integer field larger than 8 bytes");
    fields.push_back(f);
  }
  if (!header) throw CsvError(fmt::format("{}: no header line", type_name));

  std::vector<std::string> columns;
  const CsvRecord* found = nullptr;
  const auto records = parse_csv(data_csv);
  for (const auto& r : records) {
    if (is_comment_or_blank(r)) continue;
    if (columns.empty()) {
      columns = r.fields;
      if (std::find(columns.begin(), columns.end(), "platform") == columns.end() ||
          std::find(columns.begin(), columns.end(), "module_name") == columns.end())
        throw CsvError(fmt::format("{}:{}: the header needs `platform` and `module_name` columns", data_name, r.line));
      continue;
    }
    if (r.fields.size() != columns.size())
      throw CsvError(fmt::format("{}:{}: {} fields, the header has {}", data_name, r.line, r.fields.size(), columns.size()));
    auto col = [&](std::string_view name) {
      return r.fields[std::find(columns.begin(), columns.end(), name) - columns.begin()];
    };
    if (col("platform") == platform && col("module_name") == module) {
      found = &r;
      break;
    }
  }
  if (!found) throw CsvError(fmt::format("{}: no row for platform {} and module {}", data_name, platform, module));

  std::vector<std::uint8_t> out(kLegacyFactoryParamSize, 0xFF);
  for (const auto& f : fields) {
    if (f.offset < 0) continue;
    const auto it = std::find(columns.begin(), columns.end(), f.name);
    if (it == columns.end()) continue;
    const std::string& text = found->fields[it - columns.begin()];
    std::fill_n(out.begin() + f.offset, f.size, 0);
    if (f.is_string) {
      std::copy_n(text.begin(), std::min<std::size_t>(text.size(), f.size), out.begin() + f.offset);
    } else {
      long long v = 0;
      if (!parse_int(text, v))
        throw CsvError(fmt::format("{}:{}: {} `{}` is not an integer", data_name, found->line, f.name, text));
      for (long long i = 0; i < f.size; ++i) out[f.offset + i] = static_cast<std::uint8_t>(static_cast<unsigned long long>(v) >> (8 * i));
    }
  }
  return out;
}

bool parse_pki_type(std::string_view name, PkiType& out) {
  if (name == "ca") out = PkiType::Ca;
  else if (name == "cert") out = PkiType::Cert;
  else if (name == "key") out = PkiType::Key;
  else return false;
  return true;
}

std::vector<std::uint8_t> gen_pki(const std::vector<PkiItem>& items) {
  std::vector<PkiType> order;
  for (const auto& it : items)
    if (std::find(order.begin(), order.end(), it.type) == order.end()) order.push_back(it.type);
  std::vector<std::uint8_t> body;
  std::size_t count = 0;
  for (const PkiType t : order) {
    std::uint8_t id = 0;
    for (const auto& it : items) {
      if (it.type != t) continue;
      if (it.content.size() > 0xFFFF) throw std::invalid_argument("a PKI item is larger than 65535 bytes");
      body.push_back(static_cast<std::uint8_t>(t));
      body.push_back(id++);
      body.push_back(static_cast<std::uint8_t>(it.content.size()));
      body.push_back(static_cast<std::uint8_t>(it.content.size() >> 8));
      body.insert(body.end(), it.content.begin(), it.content.end());
      body.insert(body.end(), (4 - it.content.size() % 4) % 4, 0xFF);
      ++count;
    }
  }
  std::vector<std::uint8_t> out = {0xF1, 0xF1, static_cast<std::uint8_t>(count), static_cast<std::uint8_t>(count >> 8)};
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(body.size() >> (8 * i)));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

std::vector<std::uint8_t> gen_ble_data(std::string_view csv, std::string_view source) {
  std::vector<std::string> columns;
  std::string services;
  for (const auto& r : parse_csv(csv)) {
    if (is_comment_or_blank(r)) continue;
    auto fail = [&](const std::string& m) { return CsvError(fmt::format("{}:{}: {}", source, r.line, m)); };
    if (columns.empty()) {
      columns = r.fields;
      if (columns != std::vector<std::string>{"index", "uuid_len", "uuid", "perm", "val_max_len", "val_cur_len", "value"})
        throw fail("expected the header `index,uuid_len,uuid,perm,val_max_len,val_cur_len,value`");
      continue;
    }
    if (r.fields.size() != columns.size()) throw fail(fmt::format("{} fields, expected 7", r.fields.size()));
    auto hex_text = [&](std::string s, const char* what) {
      if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s = s.substr(2);
      for (char& c : s) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) throw fail(fmt::format("{} `{}` is not hexadecimal", what, s));
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      if (s.size() % 2) s = "0" + s;
      return s;
    };
    auto integer = [&](std::size_t i, long long dflt) {
      if (r.fields[i].empty()) return dflt;
      long long v;
      if (!parse_int(r.fields[i], v)) throw fail(fmt::format("{} `{}` is not an integer", columns[i], r.fields[i]));
      return v;
    };
    const long long index = integer(0, -1);
    if (index < 0) throw fail("missing index");
    if (!services.empty()) services += ", ";
    services += fmt::format(
        "{{\"index\": {}, \"uuid_len\": {}, \"uuid\": \"{}\", \"perm\": {}, \"val_max_len\": {}, \"val_cur_len\": {}, "
        "\"value\": \"{}\"}}",
        index, integer(1, 16), hex_text(r.fields[2], "uuid"), integer(3, 0), integer(4, 512), integer(5, 0),
        hex_text(r.fields[6], "value"));
  }
  if (columns.empty()) throw CsvError(fmt::format("{}: no header line", source));
  const std::string json = "{\"Service\": [" + services + "]}";
  if (json.size() > 0xFFFF) throw CsvError(fmt::format("{}: the JSON is longer than 65535 bytes", source));
  std::vector<std::uint8_t> out(json.size() + 4);
  out[0] = static_cast<std::uint8_t>(json.size());
  out[1] = static_cast<std::uint8_t>(json.size() >> 8);
  out[2] = 0x27;
  out[3] = 0x95;
  std::copy(json.begin(), json.end(), out.begin() + 4);
  return out;
}

}  // namespace espat::flash
