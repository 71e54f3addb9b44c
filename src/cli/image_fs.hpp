// `espat image fs-ls | fs-get | fs-put | fs-rm`: the files of an image's `fatfs` partition
// (FATFS inside ESP-IDF wear levelling, README "File system").
#pragma once
#include <CLI/CLI.hpp>

namespace espat::cli {
void add_image_fs_commands(CLI::App& image);
}
