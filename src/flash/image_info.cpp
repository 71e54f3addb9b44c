#include "flash/image_info.hpp"

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "flash/blob_summary.hpp"
#include "flash/factory_params.hpp"
#include "flash/image.hpp"
#include "flash/legacy_info.hpp"
#include "flash/legacy_read.hpp"
#include "flash/otadata.hpp"
#include "flash/partition_csv.hpp"

namespace espat::flash {
namespace {

using json = nlohmann::json;

std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}

bool all_ff(std::span<const std::uint8_t> b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c == 0xFF; });
}

std::string size_text(std::uint64_t n) {
  if (n && n % 0x100000 == 0) return fmt::format("{}M", n / 0x100000);
  if (n && n % 0x400 == 0) return fmt::format("{}K", n / 0x400);
  return fmt::format("{}", n);
}

json value_json(const nvs::Value& v) {
  json j{{"type", nvs::type_name(v.type)}};
  switch (v.type) {
    case nvs::Type::Str:
      j["value"] = v.as_string();
      break;
    case nvs::Type::Blob:
      j.update(summarize_blob(v.bytes));
      break;
    case nvs::Type::U64:
      j["value"] = static_cast<std::uint64_t>(v.integer);
      break;
    default:
      j["value"] = v.integer;
  }
  return j;
}

json partition_json(const Partition& p, const char* table) {
  return {{"label", p.label},
          {"type", p.type},
          {"subtype", p.subtype},
          {"type_name", partition_type_name(p.type)},
          {"subtype_name", partition_subtype_name(p.type, p.subtype)},
          {"offset", p.offset},
          {"size", p.size},
          {"flags", p.flags},
          {"table", table}};
}

json table_json(const PartitionTable& t, std::uint32_t offset, const char* name) {
  json parts = json::array();
  for (const auto& p : t.entries) parts.push_back(partition_json(p, name));
  return {{"offset", offset}, {"md5", t.has_md5}, {"partitions", parts}};
}

json otadata_json(std::span<const std::uint8_t> bytes, int app_count) {
  MemoryRegion r(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
  json entries = json::array();
  for (const auto& e : read_otadata(r)) {
    json je{{"seq", e.seq}, {"state", e.state}, {"valid", e.valid()}, {"erased", e.seq == 0xFFFFFFFF}};
    entries.push_back(je);
  }
  return {{"entries", entries}, {"boot_slot", boot_slot(r, std::max(app_count, 1))}};
}

bool is_nvs_page_header(const std::uint8_t* p) {
  const std::uint32_t st = le32(p);
  return (st == 0xFFFFFFFE || st == 0xFFFFFFFC || st == 0xFFFFFFF8) && (p[8] == 0xFE || p[8] == 0xFF);
}

json factory_params_json(const FactoryParams& f) {
  const char* src = f.source == FactoryParams::Source::MfgNvs            ? "mfg_nvs"
                    : f.source == FactoryParams::Source::LegacyPartition ? "factory_param"
                                                                         : "defaults";
  return {{"source", src},           {"module_name", f.module_name},     {"max_tx_power", f.max_tx_power},
          {"country_code", f.country_code}, {"start_channel", f.start_channel}, {"channel_num", f.channel_num},
          {"uart_port", f.uart_port}, {"uart_baudrate", f.uart_baudrate}, {"uart_tx_pin", f.tx_pin},
          {"uart_rx_pin", f.rx_pin}, {"uart_cts_pin", f.cts_pin},      {"uart_rts_pin", f.rts_pin},
          {"sys_store", f.sys_store}};
}

json describe_image(std::span<const std::uint8_t> bytes, std::string_view name) {
  FlashImage image(std::make_unique<MemoryRegion>(std::vector<std::uint8_t>(bytes.begin(), bytes.end())),
                   std::string(name));
  json j;
  j["primary_table"] = table_json(image.primary(), kPrimaryTableOffset, "primary");
  const Partition* custom = nullptr;
  for (const auto& p : image.primary().entries)
    if (p.type == kTypeAtCustom && p.label == kAtCustomizeLabel) custom = &p;
  if (custom) j["secondary_table"] = table_json(image.secondary(), custom->offset, "secondary");
  j["bootloader"] = bytes.size() > 0x1000 && bytes[0x1000] == 0xE9;

  json parts = json::array();
  int app_count = 0;
  for (const auto* t : {&image.primary(), &image.secondary()})
    for (const auto& p : t->entries) {
      json pj = partition_json(p, t == &image.primary() ? "primary" : "secondary");
      const auto data = bytes.subspan(p.offset, p.size);
      pj["erased"] = all_ff(data);
      if (p.type == kTypeApp) pj["app_image"] = !data.empty() && data[0] == 0xE9;
      if (p.type == kTypeApp && p.subtype >= kSubtypeOta0 && p.subtype < kSubtypeOta0 + 16) ++app_count;
      parts.push_back(pj);
    }
  j["partitions"] = parts;

  if (const auto* ota = image.find("otadata"); ota && ota->type == kTypeData && ota->subtype == kSubtypeOta) {
    auto oj = otadata_json(bytes.subspan(ota->offset, ota->size), app_count);
    const int slot = oj["boot_slot"];
    std::string boot;
    for (const auto* t : {&image.primary(), &image.secondary()})
      for (const auto& p : t->entries)
        if (p.type == kTypeApp && p.subtype == kSubtypeOta0 + slot) boot = p.label;
    oj["boot_partition"] = boot;
    j["otadata"] = oj;
  }

  j["factory_params"] = factory_params_json(read_factory_params(image));
  if (const auto* mfg = image.secondary().find("mfg_nvs"); mfg && mfg->size >= 3 * kSectorSize)
    j["mfg_nvs"] = describe_nvs(bytes.subspan(mfg->offset, mfg->size));
  if (const auto* fp = image.find("factory_param"); fp && fp->size >= 88) {
    const auto data = bytes.subspan(fp->offset, fp->size);
    if (data[0] == 0xFC && data[1] == 0xFC) j["legacy_factory_param"] = describe_legacy_factory_param(data);
  }
  // The v2.x layout (§2.2, §4.3, §4.4): type-0x40 partitions holding F1 F1 PKI items (server_*,
  // client_*, mqtt_*...) or the 27 95 ble_data JSON. Found by their magic, not by their label.
  for (const auto* t : {&image.primary(), &image.secondary()})
    for (const auto& p : t->entries) {
      if (p.type != kTypeAtCustom) continue;
      const auto data = bytes.subspan(p.offset, p.size);
      const json where{{"partition", p.label}, {"offset", p.offset}};
      if (is_legacy_pki(data)) {
        json pki = describe_legacy_pki(data);
        pki.update(where);
        j["legacy_pki"].push_back(pki);
      } else if (is_legacy_ble_data(data) && !j.contains("legacy_ble_data")) {
        j["legacy_ble_data"] = describe_legacy_ble_data(data);
        j["legacy_ble_data"].update(where);
      }
    }
  return j;
}

void text_nvs(std::string& out, const json& nvs, const std::string& indent) {
  for (const auto& p : nvs["problems"]) out += fmt::format("{}problem: {}\n", indent, p.get<std::string>());
  if (nvs["namespaces"].empty()) out += indent + "(no namespaces)\n";
  for (const auto& ns : nvs["namespaces"]) {
    out += fmt::format("{}[{}]\n", indent, ns["name"].get<std::string>());
    for (const auto& k : ns["keys"]) {
      const std::string type = k["type"];
      out += fmt::format("{}  {:<16} {:<6} ", indent, k["key"].get<std::string>(), type);
      if (type == "blob") out += blob_text(k, indent + "    ");
      else out += json_text(k["value"]) + "\n";
    }
  }
}

void text_table(std::string& out, const json& t) {
  out += fmt::format("  {:<16} {:<6} {:<10} {:>10} {:>15}  {}\n", "label", "type", "subtype", "offset", "size", "flags");
  for (const auto& p : t["partitions"]) {
    const std::uint32_t size = p["size"];
    out += fmt::format("  {:<16} {:<6} {:<10} {:>10} {:>15}  {}\n", p["label"].get<std::string>(),
                       p["type_name"].get<std::string>(), p["subtype_name"].get<std::string>(),
                       fmt::format("0x{:06x}", p["offset"].get<std::uint32_t>()),
                       fmt::format("0x{:x}", size) + (size % 0x400 ? "" : "/" + size_text(size)),
                       p["flags"].get<std::uint32_t>() ? fmt::format("0x{:x}", p["flags"].get<std::uint32_t>()) : "");
  }
}

// factory_param_type.csv order, then the legacy-only fields.
constexpr const char* kFactoryParamOrder[] = {
    "platform",     "module_name",  "module_id",    "module_name_by_id", "max_tx_power",   "country_code",
    "start_channel", "channel_num", "uart_port",    "uart_baudrate",     "uart_tx_pin",    "uart_rx_pin",
    "uart_cts_pin", "uart_rts_pin", "tx_control_pin", "rx_control_pin",  "sys_store"};

void text_legacy(std::string& out, const json& l) {
  out += fmt::format("Legacy factory_param (FC FC), version {}:\n", l["version"].get<int>());
  for (const char* k : kFactoryParamOrder)
    if (l.contains(k)) out += fmt::format("  {:<16} {}\n", k, json_text(l[k]));
}

}  // namespace

BinKind detect_bin_kind(std::span<const std::uint8_t> bytes, std::string_view name) {
  if (bytes.size() >= kMinImageSize && bytes.size() % kSectorSize == 0 && bytes.size() > kPrimaryTableOffset + 2 &&
      bytes[kPrimaryTableOffset] == 0xAA && bytes[kPrimaryTableOffset + 1] == 0x50)
    return BinKind::Image;
  if (bytes.size() >= 2 && bytes[0] == 0xAA && bytes[1] == 0x50) return BinKind::PartitionTable;
  if (bytes.size() >= 88 && bytes[0] == 0xFC && bytes[1] == 0xFC) return BinKind::LegacyFactoryParam;
  if (is_legacy_pki(bytes)) return BinKind::LegacyPki;
  if (is_legacy_ble_data(bytes)) return BinKind::LegacyBleData;
  if (!bytes.empty() && bytes.size() % kSectorSize == 0 && bytes.size() >= 3 * kSectorSize)
    for (std::size_t o = 0; o < bytes.size(); o += kSectorSize)
      if (is_nvs_page_header(bytes.data() + o)) return BinKind::Nvs;
  throw ImageError(fmt::format(
      "{}: not a flash image (no partition table at 0x8000), a partition-table bin (AA 50), an NVS partition "
      "(4 KiB pages with NVS headers), a legacy factory_param bin (FC FC), a legacy PKI bin (F1 F1) or a legacy "
      "ble_data bin (27 95)",
      name));
}

json describe_nvs(std::span<const std::uint8_t> partition) {
  MemoryRegion region(std::vector<std::uint8_t>(partition.begin(), partition.end()));
  nvs::Storage storage(region, /*read_only=*/true);
  json j{{"size", partition.size()}, {"problems", storage.problems()}, {"foreign", storage.foreign()}};
  json nss = json::array();
  for (const auto& ns : storage.namespaces()) {
    json keys = json::array();
    for (const auto& k : storage.keys(ns)) {
      const auto v = storage.get(ns, k.key);
      if (!v) continue;
      json kj = value_json(*v);
      kj["key"] = k.key;
      keys.push_back(kj);
    }
    nss.push_back({{"name", ns}, {"keys", keys}});
  }
  j["namespaces"] = nss;
  return j;
}

json describe_legacy_factory_param(std::span<const std::uint8_t> b) {
  if (b.size() < 88 || b[0] != 0xFC || b[1] != 0xFC) throw ImageError("not a legacy factory_param (no FC FC magic)");
  auto cstr = [&](std::size_t off, std::size_t len) {
    std::string s(reinterpret_cast<const char*>(b.data() + off), len);
    return s.substr(0, s.find('\0'));
  };
  auto i8 = [&](std::size_t off) { return static_cast<int>(static_cast<std::int8_t>(b[off])); };
  json j{{"version", b[2]},
         {"max_tx_power", b[4]},
         {"uart_port", i8(5)},
         {"start_channel", b[6]},
         {"channel_num", b[7]},
         {"country_code", cstr(8, 4)},
         {"uart_baudrate", static_cast<std::int32_t>(le32(b.data() + 12))},
         {"uart_tx_pin", i8(16)},
         {"uart_rx_pin", i8(17)},
         {"uart_cts_pin", i8(18)},
         {"uart_rts_pin", i8(19)},
         {"tx_control_pin", i8(20)},
         {"rx_control_pin", i8(21)},
         {"platform", cstr(24, 32)},
         {"module_name", cstr(56, 32)}};
  if (b[2] <= 2) {
    j["module_id"] = b[3];
    j["module_name_by_id"] = std::string(module_name_by_id(b[3]));
  }
  return j;
}

json describe_bin(std::span<const std::uint8_t> bytes, std::string_view name) {
  const BinKind kind = detect_bin_kind(bytes, name);
  json j{{"file", std::string(name)}, {"size", bytes.size()}};
  try {
    switch (kind) {
      case BinKind::Image:
        j["kind"] = "image";
        j.update(describe_image(bytes, name));
        break;
      case BinKind::PartitionTable:
        j["kind"] = "partition-table";
        j["table"] = table_json(PartitionTable::parse(bytes), 0, "table");
        j["table"].erase("offset");
        break;
      case BinKind::Nvs:
        j["kind"] = "nvs";
        j["nvs"] = describe_nvs(bytes);
        for (const auto& ns : j["nvs"]["namespaces"])
          if (ns["name"] == "factory_param") {
            MemoryRegion r(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
            nvs::Storage s(r, true);
            j["factory_params"] = factory_params_json(read_factory_params_nvs(s));
          }
        break;
      case BinKind::LegacyFactoryParam:
        j["kind"] = "factory-param";
        j["legacy_factory_param"] = describe_legacy_factory_param(bytes);
        break;
      case BinKind::LegacyPki:
        j["kind"] = "pki";
        j["legacy_pki"] = json::array({describe_legacy_pki(bytes)});
        break;
      case BinKind::LegacyBleData:
        j["kind"] = "ble-data";
        j["legacy_ble_data"] = describe_legacy_ble_data(bytes);
        break;
    }
  } catch (const ImageError&) {
    throw;
  } catch (const std::exception& e) {
    throw ImageError(fmt::format("{}: {}", name, e.what()));
  }
  return j;
}

std::string format_bin_info(const json& j) {
  std::string out;
  const std::string kind = j["kind"];
  const std::size_t size = j["size"];
  const std::string file = j["file"];
  if (kind == "partition-table") {
    out += fmt::format("{}: partition table bin, {} bytes, {}\n", file, size,
                       j["table"]["md5"].get<bool>() ? "MD5 entry ok" : "no MD5 entry");
    text_table(out, j["table"]);
  } else if (kind == "factory-param") {
    out += fmt::format("{}: legacy factory_param bin, {} bytes\n", file, size);
    text_legacy(out, j["legacy_factory_param"]);
  } else if (kind == "nvs") {
    out += fmt::format("{}: NVS partition, {} bytes ({} pages)\n", file, size, size / kSectorSize);
    text_nvs(out, j["nvs"], "  ");
  } else if (kind == "image") {
    out += fmt::format("{}: ESP-AT flash image, {} bytes ({}B)\n", file, size, size_text(size));
    out += fmt::format("Bootloader at 0x1000: {}\n", j["bootloader"].get<bool>() ? "present" : "none");
    const auto& pt = j["primary_table"];
    out += fmt::format("Partition table at 0x{:x} ({}):\n", pt["offset"].get<std::uint32_t>(),
                       pt["md5"].get<bool>() ? "MD5 entry ok" : "no MD5 entry");
    text_table(out, pt);
    if (j.contains("secondary_table")) {
      const auto& st = j["secondary_table"];
      out += fmt::format("at_customize table at 0x{:x} ({}):\n", st["offset"].get<std::uint32_t>(),
                         st["md5"].get<bool>() ? "MD5 entry ok" : "no MD5 entry");
      text_table(out, st);
    }
    out += "Partition contents:\n";
    for (const auto& p : j["partitions"]) {
      std::string what = p["erased"].get<bool>() ? "erased (all FF)" : "data";
      if (p.contains("app_image")) what = p["app_image"].get<bool>() ? "app image (E9)" : what;
      out += fmt::format("  {:<16} {}\n", p["label"].get<std::string>(), what);
    }
    if (j.contains("otadata")) {
      const auto& o = j["otadata"];
      out += "otadata:";
      for (const auto& e : o["entries"])
        out += e["erased"].get<bool>() ? " [erased]"
                                       : fmt::format(" [seq {} state 0x{:x}{}]", e["seq"].get<std::uint32_t>(),
                                                     e["state"].get<std::uint32_t>(), e["valid"].get<bool>() ? "" : " invalid");
      out += fmt::format("; boots slot {} ({})\n", o["boot_slot"].get<int>(), o["boot_partition"].get<std::string>());
    }
  }
  if (j.contains("factory_params")) {
    const auto& f = j["factory_params"];
    out += fmt::format("Factory parameters (from {}):\n", f["source"].get<std::string>());
    for (const char* k : kFactoryParamOrder)
      if (f.contains(k)) out += fmt::format("  {:<16} {}\n", k, json_text(f[k]));
  }
  if (j.contains("mfg_nvs")) {
    out += "mfg_nvs:\n";
    text_nvs(out, j["mfg_nvs"], "  ");
  }
  if (kind == "image" && j.contains("legacy_factory_param")) text_legacy(out, j["legacy_factory_param"]);
  if (j.contains("legacy_pki"))
    for (const auto& pki : j["legacy_pki"])
      format_legacy_pki(out, pki,
                        kind == "pki" ? file + ": legacy PKI bin (F1 F1)"
                                      : fmt::format("Legacy PKI partition {} at 0x{:x} (F1 F1)",
                                                    pki["partition"].get<std::string>(), pki["offset"].get<std::uint32_t>()));
  if (j.contains("legacy_ble_data")) {
    const auto& ble = j["legacy_ble_data"];
    format_legacy_ble_data(out, ble,
                           kind == "ble-data" ? file + ": legacy ble_data bin (27 95)"
                                              : fmt::format("Legacy ble_data partition {} at 0x{:x} (27 95)",
                                                            ble["partition"].get<std::string>(),
                                                            ble["offset"].get<std::uint32_t>()));
  }
  return out;
}

}  // namespace espat::flash
