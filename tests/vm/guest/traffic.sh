#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/guest/traffic.sh - traffic on every queue pair. Runs report.sh
# (leaves max combined channels), then one `ping` per vCPU pinned with
# taskset, so XPS sends each on that vCPU's TX queue. The neighbour is fake
# (static ARP; busybox `ip neigh` cannot add entries, `arp -s` can): vhostmq's loopback port reflects the requests with the MACs
# swapped, so they come back to eth0 (counted on RX, then dropped by IP: they
# are not for us). Prints `ethtool -S` and the per-queue packet counters as
# "queue N tx=.. rx=..". Env from the kernel command line: vhostmq.count=N
# pings per vCPU (default 20).
. /tests/lib.sh
/tests/report.sh
rc=$?
count=20
for w in $(cat /proc/cmdline); do
	case $w in vhostmq.count=*) count=${w#vhostmq.count=} ;; esac
done
fake_neighbour || rc=1
echo "=== VHOSTMQ-VM BEGIN ping ==="
ping_every_cpu -c "$count" -i 0.05 -W 1
c=0
while [ $c -lt "$(nproc)" ]; do
	echo "cpu $c: $(grep 'packets transmitted' /tmp/ping.$c)"
	c=$((c + 1))
done
echo "=== VHOSTMQ-VM END ping ==="
queue_lines "" >/tmp/queues || rc=1
echo "=== VHOSTMQ-VM BEGIN ethtool-S ==="
cat /tmp/stats
echo "=== VHOSTMQ-VM END ethtool-S ==="
echo "=== VHOSTMQ-VM BEGIN queues ==="
cat /tmp/queues
echo "=== VHOSTMQ-VM END queues ==="
exit $rc
