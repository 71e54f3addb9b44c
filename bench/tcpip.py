#!/usr/bin/env python3
"""TCP/IP figures (README "Benchmarks"): what espat's links cost and carry, each beside a baseline
measured the same way in the same run. Every figure is min/median/max over the runs.

    bench/tcpip.py build/espat [--runs 5] [--only passthrough,pacing,cipsend,fleet] [--mb 8]

1. passthrough: N MB through a module in passthrough (AT+CIPMODE=1, AT+CIPSEND) between its AT
   port (a pty opened raw) and a TCP peer on loopback, both ways at once and each way alone,
   beside `socat PTY,raw,echo=0 TCP:` relaying the same bytes between a pty and the same kind of
   peer. Every byte is compared: a lost, added or reordered byte fails the run.
2. pacing: passthrough with --baud-pacing at 115200 and 3,000,000 baud (AT+UART_CUR), both ways
   at once; each direction's rate as a share of the line rate (baud/10 bytes/s for 8N1).
3. cipsend: AT+CIPSEND=<n> in normal mode, each send waiting for SEND OK as a driver does, 1 KB
   and 8 KB, one link and five links round-robin (AT+CIPMUX=1); and the +IPD receive rate (the
   peer sends N MB, the payload is taken out of the +IPD frames). Baseline: the socat relay
   carrying the same bytes in the same chunks, each chunk waited for at the peer (sends; socat's
   TCP side with `nodelay`, see Socat), or streamed to the pty (receive).
4. fleet: 1,000 modules in one process (--modules --tcp --flash-overlays, as bench/fleet.py),
   joined; RSS with each AT port connected and no link, then with one idle TCP link each
   (AT+CIPSTART to one local listener that accepts them all).

Python 3 standard library and socat only. Every wait has a timeout: a run that loses bytes or
stalls is reported as FAILED with what was seen, and the benchmark goes on.
"""
import argparse, errno, os, random, re, resource, select, selectors, shutil, signal, socket, statistics
import subprocess, sys, tempfile, termios, time, tty

sys.dont_write_bytecode = True  # no __pycache__ in bench/ from importing fleet
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fleet  # noqa: E402  (make_base, rss_kib, WORLD)
from figures import Failed, Table, report_failure  # noqa: E402

MB = 1_000_000  # rates in MB/s (10^6 bytes)



# ---- helpers ------------------------------------------------------------------------------------

def open_pty(path, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise Failed(f"{path} never appeared")
        time.sleep(0.005)
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(fd, termios.TCSANOW)
    return fd


def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(4096)
    return s


def accept(lst, timeout=10.0):
    lst.settimeout(timeout)
    try:
        c, _ = lst.accept()
    except socket.timeout:
        raise Failed("the peer's listener got no connection")
    c.setblocking(False)
    return c


def payload(n, seed):
    return random.Random(seed).randbytes(n)


def first_difference(a, b):
    n = min(len(a), len(b))
    step = 1 << 16
    for off in range(0, n, step):
        if a[off:off + step] != b[off:off + step]:
            for i in range(off, min(off + step, n)):
                if a[i] != b[i]:
                    return i
    return n


def check(name, got, want):
    if got != want:
        i = first_difference(got, want)
        raise Failed(f"{name}: {len(got)} bytes arrived of {len(want)}, first difference at byte {i}: "
                     f"got {bytes(got[i:i + 16])!r}, expected {want[i:i + 16]!r}")


class Espat:
    """One espat process with a pty AT port; a tiny driver for its commands."""

    def __init__(self, espat, d, name, extra=()):
        self.link = os.path.join(d, name)
        self.err = open(os.path.join(d, name + ".err"), "a+")  # a+: espat appends; our seek(0) to read cannot make it overwrite
        flash = os.path.join(d, name + ".bin")
        self.p = subprocess.Popen([espat, "run", "--pty", self.link, "--flash", flash, "--boot-ms", "0", *extra],
                                  stderr=self.err, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self.fd = open_pty(self.link)
        self.buf = bytearray()
        self.read_until(b"ready\r\n", 10)
        self.cmd("ATE0")

    def stderr_tail(self):
        self.err.seek(0)
        return self.err.read()[-1500:]

    def close(self):
        try:
            os.close(self.fd)
        except OSError:
            pass
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()

    def write(self, data, timeout=10.0, peers=()):
        mv = memoryview(data)
        deadline = time.monotonic() + timeout
        while mv:
            try:
                n = os.write(self.fd, mv)
                mv = mv[n:]
                continue
            except BlockingIOError:
                pass
            if time.monotonic() > deadline:
                raise Failed(f"the AT port took no input for {timeout} s ({len(mv)} bytes left)")
            self._wait(True, peers, 0.05)

    def _wait(self, want_write, peers, t):
        r, w, _ = select.select([self.fd, *[p.sock for p in peers]], [self.fd] if want_write else [], [], t)
        for p in peers:
            if p.sock in r:
                p.drain()
        if self.fd in r:
            self._read()

    def _read(self):
        try:
            while True:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    raise Failed("the AT port closed")
                self.buf += chunk
        except BlockingIOError:
            pass
        except OSError as e:
            if e.errno == errno.EIO:
                raise Failed("the AT port closed (EIO): espat exited?")
            raise

    def read_until(self, want, timeout=10.0, fail=(b"ERROR\r\n", b"SEND FAIL\r\n"), peers=()):
        """Consumes the port's output up to and including `want`; returns what came before."""
        deadline = time.monotonic() + timeout
        while True:
            i = self.buf.find(want)
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + len(want)]
                return out
            for f in fail:
                if f in self.buf:
                    raise Failed(f"waiting for {want!r}: got {bytes(self.buf[-200:])!r}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failed(f"waiting for {want!r}: nothing after {timeout} s; output: {bytes(self.buf[-200:])!r}")
            self._wait(False, peers, min(left, 0.2))

    def cmd(self, line, want=b"OK\r\n", timeout=10.0):
        self.write(line.encode() + b"\r\n")
        return self.read_until(want, timeout)

    def join(self):
        self.cmd("AT+CWMODE=1")
        self.cmd('AT+CWJAP="espat-ap","espat-password"', timeout=30)

    def exit_passthrough(self):
        time.sleep(0.05)             # guard silence before
        os.write(self.fd, b"+++")
        time.sleep(0.1)              # and after
        self.buf.clear()


class Peer:
    """The far end of a link: counts or keeps what it receives, sends what it is given."""

    def __init__(self, sock, keep=True):
        self.sock, self.keep = sock, keep
        self.rx = bytearray()
        self.count = 0

    def drain(self):
        try:
            while True:
                b = self.sock.recv(1 << 20)
                if not b:
                    return
                self.count += len(b)
                if self.keep:
                    self.rx += b
        except BlockingIOError:
            pass


def pump(fd, sock, up, down, timeout, name):
    """Host -> peer `up` (written into the pty as fast as it takes it) and peer -> host `down`, at
    once. Returns the seconds until each direction's last byte arrived; checks every byte."""
    up_mv, down_mv = memoryview(up), memoryview(down)
    rx_peer, rx_host = bytearray(), bytearray()
    t_up = t_down = None
    t0 = time.monotonic()
    deadline = t0 + timeout
    if not up:
        t_up = 0.0
    if not down:
        t_down = 0.0
    while t_up is None or t_down is None:
        now = time.monotonic()
        if now > deadline:
            raise Failed(f"{name}: stalled after {timeout:.0f} s: host->peer {len(rx_peer)}/{len(up)} bytes at the "
                         f"peer ({len(up) - len(up_mv)} written into the pty), peer->host {len(rx_host)}/{len(down)} "
                         f"at the host ({len(down) - len(down_mv)} sent by the peer)")
        rl = [fd, sock]
        wl = ([fd] if up_mv else []) + ([sock] if down_mv else [])
        r, w, _ = select.select(rl, wl, [], min(0.5, deadline - now))
        if fd in w:
            try:
                n = os.write(fd, up_mv[:65536])
                up_mv = up_mv[n:]
            except BlockingIOError:
                pass
        if sock in w:
            try:
                n = sock.send(down_mv[:1 << 20])
                down_mv = down_mv[n:]
            except BlockingIOError:
                pass
        if fd in r:
            try:
                rx_host += os.read(fd, 1 << 20)
            except BlockingIOError:
                pass
            if t_down is None and len(rx_host) >= len(down):
                t_down = time.monotonic() - t0
        if sock in r:
            try:
                b = sock.recv(1 << 20)
                if not b:
                    raise Failed(f"{name}: the peer's connection closed after {len(rx_peer)} bytes")
                rx_peer += b
            except BlockingIOError:
                pass
            if t_up is None and len(rx_peer) >= len(up):
                t_up = time.monotonic() - t0
    time.sleep(0.02)  # anything extra still on its way?
    for get, buf in ((lambda: os.read(fd, 1 << 20), rx_host), (lambda: sock.recv(1 << 20), rx_peer)):
        try:
            buf += get()
        except (BlockingIOError, OSError):
            pass
    check(f"{name} host->peer", rx_peer, up)
    check(f"{name} peer->host", rx_host, down)
    return t_up, t_down


class Socat:
    """`socat PTY,link=...,raw,echo=0 TCP:127.0.0.1:<port>`; `tcp_opts` ",nodelay" for the chunked
    baseline: without it Nagle holds the second half of an 8 KiB chunk (the pty hands socat at
    most 4 KiB per read) until the peer's delayed ACK, 1 to 4 ms per chunk."""

    def __init__(self, d, port, name="socat", tcp_opts=""):
        self.link = os.path.join(d, name)
        self.p = subprocess.Popen(["socat", f"PTY,link={self.link},raw,echo=0", f"TCP:127.0.0.1:{port}{tcp_opts}"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.fd = open_pty(self.link)

    def close(self):
        os.close(self.fd)
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


# ---- figures ------------------------------------------------------------------------------------


# 1. passthrough ----------------------------------------------------------------------------------

def start_passthrough(m, port):
    m.cmd(f'AT+CIPSTART="TCP","127.0.0.1",{port}')
    m.cmd("AT+CIPMODE=1")
    m.write(b"AT+CIPSEND\r\n")
    m.read_until(b">")


def end_passthrough(m):
    m.exit_passthrough()
    m.cmd("AT+CIPMODE=0")
    m.cmd("AT+CIPCLOSE", timeout=5)


def passthrough(espat, d, runs, nbytes):
    cases = [("both ways", True, True), ("host->peer alone", True, False), ("peer->host alone", False, True)]
    res = {c[0]: {"espat_up": [], "espat_down": [], "socat_up": [], "socat_down": []} for c in cases}
    m = None
    for run in range(runs):
        for label, do_up, do_down in cases:
            up = payload(nbytes, 2 * run) if do_up else b""
            down = payload(nbytes, 2 * run + 1) if do_down else b""
            timeout = 60 + nbytes / MB * 5
            # espat
            lst = listener()
            try:
                if m is None:
                    m = Espat(espat, d, "pt")
                    m.join()
                start_passthrough(m, lst.getsockname()[1])
                c = accept(lst)
                try:
                    tu, td = pump(m.fd, c, up, down, timeout, f"espat passthrough, {label}")
                    end_passthrough(m)  # before the peer closes: else espat reconnects (3.3.32)
                finally:
                    c.close()
                res[label]["espat_up"].append(nbytes / MB / tu if do_up else None)
                res[label]["espat_down"].append(nbytes / MB / td if do_down else None)
            except Failed as e:
                report_failure(f"run {run + 1}, espat passthrough {label}", e)
                res[label]["espat_up"].append(None)
                res[label]["espat_down"].append(None)
                if m:
                    m.close()
                    m = None  # a fresh module for the next run
            finally:
                lst.close()
            # socat
            lst = listener()
            try:
                s = Socat(d, lst.getsockname()[1])
                try:
                    c = accept(lst)
                    tu, td = pump(s.fd, c, up, down, timeout, f"socat, {label}")
                    res[label]["socat_up"].append(nbytes / MB / tu if do_up else None)
                    res[label]["socat_down"].append(nbytes / MB / td if do_down else None)
                    c.close()
                finally:
                    s.close()
            except Failed as e:
                report_failure(f"run {run + 1}, socat {label}", e)
                res[label]["socat_up"].append(None)
                res[label]["socat_down"].append(None)
            finally:
                lst.close()
    if m:
        m.close()
    print(f"\n1. passthrough, {nbytes / MB:g} MB each way, pty <-> TCP peer on loopback; {runs} runs")
    Table()
    for label, do_up, do_down in cases:
        r = res[label]
        for way, on in (("up", do_up), ("down", do_down)):
            if not on:
                continue
            arrow = "host->peer" if way == "up" else "peer->host"
            Table.row(f"{label}: {arrow}, espat", r[f"espat_{way}"], "MB/s")
            Table.row(f"{label}: {arrow}, socat relay (baseline)", r[f"socat_{way}"], "MB/s")
            Table.ratio(f"{label}: {arrow}, espat/socat", r[f"espat_{way}"], r[f"socat_{way}"])


# 2. pacing ---------------------------------------------------------------------------------------

def pacing(espat, d, runs, sizes):
    print(f"\n2. passthrough with --baud-pacing, both ways at once; {runs} runs")
    Table()
    for baud, nbytes in sizes:
        line = baud / 10
        ups, downs = [], []
        m = None
        for run in range(runs):
            lst = listener()
            try:
                if m is None:
                    m = Espat(espat, d, f"pace{baud}", ["--baud-pacing"])
                    m.cmd(f"AT+UART_CUR={baud},8,1,0,0")
                    m.join()
                up, down = payload(nbytes, 100 + run), payload(nbytes, 200 + run)
                start_passthrough(m, lst.getsockname()[1])
                c = accept(lst)
                try:
                    tu, td = pump(m.fd, c, up, down, nbytes / line * 1.5 + 10, f"pacing {baud}")
                    end_passthrough(m)  # before the peer closes: else espat reconnects (3.3.32)
                finally:
                    c.close()
                ups.append(nbytes / tu / line * 100)
                downs.append(nbytes / td / line * 100)
            except Failed as e:
                report_failure(f"run {run + 1}, pacing {baud}", e)
                ups.append(None)
                downs.append(None)
                if m:
                    m.close()
                    m = None
            finally:
                lst.close()
        if m:
            m.close()
        Table.row(f"{baud} baud, {nbytes / 1000:g} kB: host->peer, % of {line / 1000:g} kB/s", ups, "%")
        Table.row(f"{baud} baud, {nbytes / 1000:g} kB: peer->host, % of {line / 1000:g} kB/s", downs, "%")


# 3. AT+CIPSEND and +IPD -----------------------------------------------------------------------

def cipsend_run(m, peers, size, count, seed):
    """`count` AT+CIPSEND of `size` bytes, round-robin over the peers (AT+CIPMUX=1 when several);
    each waits for SEND OK. Returns seconds."""
    data = payload(size * count, seed)
    mux = len(peers) > 1
    for p in peers:
        p.rx.clear()
    t0 = time.monotonic()
    for i in range(count):
        k = i % len(peers)
        m.write((f"AT+CIPSEND={k},{size}\r\n" if mux else f"AT+CIPSEND={size}\r\n").encode(), peers=peers)
        m.read_until(b">", peers=peers)
        m.write(data[i * size:(i + 1) * size], peers=peers)
        m.read_until(b"SEND OK\r\n", peers=peers)
    dt = time.monotonic() - t0
    deadline = time.monotonic() + 10
    want = [b"".join(data[i * size:(i + 1) * size] for i in range(k, count, len(peers))) for k in range(len(peers))]
    while any(len(p.rx) < len(w) for p, w in zip(peers, want)) and time.monotonic() < deadline:
        m._wait(False, peers, 0.05)
    for k, (p, w) in enumerate(zip(peers, want)):
        check(f"CIPSEND link {k}", p.rx, w)
    return dt


def socat_chunks(fd, peer, size, count, seed):
    """The baseline of a send: the same chunks written into the relay's pty, each waited for at
    the peer."""
    data = payload(size * count, seed)
    peer.rx.clear()
    t0 = time.monotonic()
    for i in range(count):
        mv = memoryview(data)[i * size:(i + 1) * size]
        deadline = time.monotonic() + 10
        while mv:
            try:
                n = os.write(fd, mv)
                mv = mv[n:]
            except BlockingIOError:
                select.select([], [fd], [], 0.05)
        while len(peer.rx) < (i + 1) * size:
            if time.monotonic() > deadline:
                raise Failed(f"socat: chunk {i} never reached the peer")
            select.select([peer.sock], [], [], 0.05)
            peer.drain()
    dt = time.monotonic() - t0
    check("socat chunks", peer.rx, data)
    return dt


def ipd_receive(m, sock, nbytes, seed, timeout):
    """The peer sends nbytes; the payload is taken out of the \\r\\n+IPD,<n>:<data> frames."""
    data = payload(nbytes, seed)
    mv = memoryview(data)
    got = bytearray()
    raw = m.buf
    frames = 0
    t0 = time.monotonic()
    deadline = t0 + timeout
    head = re.compile(rb"\r\n\+IPD,(\d+):")
    while len(got) < nbytes:
        if time.monotonic() > deadline:
            raise Failed(f"+IPD: {len(got)} of {nbytes} payload bytes after {timeout:.0f} s ({frames} frames); "
                         f"unparsed output: {bytes(raw[:120])!r}")
        r, w, _ = select.select([m.fd], [sock] if mv else [], [], 0.5)
        if sock in w:
            try:
                n = sock.send(mv[:1 << 20])
                mv = mv[n:]
            except BlockingIOError:
                pass
        if m.fd in r:
            try:
                raw += os.read(m.fd, 1 << 20)
            except BlockingIOError:
                pass
            while True:  # take whole frames
                h = head.match(raw)
                if not h:
                    if len(raw) >= 16 and not raw.startswith(b"\r\n+IPD,"):
                        raise Failed(f"+IPD: unexpected output after {len(got)} bytes: {bytes(raw[:120])!r}")
                    break
                n = int(h.group(1))
                if len(raw) < h.end() + n:
                    break
                got += raw[h.end():h.end() + n]
                del raw[:h.end() + n]
                frames += 1
    dt = time.monotonic() - t0
    check("+IPD payload", got, data)
    return dt, frames


def socat_stream_down(fd, sock, nbytes, seed, timeout):
    tu, td = pump(fd, sock, b"", payload(nbytes, seed), timeout, "socat peer->host")
    return td


def cipsend(espat, d, runs, ipd_bytes):
    sizes = [(1024, 1000), (8192, 250)]
    res = {}
    ipd, ipd_base, ipd_frames = [], [], []
    m = None
    for run in range(runs):
        for size, count in sizes:
            for links in (1, 5):
                key = (size, links)
                r = res.setdefault(key, {"espat": [], "socat": []})
                lst = listener()
                peers = []
                try:
                    if m is None:
                        m = Espat(espat, d, "send")
                        m.join()
                    if links > 1:
                        m.cmd("AT+CIPMUX=1")
                        for k in range(links):
                            m.cmd(f'AT+CIPSTART={k},"TCP","127.0.0.1",{lst.getsockname()[1]}')
                            peers.append(Peer(accept(lst)))
                    else:
                        m.cmd(f'AT+CIPSTART="TCP","127.0.0.1",{lst.getsockname()[1]}')
                        peers.append(Peer(accept(lst)))
                    dt = cipsend_run(m, peers, size, count, run)
                    m.cmd("AT+CIPCLOSE=5" if links > 1 else "AT+CIPCLOSE", timeout=5)
                    if links > 1:
                        m.cmd("AT+CIPMUX=0")
                    r["espat"].append(dt)
                except Failed as e:
                    report_failure(f"run {run + 1}, AT+CIPSEND {size} B over {links} link(s)", e)
                    r["espat"].append(None)
                    if m:
                        m.close()
                        m = None
                finally:
                    for p in peers:
                        p.sock.close()
                    lst.close()
                r.setdefault("count", count)
            # the baseline once per size and run (one relay: the pty's cost does not depend on links)
            lst = listener()
            try:
                s = Socat(d, lst.getsockname()[1], tcp_opts=",nodelay")
                try:
                    p = Peer(accept(lst))
                    dt = socat_chunks(s.fd, p, size, count, run)
                    for links in (1, 5):
                        res[(size, links)]["socat"].append(dt)
                    p.sock.close()
                finally:
                    s.close()
            except Failed as e:
                report_failure(f"run {run + 1}, socat chunks of {size} B", e)
                for links in (1, 5):
                    res[(size, links)]["socat"].append(None)
            finally:
                lst.close()
        # +IPD receive
        lst = listener()
        try:
            if m is None:
                m = Espat(espat, d, "send")
                m.join()
            m.cmd(f'AT+CIPSTART="TCP","127.0.0.1",{lst.getsockname()[1]}')
            c = accept(lst)
            try:
                dt, frames = ipd_receive(m, c, ipd_bytes, 300 + run, 60 + ipd_bytes / MB * 5)
                ipd.append(ipd_bytes / MB / dt)
                ipd_frames.append(frames)
            finally:
                c.close()
                m.read_until(b"CLOSED\r\n", timeout=5)
        except Failed as e:
            report_failure(f"run {run + 1}, +IPD receive", e)
            ipd.append(None)
            if m:
                m.close()
                m = None
        finally:
            lst.close()
        lst = listener()
        try:
            s = Socat(d, lst.getsockname()[1])
            try:
                c = accept(lst)
                ipd_base.append(ipd_bytes / MB / socat_stream_down(s.fd, c, ipd_bytes, 300 + run, 60))
                c.close()
            finally:
                s.close()
        except Failed as e:
            report_failure(f"run {run + 1}, socat peer->host", e)
            ipd_base.append(None)
        finally:
            lst.close()
    if m:
        m.close()
    print(f"\n3. AT+CIPSEND in normal mode, each waiting for SEND OK; +IPD receive; {runs} runs")
    Table()
    for (size, links), r in sorted(res.items()):
        n = r["count"]
        e = [None if t is None else n / t for t in r["espat"]]
        b = [None if t is None else n / t for t in r["socat"]]
        Table.row(f"CIPSEND {size} B, {links} link{'s' if links > 1 else ''}, {n} sends: espat", e, "sends/s", "{:10.0f}")
        Table.row(f"  the same, in MB/s", [None if x is None else x * size / MB for x in e], "MB/s")
        Table.row(f"  socat relay (nodelay), {size} B chunks each awaited", b, "chunks/s", "{:10.0f}")
        Table.ratio(f"  espat/socat", e, b)
    Table.row(f"+IPD receive, {ipd_bytes / MB:g} MB: payload rate, espat", ipd, "MB/s")
    Table.row(f"  +IPD frames per run", ipd_frames, "frames", "{:10.0f}")
    Table.row(f"  socat relay peer->pty, raw (baseline)", ipd_base, "MB/s")
    Table.ratio(f"  espat/socat", ipd, ipd_base)


# 4. a fleet with links -------------------------------------------------------------------------

FLEET_PORT_BASE = 22000


def fleet_run(espat, d, base, world, n):
    trace = os.path.join(d, f"fleet-trace-{n}.log")
    for f in os.listdir(d):
        if f.endswith(".overlay") or f.startswith("fleet-trace"):
            os.unlink(os.path.join(d, f))
    err = open(os.path.join(d, f"fleet-err-{n}.log"), "a+")  # a+: espat appends; our seek(0) to read cannot make it overwrite
    p = subprocess.Popen([espat, "run", "--modules", str(n), "--tcp", f"127.0.0.1:{FLEET_PORT_BASE}", "--flash", base,
                          "--flash-overlays", "--world", world, "--trace", trace],
                         stderr=err, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    socks, accepted = [], []
    lst = listener()
    try:
        # every module joined (the base image auto-connects), as fleet.py reads it from the trace
        deadline = time.monotonic() + 120
        joined = 0
        while not os.path.exists(trace):
            if time.monotonic() > deadline or p.poll() is not None:
                raise Failed("the trace never appeared")
            time.sleep(0.01)
        with open(trace) as t:
            partial = ""
            while joined < n:
                if time.monotonic() > deadline or p.poll() is not None:
                    raise Failed(f"only {joined} of {n} modules joined")
                line = partial + t.readline()
                if not line.endswith("\n"):
                    partial = line
                    time.sleep(0.01)
                    continue
                partial = ""
                if " joined fleet-ap" in line:
                    joined += 1
        ports = {}
        err.seek(0)
        for k, port in re.findall(r"module (\d+): AT port on (?:tcp )?127\.0\.0\.1:(\d+)", err.read()):
            ports[int(k)] = int(port)
        # connect every AT port and check it answers
        sel = selectors.DefaultSelector()
        for k in range(n):
            s = socket.create_connection(("127.0.0.1", ports.get(k, FLEET_PORT_BASE + k)), timeout=10)
            s.setblocking(False)
            socks.append(s)
            sel.register(s, selectors.EVENT_READ, k)
        bufs = [bytearray() for _ in range(n)]

        def all_answer(line, want, what, accept_from=None):
            for b in bufs:
                b.clear()
            for s in socks:
                s.sendall(line)
            if accept_from:
                accept_from.setblocking(False)
                sel.register(accept_from, selectors.EVENT_READ, -1)
            done = set()
            deadline = time.monotonic() + 120
            while len(done) < n or (accept_from and len(accepted) < n):
                if time.monotonic() > deadline:
                    raise Failed(f"{what}: {len(done)} of {n} modules answered, {len(accepted)} links accepted; "
                                 f"a silent one: {next((bytes(bufs[k]) for k in range(n) if k not in done), b'')!r}")
                for key, _ in sel.select(1.0):
                    k = key.data
                    if k == -1:
                        try:
                            while True:
                                c, _ = accept_from.accept()
                                accepted.append(c)
                        except BlockingIOError:
                            pass
                        continue
                    try:
                        b = key.fileobj.recv(65536)
                    except BlockingIOError:
                        continue
                    if not b:
                        raise Failed(f"{what}: module {k}'s AT port closed")
                    bufs[k] += b
                    if want in bufs[k]:
                        done.add(k)
                    elif b"ERROR" in bufs[k]:
                        raise Failed(f"{what}: module {k} answered {bytes(bufs[k])!r}")
            if accept_from:
                sel.unregister(accept_from)

        all_answer(b"AT\r\n", b"OK\r\n", "AT")
        time.sleep(1.0)  # idle: timers and buffers settle
        rss_idle = fleet.rss_kib(p.pid)
        all_answer(f'AT+CIPSTART="TCP","127.0.0.1",{lst.getsockname()[1]}\r\n'.encode(), b"OK\r\n", "AT+CIPSTART", lst)
        time.sleep(1.0)
        rss_links = fleet.rss_kib(p.pid)
        return rss_idle, rss_links
    finally:
        for s in socks + accepted:
            s.close()
        lst.close()
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def fleet_links(espat, d, runs, n):
    world = os.path.join(d, "fleet-world.toml")
    open(world, "w").write(fleet.WORLD)
    base = fleet.make_base(espat, d, world)
    idle, linked, idle1, linked1 = [], [], [], []
    for run in range(runs):
        try:
            a1, b1 = fleet_run(espat, d, base, world, 1)  # the baseline: one module, the same way
            a, b = fleet_run(espat, d, base, world, n)
            for l, v in ((idle1, a1), (linked1, b1), (idle, a), (linked, b)):
                l.append(v)
        except Failed as e:
            report_failure(f"run {run + 1}, {n} modules with links", e)
            for l in (idle1, linked1, idle, linked):
                l.append(None)

    def per(xs, ones):
        return [None if x is None or o is None else (x - o) / (n - 1) for x, o in zip(xs, ones)]

    print(f"\n4. {n} modules in one process, joined, each AT port connected (TCP); {runs} runs")
    Table()
    Table.row("1 module, no link: RSS of the process (baseline)", [None if x is None else x / 1024 for x in idle1], "MiB")
    Table.row("1 module, one idle TCP link: RSS of the process", [None if x is None else x / 1024 for x in linked1], "MiB")
    Table.row(f"{n} modules, no links: RSS of the process", [None if x is None else x / 1024 for x in idle], "MiB")
    Table.row(f"{n} modules, one idle TCP link each: RSS of the process", [None if x is None else x / 1024 for x in linked], "MiB")
    Table.row(f"RSS per module, no links (minus 1 module, / {n - 1})", per(idle, idle1), "KiB")
    Table.row(f"RSS per module, one idle TCP link each (the same)", per(linked, linked1), "KiB")
    Table.row(f"RSS per link: ({n} with - {n} without) / {n}",
              [None if a is None else (b - a) / n for a, b in zip(idle, linked)], "KiB")
    Table.ratio("RSS per module, with a link / without", per(linked, linked1), per(idle, idle1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("espat")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default="passthrough,pacing,cipsend,fleet")
    ap.add_argument("--mb", type=float, default=8, help="MB each way in passthrough and for +IPD")
    ap.add_argument("--modules", type=int, default=1000)
    ap.add_argument("--slow-bytes", type=int, default=200_000, help="bytes each way at 115200 baud")
    ap.add_argument("--fast-bytes", type=int, default=4_000_000, help="bytes each way at 3,000,000 baud")
    a = ap.parse_args()
    espat = os.path.abspath(a.espat)
    if shutil.which("socat") is None:
        sys.exit("socat is missing (scripts/install-deps.sh installs it)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    only = set(a.only.split(","))
    d = tempfile.mkdtemp(prefix="espat-tcpip-")
    try:
        if "passthrough" in only:
            passthrough(espat, d, a.runs, int(a.mb * MB))
        if "pacing" in only:
            pacing(espat, d, a.runs, [(115200, a.slow_bytes), (3_000_000, a.fast_bytes)])
        if "cipsend" in only:
            cipsend(espat, d, a.runs, int(a.mb * MB))
        if "fleet" in only:
            fleet_links(espat, d, a.runs, a.modules)
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
