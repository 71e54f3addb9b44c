#include "flash/legacy_info.hpp"

#include <fmt/format.h>

#include "flash/blob_summary.hpp"
#include "flash/legacy_read.hpp"

namespace espat::flash {
namespace {

using json = nlohmann::json;

json item_json(const LegacyPkiItem& item) {
  json j{{"type", item.type}, {"type_name", pki_type_name(item.type)}, {"id", item.id}, {"offset", item.offset}};
  j.update(summarize_blob(item.content));
  return j;
}

// A JSON scalar as a table cell: strings without quotes, anything else as JSON text.
std::string cell(const json& row, const char* key) {
  const auto it = row.find(key);
  if (it == row.end()) return "-";
  return it->is_string() ? it->get<std::string>() : json_text(*it);
}

void format_problems(std::string& out, const json& j) {
  for (const auto& p : j["problems"]) out += fmt::format("  problem: {}\n", p.get<std::string>());
}

}  // namespace

json describe_legacy_pki(std::span<const std::uint8_t> bytes) {
  const LegacyPki pki = read_legacy_pki(bytes);
  json items = json::array();
  for (const auto& item : pki.items) items.push_back(item_json(item));
  return {{"count", pki.count}, {"length", pki.length}, {"items", items}, {"problems", pki.problems}};
}

json describe_legacy_ble_data(std::span<const std::uint8_t> bytes) {
  const LegacyBleData d = read_legacy_ble_data(bytes);
  json j{{"length", d.length}, {"services", json::array()}, {"problems", d.problems}};
  if (!d.problems.empty()) return j;
  const json parsed = json::parse(d.json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) j["problems"].push_back("the JSON text does not parse");
  else if (!parsed.is_object() || !parsed.contains("Service") || !parsed["Service"].is_array())
    j["problems"].push_back("the JSON has no \"Service\" list");
  else
    for (const auto& row : parsed["Service"])
      if (row.is_object()) j["services"].push_back(row);
      else j["problems"].push_back("a \"Service\" entry is not an object");
  return j;
}

void format_legacy_pki(std::string& out, const json& pki, const std::string& title) {
  out += fmt::format("{}: {} items, {} bytes\n", title, pki["count"].get<int>(), pki["length"].get<std::uint32_t>());
  format_problems(out, pki);
  for (const auto& item : pki["items"])
    out += fmt::format("  {:<4} {:<3} ", item["type_name"].get<std::string>(), item["id"].get<int>()) +
           blob_text(item, "    ");
}

void format_legacy_ble_data(std::string& out, const json& ble, const std::string& title) {
  out += fmt::format("{}: JSON {} bytes, {} services\n", title, ble["length"].get<int>(), ble["services"].size());
  format_problems(out, ble);
  if (ble["services"].empty()) return;
  constexpr const char* kColumns[] = {"index", "uuid_len", "uuid", "perm", "val_max_len", "val_cur_len", "value"};
  const auto row_text = [](auto&& field) {
    return fmt::format("  {:<5} {:<8} {:<32} {:<4} {:<11} {:<11} {}\n", field(0), field(1), field(2), field(3),
                       field(4), field(5), field(6));
  };
  out += row_text([&](int i) { return std::string(kColumns[i]); });
  for (const auto& row : ble["services"]) out += row_text([&](int i) { return cell(row, kColumns[i]); });
}

}  // namespace espat::flash
