#include "flash/legacy_read.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace espat::flash {
namespace {

std::uint32_t le(std::span<const std::uint8_t> b, std::size_t off, int n) {
  std::uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | b[off + i];
  return v;
}

}  // namespace

bool is_legacy_pki(std::span<const std::uint8_t> b) {
  return b.size() >= kPkiHeaderSize && b[0] == kPkiMagic && b[1] == kPkiMagic;
}

bool is_legacy_ble_data(std::span<const std::uint8_t> b) {
  return b.size() >= 4 && b[2] == kBleDataMagic[0] && b[3] == kBleDataMagic[1];
}

const char* pki_type_name(std::uint8_t type) {
  switch (type) {
    case 1: return "ca";
    case 2: return "cert";
    case 3: return "key";
  }
  return "unknown";
}

LegacyPki read_legacy_pki(std::span<const std::uint8_t> b) {
  LegacyPki pki;
  if (!is_legacy_pki(b)) {
    pki.problems.push_back("no F1 F1 PKI header");
    return pki;
  }
  pki.count = static_cast<std::uint16_t>(le(b, 2, 2));
  pki.length = le(b, 4, 4);
  std::size_t end = kPkiHeaderSize + std::size_t(pki.length);
  if (end > b.size()) {
    pki.problems.push_back(fmt::format("the header's length {} runs past the end of the {} bytes", pki.length, b.size()));
    end = b.size();
  }
  std::size_t off = kPkiHeaderSize;
  while (off < end) {
    if (end - off < kPkiItemHeaderSize) {
      pki.problems.push_back(fmt::format("offset 0x{:x}: a truncated item header", off));
      break;
    }
    LegacyPkiItem item{b[off], b[off + 1], off, {}};
    const std::size_t len = le(b, off + 2, 2);
    const std::size_t data = off + kPkiItemHeaderSize;
    if (len > end - data) {
      pki.problems.push_back(fmt::format("offset 0x{:x}: item of {} bytes runs past the end of the items", off, len));
      break;
    }
    item.content.assign(b.begin() + data, b.begin() + data + len);
    // AtPKI.py pads each item with FF to a multiple of 4 bytes.
    const std::size_t pad = std::min((4 - len % 4) % 4, end - (data + len));
    const auto padding = b.subspan(data + len, pad);
    if (!std::all_of(padding.begin(), padding.end(), [](std::uint8_t c) { return c == 0xFF; }))
      pki.problems.push_back(fmt::format("offset 0x{:x}: the padding after the item is not FF", data + len));
    pki.items.push_back(std::move(item));
    off = data + len + pad;
  }
  if (pki.items.size() != pki.count)
    pki.problems.push_back(fmt::format("the header counts {} items, {} were read", pki.count, pki.items.size()));
  return pki;
}

LegacyBleData read_legacy_ble_data(std::span<const std::uint8_t> b) {
  LegacyBleData d;
  if (!is_legacy_ble_data(b)) {
    d.problems.push_back("no 27 95 ble_data header");
    return d;
  }
  d.length = static_cast<std::uint16_t>(le(b, 0, 2));
  std::size_t n = d.length;
  if (n > b.size() - 4) {
    d.problems.push_back(fmt::format("the header's JSON length {} runs past the end of the {} bytes", n, b.size()));
    n = b.size() - 4;
  }
  d.json.assign(b.begin() + 4, b.begin() + 4 + static_cast<std::ptrdiff_t>(n));
  return d;
}

std::optional<std::vector<std::string>> legacy_ble_rows(std::span<const std::uint8_t> bytes, std::string* why) {
  auto fail = [&](std::string m) -> std::optional<std::vector<std::string>> {
    if (why) *why = std::move(m);
    return std::nullopt;
  };
  const LegacyBleData d = read_legacy_ble_data(bytes);
  if (!d.problems.empty()) return fail(d.problems.front());
  const auto j = nlohmann::json::parse(d.json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("Service") || !j["Service"].is_array())
    return fail("the ble_data JSON has no \"Service\" list");
  std::vector<std::string> rows;
  for (const auto& e : j["Service"]) {
    // BLEService.py writes every key; its defaults stand in for one left out (§4.4).
    auto number = [&](const char* k, long long dflt) -> std::optional<long long> {
      if (!e.is_object() || !e.contains(k)) return dflt;
      if (!e[k].is_number_integer()) return std::nullopt;
      return e[k].get<long long>();
    };
    auto text = [&](const char* k) -> std::optional<std::string> {
      if (!e.is_object() || !e.contains(k)) return std::string();
      if (!e[k].is_string()) return std::nullopt;
      return e[k].get<std::string>();
    };
    const auto index = number("index", -1), bits = number("uuid_len", 16), perm = number("perm", 0),
               max_len = number("val_max_len", 512), cur_len = number("val_cur_len", 0);
    const auto uuid = text("uuid"), value = text("value");
    if (!index || !bits || !perm || !max_len || !cur_len || !uuid || !value || *index < 0 || *perm < 0)
      return fail(fmt::format("ble_data entry {} is malformed", rows.size()));
    rows.push_back(fmt::format("{},{},0x{},0x{:02x},{},{},{}", *index, *bits, *uuid, *perm, *max_len, *cur_len, *value));
  }
  if (rows.empty()) return fail("the ble_data JSON lists no service");
  return rows;
}

}  // namespace espat::flash
