// The module's HTTP/1.1 client (spec 3.7): one request on espat's own streams — a TCP socket
// bound to the module's address, TLS through net::tls_connect — with names resolved the way
// the module resolves them (world, AT+CIPDNS, host). It reads the response the way ESP-IDF's
// esp_http_client does: reads of at most <rx size> bytes, and each run of body bytes one read
// yields (after the headers, between chunked-encoding framing) is one on_data call. That is
// what makes "+HTTPCLIENT:<len>,<data>" lines split where the firmware's split.
#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>

#include "async/activity.hpp"

namespace espat::module {

class Context;

struct Url {
  bool tls = false;
  std::string host;  // without brackets for an IPv6 literal
  int port = 80;
  std::string target = "/";  // path and query
};
// "http://host[:port][/path][?query]" (or https); nullopt when it is not such a URL.
std::optional<Url> parse_url(std::string_view text);

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  // Extra request headers, "key: value" as typed; a later one replaces an earlier one with
  // the same key (AT+HTTPCHEAD's win over the command's, 3.7.8 notes).
  std::vector<std::string> headers;
  std::optional<std::string> body;  // sent with Content-Length when present
  std::size_t rx_size = 512;        // esp_http_client's default buffer
  std::chrono::milliseconds timeout{5000};  // each connect, write and read
  int max_redirects = 10;                   // esp_http_client's default
};

struct HttpOutcome {
  int status = 0;                    // 0: no response (connection, TLS, timeout, bad URL)
  long long content_length = -1;     // -1: none given (chunked, or until close)
  bool bad_url = false;
  std::string error;                 // for the log
};

struct HttpCallbacks {
  std::function<void(std::string_view key, std::string_view value)> on_header;  // the final response's
  std::function<void(std::string_view chunk)> on_data;
};

asio::awaitable<HttpOutcome> http_request(Context& ctx, HttpRequest r, HttpCallbacks cb, async::StopToken stop);

}  // namespace espat::module
