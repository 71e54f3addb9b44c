#include "cli/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace espat::cli {

void add_log_options(CLI::App& cmd, LogOptions& o) {
  cmd.add_flag("-v,--verbose", o.verbosity,
               "Log more on stderr: -v info, -vv debug, -vvv trace (default: warnings only)");
  cmd.add_option("--log-level", o.level, "Log level, overrides -v (default: warn)")
      ->type_name("LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
}

void setup_logging(const LogOptions& o) {
  auto logger = spdlog::stderr_color_mt("espat");
  logger->set_pattern("%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  auto level = o.verbosity >= 3   ? spdlog::level::trace
               : o.verbosity == 2 ? spdlog::level::debug
               : o.verbosity == 1 ? spdlog::level::info
                                  : spdlog::level::warn;
  if (!o.level.empty()) level = spdlog::level::from_str(o.level);
  spdlog::set_level(level);
}

}  // namespace espat::cli
