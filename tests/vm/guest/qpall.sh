#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/guest/qpall.sh - traffic on every queue pair when there are more
# pairs than vCPUs: `ethtool -L eth0 combined max`, then, since XPS gives each
# vCPU several TX queues (virtio_net: queue i on vCPU i % ncpu, the queue
# among them picked by flow hash), every queue's xps_cpus is emptied and the
# queues are visited in rounds: round r maps vCPU c to queue r*ncpu+c alone
# and sends vhostmq.count=N (default 1) pings pinned to each vCPU to a
# static-ARP fake neighbour (vhostmq's loopback port reflects them on the
# same pair, so they come back on that queue's RX). Prints
# "VHOSTMQ-VM: qpall max-combined=Q current=C cpus=N", "qpall rounds=R
# sent=P" and "queue N tx=.. rx=.." for every queue. Exit 1 if a step failed.
. /tests/lib.sh
count=1 rc=0
for w in $(cat /proc/cmdline); do
	case $w in vhostmq.count=*) count=${w#vhostmq.count=} ;; esac
done
ncpu=$(nproc)
max=$(max_combined)
ethtool -L eth0 combined "$max" 2>/dev/null   # (already max: "no change" is fine)
cur=$(ethtool -l eth0 | awk '/^Current hardware/ { p = 1 } p && /^Combined:/ { print $2; exit }')
echo "VHOSTMQ-VM: qpall max-combined=$max current=$cur cpus=$ncpu"
[ "$cur" = "$max" ] || rc=1
fake_neighbour || rc=1
xps() { echo "$2" >/sys/class/net/eth0/queues/tx-$1/xps_cpus || rc=1; }
q=0
while [ $q -lt "$cur" ]; do xps $q 0; q=$((q + 1)); done
base=0 rounds=0 sent=0
while [ $base -lt "$cur" ]; do
	c=0
	while [ $c -lt $ncpu ] && [ $((base + c)) -lt "$cur" ]; do
		xps $((base + c)) "$(printf %x $((1 << c)))"
		taskset -c $c ping -q -c "$count" -i 0.05 -W 1 -I eth0 10.99.0.2 >/tmp/ping.$c 2>&1 &
		c=$((c + 1))
	done
	wait
	while [ $c -gt 0 ]; do
		c=$((c - 1))
		xps $((base + c)) 0
		n=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' /tmp/ping.$c)
		sent=$((sent + ${n:-0}))
	done
	base=$((base + ncpu)) rounds=$((rounds + 1))
done
echo "qpall rounds=$rounds sent=$sent"
# one awk over ethtool -S (lib.sh's queue_lines runs three commands per
# queue: ~10 s for 128 queues under TCG)
echo "=== VHOSTMQ-VM BEGIN queues ==="
ethtool -S eth0 | awk '$1 ~ /^[rt]x_queue_[0-9]+_packets:$/ { split($1, a, "_"); v[a[1] "," a[3]] = $2; if (a[3] + 1 > n) n = a[3] + 1 }
	END { for (q = 0; q < n; q++) print "queue " q " tx=" v["tx," q] " rx=" v["rx," q] }' || rc=1
echo "=== VHOSTMQ-VM END queues ==="
exit $rc
