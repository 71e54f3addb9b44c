// espat: the command line. Each subcommand parses here and does its work in its own file.
#include <exception>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "cli/image.hpp"
#include "cli/image_fs.hpp"
#include "cli/image_gen.hpp"
#include "cli/logging.hpp"
#include "cli/run.hpp"

int main(int argc, char** argv) {
  CLI::App app{"espat: Espressif's ESP-AT firmware for the ESP32, emulated on this host."};
  app.name("espat");
  app.set_version_flag("--version", std::string("espat ") + ESPAT_VERSION);
  app.require_subcommand(1);

  espat::cli::LogOptions log;
  espat::cli::RunOptions run_opts;
  auto* run = espat::cli::add_run_command(app, run_opts);
  espat::cli::add_log_options(*run, log);
  auto* image = espat::cli::add_image_command(app);
  espat::cli::add_image_gen_commands(*image);
  espat::cli::add_image_fs_commands(*image);
  (void)image;  // the generators (image_gen.hpp) are added to it

  if (argc == 1) {
    fmt::print("{}", app.help());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;  // usage errors: 2, as for any Unix tool
  }
  setup_logging(log);
  try {
    if (run->parsed()) return espat::cli::run(run_opts);
  } catch (const std::exception& e) {
    fmt::print(stderr, "espat: {}\n", e.what());
    return 1;
  }
  return 0;
}
