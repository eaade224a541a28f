#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/integration/two_devices.sh - two devices in one vhostmq, their pairs on
# one shared poll thread, a frontend (dpdk-testpmd net_virtio_user) passing
# traffic on the second: both devices serve, and SIGTERM while the frontend
# is attached exits cleanly (0, no sanitizer report: tearing one device down
# must not touch another's freed state).
# Usage: two_devices.sh VHOSTMQ TESTPMD
set -uo pipefail
bin=$1 testpmd=$2
work=$(mktemp -d /tmp/vhostmq-two.XXXXXX)
prefix=vhostmq-two-$$
vpid= tpid=
cleanup() {
	[ -n "$tpid" ] && kill -KILL "$tpid" 2>/dev/null
	[ -n "$vpid" ] && kill -KILL "$vpid" 2>/dev/null
	rm -rf "$work" "/var/run/dpdk/$prefix"
}
trap cleanup EXIT
fail() { echo "FAIL two_devices: $*"; tail -20 "$work/vhostmq.log" "$work/testpmd.log" 2>/dev/null; exit 1; }

core=$(python3 -c "import os;print(max(os.sched_getaffinity(0)))")
low=$(python3 -c "import os;print(min(os.sched_getaffinity(0)))")
cat >"$work/two.json" <<J
{ "devices": [
  { "name": "a", "socket": "$work/a.sock", "cores": [$core] },
  { "name": "b", "socket": "$work/b.sock", "cores": [$core], "queue_pairs": 2 } ] }
J
"$bin" --config "$work/two.json" --stats-interval 0 >"$work/vhostmq.out" 2>"$work/vhostmq.log" &
vpid=$!
for _ in $(seq 100); do [ -S "$work/b.sock" ] && break; sleep 0.1; done
[ -S "$work/a.sock" ] && [ -S "$work/b.sock" ] || fail "vhostmq did not create both sockets"

setpriv --pdeathsig KILL "$testpmd" --lcores "0@$low,1@$low" --no-huge -m 1024 --no-pci \
	--file-prefix "$prefix" --vdev "net_virtio_user0,path=$work/b.sock,queues=2" -- \
	--rxq=2 --txq=2 --forward-mode=io --tx-first --auto-start --stats-period 1 \
	>"$work/testpmd.log" 2>&1 </dev/null &
tpid=$!
sleep 3
grep -q "device b: frontend connected" "$work/vhostmq.log" || fail "testpmd did not attach to b"
kill -TERM "$vpid"
for _ in $(seq 50); do kill -0 "$vpid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$vpid" 2>/dev/null && fail "vhostmq did not exit within 5 s of SIGTERM"
wait "$vpid"
rc=$?
vpid=
[ "$rc" -eq 0 ] || fail "vhostmq exited $rc"
grep -q "ERROR: AddressSanitizer\|runtime error" "$work/vhostmq.log" && fail "sanitizer report"
# device b passed traffic on both pairs; device a had no frontend
awk '/^device b/ { b = 1; next } /^device/ { b = 0 }
     b && NF == 8 && $1 ~ /^[0-9]+$/ { rows++; if ($3 > 0 && $6 > 0) ok++ }
     END { exit !(rows == 2 && ok == 2) }' "$work/vhostmq.out" ||
	fail "device b's table does not show traffic on both pairs: $(cat "$work/vhostmq.out")"
echo "PASS two_devices: clean exit with a frontend attached, traffic on b's 2 pairs"
