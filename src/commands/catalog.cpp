#include "commands/catalog.hpp"

#include <fmt/format.h>

namespace espat::commands {

namespace {
constexpr CatalogEntry kCatalog[] = {
#include "commands/catalog_data.inc"
};

// The registry spells ATE as the two commands ATE0 and ATE1, like the firmware's AT+CMD? list.
bool registered(const at::Registry& r, std::string_view catalog_name) {
  std::string_view n = catalog_name.substr(2);  // drop "AT"
  if (n == "E") return r.find("E0") && r.find("E1");
  return r.find(n).has_value();
}
}  // namespace

std::span<const CatalogEntry> catalog() { return kCatalog; }

std::string cmd_list(const at::Registry& registry) {
  std::string out;
  int index = 0;
  for (const auto* c : registry.all()) {
    out += fmt::format("+CMD:{},\"AT{}\",{:d},{:d},{:d},{:d}\r\n", index++, c->name, bool(c->test), bool(c->query),
                       bool(c->set), bool(c->exec));
  }
  return out;
}

std::string readme_table(const at::Registry& registry) {
  std::string out =
      "| section | command | state |\n"
      "|---|---|---|\n";
  for (const auto& e : kCatalog) {
    // "+++" (3.3.8) is no command line: the engine's data and passthrough modes take it.
    const char* state = registered(registry, e.name) ? "implemented"
                        : std::string_view(e.name) == "+++" ? "implemented (the engine's data modes)"
                                                            : "not yet";
    out += fmt::format("| {} | {} | {} |\n", e.section, e.name, state);
  }
  return out;
}

}  // namespace espat::commands
