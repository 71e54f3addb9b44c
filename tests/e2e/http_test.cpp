// HTTP client commands end to end (spec 3.7, the examples of 4.8): a real HTTP server on
// loopback (cpp-httplib, in this process) that records each request, and the exact bytes each
// command prints on the AT port: "+HTTPCLIENT:<len>,<data>" lines, redirects followed, the
// 0x010a7xxx error codes of 3.7.9 with AT+SYSLOG=1, data input for HTTPCPOST/HTTPCPUT,
// HTTPURLCFG and HTTPCHEAD.
#include <atomic>
#include <fstream>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "../test_pki.hpp"
#include "module_fixture.hpp"

namespace {
using namespace std::chrono_literals;
using espat::e2e::AtPort;

struct Seen {
  std::string method, path, body, remote, content_type, user_agent, content_length;
  std::map<std::string, std::string> headers;
};

std::string large_body() {
  std::string s;
  for (int i = 0; s.size() < 100 * 1024; ++i) s += "line " + std::to_string(i) + " of the large body\n";
  s.resize(100 * 1024);
  return s;
}

struct HttpServer {
  httplib::Server http;
  std::thread thread;
  int port = 0;
  std::mutex m;
  std::vector<Seen> seen;

  HttpServer() {
    // Recorded before the response is written (the logger runs after it, so a test that has
    // its answer could look before the request was recorded).
    http.set_post_routing_handler([this](const httplib::Request& req, httplib::Response&) {
      Seen s{req.method, req.path, req.body, req.remote_addr, req.get_header_value("Content-Type"),
             req.get_header_value("User-Agent"), req.get_header_value("Content-Length"), {}};
      for (const auto& [k, v] : req.headers) s.headers[k] = v;
      std::lock_guard lk(m);
      seen.push_back(std::move(s));
    });
    http.Get("/small", [](const httplib::Request&, httplib::Response& res) { res.set_content("hello espat", "text/plain"); });
    http.Get("/chunked", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain", [](std::size_t, httplib::DataSink& sink) {
        sink.write("first-", 6);
        sink.write("second", 6);
        sink.done();
        return true;
      });
    });
    http.Get("/large", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(large_body(), "application/octet-stream");
    });
    http.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(500ms);
      res.set_content("late", "text/plain");
    });
    http.Get("/redirect", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/small"); });
    http.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content("not found", "text/plain");
    });
    http.Get("/error", [](const httplib::Request&, httplib::Response& res) {
      res.status = 500;
      res.set_content("boom", "text/plain");
    });
    auto echo = [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.method + " " + req.get_header_value("Content-Type") + " " + req.body, "text/plain");
    };
    http.Post("/echo", echo);
    http.Put("/echo", echo);
    http.Delete("/echo", echo);
    http.Get("/header", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content("X-Test=" + req.get_header_value("X-Test"), "text/plain");
    });
    port = http.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { http.listen_after_bind(); });
  }
  ~HttpServer() {
    http.stop();
    thread.join();
  }
  std::vector<Seen> requests() {
    std::lock_guard lk(m);
    return seen;
  }
  Seen last() {
    std::lock_guard lk(m);
    return seen.empty() ? Seen{} : seen.back();
  }
};

class Http : public espat::e2e::ModuleTest {
 protected:
  Http() : ModuleTest("espat-http") {}
  void SetUp() override { start_module(); }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(server_.port) + path; }
  // Everything up to and including the final "\r\nOK\r\n" (no regex: std::regex recurses per
  // byte and would overflow the stack on 100 KB).
  std::string until_ok(std::chrono::milliseconds t = 5000ms) {
    std::string out;
    const auto end = std::chrono::steady_clock::now() + t;
    while (out.size() < 6 || out.compare(out.size() - 6, 6, "\r\nOK\r\n") != 0) {
      if (std::chrono::steady_clock::now() > end) throw espat::e2e::Failure("no OK after: " + out.substr(0, 2000));
      out += at_->drain(50ms);
    }
    return out;
  }

  HttpServer server_;
};

// Reassembles "+<name>:<len>,<data>\r\n" lines, checking each length and the line size limit.
std::string body_of(const std::string& out, const std::string& name, std::size_t max_line, std::size_t* lines = nullptr) {
  std::string body;
  std::size_t i = 0, n = 0;
  const std::string head = "+" + name + ":";
  while (out.compare(i, head.size(), head) == 0) {
    i += head.size();
    const auto comma = out.find(',', i);
    const std::size_t len = std::stoul(out.substr(i, comma - i));
    EXPECT_LE(len, max_line);
    EXPECT_GT(len, 0u);
    body += out.substr(comma + 1, len);
    i = comma + 1 + len;
    EXPECT_EQ(out.substr(i, 2), "\r\n");
    i += 2;
    ++n;
  }
  EXPECT_EQ(out.substr(i), "\r\nOK\r\n");
  if (lines) *lines = n;
  return body;
}

TEST_F(Http, NoAddressIsAConnectFailure) {
  at_->send("AT+HTTPCLIENT=2,0,\"" + url("/small") + "\",,,1\r\n");
  at_->expect("ERR CODE:0x010a7000\r\n\r\nERROR\r\n");
  at_->send("AT+HTTPCGET=\"" + url("/small") + "\"\r\n");
  at_->expect("ERR CODE:0x010a7000\r\n\r\nERROR\r\n");
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(Http, GetSmallChunkedRedirectAndErrors) {
  join();
  at_->send("AT+HTTPCLIENT=2,0,\"" + url("/small") + "\",,,1\r\n");
  at_->expect("+HTTPCLIENT:11,hello espat\r\n\r\nOK\r\n");
  Seen s = server_.last();
  EXPECT_EQ(s.method, "GET");
  EXPECT_EQ(s.remote, "127.10.1.100");  // from the module's own address
  EXPECT_EQ(s.user_agent, "ESP32 HTTP Client/1.0");
  EXPECT_EQ(s.content_type, "application/x-www-form-urlencoded");

  // <host> and <path> when the URL is empty.
  at_->send("AT+HTTPCLIENT=2,1,\"\",\"127.0.0.1:" + std::to_string(server_.port) + "\",\"/small\",1\r\n");
  at_->expect("+HTTPCLIENT:11,hello espat\r\n\r\nOK\r\n");
  EXPECT_EQ(server_.last().content_type, "application/json");

  // Chunked transfer coding: one line per run of body bytes, never the framing.
  at_->send("AT+HTTPCLIENT=2,0,\"" + url("/chunked") + "\",,,1\r\n");
  const std::string chunked = until_ok();
  EXPECT_EQ(body_of(chunked, "HTTPCLIENT", 512), "first-second") << chunked;

  // A redirect is followed; only the final response prints.
  at_->send("AT+HTTPCLIENT=2,0,\"" + url("/redirect") + "\",,,1\r\n");
  at_->expect("+HTTPCLIENT:11,hello espat\r\n\r\nOK\r\n");
  EXPECT_EQ(server_.last().path, "/small");

  // 3.7.9: 0x7000 + the status; the body the server sent still prints.
  at_->send("AT+HTTPCLIENT=2,0,\"" + url("/missing") + "\",,,1\r\n");
  at_->expect("+HTTPCLIENT:9,not found\r\nERR CODE:0x010a7194\r\n\r\nERROR\r\n");
  at_->send("AT+HTTPCLIENT=2,0,\"" + url("/error") + "\",,,1\r\n");
  at_->expect("+HTTPCLIENT:4,boom\r\nERR CODE:0x010a71f4\r\n\r\nERROR\r\n");
  // Nothing listens: the connection fails.
  at_->send("AT+HTTPCLIENT=2,0,\"http://127.0.0.1:1/x\",,,1\r\n");
  at_->expect("ERR CODE:0x010a7000\r\n\r\nERROR\r\n");
}

TEST_F(Http, LargeBodyInReadSizedLinesAndBusy) {
  join();
  // While a request runs, the port answers busy.
  at_->send("AT+HTTPCLIENT=2,0,\"" + url("/slow") + "\",,,1\r\n");
  std::this_thread::sleep_for(100ms);
  at_->send("AT\r\n");
  at_->expect("ERR CODE:0x010b0000\r\n\r\nbusy p...\r\n");
  at_->expect("+HTTPCLIENT:4,late\r\n\r\nOK\r\n", 3000ms);

  at_->send("AT+HTTPCLIENT=2,0,\"" + url("/large") + "\",,,1\r\n");
  std::size_t lines = 0;
  const std::string out = until_ok(10000ms);
  EXPECT_EQ(body_of(out, "HTTPCLIENT", 512, &lines), large_body());
  EXPECT_GE(lines, 200u);

  // AT+HTTPCGET reads up to <rx size> (2048 by default) at a time.
  at_->send("AT+HTTPCGET=\"" + url("/large") + "\"\r\n");
  const std::string cget = until_ok(10000ms);
  EXPECT_EQ(body_of(cget, "HTTPCGET", 2048, &lines), large_body());
  EXPECT_GE(lines, 50u);
  at_->send("AT+HTTPCGET=\"" + url("/large") + "\",,8192,10000\r\n");
  EXPECT_EQ(body_of(until_ok(10000ms), "HTTPCGET", 8192), large_body());
  at_->send("AT+HTTPCGET=\"" + url("/missing") + "\"\r\n");
  at_->expect("+HTTPCGET:9,not found\r\nERR CODE:0x010a7194\r\n\r\nERROR\r\n");
}

TEST_F(Http, HeadAndGetSize) {
  join();
  // 4.8.1: each response header as a line of its own, no body.
  at_->send("AT+HTTPCLIENT=1,0,\"" + url("/small") + "\",,,1\r\n");
  const std::string out = until_ok();
  EXPECT_NE(out.find("+HTTPCLIENT:18,Content-Length: 11\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("+HTTPCLIENT:24,Content-Type: text/plain\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("hello"), std::string::npos);
  EXPECT_EQ(server_.last().method, "HEAD");
  EXPECT_TRUE(std::regex_match(out, std::regex("(\\+HTTPCLIENT:[0-9]+,[^\r]*\r\n)+\r\nOK\r\n"))) << out;

  at_->send("AT+HTTPGETSIZE=\"" + url("/large") + "\"\r\n");
  at_->expect("+HTTPGETSIZE:102400\r\n\r\nOK\r\n");
  at_->send("AT+HTTPGETSIZE=\"" + url("/redirect") + "\"\r\n");
  at_->expect("+HTTPGETSIZE:11\r\n\r\nOK\r\n");
  at_->send("AT+HTTPGETSIZE=\"" + url("/missing") + "\"\r\n");
  at_->expect("ERR CODE:0x010a7194\r\n\r\nERROR\r\n");
}

TEST_F(Http, PostPutDelete) {
  join();
  // 4.8.3: POST with <data>, application/json.
  at_->send("AT+HTTPCLIENT=3,1,\"" + url("/echo") + "\",,,1,\"{\\\"form\\\":{\\\"purpose\\\":\\\"test\\\"}}\"\r\n");
  at_->expect("+HTTPCLIENT:49,POST application/json {\"form\":{\"purpose\":\"test\"}}\r\n\r\nOK\r\n");
  EXPECT_EQ(server_.last().content_length, "27");
  // 4.8.5: PUT without data: Content-Length 0; an extra request header.
  at_->send("AT+HTTPCLIENT=4,0,\"" + url("/echo?user=foo") + "\",,,1,\"X-Test: put\"\r\n");
  at_->expect("+HTTPCLIENT:38,PUT application/x-www-form-urlencoded \r\n\r\nOK\r\n");
  EXPECT_EQ(server_.last().content_length, "0");
  EXPECT_EQ(server_.last().headers["X-Test"], "put");
  // 4.8.7
  at_->send("AT+HTTPCLIENT=5,0,\"" + url("/echo") + "\",,,1\r\n");
  at_->expect("+HTTPCLIENT:41,DELETE application/x-www-form-urlencoded \r\n\r\nOK\r\n");
  EXPECT_EQ(server_.last().method, "DELETE");

  // 4.8.4 / 4.8.6: HTTPCPOST and HTTPCPUT with data input and two headers.
  const std::string json = "{\"headers\":{\"Accept\":\"application/json\"}}";
  at_->send("AT+HTTPCPOST=\"" + url("/echo") + "\"," + std::to_string(json.size()) +
            ",2,\"connection: keep-alive\",\"content-type: application/json\"\r\n");
  at_->expect("\r\nOK\r\n\r\n>");
  at_->send(json);
  const std::string post_reply = "POST application/json " + json;
  at_->expect("+HTTPCPOST:" + std::to_string(post_reply.size()) + "," + post_reply + "\r\n\r\nSEND OK\r\n");
  EXPECT_EQ(server_.last().body, json);
  at_->send("AT+HTTPCPUT=\"" + url("/echo") + "\",5\r\n");
  at_->expect("\r\nOK\r\n\r\n>");
  at_->send("a=1&b");
  at_->expect("+HTTPCPUT:43,PUT application/x-www-form-urlencoded a=1&b\r\n\r\nSEND OK\r\n");
  // A failed request: SEND FAIL.
  at_->send("AT+HTTPCPOST=\"http://127.0.0.1:1/x\",3\r\n");
  at_->expect("\r\nOK\r\n\r\n>");
  at_->send("abc");
  at_->expect("\r\nSEND FAIL\r\n");
  // The header count must match the headers given.
  at_->send("AT+HTTPCPOST=\"" + url("/echo") + "\",3,2,\"a: b\"\r\n");
  at_->expect("ERR CODE:0x01070002\r\n\r\nERROR\r\n");
}

TEST_F(Http, UrlCfgAndHead) {
  join();
  at_->send("AT+HTTPURLCFG?\r\n");
  at_->expect("\r\nOK\r\n");
  const std::string u = url("/header");
  at_->send("AT+HTTPURLCFG=" + std::to_string(u.size()) + "\r\n");
  at_->expect("\r\nOK\r\n\r\n>");
  at_->send(u);
  at_->expect("\r\nSET OK\r\n");
  at_->send("AT+HTTPURLCFG?\r\n");
  at_->expect("+HTTPURLCFG:" + std::to_string(u.size()) + "," + u + "\r\n\r\nOK\r\n");

  // 3.7.8: a header for every command; it wins over the command's own.
  at_->send("AT+HTTPCHEAD=13\r\n");
  at_->expect("\r\nOK\r\n\r\n>");
  at_->send("X-Test: chead");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+HTTPCHEAD?\r\n");
  at_->expect("+HTTPCHEAD:0,\"X-Test: chead\"\r\n\r\nOK\r\n");
  at_->send("AT+HTTPCGET=\"\"\r\n");  // "" is the preset URL
  at_->expect("+HTTPCGET:12,X-Test=chead\r\n\r\nOK\r\n");
  at_->send("AT+HTTPCLIENT=2,0,\"\",,,1,\"X-Test: mine\"\r\n");
  at_->expect("+HTTPCLIENT:12,X-Test=chead\r\n\r\nOK\r\n");
  at_->send("AT+HTTPCHEAD=0\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+HTTPCHEAD?\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+HTTPCLIENT=2,0,\"\",,,1,\"X-Test: mine\"\r\n");
  at_->expect("+HTTPCLIENT:11,X-Test=mine\r\n\r\nOK\r\n");
  at_->send("AT+HTTPCHEAD=5\r\n");
  at_->expect("\r\nOK\r\n\r\n>");
  at_->send("nocol");
  at_->expect("ERR CODE:0x010a0000\r\n\r\nERROR\r\n");

  at_->send("AT+HTTPURLCFG=0\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+HTTPURLCFG?\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+HTTPURLCFG=7\r\n");
  at_->expect("ERR CODE:0x01070000\r\n\r\nERROR\r\n");
}

// https (3.7.2 <transport_type> 2, or an https:// URL): TLS to an HTTPS server with the test
// PKI's certificate, which esp_http_client without a CA does not verify.
TEST_F(Http, Https) {
  std::string log;
  ASSERT_TRUE(espat::test::make_test_pki(dir_.path(), log)) << log;
  const std::string cert = (dir_ / "server.pem").string(), key = (dir_ / "server.key").string();
  httplib::SSLServer tls(cert.c_str(), key.c_str());
  std::mutex m;
  std::string host;
  tls.Get("/secure", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lk(m);
    host = req.get_header_value("Host");
    res.set_content("over tls", "text/plain");
  });
  const int port = tls.bind_to_any_port("127.0.0.1");
  std::thread t([&] { tls.listen_after_bind(); });
  join();
  at_->send("AT+HTTPCLIENT=2,0,\"https://127.0.0.1:" + std::to_string(port) + "/secure\",,,1\r\n");
  at_->expect("+HTTPCLIENT:8,over tls\r\n\r\nOK\r\n", 5000ms);
  at_->send("AT+HTTPCLIENT=2,0,\"\",\"127.0.0.1:" + std::to_string(port) + "\",\"/secure\",2\r\n");
  at_->expect("+HTTPCLIENT:8,over tls\r\n\r\nOK\r\n", 5000ms);
  at_->send("AT+HTTPCGET=\"https://127.0.0.1:" + std::to_string(port) + "/secure\"\r\n");
  at_->expect("+HTTPCGET:8,over tls\r\n\r\nOK\r\n", 5000ms);
  // Plain HTTP to the TLS port: no response, the connection error.
  at_->send("AT+HTTPCLIENT=2,0,\"http://127.0.0.1:" + std::to_string(port) + "/secure\",,,1\r\n");
  at_->expect("ERR CODE:0x010a7000\r\n\r\nERROR\r\n", 8000ms);
  tls.stop();
  t.join();
  std::lock_guard lk(m);
  EXPECT_EQ(host, "127.0.0.1:" + std::to_string(port));
}

}  // namespace
