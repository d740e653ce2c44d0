# plot.gp — the plots of `make bench-plot`, from bench.csv (csv and out are given with -e):
#   bench-ratios.png   plugin / glibc per case (below 1: plugin is faster), log scale
#   bench-growth.png   cold open time against relocation count, both loaders (log-log)
set datafile separator ","
set terminal pngcairo size 1200,700 noenhanced
set key autotitle columnhead

set output out . "/bench-ratios.png"
set title "plugin / glibc, median time (below 1: plugin is faster)"
set style data histograms
set style fill solid 0.8
set logscale y
set yrange [0.01:*]
set ylabel "ratio"
set xtics rotate by -40 left font ",8"
set bmargin 16
set rmargin 12
set grid ytics
# floor rows (the kernel's part of glibc's time) are not plugin / glibc: left out here
plot csv using (strcol(2) eq "floor" ? 1/0 : $10):xtic(strcol(2) eq "floor" ? "" : strcol(1)) title "ratio", \
     1 with lines lc rgb "black" title "1 (as fast)"

reset
set datafile separator ","
set terminal pngcairo size 900,600 noenhanced
set output out . "/bench-growth.png"
set title "cold open (warm loader) against relocations"
set logscale xy
set xlabel "relocations"
set ylabel "ns"
set grid
set key left top
plot csv using ($3 > 0 && strcol(2) eq "growth" ? $3 : 1/0):4 with linespoints title "plugin", \
     csv using ($3 > 0 && strcol(2) eq "growth" ? $3 : 1/0):7 with linespoints title "glibc"
