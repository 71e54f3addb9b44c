#!/usr/bin/env python3
"""Bluetooth LE figures (README "Benchmarks", "Bluetooth LE"): what a scanning module reports
and what advertising costs a fleet, each beside a baseline measured the same way in the same
run. Every figure is min/median/max over the runs.

    bench/ble.py build/espat [--runs 3] [--only scan,fleet] [--peers 100] [--interval-ms 100]
                 [--seconds 5] [--modules 1000]

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

Python 3 standard library only. Every wait has a timeout: a run that fails prints FAILED with
what was seen, and the benchmark goes on.
"""
import argparse, json, os, re, resource, selectors, shutil, subprocess, sys, tempfile, time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fleet  # noqa: E402  (rss_kib)
from figures import Failed, Table, report_failure  # noqa: E402
from mqtt_http import Espat, Fleet  # noqa: E402

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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("espat")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="scan,fleet")
    ap.add_argument("--peers", type=int, default=100, help="beacons in the scan's world")
    ap.add_argument("--interval-ms", type=int, default=100, help="the beacons' advertising interval (20-10240)")
    ap.add_argument("--seconds", type=float, default=5, help="the scan's counting window")
    ap.add_argument("--modules", type=int, default=1000)
    a = ap.parse_args()
    espat = os.path.abspath(a.espat)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # our sockets to the fleet's ports
    only = set(a.only.split(","))
    d = tempfile.mkdtemp(prefix="espat-ble-")
    try:
        for name, fn in (("scan", lambda: scan_section(espat, d, a.runs, a.peers, a.interval_ms, a.seconds)),
                         ("fleet", lambda: fleet_section(espat, d, a.runs, a.modules))):
            if name in only:
                try:
                    fn()
                except Failed as e:
                    report_failure(name, e)
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
