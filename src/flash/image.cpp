#include "flash/image.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flash/default_image.hpp"
#include "flash/image_file.hpp"
#include "flash/overlay.hpp"

namespace espat::flash {
namespace {

std::string hex_preview(std::span<const std::uint8_t> b) {
  std::string s;
  for (auto c : b.first(8)) s += fmt::format("{:02x} ", c);
  return s + "...";
}

// Reads and parses the table at `offset`; `what` names it in messages.
PartitionTable read_table(const Region& flash, std::size_t offset, std::string_view what, std::string_view name) {
  const auto fail = [&](const std::string& why) {
    return ImageError(fmt::format("{}: not an ESP-AT flash image: {}", name, why));
  };
  if (offset > flash.size() || flash.size() - offset < kPartitionTableSize)
    throw fail(fmt::format("{} at 0x{:x} lies beyond the end of the image", what, offset));
  const auto bytes = flash.read(offset, kPartitionTableSize);
  if (bytes[0] != 0xAA || bytes[1] != 0x50)
    throw fail(fmt::format("no {} at 0x{:x} (found {})", what, offset, hex_preview(bytes)));
  PartitionTable t;
  try {
    t = PartitionTable::parse(bytes);
  } catch (const FormatError& e) {
    throw fail(fmt::format("{} at 0x{:x}: {}", what, offset, e.what()));
  }
  for (const auto& p : t.entries)
    if (std::uint64_t(p.offset) + p.size > flash.size())
      throw fail(fmt::format("{} at 0x{:x}: partition \"{}\" (0x{:x}+0x{:x}) ends beyond the 0x{:x}-byte image", what,
                             offset, p.label, p.offset, p.size, flash.size()));
  return t;
}

// Writes the default image next to `path` and moves it into place without ever replacing a file
// that appeared meanwhile (RENAME_NOREPLACE). Returns false when someone else created it first.
bool create_default_file(const std::string& path) {
  const auto image = make_default_image();
  std::string tmp = path + ".tmp-XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw ImageError(fmt::format("{}: cannot create flash image: {}", path, std::strerror(errno)));
  auto fail = [&](const char* step) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return ImageError(fmt::format("{}: cannot create flash image ({}): {}", path, step, std::strerror(err)));
  };
  std::size_t done = 0;
  while (done < image.size()) {
    const ssize_t n = ::write(fd, image.data() + done, image.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw fail("write");
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0) throw fail("chmod");
  if (::fsync(fd) != 0) throw fail("fsync");
  ::close(fd);
  int rc = ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE);
  if (rc != 0 && errno == EINVAL) rc = ::link(tmp.c_str(), path.c_str());  // file system without renameat2 flags
  const int err = errno;
  ::unlink(tmp.c_str());  // after a successful rename it is already gone
  if (rc != 0) {
    if (err == EEXIST) return false;
    throw ImageError(fmt::format("{}: cannot create flash image: {}", path, std::strerror(err)));
  }
  // Make the new directory entry durable too (best effort: not every file system allows it).
  const auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

FlashImage open_file(const std::string& path, FileRegion::Access access) {
  std::unique_ptr<FileRegion> file;
  try {
    file = std::make_unique<FileRegion>(path, access);
  } catch (const FlashError& e) {
    throw ImageError(e.what());
  }
  return FlashImage(std::move(file), path);
}

}  // namespace

ImageLayout validate_image(const Region& flash, std::string_view name) {
  const std::size_t size = flash.size();
  if (size % kSectorSize != 0)
    throw ImageError(fmt::format("{}: not an ESP-AT flash image: its size ({} bytes) is not a multiple of 4 KiB",
                                 name, size));
  if (size < kMinImageSize || size > kMaxImageSize)
    throw ImageError(fmt::format("{}: not an ESP-AT flash image: its size ({} bytes) is outside 2 MiB..16 MiB",
                                 name, size));
  ImageLayout layout;
  layout.primary = read_table(flash, kPrimaryTableOffset, "partition table", name);
  // §2.2: the core finds the primary entry `at_customize` (type 0x40) and reads the table at its start.
  const Partition* custom = layout.primary.find(kAtCustomizeLabel);
  if (!custom || custom->type != kTypeAtCustom)
    throw ImageError(fmt::format(
        "{}: not an ESP-AT flash image: the partition table at 0x{:x} has no at_customize partition (type 0x40)", name,
        kPrimaryTableOffset));
  if (custom->size < kPartitionTableSize)
    throw ImageError(fmt::format("{}: not an ESP-AT flash image: at_customize partition is only 0x{:x} bytes", name,
                                 custom->size));
  layout.secondary = read_table(flash, custom->offset, "at_customize partition table", name);
  return layout;
}

FlashImage::FlashImage(std::unique_ptr<Region> flash, std::string name)
    : flash_(std::move(flash)), path_(std::move(name)), layout_(validate_image(*flash_, path_)) {}

FlashImage FlashImage::open(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) throw ImageError(fmt::format("{}: {}", path, std::strerror(errno)));
    create_default_file(path);  // false: another process created it first; open that one
  }
  return open_file(path, FileRegion::Access::ReadWrite);
}

FlashImage FlashImage::open_overlay(const std::string& path, std::shared_ptr<const Region> base,
                                    const std::string& base_path) {
  std::unique_ptr<OverlayRegion> overlay;
  try {
    overlay = std::make_unique<OverlayRegion>(path, std::move(base), base_path);
  } catch (const FlashError& e) {
    throw ImageError(e.what());
  }
  return FlashImage(std::move(overlay), path);
}

FlashImage FlashImage::open_read_only(const std::string& path) {
  return open_file(path, FileRegion::Access::ReadOnly);
}

const Partition* FlashImage::find(std::string_view label) const {
  if (const Partition* p = layout_.primary.find(label)) return p;
  return layout_.secondary.find(label);
}

std::unique_ptr<Region> FlashImage::partition(std::string_view label) {
  const Partition* p = find(label);
  if (!p) return nullptr;
  return std::make_unique<SubRegion>(*flash_, p->offset, p->size);
}

void FlashImage::sync() {
  if (auto* file = dynamic_cast<FileRegion*>(flash_.get())) file->sync();
  if (auto* overlay = dynamic_cast<OverlayRegion*>(flash_.get())) overlay->sync();
}

}  // namespace espat::flash
