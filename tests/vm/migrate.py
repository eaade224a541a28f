#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/migrate.py - live migration of the test guest between two
# vhost-user sockets (two vhostmq devices whose ports are taps in one Linux
# bridge with the host on it) while the host streams TCP into the guest and
# pings it. The guest (guest/tcprecv.sh) boots on the first socket; then
# --hops times a QEMU waits on the other socket (-incoming), the running one
# is told `migrate -d` on its monitor, `info migrate` is polled until the
# migration completed, and the old QEMU quits. The stream (random.Random(
# --seed) at --rate bytes/s) runs until the last hop completed, or --size
# bytes; the guest hashes what arrived.
# Prints
#   migrate: hop K from SOCK to SOCK: completed total=MS downtime=MS
#   migrate: sent bytes=N sha256=HEX hops-spanned=yes|no
#   migrate: pings sent=N received=M lost=L
#   migrate: final guest log LOG
# and exits 0 when every hop completed and the stream was sent (the caller
# compares the sha256 with the guest's "VHOSTMQ-VM: got" line), 1 otherwise.
import argparse
import os
import re
import subprocess
import sys
import time

from hmp import Sender, hmp, wait_for


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--run-guest', required=True)
    ap.add_argument('--sockets', required=True, help='SOCK0,SOCK1')
    ap.add_argument('--queues', default='4')
    ap.add_argument('--guest', required=True)
    ap.add_argument('--workdir', required=True)
    ap.add_argument('--addr', default='10.97.0.2')
    ap.add_argument('--hops', type=int, default=5)
    ap.add_argument('--size', type=int, default=200 << 20)
    ap.add_argument('--rate', type=int, default=4 << 20)
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--nic-opts', default='')
    ap.add_argument('--smp', default='4')
    ap.add_argument('--port', type=int, default=47000)
    a = ap.parse_args()
    socks = a.sockets.split(',')
    guests = []       # (proc, monitor, serial log, run-guest log)

    def start(k, incoming):
        i = len(guests)
        mon = os.path.join(a.workdir, 'mon%d' % i)
        serial = os.path.join(a.workdir, 'migrate%d.serial.txt' % i)
        out = open(os.path.join(a.workdir, 'migrate%d.guest.log' % i), 'w')
        cmd = [a.run_guest, '--socket', socks[k], '--queues', a.queues, '--guest', a.guest,
               '--timeout', '600', '--smp', a.smp, '--test', 'tcprecv', '--monitor', mon,
               '--log', serial,
               '--append', 'vhostmq.addr=%s/24 vhostmq.tcpport=5001 vhostmq.seconds=400'
               % a.addr]
        if a.nic_opts:
            cmd += ['--nic-opts', a.nic_opts]
        if incoming:
            cmd += ['--incoming', incoming]
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        guests.append((p, mon, serial, out.name))
        wait_for(lambda: os.path.exists(mon) or p.poll() is not None, 30, 'monitor ' + mon)
        if p.poll() is not None:
            raise RuntimeError('QEMU on %s exited at start (%s)' % (socks[k], out.name))
        return guests[-1]

    ping = None
    rc = 0
    try:
        cur = start(0, None)
        wait_for(lambda: 'VHOSTMQ-VM: listening tcp' in open(cur[2], errors='replace').read(),
                 120, 'the guest to listen')
        ping = subprocess.Popen(['ping', '-i', '0.1', '-W', '1', a.addr],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sender = Sender((a.addr, 5001), a.size, a.rate, a.seed)
        sender.start()
        time.sleep(3)
        for hop in range(a.hops):
            src, dst = hop % 2, (hop + 1) % 2
            port = a.port + hop
            new = start(dst, 'tcp:127.0.0.1:%d' % port)
            time.sleep(1)
            hmp(cur[1], 'migrate -d tcp:127.0.0.1:%d' % port)
            info = ''
            end = time.time() + 180
            while time.time() < end:
                info = hmp(cur[1], 'info migrate')
                if re.search(r'Migration status: (completed|failed|cancelled)', info):
                    break
                time.sleep(0.5)
            st = re.search(r'Migration status: (\w+)', info)
            total = re.search(r'total time: (\d+) ms', info)
            down = re.search(r'downtime: (\d+) ms', info)
            status = st.group(1) if st else 'unknown'
            print('migrate: hop %d from %s to %s: %s total=%s downtime=%s'
                  % (hop + 1, os.path.basename(socks[src]), os.path.basename(socks[dst]),
                     status, total.group(1) if total else '?',
                     down.group(1) if down else '?'), flush=True)
            if status != 'completed':
                rc = 1
                print(info, flush=True)
                break
            try:
                hmp(cur[1], 'quit')
            except OSError:
                pass
            cur[0].wait(30)
            cur = new
            time.sleep(2)          # traffic on the new side before the next hop
        spanned = sender.is_alive()
        sender.stop.set()
        sender.join(300)
        if sender.error or sender.sha is None:
            print('migrate: FAIL: the stream: %s' % (sender.error or 'did not finish'))
            rc = 1
        else:
            print('migrate: sent bytes=%d sha256=%s hops-spanned=%s'
                  % (sender.sent, sender.sha, 'yes' if spanned else 'no'), flush=True)
        cur[0].wait(120)
    except Exception as e:
        print('migrate: FAIL: %s: %s' % (type(e).__name__, e), flush=True)
        rc = 1
    finally:
        if ping is not None:
            ping.send_signal(2)
            out = ping.communicate(timeout=10)[0]
            m = re.search(r'(\d+) packets transmitted, (\d+) (?:packets )?received', out)
            if m:
                print('migrate: pings sent=%s received=%s lost=%d'
                      % (m.group(1), m.group(2), int(m.group(1)) - int(m.group(2))))
        if rc != 0:
            # Which QEMU ended when: the one that left early tells why.
            for i, (p, _, serial, log) in enumerate(guests):
                print('migrate: QEMU %d: %s' % (i, 'running' if p.poll() is None
                                                 else 'exited %d' % p.returncode))
                for f in (log, serial):
                    try:
                        tail = open(f, errors='replace').read().splitlines()[-6:]
                    except OSError:
                        continue
                    for line in tail:
                        print('migrate:   %s: %s' % (os.path.basename(f), line))
        for p, _, _, _ in guests:
            if p.poll() is None:
                p.terminate()
                p.wait(30)
        if guests:
            print('migrate: final guest log %s' % guests[-1][3])
    return rc


if __name__ == '__main__':
    sys.exit(main())
