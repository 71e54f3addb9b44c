// The traffic trace (espat run --trace FILE): every byte in and out of each AT port, with the
// time, the module number and the direction, escaped so that CR, LF and binary data show, and
// the world's events (AP up/down, joins, leases, kicks) between them. What a driver developer
// would otherwise need a logic analyser for. One line per record:
//   0.512034 m0 in  "AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n"
//   0.512101 m0 out "AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n"
//   0.712430 world  station 24:0a:c4:3d:90:ae joined espat-ap, lease 127.10.1.2
#pragma once
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace espat::transport {

class Trace {
 public:
  // path "-" is stderr. Throws std::runtime_error when the file cannot be opened.
  explicit Trace(const std::string& path);
  ~Trace();
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;

  void in(int module, std::string_view bytes) { record(module, "in ", bytes); }   // host → module
  void out(int module, std::string_view bytes) { record(module, "out", bytes); }  // module → host
  void event(std::string_view what);                                              // the world

  // "AT\r\n" → "\"AT\\r\\n\"": printable ASCII as is, \r \n \t \\ \" and \xNN for the rest.
  static std::string escape(std::string_view bytes);

 private:
  void record(int module, const char* dir, std::string_view bytes);
  double seconds() const;
  std::FILE* file_;
  bool owned_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace espat::transport
