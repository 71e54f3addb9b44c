#include "flash/image_info.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <memory>

#include <fmt/format.h>

#include "flash/factory_params.hpp"
#include "flash/image.hpp"
#include "flash/otadata.hpp"
#include "flash/partition_csv.hpp"

namespace espat::flash {
namespace {

using json = nlohmann::json;

constexpr std::size_t kHexPreview = 16;

std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}

std::string hex(std::span<const std::uint8_t> b) {
  std::string s;
  for (auto c : b) s += fmt::format("{}{:02x}", s.empty() ? "" : " ", c);
  return s;
}

bool all_ff(std::span<const std::uint8_t> b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c == 0xFF; });
}

std::string size_text(std::uint64_t n) {
  if (n && n % 0x100000 == 0) return fmt::format("{}M", n / 0x100000);
  if (n && n % 0x400 == 0) return fmt::format("{}K", n / 0x400);
  return fmt::format("{}", n);
}

const char* type_name(nvs::Type t) {
  switch (t) {
    case nvs::Type::U8: return "u8";
    case nvs::Type::I8: return "i8";
    case nvs::Type::U16: return "u16";
    case nvs::Type::I16: return "i16";
    case nvs::Type::U32: return "u32";
    case nvs::Type::I32: return "i32";
    case nvs::Type::U64: return "u64";
    case nvs::Type::I64: return "i64";
    case nvs::Type::Str: return "string";
    case nvs::Type::Blob: return "blob";
  }
  return "?";
}

bool printable_text(std::span<const std::uint8_t> b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c >= 0x20 || c == '\n' || c == '\r' || c == '\t'; });
}

std::string asn1_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string x509_name(const X509_NAME* n) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), n, 0, XN_FLAG_RFC2253) < 0) return "?";
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

json cert_json(X509* x) {
  return {{"subject", x509_name(X509_get_subject_name(x))},
          {"issuer", x509_name(X509_get_issuer_name(x))},
          {"not_before", asn1_time(X509_get0_notBefore(x))},
          {"not_after", asn1_time(X509_get0_notAfter(x))}};
}

// The PEM label of the first block ("CERTIFICATE", "RSA PRIVATE KEY", ...), or "".
std::string pem_label(std::span<const std::uint8_t> b) {
  const std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
  const auto p = s.find("-----BEGIN ");
  if (p == std::string_view::npos) return "";
  const auto e = s.find("-----", p + 11);
  return e == std::string_view::npos ? "" : std::string(s.substr(p + 11, e - p - 11));
}

json value_json(const nvs::Value& v) {
  json j{{"type", type_name(v.type)}};
  switch (v.type) {
    case nvs::Type::Str:
      j["value"] = v.as_string();
      break;
    case nvs::Type::Blob: {
      j["size"] = v.bytes.size();
      j["hex"] = hex(std::span(v.bytes).first(std::min(v.bytes.size(), kHexPreview)));
      auto certs = summarize_certificates(v.bytes);
      if (!certs.empty()) j["certificates"] = certs;
      if (const auto label = pem_label(v.bytes); !label.empty()) j["pem"] = label;
      else if (!v.bytes.empty() && printable_text(std::span(v.bytes).first(v.bytes.size() - (v.bytes.back() == 0))))
        j["text"] = std::string(v.bytes.begin(), v.bytes.end() - (v.bytes.back() == 0));
      break;
    }
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
  return j;
}

void text_nvs(std::string& out, const json& nvs, const std::string& indent) {
  for (const auto& p : nvs["problems"]) out += fmt::format("{}problem: {}\n", indent, p.get<std::string>());
  if (nvs["namespaces"].empty()) out += indent + "(no namespaces)\n";
  for (const auto& ns : nvs["namespaces"]) {
    out += fmt::format("{}[{}]\n", indent, ns["name"].get<std::string>());
    for (const auto& k : ns["keys"]) {
      std::string v;
      const std::string type = k["type"];
      if (type == "string") v = json(k["value"]).dump();
      else if (type == "blob") {
        v = fmt::format("{} bytes", k["size"].get<std::size_t>());
        if (k.contains("pem")) v += fmt::format(", PEM {}", k["pem"].get<std::string>());
        else if (k.contains("text")) v += ": " + json(k["text"]).dump();
        else if (!k["hex"].get<std::string>().empty()) v += ": " + k["hex"].get<std::string>() + (k["size"].get<std::size_t>() > kHexPreview ? " ..." : "");
      } else {
        v = k["value"].dump();
      }
      out += fmt::format("{}  {:<16} {:<6} {}\n", indent, k["key"].get<std::string>(), type, v);
      if (k.contains("certificates"))
        for (const auto& c : k["certificates"])
          out += fmt::format("{}    certificate: subject {}; issuer {}; valid {} to {}\n", indent,
                             c["subject"].get<std::string>(), c["issuer"].get<std::string>(),
                             c["not_before"].get<std::string>(), c["not_after"].get<std::string>());
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
    if (l.contains(k)) out += fmt::format("  {:<16} {}\n", k, l[k].dump());
}

}  // namespace

BinKind detect_bin_kind(std::span<const std::uint8_t> bytes, std::string_view name) {
  if (bytes.size() >= kMinImageSize && bytes.size() % kSectorSize == 0 && bytes.size() > kPrimaryTableOffset + 2 &&
      bytes[kPrimaryTableOffset] == 0xAA && bytes[kPrimaryTableOffset + 1] == 0x50)
    return BinKind::Image;
  if (bytes.size() >= 2 && bytes[0] == 0xAA && bytes[1] == 0x50) return BinKind::PartitionTable;
  if (bytes.size() >= 88 && bytes[0] == 0xFC && bytes[1] == 0xFC) return BinKind::LegacyFactoryParam;
  if (!bytes.empty() && bytes.size() % kSectorSize == 0 && bytes.size() >= 3 * kSectorSize)
    for (std::size_t o = 0; o < bytes.size(); o += kSectorSize)
      if (is_nvs_page_header(bytes.data() + o)) return BinKind::Nvs;
  throw ImageError(fmt::format(
      "{}: not a flash image (no partition table at 0x8000), a partition-table bin (AA 50), an NVS partition "
      "(4 KiB pages with NVS headers) or a legacy factory_param bin (FC FC)",
      name));
}

json summarize_certificates(std::span<const std::uint8_t> bytes) {
  json certs = json::array();
  if (bytes.empty()) return certs;
  if (pem_label(bytes).find("CERTIFICATE") != std::string::npos) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())),
                                                  BIO_free);
    while (bio) {
      X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
      if (!x) break;
      certs.push_back(cert_json(x));
      X509_free(x);
    }
  } else if (bytes[0] == 0x30) {
    const unsigned char* p = bytes.data();
    if (X509* x = d2i_X509(nullptr, &p, static_cast<long>(bytes.size()))) {
      certs.push_back(cert_json(x));
      X509_free(x);
    }
  }
  ERR_clear_error();
  return certs;
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
  } else {
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
      if (f.contains(k)) out += fmt::format("  {:<16} {}\n", k, f[k].dump());
  }
  if (j.contains("mfg_nvs")) {
    out += "mfg_nvs:\n";
    text_nvs(out, j["mfg_nvs"], "  ");
  }
  if (kind == "image" && j.contains("legacy_factory_param")) text_legacy(out, j["legacy_factory_param"]);
  return out;
}

}  // namespace espat::flash
