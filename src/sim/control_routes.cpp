#include "sim/control_routes.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "sim/world_file.hpp"
#include "sim/world_json.hpp"
#include "sim/world_table.hpp"

namespace espat::sim {

namespace {
using nlohmann::json;

// An answer other than 200, thrown from inside an endpoint.
struct ApiError {
  int status;
  std::string message;
};

[[noreturn]] void fail(int status, std::string message) { throw ApiError{status, std::move(message)}; }

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(char(hex(s[i + 1]) << 4 | hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// "/aps/a%2Fb/kick?x=1" → {"aps", "a/b", "kick"}: split first, then decode, so that an escaped
// "/" stays inside its segment.
std::vector<std::string> segments(std::string_view target) {
  target = target.substr(0, target.find('?'));
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < target.size()) {
    std::size_t j = target.find('/', i);
    if (j == std::string_view::npos) j = target.size();
    if (j > i) out.push_back(percent_decode(target.substr(i, j - i)));
    i = j + 1;
  }
  return out;
}

json parse_body(std::string_view body) {
  if (body.empty()) return json::object();
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) fail(400, "the body is not valid JSON");
  if (!j.is_object()) fail(400, "the body must be a JSON object");
  return j;
}

Mac mac_of(const json& body) {
  if (!body.contains("mac") || !body["mac"].is_string()) fail(400, "\"mac\" (a string like \"aa:bb:cc:dd:ee:ff\") is needed");
  auto m = Mac::parse(body["mac"].get<std::string>());
  if (!m || !m->assignable()) fail(400, fmt::format("\"mac\" = \"{}\" is not a unicast MAC address", body["mac"].get<std::string>()));
  return *m;
}

Mac mac_of_segment(const std::string& s) {
  auto m = Mac::parse(s);
  if (!m) fail(400, fmt::format("\"{}\" is not a MAC address", s));
  return *m;
}

const char* join_error_text(JoinError e) {
  switch (e) {
    case JoinError::Timeout: return "the AP does not answer (timeout)";
    case JoinError::WrongPassword: return "wrong password";
    case JoinError::NotFound: return "the AP is down";
    default: return "the AP refused the station (fault, full, or no address left)";
  }
}
}  // namespace

// ---- JSON of what the world holds ------------------------------------------------------------

json ControlRoutes::ap_json(const Ap& ap) const {
  json j = to_json(ap);
  if (ap.owner) {
    j["softap"] = true;
    auto m = std::find_if(modules_.begin(), modules_.end(), [&](const ModuleView& v) { return v.softap == ap.owner; });
    j["module"] = m == modules_.end() ? json() : json(m->index);
  }
  return j;
}

json ControlRoutes::association_json(const Association& a) const {
  json j = {{"ap", a.ap_id},
            {"mac", a.mac.str()},
            {"ip", a.lease.ip.str()},
            {"gateway", a.lease.gateway.str()},
            {"netmask", a.lease.netmask.str()},
            {"lease_minutes", a.lease.minutes},
            {"module", nullptr}};
  if (a.station) {
    auto m = std::find_if(modules_.begin(), modules_.end(), [&](const ModuleView& v) { return v.station == a.station; });
    if (m != modules_.end()) j["module"] = m->index;
  }
  return j;
}

json ControlRoutes::world_json() const {
  json j = {{"scan_ms", world_.scan_time.count()},
            {"ble_pacing", world_.ble_pacing},
            {"aps", json::array()},
            {"phones", json::array()},
            {"ble_peers", json::array()},
            {"dns", json::object()},
            {"mdns", json::array()},
            {"associations", json::array()}};
  for (const auto& ap : world_.aps()) j["aps"].push_back(ap_json(ap));
  for (const auto& p : world_.phones()) j["phones"].push_back(to_json(p));
  j["ble_peers"] = ble_peers_json();
  for (const auto& [name, ip] : world_.dns()) j["dns"][name] = ip.str();
  for (const auto& [owner, e] : world_.mdns()) j["mdns"].push_back(to_json(e));
  for (const auto& a : world_.associations()) j["associations"].push_back(association_json(a));
  j["ota"] = ota_json();
  return j;
}

json ControlRoutes::ota_json() const {
  return {{"url", world_.ota.url}, {"ssl_url", world_.ota.ssl_url}, {"timeout_s", world_.ota.timeout.count()}};
}

// PUT /ota: the keys of the world file's [ota] table; those absent keep their value, "" clears
// a URL. Checked whole before anything changes.
ApiReply ControlRoutes::put_ota(const json& body) {
  OtaServer next = world_.ota;
  for (const auto& [key, v] : body.items()) {
    if (key == "url" || key == "ssl_url") {
      if (!v.is_string()) fail(400, fmt::format("\"{}\" must be a string", key));
      const auto u = v.get<std::string>();
      auto parsed = HttpUrl::parse(u);
      if (!u.empty() && !parsed) fail(400, fmt::format("\"{}\" = \"{}\" is not an http:// or https:// URL", key, u));
      if (key == "ssl_url" && parsed && !parsed->https) fail(400, "\"ssl_url\" must be an https:// URL");
      (key == "url" ? next.url : next.ssl_url) = u;
    } else if (key == "timeout_s") {
      if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 3600)
        fail(400, "\"timeout_s\" is an integer from 1 to 3600");
      next.timeout = std::chrono::seconds(v.get<long long>());
    } else {
      fail(400, fmt::format("unknown key \"{}\"", key));
    }
  }
  world_.ota = next;
  return {200, ota_json()};
}

Ap& ControlRoutes::ap_or_404(const std::string& id) {
  Ap* ap = world_.find_ap(id);
  if (!ap) fail(404, fmt::format("no AP with the id \"{}\"", id));
  return *ap;
}

Ap& ControlRoutes::own_ap_or_409(const std::string& id) {
  Ap& ap = ap_or_404(id);
  if (ap.owner) fail(409, fmt::format("\"{}\" is a module's softAP: change it with AT+CWSAP, AT+CWMODE", id));
  return ap;
}

// The first AP index whose default BSSID and subnet nobody uses, for an AP posted without them.
int ControlRoutes::free_default_index() const {
  for (int i = int(world_.aps().size());; ++i) {
    const Mac b = default_bssid(i);
    const Subnet s = default_subnet(i);
    const bool used = std::any_of(world_.aps().begin(), world_.aps().end(), [&](const Ap& a) {
      return a.bssid == b || a.net.subnet.base == s.base;
    });
    if (!used) return i;
  }
}

// ---- endpoints -------------------------------------------------------------------------------

ApiReply ControlRoutes::post_ap(const json& body) {
  Ap ap = ap_from_json(body, free_default_index());
  if (ap.id.empty()) fail(400, "\"id\" must not be empty");
  if (world_.find_ap(ap.id)) fail(409, fmt::format("an AP with the id \"{}\" exists", ap.id));
  if (world_.find_ap_by_bssid(ap.bssid)) fail(409, fmt::format("an AP with the BSSID {} exists", ap.bssid.str()));
  world_.add_ap(ap);
  return {201, ap_json(*world_.find_ap(ap.id))};
}

ApiReply ControlRoutes::patch_ap(const std::string& id, const json& body) {
  Ap next = patched_ap(own_ap_or_409(id), body);
  if (const Ap* other = world_.find_ap_by_bssid(next.bssid); other && other->id != id)
    fail(409, fmt::format("an AP with the BSSID {} exists", next.bssid.str()));
  // Stations drop as a real AP restarting with new settings drops them (World::update_ap).
  world_.update_ap(next);
  return {200, ap_json(*world_.find_ap(id))};
}

ApiReply ControlRoutes::add_station(const std::string& id, const json& body) {
  ap_or_404(id);
  const Mac mac = mac_of(body);
  std::string password;
  if (body.contains("password")) {
    if (!body["password"].is_string()) fail(400, "\"password\" must be a string");
    password = body["password"].get<std::string>();
  }
  for (const auto& a : world_.associations())
    if (a.mac == mac && a.station) fail(409, fmt::format("{} is a module's station", mac.str()));
  JoinError error = JoinError::None;
  auto lease = world_.join_foreign(id, mac, password, error);
  if (!lease) {
    json j = {{"error", join_error_text(error)}, {"code", int(error)}};
    return {409, j};
  }
  return {201, {{"ap", id}, {"mac", mac.str()}, {"ip", lease->ip.str()}, {"gateway", lease->gateway.str()},
                {"netmask", lease->netmask.str()}, {"lease_minutes", lease->minutes}, {"module", nullptr}}};
}

ApiReply ControlRoutes::modules(const std::string* index) const {
  auto entry = [this](const ModuleView& m) {
    json j = m.state ? m.state() : json::object();
    j["index"] = m.index;
    j["faults"] = to_json(world_.module_faults(m.index));
    return j;
  };
  if (!index) {
    json all = json::array();
    for (const auto& m : modules_) all.push_back(entry(m));
    return {200, all};
  }
  return {200, entry(module_or_404(*index))};
}

const ModuleView& ControlRoutes::module_or_404(const std::string& index) const {
  for (const auto& m : modules_)
    if (std::to_string(m.index) == index) return m;
  fail(404, fmt::format("no module {}", index));
}

// The module restarts at once; its "ready" comes on its AT port after the boot time.
ApiReply ControlRoutes::restart_module(const std::string& index, bool power_cycle) {
  const ModuleView& m = module_or_404(index);
  const auto& act = power_cycle ? m.power_cycle : m.reset;
  if (!act) fail(409, fmt::format("module {} cannot be restarted from here", index));
  act();
  return {200, {{power_cycle ? "power_cycled" : "reset", m.index}}};
}

ApiReply ControlRoutes::handle(std::string_view method, std::string_view target, std::string_view body_text) {
  try {
    const auto seg = segments(target);
    const std::size_t n = seg.size();
    auto is = [&](std::string_view m) { return method == m; };
    bool known = true;  // the path exists: a wrong method is 405, not 404

    if (n == 1 && seg[0] == "world") {
      if (is("GET")) return {200, world_json()};
    } else if (n == 1 && seg[0] == "aps") {
      if (is("GET")) {
        json all = json::array();
        for (const auto& ap : world_.aps()) all.push_back(ap_json(ap));
        return {200, all};
      }
      if (is("POST")) return post_ap(parse_body(body_text));
    } else if (n == 2 && seg[0] == "aps") {
      if (is("GET")) return {200, ap_json(ap_or_404(seg[1]))};
      if (is("PATCH")) return patch_ap(seg[1], parse_body(body_text));
      if (is("DELETE")) {
        own_ap_or_409(seg[1]);
        world_.remove_ap(seg[1]);
        return {204, nullptr};
      }
    } else if (n == 3 && seg[0] == "aps" && seg[2] == "kick") {
      if (is("POST")) {
        ap_or_404(seg[1]);
        const Mac mac = mac_of(parse_body(body_text));
        if (!world_.kick(seg[1], mac)) fail(404, fmt::format("{} is not associated with \"{}\"", mac.str(), seg[1]));
        return {200, {{"kicked", mac.str()}}};
      }
    } else if (n == 3 && seg[0] == "aps" && seg[2] == "wps") {
      if (is("POST")) {
        const Ap& ap = ap_or_404(seg[1]);
        if (!ap.up) fail(409, fmt::format("\"{}\" is down", seg[1]));
        if (!ap.wps) fail(409, fmt::format("\"{}\" has no WPS", seg[1]));
        return {200, {{"enrolled", world_.push_wps(seg[1])}}};
      }
    } else if (n == 3 && seg[0] == "aps" && seg[2] == "stations") {
      if (is("GET")) {
        ap_or_404(seg[1]);
        json all = json::array();
        for (const auto& a : world_.associations())
          if (a.ap_id == seg[1]) all.push_back(association_json(a));
        return {200, all};
      }
      if (is("POST")) return add_station(seg[1], parse_body(body_text));
    } else if (n == 4 && seg[0] == "aps" && seg[2] == "stations") {
      if (is("DELETE")) {
        ap_or_404(seg[1]);
        const Mac mac = mac_of_segment(seg[3]);
        if (!world_.kick(seg[1], mac)) fail(404, fmt::format("{} is not associated with \"{}\"", mac.str(), seg[1]));
        return {204, nullptr};
      }
    } else if (n == 1 && seg[0] == "phones") {
      if (is("GET")) {
        json all = json::array();
        for (const auto& p : world_.phones()) all.push_back(to_json(p));
        return {200, all};
      }
      if (is("POST")) {
        SmartPhone p = phone_from_json(parse_body(body_text), int(world_.phones().size()));
        const bool taken = std::any_of(world_.phones().begin(), world_.phones().end(),
                                       [&](const SmartPhone& q) { return q.id == p.id; });
        if (taken) fail(409, fmt::format("a phone with the id \"{}\" exists", p.id));
        world_.phones().push_back(p);
        return {201, to_json(p)};
      }
    } else if (n >= 2 && n <= 4 && seg[0] == "ble" && seg[1] == "peers") {
      return ble_route(method, seg, parse_body(body_text));
    } else if (n == 2 && seg[0] == "smartconfig") {
      if (is("POST")) {
        int listeners = world_.trigger_smartconfig(seg[1]);
        if (listeners < 0) fail(404, fmt::format("no phone with the id \"{}\"", seg[1]));
        return {200, {{"listeners", listeners}}};
      }
    } else if (n == 1 && seg[0] == "ota") {
      if (is("GET")) return {200, ota_json()};
      if (is("PUT")) return put_ota(parse_body(body_text));
    } else if (n == 1 && seg[0] == "modules") {
      if (is("GET")) return modules(nullptr);
    } else if (n == 2 && seg[0] == "modules") {
      if (is("GET")) return modules(&seg[1]);
    } else if (n == 3 && seg[0] == "modules" && (seg[2] == "reset" || seg[2] == "power-cycle")) {
      if (is("POST")) return restart_module(seg[1], seg[2] == "power-cycle");
    } else if (n == 3 && seg[0] == "modules" && seg[2] == "faults") {
      if (is("GET")) return module_faults(seg[1], nullptr);
      if (is("PATCH")) {
        const json patch = parse_body(body_text);
        return module_faults(seg[1], &patch);
      }
    } else if (n == 3 && seg[0] == "modules" && seg[2] == "links") {
      if (is("GET")) return module_links(seg[1]);
    } else if (n == 5 && seg[0] == "modules" && seg[2] == "links" &&
               (seg[4] == "reset" || seg[4] == "stall" || seg[4] == "resume")) {
      if (is("POST")) return link_action(seg[1], seg[3], seg[4]);
    } else {
      known = false;
    }
    if (known) return {405, {{"error", fmt::format("{} is not allowed here", method)}}};
    return {404, {{"error", "no such endpoint (see README \"Control API\")"}}};
  } catch (const ApiError& e) {
    return {e.status, {{"error", e.message}}};
  } catch (const WorldError& e) {
    return {400, {{"error", e.what()}}};
  }
}

}  // namespace espat::sim
