// WebSocket commands end to end (spec 3.9, the transcripts of websocket_at_examples): a real
// WebSocket server (Debian's python3-websockets, run by /usr/bin/python3) on loopback, plain
// and over TLS with the test PKI, and the exact bytes espat prints on the AT port: "+WS_CONNECTED"
// before OK, "+WS_DATA:<id>,<len>,<data>" per frame (split at <buffer_size>), "+WS_DISCONNECTED"
// when the server closes or drops the connection, the reconnection after a dropped connection
// (states 3 and 1 of AT+WSOPEN?, esp_websocket_client's 10 s), "+WS_CLOSED" after AT+WSCLOSE,
// the headers of AT+WSHEAD and the subprotocol reaching the server, and the errors of bad input.
#include <cstdlib>
#include <fstream>
#include <optional>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "../test_pki.hpp"
#include "module_fixture.hpp"

namespace {
using namespace std::chrono_literals;
using espat::e2e::AtPort;

constexpr const char* kPython = "/usr/bin/python3";

// The server: by path, /echo echoes; /ping pings the client and says when the pong came;
// /close says "bye" and closes (1000); /drop drops the TCP connection; /headers tells what the
// request carried; /big sends 3000 bytes; /fragments sends "ab" + "cd" as one fragmented
// message. It logs "PORT <n>" (and "TLSPORT <n>" with a certificate) and what it saw.
constexpr const char* kServer = R"PY(
import asyncio, base64, hashlib, re, ssl, sys
import websockets

def log(*a):
    print(*a, flush=True)

seen = {}

async def handler(ws, path=None):
    path = ws.path
    log("OPEN", path)
    try:
        if path == "/ping":
            waiter = await ws.ping(b"are you there")
            await waiter
            log("GOT-PONG")
            await ws.send("pong came")
        elif path == "/close":
            await ws.send("bye")
            await ws.close(1000, "done")
            return
        elif path == "/drop":
            await ws.send("dropping")
            await asyncio.sleep(0.05)
            ws.transport.abort()
            return
        elif path == "/dropfirst":
            seen["dropfirst"] = seen.get("dropfirst", 0) + 1
            if seen["dropfirst"] == 1:
                await ws.send("dropping")
                await asyncio.sleep(0.05)
                ws.transport.abort()
                return
            await ws.send("again")
        elif path.startswith("/headers"):
            h = ws.request_headers
            await ws.send("X-Test=%s;Authorization=%s;Protocol=%s;Host=%s;Path=%s" % (
                h.get("X-Test"), h.get("Authorization"), ws.subprotocol, h.get("Host"), path))
        elif path == "/big":
            await ws.send(bytes(i % 251 for i in range(3000)))
        elif path == "/fragments":
            await ws.send(["ab", "cd"])
        async for m in ws:
            await ws.send(m)
    except websockets.ConnectionClosed:
        pass
    finally:
        log("CLOSED", path, ws.close_code)

# A server that handshakes and then only logs the frames it reads: it never answers a ping.
async def silent(reader, writer):
    head = await reader.readuntil(b"\r\n\r\n")
    key = re.search(rb"Sec-WebSocket-Key: (\S+)", head).group(1)
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
    try:
        while True:
            h = await reader.readexactly(2)
            n = h[1] & 0x7f
            if n == 126: n = int.from_bytes(await reader.readexactly(2), "big")
            elif n == 127: n = int.from_bytes(await reader.readexactly(8), "big")
            masked = h[1] & 0x80
            if masked: await reader.readexactly(4)
            await reader.readexactly(n)
            log("SILENT-FRAME", h[0] & 0x0f, "masked" if masked else "unmasked")
    except Exception:
        log("SILENT-CLOSED")

async def main():
    plain = await websockets.serve(handler, "127.0.0.1", 0, subprotocols=["chat"], ping_interval=None)
    log("PORT", plain.sockets[0].getsockname()[1])
    quiet = await asyncio.start_server(silent, "127.0.0.1", 0)
    log("SILENTPORT", quiet.sockets[0].getsockname()[1])
    if len(sys.argv) > 2:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[1], sys.argv[2])
        tls = await websockets.serve(handler, "127.0.0.1", 0, ssl=ctx, ping_interval=None)
        log("TLSPORT", tls.sockets[0].getsockname()[1])
    await asyncio.Future()

asyncio.run(main())
)PY";

bool have_websockets() {
  return std::system((std::string(kPython) + " -c 'import websockets' >/dev/null 2>&1").c_str()) == 0;
}

class Ws : public espat::e2e::ModuleTest {
 protected:
  Ws() : ModuleTest("espat-ws") {}
  void SetUp() override {
    if (!have_websockets()) GTEST_SKIP() << kPython << " has no websockets module (Debian: apt-get install python3-websockets)";
    std::string log;
    std::vector<std::string> argv{kPython, (dir_ / "server.py").string()};
    std::ofstream(dir_ / "server.py") << kServer;
    if (espat::test::make_test_pki(dir_.path(), log)) {
      argv.push_back((dir_ / "server.pem").string());
      argv.push_back((dir_ / "server.key").string());
    }
    server_.emplace(argv, dir_ / "server.log");
    ASSERT_TRUE(server_->wait_output(argv.size() > 2 ? "TLSPORT " : "PORT ")) << server_->output();
    port_ = port_of("PORT ");
    silent_port_ = port_of("SILENTPORT ");
    if (argv.size() > 2) tls_port_ = port_of("TLSPORT ");
    start_module();
  }
  int port_of(const std::string& key) {
    std::smatch m;
    const std::string out = server_->output();
    const std::regex re("(^|\n)" + key + "([0-9]+)");
    if (!std::regex_search(out, m, re)) throw espat::e2e::Failure("no " + key + " in " + out);
    return std::stoi(m[2]);
  }
  std::string uri(const std::string& path, bool tls = false) const {
    return (tls ? "wss://127.0.0.1:" + std::to_string(tls_port_) : "ws://127.0.0.1:" + std::to_string(port_)) + path;
  }
  void open(int id, const std::string& path, const std::string& more = "") {
    at_->send("AT+WSOPEN=" + std::to_string(id) + ",\"" + uri(path) + "\"" + more + "\r\n");
    at_->expect("+WS_CONNECTED:" + std::to_string(id) + "\r\n\r\nOK\r\n", 5000ms);
  }
  // AT+WSSEND of `data`, answered SEND OK, and the server's echo as +WS_DATA. The echo is
  // printed by the link as it arrives, so it may come before SEND OK (on the module too: the
  // firmware's WebSocket task prints it, its AT task prints SEND OK).
  void send_echoed(int id, const std::string& data, const std::string& more = "") {
    at_->send("AT+WSSEND=" + std::to_string(id) + "," + std::to_string(data.size()) + more + "\r\n");
    at_->expect("\r\nOK\r\n\r\n>");
    at_->send(data);
    const std::string ok = "\r\nSEND OK\r\n";
    const std::string echo = "+WS_DATA:" + std::to_string(id) + "," + std::to_string(data.size()) + "," + data + "\r\n";
    const std::string got = at_->match("[\\s\\S]{" + std::to_string(ok.size() + echo.size()) + "}");
    EXPECT_TRUE(got == ok + echo || got == echo + ok) << got;
  }

  std::optional<espat::test::Child> server_;
  int port_ = 0, tls_port_ = 0, silent_port_ = 0;
};

// 3.9.4/3.9.5 and websocket_at_examples: open, send, the echo as +WS_DATA.
TEST_F(Ws, OpenSendTextAndBinaryReceiveEcho) {
  join();
  open(0, "/echo");
  send_echoed(0, "test");
  // Binary (opcode 2) with every byte value, CR, LF and NUL among them, back byte for byte.
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(char(i));
  send_echoed(0, all, ",2");
  // The guide's spelling AT+WSEND is the same command (protocol-rules §0).
  send_echoed(0, "hello", ",0x1");
  at_->send("AT+WSEND=0,3\r\n");
  at_->expect("\r\nOK\r\n\r\n>");
  at_->send("abc");
  at_->match("(\\r\\nSEND OK\\r\\n\\+WS_DATA:0,3,abc\\r\\n|\\+WS_DATA:0,3,abc\\r\\n\\r\\nSEND OK\\r\\n)");
  // 3.9.4 query: <link_id>,<state 2: established>,<"uri">.
  at_->send("AT+WSOPEN?\r\n");
  at_->expect("+WSOPEN:0," "2,\"" + uri("/echo") + "\"\r\n\r\nOK\r\n");
  // 3.9.6: the close handshake, then +WS_CLOSED; the server saw code 1000.
  at_->send("AT+WSCLOSE=0\r\n");
  at_->expect("+WS_CLOSED:0\r\n\r\nOK\r\n", 6000ms);
  EXPECT_TRUE(server_->wait_output("CLOSED /echo 1000")) << server_->output();
  at_->send("AT+WSOPEN?\r\n");
  at_->expect("\r\nOK\r\n");
}

TEST_F(Ws, ThreeLinksAtOnce) {
  join();
  open(0, "/echo");
  open(2, "/echo");
  open(1, "/echo");
  send_echoed(2, "two");
  send_echoed(1, "one");
  at_->send("AT+WSOPEN?\r\n");
  const std::string u = uri("/echo");
  at_->expect("+WSOPEN:0,2,\"" + u + "\"\r\n+WSOPEN:1,2,\"" + u + "\"\r\n+WSOPEN:2,2,\"" + u + "\"\r\n\r\nOK\r\n");
}

// 3.9.3: the headers of AT+WSHEAD go with every AT+WSOPEN; 3.9.4's subprotocol and auth too.
TEST_F(Ws, HeadersSubprotocolAndAuthReachTheServer) {
  join();
  at_->send("AT+WSHEAD=12\r\n");
  at_->expect("\r\nOK\r\n\r\n>");
  at_->send("X-Test: abc1");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+WSHEAD?\r\n");
  at_->expect("+WSHEAD:0,\"X-Test: abc1\"\r\n\r\nOK\r\n");
  at_->send("AT+WSOPEN=0,\"" + uri("/headers?q=1") + "\",\"chat\",5000,\"Basic dXNlcjpwYXNz\"\r\n");
  at_->expect("+WS_CONNECTED:0\r\n\r\nOK\r\n", 5000ms);
  const std::string want = "X-Test=abc1;Authorization=Basic dXNlcjpwYXNz;Protocol=chat;Host=127.0.0.1:" +
                           std::to_string(port_) + ";Path=/headers?q=1";
  at_->expect("+WS_DATA:0," + std::to_string(want.size()) + "," + want + "\r\n");
  // AT+WSHEAD=0 clears the list: the next connection carries none, and no subprotocol.
  at_->send("AT+WSHEAD=0\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+WSHEAD?\r\n");
  at_->expect("\r\nOK\r\n");
  open(1, "/headers");
  const std::string bare = "X-Test=None;Authorization=None;Protocol=None;Host=127.0.0.1:" + std::to_string(port_) + ";Path=/headers";
  at_->expect("+WS_DATA:1," + std::to_string(bare.size()) + "," + bare + "\r\n");
}

// Received frames: a fragmented message is one +WS_DATA per frame; a frame longer than
// <buffer_size> is printed in runs of <buffer_size> bytes (AT+WSCFG, 3.9.2).
TEST_F(Ws, FragmentsAndBufferSizedRuns) {
  join();
  open(0, "/fragments");
  at_->expect("+WS_DATA:0,2,ab\r\n+WS_DATA:0,2,cd\r\n");
  at_->send("AT+WSCFG=1,10,120,1000\r\n");
  at_->expect("\r\nOK\r\n");
  open(1, "/big");
  std::string big;
  for (int i = 0; i < 3000; ++i) big.push_back(char(i % 251));
  at_->expect("+WS_DATA:1,1000," + big.substr(0, 1000) + "\r\n+WS_DATA:1,1000," + big.substr(1000, 1000) +
              "\r\n+WS_DATA:1,1000," + big.substr(2000) + "\r\n");
}

// The server pings: espat answers with a pong of the same payload and prints nothing for it.
TEST_F(Ws, ServerPingIsAnswered) {
  join();
  open(0, "/ping");
  at_->expect("+WS_DATA:0,9,pong came\r\n");
  EXPECT_TRUE(server_->wait_output("GOT-PONG")) << server_->output();
}

// The server ends the connection with a close frame (answered: the server sees 1000 back):
// +WS_DISCONNECTED and the link is free, no reconnection (esp_websocket_client without
// enable_close_reconnect stops after a close from the server).
TEST_F(Ws, ServerClosesTheLink) {
  join();
  open(0, "/close");
  at_->expect("+WS_DATA:0,3,bye\r\n+WS_DISCONNECTED:0\r\n", 5000ms);
  EXPECT_TRUE(server_->wait_output("CLOSED /close 1000")) << server_->output();
  at_->send("AT+WSOPEN?\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+WSSEND=0,1\r\n");
  at_->expect("ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
}

// The server drops TCP: +WS_DISCONNECTED, then the link waits to reconnect (state 3, its uri
// kept) and refuses AT+WSOPEN and AT+WSSEND; AT+WSCLOSE ends the wait with +WS_CLOSED.
TEST_F(Ws, DroppedLinkWaitsAndCloses) {
  join();
  open(0, "/drop");
  at_->expect("+WS_DATA:0,8,dropping\r\n+WS_DISCONNECTED:0\r\n", 5000ms);
  at_->send("AT+WSOPEN?\r\n");
  at_->expect("+WSOPEN:0,3,\"" + uri("/drop") + "\"\r\n\r\nOK\r\n");
  at_->send("AT+WSSEND=0,1\r\n");
  at_->expect("ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
  at_->send("AT+WSOPEN=0,\"" + uri("/echo") + "\"\r\n");
  at_->expect("ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
  at_->send("AT+WSCLOSE=0\r\n");
  at_->expect("+WS_CLOSED:0\r\n\r\nOK\r\n");
  at_->send("AT+WSOPEN?\r\n");
  at_->expect("\r\nOK\r\n");
  // Free again: a new link opens on the same id.
  open(0, "/echo");
  send_echoed(0, "x");
}

// Reconnection (esp_websocket_client's auto-reconnect, reconnect_timeout_ms 10 s): the link
// lost by a dropped connection is connected again with the same uri and headers, prints
// +WS_CONNECTED again, and carries data.
TEST_F(Ws, ReconnectsAfterTheInterval) {
  join();
  at_->send("AT+WSHEAD=12\r\n");
  at_->expect("\r\nOK\r\n\r\n>");
  at_->send("X-Test: abc1");
  at_->expect("\r\nOK\r\n");
  open(1, "/dropfirst");
  at_->expect("+WS_DATA:1,8,dropping\r\n+WS_DISCONNECTED:1\r\n", 5000ms);
  const auto lost = std::chrono::steady_clock::now();
  at_->send("AT+WSOPEN?\r\n");
  at_->expect("+WSOPEN:1,3,\"" + uri("/dropfirst") + "\"\r\n\r\nOK\r\n");
  // AT+WSHEAD changed meanwhile does not change the reconnection's request.
  at_->send("AT+WSHEAD=0\r\n");
  at_->expect("\r\nOK\r\n");
  at_->expect("+WS_CONNECTED:1\r\n+WS_DATA:1,5,again\r\n", 13000ms);
  const auto waited = std::chrono::steady_clock::now() - lost;
  EXPECT_GE(waited, 9500ms);
  EXPECT_LT(waited, 12500ms);
  EXPECT_EQ(2, [&] {
    const std::string out = server_->output();
    int n = 0;
    for (std::size_t p = 0; (p = out.find("OPEN /dropfirst", p)) != std::string::npos; ++p) ++n;
    return n;
  }());
  at_->send("AT+WSOPEN?\r\n");
  at_->expect("+WSOPEN:1,2,\"" + uri("/dropfirst") + "\"\r\n\r\nOK\r\n");
  send_echoed(1, "hello");
}

// The station leaves the AP: the link breaks as it would on the module (no close handshake)
// and waits to reconnect; back on the AP, the next attempt succeeds.
TEST_F(Ws, StationLeavingAndComingBack) {
  join();
  open(0, "/echo");
  at_->send("AT+CWQAP\r\n");
  at_->match("(WIFI DISCONNECT\r\n\\+WS_DISCONNECTED:0\r\n\r\nOK\r\n|WIFI DISCONNECT\r\n\r\nOK\r\n\\+WS_DISCONNECTED:0\r\n)");
  at_->send("AT+WSOPEN?\r\n");
  at_->expect("+WSOPEN:0,3,\"" + uri("/echo") + "\"\r\n\r\nOK\r\n");
  join();
  at_->expect("+WS_CONNECTED:0\r\n", 13000ms);
  send_echoed(0, "back");
}

// Without an address every attempt fails: esp_websocket_client_abort_connection dispatches
// WEBSOCKET_EVENT_DISCONNECTED again, so +WS_DISCONNECTED again, and the link waits again.
TEST_F(Ws, FailedReconnectionReportsAndWaitsAgain) {
  join();
  open(2, "/echo");
  at_->send("AT+CWQAP\r\n");
  at_->match("(WIFI DISCONNECT\r\n\\+WS_DISCONNECTED:2\r\n\r\nOK\r\n|WIFI DISCONNECT\r\n\r\nOK\r\n\\+WS_DISCONNECTED:2\r\n)");
  const auto lost = std::chrono::steady_clock::now();
  at_->expect("+WS_DISCONNECTED:2\r\n", 13000ms);
  EXPECT_GE(std::chrono::steady_clock::now() - lost, 9500ms);
  at_->send("AT+WSOPEN?\r\n");
  at_->expect("+WSOPEN:2,3,\"" + uri("/echo") + "\"\r\n\r\nOK\r\n");
  at_->send("AT+WSCLOSE=2\r\n");
  at_->expect("+WS_CLOSED:2\r\n\r\nOK\r\n");
  at_->send("AT+WSOPEN?\r\n");
  at_->expect("\r\nOK\r\n");
}

// 3.9.2: a ping after <ping_intv_sec> without traffic; no pong within <ping_timeout_sec>
// ends the connection.
TEST_F(Ws, PongTimeoutDisconnects) {
  join();
  at_->send("AT+WSCFG=0,1,2\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+WSOPEN=0,\"ws://127.0.0.1:" + std::to_string(silent_port_) + "/\"\r\n");
  at_->expect("+WS_CONNECTED:0\r\n\r\nOK\r\n", 5000ms);
  at_->expect("+WS_DISCONNECTED:0\r\n", 8000ms);
  EXPECT_TRUE(server_->wait_output("SILENT-FRAME 9 masked")) << server_->output();
  EXPECT_TRUE(server_->wait_output("SILENT-CLOSED")) << server_->output();
  // 3.9.4 state 3: pong timeout, waiting for reconnection.
  at_->send("AT+WSOPEN?\r\n");
  at_->expect("+WSOPEN:0,3,\"ws://127.0.0.1:" + std::to_string(silent_port_) + "/\"\r\n\r\nOK\r\n");
}

// The host closes with AT+WSSEND's opcode 8: the server answers and ends the connection.
TEST_F(Ws, CloseFrameFromTheHost) {
  join();
  open(0, "/echo");
  at_->send("AT+WSSEND=0,2,8\r\n");
  at_->expect("\r\nOK\r\n\r\n>");
  at_->send(std::string("\x03\xe8", 2));
  at_->expect("\r\nSEND OK\r\n+WS_DISCONNECTED:0\r\n", 5000ms);
  EXPECT_TRUE(server_->wait_output("CLOSED /echo 1000")) << server_->output();
}

// wss:// over TLS (the server is not verified, as 3.9 has no certificate setting here).
TEST_F(Ws, SecureWebSocket) {
  if (tls_port_ == 0) GTEST_SKIP() << "no test PKI (openssl CLI)";
  join();
  at_->send("AT+WSOPEN=2,\"" + uri("/echo", true) + "\"\r\n");
  at_->expect("+WS_CONNECTED:2\r\n\r\nOK\r\n", 5000ms);
  send_echoed(2, "secret");
  at_->send("AT+WSCLOSE=2\r\n");
  at_->expect("+WS_CLOSED:2\r\n\r\nOK\r\n", 6000ms);
}

TEST_F(Ws, BadInput) {
  // Before a Wi-Fi connection there is no address: the open fails.
  at_->send("AT+WSOPEN=0,\"" + uri("/echo") + "\"\r\n");
  at_->expect("ERR CODE:0x010a0000\r\n\r\nERROR\r\n", 5000ms);
  join();
  // Link ids are 0-2 (3.9.2); parameters out of their ranges.
  at_->send("AT+WSOPEN=3,\"" + uri("/echo") + "\"\r\n");
  at_->expect("ERR CODE:0x01070000\r\n\r\nERROR\r\n");
  at_->send("AT+WSCFG=0,0,120\r\n");
  at_->expect("ERR CODE:0x01070001\r\n\r\nERROR\r\n");
  at_->send("AT+WSCFG=0,10,120,8193\r\n");
  at_->expect("ERR CODE:0x01070003\r\n\r\nERROR\r\n");
  at_->send("AT+WSSEND=0,1,16\r\n");
  at_->expect("ERR CODE:0x01070002\r\n\r\nERROR\r\n");
  // Not a ws:// or wss:// URI.
  at_->send("AT+WSOPEN=0,\"http://127.0.0.1/\"\r\n");
  at_->expect("ERR CODE:0x01070001\r\n\r\nERROR\r\n");
  // Nothing listening.
  at_->send("AT+WSOPEN=0,\"ws://127.0.0.1:1/\"\r\n");
  at_->expect("ERR CODE:0x010a0000\r\n\r\nERROR\r\n", 5000ms);
  // Not a WebSocket server: the handshake is refused (the control API speaks plain HTTP).
  // WSSEND and WSCLOSE on a closed link.
  at_->send("AT+WSSEND=1,4\r\n");
  at_->expect("ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
  at_->send("AT+WSCLOSE=1\r\n");
  at_->expect("ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
  // WSOPEN on an open link.
  open(0, "/echo");
  at_->send("AT+WSOPEN=0,\"" + uri("/echo") + "\"\r\n");
  at_->expect("ERR CODE:0x010a0000\r\n\r\nERROR\r\n");
  // A length beyond <buffer_size> - 10 (3.9.5): 1014 fits the default 1024, 1015 does not.
  at_->send("AT+WSSEND=0,1015\r\n");
  at_->expect("ERR CODE:0x01070001\r\n\r\nERROR\r\n");
  send_echoed(0, std::string(1014, 'x'));
}

}  // namespace
