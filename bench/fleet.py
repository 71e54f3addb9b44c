#!/usr/bin/env python3
"""Fleet figures (README "Fleets"): N idle modules in one espat process, each booted and joined to
an AP, flash in overlays over one shared base image. Prints, per N, min/median/max over the runs
of: RSS per module, disk per module, time until the last module printed `ready` and until the
last one joined. The baseline beside them is one module measured the same way in the same run.

    bench/fleet.py build/espat [--runs 3] [--sizes 1000,10000]
"""
import argparse, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

WORLD = """
[[ap]]
ssid = "fleet-ap"
bssid = "24:0a:c4:20:00:01"
security = "WPA2_PSK"
password = "fleet-password"
subnet = "127.20.0.0/16"
pool = [2, 65000]
max_stations = 65535
"""


PORT_BASE = 20000


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def disk_kib(paths):
    return sum(os.stat(p).st_blocks * 512 for p in paths) / 1024


def make_base(espat, d, world):
    """A base image whose module has joined fleet-ap with AT+SYSSTORE=1: every overlay over it
    auto-connects at boot."""
    base = os.path.join(d, "base.bin")
    err = open(os.path.join(d, "base.err"), "a+")  # a+: espat appends; our seek(0) to read cannot make it overwrite
    p = subprocess.Popen([espat, "run", "--tcp", "127.0.0.1:0", "--flash", base, "--boot-ms", "0", "--world", world],
                         stderr=err)
    port = None
    for _ in range(500):
        err.seek(0)
        m = re.search(r"AT port on tcp 127\.0\.0\.1:(\d+)", err.read())
        if m:
            port = int(m.group(1))
            break
        time.sleep(0.01)
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b'AT+CWJAP="fleet-ap","fleet-password"\r\n')
    got = b""
    while b"OK\r\n" not in got and b"ERROR" not in got:
        got += s.recv(4096)
    s.close()
    p.send_signal(signal.SIGTERM)
    p.wait()
    if b"OK" not in got:
        sys.exit(f"base image: the join failed: {got!r}")
    return base


def one_run(espat, n, d, base, world):
    trace = os.path.join(d, f"trace-{n}.log")
    if os.path.exists(trace):
        os.unlink(trace)  # else the last run's trace would be read before espat truncates it
    for f in os.listdir(d):
        if f.endswith(".overlay"):
            os.unlink(os.path.join(d, f))
    start = time.monotonic()
    err = open(os.path.join(d, f"err-{n}.log"), "a+")  # a+: espat appends; our seek(0) to read cannot make it overwrite
    # Ports from 20000 up: below the kernel's ephemeral range, and a bind to a given port is a
    # lookup where a bind to port 0 searches every bound socket.
    p = subprocess.Popen([espat, "run", "--modules", str(n), "--tcp", f"127.0.0.1:{PORT_BASE}", "--flash", base,
                          "--flash-overlays", "--world", world, "--trace", trace],
                         stderr=err)
    global _last_err
    _last_err = err
    try:
        return _measure(p, n, d, trace, start)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def _measure(p, n, d, trace, start):
    joined = ready = 0
    last_ready = last_join = None
    deadline = start + 120
    with _wait_open(trace) as t:
        partial = ""
        while (ready < n or joined < n) and time.monotonic() < deadline and p.poll() is None:
            line = partial + t.readline()
            if not line.endswith("\n"):  # the writer is in the middle of this line
                partial = line
                time.sleep(0.01)
                continue
            partial = ""
            if 'out "\\r\\nready\\r\\n"' in line:
                ready += 1
                last_ready = float(line.split()[0])
            elif " joined fleet-ap" in line:
                joined += 1
                last_join = float(line.split()[0])
    time.sleep(0.5)  # idle: timers and buffers settle
    rss = rss_kib(p.pid) if p.poll() is None else float("nan")
    overlays = [os.path.join(d, f) for f in os.listdir(d) if f.endswith(".overlay")]
    disk = disk_kib(overlays)
    p.send_signal(signal.SIGTERM)
    p.wait()
    if ready < n or joined < n:
        sys.exit(f"{n} modules: only {ready} ready and {joined} joined within the time")
    return {"rss": rss, "disk": disk, "ready": last_ready, "join": last_join}


_last_err = None


def _wait_open(path):
    for _ in range(1000):
        if os.path.exists(path):
            return open(path)
        time.sleep(0.01)
    why = ""
    if _last_err:
        _last_err.seek(0)
        why = _last_err.read()[-2000:]
    sys.exit(f"{path} never appeared; espat said:\n{why}")


def fmt(values, unit, scale=1.0):
    v = sorted(x * scale for x in values)
    return f"{v[0]:9.1f} {statistics.median(v):9.1f} {v[-1]:9.1f} {unit}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("espat")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", default="1000,10000")
    a = ap.parse_args()
    espat = os.path.abspath(a.espat)
    d = tempfile.mkdtemp(prefix="espat-fleet-")
    try:
        world = os.path.join(d, "world.toml")
        open(world, "w").write(WORLD)
        base = make_base(espat, d, world)
        one = [one_run(espat, 1, d, base, world) for _ in range(a.runs)]
        rss1 = statistics.median(r["rss"] for r in one)
        print(f"{'':34} {'min':>9} {'median':>9} {'max':>9}")
        print(f"baseline: 1 module, RSS             {fmt([r['rss'] for r in one], 'KiB')}")
        print(f"baseline: 1 module, disk            {fmt([r['disk'] for r in one], 'KiB')}")
        print(f"baseline: 1 module, last ready      {fmt([r['ready'] for r in one], 's')}")
        for n in [int(x) for x in a.sizes.split(",")]:
            runs = [one_run(espat, n, d, base, world) for _ in range(a.runs)]
            print(f"{n:6} modules: RSS per module      {fmt([(r['rss'] - rss1) / (n - 1) for r in runs], 'KiB')}")
            print(f"{n:6} modules: disk per module     {fmt([r['disk'] / n for r in runs], 'KiB')}")
            print(f"{n:6} modules: last ready          {fmt([r['ready'] for r in runs], 's')}")
            print(f"{n:6} modules: last joined         {fmt([r['join'] for r in runs], 's')}")
            sys.stdout.flush()
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
