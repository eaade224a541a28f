#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/setup.sh - make this machine ready to build and run vhostmq:
# installs the Debian packages that are missing (nothing when all are there),
# reserves and mounts 2 MiB hugepages for DPDK peers, and removes what earlier
# runs of our scripts left behind. Idempotent; run as root. Sourced by demo.sh
# and test.sh, or run alone.
set -euo pipefail

VHOSTMQ_PACKAGES=(gcc libc6-dev meson ninja-build pkg-config python3 procps
                  libdpdk-dev dpdk dpdk-dev liburcu-dev libjansson-dev libcmocka-dev)
# The guest the VM tests boot under QEMU (tests/vm/), and the host's ping
# (vm-check.sh migrate counts pings lost in a migration): test.sh only.
VHOSTMQ_VM_PACKAGES=(qemu-system-x86 linux-image-amd64 busybox-static ethtool cpio
                     iputils-ping)
# The bench smoke's instruction counts (bench/extras.py runs callgrind): test.sh.
VHOSTMQ_BENCH_PACKAGES=(valgrind)
# The tests' kernel ports and packaging checks: ip and tc (veth pairs,
# multiqueue taps), systemd-analyze verify on the unit, groff and man
# rendering the man pages: test.sh only.
VHOSTMQ_TEST_PACKAGES=(iproute2 systemd groff-base man-db)
# The fuzz targets (tests/fuzz/, scripts/fuzz.sh): clang 14 and its runtimes,
# libFuzzer and the sanitizers (libclang_rt.fuzzer-x86_64.a).
VHOSTMQ_FUZZ_PACKAGES=(clang libclang-rt-14-dev)
# 512 x 2 MiB: two testpmd peers with default mbuf counts (~185 pages each).
VHOSTMQ_HUGEPAGES=${VHOSTMQ_HUGEPAGES:-512}

# vhostmq_install [PACKAGE...]: installs those missing (default: the build's).
vhostmq_install() {
	local missing=() p
	[ $# -gt 0 ] || set -- "${VHOSTMQ_PACKAGES[@]}"
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
}

vhostmq_hugepages() {
	local now
	now=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo 0)
	if [ "$now" -lt "$VHOSTMQ_HUGEPAGES" ]; then
		echo "$VHOSTMQ_HUGEPAGES" > /proc/sys/vm/nr_hugepages 2>/dev/null ||
			echo "setup: cannot reserve hugepages here (tests run without them)"
	fi
	if ! grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts; then
		mkdir -p /dev/hugepages
		mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null ||
			echo "setup: cannot mount hugetlbfs at /dev/hugepages (tests run without it)"
	fi
}

# Leftovers of killed runs: DPDK runtime dirs and hugepage files under our
# prefixes (vhostmq-*), and our sockets. Other programs' files are not touched.
# Names end in the pid of the process that made them (vhostmq-1234,
# vhostmq-demo-1234); those of live processes are kept.
vhostmq_cleanup() {
	local f pid
	for f in /var/run/dpdk/vhostmq-* /dev/hugepages/vhostmq-*; do
		[ -e "$f" ] || continue
		pid=$(basename "$f" | sed -n 's/^vhostmq-\([a-z]*-\)\{0,1\}\([0-9]\+\).*/\2/p')
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && continue
		rm -rf "$f"
	done
	for f in /tmp/vhostmq-*.sock; do
		[ -S "$f" ] || continue
		# a socket nobody listens on any more
		python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' \
			"$f" 2>/dev/null || rm -f "$f"
	done
}

vhostmq_setup() {
	[ "$(id -u)" -eq 0 ] || { echo "setup: run as root (packages, hugepages)" >&2; return 1; }
	vhostmq_install
	vhostmq_hugepages
	vhostmq_cleanup
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	vhostmq_setup
fi
