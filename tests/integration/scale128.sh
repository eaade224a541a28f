#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/integration/scale128.sh - the largest device on the built-in
# defaults: vhostmq --queues 128 with nothing else (loopback port, automatic
# mbuf pool, automatic EAL memory).
#  * it is ready (its control socket answers) within START_MS (2000) ms of
#    being started, and its resident memory (VmRSS) stays under RSS_MIB (512);
#  * `vhostmqctl queues` lists the 128 pairs, each reading its own loopback
#    RX queue and sending on its own TX queue;
#  * then DPDK's virtio-user (dpdk-testpmd) with 8 queue pairs, the most it
#    takes in DPDK 22.11, sends frames through it on every queue and gets
#    each back byte for byte (testpmd_exchange.sh with --backend-cmd): the
#    other 120 pairs stay disabled.
# Every process is stopped by PID; the run is bounded (< 90 s).
# Usage: scale128.sh VHOSTMQ VHOSTMQCTL PCAPTOOL TESTPMD
set -euo pipefail

[[ $# -eq 4 ]] || { echo "usage: scale128.sh VHOSTMQ VHOSTMQCTL PCAPTOOL TESTPMD" >&2; exit 2; }
vhostmq=$(realpath "$1")
ctl=$(realpath "$2")
pcaptool=$3
testpmd=$4
here=$(dirname "${BASH_SOURCE[0]}")
START_MS=2000
RSS_MIB=512

. "$here/proc.sh"
work=$(mktemp -d /tmp/vmq-scale.XXXXXX)
pid=""
result=""
keep_workdir=0
workdir=$work
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[[ -n $pid ]] && stop_pid "$pid" TERM 5
	rm -f "$work/vm.sock"
	resume_cleanup "$work/vm.sock"
	finish_run "$rc" "queues=128"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
	result=FAIL
	echo "FAIL: $*"
	[[ -f $work/vhostmq.log ]] && log_tail vhostmq "$work/vhostmq.log"
	exit 1
}
stale_cleanup

# 1. start on the defaults, alone
cpu=$(($(nproc) - 1))
t0=$(now_ms)
setpriv --pdeathsig KILL -- "$vhostmq" --socket "$work/vm.sock" --queues 128 --cores "$cpu" \
	</dev/null >"$work/vhostmq.log" 2>&1 &
pid=$!
until "$ctl" -s "$work/vm.sock.ctl" queues >"$work/queues.txt" 2>/dev/null; do
	kill -0 "$pid" 2>/dev/null || fail "vhostmq exited at start"
	(($(now_ms) - t0 < 10000)) || fail "no control socket within 10 s"
	sleep 0.02
done
ready_ms=$(($(now_ms) - t0))
rss_kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
say "ready in $ready_ms ms, VmRSS $((rss_kib / 1024)) MiB"
((ready_ms <= START_MS)) || fail "ready after $ready_ms ms (want <= $START_MS)"
((rss_kib < RSS_MIB * 1024)) || fail "VmRSS $((rss_kib / 1024)) MiB (want < $RSS_MIB)"
n=$(grep -cE '^ +([0-9]+) +[0-9]+  stopped +stopped +\1 +\1$' "$work/queues.txt" || true)
((n == 128)) || fail "vhostmqctl queues: $n of 128 pairs on their own port queues: $(head -5 "$work/queues.txt")"
grep -q '^port queues: 128 rx, 128 tx$' "$work/queues.txt" || fail "port queues line: $(sed -n 2p "$work/queues.txt")"
stop_pid "$pid" TERM 5
pid=""

# 2. eight pairs of traffic through the 128-pair device
"$here/testpmd_exchange.sh" --backend-cmd \
	"$vhostmq --socket {sock} --queues 128 --cores {cpu} --poll-mode adaptive --mtu 9000 --log-level info" \
	--queues 8 --sizes 64,1500 --count 1600 --pcaptool "$pcaptool" --testpmd "$testpmd" \
	--workdir "$work/exchange" || fail "8 queue pairs of traffic through 128 (testpmd_exchange.sh)"
result=PASS
echo "PASS queues=128: ready in $ready_ms ms, VmRSS $((rss_kib / 1024)) MiB, 8 of 128 pairs carried traffic"
