#include "cli/image.hpp"
#include "cli/image_gen.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "flash/image_edit.hpp"
#include "flash/legacy_bins.hpp"
#include "flash/mfg_gen.hpp"
#include "flash/nvs_csv.hpp"

namespace espat::cli {

namespace fs = std::filesystem;
using namespace espat::flash;

namespace {

// Writes the whole file or nothing: a temporary beside it, renamed over it.
void write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  const std::string tmp = path + ".espat-tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error(fmt::format("{}: cannot write", path));
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      throw std::runtime_error(fmt::format("{}: write failed", path));
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw std::runtime_error(fmt::format("{}: {}", path, ec.message()));
  }
}

void write_text(const std::string& path, const std::string& s) { write_file(path, {s.begin(), s.end()}); }

std::size_t parse_size(const std::string& s) {
  std::string t = s;
  std::size_t mult = 1;
  if (!t.empty() && (t.back() == 'K' || t.back() == 'k')) mult = 1024, t.pop_back();
  else if (!t.empty() && (t.back() == 'M' || t.back() == 'm')) mult = 1024 * 1024, t.pop_back();
  long long v;
  if (!parse_int(t, v) || v <= 0) throw std::runtime_error(fmt::format("bad size `{}`", s));
  return static_cast<std::size_t>(v) * mult;
}


const char* kEditHelp =
    "Usage: espat image edit IMAGE -o OUT [options]   (at.py modify_bin; IMAGE may also be given as --input/-in)\n"
    "  -o,--output OUT                 the edited copy (IMAGE itself is never changed)\n"
    "  -mn,--module_name NAME          -tp,--tx_power 40..84      -un,--uart_num 0..2\n"
    "  -sc,--start_channel 1..14       -cn,--channel_number 1..14  -cc,--country_code CC\n"
    "  -b,--baud BAUD                  -tx,--tx_pin -rx,--rx_pin -cts,--cts_pin -rts,--rts_pin PIN\n"
    "  legacy layout only: -pf,--platform ESP32|ESP8266|ESP32S2|ESP32C3, -txctrl,--tx_control_pin,\n"
    "                      -rxctrl,--rx_control_pin\n"
    "  mfg_nvs layout only: -sca,--server_ca -scrt,--server_cert -skey,--server_key FILE,\n"
    "    -cca0/1,--client_ca0/1 -ccrt0/1,--client_cert0/1 -ckey0/1,--client_key0/1 FILE,\n"
    "    -mqca,--mqtt_ca -mqcrt,--mqtt_cert -mqkey,--mqtt_key FILE,\n"
    "    -wpa2ca,--wpa2_ca -wpa2crt,--wpa2_cert -wpa2key,--wpa2_key FILE, -cfg0..30,--gatts_cfg0..30 ROW\n";

int edit_int(const std::string& opt, const std::string& v) {
  long long x;
  if (!parse_int(v, x) || x < INT32_MIN || x > INT32_MAX)
    throw std::runtime_error(fmt::format("{} `{}`: not an integer", opt, v));
  return static_cast<int>(x);
}

void run_edit(const std::vector<std::string>& args) {
  EditOptions o;
  std::string input, output;
  struct Blob {
    const char *lng, *shrt, *key;
  };
  static const Blob kBlobs[] = {
      {"server_ca", "sca", "server_ca"},          {"server_cert", "scrt", "server_cert"},
      {"server_key", "skey", "server_key"},       {"client_ca0", "cca0", "client_ca.0"},
      {"client_ca1", "cca1", "client_ca.1"},      {"client_cert0", "ccrt0", "client_cert.0"},
      {"client_cert1", "ccrt1", "client_cert.1"}, {"client_key0", "ckey0", "client_key.0"},
      {"client_key1", "ckey1", "client_key.1"},   {"mqtt_ca", "mqca", "mqtt_ca"},
      {"mqtt_cert", "mqcrt", "mqtt_cert"},        {"mqtt_key", "mqkey", "mqtt_key"},
      {"wpa2_ca", "wpa2ca", "wpa2_ca"},           {"wpa2_cert", "wpa2crt", "wpa2_cert"},
      {"wpa2_key", "wpa2key", "wpa2_key"},
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a.empty() || a[0] != '-') {
      if (!input.empty()) throw std::runtime_error(fmt::format("unexpected argument `{}`", a));
      input = a;
      continue;
    }
    if (a == "-h" || a == "--help") {
      fmt::print("{}", kEditHelp);
      std::exit(0);
    }
    std::string value;
    bool has_value = false;
    if (const auto eq = a.find('='); a.starts_with("--") && eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    const std::string name = a.substr(a.starts_with("--") ? 2 : 1);
    const bool lng = a.starts_with("--");
    auto val = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= args.size()) throw std::runtime_error(fmt::format("{} needs a value", a));
      return args[++i];
    };
    auto is = [&](const char* l, const char* s) { return lng ? name == l : name == s; };
    if (is("output", "o")) output = val();
    else if (is("input", "in")) input = val();
    else if (is("platform", "pf")) o.platform = val();
    else if (is("module_name", "mn")) o.module_name = val();
    else if (is("tx_power", "tp")) o.tx_power = edit_int(a, val());
    else if (is("uart_num", "un")) o.uart_num = edit_int(a, val());
    else if (is("start_channel", "sc")) o.start_channel = edit_int(a, val());
    else if (is("channel_number", "cn")) o.channel_number = edit_int(a, val());
    else if (is("country_code", "cc")) o.country_code = val();
    else if (is("baud", "b")) o.baud = edit_int(a, val());
    else if (is("tx_pin", "tx")) o.tx_pin = edit_int(a, val());
    else if (is("rx_pin", "rx")) o.rx_pin = edit_int(a, val());
    else if (is("cts_pin", "cts")) o.cts_pin = edit_int(a, val());
    else if (is("rts_pin", "rts")) o.rts_pin = edit_int(a, val());
    else if (is("tx_control_pin", "txctrl")) o.tx_control_pin = edit_int(a, val());
    else if (is("rx_control_pin", "rxctrl")) o.rx_control_pin = edit_int(a, val());
    else {
      bool done = false;
      for (const auto& b : kBlobs)
        if (is(b.lng, b.shrt)) {
          o.blobs[b.key] = read_binary_file(val());
          done = true;
        }
      for (int n = 0; n <= 30 && !done; ++n)
        if (is(fmt::format("gatts_cfg{}", n).c_str(), fmt::format("cfg{}", n).c_str())) {
          o.gatts[n] = val();
          done = true;
        }
      if (!done) throw std::runtime_error(fmt::format("unknown option `{}` (espat image edit --help)", a));
    }
  }
  if (input.empty()) throw std::runtime_error("no input image (espat image edit --help)");
  if (output.empty()) throw std::runtime_error("no output: -o OUT");
  std::error_code ec;
  if (fs::exists(output, ec) && fs::equivalent(input, output, ec))
    throw std::runtime_error("the output is the input: edit never changes its input");
  const auto bytes = read_binary_file(input);
  const EditResult r = edit_image(bytes, o);
  write_file(output, r.image);
  fmt::print("{}: {} at {:#x} ({} bytes) rewritten\n", output, r.nvs_mode ? "mfg_nvs" : "legacy factory_param",
             r.offset, r.size);
}

void add_image_edit_command(CLI::App& image) {
  auto args = std::make_shared<std::vector<std::string>>();
  auto* c = image.add_subcommand("edit", "Edit an image or factory_param bin as at.py modify_bin does (--help for options)");
  c->prefix_command();
  c->set_help_flag();
  c->callback(guarded("edit", [c] { run_edit(c->remaining()); }));
}

}  // namespace

void add_image_gen_commands(CLI::App& image) {
  {
    struct O {
      std::string csv, bin, size;
    };
    auto o = std::make_shared<O>();
    auto* c = image.add_subcommand("gen-nvs", "NVS v2 partition from an nvs_partition_gen.py CSV (key,type,encoding,value)");
    c->add_option("CSV", o->csv, "Input CSV; `file` rows are relative to its folder")->required();
    c->add_option("BIN", o->bin, "Output partition")->required();
    c->add_option("SIZE", o->size, "Partition size (0x6000, 24576, 24K): a multiple of 4096, at least 0x3000")->required();
    c->callback(guarded("gen-nvs", [o] {
      const auto size = parse_size(o->size);
      const auto text = read_text_file(o->csv);
      write_file(o->bin, generate_nvs(text, fs::path(o->csv).parent_path(), size, o->csv));
    }));
  }
  {
    struct O {
      std::string bin, csv;
    };
    auto o = std::make_shared<O>();
    auto* c = image.add_subcommand("nvs-dump", "NVS partition to CSV (strings as data,string; blobs as data,base64)");
    c->add_option("BIN", o->bin, "NVS partition")->required();
    c->add_option("CSV", o->csv, "Output CSV (default: standard output)");
    c->callback(guarded("nvs-dump", [o] {
      const auto bytes = read_binary_file(o->bin);
      if (bytes.size() % 4096 != 0 || bytes.size() < 3 * 4096)
        throw std::runtime_error(fmt::format("{}: {} bytes is not an NVS partition (a multiple of 4096, at least 0x3000)",
                                             o->bin, bytes.size()));
      std::vector<std::string> problems;
      const std::string csv = dump_nvs_csv(bytes, &problems);
      for (const auto& p : problems) fmt::print(stderr, "espat image nvs-dump: {}: warning: {}\n", o->bin, p);
      if (o->csv.empty())
        fmt::print("{}", csv);
      else
        write_text(o->csv, csv);
    }));
  }
  {
    struct O {
      std::string raw, module = "WROOM-32", platform = "PLATFORM_ESP32", out = "mfg_nvs.bin", size = "0x1C000", csv;
      bool no_mqtt = false, wpa2 = false, no_ble = false;
    };
    auto o = std::make_shared<O>();
    auto* c = image.add_subcommand("gen-mfg", "mfg_nvs.bin as the ESP-AT v4.1.1.0 build makes it");
    c->add_option("--raw-data", o->raw, "The raw_data folder (certificate folders, factory_param/, ble_data/)")->required();
    c->add_option("--module", o->module, "Module row of factory_param_data.csv (default WROOM-32)");
    c->add_option("--platform", o->platform, "Platform column (default PLATFORM_ESP32)");
    c->add_option("-o,--output", o->out, "Output (default mfg_nvs.bin)");
    c->add_option("--size", o->size, "Partition size (default 0x1C000)");
    c->add_flag("--no-mqtt", o->no_mqtt, "Leave out mqtt_cert/key/ca (a build without MQTT, e.g. WROVER-32)");
    c->add_flag("--wpa2", o->wpa2, "Add wpa2_cert/key/ca (a build with WPA2-Enterprise)");
    c->add_flag("--no-ble", o->no_ble, "Leave out ble_data (a build without BLE)");
    c->add_option("--csv", o->csv, "Also write the intermediate mfg_nvs.csv here");
    c->callback(guarded("gen-mfg", [o] {
      MfgOptions m;
      m.module = o->module;
      m.platform = o->platform;
      m.mqtt = !o->no_mqtt;
      m.wpa2 = o->wpa2;
      m.ble = !o->no_ble;
      m.size = parse_size(o->size);
      const std::string csv = gen_mfg_csv(o->raw, m);
      const auto bin = generate_nvs(csv, fs::current_path(), m.size, "mfg_nvs.csv");
      if (!o->csv.empty()) write_text(o->csv, csv);
      write_file(o->out, bin);
    }));
  }
  {
    struct O {
      std::string module, platform = "PLATFORM_ESP32", data, types, out;
    };
    auto o = std::make_shared<O>();
    auto* c = image.add_subcommand("gen-factory-param", "Legacy 4 KiB factory_param_<MODULE>.bin (FC FC)");
    c->add_option("--module", o->module, "module_name of the row")->required();
    c->add_option("--platform", o->platform, "platform of the row (default PLATFORM_ESP32)");
    c->add_option("--data", o->data, "factory_param_data.csv")->required();
    c->add_option("--types", o->types, "factory_param_type.csv (param_name,offset,type,size)")->required();
    c->add_option("-o,--output", o->out, "Output bin")->required();
    c->callback(guarded("gen-factory-param", [o] {
      write_file(o->out, gen_legacy_factory_param(o->module, read_text_file(o->data), read_text_file(o->types),
                                                  o->platform, o->data, o->types));
    }));
  }
  {
    struct O {
      std::vector<std::string> args;
      std::string out;
    };
    auto o = std::make_shared<O>();
    auto* c = image.add_subcommand("gen-pki", "Legacy PKI partition (F1 F1), as AtPKI.py generate_bin: TYPE FILE pairs");
    c->add_option("ITEMS", o->args, "TYPE FILE [TYPE FILE...], TYPE = ca, cert or key")->required();
    c->add_option("-o,--output", o->out, "Output bin")->required();
    c->callback(guarded("gen-pki", [o] {
      if (o->args.size() % 2) throw std::runtime_error("expected TYPE FILE pairs");
      std::vector<PkiItem> items;
      for (std::size_t i = 0; i < o->args.size(); i += 2) {
        PkiItem it{};
        if (!parse_pki_type(o->args[i], it.type))
          throw std::runtime_error(fmt::format("argument {}: `{}` is not a type (ca, cert, key)", i + 1, o->args[i]));
        it.content = read_binary_file(o->args[i + 1]);
        items.push_back(std::move(it));
      }
      write_file(o->out, gen_pki(items));
    }));
  }
  {
    struct O {
      std::string csv, out;
    };
    auto o = std::make_shared<O>();
    auto* c = image.add_subcommand("gen-ble-data", "Legacy ble_data.bin from a BLEService.py CSV");
    c->add_option("CSV", o->csv, "index,uuid_len,uuid,perm,val_max_len,val_cur_len,value")->required();
    c->add_option("-o,--output", o->out, "Output bin")->required();
    c->callback(guarded("gen-ble-data", [o] { write_file(o->out, gen_ble_data(read_text_file(o->csv), o->csv)); }));
  }
  add_image_edit_command(image);
}

}  // namespace espat::cli
