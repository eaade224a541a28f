#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/guest/ring.sh - the ring sizes eth0 got (QEMU's virtio-net-pci
# rx_queue_size= / tx_queue_size=): `ethtool -g eth0` between markers and
# "VHOSTMQ-VM: ring rx=N tx=N" (current sizes), then traffic.sh (report.sh's
# ethtool -L 1..max, one pinned ping per vCPU, per-queue counters).
echo "=== VHOSTMQ-VM BEGIN ethtool-g ==="
ethtool -g eth0 | tee /tmp/ring || exit 1
echo "=== VHOSTMQ-VM END ethtool-g ==="
awk '/^Current hardware/ { p = 1 } p && /^RX:/ { rx = $2 } p && /^TX:/ { tx = $2 }
     END { print "VHOSTMQ-VM: ring rx=" rx " tx=" tx }' /tmp/ring
exec /tests/traffic.sh
