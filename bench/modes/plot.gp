# SPDX-License-Identifier: MIT
# Charts of a rudp_modes run (bench/modes/modes.cpp), as PNG files:
#   modes-voice-cdf.png  latency CDF of the voice frames, one curve per mode
#   modes-game-cdf.png   the same for the game's state snapshots
#   modes-delivered.png  delivered % against loss, per mode, both workloads
#   modes-on-time.png    delivered in time (voice 150 ms, game 100 ms) against loss
# The CDFs are of one link and profile (default: 5% loss, 150 ms RTT,
# realtime); the loss charts of one RTT and profile. rudp_modes must have run
# with --csv and --samples-dir over them.
#
#   gnuplot -e "csv='modes.csv'; samples='samples'; out='plots'" bench/modes/plot.gp
# Optional: profile='fast'; rtt=50; loss=10 (the CDFs' loss rate); xmax=1000
# (the CDFs' latency axis, default 4 RTT: a long tail runs off the edge).

if (!exists("csv")) csv = 'modes.csv'
if (!exists("samples")) samples = 'samples'
if (!exists("out")) out = 'plots'
if (!exists("profile")) profile = 'realtime'
if (!exists("rtt")) rtt = 150
if (!exists("loss")) loss = 5
if (!exists("xmax")) xmax = 4 * rtt

system(sprintf("mkdir -p '%s'", out))

modes = "reliable_ordered reliable_unordered unreliable_sequenced unreliable"
mode_title(m) = m eq "reliable_ordered" ? "reliable ordered" : \
                m eq "reliable_unordered" ? "reliable unordered" : \
                m eq "unreliable_sequenced" ? "unreliable sequenced" : "unreliable"
set linetype 1 lc rgb "#1b6ca8" lw 2 pt 7 ps 0.8
set linetype 2 lc rgb "#e07b00" lw 2 pt 5 ps 0.8
set linetype 3 lc rgb "#2a9d3c" lw 2 pt 9 ps 0.9
set linetype 4 lc rgb "#c0392b" lw 2 pt 13 ps 0.9 dt 2

set terminal pngcairo size 900,560 font "sans,11"
set grid lc rgb "#d0d0d0"
set key bottom right box opaque

# --- latency CDFs: the share of all messages sent that arrived within x ms --
cdf(workload, m) = sprintf("%s/%s-%s-%s-rtt%g-loss%g.dat", samples, workload, m, profile, rtt, loss)

set xlabel "latency, produced -> read (ms)"
set ylabel "messages sent that arrived within it (%)"
set yrange [0:100]
set xrange [0:xmax]

set output out."/modes-voice-cdf.png"
set title sprintf("Voice: 160-byte frames at 50/s, deadline 150 ms; %s profile, %g ms RTT, %g%% loss each way", \
                  profile, rtt, loss)
set arrow 1 from 150, graph 0 to 150, graph 1 nohead dt 3 lc rgb "#555555"
set label 1 "deadline" at 152, graph 0.05 left tc rgb "#555555"
plot for [i=1:words(modes)] cdf("voice", word(modes, i)) using 1:($2*100) with steps lt i \
     title mode_title(word(modes, i))

set output out."/modes-game-cdf.png"
set title sprintf("Game: 100-300-byte snapshots at 60 Hz (+ reliable events); %s profile, %g ms RTT, %g%% loss", \
                  profile, rtt, loss)
set arrow 1 from 100, graph 0 to 100, graph 1 nohead dt 3 lc rgb "#555555"
set label 1 "late after 100 ms" at 102, graph 0.05 left tc rgb "#555555"
plot for [i=1:words(modes)] cdf("game", word(modes, i)) using 1:($2*100) with steps lt i \
     title mode_title(word(modes, i))
unset arrow 1
unset label 1

# --- against loss, from the CSV: for each workload and mode, the rows of the
# chosen profile and RTT go into a datablock $<workload><i> of "loss
# delivered_percent on_time_percent" (CSV columns 5, 11 and 16; columns 1-4
# are workload, mode, profile, rtt_ms, matched as written) -------------------
set datafile separator comma
do for [w in "game voice"] {
  do for [i=1:words(modes)] {
    eval sprintf("set table $%s%d", w, i)
    plot csv skip 1 using 5:11:16 with table if (strcol(1) eq w && strcol(2) eq word(modes, i) && \
                                                 strcol(3) eq profile && strcol(4) eq sprintf("%g", rtt))
    unset table
  }
}
set datafile separator whitespace
block(w, i) = sprintf("$%s%d", w, i)

set xlabel "random loss each way (%)"
set xrange [*:*]
set xtics 1
set key bottom left box opaque
set terminal pngcairo size 1100,480 font "sans,11"

set output out."/modes-delivered.png"
set multiplot layout 1,2 title sprintf("Delivered (%% of messages sent), %s profile, %g ms RTT", profile, rtt)
set ylabel "delivered (%)"
set yrange [*:100.5]
set title "game snapshots"
plot for [i=1:words(modes)] block("game", i) using 1:2 with linespoints lt i title mode_title(word(modes, i))
set title "voice frames"
plot for [i=1:words(modes)] block("voice", i) using 1:2 with linespoints lt i title mode_title(word(modes, i))
unset multiplot

set output out."/modes-on-time.png"
set multiplot layout 1,2 title sprintf("Delivered in time (%% of messages sent), %s profile, %g ms RTT", profile, rtt)
set ylabel "delivered in time (%)"
set title "game snapshots, within 100 ms"
plot for [i=1:words(modes)] block("game", i) using 1:3 with linespoints lt i title mode_title(word(modes, i))
set title "voice frames, within the 150 ms deadline"
plot for [i=1:words(modes)] block("voice", i) using 1:3 with linespoints lt i title mode_title(word(modes, i))
unset multiplot
unset output
