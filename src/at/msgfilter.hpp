// AT+SYSMSGFILTER / AT+SYSMSGFILTERCFG (spec 3.1.16-3.1.17, example 4.1): POSIX basic regular
// expressions applied to each message the module writes. A message that matches a filter's
// head and tail loses the matched head and tail bytes; the rest goes out. First match wins.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace espat::at {

class MessageFilter {
 public:
  MessageFilter();
  ~MessageFilter();
  MessageFilter(MessageFilter&&) noexcept;
  MessageFilter& operator=(MessageFilter&&) noexcept;

  bool enabled() const { return enabled_; }
  void set_enabled(bool on) { enabled_ = on; }

  // False when a regex does not compile.
  bool add(std::string_view head, std::string_view tail);
  // False when no filter with exactly these expressions exists.
  bool remove(std::string_view head, std::string_view tail);
  void clear();
  struct Entry { std::string head, tail; };
  std::vector<Entry> list() const;

  // The bytes of msg that reach the host.
  std::string apply(std::string msg) const;

 private:
  struct Compiled;
  std::vector<std::unique_ptr<Compiled>> filters_;
  bool enabled_ = false;
};

}  // namespace espat::at
