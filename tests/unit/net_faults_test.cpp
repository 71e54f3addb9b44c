// Network faults (README "Network faults"): the world file's keys on [[ap]] and [[module]], the
// combination rule, and the control routes that read and change them or act on a link.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/control_routes.hpp"
#include "sim/world_file.hpp"
#include "sim/world_json.hpp"

namespace espat::sim {
namespace {

using nlohmann::json;

std::string error_of(const std::string& toml) {
  World w;
  try {
    load_world(w, toml, "w.toml");
  } catch (const WorldError& e) {
    return e.what();
  }
  return "";
}

constexpr const char* kOpenAp = "[[ap]]\nssid = \"a\"\nsecurity = \"OPEN\"\n";

TEST(NetFaultsFile, ApKeys) {
  World w;
  load_world(w, std::string(kOpenAp) + "latency_ms = 50\nbandwidth = 10000\nudp_loss = 0.5\ndns_fail = true\nrefuse = true\n",
             "w.toml");
  const NetFaults& f = w.aps().at(0).faults;
  EXPECT_EQ(f.latency_ms, 50);
  EXPECT_EQ(f.bandwidth, 10000);
  EXPECT_DOUBLE_EQ(f.udp_loss, 0.5);
  EXPECT_TRUE(f.dns_fail);
  EXPECT_TRUE(f.refuse);
  // None by default.
  World plain;
  load_world(plain, kOpenAp, "w.toml");
  EXPECT_FALSE(plain.aps().at(0).faults.any());
}

TEST(NetFaultsFile, ModuleSections) {
  World w;
  load_world(w, "[[module]]\nindex = 0\nlatency_ms = 20\n\n[[module]]\nindex = 2\nudp_loss = 1\nrefuse = true\n", "w.toml");
  EXPECT_EQ(w.module_faults(0).latency_ms, 20);
  EXPECT_DOUBLE_EQ(w.module_faults(2).udp_loss, 1.0);  // an integer is a number too
  EXPECT_TRUE(w.module_faults(2).refuse);
  EXPECT_FALSE(w.module_faults(1).any());
}

TEST(NetFaultsFile, Errors) {
  EXPECT_EQ(error_of(std::string(kOpenAp) + "latency_ms = -1\n"), "w.toml:4: \"latency_ms\" = -1 is out of range [0, 60000]");
  EXPECT_EQ(error_of(std::string(kOpenAp) + "udp_loss = 1.5\n"), "w.toml:4: \"udp_loss\" = 1.5 is out of range [0, 1]");
  EXPECT_EQ(error_of(std::string(kOpenAp) + "udp_loss = \"half\"\n"), "w.toml:4: \"udp_loss\" must be a number from 0 to 1");
  EXPECT_EQ(error_of(std::string(kOpenAp) + "refuse = 1\n"), "w.toml:4: \"refuse\" must be true or false");
  EXPECT_EQ(error_of("[[module]]\nlatency_ms = 5\n"), "w.toml:1: a [[module]] needs its index (0 for the first module)");
  EXPECT_EQ(error_of("[[module]]\nindex = 0\nlatency = 5\n"), "w.toml:3: unknown key \"latency\"");
  EXPECT_EQ(error_of("[[module]]\nindex = 1\n[[module]]\nindex = 1\n"), "w.toml:3: a second [[module]] with index 1");
  EXPECT_EQ(error_of("[world]\nseed = -2\n"), "w.toml:2: \"seed\" = -2 is out of range [0, 9223372036854775807]");
}

TEST(NetFaults, CombineInSeries) {
  const NetFaults ap{.latency_ms = 30, .bandwidth = 5000, .udp_loss = 0.5, .dns_fail = true};
  const NetFaults mod{.latency_ms = 20, .bandwidth = 8000, .udp_loss = 0.5, .refuse = true};
  const NetFaults f = combine(mod, ap);
  EXPECT_EQ(f.latency_ms, 50);
  EXPECT_EQ(f.bandwidth, 5000);
  EXPECT_DOUBLE_EQ(f.udp_loss, 0.75);
  EXPECT_TRUE(f.dns_fail);
  EXPECT_TRUE(f.refuse);
  EXPECT_EQ(combine(NetFaults{.bandwidth = 0}, NetFaults{.bandwidth = 700}).bandwidth, 700);  // 0: no limit
  EXPECT_EQ(f.describe(), "latency_ms=50 bandwidth=5000 udp_loss=0.75 dns_fail refuse");
  EXPECT_EQ(NetFaults{}.describe(), "none");
}

TEST(NetFaults, LossIsSeededAndBounded) {
  World a, b;
  a.seed(7);
  b.seed(7);
  int lost = 0;
  for (int i = 0; i < 1000; ++i) {
    const bool x = a.lose(0.3);
    EXPECT_EQ(x, b.lose(0.3));
    lost += x;
  }
  EXPECT_GT(lost, 200);
  EXPECT_LT(lost, 400);
  EXPECT_FALSE(a.lose(0));
  EXPECT_TRUE(a.lose(1));
}

// ---- control routes ---------------------------------------------------------------------------

struct Routes : ::testing::Test {
  void SetUp() override {
    load_world(world, default_world_toml(), "(embedded world)");
    world.on_change = [this](std::string_view what) { events.emplace_back(what); };
    ModuleView v;
    v.index = 0;
    v.links = [] { return json::array({{{"id", 0}, {"type", "TCP"}}}); };
    v.link_action = [this](int id, std::string_view action) {
      actions.push_back(std::to_string(id) + " " + std::string(action));
      if (id != 0) return LinkActionResult{404, "no link " + std::to_string(id)};
      return LinkActionResult{};
    };
    routes.emplace(world, std::vector<ModuleView>{v});
  }
  ApiReply call(std::string_view method, std::string_view path, std::string_view body = "") {
    return routes->handle(method, path, body);
  }
  World world;
  std::optional<ControlRoutes> routes;
  std::vector<std::string> events, actions;
};

TEST_F(Routes, ApFaultsArePatchKeys) {
  auto r = call("PATCH", "/aps/espat-ap", R"({"latency_ms": 50, "bandwidth": 10000, "udp_loss": 0.25, "dns_fail": true})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["latency_ms"], 50);
  EXPECT_EQ(r.body["bandwidth"], 10000);
  EXPECT_EQ(r.body["udp_loss"], 0.25);
  EXPECT_EQ(r.body["dns_fail"], true);
  EXPECT_EQ(r.body["refuse"], false);
  EXPECT_EQ(world.find_ap("espat-ap")->faults.latency_ms, 50);
  EXPECT_EQ(events.back(), "ap espat-ap faults latency_ms=50 bandwidth=10000 udp_loss=0.25 dns_fail");
  // A later PATCH of another key keeps them.
  call("PATCH", "/aps/espat-ap", R"({"rssi": -60})");
  EXPECT_EQ(world.find_ap("espat-ap")->faults.bandwidth, 10000);
  r = call("PATCH", "/aps/espat-ap", R"({"udp_loss": 2})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"], "\"udp_loss\" = 2 is out of range [0, 1]");
}

TEST_F(Routes, ModuleFaults) {
  auto r = call("GET", "/modules/0/faults");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, json({{"latency_ms", 0}, {"bandwidth", 0}, {"udp_loss", 0.0}, {"dns_fail", false}, {"refuse", false}}));
  r = call("PATCH", "/modules/0/faults", R"({"refuse": true, "latency_ms": 100})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["refuse"], true);
  EXPECT_EQ(world.module_faults(0).latency_ms, 100);
  EXPECT_EQ(events.back(), "module m0 faults latency_ms=100 refuse");
  r = call("PATCH", "/modules/0/faults", R"({"latency_ms": 0})");  // the others stay
  EXPECT_TRUE(world.module_faults(0).refuse);
  EXPECT_EQ(call("GET", "/modules/0").body["faults"]["refuse"], true);
  // Checked whole: nothing changes on an error.
  r = call("PATCH", "/modules/0/faults", R"({"refuse": false, "colour": 1})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"], "unknown key \"colour\"");
  EXPECT_TRUE(world.module_faults(0).refuse);
  EXPECT_EQ(call("PATCH", "/modules/0/faults", R"({"bandwidth": -1})").status, 400);
  EXPECT_EQ(call("PATCH", "/modules/7/faults", "{}").status, 404);
  EXPECT_EQ(call("DELETE", "/modules/0/faults").status, 405);
}

TEST_F(Routes, Links) {
  auto r = call("GET", "/modules/0/links");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body[0]["type"], "TCP");
  EXPECT_EQ(call("POST", "/modules/0/links/0/reset", "{}").status, 200);
  EXPECT_EQ(call("POST", "/modules/0/links/0/stall", "{}").body, json({{"stall", 0}}));
  EXPECT_EQ(call("POST", "/modules/0/links/0/resume", "{}").status, 200);
  r = call("POST", "/modules/0/links/3/reset", "{}");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body["error"], "no link 3");
  EXPECT_EQ(actions, (std::vector<std::string>{"0 reset", "0 stall", "0 resume", "3 reset"}));
  EXPECT_EQ(call("POST", "/modules/0/links/x/reset", "{}").status, 404);
  EXPECT_EQ(call("POST", "/modules/0/links/0/explode", "{}").status, 404);
  EXPECT_EQ(call("GET", "/modules/0/links/0/reset").status, 405);
  EXPECT_EQ(call("GET", "/modules/5/links").status, 404);
}

}  // namespace
}  // namespace espat::sim
