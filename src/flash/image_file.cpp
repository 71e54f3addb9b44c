#include "flash/image_file.hpp"

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
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw FlashError(fmt::format("{}: read at 0x{:x} failed: {}", path_, offset + done,
                                   n == 0 ? "file was truncated" : std::strerror(errno)));
    done += static_cast<std::size_t>(n);
  }
}

void FileRegion::pwrite_all(std::size_t offset, std::span<const std::uint8_t> data) {
  // One call for the whole span; the loop only matters if the kernel reports a short write.
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw FlashError(fmt::format("{}: write at 0x{:x} failed: {}", path_, offset + done,
                                   n == 0 ? "no progress" : std::strerror(errno)));
    done += static_cast<std::size_t>(n);
  }
}

void FileRegion::write(std::size_t offset, std::span<const std::uint8_t> data) {
  check(offset, data.size());
  check_writable(offset);
  std::vector<std::uint8_t> merged(data.size());
  read(offset, merged);
  for (std::size_t i = 0; i < merged.size(); ++i) merged[i] &= data[i];  // NOR: programming clears bits
  pwrite_all(offset, merged);
}

void FileRegion::erase_sector(std::size_t offset) {
  check(offset, kSectorSize);
  check_writable(offset);
  if (offset % kSectorSize) throw FlashError(fmt::format("{}: erase at unaligned 0x{:x}", path_, offset));
  static const std::vector<std::uint8_t> ff(kSectorSize, 0xFF);
  pwrite_all(offset, ff);
}

void FileRegion::sync() {
  if (read_only_) return;
  if (::fdatasync(fd_) != 0) throw FlashError(fmt::format("{}: fdatasync failed: {}", path_, std::strerror(errno)));
}

}  // namespace espat::flash
