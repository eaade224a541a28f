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
/tests/report.sh
rc=$?
count=20
for w in $(cat /proc/cmdline); do
	case $w in vhostmq.count=*) count=${w#vhostmq.count=} ;; esac
done
ip addr add 10.99.0.1/24 dev eth0
arp -i eth0 -s 10.99.0.2 52:54:00:00:00:02 || rc=1
ncpu=$(nproc)
echo "=== VHOSTMQ-VM BEGIN ping ==="
c=0
while [ $c -lt $ncpu ]; do
	taskset -c $c ping -q -c $count -i 0.05 -W 1 -I eth0 10.99.0.2 >/tmp/ping.$c 2>&1 &
	c=$((c + 1))
done
wait
c=0
while [ $c -lt $ncpu ]; do
	echo "cpu $c: $(grep 'packets transmitted' /tmp/ping.$c)"
	c=$((c + 1))
done
echo "=== VHOSTMQ-VM END ping ==="
echo "=== VHOSTMQ-VM BEGIN ethtool-S ==="
ethtool -S eth0 | tee /tmp/stats || rc=1
echo "=== VHOSTMQ-VM END ethtool-S ==="
echo "=== VHOSTMQ-VM BEGIN queues ==="
q=0
while grep -q "tx_queue_${q}_packets:" /tmp/stats; do
	tx=$(awk -v k="tx_queue_${q}_packets:" '$1 == k { print $2 }' /tmp/stats)
	rx=$(awk -v k="rx_queue_${q}_packets:" '$1 == k { print $2 }' /tmp/stats)
	echo "queue $q tx=$tx rx=$rx"
	q=$((q + 1))
done
echo "=== VHOSTMQ-VM END queues ==="
exit $rc
