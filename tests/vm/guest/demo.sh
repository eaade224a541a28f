#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/guest/demo.sh - the guest half of `scripts/demo.sh --vm`:
# `ethtool -l`, `ethtool -L combined max`, one `taskset`-pinned `ping -i 0.05`
# per vCPU for vhostmq.seconds=S (default 5) to a static-ARP fake neighbour
# (vhostmq's loopback port reflects the requests back to eth0), then the
# per-queue packet counters of `ethtool -S eth0` as "guest queue N tx=.. rx=..".
. /tests/lib.sh
secs=5
for w in $(cat /proc/cmdline); do
	case $w in vhostmq.seconds=*) secs=${w#vhostmq.seconds=} ;; esac
done
rc=0
ethtool -l eth0 || rc=1
max=$(max_combined)
ethtool -L eth0 combined "$max" 2>/dev/null   # (already max: "no change" is fine)
echo "VHOSTMQ-VM: combined now $(ethtool -l eth0 | awk '/^Current hardware/ { p = 1 } p && /^Combined:/ { print $2; exit }') of $max"
fake_neighbour || rc=1
echo "VHOSTMQ-VM: pinging from $(nproc) vCPUs for ${secs}s"
ping_every_cpu -i 0.05 -w "$secs"
c=0
while [ $c -lt "$(nproc)" ]; do
	echo "VHOSTMQ-VM: cpu $c: $(grep 'packets transmitted' /tmp/ping.$c)"
	c=$((c + 1))
done
queue_lines "guest " || rc=1
exit $rc
