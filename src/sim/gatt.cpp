#include "sim/gatt.hpp"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "sim/ble.hpp"

namespace espat::sim {

namespace {

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  for (;;) {
    auto comma = s.find(',');
    out.push_back(s.substr(0, comma));
    if (comma == std::string_view::npos) return out;
    s.remove_prefix(comma + 1);
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "0x01", "0X1A" or "17": the table writes permissions in hex, lengths in decimal.
std::optional<long> number(std::string_view s) {
  s = trim(s);
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || v < 0) return std::nullopt;
  return v;
}

// The UUID column: "0x2800" (16 bits) or 32 hex digits (128 bits), kept upper-case without 0x.
std::optional<std::string> uuid_of(std::string_view s, long bits) {
  s = trim(s);
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if ((bits != 16 && bits != 32 && bits != 128) || s.size() != std::size_t(bits / 4) || !hex_to_bytes(s)) return std::nullopt;
  std::string out(s);
  for (auto& c : out) c = char(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

constexpr std::string_view kPrimary = "2800", kSecondary = "2801", kInclude = "2802", kCharDecl = "2803";

struct Row {
  std::string uuid;
  int perm = 0, max_len = 0;
  std::string value;
};

std::optional<Row> parse_row(std::string_view text, std::string& why) {
  auto f = split(text);
  if (f.size() != 7) return why = "not 7 fields", std::nullopt;
  auto bits = number(f[1]);
  auto perm = number(f[3]), max_len = number(f[4]), cur_len = number(f[5]);
  if (!bits || !perm || !max_len || !cur_len) return why = "a number is malformed", std::nullopt;
  auto uuid = uuid_of(f[2], *bits);
  if (!uuid) return why = "the UUID does not match its length", std::nullopt;
  auto value = hex_to_bytes(trim(f[6]));
  if (!value) return why = "the value is not hex", std::nullopt;
  if (*max_len > 512 || *cur_len > *max_len) return why = "a length is over val_max_len or 512", std::nullopt;
  if (value->size() > std::size_t(*cur_len)) value->resize(std::size_t(*cur_len));
  return Row{*uuid, int(*perm), int(*max_len), std::move(*value)};
}

std::string upper_hex(std::string_view bytes) {
  std::string h = bytes_to_hex(bytes);
  for (auto& c : h) c = char(std::toupper(static_cast<unsigned char>(c)));
  return h;
}

GattService builtin(std::string uuid, std::vector<GattChar> chars) {
  GattService s;
  s.uuid = std::move(uuid);
  s.started = true;
  s.chars = std::move(chars);
  return s;
}

}  // namespace

const GattDesc* GattChar::cccd() const {
  for (const auto& d : descs)
    if (d.uuid == "2902") return &d;
  return nullptr;
}

std::optional<GattDb> parse_gatt_rows(std::span<const std::string> rows, std::string* why) {
  GattDb db;
  std::string problem;
  bool want_value = false;  // a 0x2803 declaration was read: the next row is its value
  int props = 0;
  auto fail = [&](std::size_t i, std::string_view what) {
    if (why) *why = fmt::format("row {}: {}", i, what);
    return std::nullopt;
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto row = parse_row(rows[i], problem);
    if (!row) return fail(i, problem);
    const bool service = row->uuid == kPrimary || row->uuid == kSecondary;
    if (want_value) {
      if (service || row->uuid == kInclude || row->uuid == kCharDecl) return fail(i, "a declaration without its value");
      db.services.back().chars.push_back(GattChar{row->uuid, props, row->perm, row->max_len, row->value, {}});
      want_value = false;
      continue;
    }
    if (service) {
      if (row->value.size() != 2 && row->value.size() != 16) return fail(i, "a service's value is not its UUID");
      db.services.push_back(GattService{upper_hex(row->value), row->uuid == kPrimary, false, {}, {}});
      continue;
    }
    if (db.services.empty()) return fail(i, "no service declared before it");
    auto& s = db.services.back();
    if (row->uuid == kInclude) {
      if (!s.chars.empty()) return fail(i, "an include after the characteristics");
      const std::string uuid = upper_hex(row->value);
      const GattService* included = nullptr;
      for (const auto& other : db.services)
        if (other.uuid == uuid && &other != &s) included = &other;
      if (!included) return fail(i, "includes no service declared before it");
      s.includes.push_back(GattInclude{uuid, included->primary});
    } else if (row->uuid == kCharDecl) {
      if (row->value.empty()) return fail(i, "a declaration without properties");
      props = static_cast<unsigned char>(row->value[0]);
      want_value = true;
    } else {
      if (s.chars.empty()) return fail(i, "a descriptor before any characteristic");
      s.chars.back().descs.push_back(GattDesc{row->uuid, row->perm, row->max_len, row->value});
    }
  }
  if (want_value) return fail(rows.size(), "the last declaration has no value");
  if (db.services.empty()) return fail(0, "no service");
  return db;
}

std::string uuid_text(std::string_view uuid) { return fmt::format("0x{}", uuid); }
std::string props_text(int props) { return fmt::format("0x{:02x}", props); }

std::vector<GattService> client_view(const GattDb* db, std::string_view name) {
  // Bluedroid's own services: GATT with Service Changed (indicate, CCCD), GAP with the Device
  // Name, Appearance and Central Address Resolution.
  std::vector<GattService> out;
  out.push_back(builtin("1801", {GattChar{"2A05", gatt_prop::indicate, 0, 4, std::string(4, '\0'),
                                          {GattDesc{"2902", gatt_perm::read | gatt_perm::write, 2, std::string(2, '\0')}}}}));
  out.push_back(builtin("1800", {GattChar{"2A00", gatt_prop::read, gatt_perm::read, 32, std::string(name), {}},
                                 GattChar{"2A01", gatt_prop::read, gatt_perm::read, 2, std::string(2, '\0'), {}},
                                 GattChar{"2AA6", gatt_prop::read, gatt_perm::read, 1, std::string(1, '\0'), {}}}));
  if (db)
    for (const auto& s : db->services)
      if (s.started && s.primary) out.push_back(s);
  return out;
}

int server_index_of(const GattDb* db, int client_index) {
  if (client_index == 1 || client_index == 2) return 0;
  if (client_index < 1 || !db) return -1;
  int seen = 2;
  for (std::size_t i = 0; i < db->services.size(); ++i) {
    const auto& s = db->services[i];
    if (s.started && s.primary && ++seen == client_index) return int(i) + 1;
  }
  return -1;
}

}  // namespace espat::sim
