#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/guest/tcpcsum.sh - checksum offload over an ethdev tap port
# (vhostmq --port ethdev:net_tap0,...), both directions of TCP, once per mode
# of vhostmq.modes=M1,M2,.. (default on):
#   on        eth0 as the driver set it up
#   guestoff  `ethtool -K eth0 tx off rx off` first (stays off for the rest)
#   anything else: as on (the name only labels the lines: e.g. vhostoff when
#             vhostmq runs with its offloads off)
# Per mode: prints eth0's checksum state (ethtool -k) and which of
# VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM were negotiated (0/1)
#   VHOSTMQ-VM: csum mode=M tx-checksumming=on|off rx-checksumming=on|off f_csum=B f_guest_csum=B
# then busybox `nc -l -p vhostmq.tcpport` (5001) takes one stream from the
# host into /tmp/got (limit vhostmq.seconds, 120), then hashes it, and
#   VHOSTMQ-VM: csum mode=M got bytes=N sha256=HEX ms=T
# then sends /tmp/got back to vhostmq.peer:vhostmq.backport (10.99.0.1:5002,
# connect retried for 30 s) and prints
#   VHOSTMQ-VM: csum mode=M sent bytes=N sha256=HEX ms=T rc=R refused=K
# (the file sent is the one received: its sha256 is the one above; T from
# the guest's clock, ms). eth0 gets vhostmq.addr (10.99.0.2/24). Exit 1 when a stream
# came back empty or a send failed.
. /tests/lib.sh
addr=10.99.0.2/24 peer=10.99.0.1 port=5001 back=5002 secs=120 modes=on
for w in $(cat /proc/cmdline); do
	case $w in
	vhostmq.addr=*) addr=${w#vhostmq.addr=} ;;
	vhostmq.peer=*) peer=${w#vhostmq.peer=} ;;
	vhostmq.tcpport=*) port=${w#vhostmq.tcpport=} ;;
	vhostmq.backport=*) back=${w#vhostmq.backport=} ;;
	vhostmq.seconds=*) secs=${w#vhostmq.seconds=} ;;
	vhostmq.modes=*) modes=${w#vhostmq.modes=} ;;
	esac
done
max=$(max_combined)
ethtool -L eth0 combined "$max" 2>/dev/null
ip addr add "$addr" dev eth0 || exit 1
ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
feat() { ethtool -k eth0 | awk -v k="$1:" '$1 == k { print $2; exit }'; }
rc=0
for mode in $(echo "$modes" | tr ',' ' '); do
	if [ "$mode" = guestoff ]; then
		ethtool -K eth0 tx off rx off 2>&1 | sed 's/^/ethtool -K: /'
	fi
	# features: one 0/1 per bit, bit 0 (VIRTIO_NET_F_CSUM) first, then
	# bit 1 (VIRTIO_NET_F_GUEST_CSUM)
	f=/sys/class/net/eth0/device/features
	echo "VHOSTMQ-VM: csum mode=$mode tx-checksumming=$(feat tx-checksumming)" \
	     "rx-checksumming=$(feat rx-checksumming)" \
	     "f_csum=$(cut -c1 $f) f_guest_csum=$(cut -c2 $f)"
	ethtool -k eth0 | grep -E '^(tx|rx)-checksumming|tx-checksum-ip-generic|scatter-gather:|tcp-segmentation-offload:'
	echo "VHOSTMQ-VM: csum mode=$mode listening tcp $port at $(ms) ms"
	t0=$(ms)
	# hashed afterwards, not on the way in: under TCG sha256sum (~20 MB/s)
	# would be the bottleneck and T would not measure the path
	timeout "$secs" nc -l -p "$port" </dev/null >/tmp/got
	t1=$(ms)
	n=$(stat -c %s /tmp/got)
	sum=$(sha256sum /tmp/got | cut -d' ' -f1)
	echo "VHOSTMQ-VM: csum mode=$mode got bytes=$n sha256=$sum ms=$((t1 - t0))"
	[ "$n" -gt 0 ] || rc=1
	i=0 src=1
	while [ $i -lt 60 ]; do        # until the host listens (30 s)
		t0=$(ms)
		timeout "$secs" nc "$peer" "$back" </tmp/got >/dev/null 2>/tmp/nc.err && { src=0; break; }
		src=$?
		[ $src = 124 ] && break
		[ $i = 0 ] && echo "VHOSTMQ-VM: csum mode=$mode connect to $peer:$back failed" \
		                   "(rc $src) at $(ms) ms: $(arp -n | tr '\n' ' '), retrying"
		usleep 500000
		i=$((i + 1))
	done
	t1=$(ms)
	echo "VHOSTMQ-VM: csum mode=$mode sent bytes=$n sha256=$sum ms=$((t1 - t0)) rc=$src refused=$i"
	[ $src = 0 ] || echo "VHOSTMQ-VM: csum mode=$mode nc: $(tail -1 /tmp/nc.err)"
	[ $src = 0 ] || rc=1
	rm -f /tmp/got
done
ethtool -S eth0 >/tmp/stats
awk '$1 ~ /^(rx|tx)_queue_[0-9]+_packets:$/ { l = l " " $1 $2 } END { print "queues:" l }' /tmp/stats
exit $rc
