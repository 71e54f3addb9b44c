#include "cli/fleet.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "flash/image.hpp"
#include "flash/image_file.hpp"

namespace espat::cli {

void reserve_descriptors(std::size_t needed) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur != RLIM_INFINITY && needed > lim.rlim_cur)
    throw std::runtime_error(fmt::format(
        "{} file descriptors are needed and the limit is {} (raise the hard limit: ulimit -Hn, or "
        "LimitNOFILE= under systemd)",
        needed, lim.rlim_cur));
}

FleetBase::~FleetBase() {
  if (lock_fd >= 0) ::close(lock_fd);
}

std::unique_ptr<FleetBase> open_fleet_base(const std::string& flash) {
  auto base = std::make_unique<FleetBase>();
  base->path = std::filesystem::absolute(flash).string();
  // One fleet at a time over these overlays: a second one would interleave writes to them.
  const std::string lock = base->path + ".overlays.lock";
  base->lock_fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (base->lock_fd < 0) throw std::runtime_error(fmt::format("{}: {}", lock, std::strerror(errno)));
  if (::flock(base->lock_fd, LOCK_EX | LOCK_NB) != 0)
    throw std::runtime_error(fmt::format("{}: the overlays of this base image are in use by another process", flash));
  flash::FlashImage::open(base->path);  // creates the default image when missing; checks it
  base->region = std::make_shared<flash::FileRegion>(base->path, flash::FileRegion::Access::ReadOnly);
  return base;
}

std::string module_overlay(const std::string& flash, int k) {
  std::filesystem::path p(flash);
  return (p.parent_path() / (p.stem().string() + "-" + std::to_string(k) + ".overlay")).string();
}

}  // namespace espat::cli
