#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tests/vm/guest/report.sh - channels of eth0: `ethtool -l`, then
# `ethtool -L combined M` for M = 1..max (each: ok/FAIL), then `ethtool -S`.
# Leaves eth0 with max combined channels. Exit 1 if any step failed.
rc=0
echo "=== VHOSTMQ-VM BEGIN ethtool-l ==="
ethtool -l eth0 || rc=1
echo "=== VHOSTMQ-VM END ethtool-l ==="
max=$(ethtool -l eth0 | awk '/^Pre-set maximums/ { p = 1 } p && /^Combined:/ { print $2; exit }')
echo "VHOSTMQ-VM: max-combined=$max"
case $max in
''|*[!0-9]*) echo "VHOSTMQ-VM: no combined maximum"; exit 1 ;;
esac
echo "=== VHOSTMQ-VM BEGIN ethtool-L ==="
M=1
while [ $M -le $max ]; do
	if out=$(ethtool -L eth0 combined $M 2>&1); then
		cur=$(ethtool -l eth0 | awk '/^Current hardware/ { p = 1 } p && /^Combined:/ { print $2; exit }')
		if [ "$cur" = "$M" ]; then
			echo "set-channels combined=$M ok (current $cur)"
		else
			echo "set-channels combined=$M FAIL (current $cur)"; rc=1
		fi
	else
		echo "set-channels combined=$M FAIL: $out"; rc=1
	fi
	M=$((M + 1))
done
echo "=== VHOSTMQ-VM END ethtool-L ==="
echo "=== VHOSTMQ-VM BEGIN ethtool-S ==="
ethtool -S eth0 || rc=1
echo "=== VHOSTMQ-VM END ethtool-S ==="
exit $rc
