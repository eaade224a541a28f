#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tests/dist/verify_unit.sh UNIT [PAGE...] - systemd-analyze verify passes
# on vhostmq.service (UNIT: the copy whose ExecStart is this build's
# vhostmq, since verify checks that the program exists), with the man pages
# its Documentation= names looked up among PAGEs (the built ones). And a
# copy whose ExecStart names a missing program fails, so a pass means
# something. Without systemd-analyze: skipped (77), but failed under CI=true.
set -eu
unit=$1
shift
if ! command -v systemd-analyze >/dev/null 2>&1; then
	if [ "${CI:-}" = true ]; then
		echo "systemd-analyze not found (Debian package systemd), and CI=true" >&2
		exit 1
	fi
	echo "systemd-analyze not found: skipped"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
man=--man=no
if command -v man >/dev/null 2>&1; then
	for p in "$@"; do
		s=${p##*.}
		mkdir -p "$tmp/man/man$s"
		cp "$p" "$tmp/man/man$s/"
	done
	MANPATH=$tmp/man
	export MANPATH
	man=--man=yes
fi

# verify prints what it finds wrong and exits non-zero for errors; a warning
# about our unit fails the test as well.
if ! systemd-analyze verify "$man" "$unit" >"$tmp/out" 2>&1; then
	cat "$tmp/out"
	echo "FAIL: systemd-analyze verify $man $unit" >&2
	exit 1
fi
cat "$tmp/out"
if grep -q 'vhostmq' "$tmp/out"; then
	echo "FAIL: systemd-analyze verify warns about vhostmq.service" >&2
	exit 1
fi
grep -q '^ExecStart=/.*/vhostmq --config /.*/vhostmq/vhostmq\.json$' "$unit" || {
	echo "FAIL: ExecStart is not vhostmq --config .../vhostmq/vhostmq.json" >&2
	exit 1
}

mkdir "$tmp/bad"
sed 's#^ExecStart=[^ ]*#ExecStart=/nonexistent/vhostmq#' "$unit" >"$tmp/bad/vhostmq.service"
if systemd-analyze verify "$man" "$tmp/bad/vhostmq.service" >"$tmp/out" 2>&1; then
	echo "FAIL: verify passed a unit whose program does not exist" >&2
	exit 1
fi
echo "ok: $unit verified ($man); a missing ExecStart program is caught"
