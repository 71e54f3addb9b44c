// What the tests that need TLS peers share: a child process (openssl s_server / s_client) with
// its stdin on a socket and its output in a log, and a test PKI made with the openssl CLI.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace espat::test {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A child process with stdin on a socket (a write to a dead child is an error, not SIGPIPE) and
// stdout and stderr in a log file. SIGKILLed when the object or the test process dies.
class Child {
 public:
  Child(const std::vector<std::string>& argv, std::filesystem::path log) : log_(std::move(log)) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw std::runtime_error("socketpair");
    int out = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0) throw std::runtime_error("cannot open " + log_.string());
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(sv[1], 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    ::close(sv[1]);
    ::close(out);
    in_ = sv[0];
    if (pid_ < 0) throw std::runtime_error("fork");
  }
  ~Child() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    ::close(in_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  void send(std::string_view s) { (void)::send(in_, s.data(), s.size(), MSG_NOSIGNAL); }
  std::string output() const { return slurp(log_); }
  // Waits (blocking, bounded) until the log holds `needle`.
  bool wait_output(std::string_view needle, std::chrono::milliseconds timeout = 10s) const {
    for (auto end = Clock::now() + timeout; Clock::now() < end; ::usleep(10'000))
      if (output().find(needle) != std::string::npos) return true;
    return false;
  }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
  int in_ = -1;
};


// In `dir`: a test CA (ca.pem/.key) and an unrelated one (other-ca); server (CN and DNS
// espat-test-server), sni (espat-sni) and client certificates from the CA; stranger, a client
// certificate from the other CA; self, a self-signed server; DER copies ca.der, client.der,
// client.key.der. False (with the log) when the openssl CLI fails.
inline bool make_test_pki(const std::filesystem::path& dir, std::string& log) {
  const std::string script = R"(set -e
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $1.key; }
ca() { key $1; openssl req -x509 -new -key $1.key -out $1.pem -days 2 -subj /CN=$2 \
         -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign; }
leaf() { key $1; openssl req -new -key $1.key -out $1.csr -subj /CN=$2
         printf "$4" > $1.ext
         openssl x509 -req -in $1.csr -CA $3.pem -CAkey $3.key -CAcreateserial -days 2 -out $1.pem -extfile $1.ext; }
ca ca espat-test-ca
ca other-ca espat-other-ca
leaf server espat-test-server ca 'subjectAltName=DNS:espat-test-server\nextendedKeyUsage=serverAuth\n'
leaf sni espat-sni ca 'subjectAltName=DNS:espat-sni\nextendedKeyUsage=serverAuth\n'
leaf client espat-test-client ca 'extendedKeyUsage=clientAuth\n'
leaf stranger espat-stranger other-ca 'extendedKeyUsage=clientAuth\n'
key self
openssl req -x509 -new -key self.key -out self.pem -days 2 -subj /CN=espat-test-server
openssl x509 -in ca.pem -outform DER -out ca.der
openssl x509 -in client.pem -outform DER -out client.der
openssl pkcs8 -topk8 -nocrypt -in client.key -outform DER -out client.key.der
)";
  std::ofstream(dir / "make-certs.sh") << script;
  std::string cmd = "cd " + dir.string() + " && sh make-certs.sh > make-certs.log 2>&1";
  const bool ok = std::system(cmd.c_str()) == 0;
  log = slurp(dir / "make-certs.log");
  return ok;
}

}  // namespace espat::test
