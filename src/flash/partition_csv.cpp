#include "flash/partition_csv.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace espat::flash {
namespace {

using Keywords = std::vector<std::pair<std::string, std::uint32_t>>;

const Keywords& type_keywords() {
  static const Keywords k{{"app", kTypeApp}, {"data", kTypeData}};
  return k;
}

const Keywords& subtype_keywords(std::uint8_t type) {
  static const Keywords app = [] {
    Keywords k{{"factory", 0x00}, {"test", 0x20}};
    for (int i = 0; i < 16; ++i) k.emplace_back(fmt::format("ota_{}", i), 0x10 + i);
    return k;
  }();
  static const Keywords data{{"ota", 0x00},     {"phy", 0x01},       {"nvs", 0x02},      {"coredump", 0x03},
                             {"nvs_keys", 0x04}, {"efuse", 0x05},     {"undefined", 0x06}, {"esphttpd", 0x80},
                             {"fat", 0x81},      {"spiffs", 0x82},    {"littlefs", 0x83}};
  static const Keywords none;
  return type == kTypeApp ? app : type == kTypeData ? data : none;
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Python's int(v, 0) for what a partition CSV holds: decimal (no leading zeros), 0x, 0o, 0b.
std::optional<std::int64_t> py_int(std::string_view v) {
  bool neg = false;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) neg = v[0] == '-', v.remove_prefix(1);
  int base = 10;
  if (v.size() > 2 && v[0] == '0' && std::string_view("xXoObB").find(v[1]) != std::string_view::npos) {
    base = (v[1] == 'x' || v[1] == 'X') ? 16 : (v[1] == 'o' || v[1] == 'O') ? 8 : 2;
    v.remove_prefix(2);
  } else if (v.size() > 1 && v[0] == '0' && v.find_first_not_of('0') != std::string_view::npos) {
    return std::nullopt;  // Python refuses "010"
  }
  if (v.empty()) return std::nullopt;
  std::int64_t r = 0;
  for (char c : v) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return std::nullopt;
    if (d >= base) return std::nullopt;
    r = r * base + d;
    if (r > (std::int64_t(1) << 40)) return std::nullopt;  // far past any flash
  }
  return neg ? -r : r;
}

// gen_esp32part.parse_int: k/m suffixes (any case), int(v, 0), then the keywords (any case).
std::int64_t parse_int(std::string_view v, const Keywords& keywords, const std::string& where,
                       const char* field) {
  std::string_view num = v;
  std::int64_t mult = 1;
  // Stops once past any flash (so "1MMMMMM" cannot overflow): the suffixes left make it invalid.
  while (!num.empty() && mult <= (std::int64_t(1) << 40) &&
         (num.back() == 'k' || num.back() == 'K' || num.back() == 'm' || num.back() == 'M')) {
    mult *= (num.back() == 'k' || num.back() == 'K') ? 1024 : 1024 * 1024;
    num.remove_suffix(1);
  }
  if (auto n = py_int(num); n && mult <= (std::int64_t(1) << 40)) return *n * mult;
  const std::string l = lower(v);
  for (const auto& [name, value] : keywords)
    if (name == l) return value;
  if (keywords.empty()) throw PartitionCsvError(fmt::format("{}: invalid {} \"{}\"", where, field, v));
  std::string known;
  for (const auto& [name, value] : keywords) known += (known.empty() ? "" : ", ") + name;
  throw PartitionCsvError(fmt::format("{}: {} \"{}\" is not valid; known names: {}", where, field, v, known));
}

struct Row {
  Partition p;
  bool offset_given = false;
  int line = 0;
};

std::uint32_t offset_alignment(std::uint8_t type) { return type == kTypeApp ? 0x10000 : 0x1000; }

}  // namespace

std::string partition_type_name(std::uint8_t type) {
  for (const auto& [name, value] : type_keywords())
    if (value == type) return name;
  return fmt::format("0x{:02x}", type);
}

std::string partition_subtype_name(std::uint8_t type, std::uint8_t subtype) {
  for (const auto& [name, value] : subtype_keywords(type))
    if (value == subtype) return name;
  return fmt::format("0x{:02x}", subtype);
}

PartitionTable parse_partition_csv(std::string_view csv, std::uint32_t table_offset) {
  std::vector<Row> rows;
  int line_no = 0;
  while (!csv.empty()) {
    const auto nl = csv.find('\n');
    std::string_view line = csv.substr(0, nl);
    csv = nl == std::string_view::npos ? std::string_view{} : csv.substr(nl + 1);
    ++line_no;
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    const std::string where = fmt::format("line {}", line_no);
    std::vector<std::string_view> f;
    for (std::size_t pos = 0;;) {
      const auto c = line.find(',', pos);
      f.push_back(trim(line.substr(pos, c == std::string_view::npos ? std::string_view::npos : c - pos)));
      if (c == std::string_view::npos) break;
      pos = c + 1;
    }
    while (f.size() < 6) f.emplace_back();
    Row r;
    r.line = line_no;
    r.p.label = std::string(f[0]);
    if (r.p.label.empty()) throw PartitionCsvError(where + ": the name is empty");
    if (r.p.label.size() > 16)
      throw PartitionCsvError(fmt::format("{}: name \"{}\" is longer than 16 bytes", where, r.p.label));
    // The label is NUL-padded in the bin: a NUL inside would cut it short there.
    if (r.p.label.find('\0') != std::string::npos) throw PartitionCsvError(where + ": the name contains a NUL byte");
    if (f[1].empty()) throw PartitionCsvError(where + ": the type is empty");
    const auto type = parse_int(f[1], type_keywords(), where, "type");
    if (type < 0 || type > 0xFE) throw PartitionCsvError(fmt::format("{}: type \"{}\" is not in 0..0xfe", where, f[1]));
    r.p.type = static_cast<std::uint8_t>(type);
    std::int64_t subtype = 0x06;  // an empty data subtype is "undefined"
    if (f[2].empty()) {
      if (r.p.type == kTypeApp) throw PartitionCsvError(where + ": an app partition cannot have an empty subtype");
    } else {
      subtype = parse_int(f[2], subtype_keywords(r.p.type), where, "subtype");
    }
    if (subtype < 0 || subtype > 0xFE)
      throw PartitionCsvError(fmt::format("{}: subtype \"{}\" is not in 0..0xfe", where, f[2]));
    r.p.subtype = static_cast<std::uint8_t>(subtype);
    if (!f[3].empty()) {
      const auto off = parse_int(f[3], {}, where, "offset");
      if (off < 0 || off > 0xFFFFFFFF) throw PartitionCsvError(fmt::format("{}: offset \"{}\" is out of range", where, f[3]));
      r.p.offset = static_cast<std::uint32_t>(off);
      r.offset_given = true;
    }
    if (f[4].empty()) throw PartitionCsvError(where + ": the size is empty");
    const auto size = parse_int(f[4], {}, where, "size");
    if (size <= 0 || size > 0xFFFFFFFF) throw PartitionCsvError(fmt::format("{}: size \"{}\" is not valid", where, f[4]));
    r.p.size = static_cast<std::uint32_t>(size);
    for (std::size_t pos = 0; pos <= f[5].size();) {
      auto c = f[5].find(':', pos);
      if (c == std::string_view::npos) c = f[5].size();
      const auto flag = trim(f[5].substr(pos, c - pos));
      if (flag == "encrypted") r.p.flags |= 1;
      else if (flag == "readonly") r.p.flags |= 2;
      else if (!flag.empty()) throw PartitionCsvError(fmt::format("{}: unknown flag \"{}\"", where, flag));
      pos = c + 1;
    }
    if (f.size() > 6) {
      for (std::size_t i = 6; i < f.size(); ++i)
        if (!f[i].empty()) throw PartitionCsvError(fmt::format("{}: unexpected field \"{}\"", where, f[i]));
    }
    rows.push_back(std::move(r));
  }

  // from_csv: place the rows without an offset, refuse an offset below the end of the previous one.
  std::uint64_t last_end = std::uint64_t(table_offset) + 0x1000;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto& r = rows[i];
    const std::string where = fmt::format("line {}", r.line);
    if (r.offset_given && r.p.offset < last_end) {
      if (i == 0)
        throw PartitionCsvError(fmt::format("{}: partition \"{}\" at 0x{:x} overlaps the partition table, which occupies "
                                   "the sector up to 0x{:x}",
                                   where, r.p.label, r.p.offset, last_end));
      throw PartitionCsvError(fmt::format("{}: partition \"{}\" at 0x{:x} overlaps the previous partition, which ends at 0x{:x}",
                                 where, r.p.label, r.p.offset, last_end));
    }
    if (!r.offset_given) {
      const std::uint32_t a = offset_alignment(r.p.type);
      if (last_end % a) last_end += a - last_end % a;
      if (last_end > 0xFFFFFFFF) throw PartitionCsvError(where + ": partition placed past 4 GiB");
      r.p.offset = static_cast<std::uint32_t>(last_end);
    }
    last_end = std::uint64_t(r.p.offset) + r.p.size;
    if (last_end > 0x100000000ull)
      throw PartitionCsvError(fmt::format("{}: partition \"{}\" ends past 4 GiB", where, r.p.label));
  }

  // verify(): alignment, unique names, overlaps, one otadata of 8 KiB.
  for (const auto& r : rows) {
    const std::string where = fmt::format("line {}", r.line);
    const std::uint32_t a = offset_alignment(r.p.type);
    if (r.p.offset % a)
      throw PartitionCsvError(fmt::format("{}: partition \"{}\": offset 0x{:x} is not aligned to 0x{:x}", where, r.p.label,
                                 r.p.offset, a));
    if (r.p.type == kTypeApp && r.p.size % 0x1000)
      throw PartitionCsvError(fmt::format("{}: partition \"{}\": size 0x{:x} is not aligned to 0x1000", where, r.p.label,
                                 r.p.size));
    if (r.p.type == kTypeData && (r.p.subtype == kSubtypeOta || r.p.subtype == 0x03) && (r.p.flags & 2))
      throw PartitionCsvError(fmt::format("{}: partition \"{}\" is always read-write and cannot be readonly", where,
                                 r.p.label));
  }
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (rows[i].p.label == rows[j].p.label)
        throw PartitionCsvError(fmt::format("line {}: partition name \"{}\" is already used on line {}", rows[i].line,
                                   rows[i].p.label, rows[j].line));
  std::vector<const Row*> sorted;
  for (const auto& r : rows) sorted.push_back(&r);
  std::stable_sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->p.offset < b->p.offset; });
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    const auto& prev = sorted[i - 1]->p;
    if (sorted[i]->p.offset < std::uint64_t(prev.offset) + prev.size)
      throw PartitionCsvError(fmt::format("line {}: partition \"{}\" at 0x{:x} overlaps \"{}\" (line {}) at 0x{:x}-0x{:x}",
                                 sorted[i]->line, sorted[i]->p.label, sorted[i]->p.offset, prev.label,
                                 sorted[i - 1]->line, prev.offset, prev.offset + prev.size - 1));
  }
  const Row* otadata = nullptr;
  for (const auto& r : rows) {
    if (r.p.type != kTypeData || r.p.subtype != kSubtypeOta) continue;
    if (otadata)
      throw PartitionCsvError(fmt::format("line {}: a second otadata partition (the first is on line {})", r.line,
                                 otadata->line));
    otadata = &r;
    if (r.p.size != 0x2000)
      throw PartitionCsvError(fmt::format("line {}: the otadata partition must have size 0x2000", r.line));
  }

  PartitionTable t;
  for (auto& r : rows) t.entries.push_back(std::move(r.p));
  if (t.entries.size() * kPartitionEntrySize + 32 >= kPartitionTableSize)
    throw PartitionCsvError(fmt::format("{} partitions do not fit in a table of 0x{:x} bytes", t.entries.size(),
                               kPartitionTableSize));
  return t;
}

std::string partition_table_to_csv(const PartitionTable& table) {
  auto addr = [](std::uint32_t a, bool sizes) {
    if (sizes && a != 0) {
      if (a % 0x100000 == 0) return fmt::format("{}M", a / 0x100000);
      if (a % 0x400 == 0) return fmt::format("{}K", a / 0x400);
    }
    if (sizes && a == 0) return std::string("0M");
    return fmt::format("0x{:x}", a);
  };
  auto keyword = [](std::uint32_t v, const Keywords& k) {
    for (const auto& [name, value] : k)
      if (value == v) return name;
    return fmt::format("{}", v);
  };
  std::string out = "# ESP-IDF Partition Table\n# Name, Type, SubType, Offset, Size, Flags\n";
  for (const auto& p : table.entries) {
    std::string flags;
    if (p.flags & 1) flags = "encrypted";
    if (p.flags & 2) flags += flags.empty() ? "readonly" : ":readonly";
    out += fmt::format("{},{},{},{},{},{}\n", p.label, keyword(p.type, type_keywords()),
                       keyword(p.subtype, subtype_keywords(p.type)), addr(p.offset, false), addr(p.size, true), flags);
  }
  return out;
}

}  // namespace espat::flash
