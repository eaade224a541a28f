#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/demo.sh - the main job on the built-in defaults: installs what is
# missing, builds, starts vhostmq with config/default.json, attaches DPDK's
# virtio-user frontend (dpdk-testpmd, flowgen: traffic both ways), lets it run
# for a few seconds, and prints vhostmq's per-queue table. Everything it starts
# is stopped and removed on exit, also on failure or Ctrl-C.
# Usage: scripts/demo.sh [SECONDS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

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
	tail -20 "$work/vhostmq.err" "$work/testpmd.out" >&2
	exit 1
fi
