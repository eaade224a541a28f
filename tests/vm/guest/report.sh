#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/guest/report.sh - channels of eth0: `ethtool -l`, then
# `ethtool -L combined M` for M = 1..max (each: ok/FAIL), then `ethtool -S`.
# Leaves eth0 with max combined channels. Exit 1 if any step failed.
# With vhostmq.steptraffic=N on the kernel command line (0: off, the
# default), each step also sends N pings from every vCPU (one `taskset`-pinned
# `ping -c N -i 0.05` each, to a static-ARP fake neighbour that vhostmq's
# loopback port reflects back) and prints the per-queue packet counters:
#   step 0 end tx=Q0,Q1,.. rx=Q0,Q1,..   (before the first ethtool -L)
#   step M begin tx=.. rx=..             (after ethtool -L combined M)
#   step M end tx=.. rx=..               (after that step's pings)
#   step M sent=P                        (pings transmitted, all vCPUs)
# virtio_net lists only the queues currently enabled in `ethtool -S`; the
# counters of the others are kept and show again once they are re-enabled.
. /tests/lib.sh
rc=0
steptraffic=0
for w in $(cat /proc/cmdline); do
	case $w in vhostmq.steptraffic=*) steptraffic=${w#vhostmq.steptraffic=} ;; esac
done
counters() { # LABEL: prints "LABEL tx=.. rx=.." from `ethtool -S eth0`
	ethtool -S eth0 | awk -v l="$1" '
		$1 ~ /^tx_queue_[0-9]+_packets:$/ { tx = tx (tx == "" ? "" : ",") $2 }
		$1 ~ /^rx_queue_[0-9]+_packets:$/ { rx = rx (rx == "" ? "" : ",") $2 }
		END { print l " tx=" tx " rx=" rx }'
}
echo "=== VHOSTMQ-VM BEGIN ethtool-l ==="
ethtool -l eth0 || rc=1
echo "=== VHOSTMQ-VM END ethtool-l ==="
max=$(max_combined)
echo "VHOSTMQ-VM: max-combined=$max"
# features: one 0/1 per bit, bit 0 first: VIRTIO_F_RING_PACKED is bit 34
echo "VHOSTMQ-VM: ring f_packed=$(cut -c35 /sys/class/net/eth0/device/features)"
case $max in
''|*[!0-9]*) echo "VHOSTMQ-VM: no combined maximum"; exit 1 ;;
esac
ncpu=$(nproc)
if [ "$steptraffic" -gt 0 ]; then
	fake_neighbour || rc=1
	echo "VHOSTMQ-VM: steptraffic=$steptraffic cpus=$ncpu"
	counters "step 0 end"
fi
echo "=== VHOSTMQ-VM BEGIN ethtool-L ==="
M=1
while [ $M -le $max ]; do
	if out=$(ethtool -L eth0 combined $M 2>&1); then
		cur=$(ethtool -l eth0 | awk '/^Current hardware/ { p = 1 } p && /^Combined:/ { print $2; exit }')
		if [ "$cur" = "$M" ]; then
			echo "set-channels combined=$M ok (current $cur)"
		else
			echo "set-channels combined=$M FAIL (current $cur)"; rc=1
		fi
	else
		echo "set-channels combined=$M FAIL: $out"; rc=1
	fi
	if [ "$steptraffic" -gt 0 ]; then
		counters "step $M begin"
		ping_every_cpu -c "$steptraffic" -i 0.05 -W 1
		counters "step $M end"
		c=0 sent=0
		while [ $c -lt $ncpu ]; do
			n=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' /tmp/ping.$c)
			sent=$((sent + ${n:-0}))
			c=$((c + 1))
		done
		echo "step $M sent=$sent"
	fi
	M=$((M + 1))
done
echo "=== VHOSTMQ-VM END ethtool-L ==="
echo "=== VHOSTMQ-VM BEGIN ethtool-S ==="
ethtool -S eth0 || rc=1
echo "=== VHOSTMQ-VM END ethtool-S ==="
exit $rc
