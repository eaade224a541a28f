#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# tests/integration/tcp_offload_pcap.py - input and checker of
# testpmd_offload.sh (standard library only).
#
#   gen IN.pcap --mss N [--no-ipv6]
#       TCP/IPv4 and TCP/IPv6 frames (flows with and without TCP options)
#       whose IP and TCP checksums are ZERO, payloads from 1 byte to 16000,
#       sequence numbers contiguous per flow, flags ACK|PSH. Prints
#       "frames F segments S": S is how many frames a port must see once
#       every frame above the MSS is cut into MSS-sized segments.
#   check IN.pcap OUT.pcap --mss N [--max-frame 1514]
#       Every OUT frame: at most --max-frame bytes, IPv4 header checksum and
#       TCP checksum (IPv4 or IPv6 pseudo-header) verify, IP lengths match
#       the frame, TCP payload at most the MSS. Per flow, the payloads laid
#       out by sequence number equal the input's exactly (no gap, no
#       overlap, no byte different), PSH only on a segment ending where an
#       input frame ended, IPv4 IDs of a cut frame consecutive. Exit 0 and
#       one summary line if all hold, else 1 and the first problems.
import random
import struct
import sys

ETH_HDR = 14
PSH = 0x08


def csum16(data, init=0):
    if len(data) % 2:
        data += b"\0"
    s = init + sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise SystemExit("%s: no pcap global header" % path)
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
    else:
        raise SystemExit("%s: not a pcap file" % path)
    frames, off = [], 24
    while off + 16 <= len(data):
        _, _, caplen, wirelen = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        if caplen != wirelen:
            raise SystemExit("%s: frame %d truncated (%d of %d bytes)"
                             % (path, len(frames), caplen, wirelen))
        frames.append(data[off:off + caplen])
        off += caplen
    if off != len(data):
        raise SystemExit("%s: trailing garbage" % path)
    return frames


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1, i, len(fr), len(fr)))
            f.write(fr)


# Flows: (ip version, TCP option bytes). With 12 option bytes an IPv6
# segment of a 1428-byte MSS is exactly 1514 bytes on the wire.
FLOWS = [(4, 0), (4, 12), (6, 0), (6, 12)]
PAYLOADS = [8000, 100, 1, 1428, 1429, 2856, 16000, 600, 5000, 64]
ROUNDS = 4


def build(ver, opt_len, idx, seq, payload, ip_id):
    mac_dst = bytes([0x02, 0, 0, 0, 0, 0x02])
    mac_src = bytes([0x02, 0, 0, 0, 0, 0x01])
    sport, dport = 40000 + idx, 5201
    opts = b""
    if opt_len:
        opts = b"\x01\x01\x08\x0a" + struct.pack("!II", 1000 + seq % 997, 7)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 1, (20 + len(opts)) // 4 << 4,
                      0x10 | PSH, 65535, 0, 0) + opts
    l4 = tcp + payload
    if ver == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ip_id, 0x4000, 64, 6, 0,
                         bytes([10, 0, 0, 1]), bytes([10, 0, 1, idx + 1]))
        eth = mac_dst + mac_src + b"\x08\x00"
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(l4), 6, 64,
                         bytes([0xfd] + [0] * 14 + [1]), bytes([0xfd] + [0] * 13 + [1, idx + 1]))
        eth = mac_dst + mac_src + b"\x86\xdd"
    return eth + ip + l4


def gen(path, mss, ipv6):
    rnd = random.Random(11)
    flows = [f for f in FLOWS if ipv6 or f[0] == 4]
    seq = [1000000 * (i + 1) for i in range(len(flows))]
    frames, segs = [], 0
    for r in range(ROUNDS):
        for n, size in enumerate(PAYLOADS):
            for i, (ver, opt) in enumerate(flows):
                payload = bytes(rnd.getrandbits(8) for _ in range(size))
                frames.append(build(ver, opt, i, seq[i], payload, (r * 100 + n * 7 + i) * 97))
                seq[i] += size
                segs += (size + mss - 1) // mss
    write_pcap(path, frames)
    print("frames %d segments %d" % (len(frames), segs))


def parse(fr):
    """-> (key, ver, ip_hdr, tcp_off, seq, flags, payload, ip_id) or an error."""
    if len(fr) < ETH_HDR:
        return "runt frame"
    et = struct.unpack("!H", fr[12:14])[0]
    if et == 0x0800:
        ihl = (fr[14] & 0x0F) * 4
        tot = struct.unpack("!H", fr[16:18])[0]
        if fr[14] >> 4 != 4 or fr[23] != 6:
            return "not TCP/IPv4"
        if tot != len(fr) - ETH_HDR:
            return "IPv4 total length %d, frame holds %d" % (tot, len(fr) - ETH_HDR)
        if csum16(fr[14:14 + ihl]) != 0xFFFF:
            return "IPv4 header checksum 0x%04x wrong" % struct.unpack("!H", fr[24:26])
        src, dst = fr[26:30], fr[30:34]
        tcp_off = 14 + ihl
        l4len = tot - ihl
        pseudo = src + dst + struct.pack("!BBH", 0, 6, l4len)
        ver, ip_id = 4, struct.unpack("!H", fr[18:20])[0]
    elif et == 0x86DD:
        plen = struct.unpack("!H", fr[18:20])[0]
        if fr[20] != 6:
            return "not TCP/IPv6"
        if plen != len(fr) - ETH_HDR - 40:
            return "IPv6 payload length %d, frame holds %d" % (plen, len(fr) - ETH_HDR - 40)
        src, dst = fr[22:38], fr[38:54]
        tcp_off = 54
        l4len = plen
        pseudo = src + dst + struct.pack("!IxxxB", l4len, 6)
        ver, ip_id = 6, None
    else:
        return "ethertype 0x%04x" % et
    tcp = fr[tcp_off:]
    if csum16(pseudo + tcp) != 0xFFFF:
        return "TCP checksum 0x%04x wrong" % struct.unpack("!H", tcp[16:18])
    sport, dport, seq = struct.unpack("!HHI", tcp[:8])
    doff = (tcp[12] >> 4) * 4
    key = (ver, src, dst, sport, dport)
    return key, seq, tcp[13], tcp[doff:], ip_id


def check(in_path, out_path, mss, max_frame):
    ins, outs = read_pcap(in_path), read_pcap(out_path)
    errs = []
    # Expected: per flow, seq -> payload of each input frame, and the input's
    # frame ends (where PSH may appear).
    want, ends, first_seq = {}, {}, {}
    for fr in ins:
        # the input's checksums are zero: parse without verifying them
        et = struct.unpack("!H", fr[12:14])[0]
        if et == 0x0800:
            src, dst, tcp_off, ver = fr[26:30], fr[30:34], 14 + (fr[14] & 15) * 4, 4
        else:
            src, dst, tcp_off, ver = fr[22:38], fr[38:54], 54, 6
        tcp = fr[tcp_off:]
        sport, dport, seq = struct.unpack("!HHI", tcp[:8])
        key = (ver, src, dst, sport, dport)
        p = tcp[(tcp[12] >> 4) * 4:]
        want.setdefault(key, bytearray()).extend(p)
        ends.setdefault(key, {})[seq + len(p)] = True
        first_seq.setdefault(key, seq)
    got = {k: bytearray(len(v)) for k, v in want.items()}
    seen = {k: bytearray(len(v)) for k, v in want.items()}
    n_big = 0
    prev = None        # (key, end seq, ip_id) of the last segment
    for i, fr in enumerate(outs):
        if len(fr) > max_frame:
            n_big += 1
            errs.append("out frame %d: %d bytes > %d" % (i, len(fr), max_frame))
            continue
        r = parse(fr)
        if isinstance(r, str):
            errs.append("out frame %d (%d bytes): %s" % (i, len(fr), r))
            continue
        key, seq, flags, payload, ip_id = r
        if key not in want:
            errs.append("out frame %d: flow %r not in the input" % (i, key))
            continue
        if len(payload) > mss:
            errs.append("out frame %d: TCP payload %d > MSS %d" % (i, len(payload), mss))
        off = (seq - first_seq[key]) & 0xFFFFFFFF
        if off + len(payload) > len(want[key]):
            errs.append("out frame %d: seq %d..%d beyond the flow's %d bytes"
                        % (i, off, off + len(payload), len(want[key])))
            continue
        if any(seen[key][off:off + len(payload)]):
            errs.append("out frame %d: bytes %d..%d of its flow seen twice"
                        % (i, off, off + len(payload)))
        seen[key][off:off + len(payload)] = b"\1" * len(payload)
        got[key][off:off + len(payload)] = payload
        end = seq + len(payload)
        if (flags & PSH) and end not in ends[key]:
            errs.append("out frame %d: PSH on a segment ending inside an input frame" % i)
        if not (flags & PSH) and end in ends[key]:
            errs.append("out frame %d: PSH lost on the last segment of an input frame" % i)
        # IPv4: segments cut from one frame carry consecutive IDs
        if ip_id is not None and prev is not None and prev[0] == key and prev[1] == seq \
                and prev[1] not in ends[key] and ip_id != (prev[2] + 1) & 0xFFFF:
            errs.append("out frame %d: IPv4 ID %d after %d within one cut frame"
                        % (i, ip_id, prev[2]))
        prev = (key, end, ip_id)
    for key in want:
        if bytes(seen[key]) != b"\1" * len(seen[key]):
            miss = seen[key].count(0)
            errs.append("flow %s: %d of %d payload bytes never came out"
                        % (fmt_key(key), miss, len(want[key])))
        elif got[key] != want[key]:
            at = next(j for j in range(len(want[key])) if got[key][j] != want[key][j])
            errs.append("flow %s: payload differs at byte %d" % (fmt_key(key), at))
    if errs:
        print("check: %d problems in %d frames out (%d in); first:" % (len(errs), len(outs), len(ins)))
        for e in errs[:15]:
            print("  " + e)
        return 1
    print("check: %d frames out of %d in, %d flows, %d payload bytes: sizes <= %d, "
          "IPv4 and TCP checksums verify, payloads reassemble exactly"
          % (len(outs), len(ins), len(want), sum(len(v) for v in want.values()), max_frame))
    return 0


def fmt_key(k):
    return "v%d port %d" % (k[0], k[3])


def opt(args, name, default):
    if name in args:
        return args[args.index(name) + 1]
    return default


def main(argv):
    if len(argv) >= 2 and argv[0] == "gen":
        gen(argv[1], int(opt(argv, "--mss", 1428)), "--no-ipv6" not in argv)
        return 0
    if len(argv) >= 3 and argv[0] == "check":
        return check(argv[1], argv[2], int(opt(argv, "--mss", 1428)),
                     int(opt(argv, "--max-frame", 1514)))
    print(__doc__ if __doc__ else "usage: gen IN --mss N | check IN OUT --mss N", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
