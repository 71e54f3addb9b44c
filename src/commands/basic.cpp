#include "commands/basic.hpp"

namespace espat::commands {
void register_basic(at::Registry& r, module::Context& ctx) {
  register_system(r, ctx);
  register_uart(r, ctx);
  register_power(r, ctx);
  register_messages(r, ctx);
  register_storage(r, ctx);
  register_misc(r, ctx);
}
}  // namespace espat::commands
