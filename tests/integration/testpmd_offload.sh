#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/integration/testpmd_offload.sh - checksum and TSO requests from a
# frontend nobody here wrote. dpdk-testpmd (interactive, csum forwarding
# engine) reads a pcap of TCP/IPv4 and TCP/IPv6 frames whose IP and TCP
# checksums are zero, some far above the MTU (up to 16000 bytes of payload),
# and sends them on net_virtio_user with TCP checksum in "hw" and TSO on, so
# virtio-user hands vhostmq NEEDS_CSUM frames and GSO TCPV4/TCPV6 frames.
# vhostmq's port is a net_pcap without offloads: vhostmq fills the checksums
# and cuts the TSO frames itself, and tcp_offload_pcap.py checks what its
# port wrote: every frame <= 1514 bytes, IPv4 header and TCP checksums
# verify, the payloads reassembled per flow by sequence number equal the
# input. vhostmq's counters (vhostmqctl --json stats) must show
# tx_csum_sw > 0 and tx_tso_frames > 0, and virtio-user must report
# TCP_CKSUM and TCP_TSO (it offers TSO only when vhostmq offered
# HOST_TSO4 and HOST_TSO6, checksum only with CSUM).
# Path: port 0 net_pcap rx (IN) -> csum fwd -> port 1 virtio-user tx ->
# vhostmq -> its net_pcap port tx (OUT).
# With RING packed, virtio-user runs packed rings (packed_vq=1), and the
# frontend's log must show VIRTIO_F_RING_PACKED negotiated.
# usage: testpmd_offload.sh VHOSTMQ VHOSTMQCTL TESTPMD [WORKDIR [RING]]
# Bounded (< 60 s); every process is killed by PID on every exit path.
# Exit: 0 PASS, 1 FAIL, 2 usage, 77 skip (no dpdk-testpmd; CI=true: 1).
set -euo pipefail

[[ $# -ge 3 && $# -le 5 ]] || {
	echo "usage: testpmd_offload.sh VHOSTMQ VHOSTMQCTL TESTPMD [WORKDIR [split|packed]]" >&2
	exit 2
}
vhostmq=$1 ctl=$2 testpmd=$3 workdir=${4:-} ring=${5:-split}
case $ring in
split) packed=0 ;;
packed) packed=1 ;;
*) echo "testpmd_offload: ring must be split or packed, not '$ring'" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pcapy="$here/tcp_offload_pcap.py"
[[ -x $vhostmq ]] || { echo "testpmd_offload: $vhostmq is not executable" >&2; exit 2; }
[[ -x $ctl ]] || { echo "testpmd_offload: $ctl is not executable" >&2; exit 2; }
if ! command -v "$testpmd" >/dev/null 2>&1; then
	if [[ ${CI:-} == true ]]; then
		echo "FAIL: $testpmd not found (Debian package dpdk-dev; CI=true: a skip is a failure)"
		exit 1
	fi
	echo "SKIP: $testpmd not found (Debian package dpdk-dev)"
	exit 77
fi
command -v python3 >/dev/null || { echo "FAIL: python3 not found"; exit 1; }

# MSS 1428: an IPv6 segment with 12 bytes of TCP options is then exactly
# 1514 bytes (14 + 40 + 32 + 1428), the most MTU 1500 allows; with 1448
# every IPv6 segment would exceed the MTU and vhostmq rightly refuses the
# frame (VNET_TX_TSO_SIZE).
mss=1428
max_frame=1514
fe_cpu=0
be_cpu=1
if [[ $(nproc) -lt 2 ]]; then
	fe_cpu=0
	be_cpu=0
fi

keep_workdir=1
if [[ -z $workdir ]]; then
	workdir=$(mktemp -d /tmp/vmq-offload.XXXXXX)
	keep_workdir=0
fi
mkdir -p "$workdir"
workdir=$(realpath "$workdir")
tag="vmq$$x$RANDOM"
fe_prefix="${tag}fe"
be_prefix="${tag}be"
sock="$workdir/vhost.sock"
sockdir=""
if ((${#sock} > 90)); then            # sun_path holds 108 bytes (+ ".ctl")
	sockdir=$(mktemp -d /tmp/vmq-sock.XXXXXX)
	sock="$sockdir/vhost.sock"
fi
csock="$sock.ctl"
fe_log="$workdir/frontend.log"
be_log="$workdir/backend.log"
fifo="$workdir/frontend.in"
rm -f "$workdir"/*.pcap "$fe_log" "$be_log" "$sock" "$csock" "$fifo"

fe_pid=""
be_pid=""
result=""

. "$here/proc.sh"

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	exec 3>&- 2>/dev/null || true
	[[ -n $fe_pid ]] && { stop_pid "$fe_pid" INT 3; fe_pid=""; }
	[[ -n $be_pid ]] && { stop_pid "$be_pid" TERM 2; be_pid=""; }
	rm -f "$sock" "$csock" "$fifo"
	resume_cleanup "$sock"
	[[ -n $sockdir ]] && rm -rf "$sockdir"
	dpdk_prefix_cleanup "$fe_prefix" "$be_prefix"
	finish_run "$rc" "testpmd-offload"
}
trap cleanup EXIT
trap 'exit 1' INT TERM PIPE

fail() {
	result=FAIL
	echo "FAIL testpmd-offload: $*"
	log_tail frontend "$fe_log"
	log_tail backend "$be_log"
	exit 1
}

# ---------------------------------------------------------------- 1. input
gen_out=$(python3 "$pcapy" gen "$workdir/in.pcap" --mss "$mss") ||
	fail "generating the input failed: $gen_out"
read -r _ n_frames _ n_segs <<<"$gen_out"
# The checker can fail: the input itself (zero checksums, frames far above
# 1514 bytes) must not pass as output.
if python3 "$pcapy" check "$workdir/in.pcap" "$workdir/in.pcap" --mss "$mss" >/dev/null; then
	fail "checker self-check: the unmodified input passed as output"
fi
# vhostmq's port: net_pcap needs an RX side; an empty pcap gives nothing.
python3 - "$workdir/empty.pcap" <<'EOF'
import struct, sys
open(sys.argv[1], "wb").write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
EOF
dpdk_prefix_cleanup "$fe_prefix" "$be_prefix"
stale_cleanup
say "input: $n_frames frames, $n_segs once cut at MSS $mss"

# ---------------------------------------------------------------- 2. vhostmq
guard=()
command -v setpriv >/dev/null && guard=(setpriv --pdeathsig KILL --)
"${guard[@]}" "$vhostmq" --socket "$sock" --control "$csock" --queues 1 \
	--port "ethdev:net_pcap0,rx_pcap=$workdir/empty.pcap,tx_pcap=$workdir/out.pcap" \
	--cores "$be_cpu" --poll-mode adaptive --log-level info \
	</dev/null >"$be_log" 2>&1 &
be_pid=$!
deadline=$(($(now_ms) + 10000))
while [[ ! -S $sock || ! -S $csock ]]; do
	kill -0 "$be_pid" 2>/dev/null || { stop_pid "$be_pid" KILL 1; be_pid="";
		fail "vhostmq exited before creating $sock (rc $stop_rc)"; }
	(($(now_ms) < deadline)) || fail "vhostmq did not create $sock within 10 s"
	sleep 0.05
done
say "vhostmq pid $be_pid listening on $sock"

# qp0 FIELD...: the first queue pair's counters, space separated.
qp0() {
	local js
	js=$(ctlj stats) || return 1
	python3 -c '
import json, sys
q = json.loads(sys.argv[1])["devices"][0]["queue_pairs"][0]
print(" ".join(str(q[k]) for k in sys.argv[2:]))' "$js" "$@"
}

# ---------------------------------------------------------------- 3. testpmd
# Interactive (csum/tso settings need a stopped port): commands go through a
# FIFO, one at a time, each after the previous one's prompt came back.
# --no-flush-rx: "start" would otherwise drain (and lose) the whole input.
# --mbuf-size: the largest input frame (16086 bytes) fits one mbuf, so the
# csum engine sees it whole.
mkfifo "$fifo"
fe_cmd=("$testpmd" --no-huge -m 1024 --no-pci --file-prefix="$fe_prefix"
	--lcores "0@$fe_cpu,1@$fe_cpu"
	--vdev "net_pcap0,rx_pcap=$workdir/in.pcap,tx_pcap=/dev/null"
	--vdev "net_virtio_user0,path=$sock,queues=1,queue_size=1024,packed_vq=$packed"
	--log-level=pmd.net.virtio.init:debug
	-- -i --forward-mode=csum --no-flush-rx --nb-cores=1 --rxq=1 --txq=1 --rxd=1024 --txd=1024
	--mbuf-size=16512 --total-num-mbufs=4096)
echo "# frontend: ${fe_cmd[*]}" >"$fe_log"
"${guard[@]}" "${fe_cmd[@]}" <"$fifo" >>"$fe_log" 2>&1 &
fe_pid=$!
exec 3>"$fifo"
say "testpmd pid $fe_pid started"

prompts() { grep -o 'testpmd> ' "$fe_log" 2>/dev/null | wc -l; }
# tp CMD: send CMD once testpmd has shown its next prompt (10 s at most).
n_prompt=0
tp() {
	local deadline=$(($(now_ms) + 10000))
	while (($(prompts) <= n_prompt)); do
		kill -0 "$fe_pid" 2>/dev/null || fail "testpmd exited (before '$1')"
		(($(now_ms) < deadline)) || fail "testpmd gave no prompt within 10 s (before '$1')"
		sleep 0.05
	done
	n_prompt=$((n_prompt + 1))
	echo "$1" >&3
}
tp "show port 1 tx_offload capabilities"
tp "port stop 1"
tp "csum set ip hw 1"
tp "csum set tcp hw 1"
tp "tso set $mss 1"
tp "port start 1"
tp "start"
tp "show port 1 tx_offload configuration"

# ---------------------------------------------------------------- 4. wait
# Until vhostmq's port sent every segment, or 3 s without progress.
got=-1
last_change=$(now_ms)
deadline=$(($(now_ms) + 30000))
while :; do
	n=$(qp0 tx_packets) || fail "vhostmqctl stats: $n"
	if ((n != got)); then
		got=$n
		last_change=$(now_ms)
	fi
	((got >= n_segs)) && break
	kill -0 "$fe_pid" 2>/dev/null || fail "testpmd died during the run"
	kill -0 "$be_pid" 2>/dev/null || fail "vhostmq died during the run"
	(($(now_ms) < deadline)) || break
	(($(now_ms) - last_change > 3000)) && break
	sleep 0.1
done
say "vhostmq's port sent $got of $n_segs frames"
read -r csum_sw tso_frames tso_segs tx_pkts tx_drops < <(qp0 tx_csum_sw tx_tso_frames \
	tx_tso_segments tx_packets tx_drop_port) || fail "vhostmqctl stats failed"
stats_js=$(ctlj stats)
tp "stop"
tp "quit"
exec 3>&-
wait_gone "$fe_pid" 5 || true
stop_pid "$fe_pid" INT 3
fe_pid=""
fe_rc=$stop_rc
stop_pid "$be_pid" TERM 5
be_pid=""
be_rc=$stop_rc
say "testpmd exit $fe_rc, vhostmq exit $be_rc"
echo "$stats_js" >"$workdir/stats.json"

# ---------------------------------------------------------------- 5. check
[[ $be_rc == 0 ]] || fail "vhostmq exit status $be_rc (expected 0 after SIGTERM)"
[[ $fe_rc == 0 ]] || fail "testpmd exit status $fe_rc after quit"
clean_log=$(sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$fe_log")
# virtio-user's capabilities follow vhostmq's offered features: TCP_CKSUM
# needs VIRTIO_NET_F_CSUM, TCP_TSO needs HOST_TSO4 and HOST_TSO6.
caps=$(awk '/Tx Offloading Capabilities of port 1/{f=1} f&&/Per Port/{print; exit}' <<<"$clean_log")
[[ $caps == *TCP_CKSUM* ]] ||
	fail "virtio-user does not offer TCP_CKSUM (no VIRTIO_NET_F_CSUM from vhostmq?): '$caps'"
[[ $caps == *TCP_TSO* ]] ||
	fail "virtio-user does not offer TCP_TSO (no HOST_TSO4/6 from vhostmq?): '$caps'"
feat_hex=$(sed -n 's/.*features after negotiate = \([0-9a-fA-F]*\).*/\1/p' <<<"$clean_log" | tail -1)
[[ -n $feat_hex ]] || fail "the frontend logged no negotiated features"
(((16#$feat_hex >> 34 & 1) == packed)) ||
	fail "negotiated features 0x$feat_hex: RING_PACKED (bit 34) is not $packed ($ring rings asked)"
grep -q 'TSO segment size for non-tunneled packets is '"$mss" <<<"$clean_log" ||
	fail "testpmd did not take 'tso set $mss 1'"
grep -qE 'TCP checksum offload is (HW|hw)|TCP checksum offload is.*hw' <<<"$clean_log" ||
	fail "testpmd did not take 'csum set tcp hw 1'"
check=$(python3 "$pcapy" check "$workdir/in.pcap" "$workdir/out.pcap" --mss "$mss" \
	--max-frame "$max_frame") || fail "$check"
echo "# $check"
counters="tx_csum_sw=$csum_sw tx_tso_frames=$tso_frames tx_tso_segments=$tso_segs tx_packets=$tx_pkts tx_drop_port=$tx_drops"
((tso_frames > 0)) || fail "vhostmq cut no TSO frame ($counters)"
((csum_sw > 0)) || fail "vhostmq filled no checksum ($counters)"
((tx_pkts == n_segs)) || fail "vhostmq's port sent $tx_pkts frames, expected $n_segs ($counters)"
result=PASS
echo "PASS testpmd-offload ($ring rings, features 0x$feat_hex): $n_frames frames in, $n_segs out ($counters, total $(elapsed)s)"
