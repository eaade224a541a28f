#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/integration/uplink_1q_tx.sh - guest TX of 4 queue pairs through a port
# with ONE TX queue. DPDK's net_virtio_user inside dpdk-testpmd (flowgen, 4
# queue pairs, 1024 flows) sends into vhostmq
# (--queues 4), whose port is a net_pcap with one rx_pcap (empty) and one
# tx_pcap (OUT.pcap): vhostmq gives it min(4, driver max) = 1 rx / 1 tx
# queue, so every pair's guest TX leaves through the same port TX queue.
# testpmd runs interactive (commands through a FIFO): "start" once the 4 TX
# rings are enabled, "stop" once the port has sent FRAMES (250000, ~20 MB
# of pcap) or after DURATION (5) seconds, whichever comes first (flowgen has
# no frame count of its own: what it sends until "stop" lands counts too).
#
#   --threads 1: one poll thread (vhostmq on the last allowed CPU, busy
#       polling; testpmd's lcores on the first). One thread, one port TX
#       queue: no lock, so every pair's tx_lock_wait must be 0.
#   --threads 2: two poll threads (--cores FIRST,LAST, adaptive polling;
#       pairs 0,2 on the first, 1,3 on the last; testpmd shares the first).
#       Two threads on one port TX queue share it under its lock; tx_lock_wait
#       (sends that found it taken) is reported, not required: whether the
#       threads ever meet depends on the scheduler.
#
# Checks:
#  * vhostmq's log says "port net_pcap: 1 rx / 1 tx queue(s)";
#  * "vhostmqctl --json stats" (read once testpmd is gone, so the counters are
#    final) puts each pair on the cores above and shows tx_packets > 0 on
#    every pair, tx_drop_port == 0;
#  * the frames in OUT.pcap (pcaptool count, after vhostmq exits and net_pcap
#    closed the file) == the sum of the pairs' tx_packets: every frame the
#    port took left through its one TX queue, none lost or duplicated;
#  * testpmd's final per-queue counters: for each queue q
#        testpmd TX-packets(q) - RING <= vhostmq tx_packets(q) <= TX-packets(q)
#    (testpmd counts a frame once it is in the ring; the frames still in the
#    ring when testpmd stops its port are never read by vhostmq);
#  * --threads 1: tx_lock_wait == 0 on every pair; both exit cleanly.
#  * vhostmqctl pmd (since the threads started): every pair took some of
#    its thread's time, and each thread's busy share is its pairs' summed.
#
# Every process is started by this script, pinned, stopped by PID and
# cleaned up (socket, pcaps, /var/run/dpdk prefixes, hugepage files) on every
# exit path; children die with the script (setpriv --pdeathsig); every wait is
# bounded and a watchdog aborts the run at 40 s, so it ends within 60 s.
#
# Usage: uplink_1q_tx.sh [--threads 1|2] [--frames N] [--duration S] VHOSTMQ VHOSTMQCTL PCAPTOOL TESTPMD
# Exit: 0 PASS, 1 FAIL, 2 usage error, 77 skip (no testpmd; with CI=true: 1).
set -euo pipefail

usage() {
	cat <<'EOF'
usage: uplink_1q_tx.sh [options] VHOSTMQ VHOSTMQCTL PCAPTOOL TESTPMD
  --threads 1|2   vhostmq poll threads (default 1: lock-free; 2: shared queue)
  --frames N      stop testpmd once the port sent N frames (default 250000)
  --duration S    ... or after S seconds of traffic (default 5)
EOF
}

threads=1
duration=5
frames_cap=250000
args=()
need() {
	[[ $# -ge 2 && -n $2 ]] || { echo "uplink_1q_tx: $1 needs a value" >&2; exit 2; }
}
while [[ $# -gt 0 ]]; do
	case $1 in
	--threads)  need "$@"; threads=$2; shift 2 ;;
	--duration) need "$@"; duration=$2; shift 2 ;;
	--frames)   need "$@"; frames_cap=$2; shift 2 ;;
	-h|--help)  usage; exit 0 ;;
	-*)         echo "uplink_1q_tx: unknown option $1" >&2; usage >&2; exit 2 ;;
	*)          args+=("$1"); shift ;;
	esac
done
bad() { echo "uplink_1q_tx: $*" >&2; exit 2; }
((${#args[@]} == 4)) || { usage >&2; exit 2; }
vhostmq=${args[0]} ctl=${args[1]} pcaptool=${args[2]} testpmd=${args[3]}
[[ -x $vhostmq ]] || bad "$vhostmq is not executable"
[[ -x $ctl ]] || bad "$ctl is not executable"
[[ -x $pcaptool ]] || bad "$pcaptool is not executable"
[[ $threads == [12] ]] || bad "--threads must be 1 or 2"
[[ $duration =~ ^[1-9]$ ]] || bad "--duration must be 1..9"
[[ $frames_cap =~ ^[1-9][0-9]{0,7}$ ]] || bad "--frames must be 1..99999999"
if ! command -v "$testpmd" >/dev/null 2>&1; then
	if [[ ${CI:-} == true ]]; then
		echo "FAIL: $testpmd not found (Debian package dpdk-dev; CI=true: a skip is a failure)"
		exit 1
	fi
	echo "SKIP: $testpmd not found (Debian package dpdk-dev)"
	exit 77
fi
command -v python3 >/dev/null || { echo "FAIL: python3 not found"; exit 1; }

queues=4
ring=256
allowed=$(awk '/^Cpus_allowed_list/ { print $2 }' /proc/self/status)
fe_cpu=$(tr ',' '\n' <<<"$allowed" | head -1 | sed 's/-.*//')
be_cpu=$(tr ',' '\n' <<<"$allowed" | tail -1 | sed 's/.*-//')
[[ $fe_cpu == "$be_cpu" ]] && echo "# warning: one CPU only; testpmd and vhostmq share it"
if ((threads == 1)); then
	cores=$be_cpu poll=busy
	want_cores="$be_cpu $be_cpu $be_cpu $be_cpu"
else
	cores=$fe_cpu,$be_cpu poll=adaptive
	want_cores="$fe_cpu $be_cpu $fe_cpu $be_cpu"
fi

work=$(mktemp -d /tmp/vhostmq-1qtx.XXXXXX)
sock=$work/vhost.sock
csock=$sock.ctl
tag="vmq$$x$RANDOM"
fe_prefix="${tag}fe"
vm_log=$work/vhostmq.log
fifo=$work/testpmd.in
tp_log=$work/testpmd.log
out=$work/out.pcap
vm_pid="" tp_pid="" wd_pid="" sl_pid="" vm_pid_seen=""
aborted=""
result=""
reasons=()

. "$(dirname "${BASH_SOURCE[0]}")/proc.sh"

cleanup() {
	local rc=$?
	trap - EXIT INT TERM USR1 PIPE
	exec 3>&- 2>/dev/null || true
	[[ -n $sl_pid ]] && { kill "$sl_pid" 2>/dev/null || true; }
	[[ -n $tp_pid ]] && { stop_pid "$tp_pid" INT 3; tp_pid=""; }
	[[ -n $vm_pid ]] && { stop_pid "$vm_pid" TERM 3; vm_pid=""; }
	stop_watchdog
	if [[ -z $result ]]; then
		echo "FAIL uplink_1q_tx: harness aborted (${aborted:-rc $rc}) after $(elapsed)s"
		log_tail testpmd "$tp_log"
		log_tail vhostmq "$vm_log"
		rc=1
	fi
	rm -rf "$work"
	resume_cleanup "$sock"
	dpdk_prefix_cleanup "$fe_prefix"
	[[ -n $vm_pid_seen ]] && dpdk_prefix_cleanup "vhostmq-$vm_pid_seen"
	exit "$rc"
}
trap cleanup EXIT
trap 'aborted="signal"; exit 1' INT TERM
trap 'aborted="SIGPIPE: testpmd stopped reading its commands"; exit 1' PIPE
trap 'aborted="watchdog: still running at 40 s"; exit 1' USR1

# Watchdog: whatever hangs, SIGUSR1 this script at 40 s.
start_watchdog 40

fail() { reasons+=("$*"); }

# net_pcap needs an RX side: an empty pcap gives nothing.
python3 - "$work/empty.pcap" <<'EOF'
import struct, sys
open(sys.argv[1], "wb").write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
EOF
stale_cleanup
dpdk_prefix_cleanup "$fe_prefix"

guard=()
command -v setpriv >/dev/null && guard=(setpriv --pdeathsig KILL --)

# ---------------------------------------------------------------- vhostmq
"${guard[@]}" "$vhostmq" --socket "$sock" --queues "$queues" --cores "$cores" \
	--poll-mode "$poll" --log-level info \
	--port "ethdev:net_pcap0,rx_pcap=$work/empty.pcap,tx_pcap=$out" \
	</dev/null >"$vm_log" 2>&1 &
vm_pid=$!
vm_pid_seen=$vm_pid
ws=0
wait_sockets "$vm_pid" "$sock" "$csock" || ws=$?
case $ws in
1) vm_pid=""; fail "vhostmq exited before creating its sockets (rc $stop_rc)" ;;
2) fail "vhostmq did not create $sock and $csock within 10 s" ;;
esac
((${#reasons[@]} == 0)) && say "vhostmq pid $vm_pid, cores $cores ($poll), listening on $sock"


# ---------------------------------------------------------------- testpmd
n_prompt=0
if ((${#reasons[@]} == 0)); then
	mkfifo "$fifo"
	"${guard[@]}" "$testpmd" --no-huge -m 1024 --no-pci --file-prefix "$fe_prefix" \
		--lcores "0@$fe_cpu,1@$fe_cpu" \
		--vdev "net_virtio_user0,path=$sock,queues=$queues,queue_size=$ring" -- \
		-i --rxq="$queues" --txq="$queues" --rxd="$ring" --txd="$ring" \
		--forward-mode=flowgen <"$fifo" >"$tp_log" 2>&1 &
	tp_pid=$!
	exec 3>"$fifo"
	say "testpmd pid $tp_pid on CPU $fe_cpu (flowgen, interactive)"
	# Ready when the guest has enabled all 4 TX rings.
	deadline=$(($(now_ms) + 10000))
	while :; do
		js=$(ctlj stats) || js=""
		[[ -n $js ]] && [[ $(pairs "$js" tx_enabled 2>/dev/null | grep -c true) == "$queues" ]] && break
		if ! kill -0 "$tp_pid" 2>/dev/null || ! kill -0 "$vm_pid" 2>/dev/null; then
			fail "a peer exited before the 4 TX rings were enabled"
			break
		fi
		if (($(now_ms) >= deadline)); then
			fail "the 4 TX rings were not enabled within 10 s"
			break
		fi
		sleep 0.1
	done
fi

tp_rc=none vm_rc=none tp_alive=0 vm_alive=0
if ((${#reasons[@]} == 0)); then
	say "4 TX rings enabled; traffic until $frames_cap frames or ${duration}s"
	tp start || true
	deadline=$(($(now_ms) + duration * 1000))
	while (($(now_ms) < deadline)); do
		js=$(ctlj stats) || js=""
		n=$(pairs "$js" tx_packets 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
		((n >= frames_cap)) && break
		kill -0 "$tp_pid" 2>/dev/null && kill -0 "$vm_pid" 2>/dev/null || break
		sleep 0.05 >/dev/null 2>&1 &     # a signal's trap runs at once
		sl_pid=$!
		wait "$sl_pid"
		sl_pid=""
	done
	tp stop || true
	say "port sent ${n:-?} frames; testpmd told to stop"
fi

# ---------------------------------------------------------------- stop
# testpmd first (it prints its final counters and stops its rings), then the
# counters (final: no ring left to read), then vhostmq (net_pcap closes OUT).
[[ -n $tp_pid ]] && kill -0 "$tp_pid" 2>/dev/null && tp_alive=1
[[ -n $vm_pid ]] && kill -0 "$vm_pid" 2>/dev/null && vm_alive=1
if [[ -n $tp_pid ]]; then
	if ((tp_alive)) && tp quit; then
		exec 3>&-
		wait_gone "$tp_pid" 5 || true
	fi
	exec 3>&- 2>/dev/null || true
	stop_pid "$tp_pid" INT 3
	tp_pid=""
	tp_rc=$stop_rc
fi
stats="" pmd=""
if [[ -n $vm_pid ]] && ((vm_alive)); then
	# Detached once the frontend is gone: nothing moves any more.
	deadline=$(($(now_ms) + 5000))
	until grep -q 'frontend detached' "$vm_log" 2>/dev/null || (($(now_ms) >= deadline)); do
		sleep 0.05
	done
	rc=0
	stats=$(ctlj stats) || rc=$?
	((rc == 0)) || { fail "vhostmqctl stats: exit $rc: $stats"; stats=""; }
	rc=0
	pmd=$(ctlj pmd) || rc=$?
	((rc == 0)) || { fail "vhostmqctl pmd: exit $rc: $pmd"; pmd=""; }
fi
if [[ -n $vm_pid ]]; then
	stop_pid "$vm_pid" TERM 5
	vm_pid=""
	vm_rc=$stop_rc
fi
say "testpmd exit $tp_rc, vhostmq exit $vm_rc"

# ---------------------------------------------------------------- check
[[ $vm_rc == none ]] || ((vm_alive)) || fail "vhostmq died during the run (exit $vm_rc)"
[[ $vm_rc == 0 || $vm_rc == none ]] || fail "vhostmq exit status $vm_rc after SIGTERM (expected 0)"
grep -q Sanitizer "$vm_log" 2>/dev/null && fail "vhostmq: sanitizer report in its log"
[[ $tp_rc == none ]] || ((tp_alive)) || fail "testpmd died during the run (exit $tp_rc)"
[[ $tp_rc == 0 || $tp_rc == none ]] || fail "testpmd did not exit cleanly on quit ($tp_rc)"

shape=$(grep -o 'port net_pcap: [0-9]* rx / [0-9]* tx queue(s)' "$vm_log" 2>/dev/null | head -1) || true
[[ $shape == *": 1 rx / 1 tx queue(s)" ]] ||
	fail "vhostmq's log says '${shape:-no port line}', not '1 rx / 1 tx queue(s)'"

# testpmd's final "Forward Stats for RX Port= 0/Queue= q -> TX Port= 0/Queue= q".
read -r -a ttx < <(awk '
	/Forward Stats for RX Port= *0\/Queue=/ {
		q = $0; sub(/.*Queue= */, "", q); sub(/[^0-9].*/, "", q); getline
		if ($3 == "TX-packets:") tx[q] = $4
	}
	END { printf "%s %s %s %s\n", tx[0] == "" ? "x" : tx[0], tx[1] == "" ? "x" : tx[1],
	                              tx[2] == "" ? "x" : tx[2], tx[3] == "" ? "x" : tx[3] }' \
	"$tp_log" 2>/dev/null) || true

counts=""
sum=0
if [[ -n $stats ]]; then
	mapfile -t rows < <(pairs "$stats" qp core tx_packets tx_drop_port tx_lock_wait)
	((${#rows[@]} == queues)) || fail "vhostmqctl stats shows ${#rows[@]} queue pairs, not $queues"
	got_cores="" waits=() txs=() drops=0
	for r in "${rows[@]}"; do
		read -r q c n d w <<<"$r"
		got_cores+="${got_cores:+ }$c"
		txs+=("$n") waits+=("$w")
		sum=$((sum + n)) drops=$((drops + d))
		((n > 0)) || fail "pair $q: tx_packets 0 (nothing of its guest TX left)"
		((threads == 2 || w == 0)) ||
			fail "pair $q: tx_lock_wait $w with one poll thread (the port TX queue is not shared)"
		t=${ttx[q]:-x}
		if [[ ! $t =~ ^[0-9]+$ ]]; then
			fail "testpmd printed no TX-packets for queue $q"
		elif ((n > t || n < t - ring)); then
			fail "pair $q: vhostmq tx_packets $n outside [testpmd TX-packets $t - $ring, $t]"
		fi
	done
	[[ $got_cores == "$want_cores" ]] || fail "pairs on cores '$got_cores', not '$want_cores'"
	((drops == 0)) || fail "tx_drop_port $drops: the port refused frames"
	counts="tx_packets=$(IFS=/; echo "${txs[*]}") sum=$sum testpmd=$(IFS=/; echo "${ttx[*]}")"
	counts+=" tx_lock_wait=$(IFS=/; echo "${waits[*]}") cores=${got_cores// /,}"
elif ((${#reasons[@]} == 0)); then
	fail "no counters from vhostmqctl"
fi

# vhostmqctl pmd since the threads started: every pair's visits took some of
# its thread's time, and a thread's busy share is its pairs' (nothing moves
# after the detach, so the two are read alike).
if [[ -n $pmd ]]; then
	pmd_line=$(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
bad, out = [], []
for t in r["threads"]:
    s = sum(p["busy_pct"] for p in t["pairs"])
    out.append("core %d %.1f%% (pairs %s)" % (t["core"], t["busy_pct"],
               "/".join("%.1f" % p["busy_pct"] for p in t["pairs"])))
    if not 0 < t["busy_pct"] <= 100 or abs(s - t["busy_pct"]) > 0.1:
        bad.append("core %d busy %.2f%%, its pairs %.2f%%" % (t["core"], t["busy_pct"], s))
    bad += ["%s qp %d busy 0%%" % (p["device"], p["qp"]) for p in t["pairs"] if p["busy_pct"] <= 0]
print("; ".join(bad) if bad else "ok " + ", ".join(out))' "$pmd" 2>&1) || true
	[[ $pmd_line == ok* ]] || fail "vhostmqctl pmd: $pmd_line"
	say "pmd: ${pmd_line#ok }"
fi

frames=none
if [[ -f $out ]]; then
	frames=$("$pcaptool" count "$out" 2>&1) || { fail "pcaptool count $out: $frames"; frames=none; }
	if [[ $frames =~ ^[0-9]+$ && -n $stats ]]; then
		((frames == sum)) ||
			fail "OUT.pcap holds $frames frames, the pairs' tx_packets sum to $sum ($((frames - sum)))"
	fi
	counts+=" out.pcap=$frames ($(($(stat -c %s "$out") / 1048576)) MiB)"
else
	fail "net_pcap wrote no $out"
fi

label="threads=$threads ($poll) queues=$queues port=net_pcap 1q"
if ((${#reasons[@]} > 0)); then
	result=FAIL
	msg=$(printf '%s; ' "${reasons[@]}")
	echo "FAIL uplink_1q_tx $label: ${msg%; } [${counts:-no counts}] ($(elapsed)s)"
	log_tail testpmd "$tp_log"
	log_tail vhostmq "$vm_log"
	exit 1
fi
result=PASS
echo "PASS uplink_1q_tx $label: $counts; $shape ($(elapsed)s)"
