// The command catalog equals the guide's list (spec/commands.tsv); the README's command table
// equals what the registry implements (regenerate it with ESPAT_UPDATE_README=1).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "commands/catalog.hpp"
#include "commands/table.hpp"
#include "shared_dirs.hpp"

using namespace espat;

namespace {
const at::Registry& full_registry() { return commands::command_table(); }

std::string read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const char* kBegin = "<!-- command-table:begin -->\n";
const char* kEnd = "<!-- command-table:end -->";
}  // namespace

TEST(Catalog, MatchesSpec) {
  REQUIRE_SPEC();
  std::ifstream tsv(espat_test::spec_dir() + "/commands.tsv");
  ASSERT_TRUE(tsv) << "cannot read " << espat_test::spec_dir() << "/commands.tsv";
  std::string line;
  std::getline(tsv, line);  // header
  std::size_t i = 0;
  auto cat = commands::catalog();
  while (std::getline(tsv, line)) {
    ASSERT_LT(i, cat.size());
    std::string expect = std::string(cat[i].section) + "\t" + cat[i].name + "\t" + cat[i].area;
    EXPECT_EQ(line.substr(0, expect.size()), expect) << "regenerate with scripts/gen-catalog.py";
    ++i;
  }
  EXPECT_EQ(i, cat.size());
}

TEST(Catalog, EveryRegisteredCommandIsInTheGuideWithItsForms) {
  const auto& reg = full_registry();
  for (const auto* cp : reg.all()) {
    const auto& c = *cp;
    std::string name = "AT" + c.name;
    if (name == "ATE0" || name == "ATE1") name = "ATE";
    if (name == "AT+UART") continue;  // the firmware's third spelling, not in the guide's list
    const commands::CatalogEntry* e = nullptr;
    for (const auto& x : commands::catalog())
      if (name == x.name) e = &x;
    ASSERT_NE(e, nullptr) << name;
    EXPECT_EQ(bool(c.test), bool(e->test)) << name;
    // 3.4.15 heads AT+BLEDISCONN=<conn_index> "Execute Command" and 3.4.26
    // AT+BLEGATTCPRIMSRV=<conn_index> "Query Command": both are set forms (README "Bluetooth LE").
    const bool set_labelled_execute = name == "AT+BLEDISCONN";
    const bool set_labelled_query = name == "AT+BLEGATTCPRIMSRV";
    EXPECT_EQ(bool(c.query), bool(e->query) && !set_labelled_query) << name;
    EXPECT_EQ(bool(c.set), bool(e->set) || set_labelled_execute || set_labelled_query) << name;
    EXPECT_EQ(bool(c.exec), bool(e->execute) && !set_labelled_execute) << name;
    EXPECT_FALSE(c.section.empty()) << name << ": not joined with the catalog";
  }
}

TEST(Catalog, AllBasicCommandsAreImplemented) {
  const auto& reg = full_registry();
  std::string table = commands::readme_table(reg);
  for (const auto& e : commands::catalog()) {
    if (std::string(e.area) != "basic") continue;
    EXPECT_NE(table.find(std::string("| ") + e.section + " | " + e.name + " | implemented |"), std::string::npos) << e.name;
  }
}

TEST(Catalog, ReadmeTableIsCurrent) {
  const std::string path = ESPAT_SOURCE_DIR "/README.md";
  std::string readme = read(path);
  auto b = readme.find(kBegin), e = readme.find(kEnd);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  std::string want = commands::readme_table(full_registry());
  std::string have = readme.substr(b + std::strlen(kBegin), e - b - std::strlen(kBegin));
  if (have != want && std::getenv("ESPAT_UPDATE_README")) {
    readme.replace(b + std::strlen(kBegin), have.size(), want);
    std::ofstream(path, std::ios::binary) << readme;
    have = want;
  }
  EXPECT_EQ(have, want) << "README command table is stale: run the unit tests with ESPAT_UPDATE_README=1";
}
