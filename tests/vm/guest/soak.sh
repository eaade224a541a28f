#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/guest/soak.sh - steady traffic for a while, with per-queue counters
# every second, for tests that disturb the backend meanwhile (restart,
# reconnect). Sets max combined channels, then one `ping -i 0.1` per vCPU
# (pinned with taskset) to a fake static-ARP neighbour, which vhostmq's
# loopback port reflects back to eth0. Each second prints
#   tick T tx=Q0,Q1,.. rx=Q0,Q1,..
# (ethtool -S packet counters). Kernel command line: vhostmq.seconds=N
# (default 20). Exit 0 unless the setup failed: the host judges the ticks.
. /tests/lib.sh
secs=20
for w in $(cat /proc/cmdline); do
	case $w in vhostmq.seconds=*) secs=${w#vhostmq.seconds=} ;; esac
done
max=$(max_combined)
ethtool -L eth0 combined "$max" || exit 1
ip addr add 10.99.0.1/24 dev eth0 || exit 1
arp -i eth0 -s 10.99.0.2 52:54:00:00:00:02 || exit 1
ncpu=$(nproc)
c=0
while [ $c -lt $ncpu ]; do
	taskset -c $c ping -q -i 0.1 -w "$secs" -I eth0 10.99.0.2 >/dev/null 2>&1 &
	c=$((c + 1))
done
t=0
while [ $t -lt "$secs" ]; do
	sleep 1
	t=$((t + 1))
	ethtool -S eth0 | awk -v t=$t '
		$1 ~ /^tx_queue_[0-9]+_packets:$/ { tx = tx (tx == "" ? "" : ",") $2 }
		$1 ~ /^rx_queue_[0-9]+_packets:$/ { rx = rx (rx == "" ? "" : ",") $2 }
		END { print "tick " t " tx=" tx " rx=" rx }'
done
wait
exit 0
