// Every command of the guide (spec/commands.tsv), whether espat implements it or not, and the
// views generated from the registry: the AT+CMD? lines and the README's command table.
#pragma once
#include <span>
#include <string>

#include "at/command.hpp"

namespace espat::commands {

struct CatalogEntry {
  const char* section;
  const char* name;  // "AT+CWJAP", "ATE"
  const char* area;
  int test, query, set, execute, saved_in_flash;
  const char* title;
};

std::span<const CatalogEntry> catalog();

// "+CMD:<index>,"AT<name>",<test>,<query>,<set>,<exec>\r\n" for each registered command (3.1.5).
std::string cmd_list(const at::Registry& registry);

// The Markdown table of the README: every catalog command with its state in espat.
std::string readme_table(const at::Registry& registry);

}  // namespace espat::commands
