#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/fuzz.sh [SECONDS_PER_TARGET] - runs every libFuzzer target in
# tests/fuzz for SECONDS_PER_TARGET seconds (default 60): installs clang and
# libFuzzer if missing, builds them in build-fuzz (clang, ASan + UBSan, the
# libraries instrumented too), seeds a throw-away working corpus from
# tests/fuzz/corpus and from the seed generator (the committed corpus is never
# written), and prints per target the executions reached and whether anything
# was found. A fixed -seed makes a run repeatable up to timing. Exits non-zero
# on any crash, leak, timeout or broken invariant; the input that did it is
# kept under build-fuzz/fuzz-artifacts/<target>/ (copy it to
# tests/fuzz/crashers/<target>/ to report it; tests/fuzz/FINDINGS.md). Replay
# one by hand with
#   FUZZ_VERBOSE=1 build-fuzz/tests/fuzz/<target> FILE
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh

secs=${1:-60}
case "$secs" in
''|*[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2 ;;
esac
targets=(fuzz_vhu_dispatch fuzz_vq_walk fuzz_vq_packed fuzz_cfg)
build="build-fuzz"

vhostmq_install
vhostmq_install "${VHOSTMQ_FUZZ_PACKAGES[@]}"

# werror off here only: clang warns about things gcc does not (positional
# initialisers leaving a field zero), and the gcc builds hold the warning bar.
if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Dfuzz=true -Dwerror=false \
		-Db_sanitize=address,undefined -Db_lundef=false \
		'-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=all' >/dev/null
fi
if ! nice -n 10 ninja -C "$build" "${targets[@]/#/tests/fuzz/}" tests/fuzz/fuzz_seeds \
	>"$build/fuzz-build.log" 2>&1; then
	tail -n 40 "$build/fuzz-build.log"
	echo "fuzz: build failed (log: $build/fuzz-build.log)"
	exit 1
fi

work=$(mktemp -d /tmp/vhostmq-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
"$build/tests/fuzz/fuzz_seeds" "$work/corpus" >/dev/null

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
rc=0
for t in "${targets[@]}"; do
	corpus="$work/corpus/$t" art="$work/artifacts/$t" log="$work/$t.log"
	mkdir -p "$corpus" "$art"
	if [ -d "tests/fuzz/corpus/$t" ]; then
		cp tests/fuzz/corpus/"$t"/* "$corpus"/
	fi
	# -close_fd_mask=2: the libraries log every rejected input to stderr;
	# libFuzzer, the sanitizers and FZ_CHECK() keep their own copy of it.
	# -timeout: one input running 10 s is a hang. The outer timeout only
	# guards against libFuzzer itself not stopping.
	t_rc=0
	timeout --kill-after=10 $((secs + 120)) \
		"$build/tests/fuzz/$t" -max_total_time="$secs" -seed=1 -print_final_stats=1 \
		-close_fd_mask=2 -timeout=10 -max_len=4096 -artifact_prefix="$art/" \
		"$corpus" >"$log" 2>&1 || t_rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	found=$(find "$art" -type f | head -n 1)
	if [ "$t_rc" -eq 0 ] && [ -z "$found" ]; then
		echo "fuzz: $t: ${execs:-0} executions in ${secs} s, nothing found"
		continue
	fi
	rc=1
	grep -E 'ERROR|SUMMARY|check failed|runtime error|^#[0-9]+ ' "$log" | head -n 40 || true
	if [ -n "$found" ]; then
		mkdir -p "$build/fuzz-artifacts/$t"
		cp "$found" "$build/fuzz-artifacts/$t/"
		echo "fuzz: $t: FOUND after ${execs:-?} executions:" \
			"$build/fuzz-artifacts/$t/$(basename "$found")"
	else
		echo "fuzz: $t: FAILED (exit $t_rc, no input saved; log follows)"
		tail -n 20 "$log"
	fi
done
exit $rc
