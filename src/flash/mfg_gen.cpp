#include "flash/mfg_gen.hpp"

#include <algorithm>

#include <fmt/core.h>

#include "flash/nvs_csv.hpp"

namespace espat::flash {

namespace fs = std::filesystem;

std::vector<std::string> mfg_cert_dirs(const MfgOptions& opt) {
  std::vector<std::string> dirs = {"server_cert", "server_key", "server_ca", "client_cert", "client_key", "client_ca"};
  if (opt.wpa2) dirs.insert(dirs.end(), {"wpa2_cert", "wpa2_key", "wpa2_ca"});
  if (opt.mqtt) dirs.insert(dirs.end(), {"mqtt_cert", "mqtt_key", "mqtt_ca"});
  return dirs;
}

namespace {

bool skip(const CsvRecord& r) {
  if (!r.fields.empty() && !r.fields[0].empty() && r.fields[0][0] == '#') return true;
  return std::all_of(r.fields.begin(), r.fields.end(), [](const std::string& f) { return f.empty(); });
}

}  // namespace

std::string gen_mfg_csv(const fs::path& raw_dir, const MfgOptions& opt) {
  std::string csv = "key,type,encoding,value\n";
  for (const auto& dir : mfg_cert_dirs(opt)) {
    const fs::path d = raw_dir / dir;
    std::error_code ec;
    if (!fs::is_directory(d, ec)) continue;
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(d)) {
      const auto ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".crt" || ext == ".key" || ext == ".pem"))
        files.push_back(e.path().filename().string());
    }
    if (files.empty()) continue;
    std::sort(files.begin(), files.end());
    csv += dir + ",namespace,,\n";
    for (std::size_t i = 0; i < files.size(); ++i) {
      const std::string key = files.size() == 1 ? dir : fmt::format("{}.{}", dir, i);
      csv += fmt::format("{},file,binary,{}\n", key, csv_field((d / files[i]).string()));
    }
  }

  // factory_param: the types in the type CSV's order, values from the module's row.
  const fs::path fp_dir = raw_dir / "factory_param";
  const fs::path type_path = fp_dir / "factory_param_type.csv", data_path = fp_dir / "factory_param_data.csv";
  std::vector<std::string> columns;
  std::vector<std::string> row;
  for (const auto& r : parse_csv(read_text_file(data_path))) {
    if (skip(r)) continue;
    if (columns.empty()) {
      columns = r.fields;
      continue;
    }
    if (r.fields.size() != columns.size())
      throw CsvError(fmt::format("{}:{}: {} fields, the header has {}", data_path.string(), r.line, r.fields.size(),
                                 columns.size()));
    auto col = [&](std::string_view n) -> std::string {
      const auto it = std::find(columns.begin(), columns.end(), n);
      return it == columns.end() ? std::string() : r.fields[it - columns.begin()];
    };
    if (col("platform") == opt.platform && col("module_name") == opt.module) {
      row = r.fields;
      break;
    }
  }
  if (row.empty())
    throw CsvError(fmt::format("{}: no row for platform {} and module {}", data_path.string(), opt.platform, opt.module));
  csv += "factory_param,namespace,,\n";
  for (const auto& r : parse_csv(read_text_file(type_path))) {
    if (skip(r)) continue;
    if (r.fields.size() != 3 || r.fields[1] != "data")
      throw CsvError(fmt::format("{}:{}: expected `key,data,<type>`", type_path.string(), r.line));
    const auto it = std::find(columns.begin(), columns.end(), r.fields[0]);
    if (it == columns.end())
      throw CsvError(fmt::format("{}:{}: `{}` is not a column of {}", type_path.string(), r.line, r.fields[0],
                                 data_path.filename().string()));
    const std::string& v = row[it - columns.begin()];
    if (r.fields[2] == "string")
      csv += fmt::format("{},data,string,\"{}\"\n", r.fields[0], v);
    else
      csv += fmt::format("{},data,{},{}\n", r.fields[0], r.fields[2], v);
  }

  if (opt.ble) {
    const fs::path gatts = raw_dir / "ble_data" / "gatts_data.csv";
    std::error_code ec;
    if (fs::exists(gatts, ec)) {
      csv += "ble_data,namespace,,\n";
      for (const auto& r : parse_csv(read_text_file(gatts))) {
        if (skip(r)) continue;
        std::string joined;
        for (std::size_t i = 0; i < r.fields.size(); ++i) joined += (i ? "," : "") + r.fields[i];
        long long index;
        if (!parse_int(r.fields[0], index) || index < 0)
          throw CsvError(fmt::format("{}:{}: the index `{}` is not a number", gatts.string(), r.line, r.fields[0]));
        csv += fmt::format("cfg{},data,string,{}\n", index, csv_field(joined).front() == '"' ? csv_field(joined)
                                                                                             : "\"" + joined + "\"");
      }
    }
  }
  return csv;
}

std::vector<std::uint8_t> gen_mfg_nvs(const fs::path& raw_dir, const MfgOptions& opt) {
  return generate_nvs(gen_mfg_csv(raw_dir, opt), fs::current_path(), opt.size, "mfg_nvs.csv");
}

}  // namespace espat::flash
