#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/integration/rss_spread.sh - RSS spread over a real frontend: vhostmq
# with 4 queue pairs, --steering rss and a net_pcap port whose 4 RX queues
# each replay (infinite_rx=1) the same 2000 64-byte UDP frames of 1000 flows
# (10.0.0.1:1024+k -> 10.0.0.2:9), in front of DPDK's net_virtio_user inside
# dpdk-testpmd (rxonly, 4 RX queues) for DURATION (4) seconds.
#
# With --port-queues 1 the port is ONE net_pcap RX queue replaying 1001
# frames of 1001 flows (1001 is coprime with the burst of 32: a count that
# shares a factor with it aliases, an always-full inbox then samples the same
# few flows every lap), which vhostmq must spread over the 4 guest RX queues
# by RSS (the port gets min(queue pairs, driver max) = 1 queue by itself).
#
# Checks:
#  * while traffic runs, "vhostmqctl --json rss show" has "enabled" [0,1,2,3]
#    and an effective "table" naming each of the 4 queues; "vhostmqctl rss
#    hash udp 10.0.0.1 10.0.0.2 1024 9" names a queue 0..3, the one the table
#    has at the entry it names;
#  * vhostmq's per-queue table (printed on stdout when SIGTERM stops it):
#    every RX queue 0..3 got > 0 frames and each is within TOLERANCE (20) %
#    of the mean of the four, and with --max-ratio R the largest is at most
#    R times the smallest; vhostmq exits 0 with no sanitizer report;
#  * vhostmq's log says the port got "P rx / P tx queue(s)" (P: --port-queues);
#  * testpmd's own final counters, exact accounting rather than "> 0": port 0
#    RX-packets > 0 and, per queue and in total,
#        vhostmq rx_packets - 2 x 256 <= testpmd RX-packets <= vhostmq rx_packets
#    vhostmq counts a frame once it is in the guest's ring (frames waiting in
#    its inboxes are not counted, so they need no slack); testpmd misses at
#    most two rings (queue_size 256) a queue: the frames in the ring when
#    testpmd stops reading, and those vhostmq delivered before the virtio PMD's
#    dev_start flushed the used ring (virtqueue_rxvq_flush: dropped,
#    uncounted). testpmd runs with --no-flush-rx, so it drops nothing else.
#    Measured here: 256..352 a queue (queue 0 gets the pre-flush frames).
#
# Every process is started by this script, pinned (testpmd's two lcores on
# the first allowed CPU, vhostmq's poll thread on the last), stopped by PID
# and cleaned up (sockets, pcap, config, /var/run/dpdk/vhostmq-rss-<pid>) on
# every exit path; children die with the script (setpriv --pdeathsig); each
# wait is bounded (sockets 10 s, rings enabled 10 s, vhostmqctl 5 s a call,
# SIGINT/SIGTERM then SIGKILL after 3 s) and a watchdog aborts the run at 40 s
# (the abort waits at most for one 5 s step, cleanup for at most 10 s), so it
# ends within 60 s even when a peer hangs.
#
# Negative control: --weights 1,0,0,0 runs vhostmq with a config whose
# rss_weights send every frame to queue 0; the run must FAIL.
#
# Usage: rss_spread.sh [options] VHOSTMQ VHOSTMQCTL PCAPTOOL TESTPMD
# Exit: 0 PASS, 1 FAIL, 2 usage error, 77 skip (no testpmd; with CI=true: 1).
set -euo pipefail

usage() {
	cat <<'EOF'
usage: rss_spread.sh [options] VHOSTMQ VHOSTMQCTL PCAPTOOL TESTPMD
  --weights W0,W1,..  run vhostmq with a config holding "rss_weights": [W..]
                      (negative control: 1,0,0,0 must FAIL)
  --duration S        seconds of traffic (default 4)
  --tolerance PCT     allowed deviation of a queue from the mean (default 20)
  --port-queues 1|4   net_pcap RX queues of vhostmq's port (default 4; 1: one
                      rx_pcap of 1001 flows spread by RSS over 4 guest queues)
  --max-ratio R       the busiest RX queue at most R times the idlest (e.g. 1.3)
EOF
}

weights=""
duration=4
tolerance=20
port_queues=4
max_ratio=""
args=()
need() {
	[[ $# -ge 2 && -n $2 ]] || { echo "rss_spread: $1 needs a value" >&2; exit 2; }
}
while [[ $# -gt 0 ]]; do
	case $1 in
	--weights)   need "$@"; weights=$2; shift 2 ;;
	--duration)  need "$@"; duration=$2; shift 2 ;;
	--tolerance) need "$@"; tolerance=$2; shift 2 ;;
	--port-queues) need "$@"; port_queues=$2; shift 2 ;;
	--max-ratio) need "$@"; max_ratio=$2; shift 2 ;;
	-h|--help)   usage; exit 0 ;;
	-*)          echo "rss_spread: unknown option $1" >&2; usage >&2; exit 2 ;;
	*)           args+=("$1"); shift ;;
	esac
done
bad() { echo "rss_spread: $*" >&2; exit 2; }
((${#args[@]} == 4)) || { usage >&2; exit 2; }
vhostmq=${args[0]} ctl=${args[1]} pcaptool=${args[2]} testpmd=${args[3]}
[[ -x $vhostmq ]] || bad "$vhostmq is not executable"
[[ -x $ctl ]] || bad "$ctl is not executable"
[[ -x $pcaptool ]] || bad "$pcaptool is not executable"
[[ -z $weights || $weights =~ ^[0-9]+(,[0-9]+){0,3}$ ]] ||
	bad "--weights must be 1..4 comma separated integers"
[[ $duration =~ ^[1-9][0-9]?$ && $duration -le 20 ]] || bad "--duration must be 1..20"
[[ $tolerance =~ ^[0-9]+$ ]] || bad "--tolerance must be a percentage"
[[ $port_queues == [14] ]] || bad "--port-queues must be 1 or 4"
[[ -z $max_ratio || $max_ratio =~ ^[1-9][0-9]*(\.[0-9]+)?$ ]] ||
	bad "--max-ratio must be a number >= 1"
if ! command -v "$testpmd" >/dev/null 2>&1; then
	if [[ ${CI:-} == true ]]; then
		echo "FAIL: $testpmd not found (Debian package dpdk-dev; CI=true: a skip is a failure)"
		exit 1
	fi
	echo "SKIP: $testpmd not found (Debian package dpdk-dev)"
	exit 77
fi

queues=4
ring=256                    # virtio-user queue_size: frames a queue can hold
slack=$((2 * ring))         # frames a queue may deliver that testpmd never counts
allowed=$(awk '/^Cpus_allowed_list/ { print $2 }' /proc/self/status)
fe_cpu=$(tr ',' '\n' <<<"$allowed" | head -1 | sed 's/-.*//')
be_cpu=$(tr ',' '\n' <<<"$allowed" | tail -1 | sed 's/.*-//')
[[ $fe_cpu == "$be_cpu" ]] && echo "# warning: one CPU only; testpmd and vhostmq share it"

work=$(mktemp -d /tmp/vhostmq-rss.XXXXXX)
sock=$work/vhost.sock
csock=$sock.ctl
pcap=$work/in.pcap
prefix=vhostmq-rss-$$
vm_out=$work/vhostmq.out    # stdout: the per-queue table
vm_log=$work/vhostmq.log    # stderr: log
tp_log=$work/testpmd.log
vm_pid="" tp_pid="" wd_pid="" sl_pid=""
aborted=""
result=""
reasons=()

. "$(dirname "${BASH_SOURCE[0]}")/proc.sh"

# DPDK runtime dirs: this run's testpmd prefix, those of earlier runs whose
# script PID is gone, and vhostmq's own (vhostmq-<its pid>) if it was killed.
dpdk_cleanup() {
	local d pid
	for d in /var/run/dpdk/vhostmq-rss-*; do
		[[ -d $d ]] || continue
		pid=${d##*-}
		[[ $pid =~ ^[0-9]+$ ]] || continue
		if [[ $pid == "$$" ]] || ! kill -0 "$pid" 2>/dev/null; then
			rm -rf "$d"
		fi
	done
	rm -f /dev/hugepages/"$prefix"* 2>/dev/null || true
	[[ -n ${vm_pid_seen-} ]] && rm -rf "/var/run/dpdk/vhostmq-$vm_pid_seen"
	return 0
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM USR1
	[[ -n $sl_pid ]] && { kill "$sl_pid" 2>/dev/null || true; }
	[[ -n $tp_pid ]] && { stop_pid "$tp_pid" INT 3; tp_pid=""; }
	[[ -n $vm_pid ]] && { stop_pid "$vm_pid" TERM 3; vm_pid=""; }
	stop_watchdog
	if [[ -z $result ]]; then
		echo "FAIL rss_spread: harness aborted (${aborted:-rc $rc}) after $(elapsed)s"
		log_tail testpmd "$tp_log"
		log_tail vhostmq "$vm_log"
		rc=1
	fi
	rm -rf "$work"
	dpdk_cleanup
	exit "$rc"
}
trap cleanup EXIT
trap 'aborted="signal"; exit 1' INT TERM
trap 'aborted="watchdog: still running at 40 s"; exit 1' USR1

# Watchdog: whatever hangs, SIGUSR1 this script at 40 s.
start_watchdog 40

fail() { reasons+=("$*"); }

# ---------------------------------------------------------------- input
if ((port_queues == 1)); then
	"$pcaptool" gen "$pcap" --count 1001 --sizes 64 --flows 1001 >/dev/null
else
	"$pcaptool" gen "$pcap" --count 2000 --sizes 64 --flows 1000 >/dev/null
fi
port="ethdev:net_pcap0"
for ((q = 0; q < port_queues; q++)); do
	port+=",rx_pcap=$pcap,tx_pcap=/dev/null"
done
port+=",infinite_rx=1"
cfg_args=()
if [[ -n $weights ]]; then
	cat >"$work/vhostmq.json" <<EOF
{ "devices": [ { "socket": "$sock", "queue_pairs": $queues,
                 "rss_weights": [$weights] } ] }
EOF
	cfg_args=(--config "$work/vhostmq.json")
fi
dpdk_cleanup

guard=()
command -v setpriv >/dev/null && guard=(setpriv --pdeathsig KILL --)

# ---------------------------------------------------------------- vhostmq
"${guard[@]}" "$vhostmq" "${cfg_args[@]}" --socket "$sock" --queues "$queues" \
	--cores "$be_cpu" --steering rss --port "$port" --log-level info \
	</dev/null >"$vm_out" 2>"$vm_log" &
vm_pid=$!
vm_pid_seen=$vm_pid
ws=0
wait_sockets "$vm_pid" "$sock" "$csock" || ws=$?
case $ws in
1) vm_pid=""; fail "vhostmq exited before creating its sockets (rc $stop_rc)" ;;
2) fail "vhostmq did not create $sock and $csock within 10 s" ;;
esac
((${#reasons[@]} == 0)) && say "vhostmq pid $vm_pid on CPU $be_cpu listening on $sock"

# ---------------------------------------------------------------- testpmd
# why RC OUTPUT: a failed vhostmqctl call in words.
why() {
	if (($1 == 124)); then
		echo "no reply within 5 s"
	else
		echo "exit $1: ${2:-no output}"
	fi
}
if ((${#reasons[@]} == 0)); then
	"${guard[@]}" "$testpmd" --no-huge -m 1024 --no-pci --file-prefix "$prefix" \
		--lcores "0@$fe_cpu,1@$fe_cpu" \
		--vdev "net_virtio_user0,path=$sock,queues=$queues,queue_size=$ring" -- \
		--rxq="$queues" --txq="$queues" --forward-mode=rxonly --auto-start \
		--stats-period 1 --no-flush-rx </dev/null >"$tp_log" 2>&1 &
	tp_pid=$!
	say "testpmd pid $tp_pid on CPU $fe_cpu"
	# Ready when the guest has enabled all 4 RX rings.
	deadline=$(($(now_ms) + 10000))
	until [[ $(ctlj rss show || true) == *'"n_enabled":4,'* ]]; do
		if ! kill -0 "$tp_pid" 2>/dev/null || ! kill -0 "$vm_pid" 2>/dev/null; then
			fail "a peer exited before the 4 RX rings were enabled"
			break
		fi
		if (($(now_ms) >= deadline)); then
			fail "the 4 RX rings were not enabled within 10 s"
			break
		fi
		sleep 0.1
	done
fi

if ((${#reasons[@]} == 0)); then
	say "4 RX rings enabled; traffic for ${duration}s"
	sleep "$duration" >/dev/null 2>&1 &     # a signal's trap runs at once
	sl_pid=$!
	wait "$sl_pid"
	sl_pid=""

	# The control socket while traffic runs.
	hq=none enabled="" tab=()
	rc=0
	show=$(ctlj rss show) || rc=$?
	if ((rc != 0)); then
		fail "vhostmqctl rss show: $(why "$rc" "$show")"
	else
		enabled=$(sed -n 's/.*"enabled":\[\([0-9,]*\)\].*/\1/p' <<<"$show")
		table=$(sed -n 's/.*"table":\[\([0-9,]*\)\].*/\1/p' <<<"$show")
		[[ $enabled == 0,1,2,3 ]] || fail "rss show: enabled is [$enabled], not [0,1,2,3]"
		IFS=, read -r -a tab <<<"$table"
		named=$(tr ',' '\n' <<<"$table" | sort -un | paste -sd ' ')
		[[ $named == "0 1 2 3" ]] ||
			fail "rss show: table (${#tab[@]} entries) names queues ${named:-none}, not 0 1 2 3"
	fi
	rc=0
	hash=$(timeout 5 "$ctl" -s "$csock" rss hash udp 10.0.0.1 10.0.0.2 1024 9 2>&1) || rc=$?
	if ((rc != 0)); then
		fail "vhostmqctl rss hash: $(why "$rc" "$hash")"
	elif [[ $hash =~ table\ entry\ ([0-9]+)\ +queue\ ([0-9]+) ]]; then
		entry=${BASH_REMATCH[1]} hq=${BASH_REMATCH[2]}
		((hq < queues)) || fail "rss hash: queue $hq is not 0..3 ($hash)"
		[[ ${tab[entry]-} == "$hq" ]] ||
			fail "rss hash: queue $hq, but the table has ${tab[entry]-nothing} at entry $entry"
	else
		fail "rss hash printed no queue 0..3: $hash"
	fi
	say "rss show: enabled [${enabled-}], table of ${#tab[@]} entries; rss hash: $hash"
fi

# ---------------------------------------------------------------- stop
tp_rc=none vm_rc=none
tp_alive=0 vm_alive=0
[[ -n $tp_pid ]] && kill -0 "$tp_pid" 2>/dev/null && tp_alive=1
[[ -n $vm_pid ]] && kill -0 "$vm_pid" 2>/dev/null && vm_alive=1
if [[ -n $tp_pid ]]; then
	stop_pid "$tp_pid" INT 3
	tp_pid=""
	tp_rc=$stop_rc
fi
if [[ -n $vm_pid ]]; then
	stop_pid "$vm_pid" TERM 3
	vm_pid=""
	vm_rc=$stop_rc
fi
say "testpmd exit $tp_rc, vhostmq exit $vm_rc"

# ---------------------------------------------------------------- check
# vhostmq's table: columns found by name in its header line.
mapfile -t rows < <(awk '
	$1 == "qp" && $2 == "core" {
		for (i = 1; i <= NF; i++) col[$i] = i
		hdr = 1; next
	}
	hdr && $1 ~ /^[0-9]+$/ {
		print $1, $(col["rx_packets"]), $(col["rx_Mpps"]), $(col["rx_drops"])
		next
	}
	{ hdr = 0 }' "$vm_out" 2>/dev/null)
vrx=() vmpps=() vdrops=()
for r in "${rows[@]}"; do
	read -r q n m d <<<"$r"
	vrx[q]=$n vmpps[q]=$m vdrops[q]=$d
done

# testpmd's final "Forward Stats for RX Port= 0/Queue= q" (testpmd leaves out
# a queue that received nothing: 0) and its port 0 totals.
read -r -a trx < <(awk '
	/Forward Stats for RX Port= *0\/Queue=/ {
		q = $0; sub(/.*Queue= */, "", q); sub(/[^0-9].*/, "", q); getline
		if ($1 == "RX-packets:") rxq[q] = $2
	}
	/Forward statistics for port 0/ { blk = 1; next }
	blk && /RX-packets:/ { port = $2; blk = 0 }
	END {
		printf "%s %d %d %d %d\n", port == "" ? "none" : port,
		       rxq[0], rxq[1], rxq[2], rxq[3]
	}' "$tp_log" 2>/dev/null) || true
tp_total=${trx[0]:-}

[[ $vm_rc == none ]] || ((vm_alive)) || fail "vhostmq died during the run (exit $vm_rc)"
[[ $vm_rc == 0 || $vm_rc == none ]] || fail "vhostmq exit status $vm_rc after SIGTERM (expected 0)"
grep -q Sanitizer "$vm_log" 2>/dev/null && fail "vhostmq: sanitizer report in its log"
[[ $tp_rc == none ]] || ((tp_alive)) || fail "testpmd died during the run (exit $tp_rc)"
[[ $tp_rc == 0 || $tp_rc == none ]] || fail "testpmd did not exit cleanly on SIGINT ($tp_rc)"

# The port's queue count vhostmq chose (automatic: min(pairs, driver max)).
shape=$(grep -o 'port net_pcap: [0-9]* rx / [0-9]* tx queue(s)' "$vm_log" 2>/dev/null | head -1) || true
[[ $shape == *": $port_queues rx / $port_queues tx queue(s)" ]] ||
	fail "vhostmq's log says '${shape:-no port line}', not '$port_queues rx / $port_queues tx queue(s)'"

counts=""
ratio=none
if ((${#vrx[@]} != queues)); then
	fail "vhostmq printed ${#vrx[@]} queue rows, not $queues"
else
	sum=0
	for ((q = 0; q < queues; q++)); do sum=$((sum + vrx[q])); done
	mean=$((sum / queues))
	for ((q = 0; q < queues; q++)); do
		n=${vrx[q]}
		counts+="q$q=$n "
		dev=$((n > mean ? n - mean : mean - n))
		if ((n == 0)); then
			fail "RX queue $q received no frame"
		elif ((mean == 0 || dev * 100 > mean * tolerance)); then
			fail "RX queue $q received $n, $((dev * 100 / (mean > 0 ? mean : 1)))% off the mean $mean (> $tolerance%)"
		fi
	done
	counts+="sum=$sum"
	min=${vrx[0]} max=${vrx[0]}
	for ((q = 1; q < queues; q++)); do
		((vrx[q] < min)) && min=${vrx[q]}
		((vrx[q] > max)) && max=${vrx[q]}
	done
	if ((min > 0)); then
		ratio=$(awk -v a="$max" -v b="$min" 'BEGIN { printf "%.3f", a / b }')
		if [[ -n $max_ratio ]] && awk -v r="$ratio" -v m="$max_ratio" 'BEGIN { exit !(r > m) }'; then
			fail "RX queues: max/min = $max/$min = $ratio > $max_ratio"
		fi
	fi
	counts+=" max/min=$ratio"
	if [[ ! $tp_total =~ ^[0-9]+$ ]]; then
		fail "testpmd printed no final statistics for port 0"
	else
		((tp_total > 0)) || fail "testpmd RX-packets is 0"
		((tp_total <= sum && tp_total >= sum - queues * slack)) ||
			fail "testpmd RX-packets $tp_total outside [vhostmq sum $sum - $((queues * slack)), $sum]"
		gaps=()
		for ((q = 0; q < queues; q++)); do
			t=${trx[q + 1]:-x}
			if [[ ! $t =~ ^[0-9]+$ ]] || ((t > vrx[q] || t < vrx[q] - slack)); then
				fail "queue $q: testpmd RX-packets $t outside [vhostmq ${vrx[q]} - $slack, ${vrx[q]}]"
			fi
			[[ $t =~ ^[0-9]+$ ]] && gaps+=($((vrx[q] - t)))
		done
		counts+=" testpmd=$tp_total (uncounted by testpmd: $(IFS=/; echo "${gaps[*]}"))"
	fi
	counts+=" rx_Mpps=$(IFS=/; echo "${vmpps[*]}") rx_drops=$(IFS=/; echo "${vdrops[*]}")"
fi

label="queues=$queues port_queues=$port_queues steering=rss${weights:+ weights=$weights}"
if ((${#reasons[@]} > 0)); then
	result=FAIL
	msg=$(printf '%s; ' "${reasons[@]}")
	echo "FAIL rss_spread $label: ${msg%; } [${counts:-no counts}] ($(elapsed)s)"
	log_tail testpmd "$tp_log"
	log_tail vhostmq "$vm_log"
	[[ -s $vm_out ]] && { echo "---- vhostmq stdout"; cat "$vm_out"; }
	exit 1
fi
result=PASS
echo "PASS rss_spread $label: $counts, within $tolerance% of the mean${max_ratio:+ and max/min <= $max_ratio}; $shape; rss show [$enabled]; hash -> queue $hq ($(elapsed)s)"
