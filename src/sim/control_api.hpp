// The control API (issue 4 item 6; README "Control API"): HTTP + JSON on 127.0.0.1 to read and
// change the world while modules run: APs added, changed, taken down, removed; stations kicked
// or injected; SmartConfig and WPS triggered; the modules' Wi-Fi state listed.
//
// cpp-httplib serves on threads of its own. Each request is posted onto the event loop and its
// thread waits for the answer there, so the world and the modules are only touched on the loop.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include <asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "sim/control_routes.hpp"
#include "sim/world.hpp"

namespace espat::sim {

class ControlApi {
 public:
  ControlApi(asio::io_context& io, World& world, std::vector<ModuleView> modules);
  ~ControlApi();  // stops serving
  ControlApi(const ControlApi&) = delete;
  ControlApi& operator=(const ControlApi&) = delete;

  // Listens on 127.0.0.1:port (0: a free port) and returns the port. Throws std::runtime_error
  // when it cannot.
  std::uint16_t start(std::uint16_t port);
  // Stops serving; a request still waiting for the loop is answered 503. Any thread.
  void stop();

  // One request, on the loop thread only (ControlRoutes::handle).
  ApiReply handle(std::string_view method, std::string_view target, std::string_view body);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace espat::sim
