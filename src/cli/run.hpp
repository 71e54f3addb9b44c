// `espat run`: one module on one AT port.
#pragma once
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace espat::cli {

struct RunOptions {
  std::string flash = "espat-flash.bin";
  std::optional<std::string> serial;
  bool pty = false;
  std::string pty_link;  // empty: no link
  std::optional<std::string> tcp;
  bool stdio = false;
  bool baud_pacing = false;
  int boot_ms = 300;
  std::string world;  // empty: the embedded default world
};

// Declares the subcommand and its options; they are read into opts.
CLI::App* add_run_command(CLI::App& app, RunOptions& opts);
// Runs until SIGINT/SIGTERM (or the end of piped stdin). Returns the process exit code.
int run(const RunOptions& opts);

}  // namespace espat::cli
