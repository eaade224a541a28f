#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/run-guest.sh - boots the test guest (build-guest.sh) in QEMU with
# one virtio-net NIC on a vhost-user socket and prints its serial log.
#
# Usage: run-guest.sh --socket PATH [options]
#   --socket PATH     vhost-user socket (required)
#   --queues N        queue pairs of the NIC (default 4)
#   --server          QEMU is the socket server (chardev server=on,wait=off;
#                     run the backend with --client). Default: QEMU connects.
#   --test NAME       guest script tests/vm/guest/NAME.sh (default report)
#   --guest DIR       guest built by build-guest.sh (default
#                     $VHOSTMQ_VM_GUEST or /var/tmp/vhostmq-vm-guest; built
#                     or refreshed there first, cached)
#   --log FILE        serial log (default: a temp file, removed on exit)
#   --timeout S       hard limit for QEMU (default 180)
#   --smp N --mem SIZE  (default 4, 512M)
#   --mac MAC         the NIC's MAC (default 52:54:00:00:00:01; two guests
#                     on one wire need two)
#   --nic-opts OPTS   more virtio-net-pci properties (e.g. guest_announce=off)
#   --monitor PATH    QEMU's human monitor on a unix socket (server, no wait)
#   --incoming URI    wait for a live migration (e.g. tcp:127.0.0.1:4444)
#                     instead of booting: the guest arrives, already running
#   --maxmem SIZE     room for memory hotplug: 16 DIMM slots up to SIZE
#   --append ARGS     extra kernel command line (e.g. vhostmq.count=50)
#   --host-mtu N      virtio-net-pci host_mtu=N: the NIC offers
#                     VIRTIO_NET_F_MTU with MTU N and QEMU sends the backend
#                     NET_SET_MTU N (default: none). A backend refusing it
#                     stops QEMU at once (QEMU 7.2 would run the guest
#                     without vhost, its frames going nowhere)
# Environment: VHOSTMQ_VM_KVM=1 uses KVM when /dev/kvm is usable (off by
# default: KVM fails on the project's machines), else TCG (multi-threaded,
# -cpu max). Under TCG QEMU 7.2 with vhost-user crashes with MSI-X, hence
# vectors=0 (one shared INTx line for all queues).
# Exit: 0 when the guest printed "report done ... rc=0"; 1 when it finished
# with a failure or without the marker; 124 when QEMU hit --timeout.
# Prints "run-guest: qemu-exit=N qemu-wall=Ss done-at=Ss" on stderr (from QEMU start;
# done-at is when the marker appeared in the log, polled every 0.1 s).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sock='' queues=4 server=0 test=report guest=${VHOSTMQ_VM_GUEST:-/var/tmp/vhostmq-vm-guest}
log='' tmo=180 smp=4 mem=512M append='' hostmtu='' mac=52:54:00:00:00:01
nicopts='' monitor='' incoming='' maxmem=''
while [ $# -gt 0 ]; do
	case $1 in
	--socket) sock=$2; shift ;;
	--queues) queues=$2; shift ;;
	--server) server=1 ;;
	--test) test=$2; shift ;;
	--guest) guest=$2; shift ;;
	--log) log=$2; shift ;;
	--timeout) tmo=$2; shift ;;
	--smp) smp=$2; shift ;;
	--mem) mem=$2; shift ;;
	--append) append=$2; shift ;;
	--host-mtu) hostmtu=$2; shift ;;
	--mac) mac=$2; shift ;;
	--nic-opts) nicopts=$2; shift ;;
	--monitor) monitor=$2; shift ;;
	--incoming) incoming=$2; shift ;;
	--maxmem) maxmem=$2; shift ;;
	-h|--help) sed -n '3,38p' "$0"; exit 0 ;;
	*) echo "run-guest: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ -n "$sock" ] || { echo "run-guest: --socket is required" >&2; exit 2; }

"$here/build-guest.sh" "$guest" || exit 1

tmplog=''
if [ -z "$log" ]; then
	tmplog=$(mktemp /tmp/vhostmq-vm-serial.XXXXXX)
	log=$tmplog
fi
: >"$log"

# shellcheck disable=SC2054 # commas are QEMU's
accel=(-accel tcg,thread=multi -cpu max)
# KVM only on request: on the project's machines (nested) `-cpu host` aborts
# ("failed to set MSR 0x10a") and `-cpu host,-arch-capabilities` hangs in
# the firmware.
if [ "${VHOSTMQ_VM_KVM:-0}" = 1 ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	accel=(-accel kvm -cpu host)
fi
chr="socket,id=c0,path=$sock"
mon=none
[ -n "$monitor" ] && mon="unix:$monitor,server=on,wait=off"
[ "$server" = 1 ] && chr+=",server=on,wait=off"

# shellcheck disable=SC2054
qemu=(qemu-system-x86_64 -machine q35 "${accel[@]}" -smp "$smp" -m "$mem${maxmem:+,slots=16,maxmem=$maxmem}"
	-nodefaults -nographic -no-reboot -serial "file:$log"
	-monitor "$mon"
	-object "memory-backend-memfd,id=mem,size=$mem,share=on" -numa node,memdev=mem
	-chardev "$chr"
	-netdev "vhost-user,id=n0,chardev=c0,queues=$queues"
	-device "virtio-net-pci,netdev=n0,mq=on,vectors=0,mac=$mac,romfile=${hostmtu:+,host_mtu=$hostmtu}${nicopts:+,$nicopts}"
	-kernel "$guest/kernel" -initrd "$guest/initramfs.cpio.gz"
	-append "console=ttyS0 panic=-1 loglevel=4 mitigations=off vhostmq.test=$test $append"
	${incoming:+-incoming "$incoming"})

qpid=
cleanup() {
	[ -n "$qpid" ] && kill -KILL "$qpid" 2>/dev/null
	rm -f "$log.qemu" ${tmplog:+"$tmplog"}
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "run-guest: ${qemu[*]}" >&2
t0=$(date +%s%N)
ms() { echo $((($(date +%s%N) - t0) / 1000000)); }
"${qemu[@]}" </dev/null >"$log.qemu" 2>&1 &
qpid=$!
done_at='' rc='' fewer=0 mtuno=0
# Poll: notes the time of the marker, enforces the hard limit by PID.
while kill -0 "$qpid" 2>/dev/null; do
	now=$(ms)
	if [ -z "$done_at" ] && grep -q 'VHOSTMQ-VM: report done' "$log" 2>/dev/null; then
		done_at=$now
	fi
	# QEMU 7.2 retries forever (a line each time) when the backend offers
	# fewer queue pairs than queues=N: give up at once.
	if grep -q 'asking more queues than supported' "$log.qemu" 2>/dev/null; then
		kill -KILL "$qpid" 2>/dev/null
		rc=1 fewer=1
		break
	fi
	# QEMU 7.2 reports a refused NET_SET_MTU and goes on without starting
	# vhost (the guest's link is up, its frames go nowhere): give up at once.
	if grep -q 'MTU not supported by the backend' "$log.qemu" 2>/dev/null; then
		kill -KILL "$qpid" 2>/dev/null
		rc=1 mtuno=1
		break
	fi
	if [ "$now" -gt $((tmo * 1000)) ]; then
		kill -TERM "$qpid" 2>/dev/null; sleep 1; kill -KILL "$qpid" 2>/dev/null
		rc=124
		break
	fi
	sleep 0.1
done
{ wait "$qpid"; } 2>/dev/null   # (no "Segmentation fault" job notice)
qrc=$?
qpid=
wall=$(ms)
if [ -z "$done_at" ] && grep -q 'VHOSTMQ-VM: report done' "$log"; then done_at=$wall; fi

tr -d '\r' <"$log"   # the serial console ends lines with CR LF
if [ -s "$log.qemu" ]; then
	echo "--- qemu stderr (exit $qrc; first 20 of $(wc -l <"$log.qemu") lines) ---"
	head -20 "$log.qemu"
fi
rm -f "$log.qemu"
fmt() { [ -n "$1" ] && printf '%d.%03ds' $(($1 / 1000)) $(($1 % 1000)) || echo none; }
echo "run-guest: qemu-exit=$qrc qemu-wall=$(fmt "$wall") done-at=$(fmt "$done_at")" >&2
[ "$fewer" = 1 ] && echo "run-guest: FAIL: the backend offers fewer queue pairs than queues=$queues (QEMU: asking more queues than supported); stopped QEMU" >&2
[ "$mtuno" = 1 ] && echo "run-guest: FAIL: the backend refused host_mtu=$hostmtu (QEMU: MTU not supported by the backend); stopped QEMU" >&2
if [ -z "$rc" ]; then
	if grep -q 'VHOSTMQ-VM: report done .* rc=0 ' "$log"; then rc=0; else rc=1; fi
fi
exit "$rc"
