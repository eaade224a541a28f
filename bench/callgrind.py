#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench/callgrind.py - the deterministic mode of bench/bench.py
(`python3 bench/bench.py --callgrind`): instructions per packet of each
backend's poll thread, vhostmq against DPDK's own vhost (testpmd net_vhost),
counted by callgrind on the same traffic from the same frontend.

Wall-clock rates on these shared VMs swing 0.2-3x between neighbouring runs;
instruction counts do not. A point is topology x frontend variant x frame
size (one queue pair). For each point each backend runs once, in turn:

  1. the backend starts under `valgrind --tool=callgrind --fair-sched=yes
     --separate-threads=yes` (DPDK's vhost: testpmd --no-huge -m 512
     --total-num-mbufs=16384; vhostmq --poll-mode busy), its poll thread on
     the highest allowed CPU;
  2. the frontend (testpmd net_virtio_user, not under valgrind, on the lowest
     CPU; the same command line for both backends, bench.py's) attaches and
     sends. Valgrind makes the backend ~40x slower than the frontend;
  3. after --warmup seconds a callgrind dump (through vgdb) starts the
     window and zeroes the counts; --seconds later a second dump ends it.
     The frames the backend moved are read just before and just after each
     dump and interpolated in time to the dump;
  4. the frontend is frozen (SIGSTOP), the backend drains its rings, and a
     third window of --idle-seconds counts what one empty poll costs; then
     the frontend goes on (SIGCONT);
  5. the backend is stopped with SIGINT and must exit, so that callgrind
     writes its last per-thread outputs; then the frontend is stopped.

Empty polls. The rings are not always full: whenever the frontend's CPU
runs something else (on a shared 2-CPU machine, often; measured here: 16
to 98% of the polls were empty), the backend drains them and polls empty
rings, and those instructions carry no frame. So the figure is

  instructions per packet = (window Ir - empty polls x Ir per empty poll)
                            / frames moved in the window

with Ir the busiest thread's `summary:` count, polls the calls of the
backend's once-per-poll function in that thread (POLL_FN), empty polls =
polls - frames / 32 (a poll with work takes a full burst: the frontend
posts 32 at a time and both backends take up to 32), and Ir per empty poll
from the idle window. This repeats to 0.1% whatever the share of empty
polls; the raw quotient (`instructions_per_packet_raw`, window Ir / frames)
moved 401-524 between runs of the same point. `burst_fill` = frames /
(polls x 32) says how full the rings were. The window also leaves out EAL
start-up, the polling before the frontend attached and the shutdown; the
whole-run quotient of PEERS.md's recipe (the thread's Ir from its start to
the window's end / the frames by then) is recorded as `*_whole_run`.

Frames moved (both directions' work counts against the frames taken):
  guest-to-host  vhostmq: sum of tx_packets (vhostmqctl --json stats);
                 reference: ipackets of its net_vhost port (DPDK telemetry).
  loopback       the same counters: the frames taken from the guest, each
                 of which is also put back (vhostmq rx_packets, reference
                 opackets are recorded beside).

Every point checks the features its frontend negotiated (packed: RING_PACKED
on; default: off), and fails otherwise. A failure in one run is recorded
and the next runs go on. Sockets, /var/run/dpdk/<prefix>, the vgdb FIFOs and
the callgrind outputs (in a temporary directory) are removed on every exit
path. Python standard library only.
"""
import argparse, glob, json, os, re, shutil, signal, socket, subprocess, sys
import tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOPOLOGIES = ("guest-to-host", "loopback")   # the ones with a backend-side count
REF_MEM_MB = 512         # testpmd under valgrind: --no-huge -m 512 and
REF_MBUFS = 16384        # --total-num-mbufs=16384, else its mbuf pool fails
START_S = 60.0           # bound on: backend socket, frontend traffic (valgrind start-up)
EXIT_S = 120.0           # SIGINT to exit under valgrind (testpmd: ~3 s here)
VGDB_S = 30.0            # bound on one vgdb monitor command
DUMP_START, DUMP_END = "window-start", "window-end"
IDLE_START, IDLE_END = "idle-start", "idle-end"
IDLE_SETTLE_S = 0.5      # frontend stopped -> the backend has drained its rings
BURST = 32               # frames per full burst: testpmd's default --burst
                         # (frontend, reference) and vhostmq's PMD_BURST
# The functions each backend's poll thread calls once per poll of the guest's
# TX ring, full or empty (vhostmq: one per ring layout): their call count
# tells work from empty polls.
POLL_FN = {"vhostmq": ("guest_tx", "guest_tx_packed"),
           "reference": ("rte_vhost_dequeue_burst",)}
RUNDIR = "/var/run/dpdk"
RING_PACKED = 34         # VIRTIO_F_RING_PACKED (bench.VARIANTS names the others)


class CgError(Exception):
    pass


# ------------------------------------------------------------ counters
class Telemetry:
    """One DPDK telemetry (v2) connection kept open for many queries:
    bench.telemetry() connects per query, which under valgrind takes
    ~0.15 s and would widen the bracket around each dump."""

    def __init__(self, prefix):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.settimeout(5)
        self.s.connect(os.path.join(RUNDIR, prefix, "dpdk_telemetry.v2"))
        self.max = json.loads(self.s.recv(65536).decode()).get("max_output_len", 65536)

    def __call__(self, cmd):
        self.s.send(cmd.encode())
        return json.loads(self.s.recv(self.max).decode())[cmd.split(",")[0]]

    def close(self):
        self.s.close()


def bracket(read, action):
    """Runs action between two reads of a steadily growing counter: the
    counter at the action's midpoint (interpolated in time) and the two
    reads that bound it."""
    t0 = time.monotonic()
    c0 = read()
    t1 = time.monotonic()
    action()
    t2 = time.monotonic()
    c1 = read()
    t3 = time.monotonic()
    ta, tb, tm = (t0 + t1) / 2, (t2 + t3) / 2, (t1 + t2) / 2
    est = c0 + (c1 - c0) * (tm - ta) / (tb - ta) if tb > ta else c0
    return est, c0, c1


# ------------------------------------------------------------ callgrind output
_HDR = re.compile(r"^(part|thread|desc|summary|totals): ?(.*)$")
_FN = re.compile(r"^fn=\((\d+)\)(?: (.*))?$")
_CFN = re.compile(r"^c(?:fn|fi|fe|ob)=\((\d+)\)(?: (.*))?$")
_COST = re.compile(r"^[+\-*0-9]")


def read_dump(path):
    """Header fields, self cost per function and calls per called function
    of one callgrind output file."""
    head, fns, calls, names = {}, {}, {}, {}
    fn, cfn, after_calls = None, None, False
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = _FN.match(line)
            if m:
                if m.group(2):
                    names[m.group(1)] = m.group(2)
                fn = names.get(m.group(1), "(%s)" % m.group(1))
                continue
            m = _CFN.match(line)
            if m:
                if line.startswith("cfn="):
                    if m.group(2):
                        names[m.group(1)] = m.group(2)
                    cfn = names.get(m.group(1), "(%s)" % m.group(1))
                continue
            if line.startswith("calls="):
                after_calls = True       # the next cost line is a call's inclusive cost
                n = line[6:].split()
                if cfn is not None and n and n[0].isdigit():
                    calls[cfn] = calls.get(cfn, 0) + int(n[0])
                continue
            if _COST.match(line):
                if after_calls:
                    after_calls = False
                    continue
                parts = line.split()
                if fn is not None and len(parts) >= 2 and parts[1].isdigit():
                    fns[fn] = fns.get(fn, 0) + int(parts[1])
                continue
            m = _HDR.match(line)
            if m and m.group(1) == "desc" and not m.group(2).startswith("Trigger: "):
                continue                 # cache sizes, time range
            if m and m.group(1) not in head:
                head[m.group(1)] = m.group(2)
    return head, fns, calls


def read_outputs(cg_dir):
    """{part: {"desc": trigger, "threads": {tid: (Ir, {fn: self Ir},
    {called fn: calls})}}}."""
    parts = {}
    for path in glob.glob(os.path.join(cg_dir, "cg.out*")):
        if os.path.getsize(path) == 0:
            continue                 # the empty base file of --separate-threads
        head, fns, calls = read_dump(path)
        try:
            part, tid = int(head.get("part", "1")), int(head["thread"])
            ir = int((head.get("summary") or head["totals"]).split()[0])
        except (KeyError, ValueError, IndexError):
            raise CgError("%s: no part/thread/summary header" % path)
        trig = head.get("desc", "").replace("Trigger: ", "")
        parts.setdefault(part, {"desc": trig, "threads": {}})["threads"][tid] = (ir, fns, calls)
    return parts


def thread_names(pid):
    """Kernel thread names of a running process, in creation (TID) order;
    callgrind numbers threads 1, 2, ... in the same order while none has
    exited."""
    try:
        tids = sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
        out = []
        for t in tids:
            with open("/proc/%d/task/%d/comm" % (pid, t)) as f:
                out.append(f.read().strip())
        return out
    except (OSError, ValueError):
        return []


# ------------------------------------------------------------ one run
def make_run_class(bench):
    """bench.Run with the backend under callgrind and a dump window; the
    frontend, the variant check and the waits are bench.py's own."""

    class CgRun(bench.Run):
        def __init__(self, cfg, procs, point, backend):
            super().__init__(cfg, procs, point, backend, 0)
            self.cg_dir = os.path.join(cfg.work, "%s-%s-%d-%s.cg" % (
                self.topo.name, point.variant, point.size, backend))
            self.vgdb_prefix = os.path.join(self.cg_dir, "vgdb")

        def start_backend(self):
            shutil.rmtree(self.cg_dir, ignore_errors=True)
            os.makedirs(self.cg_dir)
            vg = [self.cfg.valgrind, "--tool=callgrind", "--fair-sched=yes",
                  "--separate-threads=yes", "--vgdb=yes",
                  "--vgdb-prefix=" + self.vgdb_prefix,
                  "--callgrind-out-file=" + os.path.join(self.cg_dir, "cg.out")]
            cpu = self.pt.be_cpus[0]
            if self.backend == "vhostmq":
                argv = [self.cfg.vhostmq, "--socket", self.sock, "--queues", "1",
                        "--cores", str(cpu), "--poll-mode", "busy",
                        "--port", self.topo.vhostmq_port(self), "--stats-interval", "0"]
                need = [self.sock, self.sock + ".ctl"]
            else:
                vdevs, app = self.topo.ref_args(self)
                argv = [self.cfg.testpmd, "--lcores", "0@%d,1@%d" % (cpu, cpu),
                        "--file-prefix", self.be_prefix, "--no-huge", "-m",
                        str(REF_MEM_MB), "--no-pci",
                        "--vdev", "net_vhost0,iface=%s,queues=1" % self.sock] + vdevs + \
                    ["--", "--nb-cores=1", "--auto-start", "--stats-period", "1",
                     "--rxq=1", "--txq=1", "--total-num-mbufs=%d" % REF_MBUFS] + app
                need = [self.sock]
            p = self.procs.start(vg + argv, self.be_log, signal.SIGINT)
            self.wait_for(lambda: all(os.path.exists(n) for n in need), p,
                          "backend socket", timeout=START_S)
            return p

        def counter(self):
            """A function returning (frames taken from the guest, frames put
            back into it), and a closer."""
            if self.backend == "vhostmq":
                def read():
                    st = bench.vhostmq_stats(self.ctl, self.sock + ".ctl")
                    qs = [q for d in st["devices"] for q in d["queue_pairs"]]
                    return (sum(q["tx_packets"] for q in qs),
                            sum(q["rx_packets"] for q in qs))
                return read, lambda: None
            tel = Telemetry(self.be_prefix)
            try:
                port = next(i for i in tel("/ethdev/list")
                            if tel("/ethdev/info,%d" % i).get("name") == "net_vhost0")
            except StopIteration:
                tel.close()
                raise CgError("%s: no port net_vhost0" % self.label())

            def read():
                s = tel("/ethdev/stats,%d" % port)
                return int(s["ipackets"]), int(s["opackets"])
            return read, tel.close

        def vgdb(self, pid, *cmd):
            p = subprocess.run([self.cfg.vgdb, "--vgdb-prefix=" + self.vgdb_prefix,
                                "--pid=%d" % pid] + list(cmd), stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=VGDB_S)
            if p.returncode != 0:
                raise CgError("%s: vgdb %s failed (exit %d): %s" % (
                    self.label(), " ".join(cmd), p.returncode,
                    p.stderr.decode(errors="replace").strip()[-300:]))

        def stop_backend(self, be, rec):
            """SIGINT, then the time valgrind needs to exit and write its
            outputs; SIGKILL (bench's Procs) only after EXIT_S."""
            if be.poll() is None:
                try:
                    os.kill(be.pid, signal.SIGINT)
                    be.wait(timeout=EXIT_S)
                except subprocess.TimeoutExpired:
                    rec.setdefault("warnings", []).append(
                        "backend did not exit within %.0f s of SIGINT: killed" % EXIT_S)
                except ProcessLookupError:
                    pass
            self.procs.stop(be)
            rec["backend_exit"] = be.returncode

        def measure(self, rec):
            be = fe = None
            closer = lambda: None
            try:
                be = self.start_backend()
                fe = self.start_frontend()
                read, closer = self.wait_for(self.counter, [be, fe], "counter",
                                             timeout=START_S)
                self.wait_for(lambda: read()[0] > 0, [be, fe], "traffic",
                              timeout=START_S)
                time.sleep(self.cfg.warmup)
                moved = lambda: read()[0]
                dump = lambda name: lambda: self.vgdb(be.pid, "dump", name)
                s_est, s_lo, s_hi = bracket(moved, dump(DUMP_START))
                t0 = time.monotonic()
                time.sleep(self.cfg.seconds)
                names = thread_names(be.pid)
                e_est, e_lo, e_hi = bracket(moved, dump(DUMP_END))
                t1 = time.monotonic()
                for p in (be, fe):
                    if p.poll() is not None:
                        raise CgError("%s: a process died during the window" % self.label())
                rec.update(ok=True, window_s=round(t1 - t0, 3),
                           frames=round(e_est - s_est),
                           frames_bounds=[e_lo - s_hi, e_hi - s_lo],
                           frames_whole_run=round(e_est), thread_names=names)
                self.idle_phase(be, fe, read, dump, rec)
                if self.backend == "vhostmq":
                    rec["vhostmq_stats"] = bench.vhostmq_stats(self.ctl, self.sock + ".ctl")
                taken, back = read()     # just before stopping
                rec.update(frames_taken_at_stop=taken, frames_put_back_at_stop=back)
                closer()
                closer = lambda: None
                self.stop_backend(be, rec)
            except (CgError, bench.BenchError, OSError, ValueError, KeyError,
                    subprocess.SubprocessError) as e:
                rec.update(ok=False, error=str(e) if isinstance(e, (CgError, bench.BenchError))
                           else "%s: %s: %s" % (self.label(), type(e).__name__, e))
            finally:
                closer()
                if fe is not None and fe.poll() is None:
                    try:
                        os.kill(fe.pid, signal.SIGCONT)
                    except OSError:
                        pass
                if be is not None and be.poll() is None:
                    self.stop_backend(be, rec)
                if fe is not None:
                    self.procs.stop(fe)
                if be is not None:
                    shutil.rmtree(os.path.join(RUNDIR, "vhostmq-%d" % be.pid),
                                  ignore_errors=True)

        def idle_phase(self, be, fe, read, dump, rec):
            """The cost of one empty poll: the frontend is frozen (SIGSTOP),
            the backend drains its rings, and a dump window counts the
            poll thread's instructions and polls while nothing arrives."""
            os.kill(fe.pid, signal.SIGSTOP)
            try:
                time.sleep(IDLE_SETTLE_S)
                c0 = read()
                dump(IDLE_START)()
                time.sleep(self.cfg.idle_seconds)
                dump(IDLE_END)()
                c1 = read()
            finally:
                os.kill(fe.pid, signal.SIGCONT)
            rec["idle_frames"] = [c1[0] - c0[0], c1[1] - c0[1]]

        def count(self, rec):
            """Instructions per packet from the callgrind outputs."""
            if rec["frames_bounds"][0] <= 0:
                raise CgError("%s: the backend moved no frames in the window (%s)"
                              % (self.label(), rec["frames_bounds"]))
            parts = read_outputs(self.cg_dir)
            part = {}
            for n, p in parts.items():
                if p["desc"].startswith("dump "):
                    part[p["desc"][5:]] = n
            for d in (DUMP_START, DUMP_END, IDLE_START, IDLE_END):
                if d not in part:
                    raise CgError("%s: callgrind wrote no '%s' dump" % (self.label(), d))
            window = parts[part[DUMP_END]]["threads"]
            tid, (ir, fns, calls) = max(window.items(), key=lambda kv: kv[1][0])
            total = sum(v[0] for v in window.values())
            names = rec.get("thread_names", [])
            frames = rec["frames"]
            poll_fns = POLL_FN[self.backend]
            poll_fn = "|".join(poll_fns)
            polls = sum(calls.get(f, 0) for f in poll_fns)
            rec.update(
                thread=tid, thread_name=names[tid - 1] if len(names) >= tid else None,
                thread_share=round(ir / total, 4) if total else None,
                instructions=ir,
                instructions_per_packet_raw=round(ir / frames, 1),
                top_functions=[[f, round(c / frames, 1)] for f, c in
                               sorted(fns.items(), key=lambda kv: -kv[1])[:8]],
                poll_function=poll_fn, polls=polls,
                burst_fill=round(frames / (polls * BURST), 4) if polls else None,
                instructions_whole_run=parts[part[DUMP_START]]["threads"].get(
                    tid, (0,))[0] + ir,
                callgrind_parts=len(parts),
                clean_exit=any(p["desc"] == "Program termination" for p in parts.values()))
            rec["instructions_per_packet_whole_run"] = round(
                rec["instructions_whole_run"] / rec["frames_whole_run"], 1)
            if not rec["clean_exit"]:
                rec.setdefault("warnings", []).append(
                    "no 'Program termination' output: the backend did not exit "
                    "cleanly (exit %s)" % rec.get("backend_exit"))
            idle = parts[part[IDLE_END]]["threads"].get(tid)
            idle_polls = sum(idle[2].get(f, 0) for f in poll_fns) if idle else 0
            if not polls or not idle_polls:
                raise CgError("%s: no calls of %s counted in the %s thread: cannot "
                              "tell work from empty polls" % (self.label(), poll_fn, tid))
            if rec["idle_frames"][0] != 0:
                rec.setdefault("warnings", []).append(
                    "%d frames moved while the frontend was stopped: the empty-poll "
                    "cost includes some work" % rec["idle_frames"][0])
            per_empty = idle[0] / idle_polls
            empty = max(0.0, polls - frames / BURST)
            rec.update(idle_polls=idle_polls, instructions_per_empty_poll=round(per_empty, 1),
                       empty_polls=round(empty),
                       instructions_per_packet=round((ir - empty * per_empty) / frames, 1),
                       instructions_per_packet_bounds=[
                           round((ir - empty * per_empty) / rec["frames_bounds"][1], 1),
                           round((ir - empty * per_empty) / rec["frames_bounds"][0], 1)])

        def check_features(self, rec):
            """bench's variant check, plus: the features must be in the log,
            and default must be split rings."""
            self.check_variant(rec)
            if not rec["ok"]:
                return
            feats = bench.negotiated_features(self.fe_log)
            if feats is None:
                rec.update(ok=False, error="%s: no negotiated features in the "
                           "frontend log" % self.label())
            elif self.pt.variant == "default" and feats >> RING_PACKED & 1:
                rec.update(ok=False, error="%s: default variant negotiated packed "
                           "rings (0x%x)" % (self.label(), feats))

        def execute(self):
            self.clean_prefixes()
            self.remove_sockets()
            rec = dict(self.pt.fields(), backend=self.backend)
            try:
                self.measure(rec)
                if rec["ok"]:
                    self.count(rec)
            except (CgError, OSError) as e:
                rec.update(ok=False, error=str(e))
            finally:
                self.clean_prefixes()
                self.remove_sockets()
                if not self.cfg.keep:
                    shutil.rmtree(self.cg_dir, ignore_errors=True)
            self.check_features(rec)
            if not rec["ok"]:
                rec["frontend_log_tail"] = bench.tail(self.fe_log)
                rec["backend_log_tail"] = bench.tail(self.be_log)
            return rec

    return CgRun


# ------------------------------------------------------------ report
def point_summary(pt, runs):
    s = dict(topology=pt.topo.name, variant=pt.variant, size=pt.size,
             ok=all(r["ok"] for r in runs.values()))
    keep = ("ok", "error", "instructions_per_packet", "instructions_per_packet_bounds",
            "instructions_per_packet_raw", "instructions_per_packet_whole_run",
            "burst_fill", "instructions_per_empty_poll", "frames", "thread",
            "thread_name", "thread_share", "negotiated_features", "warnings")
    for b, r in runs.items():
        s[b] = {k: r[k] for k in keep if k in r}
    for key, out in (("instructions_per_packet", "ratio"),
                     ("instructions_per_packet_raw", "ratio_raw"),
                     ("instructions_per_packet_whole_run", "ratio_whole_run")):
        a, b = (runs[k].get(key) for k in ("vhostmq", "reference"))
        s[out] = round(a / b, 3) if a and b and s["ok"] else None
    return s


def fmt(v, f):
    return "-" if v is None else f % v


def table(summary):
    head = ["topology", "variant", "size", "vhostmq ipp", "raw", "fill",
            "reference ipp", "raw", "fill", "ratio", "raw ratio",
            "vhostmq frames", "reference frames", "vhostmq thread", "reference thread"]
    rows = [head]

    def thr(d):
        if "thread" not in d:
            return "-"
        return "%d %s %.0f%%" % (d["thread"], d.get("thread_name") or "?",
                                 100 * (d.get("thread_share") or 0))
    for s in summary:
        row = [s["topology"], s["variant"], str(s["size"])]
        for b in ("vhostmq", "reference"):
            d = s[b]
            row += [fmt(d.get("instructions_per_packet"), "%.1f") if d["ok"] else "FAILED",
                    fmt(d.get("instructions_per_packet_raw"), "%.1f"),
                    fmt(d.get("burst_fill"), "%.2f")]
        row += [fmt(s["ratio"], "%.3f"), fmt(s["ratio_raw"], "%.3f"),
                fmt(s["vhostmq"].get("frames"), "%d"), fmt(s["reference"].get("frames"), "%d"),
                thr(s["vhostmq"]), thr(s["reference"])]
        rows.append(row)
    width = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i < 2 or i > 12 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, width))) for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    for s in summary:
        for b in ("vhostmq", "reference"):
            d = s[b]
            tag = "%s %s %d B %s" % (s["topology"], s["variant"], s["size"], b)
            if not d["ok"]:
                lines.append("# FAILED %s: %s" % (tag, d.get("error")))
            for w in d.get("warnings", []):
                lines.append("# warning %s: %s" % (tag, w))
    return "\n".join(lines)


# ------------------------------------------------------------ main
def main(bench, args=None):
    ap = argparse.ArgumentParser(
        prog="bench.py --callgrind",
        description="Instructions per packet of vhostmq's and DPDK vhost's poll "
                    "threads under callgrind (deterministic; see bench/callgrind.py)")
    ap.add_argument("--seconds", type=float, default=20,
                    help="length of the counted window per run (default 20; under "
                         "valgrind a backend moves ~0.3-0.6 Mpps)")
    ap.add_argument("--warmup", type=float, default=2,
                    help="seconds of traffic before the window (default 2)")
    ap.add_argument("--idle-seconds", type=float, default=2,
                    help="length of the empty-poll window, frontend stopped (default 2)")
    ap.add_argument("--sizes", type=bench.int_list, default="64,1518",
                    help="frame sizes, comma separated (default 64,1518)")
    ap.add_argument("--topologies", default=",".join(TOPOLOGIES),
                    help="comma separated: " + ", ".join(TOPOLOGIES))
    ap.add_argument("--variants", default="default,packed",
                    help="frontend variants, comma separated: " + ", ".join(bench.VARIANTS))
    ap.add_argument("--backends", default="vhostmq,reference",
                    help="comma separated: vhostmq, reference (default both)")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "callgrind.json"),
                    help="JSON result (default bench/results/callgrind.json)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the logs and callgrind outputs (their directory is printed)")
    ap.add_argument("--vhostmq", default=os.path.join(ROOT, "build", "backend", "vhostmq"))
    ap.add_argument("--vhostmqctl", default=None)
    ap.add_argument("--testpmd", default=shutil.which("dpdk-testpmd") or "dpdk-testpmd")
    ap.add_argument("--valgrind", default=shutil.which("valgrind") or "valgrind")
    ap.add_argument("--mem", type=int, default=1024,
                    help="MB of --no-huge memory of the frontend testpmd")
    cfg = ap.parse_args(args)
    topos = cfg.topologies.split(",")
    variants = cfg.variants.split(",")
    backends = cfg.backends.split(",")
    if not set(topos) <= set(TOPOLOGIES) or not set(variants) <= set(bench.VARIANTS) \
            or not set(backends) <= set(bench.BACKENDS) or not backends:
        ap.error("--topologies: %s; --variants: %s; --backends: %s" % (
            ", ".join(TOPOLOGIES), ", ".join(bench.VARIANTS), ", ".join(bench.BACKENDS)))
    if cfg.seconds <= 0 or cfg.warmup < 0 or cfg.idle_seconds <= 0 \
            or not all(60 <= s <= 9000 for s in cfg.sizes):
        ap.error("--seconds > 0, --warmup >= 0, --idle-seconds > 0, --sizes 60..9000")
    if cfg.vhostmqctl is None:
        cfg.vhostmqctl = os.path.join(os.path.dirname(cfg.vhostmq), "vhostmqctl")
    cfg.vgdb = os.path.join(os.path.dirname(os.path.realpath(
        shutil.which(cfg.valgrind) or cfg.valgrind)), "vgdb")
    for exe in (cfg.vhostmq, cfg.vhostmqctl, cfg.testpmd, cfg.valgrind, cfg.vgdb):
        if not (shutil.which(exe) or os.access(exe, os.X_OK)):
            print("bench --callgrind: %s not found/executable (valgrind: Debian "
                  "package valgrind)" % exe, file=sys.stderr)
            return 2
    cpus = bench.allowed_cpus()
    cfg.fe_cpu, cfg.be_cpu = cpus[0], cpus[-1]
    if cfg.fe_cpu == cfg.be_cpu:
        print("# warning: one CPU only; frontend and backend share it", file=sys.stderr)
    cfg.be_cores = cfg.fe_cores = None       # bench.Point: one core each
    cfg.work = tempfile.mkdtemp(prefix="vmqcg.")
    procs = bench.Procs()
    CgRun = make_run_class(bench)

    def on_signal(sig, frm):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    points = [bench.Point(cfg, bench.TOPOLOGIES[t], v, 1, s)
              for t in topos for v in variants for s in cfg.sizes]
    summary, runs, rc = [], [], 0
    t_start = time.monotonic()
    try:
        for pt in points:
            got = {}
            for b in backends:
                r = CgRun(cfg, procs, pt, b).execute()
                got[b] = r
                runs.append(r)
                msg = ("%.1f instructions/packet (raw %.1f, burst fill %.2f, %d frames, "
                       "thread %s %s)" % (
                           r["instructions_per_packet"], r["instructions_per_packet_raw"],
                           r["burst_fill"], r["frames"], r["thread"], r.get("thread_name"))
                       if r["ok"] else "FAILED: " + r["error"])
                print("# %s %-9s: %s" % (pt.label(), b, msg), flush=True)
            for b in bench.BACKENDS:
                got.setdefault(b, {"ok": False, "error": "not run (--backends)"})
            summary.append(point_summary(pt, got))
    except KeyboardInterrupt:
        print("# interrupted; cleaning up", file=sys.stderr)
        rc = 130
    finally:
        procs.stop_all()
    result = {"tool": "bench/bench.py --callgrind",
              "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "config": {"seconds": cfg.seconds, "warmup_s": cfg.warmup,
                         "idle_seconds": cfg.idle_seconds,
                         "sizes": cfg.sizes, "topologies": topos, "variants": variants,
                         "queues": 1, "backend_cpu": cfg.be_cpu, "frontend_cpu": cfg.fe_cpu,
                         "valgrind": "%s --tool=callgrind --fair-sched=yes "
                                     "--separate-threads=yes" % cfg.valgrind,
                         "reference_memory": "--no-huge -m %d --total-num-mbufs=%d"
                                             % (REF_MEM_MB, REF_MBUFS),
                         "frontend_memory": "--no-huge -m %d" % cfg.mem,
                         "vhostmq": cfg.vhostmq, "testpmd": cfg.testpmd,
                         "elapsed_s": round(time.monotonic() - t_start, 1),
                         "interrupted": rc == 130},
              "summary": summary, "runs": runs}
    bench.write_json(cfg.out, result)
    print(table(summary))
    print("# ipp: instructions per packet of the busiest thread in the window, empty "
          "polls taken out; raw: with them; fill: frames / (polls x %d); ratio: "
          "vhostmq / reference (< 1: vhostmq needs fewer)" % BURST)
    print("# JSON: %s" % cfg.out)
    bad = [s for s in summary if not s["ok"]]
    if rc == 0 and (bad or not summary):
        rc = 1
    if cfg.keep or (bad and rc != 130):
        print("# logs kept in %s" % cfg.work)
    else:
        shutil.rmtree(cfg.work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    import bench as _bench
    sys.exit(main(_bench))
