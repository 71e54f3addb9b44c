// The ESP-IDF NVS partition generator's CSV format (nvs_partition_gen.py, `key,type,encoding,value`)
// to an NVS v2 partition and back (reference esp-at-formats.md §7.4, vectors README §2).
// Generation replays the rows through nvs::Storage::set on a blank partition, which writes the
// generator's layout byte for byte (only the pages in use are initialised, the last one ACTIVE).
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace espat::flash {

// Bad input: the message names the file and the line (`file:line: ...`).
struct CsvError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One record of a CSV text with Python csv-module rules (quotes, "" escapes, quoted line breaks).
// Blank lines give no record; `line` is the 1-based line the record starts on.
struct CsvRecord {
  std::size_t line = 0;
  std::vector<std::string> fields;
};
std::vector<CsvRecord> parse_csv(std::string_view text);
// A field quoted when it needs to be (comma, quote, line break, leading/trailing space).
std::string csv_field(std::string_view s);

std::vector<std::uint8_t> base64_decode(std::string_view in);  // throws std::invalid_argument
std::string base64_encode(std::span<const std::uint8_t> in);
std::vector<std::uint8_t> hex_decode(std::string_view in);     // throws std::invalid_argument
std::string read_text_file(const std::filesystem::path& p);    // throws CsvError
std::vector<std::uint8_t> read_binary_file(const std::filesystem::path& p);

// Largest string (with its NUL) nvs_partition_gen.py accepts: a span of 125 entries.
inline constexpr std::size_t kGeneratorMaxStringBytes = 3968;

// Builds an NVS v2 partition of `size` bytes (a multiple of 4096, at least 0x3000) from CSV text.
// `file` rows are read relative to `base_dir`. `source` names the CSV in error messages.
// Throws CsvError for bad input (unknown type/encoding, key longer than 15 characters, integer
// out of its type's range, string over 3968 bytes with its NUL, data before any namespace,
// a partition too small for the content).
std::vector<std::uint8_t> generate_nvs(std::string_view csv_text, const std::filesystem::path& base_dir,
                                       std::size_t size, std::string_view source = "CSV");

// The partition back to CSV: namespaces in index order, keys in storage order; integers with
// their type (u8...i64), strings as `data,string`, blobs as `data,base64`. Read problems (bad
// CRC pages...) are appended to `problems`; what can be read is still dumped.
std::string dump_nvs_csv(std::span<const std::uint8_t> partition, std::vector<std::string>* problems = nullptr);

// Parses an integer given as decimal or 0x-hexadecimal text (leading sign allowed).
bool parse_int(std::string_view s, long long& out);

}  // namespace espat::flash
