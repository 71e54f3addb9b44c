#include "commands/tcpip.hpp"

namespace espat::commands {

at::Family tcpip_family() {
  at::Family f{.name = "tcpip"};
  for (auto* rows : {tcpip_link_commands, tcpip_data_commands, tcpip_server_commands, tcpip_name_commands,
                     tcpip_time_commands, tcpip_ota_commands, tcpip_ssl_commands})
    for (auto& c : rows()) f.rows.push_back(std::move(c));
  return f;
}

}  // namespace espat::commands
