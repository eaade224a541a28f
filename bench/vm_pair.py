#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench/vm_pair.py - TCP between two QEMU guests on one backend, the guests'
offloads in play: vhostmq with two devices wired to each other (device:
ports, TSO frames passed whole), the same with every offload off, and DPDK's
vhost as the reference (testpmd, two net_vhost ports with tso=1 forwarded to
each other in io mode), alternating, in one run.

Each run boots two guests (tests/vm/run-guest.sh, the test guest's
vmpair.sh): FLOWS TCP streams of KIB KiB each way at once, every stream's
sha256 checked at both ends. The figure is the payload both guests moved
(2 x FLOWS x KIB KiB) over the slower guest's transfer time, in Gbit/s, and
the ratio of vhostmq to the reference per round (neighbours in time).
Under TCG the guests' CPUs are the limit, not the backends: the figures say
how the offload paths serve real guests here, not what the backends could
do. Prints a table and writes JSON (--out).

Usage: python3 bench/vm_pair.py [--runs N] [--flows F] [--kib K] [--queues Q]
                                [--out FILE]
Needs QEMU, the test guest (built by run-guest.sh on first use), dpdk-testpmd
and build/backend/vhostmq. Every child is bounded by a timeout and stopped
by PID.
"""
import argparse, json, os, re, shutil, signal, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VHOSTMQ = os.path.join(ROOT, "build", "backend", "vhostmq")
RUN_GUEST = os.path.join(ROOT, "tests", "vm", "run-guest.sh")
GUEST_S = 400

OFF = {k: False for k in ("csum", "guest_csum", "host_tso4", "host_tso6", "host_ecn",
                          "guest_tso4", "guest_tso6", "guest_ecn")}


def stop(p):
    if p is None or p.poll() is not None:
        return
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def wait_sockets(paths, p, what):
    end = time.time() + 15
    while time.time() < end:
        if all(os.path.exists(s) for s in paths):
            return
        if p.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError("%s made no %s (exit %s)" % (what, ", ".join(paths), p.poll()))


def start_vhostmq(work, q, offloads):
    devs = []
    for k in (0, 1):
        d = {"name": "vm%d" % k, "socket": os.path.join(work, "vm%d.sock" % k),
             "queue_pairs": q, "cores": [1], "port": "device:vm%d" % (1 - k)}
        if not offloads:
            d["offloads"] = OFF
        devs.append(d)
    cfg = os.path.join(work, "pair.json")
    with open(cfg, "w") as f:
        json.dump({"devices": devs}, f)
    log = open(os.path.join(work, "backend.log"), "w")
    p = subprocess.Popen([VHOSTMQ, "--config", cfg, "--control", os.path.join(work, "ctl"),
                          "--stats-interval", "0"], stdout=log, stderr=subprocess.STDOUT)
    wait_sockets([d["socket"] for d in devs], p, "vhostmq")
    return p


def start_reference(work, q):
    prefix = "vmqpair%d" % os.getpid()
    vdevs = []
    for k in (0, 1):
        vdevs += ["--vdev", "net_vhost%d,iface=%s,queues=%d,tso=1,legacy-ol-flags=1"
                  % (k, os.path.join(work, "vm%d.sock" % k), q)]
    log = open(os.path.join(work, "backend.log"), "w")
    # legacy-ol-flags=1: a guest's TSO frame leaves net_vhost with DPDK's TX
    # offload flags, which the other net_vhost turns back into a GSO header
    # (with the newer RX flags io forwarding would hand it over as a plain
    # 64 KiB frame).
    p = subprocess.Popen(["dpdk-testpmd", "--lcores", "0@0,1@1", "--no-pci", "--no-huge",
                          "-m", "1024", "--file-prefix", prefix] + vdevs +
                         ["--", "--forward-mode=io", "--rxq=%d" % q, "--txq=%d" % q,
                          "--nb-cores=1", "--auto-start", "--stats-period", "1"],
                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    p.prefix = prefix
    # (--stats-period: without it testpmd reads stdin and stops at its end.)
    # Its sockets are made again when the ports start: wait for forwarding.
    end = time.time() + 15
    while "forwards packets on" not in open(log.name, errors="replace").read():
        if p.poll() is not None or time.time() > end:
            raise RuntimeError("testpmd did not start forwarding (exit %s)" % p.poll())
        time.sleep(0.1)
    wait_sockets([os.path.join(work, "vm%d.sock" % k) for k in (0, 1)], p, "testpmd")
    return p


def run_guests(work, q, flows, kib):
    procs = []
    for k in (0, 1):
        log = open(os.path.join(work, "guest%d.log" % k), "w")
        procs.append(subprocess.Popen(
            [RUN_GUEST, "--socket", os.path.join(work, "vm%d.sock" % k), "--queues", str(q),
             "--timeout", str(GUEST_S), "--mac", "52:54:00:00:01:0%d" % k, "--test", "vmpair",
             "--append", "vhostmq.addr=10.98.0.%d/24 vhostmq.peer=10.98.0.%d vhostmq.flows=%d "
             "vhostmq.kib=%d vhostmq.seconds=%d" % (k + 1, 2 - k, flows, kib, GUEST_S - 60)],
            stdout=log, stderr=subprocess.STDOUT))
    rcs = [p.wait(GUEST_S + 30) for p in procs]
    logs = [open(os.path.join(work, "guest%d.log" % k), errors="replace").read() for k in (0, 1)]
    return rcs, logs


def check(logs, flows, kib):
    """Problems with the transfer (empty: every stream arrived whole)."""
    sent = [dict(re.findall(r"^VHOSTMQ-VM: pair sent flow=(\d+) bytes=\d+ sha256=(\w+) rc=0$",
                            g, re.M)) for g in logs]
    got = [dict(re.findall(r"^VHOSTMQ-VM: pair got flow=(\d+) bytes=%d sha256=(\w+)$"
                           % (kib * 1024), g, re.M)) for g in logs]
    bad = []
    for a, b in ((0, 1), (1, 0)):
        ok = sum(1 for f, h in sent[a].items() if got[b].get(f) == h)
        if ok != flows:
            bad.append("guest %d -> guest %d: %d of %d streams intact" % (a, b, ok, flows))
    return bad


def one_run(kind, q, flows, kib):
    work = tempfile.mkdtemp(prefix="vmq-pair-")
    p = None
    try:
        p = start_vhostmq(work, q, kind == "vhostmq") if kind.startswith("vhostmq") \
            else start_reference(work, q)
        rcs, logs = run_guests(work, q, flows, kib)
        ms = [re.search(r"^VHOSTMQ-VM: pair done ms=(\d+)$", g, re.M) for g in logs]
        bad = check(logs, flows, kib)
        if rcs != [0, 0] or None in ms or bad:
            return {"kind": kind, "error": "guests rc %s; %s" % (rcs, "; ".join(bad) or "-"),
                    "work": work}
        secs = max(int(m.group(1)) for m in ms) / 1000.0
        gbps = 2 * flows * kib * 1024 * 8 / secs / 1e9
        tso = [re.search(r"^VHOSTMQ-VM: pair eth0 (.*)$", g, re.M) for g in logs]
        shutil.rmtree(work)             # kept (named above) when a run fails
        return {"kind": kind, "secs": secs, "gbps": gbps,
                "guest_eth0": [t.group(1) if t else None for t in tso]}
    finally:
        stop(p)
        if p is not None and hasattr(p, "prefix"):
            subprocess.run(["rm", "-rf", "/var/run/dpdk/" + p.prefix])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="rounds of the three (default 3)")
    ap.add_argument("--flows", type=int, default=8, help="TCP streams each way (default 8)")
    ap.add_argument("--kib", type=int, default=8192, help="KiB per stream (default 8192)")
    ap.add_argument("--queues", type=int, default=4, help="queue pairs per guest (default 4)")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "vm-pair.json"))
    a = ap.parse_args()
    kinds = ("vhostmq", "vhostmq-offloads-off", "dpdk-vhost")
    runs = []
    for r in range(a.runs):
        for kind in kinds:
            res = one_run(kind, a.queues, a.flows, a.kib)
            res["round"] = r
            runs.append(res)
            print("round %d %-22s %s" % (r, kind, "%.3f Gbit/s (%.1f s)" % (res["gbps"], res["secs"])
                                         if "gbps" in res else "FAILED: " + res["error"]),
                  flush=True)
    summary = {}
    for kind in kinds:
        g = [x["gbps"] for x in runs if x["kind"] == kind and "gbps" in x]
        summary[kind] = {"median_gbps": statistics.median(g) if g else None, "runs": len(g)}
    for kind in kinds[:2]:
        ratios = []
        for r in range(a.runs):
            x = [y for y in runs if y["round"] == r and y["kind"] == kind and "gbps" in y]
            ref = [y for y in runs if y["round"] == r and y["kind"] == "dpdk-vhost" and "gbps" in y]
            if x and ref:
                ratios.append(x[0]["gbps"] / ref[0]["gbps"])
        summary[kind]["ratio_to_dpdk_vhost"] = statistics.median(ratios) if ratios else None
    print("%-22s %12s %16s" % ("backend", "Gbit/s", "vs dpdk-vhost"))
    for kind in kinds:
        s = summary[kind]
        print("%-22s %12s %16s" % (kind, "%.3f" % s["median_gbps"] if s["median_gbps"] else "-",
                                   "%.2f" % s["ratio_to_dpdk_vhost"]
                                   if s.get("ratio_to_dpdk_vhost") else "-"))
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump({"flows": a.flows, "kib": a.kib, "queues": a.queues, "runs": runs,
                   "summary": summary, "note": "TCG guests: the guests' CPUs are the limit"},
                  f, indent=1)
    print("written: %s" % a.out)
    return 0 if all("gbps" in x for x in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
