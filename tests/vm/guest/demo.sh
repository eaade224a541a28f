#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/guest/demo.sh - the guest half of `scripts/demo.sh --vm`:
# `ethtool -l`, `ethtool -L combined max`, one `taskset`-pinned `ping -i 0.05`
# per vCPU for vhostmq.seconds=S (default 5) to a static-ARP fake neighbour
# (vhostmq's loopback port reflects the requests back to eth0), then the
# per-queue packet counters of `ethtool -S eth0` as "guest queue N tx=.. rx=..".
secs=5
for w in $(cat /proc/cmdline); do
	case $w in vhostmq.seconds=*) secs=${w#vhostmq.seconds=} ;; esac
done
rc=0
ethtool -l eth0 || rc=1
max=$(ethtool -l eth0 | awk '/^Pre-set maximums/ { p = 1 } p && /^Combined:/ { print $2; exit }')
ethtool -L eth0 combined "$max" 2>/dev/null   # (already max: "no change" is fine)
echo "VHOSTMQ-VM: combined now $(ethtool -l eth0 | awk '/^Current hardware/ { p = 1 } p && /^Combined:/ { print $2; exit }') of $max"
ip addr add 10.99.0.1/24 dev eth0 || rc=1
arp -i eth0 -s 10.99.0.2 52:54:00:00:00:02 || rc=1
ncpu=$(nproc)
echo "VHOSTMQ-VM: pinging from $ncpu vCPUs for ${secs}s"
c=0
while [ $c -lt $ncpu ]; do
	taskset -c $c ping -q -i 0.05 -w "$secs" -I eth0 10.99.0.2 >/tmp/ping.$c 2>&1 &
	c=$((c + 1))
done
wait
c=0
while [ $c -lt $ncpu ]; do
	echo "VHOSTMQ-VM: cpu $c: $(grep 'packets transmitted' /tmp/ping.$c)"
	c=$((c + 1))
done
ethtool -S eth0 >/tmp/stats || rc=1
q=0
while grep -q "tx_queue_${q}_packets:" /tmp/stats; do
	tx=$(awk -v k="tx_queue_${q}_packets:" '$1 == k { print $2 }' /tmp/stats)
	rx=$(awk -v k="rx_queue_${q}_packets:" '$1 == k { print $2 }' /tmp/stats)
	echo "guest queue $q tx=$tx rx=$rx"
	q=$((q + 1))
done
exit $rc
