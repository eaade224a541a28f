# SPDX-License-Identifier: BSD-3-Clause
# tests/integration/proc.sh - sourced by the integration scripts: elapsed-time
# log lines, and stopping a child by PID with a bounded grace period (never
# through `timeout`, whose SIGKILL would orphan the child).

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
