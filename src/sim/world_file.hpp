// The world file: TOML (issue 4, BRIEF "The world"), read with toml++. README "The world file"
// documents every key. Errors name the file and line; a bad world stops the module from starting.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>

#include "sim/world.hpp"

namespace espat::sim {

struct WorldError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Fills `world` from TOML text; `source` names it in error messages ("world.toml:12: ...").
void load_world(World& world, std::string_view toml, std::string_view source);
void load_world_file(World& world, const std::string& path);

// The embedded world used when `espat run` is given none.
std::string_view default_world_toml();

}  // namespace espat::sim
