#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench/bench.py - vhostmq against DPDK's own vhost (net_vhost in testpmd)
on the same traffic from the same frontend (testpmd net_virtio_user).

For every point (topology x size) the two backends run alternately
A B A B ... (--runs each). A run: start the backend, start the frontend, wait
until traffic flows, warm up 1 s, read the counter, sleep --seconds, read it
again: rate = delta / measured time. Counters:
  guest-to-host  vhostmq: sum of tx_packets (vhostmqctl --json stats);
                 reference: ipackets of its net_vhost port (DPDK telemetry).
  loopback       frontend ipackets (DPDK telemetry of the frontend testpmd).
Gbps = Mpps x frame size x 8 (L2 frame without FCS, preamble, IFG).
Every process is started here, pinned (frontend lcores on the lowest allowed
CPU, backend poll thread on the highest), stopped by PID (SIGINT/SIGTERM,
SIGKILL after 3 s); sockets and /var/run/dpdk/<prefix> are removed on every
exit path, Ctrl-C included. Python standard library only.
"""
import argparse, json, os, shutil, signal, socket, statistics, subprocess
import sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RUNDIR = "/var/run/dpdk"
WARMUP_S = 1.0
READY_S = 10.0      # bound on: socket appears, traffic starts
STOP_S = 3.0        # SIGINT/SIGTERM grace before SIGKILL


class BenchError(Exception):
    pass


# ------------------------------------------------------------ processes
class Procs:
    """Every child, by PID; stop_all() is safe to call repeatedly."""

    def __init__(self):
        self.live = []          # (Popen, stop signal, log file object)
        self.prefixes = set()   # DPDK file prefixes to remove
        self.paths = set()

    def start(self, argv, log, stop_sig):
        guard = []
        if shutil.which("setpriv"):
            guard = ["setpriv", "--pdeathsig", "KILL", "--"]
        f = open(log, "wb")
        p = subprocess.Popen(guard + argv, stdin=subprocess.DEVNULL, stdout=f,
                             stderr=subprocess.STDOUT, start_new_session=True)
        self.live.append((p, stop_sig, f))
        return p

    def stop(self, p):
        for ent in list(self.live):
            if ent[0] is p:
                self._stop(ent)
                self.live.remove(ent)

    @staticmethod
    def _stop(ent):
        p, sig, f = ent
        if p.poll() is None:
            try:
                os.kill(p.pid, sig)
                p.wait(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGKILL)
                try:
                    p.wait(timeout=STOP_S)
                except subprocess.TimeoutExpired:
                    pass
            except ProcessLookupError:
                pass
        f.close()

    def stop_all(self):
        while self.live:
            self._stop(self.live.pop())
        for pfx in self.prefixes:
            shutil.rmtree(os.path.join(RUNDIR, pfx), ignore_errors=True)
            for fn in os.listdir("/dev/hugepages") if os.path.isdir("/dev/hugepages") else []:
                if fn.startswith(pfx):
                    try:
                        os.unlink(os.path.join("/dev/hugepages", fn))
                    except OSError:
                        pass
        for path in self.paths:
            for p in (path, path + ".ctl"):
                try:
                    os.unlink(p)
                except OSError:
                    pass


# ------------------------------------------------------------ counters
def telemetry(prefix, cmd):
    """One DPDK telemetry (v2) query of the process with that file prefix."""
    path = os.path.join(RUNDIR, prefix, "dpdk_telemetry.v2")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(3)
    try:
        s.connect(path)
        info = json.loads(s.recv(65536).decode())
        s.send(cmd.encode())
        out = json.loads(s.recv(info.get("max_output_len", 65536)).decode())
    finally:
        s.close()
    return out[cmd.split(",")[0]]


def port_by_name(prefix, name):
    for pid in telemetry(prefix, "/ethdev/list"):
        if telemetry(prefix, "/ethdev/info,%d" % pid).get("name") == name:
            return pid
    raise BenchError("no port %s in %s" % (name, prefix))


def port_ipackets(prefix, port):
    return int(telemetry(prefix, "/ethdev/stats,%d" % port)["ipackets"])


def vhostmq_stats(ctl, csock):
    out = subprocess.run([ctl, "-s", csock, "--json", "stats"], timeout=5,
                         capture_output=True, check=True).stdout
    return json.loads(out)


def vhostmq_tx(ctl, csock):
    st = vhostmq_stats(ctl, csock)
    return sum(q["tx_packets"] for d in st["devices"] for q in d["queue_pairs"])


# ------------------------------------------------------------ topologies
# A topology says how the frontend is run, how each backend is run, and
# which counter is the result. Add one by adding an entry to TOPOLOGIES.
class Topology:
    fe_mode = []            # testpmd forwarding options of the frontend

    def vhostmq_port(self):
        raise NotImplementedError

    def ref_args(self):
        """(extra EAL vdevs, testpmd app options) of the reference."""
        raise NotImplementedError

    def counter(self, run, backend):
        """A function returning the cumulative frame count that is measured."""
        raise NotImplementedError


class GuestToHost(Topology):
    name = "guest-to-host"
    what = "frames the backend took from the guest and sent to net_null"

    def fe_mode(self, size):
        return ["--forward-mode=txonly", "--txpkts=%d" % size]

    # no-rx: the sink is only a sink, so neither backend spends its core
    # on frames net_null would otherwise make up endlessly.
    def vhostmq_port(self):
        return "ethdev:net_null0,no-rx=1"

    def ref_args(self):
        return ["--vdev", "net_null0,no-rx=1"], ["--forward-mode=io"]

    def counter(self, run, backend):
        if backend == "vhostmq":
            return lambda: vhostmq_tx(run.ctl, run.sock + ".ctl")
        port = port_by_name(run.be_prefix, "net_vhost0")
        return lambda: port_ipackets(run.be_prefix, port)


class Loopback(Topology):
    name = "loopback"
    what = "frames the frontend received back"

    def fe_mode(self, size):
        return ["--forward-mode=flowgen", "--txpkts=%d" % size]

    def vhostmq_port(self):
        return "loopback"

    def ref_args(self):
        return [], ["--forward-mode=macswap", "--port-topology=loop"]

    def counter(self, run, backend):
        port = port_by_name(run.fe_prefix, "net_virtio_user0")
        return lambda: port_ipackets(run.fe_prefix, port)


TOPOLOGIES = {t.name: t for t in (GuestToHost(), Loopback())}


# ------------------------------------------------------------ one run
class Run:
    def __init__(self, cfg, procs, topo, backend, size, idx):
        self.cfg, self.procs, self.topo = cfg, procs, topo
        self.backend, self.size, self.idx = backend, size, idx
        tag = "vmqb%d" % os.getpid()
        self.fe_prefix = tag + "fe"
        self.be_prefix = tag + "be"
        self.sock = os.path.join(cfg.work, "vhost.sock")
        self.ctl = cfg.vhostmqctl
        base = "%s-%s-%d-%d" % (topo.name, backend, size, idx)
        self.fe_log = os.path.join(cfg.work, base + ".frontend.log")
        self.be_log = os.path.join(cfg.work, base + ".backend.log")
        procs.prefixes.update((self.fe_prefix, self.be_prefix))
        procs.paths.add(self.sock)

    def clean_prefixes(self):
        for pfx in (self.fe_prefix, self.be_prefix):
            shutil.rmtree(os.path.join(RUNDIR, pfx), ignore_errors=True)

    def eal_mem(self):
        return ["--no-huge", "-m", str(self.cfg.mem), "--no-pci"]

    def start_backend(self):
        q, cpu = self.cfg.queues, self.cfg.be_cpu
        if self.backend == "vhostmq":
            argv = [self.cfg.vhostmq, "--socket", self.sock, "--queues", str(q),
                    "--cores", str(cpu), "--poll-mode", "busy",
                    "--port", self.topo.vhostmq_port(), "--stats-interval", "0"]
            p = self.procs.start(argv, self.be_log, signal.SIGTERM)
            need = [self.sock, self.sock + ".ctl"]
        else:
            vdevs, app = self.topo.ref_args()
            argv = [self.cfg.testpmd, "--lcores", "0@%d,1@%d" % (cpu, cpu),
                    "--file-prefix", self.be_prefix] + self.eal_mem() + \
                ["--vdev", "net_vhost0,iface=%s,queues=%d" % (self.sock, q)] + \
                vdevs + ["--", "--rxq=%d" % q, "--txq=%d" % q, "--auto-start",
                         "--stats-period", "1"] + app
            p = self.procs.start(argv, self.be_log, signal.SIGINT)
            need = [self.sock]
        self.wait_for(lambda: all(os.path.exists(n) for n in need), p,
                      "backend socket")
        self.be_pid = p.pid
        return p

    def start_frontend(self):
        q, cpu = self.cfg.queues, self.cfg.fe_cpu
        argv = [self.cfg.testpmd, "--lcores", "0@%d,1@%d" % (cpu, cpu),
                "--file-prefix", self.fe_prefix] + self.eal_mem() + \
            ["--vdev", "net_virtio_user0,path=%s,queues=%d%s" % (self.sock, q, os.environ.get("FEX", "")),
             "--", "--rxq=%d" % q, "--txq=%d" % q, "--auto-start",
             "--stats-period", "1"] + self.topo.fe_mode(self.size)
        return self.procs.start(argv, self.fe_log, signal.SIGINT)

    def wait_for(self, cond, procs, what, timeout=READY_S):
        if not isinstance(procs, (list, tuple)):
            procs = [procs]
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for p in procs:
                if p.poll() is not None:
                    raise BenchError("%s: a process exited (rc %s) while waiting"
                                     " for %s" % (self.label(), p.returncode, what))
            try:
                v = cond()
                if v:
                    return v
            except (OSError, ValueError, KeyError, BenchError,
                    subprocess.SubprocessError):
                pass
            time.sleep(0.05)
        raise BenchError("%s: no %s within %.0f s" % (self.label(), what, timeout))

    def label(self):
        return "%s %s size %d run %d" % (self.topo.name, self.backend,
                                        self.size, self.idx)

    def execute(self):
        self.clean_prefixes()
        try:
            os.unlink(self.sock)
        except OSError:
            pass
        rec = {"topology": self.topo.name, "backend": self.backend,
               "size": self.size, "queues": self.cfg.queues, "run": self.idx,
               "counter": self.topo.what}
        be = fe = None
        try:
            be = self.start_backend()
            fe = self.start_frontend()
            # the counter's source (telemetry socket / control socket) must
            # answer, then the count must move
            count = self.wait_for(lambda: self.topo.counter(self, self.backend),
                                  [be, fe], "counter")
            self.wait_for(lambda: count() > 0, [be, fe], "traffic")
            time.sleep(WARMUP_S)
            t0, c0 = time.monotonic(), count()
            time.sleep(self.cfg.seconds)
            c1, t1 = count(), time.monotonic()
            for p in (be, fe):
                if p.poll() is not None:
                    raise BenchError("%s: a process died during the run"
                                     % self.label())
            dt = t1 - t0
            pps = (c1 - c0) / dt
            rec.update(ok=True, frames=c1 - c0, seconds=round(dt, 4),
                       mpps=pps / 1e6, gbps=pps * self.size * 8 / 1e9)
            if self.backend == "vhostmq":
                try:
                    rec["vhostmq_stats"] = vhostmq_stats(self.ctl, self.sock + ".ctl")
                except Exception:
                    pass
        except BenchError as e:
            rec.update(ok=False, error=str(e))
            rec["frontend_log_tail"] = tail(self.fe_log)
            rec["backend_log_tail"] = tail(self.be_log)
        finally:
            if fe is not None:
                self.procs.stop(fe)
            if be is not None:
                self.procs.stop(be)
                rec["backend_exit"] = be.returncode
                if self.backend == "vhostmq":
                    shutil.rmtree(os.path.join(RUNDIR, "vhostmq-%d" % be.pid),
                                  ignore_errors=True)
            self.clean_prefixes()
            for n in (self.sock, self.sock + ".ctl"):
                try:
                    os.unlink(n)
                except OSError:
                    pass
        return rec


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            lines = [l.rstrip() for l in f if l.strip()]
        return lines[-n:]
    except OSError:
        return []


# ------------------------------------------------------------ report
def summarize(records, backends):
    points = {}
    for r in records:
        points.setdefault((r["topology"], r["size"], r["queues"]), []).append(r)
    out = []
    for (topo, size, q), rs in points.items():
        s = {"topology": topo, "size": size, "queues": q}
        for b in backends:
            ok = [r for r in rs if r["backend"] == b and r.get("ok")]
            mp = [r["mpps"] for r in ok]
            s[b] = {"runs": len(ok),
                    "failed": len([r for r in rs if r["backend"] == b and not r.get("ok")]),
                    "median_mpps": statistics.median(mp) if mp else None,
                    "median_gbps": statistics.median([r["gbps"] for r in ok]) if ok else None,
                    "min_mpps": min(mp) if mp else None,
                    "max_mpps": max(mp) if mp else None}
        a, b = s.get("vhostmq", {}), s.get("reference", {})
        s["ratio"] = (a["median_mpps"] / b["median_mpps"]
                      if a.get("median_mpps") and b.get("median_mpps") else None)
        out.append(s)
    return out


def fmt(v, f="%.2f"):
    return "-" if v is None else f % v


def table(summary, backends):
    hdr = "%-14s %5s %2s" % ("topology", "size", "q")
    for b in backends:
        hdr += " | %-9s %7s %7s %13s" % (b[:9], "Mpps", "Gbps", "min-max Mpps")
    hdr += " | %6s" % "ratio"
    lines = [hdr, "-" * len(hdr)]
    for s in summary:
        l = "%-14s %5d %2d" % (s["topology"], s["size"], s["queues"])
        for b in backends:
            d = s[b]
            rng = "-" if d["min_mpps"] is None else "%.2f-%.2f" % (d["min_mpps"], d["max_mpps"])
            l += " | %-9s %7s %7s %13s" % ("%d ok%s" % (d["runs"], "/%d bad" % d["failed"] if d["failed"] else ""),
                                           fmt(d["median_mpps"]), fmt(d["median_gbps"]), rng)
        l += " | %6s" % fmt(s["ratio"], "%.3f")
        lines.append(l)
    return "\n".join(lines)


# ------------------------------------------------------------ main
def allowed_cpus():
    return sorted(os.sched_getaffinity(0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="runs per backend and point")
    ap.add_argument("--seconds", type=float, default=5, help="measured seconds a run")
    ap.add_argument("--sizes", default="64,1518", help="frame sizes, comma separated")
    ap.add_argument("--queues", type=int, default=1)
    ap.add_argument("--topologies", default=",".join(TOPOLOGIES),
                    help="comma separated: " + ", ".join(TOPOLOGIES))
    ap.add_argument("--out", default=os.path.join(HERE, "results", "latest.json"))
    ap.add_argument("--vhostmq", default=os.path.join(ROOT, "build", "backend", "vhostmq"))
    ap.add_argument("--vhostmqctl", default=None)
    ap.add_argument("--testpmd", default=shutil.which("dpdk-testpmd") or "dpdk-testpmd")
    ap.add_argument("--mem", type=int, default=1024, help="MB of --no-huge memory per testpmd")
    ap.add_argument("--smoke", action="store_true",
                    help="1 run per backend, 2 s, size 64, all topologies; "
                         "exit 0 iff every run passed traffic (no speed check)")
    cfg = ap.parse_args()
    if cfg.smoke:
        cfg.runs, cfg.seconds, cfg.sizes = 1, 2, "64"
        cfg.topologies = ",".join(TOPOLOGIES)
    if cfg.vhostmqctl is None:
        cfg.vhostmqctl = os.path.join(os.path.dirname(cfg.vhostmq), "vhostmqctl")
    try:
        sizes = [int(x) for x in cfg.sizes.split(",")]
        topos = [TOPOLOGIES[t] for t in cfg.topologies.split(",")]
    except (ValueError, KeyError) as e:
        ap.error("bad --sizes or --topologies: %s" % e)
    if cfg.runs < 1 or cfg.seconds <= 0 or not 1 <= cfg.queues <= 128:
        ap.error("--runs >= 1, --seconds > 0, --queues 1..128")
    for exe in (cfg.vhostmq, cfg.vhostmqctl, cfg.testpmd):
        if not (shutil.which(exe) or os.access(exe, os.X_OK)):
            print("bench: %s not found/executable" % exe, file=sys.stderr)
            return 2
    cpus = allowed_cpus()
    cfg.fe_cpu, cfg.be_cpu = cpus[0], cpus[-1]
    if cfg.fe_cpu == cfg.be_cpu:
        print("# warning: one CPU only; frontend and backend share it", file=sys.stderr)
    cfg.work = tempfile.mkdtemp(prefix="vmqbench.")
    backends = ["vhostmq", "reference"]
    procs = Procs()
    interrupted = [False]

    def on_signal(sig, frm):
        interrupted[0] = True
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    records = []
    rc = 0
    try:
        for topo in topos:
            for size in sizes:
                for i in range(cfg.runs):
                    for b in backends:               # A B A B ...
                        r = Run(cfg, procs, topo, b, size, i).execute()
                        records.append(r)
                        msg = ("%.3f Mpps" % r["mpps"]) if r.get("ok") else "FAILED: " + r["error"]
                        print("# %-14s %-9s size %5d run %d: %s" % (topo.name, b, size, i, msg),
                              flush=True)
    except KeyboardInterrupt:
        print("# interrupted; cleaning up", file=sys.stderr)
        rc = 130
    finally:
        procs.stop_all()
    summary = summarize(records, backends)
    result = {"tool": "bench/bench.py", "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "config": {"runs": cfg.runs, "seconds": cfg.seconds, "sizes": sizes,
                         "queues": cfg.queues, "topologies": [t.name for t in topos],
                         "frontend_cpu": cfg.fe_cpu, "backend_cpu": cfg.be_cpu,
                         "smoke": cfg.smoke, "memory": "--no-huge -m %d" % cfg.mem,
                         "warmup_s": WARMUP_S, "vhostmq": cfg.vhostmq,
                         "testpmd": cfg.testpmd, "interrupted": rc == 130},
              "summary": summary, "runs": records}
    os.makedirs(os.path.dirname(os.path.abspath(cfg.out)), exist_ok=True)
    with open(cfg.out, "w") as f:
        json.dump(result, f, indent=1)
    print(table(summary, backends))
    print("# raw runs: %s" % cfg.out)
    bad = [r for r in records if not r.get("ok") or r["frames"] <= 0]
    for r in bad:
        print("# FAILED %s %s size %d run %d: %s" % (r["topology"], r["backend"], r["size"],
                                                     r["run"], r.get("error", "no frames")))
        for l in r.get("backend_log_tail", [])[-5:]:
            print("#   backend: " + l)
        for l in r.get("frontend_log_tail", [])[-5:]:
            print("#   frontend: " + l)
    if rc == 0 and (bad or not records):
        rc = 1
    if rc == 0 or not bad:
        shutil.rmtree(cfg.work, ignore_errors=True)
    else:
        print("# logs kept in %s" % cfg.work)
    if cfg.smoke:
        print("SMOKE %s" % ("PASS" if rc == 0 else "FAIL"))
    return rc


if __name__ == "__main__":
    sys.exit(main())
