#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/bench.sh - the benchmark in one command: installs what is missing
# (the build's packages and DPDK, as setup.sh does, plus gnuplot-nox for the
# plots and valgrind for the instruction counts), builds the release tree
# build/ with the benchmark tools (meson option bench=true), and runs
# bench/bench.py with the arguments given. Results: bench/results/latest.json
# and latest-*.png unless --out says otherwise (README: Benchmarks).
# Usage: scripts/bench.sh [bench.py args]
#   e.g. scripts/bench.sh --sizes 64,1518 --queues 1,2,4 --runs 5
#        scripts/bench.sh --queues 1,2,4 --be-cores 2-5 --fe-cores 10-13
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
vhostmq_setup
vhostmq_install gnuplot-nox valgrind

if [ ! -f build/build.ninja ]; then
	meson setup build --buildtype=release -Dbench=true >/dev/null
elif ! meson introspect --buildoptions build |
	python3 -c 'import json,sys; sys.exit(not any(o["name"] == "bench" and o["value"] for o in json.load(sys.stdin)))'; then
	# a tree set up before the tools existed: add them, keep its other options
	meson configure build -Dbench=true >/dev/null
fi
ninja -C build >/dev/null
exec python3 bench/bench.py "$@"
