#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/test.sh - the whole test suite: installs what is missing, builds
# twice (release, to catch optimiser-only warnings; and with AddressSanitizer +
# UndefinedBehaviorSanitizer, where every test runs: unit, hostile, the
# integration tests against real peers, and a Linux guest under QEMU), runs
# the bench smoke and a short fuzz stage (scripts/fuzz.sh), and prints one
# summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
vhostmq_setup
vhostmq_install "${VHOSTMQ_VM_PACKAGES[@]}" "${VHOSTMQ_BENCH_PACKAGES[@]}"

[ -f build/build.ninja ] || meson setup build --buildtype=release >/dev/null
ninja -C build

[ -f build-sanitize/build.ninja ] ||
	meson setup build-sanitize -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
ninja -C build-sanitize
rc=0
# Sanitizer findings fail the test that hit them (UBSan only prints by
# default); LeakSanitizer runs at every exit, vhostmq processes included.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
meson test -C build-sanitize --print-errorlogs "$@" || rc=$?
# The bench smoke: both backends (vhostmq, release build, and DPDK's vhost)
# pass traffic in every topology; it asserts nothing about speed.
smoke=0
python3 bench/bench.py --smoke --vhostmq build/backend/vhostmq \
	--out build/bench-smoke.json || smoke=$?
[ "$smoke" -eq 0 ] || rc=1
vhostmq_cleanup
# The fuzz stage: every libFuzzer target for 20 s (clang build in build-fuzz);
# fails on any crash, leak or broken invariant.
fuzz=0
scripts/fuzz.sh 20 || fuzz=$?
[ "$fuzz" -eq 0 ] || rc=1

python3 - build-sanitize/meson-logs/testlog.json "$smoke" "$fuzz" <<'PY'
import json, sys
res = [json.loads(l)["result"] for l in open(sys.argv[1]) if l.strip()]
res.append("OK" if sys.argv[2] == "0" else "FAIL")      # the bench smoke
res.append("OK" if sys.argv[3] == "0" else "FAIL")      # the fuzz stage
ok = sum(r in ("OK", "EXPECTEDFAIL") for r in res)
skip = sum(r == "SKIP" for r in res)
print(f"tests: {ok} passed, {len(res) - ok - skip} failed, {skip} skipped")
PY
exit $rc
