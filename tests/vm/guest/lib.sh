#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/guest/lib.sh - sourced by the guest scripts (not a test itself):
# the fake neighbour that vhostmq's loopback port makes pings come back
# from, pings pinned to every vCPU, the per-queue counters, and eth0's most
# combined channels.

# A static-ARP neighbour on eth0's link (busybox `ip neigh` cannot add
# entries, `arp -s` can): the loopback port reflects requests to it with the
# MACs swapped, so they come back to eth0 and are counted on RX.
fake_neighbour() {
	ip addr add 10.99.0.1/24 dev eth0 2>/dev/null
	arp -i eth0 -s 10.99.0.2 52:54:00:00:00:02
}

# ping_every_cpu PING-ARGS...: one ping per vCPU, pinned with taskset, so XPS
# sends each on that vCPU's TX queue; waits for all; output in /tmp/ping.N.
ping_every_cpu() {
	c=0
	while [ $c -lt "$(nproc)" ]; do
		taskset -c $c ping -q "$@" -I eth0 10.99.0.2 >/tmp/ping.$c 2>&1 &
		c=$((c + 1))
	done
	wait
}

# queue_lines PREFIX: "PREFIXqueue N tx=.. rx=.." for every queue `ethtool -S`
# lists (the full output stays in /tmp/stats).
queue_lines() {
	ethtool -S eth0 >/tmp/stats || return 1
	q=0
	while grep -q "tx_queue_${q}_packets:" /tmp/stats; do
		tx=$(awk -v k="tx_queue_${q}_packets:" '$1 == k { print $2 }' /tmp/stats)
		rx=$(awk -v k="rx_queue_${q}_packets:" '$1 == k { print $2 }' /tmp/stats)
		echo "${1}queue $q tx=$tx rx=$rx"
		q=$((q + 1))
	done
}

# eth0's "Pre-set maximums" combined channel count (ethtool -l).
max_combined() {
	ethtool -l eth0 | awk '/^Pre-set maximums/ { p = 1 } p && /^Combined:/ { print $2; exit }'
}
