// Logging options shared by the subcommands. Logs go to stderr only: stdout may be the AT port.
#pragma once
#include <string>

#include <CLI/CLI.hpp>

namespace espat::cli {

struct LogOptions {
  int verbosity = 0;
  std::string level;  // empty: from verbosity
};

void add_log_options(CLI::App& cmd, LogOptions& opts);
void setup_logging(const LogOptions& opts);

}  // namespace espat::cli
