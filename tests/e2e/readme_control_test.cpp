// The README's control API examples run as written (README "Control API"): every ```sh block
// after a `<!-- control-api-example -->` marker, in order, through bash and the real curl, against
// a real `espat run --control`; every request must answer 2xx. A marker `after AT...` names the
// AT command typed on module 0's AT port before its block.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "at_port.hpp"
#include "process.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using espat::e2e::AtPort;
using espat::e2e::EspatRun;
using espat::e2e::Failure;
using espat::e2e::read_file;

struct Example {
  std::string after;  // an AT command line, or empty
  std::string code;   // the block's lines
};

std::vector<Example> readme_examples() {
  const std::string readme = read_file(ESPAT_SOURCE_DIR "/README.md");
  const std::regex block(R"(<!-- control-api-example(?: after (.*?))? -->\n```sh\n([\s\S]*?)```)");
  std::vector<Example> out;
  for (auto it = std::sregex_iterator(readme.begin(), readme.end(), block); it != std::sregex_iterator(); ++it)
    out.push_back({(*it)[1].str(), (*it)[2].str()});
  return out;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = 0; (p = text.find(what, p)) != std::string::npos; p += what.size()) ++n;
  return n;
}

// curl as the examples call it, and a line per request on stderr: ">> <status> curl <args>".
// A status other than 2xx, or no answer, ends the script (set -e).
const char* kPrelude = R"(set -eo pipefail
BODY=$(mktemp)
trap 'rm -f "$BODY"' EXIT
curl() {
  local code
  code=$(command curl -sS -o "$BODY" -w '%{http_code}' "$@") || { echo "!! no answer: curl $*" >&2; return 1; }
  echo ">> $code curl $*" >&2
  cat "$BODY"
  case $code in 2??) ;; *) echo "!! HTTP $code: curl $*" >&2; cat "$BODY" >&2; return 1 ;; esac
}
)";

class ReadmeControlApi : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v bash curl jq >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "needs bash, curl and jq (scripts/install-deps.sh installs them)";
    std::string tmpl = (fs::temp_directory_path() / "espat-readme-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    at_.reset();
    if (espat_) {
      if (HasFailure()) std::cout << "stderr of espat:\n" << espat_->stderr_text();
      espat_.reset();
    }
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  // Runs one block through bash; returns its stderr (the request lines). Fails on exit != 0.
  std::string run_block(const std::string& script, int n) {
    const fs::path file = dir_ / ("example-" + std::to_string(n) + ".sh");
    std::ofstream(file) << script;
    const fs::path out = dir_ / ("example-" + std::to_string(n) + ".log");  // stderr; replies go to /dev/null
    const pid_t pid = espat::e2e::spawn_module({"/bin/bash", file.string()}, "/dev/null", out.string());
    int st = 0;
    const auto deadline = std::chrono::steady_clock::now() + espat::e2e::scaled(30s);
    while (::waitpid(pid, &st, WNOHANG) != pid) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &st, 0);
        throw Failure("block " + std::to_string(n) + " did not end within 30 s:\n" + read_file(out.string()));
      }
      std::this_thread::sleep_for(10ms);
    }
    const std::string log = read_file(out.string());
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
      throw Failure("block " + std::to_string(n) + " failed (wait status " + std::to_string(st) + "):\n" + log +
                    "\n--- script ---\n" + script);
    return log;
  }

  fs::path dir_;
  std::optional<EspatRun> espat_;
  std::optional<AtPort> at_;
};

TEST_F(ReadmeControlApi, ExamplesRunInOrder) {
  try {
    const auto examples = readme_examples();
    ASSERT_GE(examples.size(), 1u) << "no <!-- control-api-example --> block in README.md";
    ASSERT_TRUE(examples[0].after.empty());

    espat_.emplace(std::vector<std::string>{"--pty", (dir_ / "at").string(), "--flash", (dir_ / "flash.bin").string(),
                                            "--boot-ms", "20", "--control", "0"},
                   dir_ / "stderr.log");
    const std::string api = "127.0.0.1:" + std::to_string(espat_->control_port());
    at_.emplace(dir_ / "at");
    at_->expect("\r\nready\r\n");

    std::string api_line;  // the first block's API=..., for the blocks after it
    for (std::size_t i = 0; i < examples.size(); ++i) {
      std::string code = examples[i].code;
      for (std::size_t p; (p = code.find("127.0.0.1:8080")) != std::string::npos;) code.replace(p, 14, api);
      if (i == 0) {
        const auto p = code.find("API=");
        ASSERT_NE(p, std::string::npos) << "the first block sets API";
        api_line = code.substr(p, code.find('\n', p) - p) + "\n";
      }
      if (!examples[i].after.empty()) {
        at_->drain(300ms);  // past the "ready" of a reset in the block before
        at_->send(examples[i].after + "\r\n");
        at_->match(R"([\s\S]*?\r\nOK\r\n)", 10s);
      }
      const std::string log = run_block(kPrelude + (i == 0 ? "" : api_line) + code, int(i));
      std::size_t ok = 0;
      for (std::size_t p = 0; (p = log.find(">> 2", p)) != std::string::npos; p += 4) ++ok;
      EXPECT_EQ(ok, count(examples[i].code, "curl -")) << "block " << i << ":\n" << log;
    }
    at_->drain(100ms);
    at_.reset();
    EXPECT_TRUE(espat_->stop());
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

}  // namespace
