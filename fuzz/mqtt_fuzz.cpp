// libFuzzer: the reader of what an MQTT broker sends (net/mqtt_packet.cpp, the module's MQTT
// client). Any bytes are read without a crash or a hang, in any split; a packet it returns holds
// what its type promises; topic filters match without a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/mqtt_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  namespace mq = espat::net::mqtt;
  mq::Reader r(4096);
  const std::size_t step = size ? std::size_t(data[0] % 7 + 1) : 1;
  for (std::size_t i = 0; i < in.size(); i += step) {
    r.feed(in.substr(i, step));
    while (auto p = r.next()) {
      if (p->type == mq::Type::Publish && p->qos > 2) std::abort();
      if (p->type == mq::Type::Suback && p->granted.empty()) std::abort();
    }
  }
  const auto slash = in.find('\n');
  if (slash != std::string_view::npos) (void)mq::topic_matches(in.substr(0, slash), in.substr(slash + 1));
  return 0;
}
