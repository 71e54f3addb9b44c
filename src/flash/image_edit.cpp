#include "flash/image_edit.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/core.h>

#include "flash/nvs.hpp"
#include "flash/nvs_format.hpp"
#include "flash/region.hpp"

namespace espat::flash {

namespace {

constexpr std::size_t kLegacySize = 4096;

void check_range(const char* name, std::optional<long long> v, long long lo, long long hi) {
  if (v && (*v < lo || *v > hi)) throw EditError(fmt::format("--{} {}: out of range {}..{}", name, *v, lo, hi));
}

template <class T>
std::optional<long long> widen(const std::optional<T>& v) {
  return v ? std::optional<long long>(*v) : std::nullopt;
}

void validate(const EditOptions& o) {
  check_range("tx_power", widen(o.tx_power), 40, 84);
  check_range("uart_num", widen(o.uart_num), 0, 2);
  check_range("start_channel", widen(o.start_channel), 1, 14);
  check_range("channel_number", widen(o.channel_number), 1, 14);
  check_range("baud", o.baud, 1, 0x7FFFFFFF);
  for (const auto& [n, v] : {std::pair{"tx_pin", o.tx_pin}, {"rx_pin", o.rx_pin}, {"cts_pin", o.cts_pin},
                             {"rts_pin", o.rts_pin}, {"tx_control_pin", o.tx_control_pin},
                             {"rx_control_pin", o.rx_control_pin}})
    check_range(n, widen(v), -1, 127);
  if (o.country_code && (o.country_code->empty() || o.country_code->size() > 4))
    throw EditError(fmt::format("--country_code `{}`: 1 to 4 characters", *o.country_code));
  if (o.module_name && (o.module_name->empty() || o.module_name->size() > 31))
    throw EditError(fmt::format("--module_name `{}`: 1 to 31 characters", *o.module_name));
  for (const auto& [i, s] : o.gatts)
    if (i < 0 || i > 30) throw EditError(fmt::format("--gatts_cfg{}: 0 to 30", i));
}

// The secondary table entry `AA 50 01 02 <offset> <size> mfg_nvs`.
std::optional<std::pair<std::size_t, std::size_t>> find_mfg_nvs(std::span<const std::uint8_t> img) {
  static const std::uint8_t kHead[] = {0xAA, 0x50, 0x01, 0x02};
  for (std::size_t i = 0; i + 32 <= img.size(); ++i) {
    if (std::memcmp(img.data() + i, kHead, 4) != 0) continue;
    if (std::memcmp(img.data() + i + 12, "mfg_nvs", 7) != 0) continue;
    return std::pair<std::size_t, std::size_t>(nvs::detail::le32(img.data() + i + 4), nvs::detail::le32(img.data() + i + 8));
  }
  return std::nullopt;
}

void set_int(nvs::Storage& s, const nvs::Value& old, std::string_view key, long long v,
             std::vector<std::pair<std::string, nvs::Value>>& items) {
  (void)s;
  long long lo = 0, hi = 0;
  switch (old.type) {
    case nvs::Type::U8: lo = 0, hi = 255; break;
    case nvs::Type::I8: lo = -128, hi = 127; break;
    case nvs::Type::U16: lo = 0, hi = 65535; break;
    case nvs::Type::I16: lo = -32768, hi = 32767; break;
    case nvs::Type::U32: lo = 0, hi = 4294967295LL; break;
    case nvs::Type::I32: lo = -2147483648LL, hi = 2147483647LL; break;
    case nvs::Type::U64:
    case nvs::Type::I64: lo = INT64_MIN, hi = INT64_MAX; break;
    default: throw EditError(fmt::format("factory_param/{} is not an integer in this image", key));
  }
  if (v < lo || v > hi) throw EditError(fmt::format("factory_param/{}: {} does not fit its stored type", key, v));
  for (auto& [k, val] : items)
    if (k == "factory_param/" + std::string(key)) val = nvs::Value{old.type, v, {}};
}

EditResult edit_nvs(std::span<const std::uint8_t> input, std::size_t off, std::size_t size, const EditOptions& o) {
  if (o.platform) throw EditError("--platform: only in legacy mode (the mfg_nvs layout has no platform)");
  if (o.tx_control_pin || o.rx_control_pin) throw EditError("--tx_control_pin/--rx_control_pin: only in legacy mode");
  if (off % kSectorSize || size % kSectorSize || size < 3 * kSectorSize || off + size > input.size())
    throw EditError(fmt::format("mfg_nvs partition at {:#x} size {:#x} is not inside the {}-byte image", off, size,
                                input.size()));
  MemoryRegion old(std::vector<std::uint8_t>(input.begin() + off, input.begin() + off + size));
  nvs::Storage in(old, /*read_only=*/true);
  if (in.foreign()) throw EditError(fmt::format("mfg_nvs at {:#x} does not hold NVS data", off));
  if (!in.problems().empty()) throw EditError(fmt::format("mfg_nvs at {:#x}: {}", off, in.problems().front()));
  // Every item, in order, as "ns/key".
  std::vector<std::pair<std::string, nvs::Value>> items;
  for (const auto& ns : in.namespaces())
    for (const auto& k : in.keys(ns)) items.emplace_back(ns + "/" + k.key, *in.get(ns, k.key));
  auto find = [&](const std::string& id) -> nvs::Value* {
    for (auto& [k, v] : items)
      if (k == id) return &v;
    return nullptr;
  };
  auto need = [&](const std::string& id, const char* option) -> nvs::Value& {
    nvs::Value* v = find(id);
    if (!v) throw EditError(fmt::format("{}: the image's mfg_nvs has no {}", option, id));
    return *v;
  };
  auto integer = [&](const char* option, const char* key, std::optional<long long> v) {
    if (!v) return;
    nvs::Value& old_v = need(std::string("factory_param/") + key, option);
    set_int(in, nvs::Value(old_v), key, *v, items);
  };
  auto string = [&](const char* option, const char* key, const std::optional<std::string>& v) {
    if (!v) return;
    nvs::Value& old_v = need(std::string("factory_param/") + key, option);
    if (old_v.type != nvs::Type::Str) throw EditError(fmt::format("{}: factory_param/{} is not a string", option, key));
    old_v = nvs::Value::str(*v);
  };
  string("--module_name", "module_name", o.module_name);
  integer("--tx_power", "max_tx_power", widen(o.tx_power));
  integer("--uart_num", "uart_port", widen(o.uart_num));
  integer("--start_channel", "start_channel", widen(o.start_channel));
  integer("--channel_number", "channel_num", widen(o.channel_number));
  string("--country_code", "country_code", o.country_code);
  integer("--baud", "uart_baudrate", o.baud);
  integer("--tx_pin", "uart_tx_pin", widen(o.tx_pin));
  integer("--rx_pin", "uart_rx_pin", widen(o.rx_pin));
  integer("--cts_pin", "uart_cts_pin", widen(o.cts_pin));
  integer("--rts_pin", "uart_rts_pin", widen(o.rts_pin));
  for (const auto& [key, bytes] : o.blobs) {
    const std::string ns = key.substr(0, key.find('.'));
    nvs::Value& v = need(ns + "/" + key, key.c_str());
    if (v.type != nvs::Type::Blob) throw EditError(fmt::format("{}/{} is not a blob", ns, key));
    v = nvs::Value::blob(bytes);
  }
  for (const auto& [i, s] : o.gatts) {
    const std::string id = fmt::format("ble_data/cfg{}", i);
    nvs::Value& v = need(id, "--gatts_cfg");
    if (v.type != nvs::Type::Str) throw EditError(fmt::format("{} is not a string", id));
    if (s.size() + 1 > nvs::kMaxStringBytes) throw EditError(fmt::format("--gatts_cfg{}: longer than 4000 bytes", i));
    v = nvs::Value::str(s);
  }

  MemoryRegion fresh(size);
  {
    nvs::Storage out(fresh);
    for (const auto& [id, v] : items) {
      const auto slash = id.find('/');
      if (const auto e = out.set(id.substr(0, slash), id.substr(slash + 1), v); e != nvs::Error::None)
        throw EditError(fmt::format("{}: {}", id, nvs::to_string(e)));
    }
  }
  std::vector<std::uint8_t> part = fresh.bytes();
  to_at_py_layout(part);
  EditResult r;
  r.image.assign(input.begin(), input.end());
  std::copy(part.begin(), part.end(), r.image.begin() + off);
  r.nvs_mode = true;
  r.offset = off;
  r.size = size;
  return r;
}

EditResult edit_legacy(std::span<const std::uint8_t> input, const EditOptions& o) {
  if (!o.blobs.empty() || !o.gatts.empty())
    throw EditError("certificates, keys and GATT rows: only on an image with mfg_nvs (legacy mode has none)");
  std::optional<std::size_t> at;
  for (std::size_t p = 0; p + kLegacySize <= input.size(); p += kLegacySize)
    if (input[p] == 0xFC && input[p + 1] == 0xFC && input[p + 2] >= 1 && input[p + 2] <= 3) {
      at = p;
      break;
    }
  if (!at) throw EditError("no mfg_nvs partition and no FC FC factory_param block at a 4 KiB boundary");
  EditResult r;
  r.image.assign(input.begin(), input.end());
  std::uint8_t* b = r.image.data() + *at;
  auto put_str = [&](std::size_t off, std::size_t len, const std::string& s) {
    std::fill_n(b + off, len, 0);
    std::copy_n(s.begin(), std::min(s.size(), len), b + off);
  };
  if (o.platform) {
    static const char* kPlatforms[] = {"ESP32", "ESP8266", "ESP32S2", "ESP32C3"};
    if (std::find_if(std::begin(kPlatforms), std::end(kPlatforms), [&](const char* p) { return *o.platform == p; }) ==
        std::end(kPlatforms))
      throw EditError(fmt::format("--platform {}: ESP32, ESP8266, ESP32S2 or ESP32C3", *o.platform));
    put_str(24, 32, "PLATFORM_" + *o.platform);
  }
  if (o.module_name) put_str(56, 32, *o.module_name);
  if (o.tx_power) b[4] = static_cast<std::uint8_t>(*o.tx_power);
  if (o.uart_num) b[5] = static_cast<std::uint8_t>(*o.uart_num);
  if (o.start_channel) b[6] = static_cast<std::uint8_t>(*o.start_channel);
  if (o.channel_number) b[7] = static_cast<std::uint8_t>(*o.channel_number);
  if (o.country_code) put_str(8, 4, *o.country_code);
  if (o.baud)
    for (int i = 0; i < 4; ++i) b[12 + i] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(*o.baud) >> (8 * i));
  const std::optional<int>* pins[] = {&o.tx_pin, &o.rx_pin, &o.cts_pin, &o.rts_pin, &o.tx_control_pin, &o.rx_control_pin};
  for (int i = 0; i < 6; ++i)
    if (*pins[i]) b[16 + i] = static_cast<std::uint8_t>(**pins[i]);
  r.offset = *at;
  r.size = 88;
  return r;
}

}  // namespace

void to_at_py_layout(std::vector<std::uint8_t>& part) {
  namespace d = nvs::detail;
  const std::size_t pages = part.size() / kSectorSize;
  std::uint32_t seq = 0;
  bool any = false;
  for (std::size_t p = 0; p + 1 < pages; ++p) {
    std::uint8_t* page = part.data() + p * kSectorSize;
    if (d::is_erased(std::span<const std::uint8_t>(page, kSectorSize))) {
      const auto h = d::make_header(d::state::Full, any ? seq + 1 : 0);
      std::copy(h.begin(), h.end(), page);
      seq = any ? seq + 1 : 0;
      any = true;
      continue;
    }
    if (d::le32(page) == d::state::Active) page[0] = 0xFC;  // ACTIVE -> FULL (state bits only clear)
    seq = d::le32(page + 4);
    any = true;
  }
}

EditResult edit_image(std::span<const std::uint8_t> input, const EditOptions& opt) {
  if (input.size() != kLegacySize && (input.size() < (1u << 20) || input.size() > (16u << 20)))
    throw EditError(fmt::format("the input is {} bytes: at.py takes a 4096-byte factory_param bin or a 1-16 MiB image",
                                input.size()));
  validate(opt);
  if (input.size() != kLegacySize)
    if (const auto mfg = find_mfg_nvs(input)) return edit_nvs(input, mfg->first, mfg->second, opt);
  return edit_legacy(input, opt);
}

}  // namespace espat::flash
