#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench/bench.py - vhostmq against DPDK's own vhost (net_vhost in testpmd)
on the same traffic from the same frontend (testpmd net_virtio_user).

A point is topology x frontend variant x queue pairs x frame size. For every
point the two backends run alternately A B A B ... (--runs each). A run:
start the backend, start the frontend, wait until traffic flows, warm up 1 s,
read the counter, sleep --seconds, read it again: rate = delta / measured
time. Counters:
  guest-to-host  vhostmq: sum of tx_packets (vhostmqctl --json stats);
                 reference: ipackets of its net_vhost port (DPDK telemetry).
  loopback,      frontend ipackets (DPDK telemetry of the frontend testpmd).
  host-to-guest, host-to-guest-1q (vhostmq's uplink one queue)
  guest-tso      TCP segments cut from the guest's TSO frames into net_null.
                 vhostmq: sum of tx_packets and tx_bytes; reference (csum
                 engine, software GSO): net_null's opackets, and bytes
                 from net_vhost's ibytes (net_null counts none in 22.11).
Gbps = Mpps x frame size x 8 (L2 frame without FCS, preamble, IFG); for
guest-tso, whose size is the TCP payload of a TSO frame (--tso-sizes, not
in the default topologies nor in --smoke), the segments' bytes x 8.
The ratio of a point is the median of the per-pair ratios (vhostmq run i /
reference run i, neighbours in time), which the machine's slow swings bias
less than the ratio of the medians (also reported).

Placement: by default the frontend's lcores share the lowest allowed CPU and
the backend's poll thread takes the highest, whatever the queue count. With
--be-cores/--fe-cores (queue-scaling mode) N queue pairs get the first N CPUs
of each list, one poll thread or forwarding lcore per CPU.

After the points, bench/extras.py (if present) adds the memcpy bound, the
cross-core copy bound (frames copied on the backend's CPU just after the
frontend's CPU wrote them), instructions per packet, idle CPU and wake-up
latency; the JSON goes to --out, PNG plots (gnuplot, bench/plot.gp) beside
it, and a targets block compares the run with the targets of issues 5 and 13
(reported only: the exit status says whether every run passed traffic).

--callgrind switches to the deterministic mode of bench/callgrind.py
(instructions per packet of each backend's poll thread under callgrind;
its own options: bench.py --callgrind --help).

Every process is started here, pinned, stopped by PID (SIGINT/SIGTERM,
SIGKILL after 3 s); sockets and /var/run/dpdk/<prefix> are removed on every
exit path, Ctrl-C included. Python standard library only.
"""
import argparse, json, math, os, re, shutil, signal, socket, statistics, struct
import subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RUNDIR = "/var/run/dpdk"
WARMUP_S = 1.0
READY_S = 10.0      # bound on: socket appears, traffic starts
STOP_S = 3.0        # SIGINT/SIGTERM grace before SIGKILL
PLOT_S = 60         # bound on one gnuplot run
BACKENDS = ("vhostmq", "reference")

# Frontend variants: net_virtio_user devargs, and the feature bit the variant
# must (True) or must not (False) have negotiated. virtio-user silently drops
# a feature the backend does not offer, so every run checks the features in
# the frontend's log: a run must not measure something else than its name.
VIRTIO_NET_F_MRG_RXBUF, VIRTIO_F_RING_PACKED, VIRTIO_F_IN_ORDER = 15, 34, 35
VARIANTS = {
    "default": ("", None),
    "mrg0": (",mrg_rxbuf=0", (VIRTIO_NET_F_MRG_RXBUF, False)),
    "inorder0": (",in_order=0", (VIRTIO_F_IN_ORDER, False)),
    "packed": (",packed_vq=1", (VIRTIO_F_RING_PACKED, True)),
}
FEATURES_RE = re.compile(r"features after negotiate = ([0-9a-fA-F]+)")
# (backend, variant) pairs not run, and why (none today: vhostmq offers
# VIRTIO_F_RING_PACKED, and every run checks the negotiated features).
UNSUPPORTED = {}


# guest-tso: the guest's TSO frames are TCP/IPv4 with the 12-byte timestamp
# option, as Linux sends them, and the MSS that goes with it on a 1500-byte
# MTU, so every full segment is a 1514-byte frame, cut by either backend.
VIRTIO_NET_F_HOST_TSO4 = 11
TSO_MSS = 1448
TSO_HDR = 14 + 20 + 32          # Ethernet, IPv4, TCP with timestamps
TSO_SEGSZ = TSO_MSS + TSO_HDR   # testpmd's "set gso segsz": a whole segment
TSO_PAYLOAD_MIN = TSO_MSS + 1   # smaller frames are not cut at all
# The frontend's net_pcap hands a frame over in one mbuf (infinite_rx copies
# the first segment only), whose data room (16-bit) also holds the headroom.
MBUF_HEADROOM = 128
TSO_PAYLOAD_MAX = 65000         # 65066-byte frame: IPv4 length and one mbuf fit
TSO_PCAP_FRAMES = 64            # frames in the replayed pcap, over TSO_FLOWS flows
TSO_FLOWS = 4
# (virtio-user offers no IPv4 header checksum offload: "csum set ip hw"
# would only say so.)
TSO_FE_CMDS = ("port stop 1", "csum set tcp hw 1", "tso set %d 1" % TSO_MSS,
               "port start 1")
TSO_REF_CMDS = ("set port 1 gso on", "set gso segsz %d" % TSO_SEGSZ)


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


def port_stats(prefix, port):
    return telemetry(prefix, "/ethdev/stats,%d" % port)


def vhostmq_stats(ctl, csock):
    out = subprocess.run([ctl, "-s", csock, "--json", "stats"], timeout=5,
                         capture_output=True, check=True).stdout
    return json.loads(out)


def vhostmq_tx(ctl, csock):
    st = vhostmq_stats(ctl, csock)
    return sum(q["tx_packets"] for d in st["devices"] for q in d["queue_pairs"])


def negotiated_features(log):
    """The virtio features the frontend settled on, from its debug log."""
    try:
        with open(log, errors="replace") as f:
            found = FEATURES_RE.findall(f.read())
    except OSError:
        return None
    return int(found[-1], 16) if found else None


# ------------------------------------------------------------ topologies
# A topology says how the frontend is run, how each backend is run, and
# which counter is the result. Add one by adding an entry to TOPOLOGIES.
class Topology:
    fe_receives = False     # the result is frames the frontend received
    note = None             # said of its points with more than one queue
    size_is = "frame"       # what a point's size is (--sizes: frame bytes)
    ref_vhost_args = ""     # appended to the reference's net_vhost0 devargs

    def sizes(self, cfg):
        return cfg.sizes

    def queue_counts(self, cfg):
        return cfg.queues

    def fe_mode(self, size):
        """testpmd forwarding options of the frontend."""
        raise NotImplementedError

    def fe_args(self, run):
        """(EAL vdevs before net_virtio_user0, testpmd app options) of the
        frontend."""
        return [], self.fe_mode(run.pt.size)

    def vhostmq_port(self, run):
        raise NotImplementedError

    def ref_args(self, run):
        """(extra EAL vdevs, testpmd app options) of the reference."""
        raise NotImplementedError

    def counter(self, run):
        """A function returning the cumulative frame count that is measured."""
        port = port_by_name(run.fe_prefix, "net_virtio_user0")
        return lambda: int(port_stats(run.fe_prefix, port)["ipackets"])

    def sample(self, run):
        """A function returning the cumulative counts of the run as a dict:
        "frames" is the result; with "bytes", Gbps is bytes x 8 / s rather
        than Mpps x size x 8; other keys are recorded as deltas."""
        count = self.counter(run)
        return lambda: {"frames": count()}

    def check(self, run, rec):
        """After the run, with the processes gone: why the run does not
        measure what it claims, or None."""
        return None


class GuestToHost(Topology):
    name = "guest-to-host"
    what = "frames the backend took from the guest and sent to net_null"

    def fe_mode(self, size):
        return ["--forward-mode=txonly", "--txpkts=%d" % size]

    # no-rx: the sink is only a sink, so neither backend spends its core
    # on frames net_null would otherwise make up endlessly.
    def vhostmq_port(self, run):
        return "ethdev:net_null0,no-rx=1"

    def ref_args(self, run):
        return ["--vdev", "net_null0,no-rx=1"], ["--forward-mode=io"]

    def counter(self, run):
        if run.backend == "vhostmq":
            return lambda: vhostmq_tx(run.ctl, run.sock + ".ctl")
        port = port_by_name(run.be_prefix, "net_vhost0")
        return lambda: int(port_stats(run.be_prefix, port)["ipackets"])


class Loopback(Topology):
    name = "loopback"
    what = "frames the frontend received back"
    fe_receives = True

    def fe_mode(self, size):
        return ["--forward-mode=flowgen", "--txpkts=%d" % size]

    def vhostmq_port(self, run):
        return "loopback"

    def ref_args(self, run):
        return [], ["--forward-mode=macswap", "--port-topology=loop"]


class HostToGuest(Topology):
    name = "host-to-guest"
    what = "frames the frontend received from a pcap source through the backend"
    fe_receives = True
    note = ("source: net_pcap replaying (infinite_rx) 1000 UDP flows, one RX "
            "queue per queue pair; vhostmq spreads them over the guest RX "
            "queues by its software RSS (handing frames between pairs), the "
            "reference (testpmd io) forwards port queue i to vhost queue i "
            "and hashes nothing")

    def fe_mode(self, size):
        return ["--forward-mode=rxonly"]

    @staticmethod
    def source(run, queues=None):
        """net_pcap devargs replaying a pcap of 1000 flows of this size,
        written once per size by the test suite's pcaptool, on queues RX
        queues (default: one per queue pair)."""
        pcap = os.path.join(run.cfg.work, "flows-%d.pcap" % run.pt.size)
        if not os.path.exists(pcap):
            subprocess.run([run.cfg.pcaptool, "gen", pcap, "--count", "1000",
                            "--sizes", str(run.pt.size), "--flows", "1000"],
                           check=True, stdout=subprocess.DEVNULL, timeout=30)
        return "net_pcap0,%s,infinite_rx=1" % ",".join(
            ["rx_pcap=" + pcap] * (queues or run.pt.queues))

    def vhostmq_port(self, run):
        return "ethdev:" + self.source(run)

    def ref_args(self, run):
        return ["--vdev", self.source(run)], ["--forward-mode=io"]


class HostToGuestOneQueue(HostToGuest):
    """host-to-guest with a one-queue uplink on vhostmq's side only: its
    one port RX queue is read by one thread and spread over every guest RX
    queue by its RSS, while the reference still gets a source queue per
    pair (forwarded queue i to vhost queue i, nothing hashed)."""
    name = "host-to-guest-1q"
    note = ("source: net_pcap replaying (infinite_rx) 1000 UDP flows; vhostmq: ONE "
            "RX queue spread by its RSS over every guest RX queue; the reference "
            "(testpmd io): one source queue per queue pair, queue i to vhost queue i")

    def vhostmq_port(self, run):
        return "ethdev:" + self.source(run, 1)


def ip_checksum(hdr):
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def write_tso_pcap(path, payload):
    """TSO_PCAP_FRAMES TCP/IPv4 frames of payload bytes each, round robin
    over TSO_FLOWS flows with contiguous sequence numbers: ACK|PSH, the
    timestamp option, a valid IPv4 header checksum, TCP checksum 0 (the
    frontend's csum engine leaves it to virtio-user's offload)."""
    data = bytes(range(256)) * (payload // 256 + 2)
    seq = [1000000 * (f + 1) for f in range(TSO_FLOWS)]
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        # pcap 2.4, microseconds, snaplen 262144, LINKTYPE_ETHERNET
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for i in range(TSO_PCAP_FRAMES):
            flow = i % TSO_FLOWS
            tcp = struct.pack("!HHIIBBHHH", 40000 + flow, 5201, seq[flow], 1,
                              (TSO_HDR - 34) // 4 << 4, 0x18, 65535, 0, 0) + \
                b"\x01\x01\x08\x0a" + struct.pack("!II", 1000 + i, 7)
            ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + payload,
                                       i, 0x4000, 64, 6, 0, bytes((10, 0, 0, 1)),
                                       bytes((10, 0, 1, flow + 1))))
            ip[10:12] = struct.pack("!H", ip_checksum(bytes(ip)))
            eth = bytes((2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1)) + b"\x08\x00"
            frame = eth + bytes(ip) + tcp + data[i % 256:i % 256 + payload]
            f.write(struct.pack("<IIII", 1, i, len(frame), len(frame)) + frame)
            seq[flow] = (seq[flow] + payload) & 0xFFFFFFFF
    os.rename(tmp, path)


def tso_expected(payload):
    """(segments, bytes on the wire) that one TSO frame of payload becomes."""
    segs = math.ceil(payload / TSO_MSS)
    return segs, payload + segs * TSO_HDR


class GuestTso(Topology):
    name = "guest-tso"
    what = ("TCP segments (frames and bytes) the backend cut from the guest's "
            "TSO frames and sent to net_null")
    size_is = "TCP payload bytes per TSO frame (--tso-sizes)"
    # tso=1: DPDK's vhost offers no TSO by default (and virtio-user then
    # does not offer it to testpmd). legacy-ol-flags does not matter here:
    # the csum engine rebuilds every mbuf's offload flags from its headers.
    ref_vhost_args = ",tso=1"

    def sizes(self, cfg):
        return cfg.tso_sizes

    def queue_counts(self, cfg):
        return [q for q in cfg.queues if q == 1]

    @staticmethod
    def mbuf_args(run, total):
        """One mbuf holds a whole TSO frame on either testpmd (vhostmq
        chains its own 2 KiB mbufs)."""
        return ["--mbuf-size=%d" % (MBUF_HEADROOM + TSO_HDR + run.pt.size),
                "--total-num-mbufs=%d" % total]

    @staticmethod
    def cmdline_file(run, who, cmds):
        """testpmd runs these before it starts forwarding (also in the
        non-interactive mode a script needs), after the ports started."""
        path = run.base + "." + who + ".cmd"
        with open(path, "w") as f:
            f.write("\n".join(cmds) + "\n")
        return "--cmdline-file=" + path

    def fe_args(self, run):
        """Port 0: net_pcap replaying the frames; port 1: virtio-user, TCP
        checksum and TSO (MSS TSO_MSS) handed to the backend. The csum
        engine needs the port stopped to change its offloads."""
        pcap = os.path.join(run.cfg.work, "tso-%d.pcap" % run.pt.size)
        if not os.path.exists(pcap):
            write_tso_pcap(pcap, run.pt.size)
        return (["--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap],
                ["--forward-mode=csum"] + self.mbuf_args(run, 2048) +
                [self.cmdline_file(run, "frontend", TSO_FE_CMDS)])

    def vhostmq_port(self, run):
        return "ethdev:net_null0,no-rx=1"      # no TSO: vhostmq cuts (pmd/tso.c)

    def ref_args(self, run):
        """net_vhost0 (port 0) -> csum engine with software GSO on the
        net_null0 port (1): every frame longer than TSO_SEGSZ is cut into
        TSO_SEGSZ-byte TCP segments before net_null. Pool: a burst of 32
        frames of up to 45 segments, each a header mbuf and an indirect one."""
        return (["--vdev", "net_null0,no-rx=1"],
                ["--forward-mode=csum"] + self.mbuf_args(run, 8192) +
                [self.cmdline_file(run, "reference", TSO_REF_CMDS)])

    def sample(self, run):
        fe_src = port_by_name(run.fe_prefix, "net_pcap0")
        fe_vu = port_by_name(run.fe_prefix, "net_virtio_user0")
        run.port_ids = {"frontend net_virtio_user0": fe_vu}

        def frontend(out):
            out["frontend_read"] = int(port_stats(run.fe_prefix, fe_src)["ipackets"])
            out["frontend_sent"] = int(port_stats(run.fe_prefix, fe_vu)["opackets"])
            return out

        if run.backend == "vhostmq":
            def vhostmq():
                qs = [q for d in vhostmq_stats(run.ctl, run.sock + ".ctl")["devices"]
                      for q in d["queue_pairs"]]
                out = {k: sum(q[v] for q in qs) for k, v in (
                    ("frames", "tx_packets"), ("bytes", "tx_bytes"),
                    ("tso_frames", "tx_tso_frames"), ("tso_segments", "tx_tso_segments"),
                    ("dropped", "tx_drop_port"), ("nombuf", "tx_nombuf"))}
                return frontend(out)
            return vhostmq
        vhost = port_by_name(run.be_prefix, "net_vhost0")
        null = port_by_name(run.be_prefix, "net_null0")
        run.port_ids["reference net_null0"] = null

        # net_null in DPDK 22.11 counts no bytes (obytes stays 0): then the
        # bytes are those of the frames net_vhost0 took from the guest, plus
        # the headers of each segment beyond the first of a frame.
        def reference():
            o = port_stats(run.be_prefix, null)
            i = port_stats(run.be_prefix, vhost)
            out = {"frames": int(o["opackets"]), "tso_frames": int(i["ipackets"]),
                   "in_bytes": int(i["ibytes"]), "tso_segments": int(o["opackets"])}
            out["bytes"] = int(o["obytes"]) or \
                out["in_bytes"] + (out["frames"] - out["tso_frames"]) * TSO_HDR
            return frontend(out)
        return reference

    def check(self, run, rec):
        """TSO really asked and really done: the frontend took 'tso set' on
        port 1 and negotiated HOST_TSO4; the backend cut every frame into
        the segments it makes (each backend's own counters of frames in and
        segments out, over the measured seconds)."""
        feats = negotiated_features(run.fe_log)
        if feats is None or not feats >> VIRTIO_NET_F_HOST_TSO4 & 1:
            return ("virtio-user did not negotiate HOST_TSO4 (bit %d; features %s): "
                    "the frontend sent no TSO frames" % (
                        VIRTIO_NET_F_HOST_TSO4, rec.get("negotiated_features")))
        for what, want in (("frontend net_virtio_user0", 1), ("reference net_null0", 1)):
            got = getattr(run, "port_ids", {}).get(what, want)
            if got != want:
                return "%s is port %d, the cmdline file names port %d" % (what, got, want)
        try:
            with open(run.fe_log, errors="replace") as f:
                log = f.read()
        except OSError as e:
            return "frontend log: %s" % e
        if "TSO segment size for non-tunneled packets is %d" % TSO_MSS not in log:
            return "the frontend did not take 'tso set %d 1' (see its log)" % TSO_MSS
        c = rec["counts"]
        segs, wire = tso_expected(run.pt.size)
        rec["expected_per_tso_frame"] = {"segments": segs, "bytes": wire}
        if c["tso_frames"] <= 0:
            return "the backend took no TSO frame"
        per = {"segments": c["tso_segments"] / c["tso_frames"],
               "bytes": c["bytes"] / c["tso_frames"],
               "segment_bytes": c["bytes"] / max(c["frames"], 1)}
        rec["per_tso_frame"] = per
        if c["frontend_read"] > 0:
            rec["frontend_dropped_fraction"] = 1 - c["frontend_sent"] / c["frontend_read"]
        # frames in flight between two counters: a few bursts of ~1e5/s
        if abs(per["segments"] / segs - 1) > 0.02 or abs(per["bytes"] / wire - 1) > 0.02:
            return ("not cut as expected: %.2f segments and %.0f bytes per TSO frame, "
                    "want %d and %d" % (per["segments"], per["bytes"], segs, wire))
        return None


TOPOLOGIES = {t.name: t for t in (GuestToHost(), Loopback(), HostToGuest(),
                                  HostToGuestOneQueue(), GuestTso())}
# What runs when --topologies is not given (and in --smoke): guest-tso moves
# frames of another kind (--tso-sizes) and host-to-guest-1q is host-to-guest
# with a one-queue uplink; both are asked for by name.
DEFAULT_TOPOLOGIES = ("guest-to-host", "loopback", "host-to-guest")


# ------------------------------------------------------------ one run
class Point:
    """One configuration both backends run, and the CPUs it runs on."""

    def __init__(self, cfg, topo, variant, queues, size):
        self.topo, self.variant, self.queues, self.size = topo, variant, queues, size
        if cfg.be_cores:
            self.be_cpus, self.fe_cpus = cfg.be_cores[:queues], cfg.fe_cores[:queues]
        else:
            self.be_cpus, self.fe_cpus = [cfg.be_cpu], [cfg.fe_cpu]

    def fields(self):
        return {"topology": self.topo.name, "variant": self.variant,
                "size": self.size, "queues": self.queues,
                "backend_cpus": self.be_cpus, "frontend_cpus": self.fe_cpus}

    def label(self):
        return "%s %s size %d q %d" % (self.topo.name, self.variant, self.size,
                                      self.queues)


def testpmd_argv(cfg, cpus, prefix, eal, app):
    """dpdk-testpmd with one forwarding lcore per CPU of cpus; the main lcore,
    which only prints the stats, shares the first."""
    lcores = ["0@%d" % cpus[0]] + ["%d@%d" % (i + 1, c) for i, c in enumerate(cpus)]
    return [cfg.testpmd, "--lcores", ",".join(lcores), "--file-prefix", prefix,
            "--no-huge", "-m", str(cfg.mem), "--no-pci"] + eal + \
        ["--", "--nb-cores=%d" % len(cpus), "--auto-start", "--stats-period", "1"] + app


class Run:
    def __init__(self, cfg, procs, point, backend, idx):
        self.cfg, self.procs, self.pt = cfg, procs, point
        self.topo, self.backend, self.idx = point.topo, backend, idx
        tag = "vmqb%d" % os.getpid()
        self.fe_prefix = tag + "fe"
        self.be_prefix = tag + "be"
        self.sock = os.path.join(cfg.work, "vhost.sock")
        self.ctl = cfg.vhostmqctl
        base = "%s-%s-q%d-%d-%s-%d" % (self.topo.name, point.variant, point.queues,
                                       point.size, backend, idx)
        self.base = os.path.join(cfg.work, base)
        self.fe_log = self.base + ".frontend.log"
        self.be_log = self.base + ".backend.log"
        procs.prefixes.update((self.fe_prefix, self.be_prefix))
        procs.paths.add(self.sock)

    def remove_sockets(self):
        """The backend's vhost-user and control sockets, if left, and the
        file a vhostmq keeps its packed rings' positions in for a successor
        (backend/resume.h: FNV-1a of the socket path)."""
        h = 0xcbf29ce484222325
        for b in self.sock.encode():
            h = ((h ^ b) * 0x100000001b3) & (2 ** 64 - 1)
        for n in (self.sock, self.sock + ".ctl", "/dev/shm/vhostmq-rings-%016x" % h):
            try:
                os.unlink(n)
            except OSError:
                pass

    def clean_prefixes(self):
        for pfx in (self.fe_prefix, self.be_prefix):
            shutil.rmtree(os.path.join(RUNDIR, pfx), ignore_errors=True)

    def start_backend(self):
        q = self.pt.queues
        if self.backend == "vhostmq":
            argv = [self.cfg.vhostmq, "--socket", self.sock, "--queues", str(q),
                    "--cores", ",".join(map(str, self.pt.be_cpus)),
                    "--poll-mode", "busy", "--port", self.topo.vhostmq_port(self),
                    "--stats-interval", "0"]
            p = self.procs.start(argv, self.be_log, signal.SIGTERM)
            need = [self.sock, self.sock + ".ctl"]
        else:
            vdevs, app = self.topo.ref_args(self)
            eal = ["--vdev", "net_vhost0,iface=%s,queues=%d%s" % (
                self.sock, q, self.topo.ref_vhost_args)] + vdevs
            argv = testpmd_argv(self.cfg, self.pt.be_cpus, self.be_prefix, eal,
                                ["--rxq=%d" % q, "--txq=%d" % q] + app)
            p = self.procs.start(argv, self.be_log, signal.SIGINT)
            need = [self.sock]
        self.wait_for(lambda: all(os.path.exists(n) for n in need), p,
                      "backend socket")
        return p

    def start_frontend(self):
        q = self.pt.queues
        vdev = "net_virtio_user0,path=%s,queues=%d%s" % (
            self.sock, q, VARIANTS[self.pt.variant][0])
        vdevs, app = self.topo.fe_args(self)
        # init:debug logs the negotiated features (a few dozen lines at start)
        eal = ["--log-level=pmd.net.virtio.init:debug"] + vdevs + ["--vdev", vdev]
        argv = testpmd_argv(self.cfg, self.pt.fe_cpus, self.fe_prefix, eal,
                            ["--rxq=%d" % q, "--txq=%d" % q] + app)
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
        return "%s %s run %d" % (self.pt.label(), self.backend, self.idx)

    def frontend_rx_queues(self):
        """How many of the frontend's RX queues received frames. ethdev
        counts per queue for the first 16 only (RTE_ETHDEV_QUEUE_STAT_CNTRS
        in Debian's DPDK 22.11)."""
        port = port_by_name(self.fe_prefix, "net_virtio_user0")
        q = port_stats(self.fe_prefix, port)["q_ipackets"][:self.pt.queues]
        return sum(1 for n in q if n > 0)

    def check_variant(self, rec):
        """Fails a run whose frontend did not negotiate what its variant asks."""
        feats = negotiated_features(self.fe_log)
        rec["negotiated_features"] = None if feats is None else "0x%x" % feats
        want = VARIANTS[self.pt.variant][1]
        if not rec["ok"] or want is None:
            return
        bit, on = want
        if feats is None:
            rec.update(ok=False, error="%s: no negotiated features in the frontend "
                       "log: variant %s unconfirmed" % (self.label(), self.pt.variant))
        elif bool(feats >> bit & 1) != on:
            rec.update(ok=False, error="%s: variant %s needs feature bit %d %s, "
                       "negotiated 0x%x" % (self.label(), self.pt.variant, bit,
                                            "on" if on else "off", feats))

    def execute(self):
        self.clean_prefixes()
        self.remove_sockets()
        rec = dict(self.pt.fields(), backend=self.backend, run=self.idx,
                   counter=self.topo.what)
        be = fe = None
        try:
            be = self.start_backend()
            fe = self.start_frontend()
            # the counter's source (telemetry socket / control socket) must
            # answer, then the count must move
            sample = self.wait_for(lambda: self.topo.sample(self), [be, fe], "counter")
            self.wait_for(lambda: sample()["frames"] > 0, [be, fe], "traffic")
            time.sleep(WARMUP_S)
            t0, s0 = time.monotonic(), sample()
            time.sleep(self.cfg.seconds)
            s1, t1 = sample(), time.monotonic()
            for p in (be, fe):
                if p.poll() is not None:
                    raise BenchError("%s: a process died during the run"
                                     % self.label())
            dt = t1 - t0
            d = {k: s1[k] - s0[k] for k in s0}
            pps = d["frames"] / dt
            bits = d["bytes"] * 8 / dt if "bytes" in d else pps * self.pt.size * 8
            rec.update(ok=True, frames=d["frames"], seconds=round(dt, 4),
                       mpps=pps / 1e6, gbps=bits / 1e9)
            if len(d) > 1:
                rec["counts"] = d
            if self.topo.fe_receives:
                rec["frontend_rx_queues_used"] = self.frontend_rx_queues()
            if self.backend == "vhostmq":
                rec["vhostmq_stats"] = vhostmq_stats(self.ctl, self.sock + ".ctl")
        except (BenchError, OSError, ValueError, KeyError,
                subprocess.SubprocessError) as e:
            rec.update(ok=False, error=str(e) if isinstance(e, BenchError)
                       else "%s: %s: %s" % (self.label(), type(e).__name__, e))
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
            self.remove_sockets()
        self.check_variant(rec)
        why = self.topo.check(self, rec) if rec["ok"] else None
        if why is not None:
            rec.update(ok=False, error="%s: %s" % (self.label(), why))
        if not rec["ok"]:
            rec["frontend_log_tail"] = tail(self.fe_log)
            rec["backend_log_tail"] = tail(self.be_log)
        return rec


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            lines = [l.rstrip() for l in f if l.strip()]
        return lines[-n:]
    except OSError:
        return []


# ------------------------------------------------------------ extras
# The copy bounds of bench/extras.py: (its extra, the summary key of
# vhostmq's 1518 B Gbps as a fraction of it, its name in the report).
COPY_BOUNDS = (("memcpy_bound", "vhostmq_memcpy_fraction", "memcpy"),
               ("cross_copy_bound", "vhostmq_cross_copy_fraction", "cross-core copy"))


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def run_extras(cfg):
    """The figures of bench/extras.py. It is another tool's module, imported
    only here so that bench.py works without it; whatever goes wrong in it
    becomes {"error": ...} and never stops the benchmark. "missing": the
    module or the compiled tools are not there at all."""
    if not os.path.exists(os.path.join(HERE, "extras.py")):
        return {"error": "bench/extras.py is missing", "missing": True}
    if not os.path.isdir(cfg.tool_dir):
        return {"error": "no bench tools in %s (configure the build with "
                         "-Dbench=true; scripts/bench.sh does)" % cfg.tool_dir,
                "missing": True}
    sys.path.insert(0, HERE)
    try:
        import extras
    except Exception as e:      # anything the module raises while loading
        return {"error": "bench/extras.py: cannot import: %s: %s" % (type(e).__name__, e)}
    finally:
        sys.path.remove(HERE)
    tiny = cfg.smoke
    calls = [
        ("memcpy_bound", lambda: extras.memcpy_bound(
            cfg.tool_dir, cfg.be_cpu, size=1518, seconds=0.2 if tiny else 1.0)),
        ("cross_copy_bound", lambda: extras.cross_copy_bound(
            cfg.tool_dir, cfg.be_cpu, cfg.fe_cpu, size=1518,
            seconds=0.2 if tiny else 1.0)),
        ("instructions_per_packet", lambda: extras.instructions_per_packet(cfg.tool_dir)),
        ("idle_and_wakeup", lambda: extras.idle_and_wakeup(
            cfg.tool_dir, cfg.vhostmq, cfg.be_cpu, cfg.fe_cpu,
            idle_seconds=1.0 if tiny else 5.0, samples=20 if tiny else 200)),
    ]
    cannot = {}
    # without valgrind it cannot run: the smoke leaves it out rather than
    # fail, a full run records extras.py's error
    if tiny and not shutil.which("valgrind"):
        cannot["instructions_per_packet"] = "no valgrind"
    if cfg.fe_cpu == cfg.be_cpu:
        cannot["cross_copy_bound"] = "one CPU: no other core to write the frames"
    out = {}
    for name, call in calls:
        if name in cannot:
            out[name] = {"skipped": cannot[name]}
            continue
        print("# extras: %s ..." % name, flush=True)
        try:
            out[name] = call()
        except extras.ExtraError as e:
            out[name] = {"error": str(e)}
        except Exception as e:  # a bug in extras.py must not lose the run
            out[name] = {"error": "bench/extras.py %s: %s: %s" % (name, type(e).__name__, e)}
    return out


def extras_without_numbers(ex):
    """--smoke: the extras that ran but gave no numbers (empty: all fine).
    Missing module or tools are not counted: the build may leave them out."""
    if "missing" in ex or "skipped" in ex:
        return []
    if "error" in ex:
        return ["extras: " + ex["error"]]
    bad = []
    for name, _, _ in COPY_BOUNDS:
        m = ex.get(name, {})
        if not ("skipped" in m or
                all(is_number(m.get(k)) and m[k] > 0 for k in ("gbps", "mpps"))):
            bad.append("%s: %s" % (name, m))
    ipp = ex.get("instructions_per_packet")
    ipp_skipped = isinstance(ipp, dict) and "skipped" in ipp
    ipp_counted = isinstance(ipp, list) and len(ipp) > 0 and all(
        is_number(r.get("instructions_per_packet")) for r in ipp)
    if not (ipp_skipped or ipp_counted):
        bad.append("instructions_per_packet: %s" % ipp)
    iw = ex.get("idle_and_wakeup", {})
    w = iw.get("wakeup_us") if isinstance(iw.get("wakeup_us"), dict) else {}
    if not (is_number(iw.get("idle_cpu_percent")) and
            all(is_number(w.get(k)) for k in ("p50", "p99", "max"))):
        bad.append("idle_and_wakeup: %s" % iw)
    return bad


def extras_lines(ex):
    if "error" in ex or "skipped" in ex:
        return ["extras: not measured: " + ex.get("error", ex.get("skipped"))]
    lines = []
    m = ex["memcpy_bound"]
    if "error" in m:
        lines.append("memcpy bound: not measured: " + m["error"])
    else:
        lines.append("memcpy bound (one core, %s B): %s Gbps, %s Mpps" % (
            m.get("size"), fmt(m.get("gbps")), fmt(m.get("mpps"))))
    x = ex["cross_copy_bound"]
    if "error" in x or "skipped" in x:
        lines.append("cross-core copy bound: not measured: " +
                     x.get("error", x.get("skipped")))
    else:
        lines.append("cross-core copy bound (%s B written on CPU %s, copied on CPU %s): "
                     "%s Gbps, %s Mpps" % (x.get("size"), x.get("writer_cpu"),
                                           x.get("copier_cpu"), fmt(x.get("gbps")),
                                           fmt(x.get("mpps"))))
    ipp = ex["instructions_per_packet"]
    if isinstance(ipp, dict):
        lines.append("instructions per packet: not measured: %s" %
                     ipp.get("error", ipp.get("skipped")))
    elif not ipp:
        lines.append("instructions per packet: no scenario reported")
    else:
        for r in ipp:
            lines.append("instructions per packet: %s %s B: %s" % (
                r.get("scenario"), r.get("size"), fmt(r.get("instructions_per_packet"), "%.0f")))
    iw = ex["idle_and_wakeup"]
    if "error" in iw:
        lines.append("idle and wake-up: not measured: " + iw["error"])
    else:
        w, fl = iw.get("wakeup_us", {}), iw.get("floor_us", {})
        lines.append("idle vhostmq: %s%% of a core; wake-up p50/p99/max: %s/%s/%s us "
                     "(%s samples); a bare sleeping thread on the same CPU wakes in "
                     "%s/%s/%s us (the platform's floor)"
                     % (fmt(iw.get("idle_cpu_percent")), fmt(w.get("p50"), "%.1f"),
                        fmt(w.get("p99"), "%.1f"), fmt(w.get("max"), "%.1f"),
                        iw.get("samples"), fmt(fl.get("p50"), "%.1f"),
                        fmt(fl.get("p99"), "%.1f"), fmt(fl.get("max"), "%.1f")))
    return lines


def bound_gbps(ex, name):
    """Gbps of the extra name (memcpy_bound, cross_copy_bound), None if not measured."""
    m = ex.get(name, {})
    return m["gbps"] if is_number(m.get("gbps")) and m["gbps"] > 0 else None


# ------------------------------------------------------------ report
def summarize(records, skipped, ex):
    def key(r):
        return r["topology"], r["variant"], r["queues"], r["size"]

    points = {}
    for r in records + skipped:
        points.setdefault(key(r), {"runs": [], "skipped": {}, "cpus": r["backend_cpus"]})
    for r in records:
        points[key(r)]["runs"].append(r)
    for s in skipped:
        points[key(s)]["skipped"][s["backend"]] = s["reason"]
    bounds = [(key, bound_gbps(ex, name)) for name, key, _ in COPY_BOUNDS]
    out = []
    for (topo, variant, q, size), p in points.items():
        rs = p["runs"]
        s = {"topology": topo, "variant": variant, "size": size, "queues": q,
             "size_is": TOPOLOGIES[topo].size_is, "backend_cores": len(p["cpus"])}
        for b in BACKENDS:
            if b in p["skipped"]:
                s[b] = {"runs": 0, "skipped": p["skipped"][b]}
                continue
            ok = [r for r in rs if r["backend"] == b and r["ok"]]
            mp = [r["mpps"] for r in ok]
            s[b] = {"runs": len(ok),
                    "failed": len([r for r in rs if r["backend"] == b and not r["ok"]]),
                    "median_mpps": statistics.median(mp) if mp else None,
                    "median_gbps": statistics.median([r["gbps"] for r in ok]) if ok else None,
                    "min_mpps": min(mp) if mp else None,
                    "max_mpps": max(mp) if mp else None}
            used = [r["frontend_rx_queues_used"] for r in ok if "frontend_rx_queues_used" in r]
            if used:
                s[b]["frontend_rx_queues_used"] = max(used)
            tso = [r for r in ok if "per_tso_frame" in r]
            if tso:
                s[b].update(
                    tso_frames=sum(r["counts"]["tso_frames"] for r in tso),
                    tso_segments=sum(r["counts"]["tso_segments"] for r in tso),
                    segments_per_tso_frame=statistics.median(
                        r["per_tso_frame"]["segments"] for r in tso),
                    frontend_dropped_fraction=statistics.median(
                        r.get("frontend_dropped_fraction", 0.0) for r in tso))
        a = {r["run"]: r["mpps"] for r in rs if r["backend"] == "vhostmq" and r["ok"]}
        b = {r["run"]: r["mpps"] for r in rs if r["backend"] == "reference" and r["ok"]}
        pairs = [a[i] / b[i] for i in sorted(a) if b.get(i)]
        va, vb = s["vhostmq"].get("median_mpps"), s["reference"].get("median_mpps")
        s.update(ratio=statistics.median(pairs) if pairs else None,
                 pair_ratios=pairs,
                 pair_ratio_min=min(pairs) if pairs else None,
                 pair_ratio_max=max(pairs) if pairs else None,
                 ratio_of_medians=va / vb if va and vb else None)
        if TOPOLOGIES[topo].note and q > 1:
            s["note"] = TOPOLOGIES[topo].note
        if (size == 1518 and topo in ("guest-to-host", "loopback")
                and s["backend_cores"] == 1 and s["vhostmq"].get("median_gbps")):
            for key, bound in bounds:
                if bound:
                    s[key] = s["vhostmq"]["median_gbps"] / bound
        out.append(s)
    return out


def fmt(v, f="%.2f"):
    return "-" if v is None else f % v


def span(lo, hi, f="%.2f"):
    return "-" if lo is None else (f + "-" + f) % (lo, hi)


def table(summary):
    head = ["topology", "variant", "size", "q", "cores"]
    for b in BACKENDS:
        head += [b, "Mpps", "Gbps", "min-max"]
    head += ["ratio", "pairs min-max", "of medians"]
    rows = [head]
    for s in summary:
        row = [s["topology"], s["variant"], str(s["size"]), str(s["queues"]),
               str(s["backend_cores"])]
        for b in BACKENDS:
            d = s[b]
            if "skipped" in d:
                row += ["skipped", "-", "-", "-"]
                continue
            runs = "%d ok" % d["runs"] + (" %d bad" % d["failed"] if d["failed"] else "")
            row += [runs, fmt(d["median_mpps"]), fmt(d["median_gbps"]),
                    span(d["min_mpps"], d["max_mpps"])]
        row += [fmt(s["ratio"], "%.3f"), span(s["pair_ratio_min"], s["pair_ratio_max"]),
                fmt(s["ratio_of_medians"], "%.3f")]
        rows.append(row)
    width = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(r, width))) for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    said = {}                    # long explanations, each printed once at the end
    for s in summary:
        tag = "%s %s %d B %d q" % (s["topology"], s["variant"], s["size"], s["queues"])
        if "note" in s:
            mark = said.setdefault(s["note"], "[%d]" % (len(said) + 1))
            used = ", ".join("%s %s" % (b, s[b].get("frontend_rx_queues_used", "-"))
                             for b in BACKENDS if "skipped" not in s[b])
            lines.append("# %s: frontend RX queues that received: %s %s" % (tag, used, mark))
        for b in BACKENDS:
            if "skipped" in s[b]:
                mark = said.setdefault(s[b]["skipped"], "[%d]" % (len(said) + 1))
                lines.append("# %s: %s skipped %s" % (tag, b, mark))
        of = ["%.2f of the %s bound" % (s[key], what)
              for _, key, what in COPY_BOUNDS if key in s]
        if of:
            lines.append("# %s: vhostmq %.2f Gbps = %s" % (
                tag, s["vhostmq"]["median_gbps"], ", ".join(of)))
        if s["topology"] == GuestTso.name:
            segs, wire = tso_expected(s["size"])
            lines.append("# %s: size = TCP payload per TSO frame; cut at MSS %d into %d "
                         "segments, %d B, per frame; Mpps/Gbps: segments into net_null"
                         % (tag, TSO_MSS, segs, wire))
            for b in BACKENDS:
                d = s[b]
                if "segments_per_tso_frame" in d:
                    lines.append("#   %-9s %d TSO frames -> %d segments (%.2f per frame); "
                                 "the frontend dropped %.0f%% of what it read (ring full)"
                                 % (b, d["tso_frames"], d["tso_segments"],
                                    d["segments_per_tso_frame"],
                                    100 * d["frontend_dropped_fraction"]))
    lines += ["# %s %s" % (mark, text) for text, mark in said.items()]
    return "\n".join(lines)


def targets(summary, ex):
    """Issue 5's targets, and issue 13's cross-core copy bound, against this
    run: met / not met / not measured. Only default-variant points whose
    backend had one poll core count."""
    def point(topo, size, queues):
        for s in summary:
            if (s["topology"], s["size"], s["queues"], s["variant"],
                    s["backend_cores"]) == (topo, size, queues, "default", 1):
                return s
        return {}

    rows = []

    def check(what, value, goal):
        status = "not measured" if value is None else "met" if goal(value) else "not met"
        rows.append({"target": what, "value": value, "status": status})

    for size, goal in ((64, 1.15), (1518, 1.05)):
        for topo in ("guest-to-host", "loopback"):
            check("%s %d B 1 qp: ratio >= %.2f" % (topo, size, goal),
                  point(topo, size, 1).get("ratio"), lambda v, g=goal: v >= g)
    for topo in ("guest-to-host", "loopback"):
        for _, key, what in COPY_BOUNDS:
            check("%s 1518 B 1 qp: vhostmq >= 0.70 of the %s bound" % (topo, what),
                  point(topo, 1518, 1).get(key), lambda v: v >= 0.70)
    h2g = [s for s in summary if (s["topology"], s["queues"], s["variant"],
                                  s["backend_cores"]) == ("host-to-guest", 4, "default", 1)]
    for s in h2g or [{}]:
        check("host-to-guest %s 4 RX queues, one poll core: ratio >= 0.95" %
              ("%d B" % s["size"] if s else "any size"), s.get("ratio"), lambda v: v >= 0.95)
    for s in [s for s in summary if (s["topology"], s["queues"], s["variant"]) ==
              ("host-to-guest-1q", 4, "default")]:
        check("host-to-guest-1q %d B: one uplink queue vs the reference's 4: ratio >= 0.95" %
              s["size"], s.get("ratio"), lambda v: v >= 0.95)
    iw = ex.get("idle_and_wakeup", {})
    idle = iw.get("idle_cpu_percent")
    p99 = iw.get("wakeup_us", {}).get("p99") if isinstance(iw.get("wakeup_us"), dict) else None
    check("idle vhostmq < 1% of a core", idle if is_number(idle) else None, lambda v: v < 1.0)
    check("wake-up p99 < 50 us", p99 if is_number(p99) else None, lambda v: v < 50.0)
    return rows


def targets_lines(rows):
    lines = ["targets (issues 5 and 13; reported only, the exit status does not "
             "depend on them):"]
    width = max(len(r["target"]) for r in rows)
    for r in rows:
        v = r["value"]
        lines.append("  %s  %8s  %s" % (r["target"].ljust(width),
                                        fmt(v, "%.3f" if v is None or v < 10 else "%.0f"),
                                        r["status"]))
    return lines


# ------------------------------------------------------------ plots
# (file suffix, x key, x label, the other axis that splits lines, its label)
PLOTS = (("sizes", "size", "frame size (B)", "queues", "%d qp"),
         ("queues", "queues", "queue pairs", "size", "%d B"))


def gp_str(s):
    return "'" + s.replace("'", "''") + "'"      # a gnuplot single-quoted string


def plots(cfg, summary):
    """PNGs next to the JSON; what was written or why not."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        return {"error": "gnuplot not found (Debian: apt-get install gnuplot-nox; "
                         "scripts/bench.sh installs it): no PNGs written"}
    base = os.path.splitext(os.path.abspath(cfg.out))[0]
    res = {"files": [], "skipped": []}
    other = sorted({s["topology"] for s in summary if s["size_is"] != "frame"})
    if other:
        res["skipped"].append("%s: sizes are not frame sizes, not plotted" % ", ".join(other))
        summary = [s for s in summary if s["size_is"] == "frame"]
    variants = {s["variant"] for s in summary}
    tmp = tempfile.mkdtemp(prefix="vmqplot.")
    try:
        for kind, xkey, xname, other, other_fmt in PLOTS:
            xs = sorted({s[xkey] for s in summary})
            if len(xs) < 2:
                res["skipped"].append("%s: needs two or more, measured %s" % (kind, xs))
                continue
            split_other = len({s[other] for s in summary}) > 1
            panels, names, nlines = [], [], []
            for topo in dict.fromkeys(s["topology"] for s in summary):
                lines = {}
                for s in summary:
                    if s["topology"] != topo:
                        continue
                    for b in BACKENDS:
                        d = s[b]
                        if d.get("median_mpps") is None:
                            continue
                        title = b + (" " + s["variant"] if len(variants) > 1 else "") + \
                            (" " + other_fmt % s[other] if split_other else "")
                        lines.setdefault(title, []).append(
                            (s[xkey], d["median_mpps"], d["min_mpps"], d["max_mpps"]))
                if not lines:
                    continue
                path = os.path.join(tmp, "%d.dat" % len(panels))
                with open(path, "w") as f:
                    f.write("\n\n".join('"x" "%s" "min" "max"\n' % t + "".join(
                        "%d %f %f %f\n" % row for row in sorted(rows))
                        for t, rows in lines.items()))
                panels.append(path)
                names.append(topo)
                nlines.append(str(len(lines)))
            if not panels:
                res["skipped"].append("%s: no point measured" % kind)
                continue
            png = "%s-%s.png" % (base, kind)
            heading = "vhostmq vs DPDK vhost (reference), %s" % time.strftime("%Y-%m-%d %H:%M")
            expr = "; ".join("%s=%s" % (k, gp_str(v)) for k, v in (
                ("out", png), ("heading", heading), ("xname", xname),
                ("panels", " ".join(panels)), ("names", " ".join(names)),
                ("nlines", " ".join(nlines)), ("xs", " ".join(map(str, xs)))))
            p = subprocess.run([gnuplot, "-e", expr, os.path.join(HERE, "plot.gp")],
                               capture_output=True, text=True, timeout=PLOT_S)
            if p.returncode != 0:
                res["skipped"].append("%s: gnuplot failed: %s" % (kind, p.stderr.strip()[-500:]))
            else:
                res["files"].append(png)
    except (OSError, subprocess.SubprocessError) as e:
        res["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return res


# ------------------------------------------------------------ main
def int_list(text):
    return [int(x) for x in text.split(",")]


def cpu_list(text):
    """'2-5,8' -> [2, 3, 4, 5, 8], the syntax of vhostmq --cores."""
    cpus = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        try:
            first, last = int(lo), int(hi or lo)
        except ValueError:
            raise argparse.ArgumentTypeError("not a CPU list: %r" % text)
        if last < first:
            raise argparse.ArgumentTypeError("backwards range: %r" % part)
        cpus.extend(range(first, last + 1))
    if len(set(cpus)) != len(cpus):
        raise argparse.ArgumentTypeError("a CPU appears twice: %r" % text)
    return cpus


def allowed_cpus():
    return sorted(os.sched_getaffinity(0))


def write_json(path, result):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=1)


def main():
    if "--callgrind" in sys.argv[1:]:
        import callgrind        # bench/, the script's own directory
        return callgrind.main(sys.modules[__name__],
                              [a for a in sys.argv[1:] if a != "--callgrind"])
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--callgrind", action="store_true",
                    help="deterministic mode: instructions per packet of each "
                         "backend under callgrind instead of rates (bench/callgrind.py; "
                         "its options: --callgrind --help)")
    ap.add_argument("--runs", type=int, default=5, help="runs per backend and point")
    ap.add_argument("--seconds", type=float, default=5, help="measured seconds a run")
    ap.add_argument("--sizes", type=int_list, default="64,256,512,1518",
                    help="frame sizes, comma separated (60..9000)")
    ap.add_argument("--tso-sizes", type=int_list, default="16000,60000",
                    help="guest-tso only: TCP payload bytes per TSO frame, comma "
                         "separated (%d..%d; each frame is cut into MSS %d segments)"
                    % (TSO_PAYLOAD_MIN, TSO_PAYLOAD_MAX, TSO_MSS))
    ap.add_argument("--queues", type=int_list, default="1",
                    help="queue pair counts, comma separated (e.g. 1,2,4)")
    ap.add_argument("--topologies", default=",".join(DEFAULT_TOPOLOGIES),
                    help="comma separated: " + ", ".join(TOPOLOGIES) + " (default: " +
                         ", ".join(DEFAULT_TOPOLOGIES) + "; guest-tso, TSO frames "
                         "cut by the backend, runs only when named, with 1 queue "
                         "pair, and is not in --smoke; host-to-guest-1q, "
                         "host-to-guest with a one-queue uplink on vhostmq's "
                         "side, runs only when named)")
    ap.add_argument("--variants", default="default",
                    help="frontend variants, comma separated: " + ", ".join(VARIANTS) +
                         " (mrg_rxbuf=0, in_order=0, packed_vq=1)")
    ap.add_argument("--be-cores", type=cpu_list, metavar="LIST",
                    help="queue-scaling mode: N queue pairs get the first N of "
                         "these CPUs as backend poll cores (with --fe-cores)")
    ap.add_argument("--fe-cores", type=cpu_list, metavar="LIST",
                    help="queue-scaling mode: the frontend's forwarding lcores")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "latest.json"),
                    help="JSON result; the PNGs go beside it (NAME-sizes.png, NAME-queues.png)")
    ap.add_argument("--no-extras", action="store_true",
                    help="skip bench/extras.py (memcpy and cross-core copy bounds, "
                         "instructions per packet, idle CPU and wake-up latency)")
    ap.add_argument("--vhostmq", default=os.path.join(ROOT, "build", "backend", "vhostmq"))
    ap.add_argument("--vhostmqctl", default=None)
    ap.add_argument("--tool-dir", default=None,
                    help="compiled tools of bench/extras.py (default: bench/tools "
                         "in vhostmq's build tree)")
    ap.add_argument("--pcaptool", default=None,
                    help="writes host-to-guest's flows (default: tests/tools in "
                         "vhostmq's build tree)")
    ap.add_argument("--testpmd", default=shutil.which("dpdk-testpmd") or "dpdk-testpmd")
    ap.add_argument("--mem", type=int, default=1024, help="MB of --no-huge memory per testpmd")
    ap.add_argument("--smoke", action="store_true",
                    help="1 run per backend, 2 s, size 64, 1 queue, the default topologies, "
                         "tiny extras; exit 0 iff every run passed traffic and the "
                         "extras that ran gave numbers (no speed check)")
    cfg = ap.parse_args()
    if cfg.smoke:
        cfg.runs, cfg.seconds, cfg.sizes, cfg.queues = 1, 2, [64], [1]
        cfg.topologies, cfg.variants = ",".join(DEFAULT_TOPOLOGIES), "default"
    if cfg.vhostmqctl is None:
        cfg.vhostmqctl = os.path.join(os.path.dirname(cfg.vhostmq), "vhostmqctl")
    build = os.path.dirname(os.path.dirname(os.path.abspath(cfg.vhostmq)))
    if cfg.tool_dir is None:
        cfg.tool_dir = os.path.join(build, "bench", "tools")
    if cfg.pcaptool is None:
        cfg.pcaptool = os.path.join(build, "tests", "tools", "pcaptool")
    topos = [TOPOLOGIES.get(t) for t in cfg.topologies.split(",")]
    variants = cfg.variants.split(",")
    if None in topos or not set(variants) <= set(VARIANTS):
        ap.error("--topologies: %s; --variants: %s" % (", ".join(TOPOLOGIES),
                                                       ", ".join(VARIANTS)))
    if cfg.runs < 1 or cfg.seconds <= 0 or not all(1 <= q <= 128 for q in cfg.queues) \
            or not all(60 <= s <= 9000 for s in cfg.sizes) \
            or not all(TSO_PAYLOAD_MIN <= s <= TSO_PAYLOAD_MAX for s in cfg.tso_sizes):
        ap.error("--runs >= 1, --seconds > 0, --queues 1..128, --sizes 60..9000 "
                 "(frame bytes), --tso-sizes %d..%d (TCP payload per TSO frame)"
                 % (TSO_PAYLOAD_MIN, TSO_PAYLOAD_MAX))
    cpus = allowed_cpus()
    if (cfg.be_cores is None) != (cfg.fe_cores is None):
        ap.error("--be-cores and --fe-cores go together")
    if cfg.be_cores:
        need = max(cfg.queues)
        if min(len(cfg.be_cores), len(cfg.fe_cores)) < need:
            ap.error("--be-cores and --fe-cores need %d CPUs each (--queues)" % need)
        if set(cfg.be_cores) & set(cfg.fe_cores):
            ap.error("--be-cores and --fe-cores must not share a CPU")
        if not set(cfg.be_cores + cfg.fe_cores) <= set(cpus):
            ap.error("CPUs not allowed here: %s (allowed: %s)" % (
                sorted(set(cfg.be_cores + cfg.fe_cores) - set(cpus)), cpus))
        cfg.fe_cpu, cfg.be_cpu = cfg.fe_cores[0], cfg.be_cores[0]
    else:
        cfg.fe_cpu, cfg.be_cpu = cpus[0], cpus[-1]
        if cfg.fe_cpu == cfg.be_cpu:
            print("# warning: one CPU only; frontend and backend share it", file=sys.stderr)
    for exe in (cfg.vhostmq, cfg.vhostmqctl, cfg.testpmd, cfg.pcaptool):
        if not (shutil.which(exe) or os.access(exe, os.X_OK)):
            print("bench: %s not found/executable" % exe, file=sys.stderr)
            return 2
    cfg.work = tempfile.mkdtemp(prefix="vmqbench.")
    procs = Procs()

    def on_signal(sig, frm):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    points = [Point(cfg, t, v, q, s) for t in topos for v in variants
              for q in t.queue_counts(cfg) for s in t.sizes(cfg)]
    for t in topos:
        left = sorted(set(cfg.queues) - set(t.queue_counts(cfg)))
        if left:
            print("# %s: runs 1 queue pair only; --queues %s left out for it"
                  % (t.name, ",".join(map(str, left))), flush=True)
    records, skipped = [], []
    ex = {"skipped": "--no-extras" if cfg.no_extras else "interrupted"}
    rc = 0
    try:
        for pt in points:
            runners = [b for b in BACKENDS if (b, pt.variant) not in UNSUPPORTED]
            for b in BACKENDS:
                if b not in runners:
                    reason = UNSUPPORTED[(b, pt.variant)]
                    skipped.append(dict(pt.fields(), backend=b, reason=reason))
                    print("# %s: %s skipped: %s" % (pt.label(), b, reason), flush=True)
            for i in range(cfg.runs):
                for b in runners:                    # A B A B ...
                    r = Run(cfg, procs, pt, b, i).execute()
                    records.append(r)
                    msg = ("%.3f Mpps" % r["mpps"]) if r["ok"] else "FAILED: " + r["error"]
                    print("# %s %-9s run %d: %s" % (pt.label(), b, i, msg), flush=True)
        if not cfg.no_extras:
            ex = run_extras(cfg)
    except KeyboardInterrupt:
        print("# interrupted; cleaning up", file=sys.stderr)
        rc = 130
    finally:
        procs.stop_all()
    summary = summarize(records, skipped, ex)
    goals = targets(summary, ex)
    result = {"tool": "bench/bench.py", "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "config": {"runs": cfg.runs, "seconds": cfg.seconds, "sizes": cfg.sizes,
                         "tso_sizes": cfg.tso_sizes, "tso_mss": TSO_MSS,
                         "queues": cfg.queues, "topologies": [t.name for t in topos],
                         "variants": variants,
                         "placement": "queue-scaling" if cfg.be_cores else "one core each",
                         "backend_cores": cfg.be_cores or [cfg.be_cpu],
                         "frontend_cores": cfg.fe_cores or [cfg.fe_cpu],
                         "smoke": cfg.smoke, "memory": "--no-huge -m %d" % cfg.mem,
                         "warmup_s": WARMUP_S, "vhostmq": cfg.vhostmq,
                         "testpmd": cfg.testpmd, "tool_dir": cfg.tool_dir,
                         "interrupted": rc == 130},
              "summary": summary, "extras": ex, "targets": goals,
              "skipped": skipped, "runs": records}
    # The JSON first: a plot that fails (or is interrupted) must not lose it.
    write_json(cfg.out, result)
    print(table(summary))
    print("\n".join("# " + l for l in extras_lines(ex)))
    print("\n".join(targets_lines(goals)))
    if summary and rc == 0:
        result["plots"] = plots(cfg, summary)
        write_json(cfg.out, result)
        pl = result["plots"]
        for f in pl.get("files", []):
            print("# plot: %s" % f)
        for why in pl.get("skipped", []) + ([pl["error"]] if "error" in pl else []):
            print("# plot: none: %s" % why)
    print("# raw runs: %s" % cfg.out)
    bad = [r for r in records if not r["ok"] or r["frames"] <= 0]
    for r in bad:
        print("# FAILED %s %s %s size %d q %d run %d: %s" % (
            r["topology"], r["variant"], r["backend"], r["size"], r["queues"],
            r["run"], r.get("error", "no frames")))
        for l in r.get("backend_log_tail", [])[-5:]:
            print("#   backend: " + l)
        for l in r.get("frontend_log_tail", [])[-5:]:
            print("#   frontend: " + l)
    if rc == 0 and (bad or not records):
        rc = 1
    if cfg.smoke and rc != 130:
        if "missing" in ex:
            print("# smoke: extras not checked: %s" % ex["error"])
        for why in extras_without_numbers(ex):
            print("# FAILED extras without numbers: %s" % why)
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
