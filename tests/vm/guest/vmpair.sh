#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/guest/vmpair.sh - one of two guests on one vhostmq whose devices
# are wired to each other (device: ports): TCP both ways between them, many
# flows at once, each flow's bytes hashed at both ends.
# eth0 gets vhostmq.addr and all its combined channels; vhostmq.flows
# (default 32) listeners (busybox nc -l, ports 6000..) take one stream each
# into /tmp/rx.N (done when it holds vhostmq.kib KiB); once vhostmq.peer answers a ping (its listeners are up
# then: it starts them before it takes its address), as many streams of
# vhostmq.kib KiB of /dev/urandom go to the peer's ports at once, each
# connect retried for 60 s. Many flows, so that RSS puts some on every RX
# queue of both guests (a flow's data lands on one queue, its ACKs on one of
# the other side's). Prints
#   VHOSTMQ-VM: pair eth0 tso=on|off combined=N f_guest_tso4=B f_host_tso4=B
#   VHOSTMQ-VM: pair sent flow=I bytes=N sha256=HEX rc=R
#   VHOSTMQ-VM: pair got flow=I bytes=N sha256=HEX
#   VHOSTMQ-VM: pair done ms=T (the transfers, from the first connect)
# and the per-queue counters (lib.sh queue_lines, prefix "pair "). Exit 1
# when the peer never answered, a send failed or a stream came back short.
. /tests/lib.sh
addr='' peer='' flows=32 kib=1024 secs=200
for w in $(cat /proc/cmdline); do
	case $w in
	vhostmq.addr=*) addr=${w#vhostmq.addr=} ;;
	vhostmq.peer=*) peer=${w#vhostmq.peer=} ;;
	vhostmq.flows=*) flows=${w#vhostmq.flows=} ;;
	vhostmq.kib=*) kib=${w#vhostmq.kib=} ;;
	vhostmq.seconds=*) secs=${w#vhostmq.seconds=} ;;
	esac
done
[ -n "$addr" ] && [ -n "$peer" ] || { echo "VHOSTMQ-VM: pair: vhostmq.addr and vhostmq.peer are required"; exit 1; }
ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
feat() { ethtool -k eth0 | awk -v k="$1:" '$1 == k { print $2; exit }'; }
max=$(max_combined)
ethtool -L eth0 combined "$max" 2>/dev/null
# features: one 0/1 per bit, bit 0 first: GUEST_TSO4 is bit 7, HOST_TSO4 11
f=/sys/class/net/eth0/device/features
echo "VHOSTMQ-VM: pair eth0 tso=$(feat tcp-segmentation-offload) combined=$max" \
     "f_guest_tso4=$(cut -c8 $f) f_host_tso4=$(cut -c12 $f)"

rc=0 i=0 lpids=''
while [ $i -lt "$flows" ]; do
	# stdin stays open: busybox nc shuts its sending half at stdin's EOF,
	# and the sender's nc stops at that, before it has sent everything
	sleep "$secs" | timeout "$secs" nc -l -p $((6000 + i)) >/tmp/rx.$i &
	lpids="$lpids $!"
	dd if=/dev/urandom of=/tmp/tx.$i bs=1024 count="$kib" 2>/dev/null
	i=$((i + 1))
done
ip addr add "$addr" dev eth0 || exit 1
i=0
until ping -c 1 -W 1 "$peer" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 120 ] || { echo "VHOSTMQ-VM: pair: $peer never answered a ping"; exit 1; }
done

# send I: one stream to the peer's port 6000+I, connect retried; rc in /tmp/src.I
send() {
	n=0
	while [ $n -lt 120 ]; do
		timeout "$secs" nc "$peer" $((6000 + $1)) </tmp/tx.$1 >/dev/null 2>/tmp/nc.$1 &&
			{ echo 0 >/tmp/src.$1; return; }
		r=$?
		[ $r = 124 ] && break
		usleep 500000
		n=$((n + 1))
	done
	echo "$r" >/tmp/src.$1
}
t0=$(ms) i=0 spids=''
while [ $i -lt "$flows" ]; do
	send $i &
	spids="$spids $!"
	i=$((i + 1))
done
for p in $spids; do wait "$p"; done
# A listener does not stop at its stream's end (busybox nc, its stdin still
# open): it is done when its file holds the whole stream, or at the limit.
end=$((t0 + secs * 1000)) i=0
while [ $i -lt "$flows" ]; do
	while [ "$(stat -c %s /tmp/rx.$i)" -lt $((kib * 1024)) ] && [ "$(ms)" -lt $end ]; do
		usleep 100000
	done
	i=$((i + 1))
done
echo "VHOSTMQ-VM: pair done ms=$(($(ms) - t0))"
# shellcheck disable=SC2086
kill $lpids 2>/dev/null

i=0
while [ $i -lt "$flows" ]; do
	src=$(cat /tmp/src.$i)
	echo "VHOSTMQ-VM: pair sent flow=$i bytes=$(stat -c %s /tmp/tx.$i)" \
	     "sha256=$(sha256sum /tmp/tx.$i | cut -d' ' -f1) rc=$src"
	[ "$src" = 0 ] || { rc=1; echo "VHOSTMQ-VM: pair flow=$i nc: $(tail -1 /tmp/nc.$i)"; }
	n=$(stat -c %s /tmp/rx.$i)
	echo "VHOSTMQ-VM: pair got flow=$i bytes=$n sha256=$(sha256sum /tmp/rx.$i | cut -d' ' -f1)"
	[ "$n" = $((kib * 1024)) ] || rc=1
	i=$((i + 1))
done
queue_lines "pair "
exit $rc
