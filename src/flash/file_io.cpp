#include "flash/file_io.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "flash/region.hpp"

namespace espat::flash {

void pread_all(int fd, const std::string& path, std::size_t offset, std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw FlashError(fmt::format("{}: read at 0x{:x} failed: {}", path, offset + done,
                                   n == 0 ? "file was truncated" : std::strerror(errno)));
    done += static_cast<std::size_t>(n);
  }
}

void pwrite_all(int fd, const std::string& path, std::size_t offset, std::span<const std::uint8_t> data) {
  // One call for the whole span; the loop only matters if the kernel reports a short write.
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw FlashError(fmt::format("{}: write at 0x{:x} failed: {}", path, offset + done,
                                   n == 0 ? "no progress" : std::strerror(errno)));
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace espat::flash
