# SPDX-License-Identifier: BSD-3-Clause
# bench/plot.gp - one PNG of bench.py's medians: Mpps against one axis (frame
# size or queue pairs), one panel per topology, one line per backend (and per
# variant / queue count / size where the run measured several), the bars
# spanning the runs' min-max. bench.py writes the data and runs:
#   gnuplot -e "out='latest-sizes.png'; heading='...'; xname='frame size (B)';
#               panels='DIR/0.dat DIR/1.dat'; names='guest-to-host loopback';
#               nlines='2 2'; xs='64 1518'" bench/plot.gp
# Panel file k holds word(nlines, k) blocks separated by two blank lines, one
# block per line of the plot: a header row (x, title, min, max), then rows of
# x, median Mpps, min Mpps, max Mpps. xs: the x values measured (the tics).
n = words(panels)
set terminal pngcairo size 640 * n, 420 font ",10"
set output out
set multiplot layout 1, n title heading
set xlabel xname
set ylabel "Mpps (median, bars: min-max of the runs)"
set xrange [0:*]
set yrange [0:*]
set offsets 0, graph 0.05, graph 0.1, 0
set xtics ()
set for [i = 1:words(xs)] xtics add (word(xs, i) word(xs, i) + 0)
set key outside right top vertical
set grid
do for [k = 1:n] {
	set title word(names, k)
	plot for [b = 0:word(nlines, k) - 1] word(panels, k) index b \
		using 1:2:3:4 with yerrorlines title columnheader(2)
}
unset multiplot
