#include "at/command.hpp"

#include <stdexcept>

namespace espat::at {

void Registry::add(Command c) {
  if (find(c.name)) throw std::logic_error("command registered twice: AT" + c.name);
  commands_.push_back(std::move(c));
}

const Command* Registry::find(std::string_view name) const {
  for (const auto& c : commands_) {
    if (c.name == name) return &c;
    for (const auto& a : c.aliases)
      if (a == name) return &c;
  }
  return nullptr;
}

}  // namespace espat::at
