#include "flash/nvs_csv.hpp"

#include <charconv>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>

#include <fmt/core.h>

#include "flash/nvs.hpp"
#include "flash/nvs_format.hpp"
#include "flash/region.hpp"

namespace espat::flash {

std::vector<CsvRecord> parse_csv(std::string_view text) {
  std::vector<CsvRecord> out;
  std::size_t i = 0, line = 1;
  while (i < text.size()) {
    CsvRecord rec;
    rec.line = line;
    std::string field;
    bool any = false;  // the record has something (a blank line gives no record)
    bool quoted = false, was_quoted = false;
    for (;;) {
      if (i >= text.size()) break;
      const char c = text[i];
      if (quoted) {
        if (c == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
          } else {
            quoted = false;
            ++i;
          }
        } else {
          if (c == '\n') ++line;
          field += c;
          ++i;
        }
        continue;
      }
      if (c == '"' && field.empty() && !was_quoted) {
        quoted = was_quoted = any = true;
        ++i;
      } else if (c == ',') {
        rec.fields.push_back(std::move(field));
        field.clear();
        was_quoted = false;
        any = true;
        ++i;
      } else if (c == '\r' || c == '\n') {
        if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
        ++i;
        ++line;
        break;
      } else {
        field += c;
        any = true;
        ++i;
      }
    }
    if (quoted) throw CsvError(fmt::format("line {}: unterminated quoted field", rec.line));
    if (any) {
      rec.fields.push_back(std::move(field));
      out.push_back(std::move(rec));
    }
  }
  return out;
}

std::string csv_field(std::string_view s) {
  const bool needs = s.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!s.empty() && (s.front() == ' ' || s.back() == ' ' || s.front() == '#'));
  if (!needs) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::vector<std::uint8_t> base64_decode(std::string_view in) {
  auto sextet = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::vector<std::uint8_t> out;
  unsigned acc = 0;
  int bits = 0;
  bool pad = false;
  for (char c : in) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      pad = true;
      continue;
    }
    const int v = sextet(c);
    if (v < 0 || pad) throw std::invalid_argument("invalid base64 text");
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
  }
  if (bits >= 6) throw std::invalid_argument("truncated base64 text");
  return out;
}

std::string base64_encode(std::span<const std::uint8_t> in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = in[i] << 16 | in[i + 1] << 8 | in[i + 2];
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += k[v & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = in[i] << 16;
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v = in[i] << 16 | in[i + 1] << 8;
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::vector<std::uint8_t> hex_decode(std::string_view in) {
  while (!in.empty() && (in.back() == '\n' || in.back() == '\r' || in.back() == ' ')) in.remove_suffix(1);
  if (in.size() % 2) throw std::invalid_argument("odd-length hex text");
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::invalid_argument("non-hex digit");
  };
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < in.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(nibble(in[i]) << 4 | nibble(in[i + 1])));
  return out;
}

std::vector<std::uint8_t> read_binary_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw CsvError(fmt::format("{}: cannot open", p.string()));
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string read_text_file(const std::filesystem::path& p) {
  const auto b = read_binary_file(p);
  return {b.begin(), b.end()};
}

bool parse_int(std::string_view s, long long& out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  bool neg = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) return false;
  unsigned long long mag = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), mag, base);
  if (ec != std::errc() || p != s.data() + s.size()) return false;
  if (neg) {
    if (mag > static_cast<unsigned long long>(std::numeric_limits<long long>::max()) + 1) return false;
    out = static_cast<long long>(0 - mag);
  } else {
    out = static_cast<long long>(mag);  // u64 values above INT64_MAX keep their bit pattern
    if (mag > static_cast<unsigned long long>(std::numeric_limits<long long>::max())) {
      // Only meaningful for u64; callers check with parse_u64 semantics below.
      out = static_cast<long long>(mag);
    }
  }
  return true;
}

namespace {

struct IntType {
  nvs::Type type;
  long double min, max;
};

const std::map<std::string, IntType, std::less<>>& int_types() {
  static const std::map<std::string, IntType, std::less<>> m = {
      {"u8", {nvs::Type::U8, 0, 255}},
      {"i8", {nvs::Type::I8, -128, 127}},
      {"u16", {nvs::Type::U16, 0, 65535}},
      {"i16", {nvs::Type::I16, -32768, 32767}},
      {"u32", {nvs::Type::U32, 0, 4294967295.0L}},
      {"i32", {nvs::Type::I32, -2147483648.0L, 2147483647.0L}},
      {"u64", {nvs::Type::U64, 0, 18446744073709551615.0L}},
      {"i64", {nvs::Type::I64, -9223372036854775808.0L, 9223372036854775807.0L}},
  };
  return m;
}

// The value of an integer text as a long double (exact for 64-bit magnitudes), or false.
bool int_value(std::string_view s, long double& v, long long& bits) {
  if (!parse_int(s, bits)) return false;
  std::string_view t = s;
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  const bool neg = !t.empty() && t.front() == '-';
  v = neg ? static_cast<long double>(bits) : static_cast<long double>(static_cast<unsigned long long>(bits));
  return true;
}

}  // namespace

std::vector<std::uint8_t> generate_nvs(std::string_view csv_text, const std::filesystem::path& base_dir,
                                       std::size_t size, std::string_view source) {
  if (size % kSectorSize != 0 || size < 3 * kSectorSize)
    throw CsvError(fmt::format("partition size {:#x}: must be a multiple of 4096 and at least 0x3000", size));
  std::vector<CsvRecord> rows;
  try {
    rows = parse_csv(csv_text);
  } catch (const CsvError& e) {
    throw CsvError(fmt::format("{}: {}", source, e.what()));
  }
  MemoryRegion mem(size);
  nvs::Storage store(mem);
  std::string ns;
  bool header = false;
  for (const auto& r : rows) {
    auto fail = [&](const std::string& msg) { return CsvError(fmt::format("{}:{}: {}", source, r.line, msg)); };
    if (!r.fields.empty() && !r.fields[0].empty() && r.fields[0][0] == '#') continue;  // comment
    if (!header) {
      if (r.fields != std::vector<std::string>{"key", "type", "encoding", "value"})
        throw fail("the first line must be the header `key,type,encoding,value`");
      header = true;
      continue;
    }
    if (r.fields.size() != 4)
      throw fail(fmt::format("expected 4 fields (key,type,encoding,value), found {}", r.fields.size()));
    const std::string& key = r.fields[0];
    const std::string& type = r.fields[1];
    const std::string& enc = r.fields[2];
    const std::string& val = r.fields[3];
    if (key.empty()) throw fail("empty key");
    if (key.size() > nvs::kMaxKeyLen)
      throw fail(fmt::format("key `{}` is {} characters long; the limit is 15", key, key.size()));
    // Keys are NUL-terminated on flash: a NUL inside would cut the key short there.
    if (key.find('\0') != std::string::npos) throw fail("the key contains a NUL byte");
    if (type == "namespace") {
      ns = key;
      continue;
    }
    if (type != "data" && type != "file") throw fail(fmt::format("unknown type `{}` (namespace, data or file)", type));
    if (ns.empty()) throw fail("a data row before any namespace row");
    std::string text = val;
    if (type == "file") {
      std::filesystem::path p(val);
      if (p.is_relative()) p = base_dir / p;
      // Not a directory (it would read as empty) nor a device or FIFO (it may never end).
      std::error_code ec;
      const auto status = std::filesystem::status(p, ec);
      if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
        throw fail(fmt::format("`{}` is not a regular file", p.string()));
      std::ifstream in(p, std::ios::binary);
      if (!in) throw fail(fmt::format("cannot read file `{}`", p.string()));
      text.assign(std::istreambuf_iterator<char>(in), {});
    }
    nvs::Value v;
    try {
      if (auto it = int_types().find(enc); it != int_types().end()) {
        long double d;
        long long bits;
        if (type == "file") throw fail("an integer encoding needs a data row");
        if (!int_value(text, d, bits)) throw fail(fmt::format("`{}` is not an integer", text));
        if (d < it->second.min || d > it->second.max)
          throw fail(fmt::format("value {} out of range for {}", text, enc));
        v = nvs::Value{it->second.type, bits, {}};
      } else if (enc == "string") {
        if (text.size() + 1 > kGeneratorMaxStringBytes)
          throw fail(fmt::format("string of {} bytes: the generator's limit is {} bytes with the NUL (runtime limit {})",
                                 text.size(), kGeneratorMaxStringBytes - 1, nvs::kMaxStringBytes));
        v = nvs::Value::str(text);
      } else if (enc == "binary") {
        v = nvs::Value::blob({text.begin(), text.end()});
      } else if (enc == "hex2bin") {
        v = nvs::Value::blob(hex_decode(text));
      } else if (enc == "base64") {
        v = nvs::Value::blob(base64_decode(text));
      } else {
        throw fail(fmt::format("unknown encoding `{}`", enc));
      }
    } catch (const std::invalid_argument& e) {
      throw fail(fmt::format("{} value: {}", enc, e.what()));
    }
    if (const auto e = store.set(ns, key, v); e != nvs::Error::None)
      throw fail(fmt::format("{}/{}: {}", ns, key, nvs::to_string(e)));
  }
  if (!header) throw CsvError(fmt::format("{}: no header line `key,type,encoding,value`", source));
  auto bytes = mem.bytes();
  // The generator always initialises its first page, even for a CSV with no entries.
  if (nvs::detail::is_erased(std::span(bytes).first(kSectorSize))) {
    const auto h = nvs::detail::make_header(nvs::detail::state::Active, 0);
    std::copy(h.begin(), h.end(), bytes.begin());
  }
  return bytes;
}

std::string dump_nvs_csv(std::span<const std::uint8_t> partition, std::vector<std::string>* problems) {
  MemoryRegion mem(std::vector<std::uint8_t>(partition.begin(), partition.end()));
  const nvs::Storage store(mem, /*read_only=*/true);
  if (problems) problems->insert(problems->end(), store.problems().begin(), store.problems().end());
  std::string out = "key,type,encoding,value\n";
  for (const auto& ns : store.namespaces()) {
    out += csv_field(ns) + ",namespace,,\n";
    for (const auto& k : store.keys(ns)) {
      const auto v = store.get(ns, k.key);
      if (!v) continue;
      std::string value;
      switch (v->type) {
        case nvs::Type::U8:
        case nvs::Type::U16:
        case nvs::Type::U32:
        case nvs::Type::U64: value = std::to_string(static_cast<std::uint64_t>(v->integer)); break;
        case nvs::Type::I8:
        case nvs::Type::I16:
        case nvs::Type::I32:
        case nvs::Type::I64: value = std::to_string(v->integer); break;
        case nvs::Type::Str: value = v->as_string(); break;
        case nvs::Type::Blob: value = base64_encode(v->bytes); break;
      }
      // Blobs are dumped as base64 text, so that is their encoding in the CSV.
      const std::string_view encoding = v->type == nvs::Type::Blob ? "base64" : nvs::type_name(v->type);
      out += fmt::format("{},data,{},{}\n", csv_field(k.key), encoding, csv_field(value));
    }
  }
  return out;
}

}  // namespace espat::flash
