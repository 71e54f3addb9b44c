// `espat image`: the flash-image command group. This file registers the group and its readers and
// layout tools: info, gen-partitions, partitions-csv, build, split (the generators are added by
// image_gen.hpp). Each command reads all its input, builds its output in memory and writes it
// only when everything succeeded. Errors: a message on stderr, exit status 1.
#pragma once
#include <CLI/CLI.hpp>

namespace espat::cli {

// Adds `image` (a group that needs one subcommand) and returns it.
CLI::App* add_image_command(CLI::App& app);

}  // namespace espat::cli
