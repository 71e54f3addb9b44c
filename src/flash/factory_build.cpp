#include "flash/factory_build.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>

#include "flash/region.hpp"

namespace espat::flash {
namespace {

std::optional<std::uint64_t> parse_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) base = 16, s.remove_prefix(2);
  std::uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return std::nullopt;
    v = v * base + d;
    if (v > 0xFFFFFFFFull) return std::nullopt;
  }
  return v;
}

}  // namespace

std::string flash_size_name(std::size_t n) {
  return n % 0x100000 == 0 ? fmt::format("{}MB", n / 0x100000) : fmt::format("0x{:x}", n);
}

std::size_t parse_flash_size(std::string_view text) {
  std::string t(text);
  for (auto& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::uint64_t n = 0;
  if (t.size() > 2 && t.ends_with("MB")) {
    if (auto v = parse_number(std::string_view(t).substr(0, t.size() - 2))) n = *v << 20;
  } else if (t.size() > 1 && t.ends_with("M")) {
    if (auto v = parse_number(std::string_view(t).substr(0, t.size() - 1))) n = *v << 20;
  } else if (t.starts_with("0X")) {
    if (auto v = parse_number(text)) n = *v;
  }
  if (n < (1u << 20) || n > (128u << 20) || n % kSectorSize)
    throw BuildError(fmt::format("flash size \"{}\" is not valid (expected 1MB, 2MB, 4MB, 8MB, 16MB...)", text));
  return static_cast<std::size_t>(n);
}

DownloadConfig parse_download_config(std::string_view text, std::string_view name) {
  std::vector<std::string> tok;
  {
    std::istringstream in{std::string(text)};
    for (std::string t; in >> t;) tok.push_back(t);
  }
  DownloadConfig c;
  for (std::size_t i = 0; i < tok.size(); ++i) {
    const std::string& t = tok[i];
    if (t.starts_with("--")) {
      std::string key = t.substr(2), value;
      if (auto eq = key.find('='); eq != std::string::npos) {
        value = key.substr(eq + 1);
        key.resize(eq);
      } else {
        if (i + 1 >= tok.size()) throw BuildError(fmt::format("{}: option {} has no value", name, t));
        value = tok[++i];
      }
      std::replace(key.begin(), key.end(), '-', '_');
      if (key == "flash_mode") c.flash_mode = value;
      else if (key == "flash_freq") c.flash_freq = value;
      else if (key == "flash_size") c.flash_size = value;
      else throw BuildError(fmt::format("{}: unknown option {}", name, t));
      continue;
    }
    const auto addr = parse_number(t);
    if (!addr) throw BuildError(fmt::format("{}: \"{}\" is neither an option nor an address", name, t));
    if (i + 1 >= tok.size()) throw BuildError(fmt::format("{}: address {} has no file", name, t));
    c.files.push_back({static_cast<std::uint32_t>(*addr), tok[++i]});
  }
  if (c.files.empty()) throw BuildError(fmt::format("{}: no ADDRESS FILE pairs", name));
  return c;
}

std::vector<std::uint8_t> build_image(const std::vector<ImagePart>& parts, std::size_t flash_size) {
  std::vector<const ImagePart*> sorted;
  for (const auto& p : parts) {
    if (std::uint64_t(p.address) + p.bytes.size() > flash_size)
      throw BuildError(fmt::format("{} at 0x{:x} ({} bytes) ends at 0x{:x}, past the end of the {} flash (0x{:x})",
                                   p.name, p.address, p.bytes.size(), std::uint64_t(p.address) + p.bytes.size(),
                                   flash_size_name(flash_size), flash_size));
    sorted.push_back(&p);
  }
  std::stable_sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->address < b->address; });
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    const auto& a = *sorted[i - 1];
    const auto& b = *sorted[i];
    if (!a.bytes.empty() && b.address < std::uint64_t(a.address) + a.bytes.size())
      throw BuildError(fmt::format("{} at 0x{:x} overlaps {} at 0x{:x}-0x{:x}", b.name, b.address, a.name, a.address,
                                   a.address + a.bytes.size() - 1));
  }
  std::vector<std::uint8_t> out(flash_size, 0xFF);
  for (const auto& p : parts) std::copy(p.bytes.begin(), p.bytes.end(), out.begin() + p.address);
  return out;
}

std::vector<std::uint8_t> build_image_from_config(const std::filesystem::path& config,
                                                  std::optional<std::size_t> flash_size) {
  const auto text = read_input_file(config);
  const auto c = parse_download_config(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()),
                                       config.string());
  std::size_t size = 4u << 20;
  if (flash_size) size = *flash_size;
  else if (!c.flash_size.empty()) size = parse_flash_size(c.flash_size);
  std::vector<ImagePart> parts;
  for (const auto& f : c.files) {
    const auto path = f.path.is_absolute() ? f.path : config.parent_path() / f.path;
    parts.push_back({f.address, read_input_file(path), path.string()});
  }
  return build_image(parts, size);
}

std::vector<std::uint8_t> read_input_file(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw BuildError(fmt::format("{}: cannot open: {}", path.string(), std::strerror(errno)));
  std::vector<std::uint8_t> v{std::istreambuf_iterator<char>(f), {}};
  if (f.bad()) throw BuildError(fmt::format("{}: read error", path.string()));
  return v;
}

void write_output_file(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
  const auto tmp = path.string() + fmt::format(".tmp{}", ::getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw BuildError(fmt::format("{}: cannot create: {}", tmp, std::strerror(errno)));
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw BuildError(fmt::format("{}: write error", tmp));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw BuildError(fmt::format("{}: cannot write: {}", path.string(), ec.message()));
  }
}

}  // namespace espat::flash
