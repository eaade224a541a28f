#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/demo.sh - the main job on the built-in defaults: installs what is
# missing, builds, starts vhostmq with config/default.json, attaches DPDK's
# virtio-user frontend (dpdk-testpmd, flowgen: traffic both ways), lets it run
# for a few seconds, and prints vhostmq's per-queue table. Everything it starts
# is stopped and removed on exit, also on failure or Ctrl-C.
# Usage: scripts/demo.sh [SECONDS]   (default 5)
#        scripts/demo.sh --vm [SECONDS]   (default 5)
# --vm: a real Linux guest instead of testpmd. Installs the VM packages too
# (qemu-system-x86, a Debian kernel, busybox-static, ethtool, cpio), starts
# vhostmq on its loopback port with 4 queue pairs (poll thread on the highest
# CPU), boots the guest of tests/vm/ under QEMU (TCG, 4 vCPUs, one virtio-net
# NIC with 4 queue pairs; ~10 s to boot): `ethtool -l`, `ethtool -L combined
# 4`, one pinned ping per vCPU for SECONDS to a fake neighbour the loopback
# reflects; then prints the guest's per-queue counters (ethtool -S) beside
# vhostmq's own per-queue table.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

demo_vm() {
	local secs=${1:-5} high grc=0 _
	[[ "$secs" =~ ^[0-9]+$ ]] && [ "$secs" -ge 1 ] || { echo "usage: $0 --vm [SECONDS]" >&2; exit 2; }
	vhostmq_setup
	vhostmq_install "${VHOSTMQ_VM_PACKAGES[@]}"
	[ -f build/build.ninja ] || meson setup build --buildtype=release >/dev/null
	ninja -C build >/dev/null

	work=$(mktemp -d /tmp/vhostmq-demo.XXXXXX)
	sock=/tmp/vhostmq-demo-$$.sock
	vpid= vdir= gpid=
	trap demo_vm_cleanup EXIT
	trap 'exit 130' INT TERM
	high=$(python3 -c "import os;print(max(os.sched_getaffinity(0)))")

	echo "== vhostmq $(build/backend/vhostmq --version | cut -d' ' -f2): loopback port, 4 queue pairs, poll core $high, socket $sock"
	build/backend/vhostmq --socket "$sock" --queues 4 --port loopback --cores "$high" \
		>"$work/vhostmq.out" 2>"$work/vhostmq.err" &
	vpid=$! vdir=$!
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
	[ -S "$sock" ] || { cat "$work/vhostmq.err"; echo "demo: vhostmq did not start" >&2; exit 1; }

	echo "== Linux guest under QEMU (TCG, 4 vCPUs, virtio-net mq, 4 queue pairs): pings from every vCPU for ${secs}s"
	# in the background, so that Ctrl-C interrupts `wait` and the EXIT trap
	# stops it (by PID; its own EXIT trap kills QEMU)
	tests/vm/run-guest.sh --socket "$sock" --queues 4 --test demo \
		--append "vhostmq.seconds=$secs" --timeout $((secs + 180)) \
		>"$work/guest.log" 2>"$work/run-guest.err" &
	gpid=$!
	wait "$gpid" || grc=$?
	gpid=
	kill -TERM "$vpid" 2>/dev/null || true; wait "$vpid" 2>/dev/null || true; vpid=
	rm -rf "/var/run/dpdk/vhostmq-$vdir"

	echo "== guest: ethtool -l eth0"
	grep -E '^(Channel parameters|Pre-set maximums|Current hardware|(RX|TX|Other|Combined):)' \
		"$work/guest.log" | sed 's/^/   /'
	sed -n 's/^VHOSTMQ-VM: \(combined now\|cpu \)/   \1/p' "$work/guest.log"
	echo "   (no echo replies are expected: the loopback returns the requests themselves, counted on rx)"
	sed -n 's/^run-guest: \(qemu-wall=.*\)/   run-guest: \1/p; s/^run-guest: qemu-exit=[0-9]* /   run-guest: /p' "$work/run-guest.err"
	if [ "$grc" != 0 ] || ! grep -q '^guest queue ' "$work/guest.log"; then
		echo "demo: the guest failed (run-guest rc $grc); its log:" >&2
		tail -n 40 "$work/guest.log" "$work/run-guest.err" >&2
		exit 1
	fi
	echo "== per-queue packets: the guest's ethtool -S beside vhostmq's table"
	echo "   (guest tx = vhostmq tx: guest to port; the loopback returns each frame on its pair's rx)"
	awk 'FNR == NR { if ($1 == "guest" && $2 == "queue") { split($4, t, "="); split($5, r, "=")
			gt[$3] = t[2]; gr[$3] = r[2] }; next }
		/^ +qp +core/ { p = 1; next }
		p && NF == 8 && $1 ~ /^[0-9]+$/ { vt[$1] = $3; vd[$1] = $5; vr[$1] = $6; vrd[$1] = $8; n = $1 + 1 }
		END {
			printf "   %3s  %14s %14s   %14s %14s %9s %9s\n", "qp", "guest tx_q", "guest rx_q",
				"vhostmq tx", "vhostmq rx", "tx_drops", "rx_drops"
			for (i = 0; i < n || (i in gt); i++)
				printf "   %3d  %14s %14s   %14s %14s %9s %9s\n", i, gt[i], gr[i], vt[i], vr[i], vd[i], vrd[i]
		}' "$work/guest.log" "$work/vhostmq.out"
	echo "== vhostmq's own table (stdout at SIGTERM)"
	sed 's/^/   /' "$work/vhostmq.out"
	# Every queue pair must have carried frames both ways, in the guest and in vhostmq.
	if ! awk '/^guest queue / { split($4, t, "="); split($5, r, "="); n++; if (t[2] > 0 && r[2] > 0) ok++ }
	          END { exit !(n == 4 && ok == n) }' "$work/guest.log" ||
	   ! awk 'NF == 8 && $1 ~ /^[0-9]+$/ { rows++; if ($3 > 0 && $6 > 0) ok++ }
	          END { exit !(rows == 4 && ok == rows) }' "$work/vhostmq.out"; then
		echo "demo: not every queue pair carried traffic; vhostmq log:" >&2
		tail -n 20 "$work/vhostmq.err" >&2
		exit 1
	fi
}
demo_vm_cleanup() {
	local _
	set +e
	if [ -n "$gpid" ]; then
		kill -TERM "$gpid" 2>/dev/null
		wait "$gpid" 2>/dev/null
	fi
	if [ -n "$vpid" ]; then
		kill -TERM "$vpid" 2>/dev/null
		for _ in $(seq 30); do kill -0 "$vpid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$vpid" 2>/dev/null
		wait "$vpid" 2>/dev/null
	fi
	[ -n "$vdir" ] && rm -rf "/var/run/dpdk/vhostmq-$vdir"
	rm -rf "$work"
	rm -f "$sock" "$sock.ctl"
	true
}
if [ "${1:-}" = --vm ]; then
	shift
	demo_vm "$@"
	exit 0
fi

secs=${1:-5}
[[ "$secs" =~ ^[0-9]+$ ]] && [ "$secs" -ge 1 ] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
vhostmq_setup
[ -f build/build.ninja ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null

work=$(mktemp -d /tmp/vhostmq-demo.XXXXXX)
sock=$(python3 -c 'import json;print(json.load(open("config/default.json"))["devices"][0]["socket"])')
prefix=vhostmq-demo-$$
vpid= tpid=
cleanup() {
	[ -n "$tpid" ] && kill -INT "$tpid" 2>/dev/null && sleep 1 && kill -KILL "$tpid" 2>/dev/null
	[ -n "$vpid" ] && kill -TERM "$vpid" 2>/dev/null && sleep 1 && kill -KILL "$vpid" 2>/dev/null
	rm -rf "$work" "/var/run/dpdk/$prefix"
	rm -f /dev/hugepages/"$prefix"*
	true
}
trap cleanup EXIT

# vhostmq's poll thread takes the highest CPU (built-in default); the
# frontend's lcores go on the lowest, so the two never share a core.
cpus=$(taskset -pc $$ | sed 's/.*: //')
low=$(python3 -c "import os;print(min(os.sched_getaffinity(0)))")

echo "== vhostmq $(build/backend/vhostmq --version | cut -d' ' -f2) on the built-in config (socket $sock, CPUs $cpus)"
build/backend/vhostmq --config config/default.json >"$work/vhostmq.out" 2>"$work/vhostmq.err" &
vpid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { cat "$work/vhostmq.err"; echo "demo: vhostmq did not start" >&2; exit 1; }

mem=(--no-huge -m 1024)
if [ "$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)" -ge 200 ]; then
	mem=(--single-file-segments --huge-dir /dev/hugepages)
fi
echo "== dpdk-testpmd virtio-user (flowgen, 64-byte frames) for ${secs}s"
dpdk-testpmd --lcores "0@$low,1@$low" --file-prefix "$prefix" "${mem[@]}" --no-pci \
	--vdev "net_virtio_user0,path=$sock,queues=1" -- \
	--forward-mode=flowgen --txpkts=64 --auto-start --stats-period 1 \
	>"$work/testpmd.out" 2>&1 </dev/null &
tpid=$!
sleep "$secs"
kill -INT "$tpid"; wait "$tpid" 2>/dev/null || true; tpid=
kill -TERM "$vpid"; wait "$vpid" 2>/dev/null || true; vpid=

echo "== vhostmq per-queue counters (tx: guest to port, rx: port to guest)"
cat "$work/vhostmq.out"
echo "== testpmd's own view of the same port"
grep -E '^\s+(RX|TX)-packets' "$work/testpmd.out" | tail -2 || true
# Every queue row (8 numeric columns) must show frames both ways.
if ! awk 'NF == 8 && $1 ~ /^[0-9]+$/ { rows++; if ($3 > 0 && $6 > 0) ok++ }
          END { exit !(rows > 0 && ok == rows) }' "$work/vhostmq.out"; then
	echo "demo: no traffic passed; logs:" >&2
	tail -n 20 "$work/vhostmq.err" "$work/testpmd.out" >&2
	exit 1
fi
