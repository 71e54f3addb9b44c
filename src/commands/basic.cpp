#include "commands/basic.hpp"

namespace espat::commands {
// The Basic commands need nothing but a running module: no predicate.
at::Family basic_family() {
  at::Family f{.name = "basic"};
  for (auto* rows : {system_commands, uart_commands, power_commands, messages_commands, storage_commands, misc_commands})
    for (auto& c : rows()) f.rows.push_back(std::move(c));
  return f;
}
}  // namespace espat::commands
