// `espat run`: one module, or several sharing one world (--modules), each on its own AT port;
// optionally the control API (--control).
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
  bool script = false;  // --script: stdin is a script of command lines (stdio port)
  bool baud_pacing = false;
  int boot_ms = 300;
  int links = 5;
  std::string world;  // empty: the embedded default world
  int modules = 1;    // how many modules share the world
  std::optional<int> control;  // the control API's port (0: a free one); none: off
  std::string trace;           // the traffic trace's file, "-" for stderr; empty: off
  bool flash_overlays = false; // --flash is a shared base; module k writes <stem>-<k>.overlay
};

// Declares the subcommand and its options; they are read into opts.
CLI::App* add_run_command(CLI::App& app, RunOptions& opts);
// Runs until SIGINT/SIGTERM (or the end of piped stdin). Returns the process exit code.
int run(const RunOptions& opts);

// Module k's flash file and pty link, from the single-module options (README "Several
// modules"): k = 0 keeps them; "espat-flash.bin" → "espat-flash-<k>.bin", "LINK" → "LINK-<k>".
std::string module_flash(const std::string& flash, int k);
std::string module_link(const std::string& link, int k);

}  // namespace espat::cli
