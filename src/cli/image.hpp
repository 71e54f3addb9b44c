// `espat image`: the flash-image command group. This file registers the group and its readers and
// layout tools: info, gen-partitions, partitions-csv, build, split (the generators are added by
// image_gen.hpp). Each command reads all its input, builds its output in memory and writes it
// only when everything succeeded. Errors: a message on stderr, exit status 1.
#pragma once
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>

namespace espat::cli {

// Runs an image command's body: any exception is a message on stderr and exit status 1.
template <class F>
std::function<void()> guarded(std::string name, F body) {
  return [name, body] {
    try {
      body();
    } catch (const std::exception& e) {
      std::fflush(stdout);
      fmt::print(stderr, "espat image {}: {}\n", name, e.what());
      std::exit(1);
    }
  };
}

// Adds `image` (a group that needs one subcommand) and returns it.
CLI::App* add_image_command(CLI::App& app);

}  // namespace espat::cli
