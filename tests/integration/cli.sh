#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/integration/cli.sh - the vhostmq command line and config errors, as a
# user meets them: --help/--version, exit codes, and errors that name the file,
# the field and what was expected; and who can attach: the owner, group and
# mode the socket gets. Starts nothing that serves traffic.
# Usage: cli.sh PATH-TO-VHOSTMQ
set -uo pipefail
bin=$1
work=$(mktemp -d /tmp/vhostmq-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0

# expect NAME WANT_RC PATTERN -- ARGS...: runs vhostmq, checks exit code and
# that stdout+stderr match PATTERN (grep -E).
expect() {
	local name=$1 want=$2 pat=$3 out rc
	shift 4
	out=$(timeout 20 "$bin" "$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ] && grep -Eq -- "$pat" <<<"$out"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $name: exit $rc (want $want), output:"
		sed 's/^/    /' <<<"$out" | head -20
	fi
}

cat >"$work/two.json" <<'J'
{ "devices": [ { "socket": "/tmp/vhostmq-cli-a.sock" }, { "socket": "/tmp/vhostmq-cli-b.sock" } ] }
J
cat >"$work/badq.json" <<'J'
{ "devices": [ { "socket": "/tmp/vhostmq-cli-a.sock", "queue_pairs": 0 } ] }
J
cat >"$work/unknown.json" <<'J'
{ "devices": [ { "socket": "/tmp/vhostmq-cli-a.sock", "queues": 2 } ] }
J
cat >"$work/half-wired.json" <<'J'
{ "devices": [ { "socket": "/tmp/vhostmq-cli-a.sock", "port": "device:vm1" },
               { "socket": "/tmp/vhostmq-cli-b.sock" } ] }
J
printf '{ "devices": [ { "socket": "/tmp/x.sock" ' >"$work/broken.json"
touch "$work/not-a-socket"

expect help 0 'Usage: vhostmq' -- --help
expect help-lists-socket 0 '--socket PATH' -- --help
expect version 0 '^vhostmq [0-9]+\.[0-9]+\.[0-9]+$' -- --version
expect unknown-option 2 "unknown option '--bogus'" -- --bogus
expect missing-value 2 '--queues needs a value' -- --queues
expect extra-argument 2 "unexpected argument 'extra'" -- extra
expect queues-zero 2 'queue_pairs: .*1\.\.[0-9]+.*0' -- --queues 0
expect queues-text 2 'queue_pairs' -- --queues four
expect bad-port 2 'port: .*loopback.*ethdev' -- --port tap0
expect port-device-no-name 2 'port: .*device:<name>.*got "device:"' -- --port device:
expect port-device-unknown 2 'devices\[0\]\.port: device "vm9" is not configured' -- --port device:vm9
expect port-device-self 2 'devices\[0\]\.port: device:vm0 names the device itself' -- --port device:vm0
expect port-device-not-wired-back 2 "half-wired.json: devices\[1\]\.port: vm0 is wired to vm1 \(device:vm1\) but vm1's port is loopback" -- --config "$work/half-wired.json"
expect bad-cores 2 'cores' -- --cores 1-x
expect bad-poll-mode 2 'poll_mode: .*adaptive.*busy' -- --poll-mode sometimes
expect relative-socket 2 'socket' -- --socket relative.sock
expect bad-stats-interval 2 'stats-interval' -- --stats-interval -1
expect missing-config 2 "$work/nope.json" -- --config "$work/nope.json"
expect broken-json 2 "broken.json: .*line" -- --config "$work/broken.json"
expect config-field 2 'badq.json: devices\[0\]\.queue_pairs: ' -- --config "$work/badq.json"
expect config-unknown-key 2 'unknown.json: devices\[0\]\.queues: unknown key' -- --config "$work/unknown.json"
expect override-needs-one-device 2 'single device.*2 devices' -- --config "$work/two.json" --queues 2
expect core-not-allowed 2 'cores: core 1000 is not available' -- --cores 1000
expect socket-not-a-socket 1 'not-a-socket exists and is not a socket' -- --socket "$work/not-a-socket"
[ -f "$work/not-a-socket" ] || { echo "FAIL: vhostmq removed a regular file"; fail=$((fail + 1)); }

# A clean exit leaves nothing behind: socket, control socket, DPDK runtime dir.
sock="$work/leave-nothing.sock"
"$bin" --socket "$sock" >/dev/null 2>&1 &
vpid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
if [ -S "$sock" ] && [ -d "/var/run/dpdk/vhostmq-$vpid" ]; then
	kill -TERM "$vpid"
	wait "$vpid"
	rc=$?
	if [ "$rc" -eq 0 ] && [ ! -e "$sock" ] && [ ! -e "$sock.ctl" ] &&
	   [ ! -e "/var/run/dpdk/vhostmq-$vpid" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL leave-nothing: exit $rc; left: $(ls -d "$sock" "$sock.ctl" \
			"/var/run/dpdk/vhostmq-$vpid" 2>/dev/null | tr '\n' ' ')"
	fi
else
	kill -KILL "$vpid" 2>/dev/null
	fail=$((fail + 1))
	echo "FAIL leave-nothing: vhostmq did not start with its own runtime dir"
fi

# Who can attach: --socket-user/--socket-group/--socket-mode and the config
# keys. Unknown names and client mode are config errors naming the field.
cat >"$work/nouser.json" <<'J'
{ "devices": [ { "socket": "/tmp/vhostmq-cli-a.sock", "socket_user": "no-such-user-vhostmq" } ] }
J
cat >"$work/client-owner.json" <<'J'
{ "devices": [ { "socket": "/tmp/vhostmq-cli-a.sock", "client": true, "socket_group": "nogroup" } ] }
J
expect help-lists-socket-user 0 '--socket-user USER' -- --help
expect unknown-socket-user 2 'socket_user: must be a user name.*"no-such-user-vhostmq": no such user' -- --socket-user no-such-user-vhostmq
expect unknown-socket-group 2 'socket_group: must be a group name.*no such group' -- --socket-group no-such-group-vhostmq
expect bad-socket-mode 2 'socket_mode: must be a string of octal digits' -- --socket-mode 0999
expect socket-user-with-client 2 'socket_user: is only for a listening socket' -- --client --socket-user nobody
expect config-unknown-user 2 'nouser.json: devices\[0\]\.socket_user: .*no such user' -- --config "$work/nouser.json"
expect config-owner-with-client 2 'client-owner.json: devices\[0\]\.socket_group: is only for a listening socket' -- --config "$work/client-owner.json"

# owned NAME WANT SOCKET ARGS...: starts vhostmq with ARGS, checks that
# SOCKET shows up as WANT ("user:group mode" as stat prints it), stops it.
owned() {
	local name=$1 want=$2 sock=$3 got="" vpid
	shift 3
	"$bin" "$@" >"$work/$name.log" 2>&1 &
	vpid=$!
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	[ -S "$sock" ] && got=$(stat -c '%U:%G %a' "$sock")
	kill -TERM "$vpid" 2>/dev/null
	wait "$vpid"
	if [ "$got" = "$want" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $name: socket is '$got', want '$want'; log:"
		sed 's/^/    /' "$work/$name.log" | head -20
	fi
}
cat >"$work/owner.json" <<J
{ "devices": [ { "socket": "$work/owner-config.sock", "socket_user": "daemon",
                 "socket_group": 65534, "socket_mode": "0600" } ] }
J
owned owner-default "$(id -un):$(id -gn) 660" "$work/d.sock" --socket "$work/d.sock"
owned owner-cli 'nobody:nogroup 620' "$work/c.sock" --socket "$work/c.sock" \
	--socket-user nobody --socket-group nogroup --socket-mode 0620
owned owner-numeric 'daemon:nogroup 660' "$work/n.sock" --socket "$work/n.sock" \
	--socket-user 1 --socket-group 65534
owned owner-config 'daemon:nogroup 600' "$work/owner-config.sock" --config "$work/owner.json"
owned owner-cli-over-config 'nobody:nogroup 640' "$work/owner-config.sock" \
	--config "$work/owner.json" --socket-user nobody --socket-mode 0640

# MTU and offloads: --mtu and --offload NAME=on|off go through the config's
# parsers, so they fail with the same path and form as the file's keys.
cat >"$work/badmtu.json" <<'J'
{ "devices": [ { "socket": "/tmp/vhostmq-cli-a.sock", "mtu": 10 } ] }
J
cat >"$work/badoffload.json" <<'J'
{ "devices": [ { "socket": "/tmp/vhostmq-cli-a.sock", "offloads": { "csum": false, "tso4": false } } ] }
J
cat >"$work/offloads.json" <<J
{ "devices": [ { "socket": "$work/offloads.sock", "mtu": 9000,
                 "offloads": { "csum": false, "guest_csum": true } } ] }
J
expect help-lists-mtu 0 '--mtu N' -- --help
expect help-lists-offload 0 '--offload NAME=on\|off' -- --help
expect mtu-too-small 2 'mtu: must be an integer 68\.\.65521, got "10"' -- --mtu 10
expect mtu-too-big 2 'mtu: must be an integer 68\.\.65521, got "65522"' -- --mtu 65522
expect mtu-text 2 'mtu: must be an integer' -- --mtu jumbo
expect mtu-missing-value 2 '--mtu needs a value' -- --mtu
expect offload-unknown 2 'offloads\.tso4: unknown key "tso4": must be one of csum, guest_csum, host_tso4, host_tso6, host_ecn' -- --offload tso4=off
expect offload-bad-value 2 'offloads\.csum: must be "on" or "off", got "false"' -- --offload csum=false
expect offload-no-value 2 'offloads: must be NAME=on or NAME=off, got "csum"' -- --offload csum
expect offload-second-bad 2 'offloads\.guest_csum: must be "on" or "off"' -- --offload csum=off --offload guest_csum=0
expect config-mtu 2 'badmtu.json: devices\[0\]\.mtu: must be an integer 68\.\.65521, got 10$' -- --config "$work/badmtu.json"
expect config-offload-key 2 'badoffload.json: devices\[0\]\.offloads\.tso4: unknown key "tso4": must be one of csum, guest_csum, host_tso4, host_tso6, host_ecn' -- --config "$work/badoffload.json"
expect mtu-override-needs-one-device 2 'single device.*2 devices' -- --config "$work/two.json" --mtu 9000
expect offload-override-needs-one-device 2 'single device.*2 devices' -- --config "$work/two.json" --offload csum=off
# Accepted: vhostmq starts and serves its socket.
owned mtu-offload-cli "$(id -un):$(id -gn) 660" "$work/m.sock" --socket "$work/m.sock" \
	--mtu 9000 --offload csum=off --offload guest_csum=off --offload csum=on
owned mtu-offload-config "$(id -un):$(id -gn) 660" "$work/offloads.sock" \
	--config "$work/offloads.json" --mtu 68 --offload guest_csum=off

# Tuning: --tune NAME=VALUE goes through the parser of the config's "tuning"
# keys, and the port_* values are for an ethdev port, after the overrides too.
cat >"$work/badtune.json" <<'J'
{ "devices": [ { "socket": "/tmp/vhostmq-cli-a.sock", "tuning": { "burst_frames": 0 } } ] }
J
cat >"$work/ethtune.json" <<'J'
{ "devices": [ { "socket": "/tmp/vhostmq-cli-a.sock", "port": "ethdev:net_null0",
                 "tuning": { "port_rx_ring": 4096 } } ] }
J
expect help-lists-tune 0 '--tune NAME=VALUE' -- --help
expect tune-out-of-range 2 'tuning\.burst_frames: must be an integer 1\.\.64, got "0"' -- --tune burst_frames=0
expect tune-mbufs-small 2 'tuning\.mbufs: must be 0 \(automatic\) or an integer 1024\.\.16777216, got "1000"' -- --tune mbufs=1000
expect tune-unknown 2 'tuning\.burst: unknown key "burst": must be one of burst_frames, burst_bytes' -- --tune burst=64
expect tune-no-value 2 'tuning: must be NAME=VALUE' -- --tune burst_frames
expect tune-port-on-loopback 2 "tuning\.port_rx_ring: is only for an ethdev port \(this device's port is loopback\)" -- --tune port_rx_ring=4096
expect tune-port-after-port-override 2 "tuning\.port_rx_ring: is only for an ethdev port" -- --config "$work/ethtune.json" --port loopback
expect config-tune 2 'badtune.json: devices\[0\]\.tuning\.burst_frames: must be an integer 1\.\.64, got 0$' -- --config "$work/badtune.json"
expect tune-override-needs-one-device 2 'single device.*2 devices' -- --config "$work/two.json" --tune burst_frames=64
owned tune-cli "$(id -un):$(id -gn) 660" "$work/t.sock" --socket "$work/t.sock" \
	--tune burst_frames=64 --tune burst_bytes=131072 --tune burst_frames=16
# A port queue count the driver does not have names the key and the driver;
# a pool that does not fit EAL's memory says how much it needs and how to
# give it.
cat >"$work/oom.json" <<J
{ "eal_args": ["--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--file-prefix=vmq-cli-$$"],
  "devices": [ { "socket": "$work/oom.sock", "tuning": { "mbufs": 600000 } } ] }
J
expect port-queues-above-driver 1 'device vm0: port: tuning\.port_rx_queues 17: driver net_ring has at most 16 rx queue\(s\)' -- --socket "$work/r.sock" --queues 4 --port ethdev:net_ring0 --tune port_rx_queues=17
expect pool-out-of-memory 1 'device vm0: mbuf pool of 600000 mbufs \(1409 MiB\): Cannot allocate memory; give EAL that much more memory \(eal_args: -m MB, or hugepages\), or lower tuning\.mbufs' -- --config "$work/oom.json"

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
