#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/guest/rxsteps.sh - RX spread of an ethdev port's flows over the
# enabled queues only (vhostmq --steering rss, a port replaying many UDP
# flows forever): first `ethtool -L combined max` (every RX queue gets its
# buffers posted, so a frame vhostmq put on a queue disabled later would be
# seen and counted), then for each M of vhostmq.steps=M1,M2,.. (default
# 1,2,4,8; those above max skipped) `ethtool -L eth0 combined M`, 1 s for the
# enables to reach vhostmq and the old setting's backlog to drain, then
#   rxsteps M begin
#   (vhostmq.wait=S seconds, default 2, between two `ethtool -S`)
#   rxsteps M end
#   rxsteps M rx=D0,D1,..   the packets RX queue 0..M-1 got in those S seconds
# and 1 s more before the next M (the host reads vhostmq's per-pair counters
# at each begin and end line). ethtool -S lists only the enabled queues: the
# host judges the disabled ones by vhostmq's counters. The frames are not for
# us (the stack drops them); the driver's per-queue counters count them.
# Exit 1 if an ethtool command failed.
. /tests/lib.sh
wait_s=2 steps=1,2,4,8 rc=0
for w in $(cat /proc/cmdline); do
	case $w in
	vhostmq.wait=*) wait_s=${w#vhostmq.wait=} ;;
	vhostmq.steps=*) steps=${w#vhostmq.steps=} ;;
	esac
done
max=$(max_combined)
echo "VHOSTMQ-VM: rxsteps max-combined=$max steps=$steps wait=$wait_s"
ethtool -L eth0 combined "$max" 2>/dev/null   # (already max: "no change" is fine)
sleep 1
for M in $(echo "$steps" | tr ',' ' '); do
	[ "$M" -le "$max" ] || { echo "rxsteps $M skipped (max $max)"; continue; }
	if ! out=$(ethtool -L eth0 combined "$M" 2>&1); then
		# "no change" when M is the current count already
		case $out in *"no change"*|'') ;; *) echo "rxsteps $M FAIL: $out"; rc=1; continue ;; esac
	fi
	cur=$(ethtool -l eth0 | awk '/^Current hardware/ { p = 1 } p && /^Combined:/ { print $2; exit }')
	[ "$cur" = "$M" ] || { echo "rxsteps $M FAIL: current $cur"; rc=1; continue; }
	sleep 1
	echo "rxsteps $M begin"
	ethtool -S eth0 >/tmp/stats0 || rc=1
	sleep "$wait_s"
	ethtool -S eth0 >/tmp/stats || rc=1
	echo "rxsteps $M end"
	awk -v m="$M" 'FNR == NR { if ($1 ~ /^rx_queue_[0-9]+_packets:$/) before[$1] = $2; next }
	     $1 ~ /^rx_queue_[0-9]+_packets:$/ { d = d (d == "" ? "" : ",") ($2 - before[$1]) }
	     END { print "rxsteps " m " rx=" d }' /tmp/stats0 /tmp/stats
	sleep 1
done
exit $rc
