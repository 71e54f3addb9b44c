// Whole-span pread/pwrite on a file descriptor, retried on EINTR and short transfers. Throw
// FlashError naming the file and the offset.
#pragma once
#include <cstdint>
#include <span>
#include <string>

namespace espat::flash {

void pread_all(int fd, const std::string& path, std::size_t offset, std::span<std::uint8_t> out);
void pwrite_all(int fd, const std::string& path, std::size_t offset, std::span<const std::uint8_t> data);

}  // namespace espat::flash
