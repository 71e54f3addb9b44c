// The flash image file as a Region. Every write and erase is one pwrite(2) straight into the
// file: once the call returns the bytes are in the page cache, so a kill -9 of espat never loses
// them (only a host crash could; sync() is for that). An exclusive flock(2) keeps a second
// process from opening the same image: two modules on one flash would corrupt its NVS.
#pragma once
#include <string>

#include "flash/region.hpp"

namespace espat::flash {

class FileRegion : public Region {
 public:
  enum class Access { ReadWrite, ReadOnly };  // ReadOnly: shared lock, writes throw (image inspection)

  // Opens an existing file; throws FlashError (with the path) when it cannot be opened or locked.
  explicit FileRegion(std::string path, Access access = Access::ReadWrite);
  ~FileRegion() override;
  FileRegion(const FileRegion&) = delete;
  FileRegion& operator=(const FileRegion&) = delete;

  std::size_t size() const override { return size_; }
  void read(std::size_t offset, std::span<std::uint8_t> out) const override;
  // NOR semantics: the stored bytes are ANDed with data (read-modify-write, one pwrite).
  void write(std::size_t offset, std::span<const std::uint8_t> data) override;
  void erase_sector(std::size_t offset) override;
  using Region::read;

  void sync();  // fdatasync: survive a host crash, not only a process kill
  const std::string& path() const { return path_; }

 private:
  void check(std::size_t offset, std::size_t len) const;
  void check_writable(std::size_t offset) const;
  std::string path_;
  bool read_only_;
  int fd_ = -1;
  std::size_t size_ = 0;
};

}  // namespace espat::flash
