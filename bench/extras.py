#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench/extras.py - runs the compiled tools of bench/tools and returns their
figures as plain dicts: the single-core memcpy ceiling and the cross-core
copy ceiling (vhostmq-memcpy; the latter copies frames another core has just
written), instructions per packet of the datapath under callgrind
(vhostmq-ipp), and the idle CPU and first-packet round trip of an adaptive
vhostmq (vhostmq-wakeup against a vhostmq started here). bench/bench.py imports it;
`python3 bench/extras.py` runs them all and prints JSON.

Every child is pinned where asked, bounded by a timeout and killed on every
exit path; the vhostmq started here is stopped by PID (SIGTERM, SIGKILL after
3 s) and its socket dir and /var/run/dpdk/vhostmq-<pid> are removed.
Python standard library only.
"""
import argparse, glob, json, os, re, shutil, signal, subprocess, sys
import tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOOL_DIR = os.path.join(ROOT, "build", "bench", "tools")
VHOSTMQ = os.path.join(ROOT, "build", "backend", "vhostmq")
RUNDIR = "/var/run/dpdk"
STOP_S = 3.0        # SIGTERM grace before SIGKILL
READY_S = 10.0      # bound on vhostmq's socket appearing
IPP_TIMEOUT_S = 600.0   # callgrind runs the whole tool (~3 s here, 50x slower
                        # than native) plus DPDK's EAL start-up


class ExtraError(Exception):
    pass


def _tool(tool_dir, name):
    path = os.path.join(tool_dir or TOOL_DIR, name)
    if not os.access(path, os.X_OK):
        raise ExtraError("%s not found: build it (ninja -C build; meson option "
                         "bench=true, the default)" % path)
    return path


def _pin(cpu):
    """preexec_fn: the child runs on cpu alone."""
    def f():
        os.sched_setaffinity(0, {cpu})
    return f


def _run(argv, timeout, cpu=None):
    """Runs argv to completion; its stdout, or ExtraError with its stderr."""
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout,
                           preexec_fn=_pin(cpu) if cpu is not None else None)
    except subprocess.TimeoutExpired:
        raise ExtraError("%s: no result within %.0f s" % (argv[0], timeout))
    except (OSError, subprocess.SubprocessError) as e:
        # SubprocessError: the child could not be pinned (cpu not allowed).
        raise ExtraError("%s: %s%s" % (argv[0], e,
                                       "" if cpu is None else " (pinning to cpu %d)" % cpu))
    if p.returncode != 0:
        raise ExtraError("%s failed (exit %d): %s" % (
            os.path.basename(argv[0]), p.returncode,
            p.stderr.decode(errors="replace").strip()[-2000:]))
    return p.stdout.decode(errors="replace")


def _json_line(text, what):
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                break
    raise ExtraError("%s printed no JSON line: %r" % (what, text[-500:]))


# ------------------------------------------------------------------ memcpy
def _memcpy_tool(tool_dir, cpu, size, seconds, mode_args=()):
    """vhostmq-memcpy on cpu: its JSON line."""
    out = _run([_tool(tool_dir, "vhostmq-memcpy"), "--size", str(int(size)),
                "--seconds", repr(float(seconds))] + list(mode_args),
               timeout=float(seconds) + 30.0, cpu=cpu)
    return _json_line(out, "vhostmq-memcpy")


def memcpy_bound(tool_dir, cpu, size=1518, seconds=1.0):
    """Single-core memcpy ceiling for size-byte copies on cpu (sources from an
    8 MiB ring, more than L2): {"size", "gbps", "mpps"}. tool_dir None:
    <repo>/build/bench/tools."""
    r = _memcpy_tool(tool_dir, cpu, size, seconds)
    return {"size": r["size"], "gbps": r["gbps"], "mpps": r["mpps"]}


def cross_copy_bound(tool_dir, copier_cpu, writer_cpu, size=1518, seconds=1.0):
    """Cross-core copy ceiling: size-byte frames copied on copier_cpu, each
    written just before by a thread on writer_cpu (a 256-slot ring), as the
    backend copies what the frontend's core has just written:
    {"size", "gbps", "mpps", "copier_cpu", "writer_cpu"}. tool_dir None:
    <repo>/build/bench/tools."""
    r = _memcpy_tool(tool_dir, copier_cpu, size, seconds,
                     ["--writer-cpu", str(int(writer_cpu))])
    return {"size": r["size"], "gbps": r["gbps"], "mpps": r["mpps"],
            "copier_cpu": copier_cpu, "writer_cpu": r["writer_cpu"]}


# ------------------------------------------------------------------ ipp
_DESC = re.compile(r"^desc: Trigger: Client Request: (\S+)\s*$")
_SUM = re.compile(r"^(summary|totals): (\d+)")


def _callgrind_dumps(out_dir):
    """{dump name: instructions} from every callgrind dump file in out_dir."""
    dumps = {}
    for path in glob.glob(os.path.join(out_dir, "cg.out*")):
        name, counts = None, {}
        with open(path, errors="replace") as f:
            for line in f:
                m = _DESC.match(line)
                if m:
                    name = m.group(1)
                    continue
                m = _SUM.match(line)
                if m:
                    counts[m.group(1)] = int(m.group(2))
        if name is not None:
            # summary: the events collected; totals only adds the client
            # requests' own few instructions.
            dumps[name] = counts.get("summary", counts.get("totals"))
    return dumps


def instructions_per_packet(tool_dir=None):
    """Instructions per packet of each datapath scenario, counted by callgrind
    (identical from run to run): a list of {"scenario", "size",
    "instructions_per_packet"}. pmd-loopback* packets cross both directions
    (guest TX -> loopback port -> guest RX). tool_dir None:
    <repo>/build/bench/tools."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise ExtraError("valgrind not found: instructions per packet need "
                         "callgrind (Debian: apt-get install valgrind)")
    tool = _tool(tool_dir, "vhostmq-ipp")
    with tempfile.TemporaryDirectory(prefix="vhostmq-ipp-") as tmp:
        out = _run([valgrind, "--tool=callgrind", "--collect-atstart=no",
                    "--callgrind-out-file=" + os.path.join(tmp, "cg.out"), tool],
                   timeout=IPP_TIMEOUT_S)
        dumps = _callgrind_dumps(tmp)
    rows = []
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        if not r.get("callgrind"):
            raise ExtraError("vhostmq-ipp was built without valgrind/callgrind.h "
                             "(install valgrind, reconfigure, rebuild)")
        n = dumps.get(r["dump"])
        if n is None or r["packets"] <= 0:
            raise ExtraError("no callgrind dump named %s" % r["dump"])
        rows.append({"scenario": r["scenario"], "size": r["size"],
                     "instructions_per_packet": round(n / r["packets"], 1)})
    if not rows:
        raise ExtraError("vhostmq-ipp reported no scenario")
    return rows


# ------------------------------------------------------------------ wake-up
def _stop(p):
    """SIGTERM, SIGKILL after STOP_S; safe on a process already gone."""
    if p.poll() is None:
        try:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=STOP_S)
        except subprocess.TimeoutExpired:
            p.kill()
            try:
                p.wait(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                pass
        except ProcessLookupError:
            pass


def _tail(path, n=2000):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")[-n:]
    except OSError:
        return ""


def idle_and_wakeup(tool_dir, vhostmq, be_cpu, fe_cpu, idle_seconds=5.0, samples=200):
    """Starts vhostmq (loopback port, adaptive polling, one queue pair, poll
    thread on be_cpu) and runs vhostmq-wakeup against it on fe_cpu:
    {"idle_cpu_percent", "wakeup_us": {"p50", "p99", "max"}, "floor_us": {...},
    "samples"}. wakeup_us is the round trip of the first frame after 20 ms of
    silence (frontend -> vhostmq wakes -> loopback -> guest RX); floor_us is
    the same number of bare wake-ups of a thread sleeping on be_cpu (this
    machine's cost of waking any sleeper). tool_dir None:
    <repo>/build/bench/tools; vhostmq None: <repo>/build/backend/vhostmq."""
    vhostmq = vhostmq or VHOSTMQ
    if not os.access(vhostmq, os.X_OK):
        raise ExtraError("%s not found: build it first" % vhostmq)
    tool = _tool(tool_dir, "vhostmq-wakeup")
    tmp = tempfile.mkdtemp(prefix="vhostmq-wake-")
    sock = os.path.join(tmp, "vhostmq.sock")
    log = os.path.join(tmp, "vhostmq.log")
    guard = ["setpriv", "--pdeathsig", "KILL", "--"] if shutil.which("setpriv") else []
    p = None
    try:
        with open(log, "wb") as lf:
            # setpriv execs vhostmq: the PID stays the same.
            p = subprocess.Popen(
                guard + [vhostmq, "--socket", sock, "--port", "loopback",
                         "--poll-mode", "adaptive", "--queues", "1",
                         "--cores", str(be_cpu), "--stats-interval", "0"],
                stdin=subprocess.DEVNULL, stdout=lf, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + READY_S
        while not os.path.exists(sock):
            if p.poll() is not None:
                raise ExtraError("vhostmq exited (%d) before its socket appeared: %s"
                                 % (p.returncode, _tail(log)))
            if time.monotonic() > deadline:
                raise ExtraError("vhostmq socket %s did not appear within %.0f s"
                                 % (sock, READY_S))
            time.sleep(0.05)
        try:
            out = _run([tool, "--socket", sock, "--pid", str(p.pid),
                        "--idle-seconds", repr(float(idle_seconds)),
                        "--samples", str(int(samples)), "--floor-cpu", str(be_cpu)],
                       timeout=float(idle_seconds) + int(samples) * 0.1 + 30.0,
                       cpu=fe_cpu)
        except ExtraError as e:
            raise ExtraError("%s; vhostmq log: %s" % (e, _tail(log)))
        r = _json_line(out, "vhostmq-wakeup")
        if p.poll() is not None:
            raise ExtraError("vhostmq exited (%d) during the run: %s"
                             % (p.returncode, _tail(log)))
        return {"idle_cpu_percent": r["idle_cpu_percent"],
                "wakeup_us": r["wakeup_us"], "floor_us": r["floor_us"],
                "samples": r["samples"]}
    finally:
        if p is not None:
            _stop(p)
            shutil.rmtree(os.path.join(RUNDIR, "vhostmq-%d" % p.pid),
                          ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------ CLI
def main(argv=None):
    cpus = sorted(os.sched_getaffinity(0))
    ap = argparse.ArgumentParser(
        description="Runs bench/tools (memcpy and cross-core copy ceilings, "
                    "instructions per packet, idle CPU and wake-up latency) and "
                    "prints their figures as JSON.")
    ap.add_argument("--tool-dir", default=TOOL_DIR)
    ap.add_argument("--vhostmq", default=VHOSTMQ)
    ap.add_argument("--be-cpu", type=int, default=cpus[-1],
                    help="vhostmq poll thread and memcpy (and cross-core copier) CPU "
                         "(default: highest allowed)")
    ap.add_argument("--fe-cpu", type=int, default=cpus[0],
                    help="frontend and cross-core writer CPU (default: lowest allowed)")
    ap.add_argument("--size", type=int, default=1518)
    ap.add_argument("--seconds", type=float, default=1.0,
                    help="run time of each memcpy mode")
    ap.add_argument("--idle-seconds", type=float, default=5.0)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--only", default="memcpy,cross_copy,ipp,wakeup",
                    help="comma-separated subset of memcpy,cross_copy,ipp,wakeup")
    a = ap.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so every finally: stops what it started.
    signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit(128 + sig))
    want = set(a.only.split(","))
    res = {}
    try:
        if "memcpy" in want:
            res["memcpy"] = memcpy_bound(a.tool_dir, a.be_cpu, a.size, a.seconds)
        if "cross_copy" in want:
            res["cross_copy"] = cross_copy_bound(a.tool_dir, a.be_cpu, a.fe_cpu,
                                                 a.size, a.seconds)
        if "ipp" in want:
            res["ipp"] = instructions_per_packet(a.tool_dir)
        if "wakeup" in want:
            res["wakeup"] = idle_and_wakeup(a.tool_dir, a.vhostmq, a.be_cpu, a.fe_cpu,
                                            a.idle_seconds, a.samples)
    except ExtraError as e:
        print("extras: %s" % e, file=sys.stderr)
        print(json.dumps(res, indent=1))
        return 1
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
