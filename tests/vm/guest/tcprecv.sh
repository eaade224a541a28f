#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/guest/tcprecv.sh - receives one TCP stream from the host over an
# ethdev tap port (vhostmq --port ethdev:net_tap0,...): eth0 gets
# vhostmq.addr=A/P (default 10.99.0.2/24), busybox `nc -l -p vhostmq.tcpport`
# (default 5001) writes what arrives to /tmp/got until the sender closes
# (limit vhostmq.seconds, default 60), then prints
#   VHOSTMQ-VM: got bytes=N sha256=HEX
# then "VHOSTMQ-VM: memtotal kB=N" (hot-plugged memory counts), and "rxq
# N=.. txq N=.." per queue. Exit 1 when nothing arrived.
. /tests/lib.sh
addr=10.99.0.2/24 port=5001 secs=60
for w in $(cat /proc/cmdline); do
	case $w in
	vhostmq.addr=*) addr=${w#vhostmq.addr=} ;;
	vhostmq.tcpport=*) port=${w#vhostmq.tcpport=} ;;
	vhostmq.seconds=*) secs=${w#vhostmq.seconds=} ;;
	esac
done
max=$(max_combined)
ethtool -L eth0 combined "$max" 2>/dev/null
ip addr add "$addr" dev eth0 || exit 1
echo "VHOSTMQ-VM: listening tcp $port $(cut -d' ' -f1 /proc/uptime)s"
timeout "$secs" nc -l -p "$port" </dev/null >/tmp/got
echo "VHOSTMQ-VM: nc exit $? $(cut -d' ' -f1 /proc/uptime)s"
n=$(wc -c </tmp/got)
echo "VHOSTMQ-VM: got bytes=$n sha256=$(sha256sum /tmp/got | cut -d' ' -f1)"
echo "VHOSTMQ-VM: memtotal kB=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)"
ethtool -S eth0 >/tmp/stats
awk '$1 ~ /^(rx|tx)_queue_[0-9]+_packets:$/ { l = l " " $1 $2 } END { print "queues:" l }' /tmp/stats
[ "$n" -gt 0 ]
