# SPDX-License-Identifier: BSD-3-Clause
# tests/integration/proc.sh - sourced by the integration scripts: elapsed-time
# log lines, stopping a child by PID with a bounded grace period (never
# through `timeout`, whose SIGKILL would orphan the child), a log's
# interesting lines, and the DPDK runtime leftovers of the testpmd scripts.

now_ms() { local t=${EPOCHREALTIME//[!0-9]/}; echo $((10#$t / 1000)); }
t_start=$(now_ms)
elapsed() { local t; t=$(($(now_ms) - t_start)); printf '%d.%01d' $((t / 1000)) $((t % 1000 / 100)); }
say() { echo "# [$(elapsed)s] $*"; }

# wait_gone PID SECONDS: 0 if PID exited within SECONDS.
wait_gone() {
	local pid=$1 deadline=$(($(now_ms) + $2 * 1000))
	while kill -0 "$pid" 2>/dev/null; do
		(($(now_ms) < deadline)) || return 1
		sleep 0.05
	done
	return 0
}

# stop_pid PID SIG GRACE: signal, SIGKILL after GRACE s; stop_rc is the exit
# status, or "killed" when it had to be SIGKILLed.
stop_rc=""
stop_pid() {
	local pid=$1 sig=$2 grace=$3
	stop_rc=""
	[[ -n $pid ]] || return 0
	kill "-$sig" "$pid" 2>/dev/null || true
	if ! wait_gone "$pid" "$grace"; then
		kill -KILL "$pid" 2>/dev/null || true
		wait_gone "$pid" 2 || true
		stop_rc=killed
	fi
	if [[ -z $stop_rc ]]; then
		stop_rc=0
		wait "$pid" 2>/dev/null || stop_rc=$?
	else
		wait "$pid" 2>/dev/null || true
	fi
}

# log_tail NAME FILE: interesting lines first (errors are near the top of a
# DPDK log, under pages of periodic statistics), then the end.
log_tail() {
	local name=$1 file=$2
	[[ -f $file ]] || { echo "---- $name: no log"; return 0; }
	echo "---- $name ($file): errors"
	sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$file" |
		grep -iE 'error|fail|cannot|invalid|abort|segfault|panic|sanitizer|warn|not supported' |
		grep -vE 'errors: 0|FAILED: 0|-errors:' | head -n 15 || true
	echo "---- $name: last lines"
	sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$file" | grep -v '^[[:space:]]*$' | tail -n 25
}

# Runtime dirs of earlier runs of the testpmd scripts that were SIGKILLed
# (their prefixes vmq<PID>x..fe/be carry the script's PID), once that PID is
# gone.
stale_cleanup() {
	local d pid
	for d in /var/run/dpdk/vmq*x*[fb]e; do
		[[ -d $d ]] || continue
		pid=${d##*/vmq}
		pid=${pid%%x*}
		[[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null && rm -rf "$d"
	done
	return 0
}

# dpdk_prefix_cleanup PREFIX...: this run's DPDK runtime dirs and hugepage
# files.
dpdk_prefix_cleanup() {
	local p d
	for p in "$@"; do
		for d in /var/run/dpdk "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk"; do
			rm -rf "${d:?}/$p"
		done
		rm -f /dev/hugepages/"$p"* 2>/dev/null || true
	done
}

# resume_cleanup SOCKET...: the file in which a vhostmq on SOCKET keeps its
# packed rings' positions for a successor (backend/resume.h: FNV-1a of the
# path); a test's vhostmq has none.
resume_cleanup() {
	local s f
	for s in "$@"; do
		f=$(python3 -c 'import sys
h = 0xcbf29ce484222325
for b in sys.argv[1].encode():
    h = ((h ^ b) * 0x100000001b3) & (2 ** 64 - 1)
print("/dev/shm/vhostmq-rings-%016x" % h)' "$s") && rm -f "$f"
	done
}

# finish_run RC LABEL: the end of a testpmd script's EXIT trap. No $result
# means the harness aborted, which fails; $workdir goes on PASS unless
# $keep_workdir. Exits with the status.
finish_run() {
	local rc=$1
	if [[ -z $result ]]; then
		echo "FAIL $2: harness aborted (rc $rc)"
		rc=1
	fi
	if ((keep_workdir == 0)); then
		if [[ $result == PASS ]]; then
			rm -rf "$workdir"
		else
			echo "# files kept in $workdir"
		fi
	fi
	exit "$rc"
}

# wait_sockets PID SOCK CSOCK: 0 once a starting vhostmq (PID) has created
# its vhost-user and control sockets; 1 if it exited first (stopped and
# reaped: $stop_rc), 2 after 10 s.
wait_sockets() {
	local deadline=$(($(now_ms) + 10000))
	until [[ -S $2 && -S $3 ]]; do
		if ! kill -0 "$1" 2>/dev/null; then
			stop_pid "$1" KILL 1
			return 1
		fi
		(($(now_ms) < deadline)) || return 2
		sleep 0.05
	done
	return 0
}

# ctlj ARGS...: vhostmqctl --json on the control socket $csock ($ctl).
ctlj() { timeout 5 "$ctl" -s "$csock" --json "$@" 2>&1; }

# pairs JSON FIELD...: one line per queue pair of the first device of a
# vhostmqctl --json reply, its FIELDs space separated.
pairs() {
	python3 -c '
import json, sys
for q in json.loads(sys.argv[1])["devices"][0]["queue_pairs"]:
    print(" ".join(str(q[k]).lower() for k in sys.argv[2:]))' "$@"
}

# start_watchdog S: SIGUSR1 to this script after S seconds, whatever hangs
# (the script's USR1 trap cleans up); stop_watchdog ends it first.
start_watchdog() {
	(
		sleep "$1" &
		s=$!
		trap 'kill $s 2>/dev/null; exit 0' TERM
		wait "$s" && kill -USR1 $$
	) >/dev/null 2>&1 &
	wd_pid=$!
}
stop_watchdog() {
	if [[ -n ${wd_pid:-} ]]; then
		kill "$wd_pid" 2>/dev/null || true
		wait "$wd_pid" 2>/dev/null || true
	fi
}

# An interactive testpmd (-i) fed through fd 3, its output in $tp_log, its
# pid $tp_pid. tp CMD: sends CMD once testpmd has shown its next prompt (10 s
# at most; $n_prompt counts those used); 1, and fail's reason, if it did not.
prompts() { grep -o 'testpmd> ' "$tp_log" 2>/dev/null | wc -l; }
tp() {
	local deadline=$(($(now_ms) + 10000))
	while (($(prompts) <= n_prompt)); do
		if ! kill -0 "$tp_pid" 2>/dev/null; then
			fail "testpmd exited (before '$1')"
			return 1
		fi
		if (($(now_ms) >= deadline)); then
			fail "testpmd gave no prompt within 10 s (before '$1')"
			return 1
		fi
		sleep 0.05
	done
	n_prompt=$((n_prompt + 1))
	echo "$1" >&3
}
