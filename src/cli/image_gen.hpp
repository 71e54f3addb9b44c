// `espat image` generators: gen-nvs, nvs-dump, gen-mfg, gen-factory-param, gen-pki,
// gen-ble-data, edit. Each reads all its input, builds the output in memory and writes it only
// when everything succeeded (to a temporary file renamed over OUT). Errors: message on stderr,
// exit status 1.
#pragma once
#include <CLI/CLI.hpp>

namespace espat::cli {

void add_image_gen_commands(CLI::App& image);

}  // namespace espat::cli
