// The control API's endpoints (README "Control API"): one request in, one JSON reply out, on the
// event loop's thread. The HTTP side is control_api.cpp.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/world.hpp"

namespace espat::sim {

// What POST /modules/{k}/links/{id}/{action} got: 200, or 404 (no such link), 409 (not for
// this link) with a message.
struct LinkActionResult {
  int status = 200;
  std::string error;
};

// What the control API knows of one module of the process.
struct ModuleView {
  int index = 0;
  const Station* station = nullptr;       // names the module in the associations
  const SoftApHost* softap = nullptr;     // marks its softAP in the AP lists
  std::function<nlohmann::json()> state;  // its GET /modules entry; called on the loop
  std::function<void()> reset;            // POST /modules/{k}/reset: the EN pin
  std::function<void()> power_cycle;      // POST /modules/{k}/power-cycle: power off and on
  std::function<nlohmann::json()> links;  // GET /modules/{k}/links
  // POST /modules/{k}/links/{id}/reset, stall, resume (README "Network faults").
  std::function<LinkActionResult(int id, std::string_view action)> link_action;
};

struct ApiReply {
  int status = 200;
  nlohmann::json body;  // null: no body (204)
};

class ControlRoutes {
 public:
  ControlRoutes(World& world, std::vector<ModuleView> modules) : world_(world), modules_(std::move(modules)) {}
  // method "GET"...; target as sent ("/aps/espat-ap?x", percent-escapes decoded per segment, so
  // an id may hold "/" written %2F).
  ApiReply handle(std::string_view method, std::string_view target, std::string_view body);

 private:
  nlohmann::json ap_json(const Ap& ap) const;
  nlohmann::json association_json(const Association& a) const;
  nlohmann::json world_json() const;
  Ap& ap_or_404(const std::string& id);
  Ap& own_ap_or_409(const std::string& id);  // not a module's softAP
  int free_default_index() const;
  ApiReply post_ap(const nlohmann::json& body);
  ApiReply patch_ap(const std::string& id, const nlohmann::json& body);
  ApiReply add_station(const std::string& id, const nlohmann::json& body);
  ApiReply modules(const std::string* index) const;
  const ModuleView& module_or_404(const std::string& index) const;
  ApiReply restart_module(const std::string& index, bool power_cycle);
  ApiReply module_faults(const std::string& index, const nlohmann::json* patch);  // control_faults.cpp
  ApiReply module_links(const std::string& index) const;
  ApiReply link_action(const std::string& index, const std::string& id, const std::string& action);
  nlohmann::json ota_json() const;
  nlohmann::json ble_peers_json() const;  // control_ble.cpp
  ApiReply ble_route(std::string_view method, const std::vector<std::string>& seg, const nlohmann::json& body);
  ApiReply put_ota(const nlohmann::json& body);

  World& world_;
  std::vector<ModuleView> modules_;
};

}  // namespace espat::sim
