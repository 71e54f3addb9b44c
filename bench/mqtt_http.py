#!/usr/bin/env python3
"""MQTT and HTTP client figures (README "Benchmarks"): what the module's own clients (spec 3.6,
3.7) carry, each beside a baseline measured the same way in the same run. Every figure is
min/median/max over the runs.

    bench/mqtt_http.py build/espat [--runs 3] [--only pub,fleet,http] [--messages 2000]
                       [--modules 1000] [--seconds 20] [--mb 10]

1. pub: --messages AT+MQTTPUB through one module (its AT port on --tcp), each sent after the
   previous OK, at QoS 0 and QoS 1, to a mosquitto broker the script starts; a mosquitto_sub on
   the same broker (subscribed at the same QoS) must receive all of them, in order, with the
   right payloads. Messages/s from the first command to the last message's arrival at the
   subscriber. Baseline: `mosquitto_pub -l` publishing the same lines at the same QoS, timed
   the same way (from the first line written into its stdin, once it is connected).
2. fleet: --modules modules in one process (--modules --tcp --flash-overlays over a base image
   that has joined, as bench/fleet.py), each connected to the broker with its own client id and
   publishing once a second (module k at k/N of each second) for --seconds; the RSS of the
   process before AT+MQTTCONN and after every module connected, per module; the rate a
   mosquitto_sub on 'fleet/#' receives, beside the expected N msg/s; every message checked.
3. http: AT+HTTPCGET of a --mb MB body from a local `python3 -m http.server`, with the largest
   <rx size> (10240) and with the default (2048), and AT+HTTPCLIENT (512-byte reads); the body
   is reassembled from the +HTTPCGET:<len>,<data> lines and compared byte for byte. Time from
   the command to the final OK. Baseline: `curl -s -o FILE` on the same URL (its own
   time_total, and the wall time of the process), the file compared.

Python 3 standard library, mosquitto, mosquitto_sub/mosquitto_pub and curl only. Every wait has a
timeout: a run that loses or garbles a message or a byte, or stalls, prints FAILED with what was
seen, and the benchmark goes on.
"""
import argparse, os, random, re, resource, selectors, shutil, signal, socket, statistics, string
import subprocess, sys, tempfile, time

sys.dont_write_bytecode = True  # no __pycache__ in bench/ from importing fleet
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fleet  # noqa: E402  (make_base, rss_kib, WORLD)
from figures import Failed, Table, report_failure, run_sections  # noqa: E402

MB = 1_000_000  # rates in MB/s (10^6 bytes)



# ---- figures (as tcpip.py prints them) -----------------------------------------------------------

# ---- helpers ------------------------------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def stop(p, timeout=5):
    if p is not None and p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_connectable(port, timeout, proc=None, what="server"):
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            pass
        if proc is not None and proc.poll() is not None:
            raise Failed(f"{what} exited ({proc.returncode})")
        if time.monotonic() > deadline:
            raise Failed(f"{what} on port {port} accepted nothing in {timeout} s")
        time.sleep(0.02)


class Broker:
    """mosquitto on a free loopback port (the machine is shared: a fixed port may be taken)."""

    def __init__(self, d, name="broker"):
        for attempt in range(5):
            self.port = free_port()
            conf = os.path.join(d, f"{name}.conf")
            with open(conf, "w") as f:
                f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                        # no cap on a subscriber's queue: a slow mosquitto_sub must not lose messages
                        "max_queued_messages 0\n"
                        + ("user root\n" if os.geteuid() == 0 else ""))
            self.log = open(os.path.join(d, f"{name}.log"), "a+")
            self.p = subprocess.Popen(["mosquitto", "-c", conf], stdin=subprocess.DEVNULL,
                                      stdout=self.log, stderr=self.log)
            try:
                wait_connectable(self.port, 5, self.p, "mosquitto")
                return
            except Failed:
                stop(self.p)
        raise Failed(f"mosquitto would not start: {self.log_tail()}")

    def log_tail(self):
        self.log.seek(0)
        return self.log.read()[-1500:]

    def close(self):
        stop(self.p)


class Sub:
    """mosquitto_sub printing `<unix time with ns> <topic> <payload>` per message (it flushes each
    one), read through a pipe by whoever waits (drain())."""

    def __init__(self, broker, topic, qos):
        self.p = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-t", topic,
                                   "-q", str(qos), "-F", "%U %t %p"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        os.set_blocking(self.p.stdout.fileno(), False)
        self.fd = self.p.stdout.fileno()
        self.partial = b""
        self.msgs = []  # (time, topic, payload)

    def drain(self):
        try:
            while True:
                b = os.read(self.fd, 1 << 20)
                if not b:
                    break
                self.partial += b
        except BlockingIOError:
            pass
        *lines, self.partial = self.partial.split(b"\n")
        for line in lines:
            ts, topic, payload = line.split(b" ", 2)
            self.msgs.append((float(ts), topic.decode(), payload.decode()))

    def wait_for(self, pred, timeout, what, poke=None):
        """Drains until pred() is true; poke() (a probe publish) every 0.3 s while waiting."""
        deadline = time.monotonic() + timeout
        next_poke = 0.0
        while not pred():
            now = time.monotonic()
            if now > deadline:
                raise Failed(f"{what}: not seen after {timeout} s ({len(self.msgs)} messages at the subscriber)")
            if self.p.poll() is not None:
                raise Failed(f"{what}: mosquitto_sub exited")
            if poke and now >= next_poke:
                poke()
                next_poke = now + 0.3
            sel = selectors.DefaultSelector()
            sel.register(self.fd, selectors.EVENT_READ)
            sel.select(0.05)
            sel.close()
            self.drain()

    def close(self):
        stop(self.p)


class Module:
    """A tiny driver for one module's AT port on a TCP socket."""

    def __init__(self, sock, name="module"):
        self.s, self.name = sock, name
        self.s.setblocking(False)
        self.buf = bytearray()
        self.others = []  # (fd, callback) drained while waiting

    def _wait(self, t):
        sel = selectors.DefaultSelector()
        sel.register(self.s, selectors.EVENT_READ)
        for fd, cb in self.others:
            sel.register(fd, selectors.EVENT_READ, cb)
        for key, _ in sel.select(t):
            if key.fileobj is self.s:
                self._read()
            else:
                key.data()
        sel.close()

    def _read(self):
        try:
            while True:
                b = self.s.recv(1 << 20)
                if not b:
                    raise Failed(f"{self.name}: the AT port closed")
                self.buf += b
        except BlockingIOError:
            pass

    def write(self, data):
        self.s.setblocking(True)
        self.s.settimeout(10)
        try:
            self.s.sendall(data)
        except socket.timeout:
            raise Failed(f"{self.name}: the AT port took no input for 10 s")
        finally:
            self.s.setblocking(False)

    def read_until(self, want, timeout=10.0, fail=(b"ERROR\r\n", b"FAIL\r\n")):
        deadline = time.monotonic() + timeout
        while True:
            i = self.buf.find(want)
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + len(want)]
                return out
            for f in fail:
                if f in self.buf:
                    raise Failed(f"{self.name}: waiting for {want!r}: got {bytes(self.buf[-300:])!r}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failed(f"{self.name}: waiting for {want!r}: nothing after {timeout} s; "
                             f"output: {bytes(self.buf[-300:])!r}")
            self._wait(min(left, 0.2))

    def cmd(self, line, want=b"OK\r\n", timeout=10.0):
        self.write(line.encode() + b"\r\n")
        return self.read_until(want, timeout)

    def close(self):
        self.s.close()


class Espat:
    """One espat process, one module, its AT port on tcp 127.0.0.1:<free port>."""

    def __init__(self, espat, d, name, extra=()):
        path = os.path.join(d, name + ".err")
        if os.path.exists(path):
            os.unlink(path)  # a new file each run: the last run's port must not be read
        # O_APPEND: the child shares this file's offset, which our seek(0) before a read moves
        self.err = open(path, "a+")
        flash = os.path.join(d, name + ".bin")
        self.p = subprocess.Popen([espat, "run", "--tcp", "127.0.0.1:0", "--flash", flash, "--boot-ms", "0", *extra],
                                  stderr=self.err, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        port = None
        deadline = time.monotonic() + 15
        while port is None:
            self.err.seek(0)
            m = re.search(r"AT port on tcp 127\.0\.0\.1:(\d+)", self.err.read())
            if m:
                port = int(m.group(1))
            elif self.p.poll() is not None or time.monotonic() > deadline:
                raise Failed(f"espat printed no AT port: {self.stderr_tail()}")
            else:
                time.sleep(0.01)
        self.m = Module(socket.create_connection(("127.0.0.1", port), timeout=10), name)
        for _ in range(50):  # until the module answers
            try:
                self.m.cmd("AT", timeout=0.2)
                break
            except Failed:
                pass
        self.m.cmd("ATE0")
        self.m.buf.clear()

    def stderr_tail(self):
        self.err.seek(0)
        return self.err.read()[-1500:]

    def join(self):
        self.m.cmd("AT+CWMODE=1")
        self.m.cmd('AT+CWJAP="espat-ap","espat-password"', timeout=30)

    def close(self):
        self.m.close()
        stop(self.p)


ALNUM = (string.ascii_letters + string.digits).encode()


def payloads(n, seed, size=40):
    """n distinct printable payloads (no quote, comma or backslash: AT+MQTTPUB takes them as
    they are), each starting with its index."""
    r = random.Random(seed)
    return [f"{i:06d}-".encode() + bytes(r.choice(ALNUM) for _ in range(size - 7)) for i in range(n)]


# 1. publish rate ------------------------------------------------------------------------------------

def check_messages(sub, topic, want, what):
    got = [p.encode() for _, t, p in sub.msgs if t == topic and p != "warmup"]
    if got != want:
        i = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]), min(len(got), len(want)))
        raise Failed(f"{what}: {len(got)} messages of {len(want)} arrived; first difference at message {i}: "
                     f"got {got[i] if i < len(got) else None!r}, expected {want[i] if i < len(want) else None!r}")
    return max(ts for ts, t, p in sub.msgs if t == topic and p != "warmup")


def espat_pub(e, broker, qos, msgs, run):
    topic = f"bench/espat/{run}/{qos}"
    sub = Sub(broker, topic, qos)
    e.m.others = [(sub.fd, sub.drain)]
    try:
        n = len(msgs)
        # the warm-up publish is the subscriber's readiness probe (and goes the same way)
        sub.wait_for(lambda: any(p == "warmup" for _, _, p in sub.msgs), 10, "the warm-up message",
                     poke=lambda: e.m.cmd(f'AT+MQTTPUB=0,"{topic}","warmup",{qos},0'))
        t0 = time.time()
        for m in msgs:
            e.m.write(b'AT+MQTTPUB=0,"' + topic.encode() + b'","' + m + f'",{qos},0\r\n'.encode())
            e.m.read_until(b"OK\r\n")
        t_cmds = time.time() - t0
        sub.wait_for(lambda: sum(1 for _, t, p in sub.msgs if p != "warmup") >= n, 30, f"{n} messages")
        time.sleep(0.05)
        sub.drain()
        t_last = check_messages(sub, topic, msgs, "espat")
        return n / (t_last - t0), n / t_cmds
    finally:
        e.m.others = []
        sub.close()


def mosquitto_pub(broker, qos, msgs, run):
    topic = f"bench/base/{run}/{qos}"
    sub = Sub(broker, topic, qos)
    pub = subprocess.Popen(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-t", topic, "-q", str(qos),
                            "-l"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        n = len(msgs)

        def poke():
            pub.stdin.write(b"warmup\n")
            pub.stdin.flush()

        sub.wait_for(lambda: any(p == "warmup" for _, _, p in sub.msgs), 10, "the warm-up message", poke=poke)
        t0 = time.time()
        data = b"".join(m + b"\n" for m in msgs)
        os.set_blocking(pub.stdin.fileno(), False)
        mv = memoryview(data)
        deadline = time.monotonic() + 30
        while mv:  # mosquitto_pub reads its stdin while our pipe fills: write what it takes, drain the sub
            try:
                k = os.write(pub.stdin.fileno(), mv)
                mv = mv[k:]
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise Failed("mosquitto_pub took no more input for 30 s")
                sel = selectors.DefaultSelector()
                sel.register(pub.stdin.fileno(), selectors.EVENT_WRITE)
                sel.register(sub.fd, selectors.EVENT_READ)
                sel.select(0.05)
                sel.close()
                sub.drain()
        pub.stdin.close()
        sub.wait_for(lambda: sum(1 for _, t, p in sub.msgs if p != "warmup") >= n, 30, f"{n} messages")
        time.sleep(0.05)
        sub.drain()
        t_last = check_messages(sub, topic, msgs, "mosquitto_pub")
        return n / (t_last - t0)
    finally:
        try:
            pub.wait(10)
        except subprocess.TimeoutExpired:
            stop(pub)
        sub.close()


def pub_section(espat, d, runs, n):
    res = {q: {"espat": [], "cmds": [], "base": []} for q in (0, 1)}
    broker = Broker(d, "pub-broker")
    e = None
    try:
        for run in range(runs):
            for qos in (0, 1):
                msgs = payloads(n, 10 * run + qos)
                r = res[qos]
                try:
                    if e is None:
                        e = Espat(espat, d, "pub")
                        e.join()
                        e.m.cmd('AT+MQTTUSERCFG=0,1,"espat-bench","","",0,0,""')
                        out = e.m.cmd(f'AT+MQTTCONN=0,"127.0.0.1",{broker.port},0', timeout=15)
                        want = f'+MQTTCONNECTED:0,1,"127.0.0.1","{broker.port}","",0\r\n'.encode()
                        if want not in out:
                            raise Failed(f"AT+MQTTCONN answered {out!r}")
                    rate, cmd_rate = espat_pub(e, broker, qos, msgs, run)
                    r["espat"].append(rate)
                    r["cmds"].append(cmd_rate)
                except Failed as ex:
                    report_failure(f"run {run + 1}, espat QoS {qos}", ex)
                    r["espat"].append(None)
                    r["cmds"].append(None)
                    if e:
                        e.close()
                        e = None
                try:
                    r["base"].append(mosquitto_pub(broker, qos, msgs, run))
                except Failed as ex:
                    report_failure(f"run {run + 1}, mosquitto_pub QoS {qos}", ex)
                    r["base"].append(None)
    finally:
        if e:
            e.close()
        broker.close()
    print(f"\n1. MQTT publish, {n} messages of 40 bytes per run, each AT+MQTTPUB after the previous OK; "
          f"{runs} runs")
    Table(62)
    for qos in (0, 1):
        r = res[qos]
        Table.row(f"QoS {qos}: espat AT+MQTTPUB, received by mosquitto_sub", r["espat"], "msg/s", "{:10.0f}")
        Table.row(f"  the same, commands answered (first command to last OK)", r["cmds"], "cmd/s", "{:10.0f}")
        Table.row(f"  mosquitto_pub -l (baseline), received by mosquitto_sub", r["base"], "msg/s", "{:10.0f}")
        Table.ratio(f"  espat/mosquitto_pub, run by run", r["espat"], r["base"])
        Table.median_ratio(f"  espat/mosquitto_pub, ratio of the medians", r["espat"], r["base"])


# 2. a publishing fleet ------------------------------------------------------------------------------

class Fleet:
    """N modules in one espat process over a joined base image; every AT port connected."""

    def __init__(self, espat, d, base, world, n):
        self.n = n
        for f in os.listdir(d):
            if f.endswith(".overlay"):
                os.unlink(os.path.join(d, f))
        # a new file each run, O_APPEND: the child shares its offset, which our seek(0) moves
        path = os.path.join(d, f"fleet-{n}.err")
        if os.path.exists(path):
            os.unlink(path)
        self.err = open(path, "a+")
        # port 0: each module a free port (the machine is shared; fixed ranges may be taken)
        self.p = subprocess.Popen([espat, "run", "--modules", str(n), "--tcp", "127.0.0.1:0", "--flash", base,
                                   "--flash-overlays", "--world", world],
                                  stderr=self.err, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self.socks = []
        try:
            self._connect(n)
        except BaseException:
            self.close()  # else the process lives on, its overlays locked for the next run
            raise

    def _connect(self, n):
        ports = {}
        t0 = time.monotonic()
        deadline = t0 + 120
        while len(ports) < n:
            self.err.seek(0)
            text = self.err.read()
            ports = {int(k): int(p) for k, p in re.findall(r"module (\d+): AT port on (?:tcp )?127\.0\.0\.1:(\d+)", text)}
            if n == 1:
                m = re.search(r"AT port on tcp 127\.0\.0\.1:(\d+)", text)
                if m:
                    ports = {0: int(m.group(1))}
            if self.p.poll() is not None or time.monotonic() > deadline:
                odd = [l for l in text.splitlines() if "AT port on" not in l]
                missing = sorted(set(range(n)) - set(ports))[:10]
                raise Failed(f"{len(ports)} of {n} AT ports printed after {time.monotonic() - t0:.1f} s "
                             f"(exit code {self.p.poll()}); missing modules {missing}; its other lines: {odd[:10]}; "
                             f"its last line: {text.splitlines()[-1] if text else ''!r}")
            time.sleep(0.05)
        self.t_ports = time.monotonic() - t0
        self.sel = selectors.DefaultSelector()
        for k in range(n):
            s = socket.create_connection(("127.0.0.1", ports[k]), timeout=10)
            s.setblocking(False)
            self.socks.append(s)
            self.sel.register(s, selectors.EVENT_READ, k)
        self.bufs = [bytearray() for _ in range(n)]

    def poll(self, t, on_data=None):
        for key, _ in self.sel.select(t):
            k = key.data
            if callable(k):
                k()
                continue
            try:
                b = key.fileobj.recv(65536)
            except BlockingIOError:
                continue
            if not b:
                raise Failed(f"module {k}'s AT port closed")
            self.bufs[k] += b
            if on_data:
                on_data(k)

    def all_answer(self, line_of, want, what, timeout=120, ok=None):
        """Sends line_of(k) to every module; waits until each one's output holds `want` (ok(k, buf)
        decides when given). Returns the modules that answered ERROR or FAIL."""
        for b in self.bufs:
            b.clear()
        for k, s in enumerate(self.socks):
            s.setblocking(True)
            s.sendall(line_of(k).encode() + b"\r\n")
            s.setblocking(False)
        done, bad = set(), set()
        deadline = time.monotonic() + timeout

        def on_data(k):
            b = self.bufs[k]
            if (ok(k, b) if ok else want in b):
                done.add(k)
            elif b"ERROR" in b or b"FAIL" in b:
                bad.add(k)
                done.add(k)

        while len(done) < self.n:
            if time.monotonic() > deadline:
                silent = next(k for k in range(self.n) if k not in done)
                raise Failed(f"{what}: {len(done)} of {self.n} modules answered in {timeout} s; "
                             f"module {silent} said {bytes(self.bufs[silent][-200:])!r}")
            self.poll(1.0, on_data)
        return bad

    def close(self):
        for s in self.socks:
            s.close()
        stop(self.p, 10)


def fleet_run(espat, d, base, world, n, broker, seconds):
    f = Fleet(espat, d, base, world, n)
    sub = None
    try:
        # input before `ready` is lost, as on the chip: wait for every module's ready first
        deadline = time.monotonic() + 120
        while not all(b"ready\r\n" in b for b in f.bufs):
            if time.monotonic() > deadline or f.p.poll() is not None:
                raise Failed(f"{sum(1 for b in f.bufs if b'ready' in b)} of {n} modules printed ready")
            f.poll(0.5)
        f.all_answer(lambda k: "ATE0", b"OK\r\n", "ATE0")
        # every module joined at boot (the base image): wait for CWSTATE 2 (got an IPv4 address)
        deadline = time.monotonic() + 120
        pending = set(range(n))
        while pending:
            if time.monotonic() > deadline:
                raise Failed(f"{len(pending)} of {n} modules never joined fleet-ap")
            f.all_answer(lambda k: "AT+CWSTATE?", b"OK\r\n", "AT+CWSTATE?")
            pending = {k for k in range(n) if b"+CWSTATE:2," not in f.bufs[k]}
            if pending:
                time.sleep(0.5)
        time.sleep(1.0)  # idle: timers and buffers settle
        rss_before = fleet.rss_kib(f.p.pid)
        sub = Sub(broker, "fleet/#", 0)
        f.sel.register(sub.fd, selectors.EVENT_READ, sub.drain)
        probe = lambda: subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port),
                                        "-t", "fleet/probe", "-m", "warmup"], timeout=10)
        sub.wait_for(lambda: any(t == "fleet/probe" for _, t, _ in sub.msgs), 10, "the probe", poke=probe)
        bad = f.all_answer(lambda k: f'AT+MQTTUSERCFG=0,1,"espat-fleet-{k}","","",0,0,""', b"OK\r\n",
                           "AT+MQTTUSERCFG")
        if bad:
            raise Failed(f"AT+MQTTUSERCFG failed on {len(bad)} modules, e.g. {bytes(f.bufs[min(bad)])!r}")
        t_conn = time.monotonic()
        bad = f.all_answer(lambda k: f'AT+MQTTCONN=0,"127.0.0.1",{broker.port},0', b"OK\r\n", "AT+MQTTCONN",
                           timeout=180, ok=lambda k, b: b"+MQTTCONNECTED:" in b and b"OK\r\n" in b)
        t_conn = time.monotonic() - t_conn
        retried = len(bad)
        for attempt in range(3):  # a refused connect (the broker's backlog) is tried again, counted
            if not bad:
                break
            example = bytes(f.bufs[min(bad)][-200:])
            for k in bad:
                f.bufs[k].clear()
                f.socks[k].sendall(f'AT+MQTTCONN=0,"127.0.0.1",{broker.port},0\r\n'.encode())
            again = set()
            done = set()
            dl = time.monotonic() + 60
            while len(done) < len(bad):
                if time.monotonic() > dl:
                    raise Failed(f"AT+MQTTCONN retried: {len(done)} of {len(bad)} answered")

                def on(k):
                    if k in bad and k not in done:
                        if b"+MQTTCONNECTED:" in f.bufs[k] and b"OK\r\n" in f.bufs[k]:
                            done.add(k)
                        elif b"ERROR" in f.bufs[k]:
                            done.add(k)
                            again.add(k)
                f.poll(1.0, on)
            bad = again
        if bad:
            raise Failed(f"AT+MQTTCONN failed on {len(bad)} modules after 3 tries, e.g. {example!r}")
        time.sleep(1.0)
        rss_conn = fleet.rss_kib(f.p.pid)

        # publish: module k at t0 + s + k/N for s in 0..seconds-1, each after its previous OK
        sub.msgs.clear()
        events = [(s + k / n, k, s) for s in range(seconds) for k in range(n)]
        busy = [None] * n            # the second being published, the time sent
        queued = [[] for _ in range(n)]  # seconds due while the previous publish was still out
        lat = []
        late = 0
        for b in f.bufs:
            b.clear()

        def send(k, s):
            busy[k] = (s, time.monotonic())
            f.socks[k].send(f'AT+MQTTPUB=0,"fleet/{k}","{k}-{s}",0,0\r\n'.encode())

        def on_pub(k):
            b = f.bufs[k]
            while True:
                if b.startswith(b"\r\nOK\r\n") or b.startswith(b"OK\r\n"):
                    del b[:b.index(b"OK\r\n") + 4]
                    if busy[k] is None:
                        raise Failed(f"module {k}: an OK nobody asked for")
                    lat.append(time.monotonic() - busy[k][1])
                    busy[k] = None
                    if queued[k]:
                        send(k, queued[k].pop(0))
                elif b"ERROR" in b:
                    raise Failed(f"module {k}: AT+MQTTPUB answered {bytes(b)!r}")
                else:
                    return

        t0m = time.monotonic()
        t0 = time.time()
        i = 0
        while i < len(events):
            now = time.monotonic() - t0m
            while i < len(events) and events[i][0] <= now:
                _, k, s = events[i]
                if busy[k] is None:
                    send(k, s)
                else:
                    queued[k].append(s)
                    late += 1
                i += 1
            wait = events[i][0] - (time.monotonic() - t0m) if i < len(events) else 0
            f.poll(max(0.0, min(wait, 0.05)), on_pub)
        t_sent = time.monotonic() - t0m
        dl = time.monotonic() + 30
        total = n * seconds
        while any(busy) or sum(1 for _, t, _ in sub.msgs if t != "fleet/probe") < total:
            if time.monotonic() > dl:
                stuck = next((k for k in range(n) if busy[k]), None)
                raise Failed(f"after the {seconds} s: {sum(1 for x in busy if x)} publishes unanswered "
                             f"(module {stuck} said {bytes(f.bufs[stuck][-200:]) if stuck is not None else b''!r}), "
                             f"{len(sub.msgs)} of {total} messages at the subscriber after 30 s more")
            f.poll(0.2, on_pub)
        time.sleep(0.2)
        sub.drain()
        rss_pub = fleet.rss_kib(f.p.pid)
        # every module's messages, in order
        per = {}
        for ts, t, p in sub.msgs:
            if t != "fleet/probe":
                per.setdefault(t, []).append(p)
        for k in range(n):
            want = [f"{k}-{s}" for s in range(seconds)]
            if per.get(f"fleet/{k}") != want:
                got = per.get(f"fleet/{k}", [])
                raise Failed(f"module {k}: the subscriber got {len(got)} of {seconds} messages: {got[:5]}...")
        if len(sub.msgs) != total:
            raise Failed(f"{len(sub.msgs)} messages at the subscriber, {total} expected")
        # the rate the broker delivered over the publishing window
        window = [ts for ts, t, p in sub.msgs if t0 + 1 <= ts < t0 + seconds]
        rate = len(window) / (seconds - 1)
        lat.sort()
        return {"t_ports": f.t_ports, "rss_before": rss_before, "rss_conn": rss_conn, "rss_pub": rss_pub, "rate": rate,
                "t_conn": t_conn, "retried": retried, "late": late, "t_sent": t_sent,
                "lat_med": lat[len(lat) // 2] * 1000, "lat_99": lat[int(len(lat) * 0.99)] * 1000,
                "last": max(ts for ts, _, _ in sub.msgs) - t0}
    finally:
        if sub:
            sub.close()
        f.close()


def fleet_section(espat, d, runs, n, seconds):
    world = os.path.join(d, "fleet-world.toml")
    open(world, "w").write(fleet.WORLD)
    base = fleet.make_base(espat, d, world)
    broker = Broker(d, "fleet-broker")
    rs = []
    try:
        for run in range(runs):
            try:
                rs.append(fleet_run(espat, d, base, world, n, broker, seconds))
            except Failed as e:
                report_failure(f"run {run + 1}, {n} modules publishing", e)
                rs.append(None)
    finally:
        broker.close()

    def col(key, scale=1.0):
        return [None if r is None else r[key] * scale for r in rs]

    print(f"\n2. {n} modules in one process, each connected to mosquitto with its own client id, "
          f"AT+MQTTPUB (QoS 0) once a second for {seconds} s; {runs} runs")
    Table(62)
    Table.row(f"start of the process to the last of the {n} AT ports", col("t_ports"), "s")
    Table.row("RSS of the process, joined, AT ports connected, before MQTT", col("rss_before", 1 / 1024), "MiB")
    Table.row("RSS of the process, every module connected to the broker", col("rss_conn", 1 / 1024), "MiB")
    Table.row("RSS of the process after the publishing", col("rss_pub", 1 / 1024), "MiB")
    Table.row(f"RSS per MQTT connection: (connected - before) / {n}",
              [None if r is None else (r["rss_conn"] - r["rss_before"]) / n for r in rs], "KiB")
    Table.row(f"RSS per module, connected: total / {n}", [None if r is None else r["rss_conn"] / n for r in rs], "KiB")
    Table.row(f"AT+MQTTCONN sent to all {n} at once: until the last OK", col("t_conn", 1000), "ms", "{:10.0f}")
    Table.row("  modules whose AT+MQTTCONN failed and was tried again", col("retried"), "", "{:10.0f}")
    Table.row(f"received at mosquitto_sub 'fleet/#', seconds 1 to {seconds}", col("rate"), "msg/s", "{:10.1f}")
    print(f"{'  expected':62} {n:10.1f} msg/s")
    Table.row("  AT+MQTTPUB command to OK, median", col("lat_med"), "ms")
    Table.row("  AT+MQTTPUB command to OK, 99th percentile", col("lat_99"), "ms")
    Table.row("  publishes sent late (the module's previous one not yet OK)", col("late"), "", "{:10.0f}")
    Table.row(f"  last message at the subscriber, after the start ({seconds} s of sends)", col("last"), "s")


# 3. HTTP GET ------------------------------------------------------------------------------------------

def http_get(e, cmd, prefix, body, timeout):
    """Sends cmd; reassembles <prefix><len>,<data>\\r\\n lines until \\r\\nOK\\r\\n; compares with body.
    Returns (seconds, lines)."""
    m = e.m
    m.buf.clear()
    got = bytearray()
    lines = 0
    t0 = time.monotonic()
    deadline = t0 + timeout
    m.write(cmd.encode() + b"\r\n")
    raw = m.buf
    pos = 0
    hl = len(prefix)
    while True:
        # take whole lines
        while True:
            if raw.startswith(prefix, pos):
                comma = raw.find(b",", pos + hl, pos + hl + 8)
                if comma < 0:
                    if len(raw) - pos > hl + 8:
                        raise Failed(f"a line without its length: {bytes(raw[pos:pos + 40])!r}")
                    break
                n = int(raw[pos + hl:comma])
                end = comma + 1 + n
                if len(raw) < end + 2:
                    break
                if raw[end:end + 2] != b"\r\n":
                    raise Failed(f"line {lines}: {n} bytes not followed by CR-LF: {bytes(raw[end:end + 20])!r}")
                got += raw[comma + 1:end]
                lines += 1
                pos = end + 2
            elif raw.startswith(b"\r\nOK\r\n", pos):
                dt = time.monotonic() - t0
                if len(raw) > pos + 6:
                    raise Failed(f"output after OK: {bytes(raw[pos + 6:pos + 60])!r}")
                del raw[:]
                if got != body:
                    i = next((k for k in range(min(len(got), len(body))) if got[k] != body[k]),
                             min(len(got), len(body)))
                    raise Failed(f"{len(got)} body bytes of {len(body)} in {lines} lines; first difference at {i}")
                return dt, lines
            elif len(raw) - pos >= max(hl, 6):
                raise Failed(f"unexpected output after {len(got)} body bytes ({lines} lines): "
                             f"{bytes(raw[pos:pos + 80])!r}")
            else:
                break
        if pos > 1 << 20:
            del raw[:pos]
            pos = 0
        left = deadline - time.monotonic()
        if left <= 0:
            raise Failed(f"{len(got)} of {len(body)} body bytes after {timeout:.0f} s ({lines} lines); "
                         f"output: {bytes(raw[pos:pos + 80])!r}")
        m._wait(min(left, 0.5))


def curl_get(url, body, path):
    if os.path.exists(path):
        os.unlink(path)
    t0 = time.monotonic()
    r = subprocess.run(["curl", "-s", "-o", path, "-w", "%{time_total}", url], capture_output=True, timeout=120)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        raise Failed(f"curl exited {r.returncode}")
    with open(path, "rb") as f:
        got = f.read()
    if got != body:
        raise Failed(f"curl: {len(got)} bytes of {len(body)}, or different")
    return float(r.stdout.decode().replace(",", ".")), wall


def http_section(espat, d, runs, mb):
    nbytes = int(mb * MB)
    www = os.path.join(d, "www")
    os.makedirs(www, exist_ok=True)
    body = random.Random(7).randbytes(nbytes)
    with open(os.path.join(www, "body.bin"), "wb") as f:
        f.write(body)
    server = None
    for attempt in range(5):
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                   "--directory", www], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            wait_connectable(port, 10, server, "python3 -m http.server")
            break
        except Failed:
            stop(server)
            server = None
    if server is None:
        raise Failed("python3 -m http.server would not start")
    url = f"http://127.0.0.1:{port}/body.bin"
    timeout = 30 + mb * 10
    cases = [("AT+HTTPCGET, <rx size> 10240", f'AT+HTTPCGET="{url}",2048,10240,20000', b"+HTTPCGET:"),
             ("AT+HTTPCGET, default <rx size> (2048)", f'AT+HTTPCGET="{url}"', b"+HTTPCGET:"),
             ("AT+HTTPCLIENT=2 (GET), 512-byte reads", f'AT+HTTPCLIENT=2,0,"{url}",,,1', b"+HTTPCLIENT:")]
    res = {c[0]: [] for c in cases}
    lines = {c[0]: [] for c in cases}
    curl_t, curl_wall = [], []
    e = None
    try:
        for run in range(runs):
            for label, cmd, prefix in cases:
                try:
                    if e is None:
                        e = Espat(espat, d, "http")
                        e.join()
                    dt, nl = http_get(e, cmd, prefix, body, timeout)
                    res[label].append(nbytes / MB / dt)
                    lines[label].append(nl)
                except Failed as ex:
                    report_failure(f"run {run + 1}, {label}", ex)
                    res[label].append(None)
                    lines[label].append(None)
                    if e:
                        e.close()
                        e = None
            try:
                t, wall = curl_get(url, body, os.path.join(d, "curl.out"))
                curl_t.append(nbytes / MB / t)
                curl_wall.append(nbytes / MB / wall)
            except (Failed, subprocess.TimeoutExpired) as ex:
                report_failure(f"run {run + 1}, curl", ex)
                curl_t.append(None)
                curl_wall.append(None)
    finally:
        if e:
            e.close()
        stop(server)
    print(f"\n3. HTTP GET of {mb:g} MB from python3 -m http.server on loopback, every byte compared; {runs} runs")
    Table(62)
    for label, _, _ in cases:
        Table.row(f"{label}: command to OK", res[label], "MB/s")
        Table.row(f"  output lines", lines[label], "lines", "{:10.0f}")
        Table.ratio(f"  / curl time_total, run by run", res[label], curl_t)
        Table.median_ratio(f"  / curl time_total, ratio of the medians", res[label], curl_t)
    Table.row("curl -s -o FILE (baseline): its time_total", curl_t, "MB/s")
    Table.row("curl -s -o FILE: wall time of the process", curl_wall, "MB/s")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("espat")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="pub,fleet,http")
    ap.add_argument("--messages", type=int, default=2000, help="messages per run and QoS in pub")
    ap.add_argument("--modules", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=20, help="seconds the fleet publishes")
    ap.add_argument("--mb", type=float, default=10, help="MB of the HTTP body")
    a = ap.parse_args()
    espat = os.path.abspath(a.espat)
    for tool in ("mosquitto", "mosquitto_sub", "mosquitto_pub", "curl"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            sys.exit(f"{tool} is missing")
    os.environ["PATH"] += ":/usr/sbin"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the broker and espat inherit it
    only = set(a.only.split(","))
    d = tempfile.mkdtemp(prefix="espat-mqtt-http-")
    try:
        run_sections((("pub", lambda: pub_section(espat, d, a.runs, a.messages)),
                      ("fleet", lambda: fleet_section(espat, d, a.runs, a.modules, a.seconds)),
                      ("http", lambda: http_section(espat, d, a.runs, a.mb))), only)
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
