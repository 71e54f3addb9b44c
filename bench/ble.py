#!/usr/bin/env python3
"""Bluetooth LE figures (README "Benchmarks", "Bluetooth LE"): what a scanning module reports,
what advertising costs a fleet and how fast SPP carries bytes between two modules, each beside
a baseline measured the same way in the same run. Every figure is min/median/max over the runs.

    bench/ble.py build/espat [--runs 3] [--only scan,fleet,spp] [--peers 100] [--interval-ms 100]
                 [--seconds 5] [--modules 1000] [--spp-bytes 1048576] [--spp-seconds 5]

1. scan: one module (its AT port on --tcp) in a world whose file declares --peers [[ble_peer]]
   beacons, each advertising every --interval-ms; ATE0, AT+BLEINIT=1, an active
   AT+BLESCANPARAM, AT+BLESCAN=1. The +BLESCAN lines the AT port carries are counted over
   --seconds, from half an interval after the OK (each window then holds whole rounds of the
   advertisers, whatever the jitter of a round's arrival). Ideal: peers x 1000 / interval_ms
   lines/s. Baseline: the same with a single beacon (the ideal 1000 / interval_ms lines/s: the
   per-advertiser pacing alone). Every line is checked against
   +BLESCAN:"aa:bb:cc:dd:ee:ff",-NN,<hex>,<hex>,<0|1>\\r\\n and against what its beacon
   declared (address, RSSI, data, scan response, address type); one malformed or wrong line,
   or any other output, fails the run.
2. fleet: --modules modules in one process (--modules --tcp 127.0.0.1:0 --flash-overlays, as
   bench/fleet.py and bench/mqtt_http.py start them), every AT port connected; the RSS of the
   process idle (ATE0, no BLE), then once every module has answered AT+BLEINIT=2 and
   AT+BLEADVSTART (the control API's GET /ble/peers must list them all, with distinct
   addresses). Per module: RSS / N, idle and advertising, and the growth / N.
3. spp: two modules in one process (--modules 2 --tcp 127.0.0.1:0), a world file with [world]
   ble_pacing = false or true; module 0 the SPP server, module 1 the client, set up as
   tests/e2e/ble_test.cpp's SppBetweenTwoModules does (guide example 4.3.5), with the client's
   discovery (AT+BLEGATTCPRIMSRV, AT+BLEGATTCCHAR) and optionally AT+BLECFGMTU and
   AT+BLECONNPARAM first; bytes written into the client's AT port as fast as it takes them must
   arrive at the server's AT port, every one, in order. Unpaced: --spp-bytes (1 MiB), bytes/s.
   Paced: what the ideal rate, (MTU - 3) bytes per connection interval, carries in --spp-seconds,
   bytes/s beside that ideal. Baseline: the same bytes through `socat TCP-LISTEN: TCP:`, a relay
   between two loopback TCP ports (the AT ports are TCP too), driven by the same code.

Python 3 standard library (and socat for the spp baseline) only. Every wait has a timeout: a run that fails prints FAILED with
what was seen, and the benchmark goes on.
"""
import argparse, json, os, re, resource, selectors, shutil, socket, subprocess, sys, tempfile, time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fleet  # noqa: E402  (rss_kib)
from figures import Failed, Table, report_failure, run_sections  # noqa: E402
from mqtt_http import Espat, Fleet, Module, free_port, stop  # noqa: E402
from tcpip import payload, pump  # noqa: E402

LINE = re.compile(rb'\+BLESCAN:"([0-9a-f]{2}(?::[0-9a-f]{2}){5})",(-[0-9]{1,3}),([0-9a-f]*),([0-9a-f]*),([01])')
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    """User + system CPU time of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


# 1. scan throughput ---------------------------------------------------------------------------------

def peers(n, interval_ms):
    """n beacons, every one different: address (public and random static), RSSI, advertising type
    (IND, SCAN_IND, NONCONN_IND), data with a name, a scan response for the scannable ones.
    Returns (world TOML, {address: the line's fields as +BLESCAN prints them to an active scanner})."""
    toml, want = [], {}
    for i in range(n):
        random_addr = i % 2 == 1
        addr = f"{'c5' if random_addr else '24'}:0a:c4:{i >> 16 & 0xff:02x}:{i >> 8 & 0xff:02x}:{i & 0xff:02x}"
        adv_type = (0, 2, 3)[i % 3]
        rssi = -30 - i % 60
        name = f"bench-{i:04d}"
        adv = "020106" + f"{len(name) + 1:02x}09" + name.encode().hex()
        rsp = f"0bff{i & 0xffff:04x}" + "0011223344556677" if adv_type != 3 else ""
        toml.append(f'[[ble_peer]]\nid = "b{i}"\naddress = "{addr}"\naddress_type = "{"random" if random_addr else "public"}"\n'
                    f'adv_type = {adv_type}\nadv_data = "020106"\nname = "{name}"\n'
                    + (f'scan_rsp = "{rsp}"\n' if rsp else "")
                    + f"interval_ms = {interval_ms}\nrssi = {rssi}\n")
        # ADV_NONCONN_IND is not scannable: no scan response even when it declared one
        want[addr] = (str(rssi), adv, rsp if adv_type in (0, 2) else "", "1" if random_addr else "0")
    return "\n".join(toml), want


class Scanner(Espat):
    """One espat process, one module in `world`, its AT port on tcp 127.0.0.1:<free port>;
    every byte received is kept with the time it arrived."""

    def __init__(self, espat, d, name, world):
        super().__init__(espat, d, name, ["--world", world])

    def collect(self, until, chunks):
        """Appends (arrival time, bytes) to chunks until time.monotonic() >= until."""
        s = self.m.s
        sel = selectors.DefaultSelector()
        sel.register(s, selectors.EVENT_READ)
        try:
            while True:
                left = until - time.monotonic()
                if left <= 0:
                    return
                if sel.select(left):
                    try:
                        b = s.recv(1 << 20)
                    except BlockingIOError:
                        continue
                    if not b:
                        raise Failed("the AT port closed")
                    chunks.append((time.monotonic(), b))
        finally:
            sel.close()

def scan_run(espat, d, world, want, interval_ms, seconds):
    e = Scanner(espat, d, "scan", world)
    try:
        m = e.m
        m.cmd("AT+BLEINIT=1")
        m.cmd("AT+BLESCANPARAM=1,0,0,100,50")  # active: the scan responses come too
        m.buf.clear()
        m.write(b"AT+BLESCAN=1\r\n")
        chunks = []
        deadline = time.monotonic() + 10
        while True:  # up to the OK, with what arrives in the same read
            e.collect(time.monotonic() + 0.005, chunks)
            raw = b"".join(b for _, b in chunks)
            if b"\r\nOK\r\n" in raw:
                t_ok = chunks[-1][0]
                break
            if b"ERROR" in raw or time.monotonic() > deadline:
                raise Failed(f"AT+BLESCAN=1 answered {raw[:200]!r}")
        start = t_ok + interval_ms / 2000
        end = start + seconds
        cpu0 = cpu_s(e.p.pid)
        e.collect(end, chunks)
        cpu = cpu_s(e.p.pid) - cpu0
        m.write(b"AT+BLESCAN=0\r\n")
        deadline = time.monotonic() + 10
        while not b"".join(b for _, b in chunks[-3:]).endswith(b"\r\nOK\r\n"):
            if time.monotonic() > deadline:
                raise Failed(f"AT+BLESCAN=0: no OK; the output ends {b''.join(b for _, b in chunks[-3:])[-200:]!r}")
            e.collect(time.monotonic() + 0.05, chunks)
    finally:
        e.close()

    # every line, with the time its last byte arrived
    lines, partial = [], b""
    for t, b in chunks:
        *done, partial = (partial + b).split(b"\r\n")
        lines += [(t, l) for l in done]
    if partial:
        raise Failed(f"output after the last OK: {partial[:100]!r}")
    # AT+BLESCAN=1's "\r\nOK\r\n" (lines "", "OK") before the scan lines, AT+BLESCAN=0's at the end
    ok_at = [i for i, (_, l) in enumerate(lines) if l == b"OK"]
    if len(ok_at) != 2 or lines[ok_at[0] - 1][1] != b"" or lines[-1][1] != b"OK" or lines[-2][1] != b"":
        raise Failed(f"not one OK before and one after the scan lines: OKs at lines {ok_at[:5]} of {len(lines)}")
    scan_lines = [x for i, x in enumerate(lines) if i not in (ok_at[0] - 1, ok_at[0], len(lines) - 2, len(lines) - 1)]
    bad = []
    per = {a: [] for a in want}
    for t, l in scan_lines:
        g = LINE.fullmatch(l)
        if not g:
            bad.append(l)
            continue
        addr = g.group(1).decode()
        if want.get(addr) != tuple(x.decode() for x in g.groups()[1:]):
            bad.append(l)
            continue
        if start <= t < end:
            per[addr].append(t)
    if bad:
        raise Failed(f"{len(bad)} malformed or wrong lines of {len(scan_lines)}, e.g. {bad[0][:120]!r}")
    counts = [len(v) for v in per.values()]
    gaps = sorted(b - a for v in per.values() for a, b in zip(v, v[1:]))
    return {"rate": sum(counts) / seconds, "lines": len(scan_lines), "min_per": min(counts), "max_per": max(counts),
            "gap_med": gaps[len(gaps) // 2] * 1000 if gaps else None,
            "gap_max": gaps[-1] * 1000 if gaps else None, "cpu": 100 * cpu / seconds}


def scan_section(espat, d, runs, n, interval_ms, seconds):
    cases = {}
    for label, k in (("many", n), ("one", 1)):
        world = os.path.join(d, f"ble-world-{k}.toml")
        text, want = peers(k, interval_ms)
        with open(world, "w") as f:
            f.write(text)
        cases[label] = (world, want, k)
    res = {label: [] for label in cases}
    for run in range(runs):
        for label, (world, want, k) in cases.items():
            try:
                res[label].append(scan_run(espat, d, world, want, interval_ms, seconds))
            except (Failed, OSError) as ex:
                report_failure(f"run {run + 1}, scan of {k} beacon(s)", ex)
                res[label].append(None)

    def col(label, key):
        return [None if r is None else r[key] for r in res[label]]

    ideal = lambda k: k * 1000 / interval_ms
    per_window = seconds * 1000 / interval_ms
    print(f"\n1. AT+BLESCAN=1 (active) of [[ble_peer]] beacons advertising every {interval_ms} ms, "
          f"+BLESCAN lines counted over {seconds:g} s; {runs} runs, every line checked")
    Table(62)
    for label, (_, _, k) in cases.items():
        what = f"{k} beacons" if k > 1 else "1 beacon (baseline)"
        Table.row(f"{what}: +BLESCAN lines received", col(label, "rate"), "lines/s", "{:10.1f}")
        print(f"{'  ideal: ' + str(k) + ' x 1000 / ' + str(interval_ms) + ' ms':62} {ideal(k):10.1f} lines/s")
        Table.row("  / ideal", [None if r is None else r["rate"] / ideal(k) for r in res[label]], "x", "{:10.3f}")
        Table.row(f"  fewest lines of one beacon in the window (ideal {per_window:g})", col(label, "min_per"), "",
                  "{:10.0f}")
        Table.row(f"  most lines of one beacon in the window", col(label, "max_per"), "", "{:10.0f}")
        Table.row(f"  gap between one beacon's lines at the host, median", col(label, "gap_med"), "ms")
        Table.row(f"  the same, largest", col(label, "gap_max"), "ms")
        Table.row(f"  espat CPU during the window (in 10 ms ticks)", col(label, "cpu"), "%", "{:10.1f}")
        Table.row(f"  lines checked (the whole scan)", col(label, "lines"), "", "{:10.0f}")
    many = [None if r is None else r["rate"] / ideal(n) for r in res["many"]]
    one = [None if r is None else r["rate"] / ideal(1) for r in res["one"]]
    Table.ratio(f"{n} beacons / 1 beacon, each against its ideal, run by run", many, one)


# 2. memory of an advertising fleet -------------------------------------------------------------------

class BleFleet(Fleet):
    """mqtt_http's Fleet (--modules N --tcp 127.0.0.1:0 --flash-overlays, every AT port connected),
    with the control API on."""

    def __init__(self, espat, d, base, world, n):
        self.n = n
        for f in os.listdir(d):
            if f.endswith(".overlay"):
                os.unlink(os.path.join(d, f))
        path = os.path.join(d, f"ble-fleet-{n}.err")
        if os.path.exists(path):
            os.unlink(path)
        self.err = open(path, "a+")  # a+: espat appends; our seek(0) cannot make it overwrite
        self.p = subprocess.Popen([espat, "run", "--modules", str(n), "--tcp", "127.0.0.1:0", "--flash", base,
                                   "--flash-overlays", "--world", world, "--control", "0"],
                                  stderr=self.err, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self.socks = []
        try:
            self._connect(n)
            deadline = time.monotonic() + 10
            while True:  # printed after the modules' AT ports
                self.err.seek(0)
                m = re.search(r"control API: (http://127\.0\.0\.1:\d+)", self.err.read())
                if m:
                    break
                if time.monotonic() > deadline or self.p.poll() is not None:
                    raise Failed("espat named no control API")
                time.sleep(0.05)
            self.api = m.group(1)
        except BaseException:
            self.close()
            raise


def fleet_run(espat, d, base, world, n):
    f = BleFleet(espat, d, base, world, n)
    try:
        # input before `ready` is lost, as on the chip: wait for every module's ready first
        deadline = time.monotonic() + 120
        while not all(b"ready\r\n" in b for b in f.bufs):
            if time.monotonic() > deadline or f.p.poll() is not None:
                raise Failed(f"{sum(1 for b in f.bufs if b'ready' in b)} of {n} modules printed ready")
            f.poll(0.5)
        bad = f.all_answer(lambda k: "ATE0", b"OK\r\n", "ATE0")
        if bad:
            raise Failed(f"ATE0 failed on {len(bad)} modules")
        time.sleep(1.0)  # idle: timers and buffers settle
        rss_idle = fleet.rss_kib(f.p.pid)
        t0 = time.monotonic()
        for cmd in ("AT+BLEINIT=2", "AT+BLEADVSTART"):
            bad = f.all_answer(lambda k: cmd, b"OK\r\n", cmd)
            if bad:
                raise Failed(f"{cmd} failed on {len(bad)} modules, e.g. {bytes(f.bufs[min(bad)][-200:])!r}")
        t_adv = time.monotonic() - t0
        time.sleep(1.0)
        # before the check below: the control API's thread, serving the list, grows the RSS itself
        # (about 2 MiB for 1000 advertisers: its own malloc arena)
        rss_adv = fleet.rss_kib(f.p.pid)
        with urllib.request.urlopen(f.api + "/ble/peers", timeout=30) as r:
            listed = json.load(r)
        if isinstance(listed, dict):  # {"ble_peers": [...]} or a list
            listed = next((v for v in listed.values() if isinstance(v, list)), [])
        mods = [p for p in listed if p.get("module")]
        if len(mods) != n or len({p["address"] for p in mods}) != n:
            raise Failed(f"GET /ble/peers lists {len(mods)} modules advertising, "
                         f"{len({p['address'] for p in mods})} distinct addresses; {n} expected")
        return {"idle": rss_idle, "adv": rss_adv, "t_adv": t_adv}
    finally:
        f.close()


def fleet_section(espat, d, runs, n):
    world = os.path.join(d, "fleet-world.toml")
    with open(world, "w") as f:
        f.write("[world]\nseed = 1\n")  # no AP, no beacon: nothing but the modules on the medium
    base = os.path.join(d, "fleet-base.bin")  # created from the embedded default, then read-only
    rs = []
    for run in range(runs):
        try:
            rs.append(fleet_run(espat, d, base, world, n))
        except (Failed, OSError) as ex:
            report_failure(f"run {run + 1}, {n} modules advertising", ex)
            rs.append(None)

    def col(fn):
        return [None if r is None else fn(r) for r in rs]

    print(f"\n2. {n} modules in one process (--flash-overlays, AT ports on tcp), idle and then each after "
          f"AT+BLEINIT=2 and AT+BLEADVSTART; {runs} runs")
    Table(62)
    Table.row(f"idle (ATE0, no BLE), baseline: RSS of the process", col(lambda r: r["idle"] / 1024), "MiB")
    Table.row(f"  RSS per module: total / {n}", col(lambda r: r["idle"] / n), "KiB")
    Table.row(f"every module advertising: RSS of the process", col(lambda r: r["adv"] / 1024), "MiB")
    Table.row(f"  RSS per module: total / {n}", col(lambda r: r["adv"] / n), "KiB")
    Table.row(f"  RSS per advertising module: (advertising - idle) / {n}",
              col(lambda r: (r["adv"] - r["idle"]) / n), "KiB")
    Table.ratio(f"  per module, advertising / idle, run by run", col(lambda r: r["adv"]), col(lambda r: r["idle"]))
    Table.row(f"  AT+BLEINIT=2 then AT+BLEADVSTART to all: to the last OK", col(lambda r: r["t_adv"] * 1000), "ms",
              "{:10.0f}")


# 3. SPP throughput between two modules ---------------------------------------------------------------

class SppPair(Fleet):
    """Two modules in one espat process (--modules 2 --tcp 127.0.0.1:0 --boot-ms 0, new flash
    files) in `world`; self.m[k] drives module k's AT port (mqtt_http's Module)."""

    def __init__(self, espat, d, world):
        self.n = 2
        for f in os.listdir(d):
            if f.startswith("spp-flash"):
                os.unlink(os.path.join(d, f))
        path = os.path.join(d, "spp-pair.err")
        if os.path.exists(path):
            os.unlink(path)
        self.err = open(path, "a+")  # a+: espat appends; our seek(0) cannot make it overwrite
        self.p = subprocess.Popen([espat, "run", "--modules", "2", "--tcp", "127.0.0.1:0", "--boot-ms", "0",
                                   "--flash", os.path.join(d, "spp-flash.bin"), "--world", world],
                                  stderr=self.err, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self.socks = []
        try:
            self._connect(2)
            self.sel.close()  # the Modules below wait on their own sockets
            self.m = [Module(s, f"module {k}") for k, s in enumerate(self.socks)]
            for m in self.m:
                for _ in range(50):  # input before `ready` is lost, as on the chip
                    try:
                        m.cmd("AT", timeout=0.2)
                        break
                    except Failed:
                        pass
                m.cmd("ATE0")
                time.sleep(0.05)
                m._wait(0)
                m.buf.clear()
        except BaseException:
            self.close()
            raise


def spp_link(pair, mtu, interval):
    """The e2e test's SPP set-up (SppBetweenTwoModules, guide example 4.3.5) with a client's
    discovery, AT+BLECFGMTU=0,<mtu> when mtu > 23 and AT+BLECONNPARAM=0,<interval>,... when
    interval != 24; both ends in passthrough at the end."""
    srv, cli = pair.m

    def addr(m):
        out = m.cmd("AT+BLEADDR?")
        g = re.search(rb'\+BLEADDR:"([0-9a-f:]{17})"', out)
        if not g:
            raise Failed(f"AT+BLEADDR? answered {out!r}")
        return g.group(1).decode()

    srv.cmd("AT+BLEINIT=2")
    a0 = addr(srv)
    srv.cmd("AT+BLEGATTSSRVCRE")
    srv.cmd("AT+BLEGATTSSRVSTART")
    srv.cmd("AT+BLEADVSTART")
    cli.cmd("AT+BLEINIT=1")
    a1 = addr(cli)
    out = cli.cmd(f'AT+BLECONN=0,"{a0}"', timeout=10)
    if f'+BLECONN:0,"{a0}"'.encode() not in out:
        raise Failed(f"AT+BLECONN answered {out!r}")
    srv.read_until(f'+BLECONN:0,"{a1}"\r\n'.encode())
    if mtu != 23:
        cli.cmd(f"AT+BLECFGMTU=0,{mtu}")
        for m in (cli, srv):
            m.read_until(f"+BLECFGMTU:0,{mtu}\r\n".encode())
    if interval != 24:
        cli.cmd(f"AT+BLECONNPARAM=0,{interval},{interval},0,500")
        for m in (cli, srv):
            m.read_until(f"+BLECONNPARAM:0,{interval},{interval},{interval},0,500\r\n".encode())
    cli.cmd("AT+BLEGATTCPRIMSRV=0")
    cli.cmd("AT+BLEGATTCCHAR=0,3")
    cli.cmd("AT+BLESPPCFG=1,3,5,3,7")  # tx C304 (write), rx C306 (indicate)
    srv.cmd("AT+BLESPPCFG=1,1,7,1,5")
    cli.write(b"AT+BLESPP\r\n")
    cli.read_until(b"\r\nOK\r\n\r\n>")
    srv.read_until(b"+WRITE:0,1,7,1,2,\x02\x00\r\n")  # the client enabled C306's indications
    srv.write(b"AT+BLESPP\r\n")
    srv.read_until(b"\r\nOK\r\n\r\n>")
    time.sleep(0.05)
    for m in pair.m:
        m._wait(0)
        if m.buf:
            raise Failed(f"{m.name} printed {bytes(m.buf[:200])!r} after entering SPP")


def spp_run(espat, d, world, mtu, interval, nbytes, seed, timeout):
    """Seconds from the first byte written into the client's AT port to the last byte at the
    server's; every byte checked (pump does), and nothing else printed by either."""
    pair = SppPair(espat, d, world)
    try:
        spp_link(pair, mtu, interval)
        data = payload(nbytes, seed)
        # the client's port is the "host" side of pump (written, its output must stay empty), the
        # server's port the "peer" side (what it receives is compared)
        t_up, _ = pump(pair.socks[1].fileno(), pair.socks[0], data, b"", timeout, "SPP client->server")
        return t_up
    finally:
        pair.close()


def socat_relay_run(nbytes, seed, timeout):
    """The baseline: `socat TCP-LISTEN:<p> TCP:127.0.0.1:<q>` relaying nbytes from one loopback TCP
    connection to another; seconds until the last byte arrived, every byte checked."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    port = free_port()
    p = subprocess.Popen(["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr",
                          f"TCP:127.0.0.1:{lst.getsockname()[1]}"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c = None
    out = None
    try:
        deadline = time.monotonic() + 10
        while c is None:  # socat takes one connection: ours, once it listens
            try:
                c = socket.create_connection(("127.0.0.1", port), timeout=1)
            except OSError:
                if p.poll() is not None or time.monotonic() > deadline:
                    raise Failed(f"socat did not listen on {port} (exit code {p.poll()})")
                time.sleep(0.02)
        lst.settimeout(10)
        try:
            out, _ = lst.accept()
        except socket.timeout:
            raise Failed("socat never connected to the receiving end")
        c.setblocking(False)
        out.setblocking(False)
        t_up, _ = pump(c.fileno(), out, payload(nbytes, seed), b"", timeout, "socat relay")
        return t_up
    finally:
        for s_ in (c, out, lst):
            if s_ is not None:
                s_.close()
        stop(p)


def spp_section(espat, d, runs, nbytes, seconds):
    if shutil.which("socat") is None:
        raise Failed("socat is missing (scripts/install-deps.sh installs it)")
    worlds = {}
    for paced in (False, True):
        worlds[paced] = os.path.join(d, f"spp-world-{'paced' if paced else 'unpaced'}.toml")
        with open(worlds[paced], "w") as f:
            f.write(f"[world]\nble_pacing = {'true' if paced else 'false'}\n")

    def ideal(mtu, interval):  # bytes/s: one ATT packet of MTU - 3 bytes per connection event
        return (mtu - 3) / (interval * 1.25e-3)

    # (label, paced, MTU, interval in 1.25 ms units, bytes)
    cases = [("unpaced, MTU 23", False, 23, 24, nbytes), ("unpaced, MTU 517", False, 517, 24, nbytes)]
    for mtu, interval in ((23, 24), (517, 24), (517, 6)):
        cases.append((f"paced, MTU {mtu}, interval {interval * 1.25:g} ms", True, mtu, interval,
                      int(ideal(mtu, interval) * seconds)))
    res = {c[0]: [] for c in cases}
    base = []
    for run in range(runs):
        for label, paced, mtu, interval, n in cases:
            want_s = n / ideal(mtu, interval) if paced else 0
            try:
                t = spp_run(espat, d, worlds[paced], mtu, interval, n, 1000 + run, 30 + 3 * want_s)
                res[label].append(n / t)
            except (Failed, OSError) as ex:
                report_failure(f"run {run + 1}, SPP {label}", ex)
                res[label].append(None)
        try:
            base.append(nbytes / socat_relay_run(nbytes, 1000 + run, 60))
        except (Failed, OSError) as ex:
            report_failure(f"run {run + 1}, socat relay", ex)
            base.append(None)

    print(f"\n3. SPP (AT+BLESPP) between two modules of one process, client -> server: bytes written into "
          f"the client's AT port (tcp), every one checked at the server's; {runs} runs")
    Table(62)
    Table.row(f"socat relay tcp -> tcp, {nbytes} B (baseline)", base, "B/s", "{:10.0f}")
    for label, paced, mtu, interval, n in cases:
        Table.row(f"{label}: {n} B", res[label], "B/s", "{:10.0f}")
        if paced:
            i = ideal(mtu, interval)
            print(f"{'  ideal: ' + str(mtu - 3) + ' B per ' + f'{interval * 1.25:g}' + ' ms':62} {i:10.0f} B/s")
            Table.row("  / ideal", [None if r is None else r / i for r in res[label]], "x", "{:10.3f}")
        else:
            Table.ratio("  espat / socat relay, run by run", res[label], base)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("espat")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="scan,fleet,spp")
    ap.add_argument("--peers", type=int, default=100, help="beacons in the scan's world")
    ap.add_argument("--interval-ms", type=int, default=100, help="the beacons' advertising interval (20-10240)")
    ap.add_argument("--seconds", type=float, default=5, help="the scan's counting window")
    ap.add_argument("--modules", type=int, default=1000)
    ap.add_argument("--spp-bytes", type=int, default=1 << 20, help="bytes of each unpaced SPP run")
    ap.add_argument("--spp-seconds", type=float, default=5, help="the length of a paced SPP run at its ideal rate")
    a = ap.parse_args()
    espat = os.path.abspath(a.espat)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # our sockets to the fleet's ports
    only = set(a.only.split(","))
    d = tempfile.mkdtemp(prefix="espat-ble-")
    try:
        run_sections((("scan", lambda: scan_section(espat, d, a.runs, a.peers, a.interval_ms, a.seconds)),
                      ("fleet", lambda: fleet_section(espat, d, a.runs, a.modules)),
                      ("spp", lambda: spp_section(espat, d, a.runs, a.spp_bytes, a.spp_seconds))), only)
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
