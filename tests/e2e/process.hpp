// What the end-to-end tests share about running the module: configuration from the environment
// and starting the binary as a child that dies with the test.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace espat::e2e {

// The environment variable, or fallback when it is unset or empty.
std::string env_or(const char* name, const std::string& fallback);
// ESPAT_BINARY overrides the compiled-in path of the espat binary.
std::string espat_binary();
// ESPAT_E2E_TIMEOUT_SCALE stretches every timeout (ASan, valgrind, a loaded machine).
double timeout_scale();
template <class D>
D scaled(D d) {
  return D(static_cast<typename D::rep>(double(d.count()) * timeout_scale()));
}

// Forks and execs argv (argv[0] a path) with stdin from /dev/null, stdout and stderr appended to
// the given files, default signal dispositions, and SIGKILL when the test process dies.
// Throws std::runtime_error when a file cannot be opened or fork fails.
// The whole file ("" when it cannot be read): the module's stderr, logs, transcripts.
std::string read_file(const std::string& path);

pid_t spawn_module(std::vector<std::string> argv, const std::string& stdout_path, const std::string& stderr_path);

}  // namespace espat::e2e
