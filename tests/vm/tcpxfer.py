#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/tcpxfer.py - the host side of guest/tcpcsum.sh (vm-check.sh
# tcp-csum): per mode, sends SIZE bytes (random.Random(SEED), the same for
# every mode) over TCP to the guest's `nc -l` (connect retried until it
# listens), then takes the guest's stream back on a listener of its own, and
# reads vhostmq's counters (vhostmqctl stats --json, summed over the queue
# pairs) right after connecting and right after the stream back ended.
#
# Usage: tcpxfer.py --guest ADDR:PORT --listen ADDR:PORT --size BYTES
#                   --modes M1,M2 --ctl 'VHOSTMQCTL --socket PATH'
#                   [--seed N] [--timeout S]
# Prints one line per direction and mode, and the counters' growth:
#   tcpxfer: mode=M h2g bytes=N sha256=HEX secs=T mbps=R
#   tcpxfer: mode=M g2h bytes=N sha256=HEX secs=T mbps=R
#   tcpxfer: mode=M counters tx_csum_sw=+X rx_csum_valid=+Y tx_tso_frames=+T
#            tx_tso_segments=+S tx_tso_whole=+W rx_gro_frames=+G rx_gro_merged=+M
#            tx_packets=+P rx_packets=+Q
#   tcpxfer: sent sha256=HEX
# (mbps: MB/s, 10^6 bytes per second; h2g from connect to the guest closing,
# g2h from accept to end of stream). Exit 1 on any error (printed), after
# the lines of the runs that finished.
import argparse
import hashlib
import json
import random
import shlex
import socket
import subprocess
import sys
import time

COUNTERS = ('tx_csum_sw', 'rx_csum_valid', 'tx_tso_frames', 'tx_tso_segments',
            'tx_tso_whole', 'rx_gro_frames', 'rx_gro_merged', 'tx_packets', 'rx_packets')


def addr(s):
    h, p = s.rsplit(':', 1)
    return h, int(p)


def counters(ctl, mode):
    r = subprocess.run(shlex.split(ctl) + ['--json', 'stats'],
                       capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        sys.exit('tcpxfer: FAIL: mode=%s: %s --json stats: exit %d: %s'
                 % (mode, ctl, r.returncode, r.stderr.strip()))
    out = r.stdout
    tot = dict.fromkeys(COUNTERS, 0)
    for d in json.loads(out)['devices']:
        for q in d['queue_pairs']:
            for k in COUNTERS:
                tot[k] += q[k]
    return tot


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--guest', type=addr, required=True)
    ap.add_argument('--listen', type=addr, required=True)
    ap.add_argument('--size', type=int, required=True)
    ap.add_argument('--modes', required=True)
    ap.add_argument('--ctl', required=True)
    ap.add_argument('--seed', type=int, default=11)
    ap.add_argument('--timeout', type=float, default=120)
    a = ap.parse_args()

    data = random.Random(a.seed).randbytes(a.size)
    want = hashlib.sha256(data).hexdigest()
    print('tcpxfer: sent sha256=%s' % want, flush=True)
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(a.listen)
    lst.listen(1)
    for mode in a.modes.split(','):
        end = time.time() + a.timeout
        while True:
            try:
                s = socket.create_connection(a.guest, timeout=2)
                break
            except OSError as e:
                if time.time() > end:
                    sys.exit('tcpxfer: FAIL: mode=%s: connect to %s:%d: %s' % ((mode,) + a.guest + (e,)))
                time.sleep(0.2)
        before = counters(a.ctl, mode)
        t0 = time.monotonic()
        s.settimeout(a.timeout)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            s.recv(1)          # until the guest closes
        except OSError as e:
            sys.exit('tcpxfer: FAIL: mode=%s: h2g: %s' % (mode, e))
        secs = time.monotonic() - t0
        s.close()
        print('tcpxfer: mode=%s h2g bytes=%d sha256=%s secs=%.2f mbps=%.2f'
              % (mode, len(data), want, secs, len(data) / secs / 1e6), flush=True)

        lst.settimeout(a.timeout)
        try:
            c, _ = lst.accept()
        except OSError as e:
            sys.exit('tcpxfer: FAIL: mode=%s: no stream back from the guest on %s:%d: %s'
                     % ((mode,) + a.listen + (e,)))
        t0 = time.monotonic()
        c.settimeout(a.timeout)
        h, n = hashlib.sha256(), 0
        while True:
            try:
                b = c.recv(1 << 20)
            except OSError as e:
                sys.exit('tcpxfer: FAIL: mode=%s: g2h after %d bytes: %s' % (mode, n, e))
            if not b:
                break
            h.update(b)
            n += len(b)
        secs = time.monotonic() - t0
        after = counters(a.ctl, mode)
        c.close()
        print('tcpxfer: mode=%s g2h bytes=%d sha256=%s secs=%.2f mbps=%.2f'
              % (mode, n, h.hexdigest(), secs, n / secs / 1e6), flush=True)
        print('tcpxfer: mode=%s counters %s' % (mode, ' '.join(
            '%s=+%d' % (k, after[k] - before[k]) for k in COUNTERS)), flush=True)


if __name__ == '__main__':
    main()
