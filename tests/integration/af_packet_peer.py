#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# tests/integration/af_packet_peer.py - the host end of af_packet_veth.sh, on
# a raw AF_PACKET socket (standard library only; needs CAP_NET_RAW).
#
#   send IFACE --dst-mac M --flows F --seconds S
#       IPv4/UDP frames of F flows (10.9.0.1:1024+k -> 10.9.0.2:9, source MAC
#       02:00:00:00:0a:01), all F flows in turn, whole rounds only, until S
#       seconds passed. Prints "sent N rounds R flows F".
#   count IFACE --src-mac M --ready FILE
#       Counts the frames with source MAC M (a classic BPF filter on the
#       socket, so the kernel's counters see only those) until SIGTERM or
#       SIGINT, then prints "received N dropped D": D are the frames that
#       reached the socket but found its receive buffer full (the kernel's
#       PACKET_STATISTICS tp_drops). Writes FILE once the socket is bound.
import argparse
import ctypes
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_ATTACH_FILTER = 26
SO_RCVBUFFORCE = 33
SRC_MAC = bytes.fromhex("02000000 0a01".replace(" ", ""))


def mac(text):
    b = bytes.fromhex(text.replace(":", ""))
    if len(b) != 6:
        raise argparse.ArgumentTypeError("not a MAC: %s" % text)
    return b


def csum16(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(dst, k):
    payload = struct.pack("!I", k) + bytes(14)
    udp = struct.pack("!HHHH", 1024 + k % 64000, 9, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), k & 0xFFFF, 0, 64, 17, 0,
                     bytes([10, 9, (k >> 16) & 0xFF, 1]), bytes([10, 9, 0, 2]))
    ip = ip[:10] + struct.pack("!H", csum16(ip)) + ip[12:]
    return dst + SRC_MAC + b"\x08\x00" + ip + udp


def send(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((a.iface, 0))
    frames = [frame(a.dst_mac, k) for k in range(a.flows)]
    n = rounds = 0
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        for f in frames:
            while True:
                try:
                    s.send(f)
                    break
                except OSError:          # ENOBUFS: the device queue is full
                    time.sleep(0.0001)
        n += len(frames)
        rounds += 1
    print("sent %d rounds %d flows %d" % (n, rounds, a.flows))


def count(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    # Accept a frame only if its source MAC is M: ld [8]; ldh [6]; compare.
    hi = struct.unpack("!H", a.src_mac[:2])[0]
    lo = struct.unpack("!I", a.src_mac[2:])[0]
    prog = [(0x20, 0, 0, 8), (0x15, 0, 3, lo), (0x28, 0, 0, 6), (0x15, 0, 1, hi),
            (0x06, 0, 0, 0x40000), (0x06, 0, 0, 0)]
    code = b"".join(struct.pack("HBBI", *i) for i in prog)
    buf = ctypes.create_string_buffer(code)
    fprog = struct.pack("HL", len(prog), ctypes.addressof(buf))
    s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 256 << 20)
    s.bind((a.iface, 0))
    # Frames that passed before the filter was attached: drain, then zero
    # the kernel's counters (reading PACKET_STATISTICS resets them).
    s.setblocking(False)
    try:
        while True:
            s.recv(2048)
    except BlockingIOError:
        pass
    s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    open(a.ready, "w").close()
    s.settimeout(0.05)
    n = 0
    while not stop:
        try:
            s.recv(2048)
            n += 1
        except (socket.timeout, InterruptedError):
            pass
    s.setblocking(False)
    try:
        while True:
            s.recv(2048)
            n += 1
    except BlockingIOError:
        pass
    _, drops = struct.unpack("II", s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    print("received %d dropped %d" % (n, drops))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    ps = sub.add_parser("send")
    ps.add_argument("iface")
    ps.add_argument("--dst-mac", type=mac, required=True)
    ps.add_argument("--flows", type=int, default=4001)
    ps.add_argument("--seconds", type=float, default=2.0)
    pc = sub.add_parser("count")
    pc.add_argument("iface")
    pc.add_argument("--src-mac", type=mac, required=True)
    pc.add_argument("--ready", required=True)
    a = p.parse_args()
    send(a) if a.cmd == "send" else count(a)


if __name__ == "__main__":
    sys.exit(main())
