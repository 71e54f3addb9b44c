// Spec 3.7: AT+HTTPCLIENT, AT+HTTPGETSIZE, AT+HTTPCGET, AT+HTTPCPOST, AT+HTTPCPUT,
// AT+HTTPURLCFG, AT+HTTPCHEAD, on the module's HTTP client (module/http_client.hpp).
#include "commands/http.hpp"

#include <spdlog/spdlog.h>

#include "commands/handler.hpp"
#include "module/http_client.hpp"

namespace espat::commands {

namespace {
using module::HttpOutcome;
using module::HttpRequest;

constexpr int kExtraParams = 20;  // data and request headers after the fixed parameters
constexpr std::size_t kUrlMax = 8192;  // 3.7.7: HTTPURLCFG's range
constexpr std::size_t kDefaultRx = 2048;  // 3.7.3/3.7.4 <rx size> default
constexpr std::size_t kClientRx = 512;    // esp_http_client's buffer: the guide's 512-byte lines (4.8)

// 3.7.9: 0x7000 when no response came, 0x7000 + the status for an HTTP error.
at::ErrCode http_error(int status) { return at::ErrCode::make(at::Sub::ExecFail, std::uint16_t(0x7000 + status)); }

// The request's outcome as a final result: OK, or ERROR with its code (3.7.9).
Result outcome_result(const HttpOutcome& o) {
  if (o.bad_url) return Result::error();
  if (!o.error.empty() || o.status == 0) return Result::error(http_error(0));
  if (o.status >= 400) return Result::error(http_error(o.status));
  return Result::ok();
}

// "" means the URL AT+HTTPURLCFG set (protocol-rules §1).
std::string url_of(Ctx& ctx, const std::string& typed) { return typed.empty() ? ctx.state().http_url : typed; }

// The body lines "+<CMD>:<len>,<data>\r\n", one per run of body bytes a read gave (reference §9.3).
module::HttpCallbacks data_lines(Call& c, bool headers = false) {
  module::HttpCallbacks cb;
  const std::string name = c.name;
  cb.on_data = [&c, name](std::string_view chunk) {
    c.reply(fmt::format("{}:{},{}\r\n", name, chunk.size(), chunk));
  };
  // HEAD: each response header as "+HTTPCLIENT:<len>,<key>: <value>" (4.8.1).
  if (headers)
    cb.on_header = [&c, name](std::string_view k, std::string_view v) {
      c.reply(fmt::format("{}:{},{}: {}\r\n", name, k.size() + 2 + v.size(), k, v));
    };
  return cb;
}

asio::awaitable<HttpOutcome> run(Ctx& ctx, Call& c, HttpRequest r, module::HttpCallbacks cb) {
  for (const auto& h : ctx.state().http_headers) r.headers.push_back(h);  // 3.7.8: they win
  auto o = co_await module::http_request(ctx, std::move(r), std::move(cb), c.stop);
  if (!o.error.empty()) spdlog::info("m{}: {} {}: {}", ctx.index(), c.name, o.status, o.error);
  co_return o;
}

// ---- AT+HTTPCLIENT (3.7.2) ---------------------------------------------------------------------
const char* const kMethods[] = {"", "HEAD", "GET", "POST", "PUT", "DELETE"};
const char* const kContentTypes[] = {"application/x-www-form-urlencoded", "application/json", "multipart/form-data",
                                     "text/xml"};

asio::awaitable<Result> httpclient(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  const int opt = int(a.integer(0));
  HttpRequest r;
  r.method = kMethods[opt];
  r.rx_size = kClientRx;
  // The URL wins; else the preset one; else <host> and <path> over <transport_type> (3.7.2 notes).
  r.url = url_of(ctx, a.text(2));
  if (r.url.empty()) {
    if (a.text(3).empty()) co_return Result::error();
    std::string path = a.text(4);
    if (path.empty() || path.front() != '/') path = "/" + path;
    r.url = fmt::format("{}://{}{}", a.integer(5, 1) == 2 ? "https" : "http", a.text(3), path);
  }
  r.headers.push_back(fmt::format("Content-Type: {}", kContentTypes[a.integer(1)]));
  std::size_t first_header = 6;
  if (opt == 3) {  // <data> exists only for POST
    r.body = a.text(6);
    first_header = 7;
  } else if (opt >= 4) {
    r.body = std::string();  // PUT and DELETE carry "Content-Length: 0" (4.8.5, 4.8.7)
  }
  for (std::size_t i = first_header; i < 6 + kExtraParams; ++i)
    if (a.has(i) && !a.text(i).empty()) r.headers.push_back(a.text(i));
  auto o = co_await run(ctx, c, std::move(r), data_lines(c, opt == 1));
  co_return outcome_result(o);
}

// ---- AT+HTTPGETSIZE (3.7.3) and AT+HTTPCGET (3.7.4) --------------------------------------------
HttpRequest sized_request(Ctx& ctx, Call& c, const char* method) {
  HttpRequest r;
  r.method = method;
  r.url = url_of(ctx, c.args.text(0));
  const auto rx = std::size_t(c.args.integer(2, kDefaultRx));
  r.rx_size = rx == 0 ? kClientRx : rx;
  const auto timeout = c.args.integer(3, 5000);
  r.timeout = std::chrono::milliseconds(timeout == 0 ? 5000 : timeout);
  return r;
}

asio::awaitable<Result> httpgetsize(Ctx& ctx, Call& c) {
  auto o = co_await run(ctx, c, sized_request(ctx, c, "HEAD"), {});
  const Result res = outcome_result(o);
  if (res.kind != Result::Kind::Ok) co_return res;
  c.reply(line(c, std::to_string(o.content_length)));
  co_return res;
}

asio::awaitable<Result> httpcget(Ctx& ctx, Call& c) {
  auto o = co_await run(ctx, c, sized_request(ctx, c, "GET"), data_lines(c));
  co_return outcome_result(o);
}

// ---- AT+HTTPCPOST (3.7.5) and AT+HTTPCPUT (3.7.6) -----------------------------------------------
// OK and '>', <length> bytes, the response lines, then SEND OK or SEND FAIL.
asio::awaitable<Result> send_body(Ctx& ctx, Call& c, const char* method) {
  const auto& a = c.args;
  HttpRequest r;
  r.method = method;
  r.rx_size = kClientRx;
  r.url = url_of(ctx, a.text(0));
  if (r.url.empty()) co_return Result::error();
  // The default type (3.7.5 note); a header the host gives replaces it.
  r.headers.push_back("Content-Type: application/x-www-form-urlencoded");
  const auto count = std::size_t(a.integer(2, 0));
  std::size_t given = 0;
  for (std::size_t i = 3; i < 3 + kExtraParams; ++i)
    if (a.has(i)) ++given;
  if (given != count) co_return Result::invalid(2);
  for (std::size_t i = 3; i < 3 + count; ++i) r.headers.push_back(a.text(i));
  r.body = co_await c.read_data(std::size_t(a.integer(1)));
  auto o = co_await run(ctx, c, std::move(r), data_lines(c));
  co_return outcome_result(o).kind == Result::Kind::Ok ? Result::send_ok() : Result::send_fail();
}
asio::awaitable<Result> httpcpost(Ctx& ctx, Call& c) { co_return co_await send_body(ctx, c, "POST"); }
asio::awaitable<Result> httpcput(Ctx& ctx, Call& c) { co_return co_await send_body(ctx, c, "PUT"); }

// ---- AT+HTTPURLCFG (3.7.7) ------------------------------------------------------------------------
Result httpurlcfg_query(Ctx& ctx, Call& c) {
  const auto& url = ctx.state().http_url;
  if (!url.empty()) c.reply(line(c, fmt::format("{},{}", url.size(), url)));
  return Result::ok();
}
asio::awaitable<Result> httpurlcfg_set(Ctx& ctx, Call& c) {
  const auto n = std::size_t(c.args.integer(0));
  if (n == 0) {
    ctx.state().http_url.clear();
    co_return Result::ok();
  }
  if (n < 8) co_return Result::invalid(0);
  ctx.state().http_url = co_await c.read_data(n);
  c.reply("\r\nSET OK\r\n");
  co_return Result::nothing();
}

// ---- AT+HTTPCHEAD (3.7.8) -------------------------------------------------------------------------
Result httpchead_query(Ctx& ctx, Call& c) { return header_list_query(ctx.state().http_headers, c); }
asio::awaitable<Result> httpchead_set(Ctx& ctx, Call& c) { co_return co_await header_list_set(ctx.state().http_headers, c); }

std::vector<at::ParamSpec> with_extra(std::vector<at::ParamSpec> p) {
  for (int i = 0; i < kExtraParams; ++i) p.push_back(at::Str{"http_req_header", 2048, 0, true});
  return p;
}
}  // namespace

at::Family http_family() {
  at::Family f{.name = "http"};
  auto& r = f.rows;
  r.push_back({.name = "+HTTPCLIENT", .set = coro(httpclient),
               .params = with_extra({at::Int{"opt", 1, 5}, at::Int{"content-type", 0, 3}, at::Str{"url", kUrlMax, 0, true},
                                     at::Str{"host", kUrlMax, 0, true}, at::Str{"path", kUrlMax, 0, true},
                                     at::Int{"transport_type", 1, 2, true, 1}})});
  const at::Schema sized{at::Str{"url", kUrlMax}, at::Int{"tx size", 0, 10240, true, 2048},
                         at::Int{"rx size", 0, 10240, true, 2048}, at::Int{"timeout", 0, 180000, true, 5000}};
  r.push_back({.name = "+HTTPGETSIZE", .set = coro(httpgetsize), .params = sized});
  r.push_back({.name = "+HTTPCGET", .set = coro(httpcget), .params = sized});
  const at::Schema body = with_extra({at::Str{"url", kUrlMax}, at::Int{"length", 1, 1 << 24}, at::Int{"http_req_header_cnt", 0, kExtraParams, true, 0}});
  r.push_back({.name = "+HTTPCPOST", .set = coro(httpcpost), .params = body});
  r.push_back({.name = "+HTTPCPUT", .set = coro(httpcput), .params = body});
  r.push_back({.name = "+HTTPURLCFG", .query = plain(httpurlcfg_query), .set = coro(httpurlcfg_set),
               .params = {at::Int{"url length", 0, int(kUrlMax)}}});
  r.push_back({.name = "+HTTPCHEAD", .query = plain(httpchead_query), .set = coro(httpchead_set),
               .params = {at::Int{"req_header_len", 0, 2048}}});
  return f;
}

}  // namespace espat::commands
