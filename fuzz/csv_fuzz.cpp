// libFuzzer: the text readers of `espat image` (README "Flash image generators"): the ESP-IDF
// partition CSV, the nvs_partition_gen.py CSV, the legacy factory_param type/data CSVs, the
// BLEService.py CSV and download.config. Bad input must be refused with the reader's own error
// (which names the line), never a crash, a hang or another exception; what a reader accepts must
// survive a round trip through the matching writer.
//
// The first input byte picks the reader ('0'..'4', any other byte modulo 5):
//   '0' partition CSV, '1' NVS CSV, '2' factory_param: type CSV, a NUL byte, data CSV,
//   '3' BLEService CSV, '4' download.config. The rest is the text.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flash/factory_build.hpp"
#include "flash/legacy_bins.hpp"
#include "flash/legacy_read.hpp"
#include "flash/nvs.hpp"
#include "flash/nvs_csv.hpp"
#include "flash/partition_csv.hpp"
#include "flash/region.hpp"

using namespace espat::flash;

namespace {

constexpr std::size_t kNvsSize = 0x6000;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// A folder for `file` rows of NVS CSVs: a.bin, a.hex and a.b64 (the seeds name them). Removed at
// exit.
struct FilesDir {
  std::filesystem::path path;
  FilesDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "csv_fuzz-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) std::abort();
    path = tmpl;
    const std::pair<const char*, std::string> files[] = {
        {"a.bin", std::string("binary\x00\x01\xff", 9)}, {"a.hex", "0102abcdEF"}, {"a.b64", "SGVsbG8sIE5WUyE="}};
    for (const auto& [name, bytes] : files) std::ofstream(path / name, std::ios::binary) << bytes;
  }
  ~FilesDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

const std::filesystem::path& files_dir() {
  static const FilesDir dir;
  return dir.path;
}

// namespace -> key -> value, everything a partition holds.
std::map<std::string, std::map<std::string, nvs::Value>> contents(const std::vector<std::uint8_t>& partition) {
  MemoryRegion mem(partition);
  const nvs::Storage s(mem, /*read_only=*/true);
  check(s.problems().empty());
  std::map<std::string, std::map<std::string, nvs::Value>> out;
  for (const auto& ns : s.namespaces())
    for (const auto& k : s.keys(ns)) out[ns][k.key] = s.get(ns, k.key).value();
  return out;
}

void partition_csv(std::string_view text) {
  PartitionTable t;
  try {
    t = parse_partition_csv(text);
  } catch (const PartitionCsvError&) {
    return;
  }
  check(PartitionTable::parse(t.serialize(true)).entries == t.entries);
  check(parse_partition_csv(partition_table_to_csv(t)).entries == t.entries);
}

void nvs_csv(std::string_view text) {
  std::vector<std::uint8_t> bin;
  try {
    bin = generate_nvs(text, files_dir(), kNvsSize, "fuzz.csv");
  } catch (const CsvError&) {
    return;
  }
  check(bin.size() == kNvsSize);
  // The dump generates a partition with the same values (the entry order may differ when the
  // CSV reopens a namespace).
  const std::string dump = dump_nvs_csv(bin);
  check(contents(generate_nvs(dump, files_dir(), kNvsSize, "dump.csv")) == contents(bin));
}

void factory_param_csv(std::string_view text) {
  const auto nul = text.find('\0');
  const std::string_view types = text.substr(0, nul);
  const std::string_view data = nul == std::string_view::npos ? std::string_view() : text.substr(nul + 1);
  try {
    check(gen_legacy_factory_param("WROOM-32", data, types).size() == kLegacyFactoryParamSize);
  } catch (const CsvError&) {
  }
}

void ble_csv(std::string_view text) {
  std::vector<std::uint8_t> bin;
  try {
    bin = gen_ble_data(text, "fuzz.csv");
  } catch (const CsvError&) {
    return;
  }
  const auto read = read_legacy_ble_data(bin);
  check(read.problems.empty() && read.json.size() + 4 == bin.size());
}

void download_config(std::string_view text) {
  try {
    check(!parse_download_config(text, "fuzz.config").files.empty());
  } catch (const BuildError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const int reader = data[0] >= '0' && data[0] <= '4' ? data[0] - '0' : data[0] % 5;
  switch (reader) {
    case 0: partition_csv(text); break;
    case 1: nvs_csv(text); break;
    case 2: factory_param_csv(text); break;
    case 3: ble_csv(text); break;
    default: download_config(text); break;
  }
  return 0;
}
