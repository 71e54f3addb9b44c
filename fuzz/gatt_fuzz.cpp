// libFuzzer: the GATT table reader (sim/gatt.cpp), which reads the ble_data/cfg<N> rows of a
// flash image a user brings (reference esp-at-formats.md §6), and the legacy ble_data partition
// reader (flash/legacy_read.cpp, §4.4) that turns 27 95 + JSON into such rows. Any text, cut into rows at each
// newline, is read without a crash or a hang; a table it accepts obeys the limits it checks
// (values within val_max_len, at most 512 bytes), and a client's view of it indexes back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "flash/legacy_read.hpp"
#include "sim/gatt.hpp"

using namespace espat::sim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The bytes as a legacy partition: rows come out, or a reason why not.
  std::string legacy_why;
  if (auto rows = espat::flash::legacy_ble_rows(std::span(data, size), &legacy_why)) {
    std::string why;
    if (!parse_gatt_rows(*rows, &why) && why.empty()) std::abort();
  } else if (legacy_why.empty()) {
    std::abort();
  }
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> rows;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i)
    if (i == text.size() || text[i] == '\n') {
      rows.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  std::string why;
  auto db = parse_gatt_rows(rows, &why);
  if (!db) {
    if (why.empty()) std::abort();
    return 0;
  }
  for (auto& s : db->services) {
    s.started = true;
    for (const auto& c : s.chars) {
      if (c.value.size() > std::size_t(c.max_len) || c.max_len > 512) std::abort();
      for (const auto& d : c.descs)
        if (d.value.size() > std::size_t(d.max_len) || d.max_len > 512) std::abort();
    }
  }
  auto view = client_view(&*db, "fuzz");
  for (int k = 3; k <= int(view.size()); ++k) {
    const int own = server_index_of(&*db, k);
    if (own < 1 || view[std::size_t(k) - 1].uuid != db->services[std::size_t(own) - 1].uuid) std::abort();
  }
  return 0;
}
