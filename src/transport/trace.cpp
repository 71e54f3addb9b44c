#include "transport/trace.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace espat::transport {

Trace::Trace(const std::string& path) : file_(path == "-" ? stderr : std::fopen(path.c_str(), "w")), owned_(path != "-") {
  if (!file_) throw std::runtime_error(fmt::format("--trace {}: {}", path, std::strerror(errno)));
  // A line at a time, so that a killed process leaves every record it made.
  std::setvbuf(file_, nullptr, _IOLBF, 1 << 16);
}

Trace::~Trace() {
  if (owned_) std::fclose(file_);
  else std::fflush(file_);
}

double Trace::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Trace::escape(std::string_view bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    switch (c) {
      case '\r': out += "\\r"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      default:
        if (c >= 0x20 && c < 0x7f) out += char(c);
        else out += fmt::format("\\x{:02x}", c);
    }
  }
  return out + "\"";
}

void Trace::record(int module, const char* dir, std::string_view bytes) {
  if (bytes.empty()) return;
  fmt::print(file_, "{:.6f} m{} {} {}\n", seconds(), module, dir, escape(bytes));
}

void Trace::event(std::string_view what) { fmt::print(file_, "{:.6f} world  {}\n", seconds(), what); }

}  // namespace espat::transport
