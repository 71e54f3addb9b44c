// libFuzzer: the WebSocket frame reader (net/ws_frame.cpp, spec 3.9's links and MQTT over
// WebSocket). Any bytes a server sends, cut anywhere, are read without a crash or a hang; the
// frames it returns obey RFC 6455 (control frames final and short, payloads within the limit),
// and each one encoded again reads back the same.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/ws_frame.hpp"

using namespace espat::net::ws;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t limit = std::size_t(data[0]) * 64;  // small limits reach the limit check
  const std::size_t cut = size > 1 ? data[1] : 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  FrameDecoder d(limit);
  // Fed in two pieces where the second byte says, then drained.
  const std::size_t first = std::min(cut, in.size());
  d.feed(in.substr(0, first));
  for (int round = 0; round < 2; ++round) {
    while (auto f = d.pop()) {
      if (f->payload.size() > limit) std::abort();
      if (is_control(f->opcode) && (!f->fin || f->payload.size() > 125)) std::abort();
      FrameDecoder again;
      again.feed(encode_frame(f->opcode, f->payload, f->fin, MaskKey{1, 2, 3, 4}));
      auto g = again.pop();
      if (!g || g->payload != f->payload || g->opcode != f->opcode || g->fin != f->fin) std::abort();
    }
    if (round == 0) d.feed(in.substr(first));
  }
  return 0;
}
