#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/integration/ctl.sh - the control socket and vhostmqctl, as a user
# meets them: a vhostmq with an ethdev (net_null) port and 4 queue pairs, no
# frontend; every command's output, RSS changes seen by "rss show", the
# Microsoft RSS test vectors through "rss hash", moving a pair, every error
# naming its field with exit status 1 (usage errors 2), a client that sends
# nothing not holding up others, then a two-device vhostmq (device required,
# loopback has no RSS). vhostmq must exit 0 (ASan/LSan clean in the sanitizer
# build) and remove its control socket.
# Usage: ctl.sh VHOSTMQ VHOSTMQCTL PYTHON3
set -uo pipefail
vhostmq=$1 ctl=$2 py=$3
work=$(mktemp -d /tmp/vhostmq-ctl.XXXXXX)
pid=""
cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
pass=0 fail=0
default_key=6d:5a:56:da:25:5b:0e:c2:41:67:25:3d:43:a3:8f:b0:d0:ca:2b:cb:ae:7b:30:b4:77:cb:2d:a3:80:30:f2:0c:6a:42:b7:3b:be:ac:01:fa

# The CPUs this test may use (taskset/cgroups): poll threads go on the last,
# "move" sends a pair to the first.
allowed=$(awk '/^Cpus_allowed_list/ { print $2 }' /proc/self/status)
first=$(tr ',' '\n' <<<"$allowed" | head -1 | sed 's/-.*//')
last=$(tr ',' '\n' <<<"$allowed" | tail -1 | sed 's/.*-//')

bad() {
	fail=$((fail + 1))
	echo "FAIL $1"
	[[ -n ${2-} ]] && sed 's/^/    /' <<<"$2" | head -40
}

# expect NAME WANT_RC PATTERN -- ARGS...: runs vhostmqctl -s $csock ARGS,
# checks its exit status and that stdout+stderr match PATTERN (grep -E).
expect() {
	local name=$1 want=$2 pat=$3 out rc
	shift 4
	out=$(timeout 20 "$ctl" -s "$csock" "$@" 2>&1)
	rc=$?
	if [[ $rc -eq $want ]] && grep -Eq -- "$pat" <<<"$out"; then
		pass=$((pass + 1))
	else
		bad "$name: exit $rc (want $want), output:" "$out"
	fi
}

# expect_raw NAME WANT_RC PATTERN REQUEST: sends REQUEST as-is.
expect_raw() {
	local name=$1 want=$2 pat=$3 out rc
	out=$(printf '%s\n' "$4" | timeout 20 "$ctl" -s "$csock" raw 2>&1)
	rc=$?
	if [[ $rc -eq $want ]] && grep -Eq -- "$pat" <<<"$out"; then
		pass=$((pass + 1))
	else
		bad "$name: exit $rc (want $want), output:" "$out"
	fi
}

# jcheck NAME PYTHON-EXPR -- ARGS...: the --json reply r must satisfy EXPR.
jcheck() {
	local name=$1 expr=$2 out
	shift 3
	out=$(timeout 20 "$ctl" -s "$csock" --json "$@" 2>&1)
	if "$py" -c 'import json, sys; r = json.loads(sys.argv[1]); sys.exit(0 if ('"$expr"') else 1)' \
	      "$out" 2>/dev/null; then
		pass=$((pass + 1))
	else
		bad "$name: reply does not satisfy $expr:" "$out"
	fi
}

# count NAME WANT PATTERN -- ARGS...: exactly WANT output lines match PATTERN.
count() {
	local name=$1 want=$2 pat=$3 out n
	shift 4
	out=$(timeout 20 "$ctl" -s "$csock" "$@" 2>&1)
	n=$(grep -Ec -- "$pat" <<<"$out")
	if [[ $n -eq $want ]]; then
		pass=$((pass + 1))
	else
		bad "$name: $n lines match '$pat' (want $want):" "$out"
	fi
}

# start_vhostmq CONTROL-SOCKET ARGS...: starts vhostmq and waits for its
# control socket.
start_vhostmq() {
	local deadline=$((SECONDS + 30))
	csock=$1
	shift
	"$vhostmq" "$@" >"$work/vhostmq.log" 2>&1 &
	pid=$!
	until [[ -S $csock ]]; do
		if ! kill -0 "$pid" 2>/dev/null || ((SECONDS > deadline)); then
			bad "vhostmq $* did not create $csock" "$(cat "$work/vhostmq.log")"
			echo "ctl: $pass passed, $fail failed"
			exit 1
		fi
		sleep 0.1
	done
}

# stop_vhostmq: SIGTERM; it must exit 0 and remove its control socket.
stop_vhostmq() {
	local rc
	kill "$pid"
	wait "$pid"
	rc=$?
	pid=""
	if [[ $rc -eq 0 ]] && ! grep -q 'Sanitizer' "$work/vhostmq.log"; then
		pass=$((pass + 1))
	else
		bad "vhostmq exited $rc:" "$(tail -40 "$work/vhostmq.log")"
	fi
	if [[ -e $csock ]]; then
		bad "control socket $csock left behind"
	else
		pass=$((pass + 1))
	fi
}

# --- one ethdev device, 4 pairs, no frontend -------------------------------
start_vhostmq "$work/vm.sock.ctl" --socket "$work/vm.sock" --port ethdev:net_null0 \
	--queues 4 --cores "$last"

expect help 0 'Usage: vhostmqctl' -- --help
expect version 0 '^vhostmqctl [0-9]+\.[0-9]+\.[0-9]+$' -- --version

# stats and queues: one line a pair, nothing running without a frontend
expect stats-header 0 'qp +core +rx +tx +tx_packets +tx_drops +rx_packets +rx_drops +handoffs +notifications' -- stats
count stats-rows 4 "^ +[0-3] +$last +off +off +0 +0 +0 +0 +0 +0$" -- stats
expect stats-device 0 '^device vm0  port ethdev:net_null0  frontend none$' -- stats
jcheck stats-json 'len(r["devices"][0]["queue_pairs"]) == 4 and all(q[k] == 0 for q in r["devices"][0]["queue_pairs"] for k in ("tx_packets", "tx_bytes", "tx_drop_port", "tx_drop_runt", "tx_drop_too_big", "tx_drop_bad_chain", "tx_nombuf", "tx_notify", "rx_packets", "rx_bytes", "rx_drop_too_big", "rx_drop_broken", "rx_drop_bad_chain", "rx_notify", "rx_wait_no_buf", "steer_handoff", "steer_drop_full", "rx_drop_disabled")) and r["devices"][0]["queue_pairs"][3]["rx_enabled"] is False' -- stats
count queues-rows 4 "^ +([0-3]) +$last  stopped +stopped +\\1 +\\1$" -- queues
expect queues-port 0 "^port queues: 4 rx, 4 tx$" -- queues
jcheck queues-json '[q["qp"] for q in r["devices"][0]["queue_pairs"]] == [0, 1, 2, 3] and r["devices"][0]["queue_pairs"][0]["tx_running"] is False and [(q["port_rx_queues"], q["port_tx_queue"], q["port_tx_shared"]) for q in r["devices"][0]["queue_pairs"]] == [([k], k, False) for k in range(4)]' -- queues

# rss show: the Microsoft key, 128 entries, 8 a line like ethtool -x
expect show-key 0 "^$default_key$" -- rss show
expect show-mode 0 '^device vm0  steering rss  4 queue pairs$' -- rss show
expect show-none-enabled 0 'RX rings enabled: none' -- rss show
count show-lines 16 '^ +[0-9]+:  ( +[0-3]){8}$' -- rss show
expect show-first-line 0 '^    0:      0     1     2     3     0     1     2     3$' -- rss show
expect show-last-line 0 '^  120:  ' -- rss show
jcheck show-json 'r["reta_size"] == 128 and len(r["table"]) == 128 and r["n_enabled"] == 0 and r["enabled"] == [] and r["key"].startswith("6d:5a:56:da") and r["weights"] == [] and r["mode"] == "rss"' -- rss show

# Microsoft RSS verification suite vectors (default key): IPv4 and IPv6,
# with ports (tcp, udp) and without (ip)
expect hash-tcp4 0 '^hash 0x51ccc178  table entry 120  queue none' -- rss hash tcp 66.9.149.187 161.142.100.80 2794 1766
expect hash-udp4 0 '^hash 0x51ccc178 ' -- rss hash udp 66.9.149.187 161.142.100.80 2794 1766
expect hash-tcp4-2 0 '^hash 0xc626b0ea ' -- rss hash tcp 199.92.111.2 65.69.140.83 14230 4739
expect hash-ip4 0 '^hash 0x323e8fc2 ' -- rss hash ip 66.9.149.187 161.142.100.80
expect hash-tcp6 0 '^hash 0x40207d3d ' -- rss hash tcp 3ffe:2501:200:1fff::7 3ffe:2501:200:3::1 2794 1766
expect hash-ip6 0 '^hash 0x2cc18cd5 ' -- rss hash ip 3ffe:2501:200:1fff::7 3ffe:2501:200:3::1
jcheck hash-json 'r["hash"] == "0x51ccc178" and r["queue"] is None and r["index"] == 0x51ccc178 % 128' -- rss hash tcp 66.9.149.187 161.142.100.80 2794 1766

# set-key, then show; the hash follows the key; back with 80 bare digits
key2=$(printf '%02x:' $(seq 1 40) | sed 's/:$//')
expect set-key 0 "^$key2$" -- rss set-key "$key2"
expect set-key-show 0 "^$key2$" -- rss show
jcheck set-key-hash 'r["hash"] != "0x51ccc178"' -- rss hash tcp 66.9.149.187 161.142.100.80 2794 1766
expect set-key-bare 0 "^$default_key$" -- rss set-key "${default_key//:/}"
expect set-key-hash-back 0 '^hash 0x51ccc178 ' -- rss hash tcp 66.9.149.187 161.142.100.80 2794 1766

# set-table in ethtool -X words, then show
expect equal-2 0 'Table filled by: weights 1 1$' -- rss set-table equal 2
expect equal-2-show 0 '^    0:      0     1     0     1     0     1     0     1$' -- rss show
jcheck equal-2-json 'r["weights"] == [1, 1] and set(r["table_all_enabled"]) == {0, 1} and len(r["table_all_enabled"]) == 128' -- rss show
expect weight 0 'Table filled by: weights 1 1 2 0$' -- rss set-table weight 1 1 2 0
jcheck weight-json 'r["weights"] == [1, 1, 2, 0] and [r["table_all_enabled"].count(q) for q in range(4)] == [32, 32, 64, 0]' -- rss show
expect table 0 'Table filled by: explicit table$' -- rss set-table table 3 2 1 0 0 1 2 3
expect table-show 0 '^    0:      3     2     1     0     0     1     2     3$' -- rss show
jcheck table-json 'r["reta_size"] == 8 and r["configured_table"] == [3, 2, 1, 0, 0, 1, 2, 3] and r["weights"] == []' -- rss show
expect size-equal 0 'Table filled by: weights 1 1 1 1$' -- rss set-table size 64 equal 4
jcheck size-equal-json 'r["reta_size"] == 64 and len(r["table"]) == 64' -- rss show
expect back-to-128 0 '^  120:  ' -- rss set-table size 128 equal 4

# pmd: each thread and the pairs it serves, busy 0 with nothing attached
count pmd-threads 1 "^pmd thread core $last: busy +0\.0% over [0-9.]+ s$" -- pmd
count pmd-pairs 4 '^  device vm0 +qp +[0-3]  busy +0\.0%$' -- pmd
jcheck pmd-json 'len(r["threads"]) == 1 and r["threads"][0]["core"] == '"$last"' and [p["qp"] for p in r["threads"][0]["pairs"]] == [0, 1, 2, 3] and r["threads"][0]["interval_s"] > 0' -- pmd
expect pmd-args 2 'pmd takes no arguments' -- pmd now

# move: pair 1 to the first allowed CPU
expect move 0 "^ +1 +$first  stopped +stopped +1 +1$" -- move 1 "$first"
expect move-queues 0 "^ +1 +$first  stopped +stopped +1 +1$" -- queues
expect move-others-stay 0 "^ +2 +$last  stopped +stopped +2 +2$" -- queues

# errors: exit 1, "vhostmqctl: FIELD: reason"
expect_raw err-unknown-cmd 1 '^vhostmqctl: cmd: unknown command "bogus": must be one of stats, ' '{"cmd":"bogus"}'
expect_raw err-missing-cmd 1 '^vhostmqctl: cmd: required' '{"device":"vm0"}'
expect_raw err-cmd-type 1 '^vhostmqctl: cmd: unknown command 5' '{"cmd":5}'
expect_raw err-unknown-key 1 '^vhostmqctl: bogus: unknown key for stats: must be one of device$' '{"cmd":"stats","bogus":1}'
expect_raw err-unknown-key-set 1 '^vhostmqctl: hkey: unknown key for rss-set-key' '{"cmd":"rss-set-key","hkey":"00"}'
expect err-key-length 1 '^vhostmqctl: key: must be 40 bytes' -- rss set-key 6d:5a:56
expect err-key-hex 1 '^vhostmqctl: key: ' -- rss set-key "${default_key/6d/zz}"
expect_raw err-key-missing 1 '^vhostmqctl: key: required' '{"cmd":"rss-set-key"}'
expect_raw err-key-type 1 '^vhostmqctl: key: must be 40 bytes as hex.*got 5' '{"cmd":"rss-set-key","key":5}'
expect err-table-entry 1 '^vhostmqctl: table\[2\]: queue pair 4 does not exist' -- rss set-table table 0 1 4 3
expect err-weight-pair 1 '^vhostmqctl: weights\[4\]: ' -- rss set-table weight 1 1 1 1 1
expect err-weights-zero 1 '^vhostmqctl: weights: ' -- rss set-table weight 0 0 0 0
expect err-equal-range 1 '^vhostmqctl: equal: must be an integer 1\.\.4, got 5' -- rss set-table equal 5
expect err-size-range 1 '^vhostmqctl: size: must be an integer 1\.\.512, got 513' -- rss set-table size 513 equal 2
expect err-size-table 1 '^vhostmqctl: size: is 4, but the table has 2 entries' -- rss set-table size 4 table 0 1
expect_raw err-two-fills 1 '^vhostmqctl: weights: give only one of equal, weights and table' '{"cmd":"rss-set-table","equal":2,"weights":[1]}'
expect_raw err-no-fill 1 '^vhostmqctl: table: required: one of equal, weights and table' '{"cmd":"rss-set-table","size":8}'
expect_raw err-table-type 1 '^vhostmqctl: table\[1\]: must be an integer 0\.\.65535, got "1"' '{"cmd":"rss-set-table","table":[0,"1"]}'
expect_raw err-table-empty 1 '^vhostmqctl: table: must have 1\.\.512 entries, got 0' '{"cmd":"rss-set-table","table":[]}'
expect err-hash-family 1 '^vhostmqctl: dst: is IPv6, but src is IPv4' -- rss hash tcp 1.2.3.4 ::1 1 2
expect err-hash-addr 1 '^vhostmqctl: src: must be an IPv4 or IPv6 address, got "1\.2\.3"' -- rss hash tcp 1.2.3 1.2.3.4 1 2
expect err-hash-port 1 '^vhostmqctl: sport: must be an integer 0\.\.65535, got 65536' -- rss hash udp 1.2.3.4 5.6.7.8 65536 1
expect_raw err-hash-noport 1 '^vhostmqctl: dport: required with tcp' '{"cmd":"rss-hash","proto":"tcp","src":"1.2.3.4","dst":"5.6.7.8","sport":1}'
expect_raw err-hash-ip-port 1 '^vhostmqctl: sport: only with tcp or udp' '{"cmd":"rss-hash","proto":"ip","src":"1.2.3.4","dst":"5.6.7.8","sport":1}'
expect_raw err-hash-proto 1 '^vhostmqctl: proto: must be tcp, udp or ip, got "sctp"' '{"cmd":"rss-hash","proto":"sctp","src":"1.2.3.4","dst":"5.6.7.8"}'
expect err-move-qp 1 '^vhostmqctl: qp: must be an integer 0\.\.3, got 4' -- move 4 0
expect err-move-core 1 '^vhostmqctl: core: ' -- move 1 1023
expect_raw err-move-type 1 '^vhostmqctl: qp: must be an integer 0\.\.3, got "1"' '{"cmd":"move","qp":"1","core":0}'
expect_raw err-move-missing 1 '^vhostmqctl: core: required' '{"cmd":"move","qp":1}'
expect err-no-such-device 1 '^vhostmqctl: device: no device named "nope" \(devices: vm0\)' -- -d nope rss show
expect_raw err-device-type 1 '^vhostmqctl: device: must be a device name, got 3' '{"cmd":"rss-show","device":3}'
expect_raw err-bad-json 1 '^vhostmqctl: request: not a JSON object: ' '{"cmd":'
expect_raw err-not-object 1 '^vhostmqctl: request: must be a JSON object, got an array' '["stats"]'
expect_raw err-duplicate 1 '^vhostmqctl: request: .*duplicate' '{"cmd":"stats","cmd":"queues"}'
expect_raw err-oversized 1 '^vhostmqctl: request: longer than 65535 bytes' \
	"{\"cmd\":\"stats\",\"pad\":\"$(head -c 70000 /dev/zero | tr '\0' a)\"}"
expect_raw err-escape 1 '^vhostmqctl: "\\x1b\[31m": unknown key' '{"cmd":"stats","\u001b[31m":1}'
# an explicit null is the default; the error reply is the documented object
expect_raw null-device 0 '"devices"' '{"cmd":"stats","device":null}'
out=$(printf '{"cmd":"bogus"}\n' | timeout 20 "$ctl" -s "$csock" --json raw 2>/dev/null)
if "$py" -c 'import json, sys; r = json.loads(sys.argv[1]); sys.exit(0 if set(r) == {"error"} and set(r["error"]) == {"path", "reason"} and r["error"]["path"] == "cmd" else 1)' "$out"; then
	pass=$((pass + 1))
else
	bad "error reply shape" "$out"
fi

# usage errors: exit 2, nothing sent
expect usage-none 2 'a command is needed' --
expect usage-unknown 2 "unknown command 'bogus'" -- bogus
expect usage-move 2 'QP and CORE must be numbers' -- move one 0
expect usage-hash 2 'usage: rss hash' -- rss hash sctp 1.2.3.4 5.6.7.8
expect usage-hash-args 2 'wrong number of arguments' -- rss hash tcp 1.2.3.4 5.6.7.8
expect usage-set-table 2 'usage: rss set-table' -- rss set-table even 2
expect usage-option 2 "unknown option '--bogus'" -- --bogus stats

# a client that connects and sends nothing gets an error after 200 ms; vhostmq
# serves the next client then
"$py" - "$csock" >"$work/stuck.out" 2>&1 <<'P' &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(10)
print(s.recv(4096).decode())
P
stuck=$!
sleep 0.2
t0=$(date +%s%N)
expect after-stuck 0 '^device vm0 ' -- queues
ms=$((($(date +%s%N) - t0) / 1000000))
wait "$stuck"
if grep -q '"path":"request","reason":"incomplete: no newline within 200 ms"' "$work/stuck.out" &&
   ((ms < 5000)); then
	pass=$((pass + 1))
else
	bad "stuck client: next client waited $ms ms; stuck client got:" "$(cat "$work/stuck.out")"
fi

stop_vhostmq

# not running: the socket path and what it means
expect not-running 1 "cannot connect to $work/vm.sock.ctl: .*vhostmq is not running" -- stats

# --- two devices (loopback): device required, no RSS on loopback ----------
cat >"$work/two.json" <<J
{ "devices": [
    { "name": "a", "socket": "$work/a.sock", "queue_pairs": 2, "cores": [$last] },
    { "name": "b", "socket": "$work/b.sock", "cores": [$last] } ] }
J
start_vhostmq "$work/two.ctl" --config "$work/two.json" --control "$work/two.ctl"
expect two-needs-device 1 '^vhostmqctl: device: required, this vhostmq has 2 devices: a, b$' -- rss show
expect two-move-needs-device 1 '^vhostmqctl: device: required, this vhostmq has 2 devices' -- move 0 0
count two-stats-all 2 '^device [ab]  port loopback  frontend none$' -- stats
count two-stats-one 1 '^device b ' -- -d b stats
count two-queues-one 2 "^ +[01] +$last  stopped" -- -d a queues
expect two-loopback-show 0 'device b: its port \(loopback\) sends each frame back' -- -d b rss show
jcheck two-loopback-json 'r["mode"] == "pair" and r["queue_pairs"] == 1 and "table" not in r' -- -d b rss show
expect two-loopback-set-key 1 '^vhostmqctl: device: b has a loopback port, which does no RSS' -- -d b rss set-key "$default_key"
expect two-loopback-hash 1 '^vhostmqctl: device: a has a loopback port' -- -d a rss hash ip 1.2.3.4 5.6.7.8
expect two-move 0 "^ +1 +$first  stopped" -- -d a move 1 "$first"
[[ -S $work/a.sock.ctl ]] && bad "--control ignored: $work/a.sock.ctl exists"
stop_vhostmq

# --- a port with fewer queues than pairs: which thread uses which queue ----
# One port RX queue, read by pair 0's thread; one TX queue per thread, shared
# (locked) by the two threads while they outnumber the port's TX queues.
start_vhostmq "$work/few.ctl" --socket "$work/few.sock" --control "$work/few.ctl" \
	--queues 4 --cores "$first,$last" --port ethdev:net_null1 \
	--tune port_rx_queues=1 --tune port_tx_queues=1
expect few-port 0 '^port queues: 1 rx, 1 tx$' -- queues
grep -q 'port net_null: 1 rx / 1 tx queue(s)' "$work/vhostmq.log" && pass=$((pass + 1)) || bad 'few-log: no "1 rx / 1 tx queue(s)" line' "$(cat "$work/vhostmq.log")"
if [[ $first != "$last" ]]; then
	count few-shared 4 '^ +[0-3] +[0-9]+  stopped +stopped +0 shared ' -- queues
	jcheck few-json '[(q["port_rx_queues"], q["port_tx_queue"], q["port_tx_shared"]) for q in r["devices"][0]["queue_pairs"]] == [([0], 0, True), ([], 0, True), ([], 0, True), ([], 0, True)]' -- queues
	# every pair on one thread: the queue is that thread's alone again
	expect few-move1 0 "^ +1 +$last  stopped" -- move 1 "$last"
	expect few-move3 0 "^ +3 +$last  stopped" -- move 3 "$last"
	expect few-move0 0 "^ +0 +$last  stopped" -- move 0 "$last"
	expect few-move2 0 "^ +2 +$last  stopped" -- move 2 "$last"
fi
count few-alone 4 '^ +[0-3] +[0-9]+  stopped +stopped +0 +(0|-)$' -- queues
jcheck few-alone-json '[(q["port_rx_queues"], q["port_tx_shared"]) for q in r["devices"][0]["queue_pairs"]] == [([0], False), ([], False), ([], False), ([], False)]' -- queues
stop_vhostmq
if [[ $first != "$last" ]]; then
	# two TX queues for two threads: one each, nothing shared
	start_vhostmq "$work/few.ctl" --socket "$work/few.sock" --control "$work/few.ctl" \
		--queues 4 --cores "$first,$last" --port ethdev:net_null2 --tune port_tx_queues=2
	jcheck two-txq-json '[(q["port_tx_queue"], q["port_tx_shared"]) for q in r["devices"][0]["queue_pairs"]] == [(0, False), (1, False), (0, False), (1, False)] and r["devices"][0]["port_rx_queues"] == 4' -- queues
	stop_vhostmq
fi

echo "ctl: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
