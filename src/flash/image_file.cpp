#include "flash/image_file.hpp"

#include "flash/file_io.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace espat::flash {

FileRegion::FileRegion(std::string path, Access access)
    : path_(std::move(path)), read_only_(access == Access::ReadOnly) {
  fd_ = ::open(path_.c_str(), (read_only_ ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd_ < 0) throw FlashError(fmt::format("{}: cannot open flash image: {}", path_, std::strerror(errno)));
  auto fail = [this](const std::string& why) {
    ::close(fd_);
    fd_ = -1;
    throw FlashError(fmt::format("{}: {}", path_, why));
  };
  if (::flock(fd_, (read_only_ ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) fail("flash image is in use by another process (it is locked)");
    fail(fmt::format("cannot lock flash image: {}", std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail(fmt::format("cannot stat flash image: {}", std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) fail("flash image is not a regular file");
  size_ = static_cast<std::size_t>(st.st_size);
}

FileRegion::~FileRegion() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

void FileRegion::check(std::size_t offset, std::size_t len) const {
  if (offset > size_ || len > size_ - offset)
    throw FlashError(fmt::format("{}: flash access 0x{:x}+0x{:x} outside 0x{:x} bytes", path_, offset, len, size_));
}

void FileRegion::check_writable(std::size_t offset) const {
  if (read_only_) throw FlashError(fmt::format("{}: write at 0x{:x} to an image opened read-only", path_, offset));
}

void FileRegion::read(std::size_t offset, std::span<std::uint8_t> out) const {
  check(offset, out.size());
  pread_all(fd_, path_, offset, out);
}

void FileRegion::write(std::size_t offset, std::span<const std::uint8_t> data) {
  check(offset, data.size());
  check_writable(offset);
  std::vector<std::uint8_t> merged(data.size());
  read(offset, merged);
  for (std::size_t i = 0; i < merged.size(); ++i) merged[i] &= data[i];  // NOR: programming clears bits
  pwrite_all(fd_, path_, offset, merged);
}

void FileRegion::erase_sector(std::size_t offset) {
  check(offset, kSectorSize);
  check_writable(offset);
  if (offset % kSectorSize) throw FlashError(fmt::format("{}: erase at unaligned 0x{:x}", path_, offset));
  static const std::vector<std::uint8_t> ff(kSectorSize, 0xFF);
  pwrite_all(fd_, path_, offset, ff);
}

void FileRegion::sync() {
  if (read_only_) return;
  if (::fdatasync(fd_) != 0) throw FlashError(fmt::format("{}: fdatasync failed: {}", path_, std::strerror(errno)));
}

}  // namespace espat::flash
