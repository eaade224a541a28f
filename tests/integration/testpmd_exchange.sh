#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/integration/testpmd_exchange.sh - real-peer exchange test: DPDK's
# net_virtio_user inside dpdk-testpmd (a frontend nobody here wrote) sends a
# generated pcap through a vhost-user backend that reflects every frame with
# its MACs swapped, and the frames that come back are checked byte for byte
# (pcaptool cmp --swap-mac) and counted (testpmd's final forward statistics).
# Path: port 0 net_pcap rx (IN) -> io fwd -> port 1 virtio-user tx ->
# backend -> port 1 virtio-user rx -> io fwd -> port 0 net_pcap tx (OUT).
# The backend is vhostmq (--backend vhostmq --vhostmq-bin PATH), DPDK's own
# vhost PMD behind testpmd macswap (--backend reference), or any command
# (--backend-cmd 'CMD {sock} {queues} {cpu}'). Every process is started by
# this script, killed by PID and cleaned up on every exit path; the whole run
# is bounded (< 60 s) even when the backend hangs. Exit: 0 PASS, 1 FAIL,
# 2 usage error, 77 skip (no dpdk-testpmd; with CI=true: 1, a skip fails CI).
set -euo pipefail

usage() {
	cat <<'EOF'
usage: testpmd_exchange.sh --backend reference|vhostmq|cmd [options]
  --backend reference      DPDK net_vhost + testpmd macswap (the stand-in)
  --backend vhostmq        needs --vhostmq-bin PATH
  --backend-cmd 'CMD'      any backend; {sock} {queues} {cpu} are substituted
  --vhostmq-bin PATH       vhostmq executable
  --poll-mode MODE         vhostmq --poll-mode (busy|adaptive, default busy)
  --mrg 0|1                virtio-user mrg_rxbuf (default 1)
  --in-order 0|1           virtio-user in_order (default 1; 0 makes the
                           frontend use indirect descriptors for chains)
  --packed 0|1             virtio-user packed_vq (default 0: split rings)
  --vectorized 0|1         virtio-user vectorized (default 0; DPDK picks its
                           vector paths only where the CPU and the
                           negotiated features allow)
  --sizes LIST             frame sizes, comma separated (default 64,1500)
  --count N                frames to send (default 2000)
  --queues N               queue pairs (default 1)
  --ring N                 virtio ring size (default: fits every frame)
  --flows F                UDP source ports in the generated frames (default 8)
  --workdir DIR            keep files there (default: temporary, removed on PASS)
  --pcaptool PATH          pcaptool binary (default $PCAPTOOL or PATH)
  --testpmd PATH           dpdk-testpmd binary (default $TESTPMD or PATH)
  --fe-cpu N / --be-cpu N  CPUs of the frontend and the backend poll loop
  --any-order              compare all queues as one multiset, not per queue
  --no-swap-mac            expect MACs unchanged (harness self-check: must FAIL)
  --expect-fail TEXT       invert: exit 0 only if the run FAILs with a reason
                           containing TEXT (for harness self-checks)
EOF
}

# ---------------------------------------------------------------- options
backend=""
backend_cmd=""
vhostmq_bin=""
poll_mode=busy
mrg=1
in_order=1
packed=0
vectorized=0
sizes=64,1500
count=2000
queues=1
ring=""
flows=8
workdir=""
pcaptool=${PCAPTOOL:-}
testpmd=${TESTPMD:-dpdk-testpmd}
fe_cpu=0
be_cpu=1
any_order=0
swap_mac=1
expect_fail=""

need() {
	[[ $# -ge 2 && -n $2 ]] || { echo "testpmd_exchange: $1 needs a value" >&2; exit 2; }
}
while [[ $# -gt 0 ]]; do
	case $1 in
	--backend)      need "$@"; backend=$2; shift 2 ;;
	--backend-cmd)  need "$@"; backend=cmd; backend_cmd=$2; shift 2 ;;
	--vhostmq-bin)  need "$@"; vhostmq_bin=$2; shift 2 ;;
	--poll-mode)    need "$@"; poll_mode=$2; shift 2 ;;
	--mrg)          need "$@"; mrg=$2; shift 2 ;;
	--in-order)     need "$@"; in_order=$2; shift 2 ;;
	--packed)       need "$@"; packed=$2; shift 2 ;;
	--vectorized)   need "$@"; vectorized=$2; shift 2 ;;
	--sizes)        need "$@"; sizes=$2; shift 2 ;;
	--count)        need "$@"; count=$2; shift 2 ;;
	--queues)       need "$@"; queues=$2; shift 2 ;;
	--ring)         need "$@"; ring=$2; shift 2 ;;
	--flows)        need "$@"; flows=$2; shift 2 ;;
	--workdir)      need "$@"; workdir=$2; shift 2 ;;
	--pcaptool)     need "$@"; pcaptool=$2; shift 2 ;;
	--testpmd)      need "$@"; testpmd=$2; shift 2 ;;
	--fe-cpu)       need "$@"; fe_cpu=$2; shift 2 ;;
	--be-cpu)       need "$@"; be_cpu=$2; shift 2 ;;
	--any-order)    any_order=1; shift ;;
	--no-swap-mac)  swap_mac=0; shift ;;
	--expect-fail)  need "$@"; expect_fail=$2; shift 2 ;;
	-h|--help)      usage; exit 0 ;;
	*)              echo "testpmd_exchange: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
done

bad() { echo "testpmd_exchange: $*" >&2; exit 2; }
[[ $mrg == [01] ]] || bad "--mrg must be 0 or 1"
[[ $in_order == [01] ]] || bad "--in-order must be 0 or 1"
[[ $packed == [01] ]] || bad "--packed must be 0 or 1"
[[ $vectorized == [01] ]] || bad "--vectorized must be 0 or 1"
[[ $count =~ ^[1-9][0-9]*$ ]] || bad "--count must be a positive integer"
[[ $queues =~ ^[1-9][0-9]?$ ]] || bad "--queues must be 1..99"
[[ $sizes =~ ^[0-9]+(,[0-9]+)*$ ]] || bad "--sizes must be a comma separated list"
[[ -z $ring || $ring =~ ^[1-9][0-9]*$ ]] || bad "--ring must be a number"
case $backend in
reference) ;;
vhostmq)   [[ -x $vhostmq_bin ]] || bad "--backend vhostmq needs an executable --vhostmq-bin" ;;
cmd)       [[ $backend_cmd == *"{sock}"* ]] || bad "--backend-cmd must contain {sock}" ;;
*)         usage >&2; exit 2 ;;
esac
if [[ -z $pcaptool ]]; then
	pcaptool=$(command -v pcaptool || true)
fi
[[ -n $pcaptool && -x $pcaptool ]] || bad "pcaptool not found (--pcaptool PATH or \$PCAPTOOL)"
pcaptool=$(realpath "$pcaptool")
if ! command -v "$testpmd" >/dev/null 2>&1; then
	if [[ ${CI:-} == true ]]; then
		echo "FAIL: $testpmd not found (Debian package dpdk-dev; CI=true: a skip is a failure)"
		exit 1
	fi
	echo "SKIP: $testpmd not found (Debian package dpdk-dev)"
	exit 77
fi
if [[ $(nproc) -lt 2 ]]; then
	fe_cpu=0
	be_cpu=0
	echo "# warning: one CPU only; frontend and backend share it (slow)"
fi

# ---------------------------------------------------------------- derived
max_size=0
min_size=999999
IFS=, read -r -a size_list <<<"$sizes"
for s in "${size_list[@]}"; do
	((s > max_size)) && max_size=$s
	((s < min_size)) && min_size=$s
done
((min_size >= 60 && max_size <= 16128)) ||
	bad "sizes must be in 60..16128 (net_pcap writes at most 16128 bytes a frame)"
size_label="$min_size..$max_size"
((${#size_list[@]} == 1)) && size_label=$min_size

# The frontend's RX buffers: with mrg_rxbuf=0 one mbuf must hold a whole
# frame (virtio-net gives it data room - 128 bytes of headroom; measured: 9128
# passes for 9000-byte frames, 9127 loses them), with mrg_rxbuf=1 keep the
# default 2176 so big frames span several buffers.
mbuf_size=2176
buf_room=2048
if ((mrg == 0 && max_size + 128 > mbuf_size)); then
	mbuf_size=$((max_size + 128))
	buf_room=$max_size
fi
# Ring size: net_pcap reads the input as fast as the frontend loop runs and
# io forwarding drains virtio RX no faster than it fills TX, so the backlog
# on the frontend's RX ring only shrinks after the input ends. Size the ring
# for every frame of the run (per queue), so a healthy backend never finds
# it full; otherwise drops depend on scheduling luck.
per_q=$(((count + queues - 1) / queues))
bufs=0
for ((i = 0; i < per_q; i++)); do
	s=${size_list[i % ${#size_list[@]}]}
	bufs=$((bufs + (s + 12 + buf_room - 1) / buf_room))
done
if [[ -z $ring ]]; then
	ring=256
	while ((ring < bufs + 64 && ring < 32768)); do
		ring=$((ring * 2))
	done
	((bufs + 64 <= ring)) ||
		echo "# warning: $bufs buffers per queue exceed the largest ring; drops may follow"
fi
# Mbufs: a full RX and TX ring per queue, plus the input as chained mbufs
# (net_pcap splits a frame larger than one mbuf), plus per-lcore caches.
max_segs=$(((max_size + mbuf_size - 129) / (mbuf_size - 128)))
n_mbufs=$((queues * ring * 2 + per_q * queues * max_segs + 2048))
fe_mem=$((n_mbufs * (mbuf_size + 256) / 1048576 + 256))
((fe_mem < 1024)) && fe_mem=1024

# ---------------------------------------------------------------- workdir
keep_workdir=1
if [[ -z $workdir ]]; then
	workdir=$(mktemp -d /tmp/vmq-exchange.XXXXXX)
	keep_workdir=0
fi
mkdir -p "$workdir"
workdir=$(realpath "$workdir")
tag="vmq$$x$RANDOM"
fe_prefix="${tag}fe"
be_prefix="${tag}be"
sock="$workdir/vhost.sock"
sockdir=""
if ((${#sock} > 100)); then            # sun_path holds 108 bytes
	sockdir=$(mktemp -d /tmp/vmq-sock.XXXXXX)
	sock="$sockdir/vhost.sock"
fi
fe_log="$workdir/frontend.log"
be_log="$workdir/backend.log"
rm -f "$workdir"/in*.pcap "$workdir"/out*.pcap "$fe_log" "$be_log" "$sock"

fe_pid=""
be_pid=""
be_stop=TERM
result=""

. "$(dirname "${BASH_SOURCE[0]}")/proc.sh"

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[[ -n $fe_pid ]] && { stop_pid "$fe_pid" INT 3; fe_pid=""; }
	[[ -n $be_pid ]] && { stop_pid "$be_pid" "$be_stop" 2; be_pid=""; }
	rm -f "$sock"
	resume_cleanup "$sock"
	[[ -n $sockdir ]] && rm -rf "$sockdir"
	dpdk_prefix_cleanup "$fe_prefix" "$be_prefix"
	finish_run "$rc" "mrg=$mrg packed=$packed sizes=$size_label"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	result=FAIL
	if [[ -n $expect_fail && $* == *"$expect_fail"* ]]; then
		echo "PASS (expected failure) mrg=$mrg sizes=$size_label: $*"
		exit 0
	fi
	echo "FAIL mrg=$mrg in_order=$in_order packed=$packed vectorized=$vectorized queues=$queues sizes=$size_label" \
		"count=$count backend=$backend: $*"
	log_tail frontend "$fe_log"
	log_tail backend "$be_log"
	exit 1
}

# ---------------------------------------------------------------- 1. input
"$pcaptool" gen "$workdir/in.pcap" --count "$count" --sizes "$sizes" \
	--seed "$count" --flows "$flows"
pcap_rx=""
for ((q = 0; q < queues; q++)); do
	pcap_rx+=",rx_pcap=$workdir/in$q.pcap,tx_pcap=$workdir/out$q.pcap"
done
if ((queues == 1)); then
	cp "$workdir/in.pcap" "$workdir/in0.pcap"
else
	"$pcaptool" split "$workdir/in.pcap" "$queues" "$workdir/in"
fi
dpdk_prefix_cleanup "$fe_prefix" "$be_prefix"
stale_cleanup
say "generated $count frames ($sizes), ring $ring, mbuf $mbuf_size x $n_mbufs, -m $fe_mem"

# ---------------------------------------------------------------- 2. backend
# Children die with this shell even if it is SIGKILLed (pdeathsig), so no
# run can leave a poll loop spinning.
guard=()
command -v setpriv >/dev/null && guard=(setpriv --pdeathsig KILL --)
case $backend in
reference)
	be_stop=INT
	"${guard[@]}" "$testpmd" --no-huge -m 512 --no-pci --file-prefix="$be_prefix" \
		--lcores "0@$fe_cpu,1@$be_cpu" \
		--vdev "net_vhost0,iface=$sock,queues=$queues" -- \
		--forward-mode=macswap --auto-start --stats-period 1 --nb-cores=1 \
		--rxq="$queues" --txq="$queues" --total-num-mbufs=16384 \
		</dev/null >"$be_log" 2>&1 &
	be_pid=$!
	;;
vhostmq)
	# --mtu 9000: the largest size this script sends passes the MTU.
	"${guard[@]}" "$vhostmq_bin" --socket "$sock" --queues "$queues" \
		--port loopback --cores "$be_cpu" --poll-mode "$poll_mode" --mtu 9000 \
		--log-level info </dev/null >"$be_log" 2>&1 &
	be_pid=$!
	;;
cmd)
	cmd=${backend_cmd//\{sock\}/$sock}
	cmd=${cmd//\{queues\}/$queues}
	cmd=${cmd//\{cpu\}/$be_cpu}
	"${guard[@]}" bash -c "exec $cmd" </dev/null >"$be_log" 2>&1 &
	be_pid=$!
	;;
esac
deadline=$(($(now_ms) + 10000))
while [[ ! -S $sock ]]; do
	kill -0 "$be_pid" 2>/dev/null || { stop_pid "$be_pid" KILL 1; be_pid="";
		fail "backend exited before creating $sock (rc $stop_rc)"; }
	(($(now_ms) < deadline)) || fail "backend did not create $sock within 10 s"
	sleep 0.05
done
t_sock=$(elapsed)
say "backend pid $be_pid listening on $sock"

# ---------------------------------------------------------------- 3. frontend
fe_cmd=("$testpmd" --no-huge -m "$fe_mem" --no-pci --file-prefix="$fe_prefix"
	--lcores "0@$fe_cpu,1@$fe_cpu"
	--vdev "net_pcap0${pcap_rx}"
	--vdev "net_virtio_user0,path=$sock,queues=$queues,queue_size=$ring,mrg_rxbuf=$mrg,in_order=$in_order,packed_vq=$packed,vectorized=$vectorized"
	--log-level=pmd.net.virtio.init:debug
	-- --forward-mode=io --auto-start --stats-period 1 --no-flush-rx
	--nb-cores=1 --rxq="$queues" --txq="$queues" --rxd="$ring" --txd="$ring"
	--mbuf-size="$mbuf_size" --total-num-mbufs="$n_mbufs")
echo "# frontend: ${fe_cmd[*]}" >"$fe_log"
"${guard[@]}" "${fe_cmd[@]}" </dev/null >>"$fe_log" 2>&1 &
fe_pid=$!
say "frontend pid $fe_pid started"

# ---------------------------------------------------------------- 4. wait
out_count() {
	local n=0 q c
	for ((q = 0; q < queues; q++)); do
		c=$("$pcaptool" count "$workdir/out$q.pcap" 2>/dev/null) || c=0
		n=$((n + c))
	done
	echo "$n"
}
fe_bad='vdev_probe\(\): failed|Fail to (configure|start)|Start ports failed|Failed to start device|Cannot allocate|EAL: Error'
got=0
last_change=$(now_ms)
t_first=""
deadline=$(($(now_ms) + 20000))
while :; do
	n=$(out_count)
	if ((n != got)); then
		[[ -z $t_first ]] && t_first=$(elapsed)
		got=$n
		last_change=$(now_ms)
	fi
	((got >= count)) && break
	kill -0 "$fe_pid" 2>/dev/null || break
	kill -0 "$be_pid" 2>/dev/null || break
	grep -qE "$fe_bad" "$fe_log" && break
	(($(now_ms) < deadline)) || break
	# Once frames flow, 3 s without a new one means the rest is lost.
	[[ -n $t_first ]] && (($(now_ms) - last_change > 3000)) && break
	sleep 0.1
done
t_done=$(elapsed)
fe_alive=1
be_alive=1
kill -0 "$fe_pid" 2>/dev/null || fe_alive=0
kill -0 "$be_pid" 2>/dev/null || be_alive=0
say "$got/$count frames back (first at ${t_first:-never}${t_first:+s})"

# Stop the frontend first so net_pcap flushes and testpmd prints its final
# statistics, then the backend (vhostmq prints its stats table on exit).
stop_pid "$fe_pid" INT 5
fe_pid=""
fe_rc=$stop_rc
stop_pid "$be_pid" "$be_stop" 5
be_pid=""
be_rc=$stop_rc
say "frontend exit $fe_rc, backend exit $be_rc"

# ---------------------------------------------------------------- 5. check
# The backend first: a backend that dies makes the frontend fail too (its
# probe fails, or SIGPIPE, exit 141, on its next vhost-user message).
((be_alive)) || fail "backend died during the run (exit $be_rc)"
[[ $be_rc == 0 ]] || fail "backend exit status $be_rc (expected 0 after SIG$be_stop)"
grep -qE "$fe_bad" "$fe_log" && fail "frontend reported: $(grep -m1 -E "$fe_bad" "$fe_log")"
((fe_alive)) || fail "frontend died during the run (exit $fe_rc)"
[[ $fe_rc == 0 ]] || fail "frontend did not exit cleanly on SIGINT ($fe_rc)"

# testpmd's "Forward statistics for port P" blocks, printed when forwarding
# stops: RX-packets/RX-dropped and TX-packets/TX-dropped per port.
read -r p0rx p0rxd p0tx p0txd p1rx p1rxd p1tx p1txd < <(awk '
	/Forward statistics for port/ {
		for (i = 1; i < NF; i++) if ($i == "port") port = $(i + 1)
		blk = 1; next
	}
	blk && /RX-packets:/ { rx[port] = $2; rxd[port] = $4; next }
	blk && /TX-packets:/ { tx[port] = $2; txd[port] = $4; blk = 0; next }
	END {
		printf "%s %s %s %s %s %s %s %s\n",
		       rx[0] + 0, rxd[0] + 0, tx[0] + 0, txd[0] + 0,
		       rx[1] + 0, rxd[1] + 0, tx[1] + 0, txd[1] + 0
	}' "$fe_log")
grep -q 'Forward statistics for port 1' "$fe_log" ||
	fail "frontend printed no final statistics for port 1"
stats="pcap-rx=$p0rx virtio-tx=$p1tx virtio-rx=$p1rx pcap-tx=$p0tx"
drops="rx-dropped=$p0rxd/$p1rxd tx-dropped=$p1txd/$p0txd"
((p0rx == count)) || fail "net_pcap read $p0rx frames, not $count ($stats)"
((p1tx == count && p1txd == 0)) ||
	fail "virtio-user sent $p1tx of $count frames ($stats, $drops)"
((p1rx == count)) ||
	fail "virtio-user received $p1rx of $count frames: $((p1tx - p1rx)) lost in the backend ($stats, $drops)"
((p0tx == count && p0txd == 0 && p0rxd == 0 && p1rxd == 0)) ||
	fail "frames lost in the frontend ($stats, $drops)"

# What the frontend negotiated must be what the run is named after:
# virtio-user drops a feature the backend does not offer without a word.
feat_hex=$(sed -n 's/.*features after negotiate = \([0-9a-fA-F]*\).*/\1/p' "$fe_log" | tail -1)
[[ -n $feat_hex ]] || fail "the frontend logged no negotiated features"
feat=$((16#$feat_hex))
for want in "15:$mrg:MRG_RXBUF" "34:$packed:RING_PACKED" "35:$in_order:IN_ORDER"; do
	IFS=: read -r bit on name <<<"$want"
	(((feat >> bit & 1) == on)) ||
		fail "negotiated features 0x$feat_hex: $name (bit $bit) is $((feat >> bit & 1)), the run asked for $on"
done
say "negotiated features 0x$feat_hex"

cmp_opt=()
((swap_mac)) && cmp_opt+=(--swap-mac)
if ((any_order || queues == 1)); then
	((any_order)) && cmp_opt+=(--any-order)
	outs=()
	for ((q = 0; q < queues; q++)); do outs+=("$workdir/out$q.pcap"); done
	cmp_out=$("$pcaptool" cmp "$workdir/in.pcap" "${outs[@]}" "${cmp_opt[@]}") ||
		fail "contents differ: $(echo "$cmp_out" | tr '\n' ' ')"
else
	# Loopback contract: TX queue q comes back on RX queue q, in order.
	for ((q = 0; q < queues; q++)); do
		cmp_out=$("$pcaptool" cmp "$workdir/in$q.pcap" "$workdir/out$q.pcap" \
			"${cmp_opt[@]}") ||
			fail "queue $q contents differ: $(echo "$cmp_out" | tr '\n' ' ')"
	done
fi

if [[ -n $expect_fail ]]; then
	echo "FAIL: expected a failure containing '$expect_fail', but every frame came back"
	exit 1
fi
result=PASS
echo "PASS mrg=$mrg in_order=$in_order packed=$packed vectorized=$vectorized queues=$queues sizes=$size_label" \
	"sent=$p1tx received=$p1rx backend=$backend" \
	"(socket ${t_sock}s, first frame ${t_first}s, all back ${t_done}s, total $(elapsed)s)"
