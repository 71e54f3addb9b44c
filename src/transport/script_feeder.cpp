#include "transport/script_feeder.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace espat::transport {
namespace {

bool is_final_result(std::string_view line) {
  constexpr std::array<std::string_view, 5> kFinal = {"OK", "ERROR", "FAIL", "SEND OK", "SEND FAIL"};
  return std::find(kFinal.begin(), kFinal.end(), line) != kFinal.end();
}

// AT+CIUPDATE restarts after its OK when it is blocking and upgrades the application (spec
// 3.3.24): <firmware name> empty or "ota...", <nonblocking> not 1.
bool ciupdate_restarts(std::string_view params) {
  std::vector<std::string> p(1);
  bool quoted = false;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const char c = params[i];
    if (quoted && c == '\\' && i + 1 < params.size()) p.back() += params[++i];
    else if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) p.emplace_back();
    else p.back() += c;
  }
  const bool app = p.size() < 3 || p[2].empty() || p[2].starts_with("ota");
  return app && !(p.size() >= 4 && p[3] == "1");
}

// The commands whose OK is followed by a restart: the module is deaf until its "ready".
bool restarts_module(std::string_view line) {
  const std::size_t end = line.find_first_of("=?");
  const std::string_view name = line.substr(0, end);
  if (name == "AT+CIUPDATE")
    return end == std::string_view::npos || (line[end] == '=' && ciupdate_restarts(line.substr(end + 1)));
  return name == "AT+RST" || name == "AT+RESTORE" || name == "AT+GSLP" || name == "AT+SYSROLLBACK";
}

}  // namespace

void ScriptFeeder::add_input(std::string_view bytes) { script_.append(bytes); }

void ScriptFeeder::end_input() { ended_ = true; }

void ScriptFeeder::output(std::string_view bytes) {
  for (char c : bytes) {
    if (c != '\n') {
      out_line_ += c;
      continue;
    }
    if (!out_line_.empty() && out_line_.back() == '\r') out_line_.pop_back();
    on_line(out_line_);
    out_line_.clear();
  }
}

void ScriptFeeder::on_line(std::string_view line) {
  const bool echo = first_line_ && line == sent_;
  first_line_ = false;
  if (echo) return;
  if (line == "ready") ready_ = true;
  else if (waiting_ == Waiting::Result && result_.empty() && is_final_result(line)) result_ = line;
}

bool ScriptFeeder::has_line() const {
  // Blank lines are not sent (the module would answer ERROR to each).
  std::size_t start = 0;
  for (;;) {
    const std::size_t lf = script_.find('\n', start);
    const std::size_t end = lf == std::string::npos ? script_.size() : lf;
    std::string_view line(script_.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) return lf != std::string::npos || ended_;
    if (lf == std::string::npos) return false;
    start = lf + 1;
  }
}

std::optional<std::string> ScriptFeeder::take_line() {
  while (has_line()) {
    const std::size_t lf = script_.find('\n');
    std::string line = script_.substr(0, lf);
    script_.erase(0, lf == std::string::npos ? script_.size() : lf + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) return line;
  }
  return std::nullopt;
}

std::optional<std::string> ScriptFeeder::next() {
  if (waiting_ == Waiting::Ready) {
    if (!ready_) return std::nullopt;
    waiting_ = Waiting::Nothing;
  }
  if (waiting_ == Waiting::Result) {
    if (result_.empty()) {
      if (!ready_) return std::nullopt;
      waiting_ = Waiting::Nothing;  // restarted meanwhile (the control API, a watchdog): no answer comes
    } else if (result_ == "OK" && out_line_ == ">") {
      // Data input: the next line is the data, as it stands.
      auto data = take_line();
      if (!data) return std::nullopt;
      out_line_.clear();
      result_.clear();
      return data;
    } else if (restarts_ && result_ == "OK" && !ready_) {
      waiting_ = Waiting::Ready;
      return std::nullopt;
    } else {
      waiting_ = Waiting::Nothing;
    }
  }
  auto line = take_line();
  if (!line) return std::nullopt;
  waiting_ = Waiting::Result;
  sent_ = *line;
  first_line_ = true;
  restarts_ = restarts_module(*line);
  result_.clear();
  ready_ = false;
  return *line + "\r\n";
}

}  // namespace espat::transport
