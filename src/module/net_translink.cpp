// AT+SAVETRANSLINK acted on at power-up (spec 3.1.9, protocol-rules §5): with mode 1 saved the
// module boots into Wi-Fi passthrough on link 0 (AT+CIPMODE=1, single connection) and keeps
// starting the saved TCP, UDP or SSL link every AT+CIPRECONNINTV until it is up; "+++"
// returns to command mode as after AT+CIPSEND.
#include "module/context.hpp"
#include "module/net.hpp"

namespace espat::module {

void Net::start_translink(const TransLink& t) {
  if (t.mode != 1 || t.host.empty()) return;
  StartRequest r;
  r.kind = t.type.starts_with("UDP") ? LinkKind::Udp : t.type.starts_with("SSL") ? LinkKind::Ssl : LinkKind::Tcp;
  r.v6 = t.type.ends_with("v6");
  r.host = t.host;
  r.port = t.port;
  if (r.kind == LinkKind::Udp) r.local_port = t.local_port;
  else s_.tcp[0].keep_alive = t.keep_alive;
  s_.mux = false;
  s_.mode = 1;
  last_start_ = r;
  enter_passthrough();
  pt_reconnect_.start([this](async::StopToken stop) { return passthrough_reconnect(stop, true); });
}

}  // namespace espat::module
