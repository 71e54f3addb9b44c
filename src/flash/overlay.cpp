#include "flash/overlay.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>

#include <fmt/format.h>

#include "flash/file_io.hpp"

namespace espat::flash {

namespace {
constexpr char kMagic[8] = {'E', 'S', 'P', 'A', 'T', 'O', 'V', 'L'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kPathOffset = 0x14, kMaxPath = 1024, kBitsOffset = 0x800, kDataOffset = 0x1000;

std::uint32_t le32(const std::uint8_t* p) { return p[0] | p[1] << 8 | p[2] << 16 | std::uint32_t(p[3]) << 24; }
void put_le32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = std::uint8_t(v >> (8 * i));
}

// A descriptor for one access, closed on scope exit.
struct Fd {
  Fd(const std::string& path, int flags) : fd(::open(path.c_str(), flags | O_CLOEXEC, 0644)) {
    if (fd < 0) throw FlashError(fmt::format("{}: cannot open flash overlay: {}", path, std::strerror(errno)));
  }
  ~Fd() { ::close(fd); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int fd;
};

std::array<std::uint8_t, kDataOffset> read_header(const std::string& path) {
  std::array<std::uint8_t, kDataOffset> h{};
  Fd f(path, O_RDONLY);
  pread_all(f.fd, path, 0, h);
  if (std::memcmp(h.data(), kMagic, sizeof kMagic) != 0 || le32(&h[8]) != kVersion)
    throw FlashError(fmt::format("{}: not an espat flash overlay", path));
  return h;
}
}  // namespace

OverlayRegion::OverlayRegion(std::string path, std::shared_ptr<const Region> base, const std::string& base_path)
    : path_(std::move(path)), base_(std::move(base)) {
  const std::size_t sectors = base_->size() / kSectorSize;
  if (base_path.size() >= kMaxPath || sectors > (kDataOffset - kBitsOffset) * 8)
    throw FlashError(fmt::format("{}: base image path or size too large for an overlay", path_));
  if (::access(path_.c_str(), F_OK) != 0) {
    // A new overlay: the header goes to a temporary file renamed into place, so a crash never
    // leaves half a header.
    std::array<std::uint8_t, kDataOffset> h{};
    std::memcpy(h.data(), kMagic, sizeof kMagic);
    put_le32(&h[8], kVersion);
    put_le32(&h[12], std::uint32_t(sectors));
    put_le32(&h[16], std::uint32_t(base_->size()));
    std::memcpy(&h[kPathOffset], base_path.data(), base_path.size());
    const std::string tmp = path_ + ".tmp";
    {
      Fd f(tmp, O_WRONLY | O_CREAT | O_TRUNC);
      pwrite_all(f.fd, tmp, 0, h);
    }
    if (::rename(tmp.c_str(), path_.c_str()) != 0)
      throw FlashError(fmt::format("{}: cannot create flash overlay: {}", path_, std::strerror(errno)));
  }
  const auto h = read_header(path_);
  if (le32(&h[12]) != sectors || le32(&h[16]) != base_->size())
    throw FlashError(fmt::format("{}: overlay of a {}-byte base image, not of this {}-byte one", path_, le32(&h[16]),
                                 base_->size()));
  bits_.assign(h.begin() + kBitsOffset, h.begin() + kBitsOffset + (sectors + 7) / 8);
}

std::string OverlayRegion::base_path_of(const std::string& overlay_path) {
  const auto h = read_header(overlay_path);
  const char* p = reinterpret_cast<const char*>(&h[kPathOffset]);
  return std::string(p, strnlen(p, kMaxPath));
}

std::size_t OverlayRegion::sectors_written() const {
  std::size_t n = 0;
  for (auto b : bits_) n += std::size_t(__builtin_popcount(b));
  return n;
}

void OverlayRegion::check(std::size_t offset, std::size_t len) const {
  if (offset > size() || len > size() - offset)
    throw FlashError(fmt::format("{}: flash access 0x{:x}+0x{:x} outside 0x{:x} bytes", path_, offset, len, size()));
}

void OverlayRegion::read(std::size_t offset, std::span<std::uint8_t> out) const {
  check(offset, out.size());
  std::optional<Fd> f;
  while (!out.empty()) {
    const std::size_t sector = offset / kSectorSize;
    const std::size_t n = std::min(out.size(), (sector + 1) * kSectorSize - offset);
    if (present(sector)) {
      if (!f) f.emplace(path_, O_RDONLY);
      pread_all(f->fd, path_, kDataOffset + offset, out.first(n));
    } else {
      base_->read(offset, out.first(n));
    }
    offset += n;
    out = out.subspan(n);
  }
}

void OverlayRegion::materialize(std::size_t sector, const std::function<void(std::span<std::uint8_t>)>& apply) {
  std::vector<std::uint8_t> bytes(kSectorSize);
  const std::size_t at = sector * kSectorSize;
  read(at, bytes);
  apply(bytes);
  Fd f(path_, O_WRONLY);
  pwrite_all(f.fd, path_, kDataOffset + at, bytes);
  if (present(sector)) return;
  // The sector is complete in the file: only now does it count (see the header comment).
  std::uint8_t byte = bits_[sector / 8] | std::uint8_t(1u << (sector % 8));
  pwrite_all(f.fd, path_, kBitsOffset + sector / 8, {&byte, 1});
  bits_[sector / 8] = byte;
}

void OverlayRegion::write(std::size_t offset, std::span<const std::uint8_t> data) {
  check(offset, data.size());
  while (!data.empty()) {
    const std::size_t sector = offset / kSectorSize;
    const std::size_t in = offset - sector * kSectorSize;
    const std::size_t n = std::min(data.size(), kSectorSize - in);
    auto program = [&](std::span<std::uint8_t> s) {
      for (std::size_t i = 0; i < n; ++i) s[i] &= data[i];  // NOR: programming clears bits
    };
    if (present(sector)) {  // one read-modify-write in place, as on a plain image
      std::vector<std::uint8_t> bytes(n);
      Fd f(path_, O_RDWR);
      pread_all(f.fd, path_, kDataOffset + offset, bytes);
      program(bytes);
      pwrite_all(f.fd, path_, kDataOffset + offset, bytes);
    } else {
      materialize(sector, [&](std::span<std::uint8_t> s) { program(s.subspan(in, n)); });
    }
    offset += n;
    data = data.subspan(n);
  }
}

void OverlayRegion::erase_sector(std::size_t offset) {
  check(offset, kSectorSize);
  if (offset % kSectorSize != 0) throw FlashError(fmt::format("{}: erase at unaligned 0x{:x}", path_, offset));
  materialize(offset / kSectorSize, [](std::span<std::uint8_t> s) { std::fill(s.begin(), s.end(), 0xFF); });
}

void OverlayRegion::sync() {
  Fd f(path_, O_RDONLY);
  ::fdatasync(f.fd);
}

}  // namespace espat::flash
