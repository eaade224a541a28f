#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/integration/af_packet_veth.sh - a kernel port of ONE queue pair, both
# directions: vhostmq --queues 4 with --port
# ethdev:net_af_packet0,iface=VA,qpairs=1 on one end of a veth pair (VA/VB,
# named after this script's PID, IPv6 off so the kernel sends nothing on
# them), DPDK's net_virtio_user inside dpdk-testpmd (4 queue pairs, MAC
# 02:42:00:00:00:01) as the guest, and af_packet_peer.py on a raw AF_PACKET
# socket on VB as the host.
#
#  1. host -> guest: testpmd rxonly; af_packet_peer.py sends whole rounds of
#     FLOWS (4001) distinct UDP flows to the guest's MAC for SECONDS (2).
#     vhostmq's one port RX queue is spread by RSS: every guest RX queue
#     (vhostmq rx_packets per pair) > 0 and busiest/idlest <= 1.3; the pairs'
#     sum <= frames sent (the kernel may drop what arrives while vhostmq's
#     af_packet RX ring is full; the shortfall is printed) and testpmd's
#     per-queue RX-packets within [vhostmq rx_packets - 2 x 256, rx_packets].
#  2. guest -> host: testpmd flowgen until vhostmq's port sent FRAMES
#     (200000) or 3 s; every pair's tx_packets > 0 and the frames from
#     flowgen's source MAC (00:01:02:03:04:00) that reached the socket on VB (received + dropped for a full
#     receive buffer, both counted by the kernel) == the pairs' tx_packets
#     sum. A frame vhostmq counts is one net_af_packet put in its TX ring
#     and kicked; veth hands it to VB at once (no qdisc), so the only loss
#     the kernel can add is VA's tx_dropped / VB's rx_dropped (printed; they
#     are allowed for, and must be 0 here as nothing else is on the pair).
#  * vhostmq's log says "port net_af_packet: 1 rx / 1 tx queue(s)"; both
#    peers exit cleanly.
#
# Needs root (veth, raw sockets). A kernel that refuses veth or AF_PACKET
# FAILs with the command and its error, never skips. Every process is
# started by this script, pinned (testpmd and the Python peer on the first
# allowed CPU, vhostmq on the last), stopped by PID and cleaned up (veth
# pair, sockets, /var/run/dpdk prefixes) on every exit path; each wait is
# bounded and a watchdog aborts the run at 45 s.
#
# Usage: af_packet_veth.sh VHOSTMQ VHOSTMQCTL TESTPMD
# Exit: 0 PASS, 1 FAIL, 2 usage error, 77 skip (no testpmd; with CI=true: 1).
set -euo pipefail

[[ $# -eq 3 ]] || { echo "usage: af_packet_veth.sh VHOSTMQ VHOSTMQCTL TESTPMD" >&2; exit 2; }
vhostmq=$1 ctl=$2 testpmd=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
peer="$here/af_packet_peer.py"
[[ -x $vhostmq ]] || { echo "af_packet_veth: $vhostmq is not executable" >&2; exit 2; }
[[ -x $ctl ]] || { echo "af_packet_veth: $ctl is not executable" >&2; exit 2; }
if ! command -v "$testpmd" >/dev/null 2>&1; then
	if [[ ${CI:-} == true ]]; then
		echo "FAIL: $testpmd not found (Debian package dpdk-dev; CI=true: a skip is a failure)"
		exit 1
	fi
	echo "SKIP: $testpmd not found (Debian package dpdk-dev)"
	exit 77
fi
command -v python3 >/dev/null || { echo "FAIL: python3 not found"; exit 1; }
command -v ip >/dev/null || { echo "FAIL: ip (iproute2) not found"; exit 1; }

queues=4
ring=256
slack=$((2 * ring))
flows=4001
seconds=2
frames_cap=200000
max_ratio=1.3
guest_mac=02:42:00:00:00:01
# testpmd's flowgen writes fixed MACs, not the port's: source 00:01:02:03:04:00
# (DPDK 22.11 app/test-pmd/flowgen.c cfg_ether_src, seen on the wire here).
flowgen_mac=00:01:02:03:04:00
allowed=$(awk '/^Cpus_allowed_list/ { print $2 }' /proc/self/status)
fe_cpu=$(tr ',' '\n' <<<"$allowed" | head -1 | sed 's/-.*//')
be_cpu=$(tr ',' '\n' <<<"$allowed" | tail -1 | sed 's/.*-//')
[[ $fe_cpu == "$be_cpu" ]] && echo "# warning: one CPU only; testpmd and vhostmq share it"

work=$(mktemp -d /tmp/vhostmq-afp.XXXXXX)
sock=$work/vhost.sock
csock=$sock.ctl
tag="vmq$$x$RANDOM"
fe_prefix="${tag}fe"
va="vmq$$a" vb="vmq$$b"            # IFNAMSIZ: at most 15 characters
vm_log=$work/vhostmq.log
tp_log=$work/testpmd.log
cnt_out=$work/count.out
fifo=$work/testpmd.in
vm_pid="" tp_pid="" wd_pid="" cnt_pid="" snd_pid="" vm_pid_seen=""
veth=0
aborted=""
result=""
reasons=()

. "$here/proc.sh"

cleanup() {
	local rc=$?
	trap - EXIT INT TERM USR1 PIPE
	exec 3>&- 2>/dev/null || true
	[[ -n $snd_pid ]] && { stop_pid "$snd_pid" TERM 2; snd_pid=""; }
	[[ -n $cnt_pid ]] && { stop_pid "$cnt_pid" TERM 2; cnt_pid=""; }
	[[ -n $tp_pid ]] && { stop_pid "$tp_pid" INT 3; tp_pid=""; }
	[[ -n $vm_pid ]] && { stop_pid "$vm_pid" TERM 3; vm_pid=""; }
	stop_watchdog
	((veth)) && { ip link del "$va" 2>/dev/null || true; }
	if [[ -z $result ]]; then
		echo "FAIL af_packet_veth: harness aborted (${aborted:-rc $rc}) after $(elapsed)s"
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
trap 'aborted="watchdog: still running at 45 s"; exit 1' USR1

# Watchdog: whatever hangs, SIGUSR1 this script at 45 s.
start_watchdog 45

fail() { reasons+=("$*"); }
# hard_fail WHAT: a step without which nothing else can run.
hard_fail() {
	result=FAIL
	echo "FAIL af_packet_veth: $*"
	exit 1
}

stale_cleanup
dpdk_prefix_cleanup "$fe_prefix"

# ---------------------------------------------------------------- veth
# Leftovers of an earlier run of this script that was SIGKILLed.
for l in $(ip -o link show type veth 2>/dev/null | sed -n 's/^[0-9]*: \(vmq[0-9]*a\)@.*/\1/p'); do
	p=${l#vmq}
	p=${p%a}
	kill -0 "$p" 2>/dev/null || ip link del "$l" 2>/dev/null || true
done
err=$(ip link add "$va" type veth peer name "$vb" 2>&1) ||
	hard_fail "the kernel refused a veth pair: 'ip link add $va type veth peer name $vb': $err"
veth=1
for l in "$va" "$vb"; do
	echo 1 >"/proc/sys/net/ipv6/conf/$l/disable_ipv6" 2>/dev/null || true
	err=$(ip link set "$l" up 2>&1) || hard_fail "ip link set $l up: $err"
done
err=$(python3 -c 'import socket, sys
socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)).bind((sys.argv[1], 0))' \
	"$vb" 2>&1) || hard_fail "the kernel refused an AF_PACKET socket on $vb: $err"

guard=()
command -v setpriv >/dev/null && guard=(setpriv --pdeathsig KILL --)

# ---------------------------------------------------------------- vhostmq
"${guard[@]}" "$vhostmq" --socket "$sock" --queues "$queues" --cores "$be_cpu" \
	--poll-mode busy --steering rss --log-level info \
	--port "ethdev:net_af_packet0,iface=$va,qpairs=1" \
	</dev/null >"$vm_log" 2>&1 &
vm_pid=$!
vm_pid_seen=$vm_pid
ws=0
wait_sockets "$vm_pid" "$sock" "$csock" || ws=$?
case $ws in
1) vm_pid=""; fail "vhostmq exited before creating its sockets (rc $stop_rc)" ;;
2) fail "vhostmq did not create $sock and $csock within 10 s" ;;
esac
((${#reasons[@]} == 0)) && say "vhostmq pid $vm_pid on CPU $be_cpu, port af_packet on $va"

# field_sum FIELD: the pairs' FIELD summed now (-1 if vhostmqctl failed).
field_sum() {
	local js
	js=$(ctlj stats) || { echo -1; return 0; }
	pairs "$js" "$1" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}
# settle FIELD: wait (3 s at most) until FIELD's sum stops moving.
settle() {
	local last=-2 n deadline=$(($(now_ms) + 3000))
	while (($(now_ms) < deadline)); do
		n=$(field_sum "$1")
		((n == last)) && return 0
		last=$n
		sleep 0.2
	done
}
# link_drops IFACE: its "tx_dropped rx_dropped" from /sys.
link_drops() {
	echo "$(cat "/sys/class/net/$1/statistics/tx_dropped") $(cat "/sys/class/net/$1/statistics/rx_dropped")"
}
n_prompt=0
# ---------------------------------------------------------------- testpmd
if ((${#reasons[@]} == 0)); then
	mkfifo "$fifo"
	# Line-buffered: its counters are read between commands, while it runs.
	"${guard[@]}" stdbuf -oL "$testpmd" --no-huge -m 1024 --no-pci --file-prefix "$fe_prefix" \
		--lcores "0@$fe_cpu,1@$fe_cpu" \
		--vdev "net_virtio_user0,path=$sock,queues=$queues,queue_size=$ring,mac=$guest_mac" -- \
		-i --rxq="$queues" --txq="$queues" --rxd="$ring" --txd="$ring" \
		--forward-mode=rxonly --no-flush-rx <"$fifo" >"$tp_log" 2>&1 &
	tp_pid=$!
	exec 3>"$fifo"
	say "testpmd pid $tp_pid on CPU $fe_cpu (interactive)"
	deadline=$(($(now_ms) + 10000))
	while :; do
		js=$(ctlj stats) || js=""
		[[ -n $js ]] && [[ $(pairs "$js" rx_enabled tx_enabled 2>/dev/null | grep -c 'true true') == "$queues" ]] && break
		if ! kill -0 "$tp_pid" 2>/dev/null || ! kill -0 "$vm_pid" 2>/dev/null; then
			fail "a peer exited before the 4 queue pairs were enabled"
			break
		fi
		if (($(now_ms) >= deadline)); then
			fail "the 4 queue pairs were not enabled within 10 s"
			break
		fi
		sleep 0.1
	done
fi

# ---------------------------------------------------------------- 1. host -> guest
sent=none rx_line="" trx=()
if ((${#reasons[@]} == 0)); then
	tp start || true
	say "host -> guest: $flows flows for ${seconds}s from $vb"
	sent=$(taskset -c "$fe_cpu" python3 "$peer" send "$vb" --dst-mac "$guest_mac" \
		--flows "$flows" --seconds "$seconds" 2>&1) || fail "af_packet_peer.py send: $sent"
	settle rx_packets
	tp stop || true
	js=$(ctlj stats) || { fail "vhostmqctl stats: $js"; js=""; }
	[[ -n $js ]] && mapfile -t rx_rows < <(pairs "$js" rx_packets)
	# testpmd's per-stream block, just printed by "stop".
	tp "show port stats 0" || true
	read -r -a trx < <(awk '
		/Forward Stats for RX Port= *0\/Queue=/ {
			q = $0; sub(/.*Queue= */, "", q); sub(/[^0-9].*/, "", q); getline
			if ($1 == "RX-packets:") rx[q] = $2
		}
		END { printf "%d %d %d %d\n", rx[0], rx[1], rx[2], rx[3] }' "$tp_log") || true
	vrx=("${rx_rows[@]:-}")
	n_sent=$(awk '{ print $2 }' <<<"$sent")
	if ((${#vrx[@]} != queues)); then
		fail "vhostmqctl stats shows ${#vrx[@]} queue pairs, not $queues"
	else
		sum=0 min=${vrx[0]} max=${vrx[0]}
		for ((q = 0; q < queues; q++)); do
			n=${vrx[q]}
			sum=$((sum + n))
			((n < min)) && min=$n
			((n > max)) && max=$n
			((n > 0)) || fail "guest RX queue $q received no frame"
			t=${trx[q]:-0}
			((t <= n && t >= n - slack)) ||
				fail "queue $q: testpmd RX-packets $t outside [vhostmq $n - $slack, $n]"
		done
		ratio=none
		if ((min > 0)); then
			ratio=$(awk -v a="$max" -v b="$min" 'BEGIN { printf "%.3f", a / b }')
			awk -v r="$ratio" -v m="$max_ratio" 'BEGIN { exit !(r > m) }' &&
				fail "guest RX queues: max/min = $max/$min = $ratio > $max_ratio"
		fi
		if [[ $n_sent =~ ^[0-9]+$ ]]; then
			((sum <= n_sent)) || fail "the guest got $sum frames, more than the $n_sent sent"
			((sum > 0)) || fail "the guest got no frame"
		fi
		rx_line="rx_packets=$(IFS=/; echo "${vrx[*]}") sum=$sum of $n_sent sent (kernel-dropped $((n_sent - sum)))"
		rx_line+=" max/min=$ratio testpmd=$(IFS=/; echo "${trx[*]}")"
	fi
	say "host -> guest: $rx_line"
fi

# ---------------------------------------------------------------- 2. guest -> host
tx_line=""
if ((${#reasons[@]} == 0)); then
	drops0=($(link_drops "$va") $(link_drops "$vb"))
	rm -f "$work/ready"
	taskset -c "$fe_cpu" python3 "$peer" count "$vb" --src-mac "$flowgen_mac" \
		--ready "$work/ready" >"$cnt_out" 2>&1 &
	cnt_pid=$!
	deadline=$(($(now_ms) + 5000))
	until [[ -e $work/ready ]]; do
		kill -0 "$cnt_pid" 2>/dev/null || { fail "af_packet_peer.py count: $(cat "$cnt_out")"; break; }
		(($(now_ms) < deadline)) || { fail "af_packet_peer.py count not ready within 5 s"; break; }
		sleep 0.05
	done
fi
if ((${#reasons[@]} == 0)); then
	tx0=$(field_sum tx_packets)
	rx0=$(field_sum rx_packets)
	tp "set fwd flowgen" || true
	tp start || true
	deadline=$(($(now_ms) + 3000))
	while (($(now_ms) < deadline)); do
		n=$(field_sum tx_packets)
		((n - tx0 >= frames_cap)) && break
		kill -0 "$tp_pid" 2>/dev/null && kill -0 "$vm_pid" 2>/dev/null || break
		sleep 0.05
	done
	tp stop || true
	settle tx_packets
	js=$(ctlj stats) || { fail "vhostmqctl stats: $js"; js=""; }
	# Nothing sends to VA now but vhostmq itself: its port must not read its
	# own frames back (an AF_PACKET socket also sees a device's outgoing).
	echo_rx=$(($(field_sum rx_packets) - rx0))
	((echo_rx == 0)) || fail "vhostmq's port read back $echo_rx frames while only the guest sent"
	stop_pid "$cnt_pid" TERM 5
	cnt_pid=""
	cnt=$(cat "$cnt_out")
	drops1=($(link_drops "$va") $(link_drops "$vb"))
	veth_drops=$((drops1[0] - drops0[0] + drops1[3] - drops0[3]))
	read -r _ got _ sock_drops <<<"$cnt"
	[[ $got =~ ^[0-9]+$ && $sock_drops =~ ^[0-9]+$ ]] || { fail "af_packet_peer.py count: $cnt"; got=0 sock_drops=0; }
	if [[ -n $js ]]; then
		mapfile -t tx_rows < <(pairs "$js" tx_packets tx_drop_port tx_lock_wait)
		sum=0 txs=() tdrops=0
		for ((q = 0; q < ${#tx_rows[@]}; q++)); do
			read -r n d w <<<"${tx_rows[q]}"
			txs+=("$n")
			sum=$((sum + n)) tdrops=$((tdrops + d))
			((n > 0)) || fail "pair $q: tx_packets 0 (nothing of its guest TX left)"
		done
		reached=$((got + sock_drops))
		((reached + veth_drops == sum)) ||
			fail "frames from the guest that reached $vb: $reached (+ $veth_drops dropped by veth), vhostmq's tx_packets sum $sum"
		((veth_drops == 0)) || fail "veth dropped $veth_drops frames"
		tx_line="tx_packets=$(IFS=/; echo "${txs[*]}") sum=$sum; on $vb: received $got + socket-dropped $sock_drops = $reached, veth drops $veth_drops, tx_drop_port $tdrops, rx meanwhile $echo_rx"
	fi
	say "guest -> host: $tx_line"
fi

# ---------------------------------------------------------------- stop
tp_rc=none vm_rc=none tp_alive=0 vm_alive=0
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
if [[ -n $vm_pid ]]; then
	stop_pid "$vm_pid" TERM 5
	vm_pid=""
	vm_rc=$stop_rc
fi
say "testpmd exit $tp_rc, vhostmq exit $vm_rc"
[[ $vm_rc == none ]] || ((vm_alive)) || fail "vhostmq died during the run (exit $vm_rc)"
[[ $vm_rc == 0 || $vm_rc == none ]] || fail "vhostmq exit status $vm_rc after SIGTERM (expected 0)"
grep -q Sanitizer "$vm_log" 2>/dev/null && fail "vhostmq: sanitizer report in its log"
[[ $tp_rc == none ]] || ((tp_alive)) || fail "testpmd died during the run (exit $tp_rc)"
[[ $tp_rc == 0 || $tp_rc == none ]] || fail "testpmd did not exit cleanly on quit ($tp_rc)"
shape=$(grep -o 'port net_af_packet: [0-9]* rx / [0-9]* tx queue(s)' "$vm_log" 2>/dev/null | head -1) || true
[[ $shape == *": 1 rx / 1 tx queue(s)" ]] ||
	fail "vhostmq's log says '${shape:-no port line}', not '1 rx / 1 tx queue(s)'"

if ((${#reasons[@]} > 0)); then
	result=FAIL
	msg=$(printf '%s; ' "${reasons[@]}")
	echo "FAIL af_packet_veth: ${msg%; } [host->guest: ${rx_line:-none}] [guest->host: ${tx_line:-none}] ($(elapsed)s)"
	log_tail testpmd "$tp_log"
	log_tail vhostmq "$vm_log"
	exit 1
fi
result=PASS
echo "PASS af_packet_veth: host->guest $rx_line; guest->host $tx_line; $shape ($(elapsed)s)"
