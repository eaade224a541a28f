#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/hotplug.py - memory hotplug under a vhost-user NIC: the test guest
# (guest/tcprecv.sh, memory onlined as movable) boots with room for 16
# DIMMs; while the host streams TCP into it (--rate bytes/s), --add memfd
# DIMMs of --dimm-mib MiB are plugged one by one through QEMU's monitor
# (object_add + device_add pc-dimm), then --remove of them are unplugged
# (device_del; the guest offlines them, QEMU waits for it). Each DIMM is one
# more guest memory region for the backend. Then the stream ends and the
# guest hashes what arrived and reports its memory.
# Prints
#   hotplug: added K dimms (QEMU lists N)
#   hotplug: removed K dimms (QEMU lists N)
#   hotplug: the backend maps M guest memory regions (with --backend-pid)
#   hotplug: sent bytes=N sha256=HEX
#   hotplug: final guest log LOG
# and exits 0 when every plug and unplug went through and the stream was
# sent (the caller compares the sha256 with the guest's), 1 otherwise.
import argparse
import os
import re
import subprocess
import sys
import time

from hmp import Sender, hmp, wait_for


def dimms(mon):
    return len(re.findall(r'Memory device \[dimm\]', hmp(mon, 'info memory-devices')))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--run-guest', required=True)
    ap.add_argument('--socket', required=True)
    ap.add_argument('--queues', default='4')
    ap.add_argument('--guest', required=True)
    ap.add_argument('--workdir', required=True)
    ap.add_argument('--addr', default='10.97.0.2')
    ap.add_argument('--add', type=int, default=12)
    ap.add_argument('--remove', type=int, default=4)
    # The guest kernel's memory block is 128 MiB: a smaller DIMM is not
    # added ("unaligned hotplug range").
    ap.add_argument('--dimm-mib', type=int, default=128)
    ap.add_argument('--rate', type=int, default=1 << 20)
    ap.add_argument('--seed', type=int, default=11)
    ap.add_argument('--backend-pid', type=int)
    a = ap.parse_args()
    mon = os.path.join(a.workdir, 'mon')
    serial = os.path.join(a.workdir, 'hotplug.serial.txt')
    log = os.path.join(a.workdir, 'hotplug.guest.log')
    rc = 0
    with open(log, 'w') as out:
        p = subprocess.Popen(
            [a.run_guest, '--socket', a.socket, '--queues', a.queues, '--guest', a.guest,
             '--timeout', '400', '--smp', '1', '--maxmem', '2G', '--test', 'tcprecv',
             '--monitor', mon, '--log', serial,
             '--append', 'vhostmq.addr=%s/24 vhostmq.tcpport=5001 vhostmq.seconds=300 '
             'memhp_default_state=online_movable' % a.addr],
            stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: os.path.exists(serial) and
                 'VHOSTMQ-VM: listening tcp' in open(serial, errors='replace').read(),
                 120, 'the guest to listen')
        sender = Sender((a.addr, 5001), 1 << 30, a.rate, a.seed)
        sender.start()
        time.sleep(2)
        for i in range(a.add):
            hmp(mon, 'object_add memory-backend-memfd,id=hm%d,size=%dM,share=on'
                % (i, a.dimm_mib))
            hmp(mon, 'device_add pc-dimm,id=dimm%d,memdev=hm%d' % (i, i))
            time.sleep(0.5)
        n = dimms(mon)
        print('hotplug: added %d dimms (QEMU lists %d)' % (a.add, n), flush=True)
        if n != a.add:
            rc = 1
        for i in range(a.remove):
            hmp(mon, 'device_del dimm%d' % i)
        wait_for(lambda: dimms(mon) == a.add - a.remove, 60, 'the guest to let go of %d '
                 'dimms' % a.remove)
        for i in range(a.remove):
            hmp(mon, 'object_del hm%d' % i)
        print('hotplug: removed %d dimms (QEMU lists %d)' % (a.remove, dimms(mon)),
              flush=True)
        if a.backend_pid:
            # Every memfd QEMU makes for guest memory has this name.
            maps = open('/proc/%d/maps' % a.backend_pid).read()
            print('hotplug: the backend maps %d guest memory regions'
                  % len(re.findall(r'memfd:memory-backend-memfd', maps)), flush=True)
        time.sleep(2)               # traffic after the last change
        sender.stop.set()
        sender.join(300)
        if sender.error or sender.sha is None:
            print('hotplug: FAIL: the stream: %s' % (sender.error or 'did not finish'))
            rc = 1
        else:
            print('hotplug: sent bytes=%d sha256=%s' % (sender.sent, sender.sha), flush=True)
        p.wait(120)
    except Exception as e:
        print('hotplug: FAIL: %s: %s' % (type(e).__name__, e), flush=True)
        rc = 1
    finally:
        if p.poll() is None:
            p.terminate()
            p.wait(30)
        print('hotplug: final guest log %s' % log)
    return rc


if __name__ == '__main__':
    sys.exit(main())
