// read_factory_params against the mfg_nvs vectors (vectors/README.md §3) and the legacy
// factory_param_<MODULE>.bin files (§4), with the firmware quirks of reference §3.2.
#include "flash/factory_params.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <ostream>

#include "flash/default_image.hpp"
#include "flash/image.hpp"
#include "flash/nvs.hpp"
#include "shared_dirs.hpp"

namespace espat::flash {

// Readable failure output (internal linkage; found by ADL).
[[maybe_unused]] static void PrintTo(const FactoryParams& p, std::ostream* os) {
  *os << "{" << p.module_name << " tx_power=" << p.max_tx_power << " cc=" << p.country_code << " ch=" << p.start_channel
      << "+" << p.channel_num << " uart" << p.uart_port << "@" << p.uart_baudrate << " pins=" << p.tx_pin << "/"
      << p.rx_pin << "/" << p.cts_pin << "/" << p.rts_pin << " sys_store=" << p.sys_store
      << " source=" << static_cast<int>(p.source) << "}";
}

namespace {

const std::string kVectors = ESPAT_VECTORS_DIR;
using Source = FactoryParams::Source;

std::vector<std::uint8_t> load(const std::string& rel) {
  std::ifstream f(kVectors + "/" + rel, std::ios::binary);
  if (!f) throw std::runtime_error("missing vector " + rel);
  return {std::istreambuf_iterator<char>(f), {}};
}

void put(std::vector<std::uint8_t>& img, std::size_t off, const std::vector<std::uint8_t>& bytes) {
  std::copy(bytes.begin(), bytes.end(), img.begin() + static_cast<std::ptrdiff_t>(off));
}

// A 4 MiB image: the default primary table, `secondary` at 0x20000, `part` at `part_off`.
FlashImage image_with(const std::string& secondary, std::size_t part_off, const std::vector<std::uint8_t>& part) {
  std::vector<std::uint8_t> img(4u << 20, 0xFF);
  put(img, 0x8000, default_primary_table().serialize(false));
  put(img, 0x20000, load("partition-table/" + secondary));
  put(img, part_off, part);
  return FlashImage(std::make_unique<MemoryRegion>(std::move(img)), secondary);
}

FactoryParams expected(std::string module, int tx, int rx) {
  FactoryParams p;
  p.module_name = std::move(module);
  p.tx_pin = tx;
  p.rx_pin = rx;
  return p;
}

TEST(FactoryParams, ReadsMfgNvsVectors) {
  REQUIRE_VECTORS();
  const std::map<std::string, FactoryParams> cases = {
      {"mfg_nvs/mfg_nvs-WROOM-32.bin", expected("WROOM-32", 17, 16)},
      {"mfg_nvs/mfg_nvs-WROOM-32-idf-v5.0-generator.bin", expected("WROOM-32", 17, 16)},
      {"mfg_nvs/mfg_nvs-MINI-1.bin", expected("MINI-1", 22, 19)},
      {"mfg_nvs/mfg_nvs-WROVER-32.bin", expected("WROVER-32", 22, 19)},
  };
  for (const auto& [file, want] : cases) {
    SCOPED_TRACE(file);
    auto img = image_with("at_customize-v4.1.1.0.bin", 0x21000, load(file));
    auto p = read_factory_params(img);
    EXPECT_EQ(p.source, Source::MfgNvs);
    p.source = Source::None;
    EXPECT_EQ(p, want);  // every field: tx power 78, CN 1/13, UART1 115200, cts 15, rts 14, sys_store 1
  }
}

// A quoted-field-aware split of the v2.4 factory_param_data.csv.
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) out.emplace_back();
    else if (c != '\r') out.back() += c;
  }
  return out;
}

TEST(FactoryParams, ReadsEveryLegacyFactoryParamBin) {
  REQUIRE_VECTORS();
  std::ifstream csv(kVectors + "/factory_param/factory_param_data.csv");
  std::string line;
  std::getline(csv, line);
  const auto head = split_csv(line);
  auto col = [&](const std::vector<std::string>& row, const std::string& name) {
    return row[static_cast<std::size_t>(std::find(head.begin(), head.end(), name) - head.begin())];
  };
  int modules = 0;
  while (std::getline(csv, line)) {
    const auto row = split_csv(line);
    if (col(row, "platform") != "PLATFORM_ESP32") continue;
    const std::string module = col(row, "module_name");
    SCOPED_TRACE(module);
    ++modules;
    auto img = image_with("at_customize-v2.4.0.0.bin", 0x30000, load("factory_param/factory_param_" + module + ".bin"));
    const auto p = read_factory_params(img);
    EXPECT_EQ(p.source, Source::LegacyPartition);
    EXPECT_EQ(p.module_name, module);  // version 3: the name at offset 56, all in the core's table
    EXPECT_EQ(p.max_tx_power, std::stoi(col(row, "tx_max_power")));
    EXPECT_EQ(p.start_channel, std::stoi(col(row, "start_channel")));
    EXPECT_EQ(p.channel_num, std::stoi(col(row, "channel_num")) - p.start_channel + 1);
    EXPECT_EQ(p.country_code, col(row, "country_code"));
    EXPECT_EQ(p.uart_port, std::stoi(col(row, "uart_port")));
    auto or_default = [](const std::string& v, int def) { return v == "-1" ? def : std::stoi(v); };
    // An unset (FF) baud keeps the default; so do unset tx/rx pins; unset cts/rts mean "none" (-1).
    EXPECT_EQ(p.uart_baudrate, or_default(col(row, "uart_baudrate"), 115200));
    EXPECT_EQ(p.tx_pin, or_default(col(row, "uart_tx_pin"), 17));
    EXPECT_EQ(p.rx_pin, or_default(col(row, "uart_rx_pin"), 16));
    EXPECT_EQ(p.cts_pin, std::stoi(col(row, "uart_cts_pin")));
    EXPECT_EQ(p.rts_pin, std::stoi(col(row, "uart_rts_pin")));
    EXPECT_EQ(p.sys_store, 1);
  }
  EXPECT_EQ(modules, 8);
}

std::vector<std::uint8_t> wroom_legacy() { return load("factory_param/factory_param_WROOM-32.bin"); }

TEST(FactoryParams, LegacyFirmwareQuirks) {
  REQUIRE_VECTORS();
  {
    auto b = wroom_legacy();
    b[2] = 2, b[3] = 2;  // version <= 2: byte 3 is the module id
    EXPECT_EQ(parse_legacy_factory_params(b).module_name, "WROVER-32");
    b[3] = 200;
    EXPECT_EQ(parse_legacy_factory_params(b).module_name, "Unknown");
  }
  {
    auto b = wroom_legacy();
    b[2] = 1, b[4] = 9;  // version 1 ignores a tx power below 10
    EXPECT_EQ(parse_legacy_factory_params(b).max_tx_power, 78);
    b[4] = 10;
    EXPECT_EQ(parse_legacy_factory_params(b).max_tx_power, 10);
    b[2] = 3, b[4] = 0xFF;
    EXPECT_EQ(parse_legacy_factory_params(b).max_tx_power, 78);
  }
  {
    auto b = wroom_legacy();
    b[6] = 3, b[7] = 11;  // byte 7 is the end channel
    b[8] = 'U', b[9] = 'S';
    auto p = parse_legacy_factory_params(b);
    EXPECT_EQ(p.start_channel, 3);
    EXPECT_EQ(p.channel_num, 9);
    EXPECT_EQ(p.country_code, "US");
    b[7] = 2;  // end before start: the firmware applies no country at all
    p = parse_legacy_factory_params(b);
    EXPECT_EQ(p.start_channel, 1);
    EXPECT_EQ(p.channel_num, 13);
    EXPECT_EQ(p.country_code, "CN");
  }
  {
    auto b = wroom_legacy();
    b[16] = 0xFF;  // tx and rx are taken only together
    b[18] = 0xFF;
    const auto p = parse_legacy_factory_params(b);
    EXPECT_EQ(p.tx_pin, 17);
    EXPECT_EQ(p.rx_pin, 16);
    EXPECT_EQ(p.cts_pin, -1);
  }
  {
    auto b = wroom_legacy();
    std::copy_n("UNKNOWN-MODULE", 15, b.begin() + 56);  // unknown names stay module id 0
    EXPECT_EQ(parse_legacy_factory_params(b).module_name, "WROOM-32");
    b[0] = 0xFD;
    const auto p = parse_legacy_factory_params(b);
    EXPECT_EQ(p.source, Source::None);
    EXPECT_EQ(p, FactoryParams{});
  }
}

TEST(FactoryParams, DefaultImageGivesWroom32) {
  FlashImage img(std::make_unique<MemoryRegion>(make_default_image()));
  auto p = read_factory_params(img);
  EXPECT_EQ(p.source, Source::MfgNvs);
  p.source = Source::None;
  EXPECT_EQ(p, FactoryParams{});
}

TEST(FactoryParams, DefaultImageCarriesCustomParams) {
  FactoryParams want;
  want.module_name = "MINI-1";
  want.tx_pin = 22, want.rx_pin = 19, want.cts_pin = -1, want.rts_pin = -1;
  want.uart_baudrate = 921600;
  want.max_tx_power = 40;
  want.country_code = "JP", want.channel_num = 14;
  want.sys_store = 0;
  FlashImage img(std::make_unique<MemoryRegion>(make_default_image(want)));
  auto p = read_factory_params(img);
  want.source = Source::MfgNvs;
  EXPECT_EQ(p, want);
}

TEST(FactoryParams, MissingOrMistypedKeysKeepTheirDefaults) {
  std::vector<std::uint8_t> img(4u << 20, 0xFF);
  put(img, 0x8000, default_primary_table().serialize(false));
  put(img, 0x20000, default_secondary_table().serialize(true));
  {
    MemoryRegion flash(std::move(img));
    SubRegion mfg(flash, 0x21000, 0x1C000);
    nvs::Storage s(mfg);
    ASSERT_EQ(s.set("factory_param", "module_name", nvs::Value::str("NOT-A-MODULE")), nvs::Error::None);
    ASSERT_EQ(s.set("factory_param", "uart_tx_pin", nvs::Value::i32(4)), nvs::Error::None);
    ASSERT_EQ(s.set("factory_param", "uart_baudrate", nvs::Value::u32(9600)), nvs::Error::None);  // wrong type
    ASSERT_EQ(s.set("factory_param", "country_code", nvs::Value::str("DE ")), nvs::Error::None);
    img = flash.bytes();
  }
  FlashImage image(std::make_unique<MemoryRegion>(std::move(img)));
  const auto p = read_factory_params(image);
  EXPECT_EQ(p.source, Source::MfgNvs);
  EXPECT_EQ(p.module_name, "WROOM-32");
  EXPECT_EQ(p.tx_pin, 4);
  EXPECT_EQ(p.rx_pin, 16);
  EXPECT_EQ(p.uart_baudrate, 115200);
  EXPECT_EQ(p.country_code, "DE ");
}

TEST(FactoryParams, NoParameterPartitionGivesDefaults) {
  PartitionTable secondary{{{"fatfs", kTypeData, kSubtypeFat, 0x70000, 0x90000}}};
  std::vector<std::uint8_t> img(4u << 20, 0xFF);
  put(img, 0x8000, default_primary_table().serialize(false));
  put(img, 0x20000, secondary.serialize(true));
  FlashImage image(std::make_unique<MemoryRegion>(std::move(img)));
  EXPECT_EQ(read_factory_params(image), FactoryParams{});
}

TEST(FactoryParams, ModuleTable) {
  EXPECT_EQ(module_name_by_id(0), "WROOM-32");
  EXPECT_EQ(module_name_by_id(5), "MINI-1");
  EXPECT_EQ(module_name_by_id(9), "Unknown");
}

}  // namespace
}  // namespace espat::flash
