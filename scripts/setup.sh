#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/setup.sh - make this machine ready to build and run vhostmq:
# installs the Debian packages that are missing (nothing when all are there),
# reserves and mounts 2 MiB hugepages for DPDK peers, and removes what earlier
# runs of our scripts left behind. Idempotent; run as root. Sourced by demo.sh
# and test.sh, or run alone.
set -euo pipefail

VHOSTMQ_PACKAGES=(gcc libc6-dev meson ninja-build pkg-config python3 procps
                  libdpdk-dev dpdk liburcu-dev libjansson-dev libcmocka-dev)
# 512 x 2 MiB: two testpmd peers with default mbuf counts (~185 pages each).
VHOSTMQ_HUGEPAGES=${VHOSTMQ_HUGEPAGES:-512}

vhostmq_install() {
	local missing=() p
	for p in "${VHOSTMQ_PACKAGES[@]}"; do
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
vhostmq_cleanup() {
	rm -rf /var/run/dpdk/vhostmq-* 2>/dev/null || true
	rm -f /dev/hugepages/vhostmq-* 2>/dev/null || true
	rm -f /tmp/vhostmq-*.sock 2>/dev/null || true
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
