#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/hmp.py - what the QEMU drivers of tests/vm (migrate.py,
# hotplug.py) share: one human-monitor command over QEMU's unix socket, a
# wait with a limit, and the host's TCP stream into the guest
# (random.Random(seed) bytes at a rate, hashed as sent).
import hashlib
import random
import socket
import threading
import time


def hmp(path, cmd, timeout=10.0):
    """One human-monitor command; its output."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    buf = b''
    while not buf.endswith(b'(qemu) '):
        buf += s.recv(4096)
    s.sendall(cmd.encode() + b'\n')
    out = b''
    while not out.endswith(b'(qemu) '):
        d = s.recv(4096)
        if not d:
            break
        out += d
    s.close()
    return out.decode(errors='replace')


def wait_for(pred, secs, what):
    end = time.time() + secs
    while time.time() < end:
        if pred():
            return
        time.sleep(0.1)
    raise RuntimeError('timed out after %d s waiting for %s' % (secs, what))


class Sender(threading.Thread):
    """The TCP stream, at rate bytes/s until stop is set or size bytes went."""

    def __init__(self, addr, size, rate, seed):
        super().__init__(daemon=True)
        self.addr, self.size, self.rate, self.seed = addr, size, rate, seed
        self.stop = threading.Event()
        self.sent = 0
        self.sha = None
        self.error = None

    def run(self):
        try:
            rnd = random.Random(self.seed)
            h = hashlib.sha256()
            end = time.time() + 60
            while True:
                try:
                    s = socket.create_connection(self.addr, timeout=5)
                    break
                except OSError:
                    if time.time() > end:
                        raise
                    time.sleep(0.5)
            s.settimeout(120)
            t0 = time.time()
            while self.sent < self.size and not self.stop.is_set():
                n = min(65536, self.size - self.sent)
                b = rnd.randbytes(n)
                s.sendall(b)
                h.update(b)
                self.sent += n
                ahead = self.sent / self.rate - (time.time() - t0)
                if ahead > 0:
                    self.stop.wait(ahead)
            s.shutdown(socket.SHUT_WR)
            s.recv(1)          # until the guest closes
            s.close()
            self.sha = h.hexdigest()
        except Exception as e:    # reported by the main thread
            self.error = '%s: %s' % (type(e).__name__, e)
