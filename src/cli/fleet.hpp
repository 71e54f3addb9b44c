// What a fleet (`espat run --modules N`) needs from the host: file descriptors for N ports, and
// with --flash-overlays one shared base image and a per-module overlay (README "Fleets").
#pragma once
#include <memory>
#include <string>

#include "flash/region.hpp"

namespace espat::cli {

// Raises the soft limit of open files to the hard one; throws std::runtime_error, saying what
// to raise, when `needed` descriptors cannot be had.
void reserve_descriptors(std::size_t needed);

// The shared base of a fleet's overlays: the --flash image (created from the default image when
// missing), opened read-only, and a lock so that no second process writes the same overlays.
struct FleetBase {
  std::shared_ptr<const flash::Region> region;
  std::string path;  // absolute
  int lock_fd = -1;
  ~FleetBase();
};
std::unique_ptr<FleetBase> open_fleet_base(const std::string& flash);

// Module k's overlay beside the base: "espat-flash.bin" → "espat-flash-<k>.overlay".
std::string module_overlay(const std::string& flash, int k);

}  // namespace espat::cli
