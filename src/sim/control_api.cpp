#include "sim/control_api.hpp"

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <stdexcept>
#include <thread>

#include <asio/post.hpp>
#include <httplib.h>

#include "sim/world_json.hpp"

namespace espat::sim {

using namespace std::chrono_literals;

struct ControlApi::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, World& world, std::vector<ModuleView> modules)
      : io(io), routes(world, std::move(modules)) {}

  // Runs one request on the loop and waits for its reply. The posted work holds only a weak
  // reference: once the API is gone it does nothing. A request whose work the loop never runs
  // (it was shut down meanwhile) is answered 503 once stop() was called.
  ApiReply on_loop(const httplib::Request& req) {
    auto done = std::make_shared<std::promise<ApiReply>>();
    auto reply = done->get_future();
    asio::post(io, [weak = weak_from_this(), done, method = req.method, target = req.target, body = req.body] {
      auto self = weak.lock();
      if (!self) return;
      try {
        done->set_value(self->routes.handle(method, target, body));
      } catch (const std::exception& e) {
        done->set_value(ApiReply{500, {{"error", e.what()}}});
      }
    });
    while (reply.wait_for(20ms) != std::future_status::ready)
      if (stopping) return {503, {{"error", "shutting down"}}};
    return reply.get();
  }

  asio::io_context& io;
  ControlRoutes routes;
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> stopping{false};
};

ControlApi::ControlApi(asio::io_context& io, World& world, std::vector<ModuleView> modules)
    : impl_(std::make_shared<Impl>(io, world, std::move(modules))) {}

ControlApi::~ControlApi() { stop(); }

ApiReply ControlApi::handle(std::string_view method, std::string_view target, std::string_view body) {
  return impl_->routes.handle(method, target, body);
}

std::uint16_t ControlApi::start(std::uint16_t port) {
  auto& svr = impl_->server;
  // Few requests at a time, from tests and scripts; each waits for the loop anyway.
  svr.new_task_queue = [] { return new httplib::ThreadPool(2); };
  auto serve = [weak = std::weak_ptr<Impl>(impl_)](const httplib::Request& req, httplib::Response& res) {
    auto impl = weak.lock();
    ApiReply r = impl ? impl->on_loop(req) : ApiReply{503, {{"error", "shutting down"}}};
    res.status = r.status;
    if (!r.body.is_null()) res.set_content(dump(r.body) + "\n", "application/json");
  };
  // Requests httplib refuses itself (a POST without Content-Length...) get a JSON error too.
  svr.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const std::string what = res.status == 400 ? "the request could not be read (a POST, PUT or PATCH needs a body "
                                                 "or a Content-Length: send -d '{}')"
                                               : "HTTP " + std::to_string(res.status);
    res.set_content(dump({{"error", what}}) + "\n", "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  // Short, so that a client keeping its connection open does not hold up the shutdown.
  svr.set_keep_alive_timeout(1);
  svr.Get(".*", serve);
  svr.Post(".*", serve);
  svr.Put(".*", serve);
  svr.Patch(".*", serve);
  svr.Delete(".*", serve);
  // httplib's default options set SO_REUSEPORT, with which a second espat could bind the same
  // port and take a share of its requests. SO_REUSEADDR alone still lets a restarted espat take
  // a port left in TIME_WAIT, and refuses one that another socket listens on, as --tcp does.
  svr.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  errno = 0;
  const int bound = port == 0 ? svr.bind_to_any_port("127.0.0.1") : (svr.bind_to_port("127.0.0.1", port) ? port : -1);
  if (bound <= 0) {
    // errno is still bind()'s: httplib only closes the socket after it.
    const std::string why = errno ? std::string(": ") + std::strerror(errno) : "";
    throw std::runtime_error("control API: cannot listen on 127.0.0.1:" + std::to_string(port) + why);
  }
  impl_->thread = std::thread([impl = impl_.get()] { impl->server.listen_after_bind(); });
  // stop() only ends a server that runs: wait until it does.
  for (auto deadline = std::chrono::steady_clock::now() + 5s; !svr.is_running();) {
    if (std::chrono::steady_clock::now() > deadline) {
      stop();
      throw std::runtime_error("control API: the HTTP server did not start");
    }
    std::this_thread::sleep_for(1ms);
  }
  return std::uint16_t(bound);
}

void ControlApi::stop() {
  impl_->stopping = true;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace espat::sim
