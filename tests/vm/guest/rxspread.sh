#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/guest/rxspread.sh - RX spread of an ethdev port's flows (vhostmq
# --steering rss, a net_pcap port replaying many UDP flows forever): sets max
# combined channels, waits vhostmq.wait=S seconds (default 2), prints
# `ethtool -S` and "rxq N=PACKETS" for every RX queue: the packets it
# received during those S seconds (until the driver enables every queue,
# queue 0 gets all of them, for as long as a slow boot takes). The frames
# are not for us (the stack drops them); the driver's per-queue counters
# count them. Exit 0 unless the setup failed: the host judges the spread.
. /tests/lib.sh
wait_s=2
for w in $(cat /proc/cmdline); do
	case $w in vhostmq.wait=*) wait_s=${w#vhostmq.wait=} ;; esac
done
max=$(max_combined)
ethtool -L eth0 combined "$max" 2>/dev/null   # (already max: "no change" is fine)
sleep 0.5                                     # the enables reach vhostmq
ethtool -S eth0 >/tmp/stats0 || exit 1
sleep "$wait_s"
echo "=== VHOSTMQ-VM BEGIN ethtool-S ==="
ethtool -S eth0 | tee /tmp/stats || exit 1
echo "=== VHOSTMQ-VM END ethtool-S ==="
awk 'FNR == NR { if ($1 ~ /^rx_queue_[0-9]+_packets:$/) before[$1] = $2; next }
     $1 ~ /^rx_queue_[0-9]+_packets:$/ { q = $1; gsub(/[^0-9]/, "", q)
                                          print "rxq " q "=" $2 - before[$1] }' \
	/tmp/stats0 /tmp/stats
exit 0
