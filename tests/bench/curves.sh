# shellcheck shell=bash
# curves.sh - sourced by bench.sh (after its helpers row, verdict, field,
# cfg and shim): the two curves of `make bench`, each a function that adds
# its rows and draws its plot. size_rows: a hit by value size against a raw
# get of the same bytes (size.svg); scaling_rows: hits/s of P processes x T
# threads against raw gets (scaling.svg). Also outcase, used by the sealed
# rows. Uses bench.sh's B, TMP, ROUNDS, HIT, SIZESVG and SCALESVG.

# hit by value size: bn_out returning SIZE bytes through the shim
# against a raw get of the shim's own stored value (value + header, the
# same length) under a key of the same length, copied to the caller's
# buffer too. One namespace per size: its one bn_out key is the shim's.
# The raw gets run in a process of their own (no shim), alternating with
# the shim's: in one process their allocations change the heap's layout
# enough that glibc stops trimming it after each large hit (strace: 2 brk
# per 64 KiB hit alone, none next to raw gets), a cost a real program pays.
OUTFN='[function bn_out]
signature = int bn_out(int n, out bytes[cap:ret] buf, size_t cap)'
SIZES=(16 1024 65536 1048576)
human() { numfmt --to=iec-i --suffix=B "$1" | sed -e 's/\.0//' -e 's/\([0-9]\)\([KM]\)/\1 \2/' -e 's/\([0-9]\)B$/\1 B/'; }
declare -A BLK=([16]=2000 [1024]=2000 [65536]=300 [1048576]=20)
# shimkey NS: the one key of bn_out that the shim stored in namespace NS,
# from memcached's key dump (lru_crawler metadump: memcdump's stats
# cachedump misses items still in the hot LRU)
shimkey() {
	python3 -S - "$MC_PORT" "$1" <<'PY'
import re, socket, sys
from urllib.parse import unquote
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"lru_crawler metadump all\r\n")
buf = b""
while not buf.endswith(b"END\r\n"):
    d = s.recv(1 << 16)
    if not d:
        break
    buf += d
pat = re.compile(re.escape(sys.argv[2]) + r":bn_out:[0-9a-f]{32}$")
keys = [unquote(l.split()[0][4:]) for l in buf.decode().splitlines() if l.startswith("key=")]
keys = [k for k in keys if pat.match(k)]
if not keys:
    sys.exit("bench.sh: no bn_out key in namespace " + sys.argv[2])
print(keys[0])
PY
}
# outcase CONFIG NS SIZE PAIRS: PAIRS alternating runs (ROUNDS blocks each)
# of raw gets and of the shim's hits; prints "rawout NS 1" and "out NS R":
# the medians of each side's ns per call and of the pairs' ratios. PAIRS 0:
# one process, raw gets and hits interleaved by rounds (no heap effect for
# small values, and the least noise).
outcase() {
	local k i rw=() ht=() q=()
	shim "$1" env BENCH_SIZE="$3" "$B" cases 1 1 out >/dev/null # the miss stores it
	k=$(shimkey "$2")
	if (($4 == 0)); then
		shim "$1" env BENCH_SIZE="$3" BENCH_SHIMKEY="$k" "$B" cases "$ROUNDS" "${BLK[$3]}" rawout out
		return
	fi
	for ((i = 0; i < $4; i++)); do
		rw+=("$(BENCH_SIZE="$3" BENCH_SHIMKEY="$k" "$B" cases "$ROUNDS" "${BLK[$3]}" rawout | field rawout 2)")
		ht+=("$(shim "$1" env BENCH_SIZE="$3" "$B" cases "$ROUNDS" "${BLK[$3]}" out | field out 2)")
		q+=("$(awk -v a="${ht[-1]}" -v b="${rw[-1]}" 'BEGIN { print a / b }')")
	done
	echo "rawout $(mid "${rw[@]}") 1"
	echo "out $(mid "${ht[@]}") $(mid "${q[@]}")"
}
mid() { printf '%s\n' "$@" | sort -g | sed -n "$((($# + 1) / 2))p"; }
size_rows() {
	: >"$TMP/size.dat"
	for sz in "${SIZES[@]}"; do
		c=$(NS=out$sz cfg "out$sz" 'max_value = 4194304' <<<"$OUTFN")
		out=$(outcase "$c" "out$sz" "$sz" 3)
		r=$(field out 3 <<<"$out") ro=$(field rawout 2 <<<"$out") so=$(field out 2 <<<"$out")
		echo "$sz $ro $so $r" >>"$TMP/size.dat"
		row "Hit of an out bytes value of $(human "$sz") / raw get of it" \
			"$(awk -v r="$r" -v s="$so" -v o="$ro" 'BEGIN { printf "%.3f× (%.1f / %.1f µs)", r, s / 1e3, o / 1e3 }')" \
			"≤ 1.10×" "$(verdict "$r" '<=' 1.10)"
	done
	gnuplot <<EOF
set terminal svg size 640,400 dynamic font "sans,12"
set output "$SIZESVG"
set title "txcache: a hit by value size, against a raw get of the same bytes"
set xlabel "value size (bytes)"
set ylabel "µs per call"
set logscale xy
set xrange [8:2097152]
set xtics ("16 B" 16, "1 KiB" 1024, "64 KiB" 65536, "1 MiB" 1048576)
set grid
set key top left
set y2label "shim / raw"
set logscale y2
set y2range [0.5:50]
set y2tics (0.5, 1, 2, 5, 10, 20, 50)
plot "$TMP/size.dat" using 1:(\$3/1000) with linespoints lw 2 lc rgb "#3070b0" title "hit through the shim", \
     "" using 1:(\$2/1000) with linespoints lw 2 dt 2 lc rgb "#b03030" title "raw libmemcached get", \
     "" using 1:4 axes x1y2 with linespoints lc rgb "#308030" title "shim / raw (right axis)", \
     1.1 axes x1y2 with lines dt 3 lc rgb "#808080" title "goal: 1.10×"
EOF
}

# scaling: P processes x T threads of hits against the one memcached,
# the shim's (pf_fast(42)) and raw libmemcached gets of a value as long
# (rawget, no shim), alternating per point. The processes of a run start
# together (bench threads waits for $BENCH_START) and their hits/s add up.
# Each point is the mean of two runs of each, in the order raw, shim, shim, raw.
SCALE_S=${BENCH_SCALE_S:-1}
# herdrate CONFIG|"" P T CASE: the summed hits/s of P processes
herdrate() {
	local c=$1 p=$2 t=$3 i pids=() start
	start=$(($(date +%s%N) + 300000000 + p * 60000000))
	for ((i = 0; i < p; i++)); do
		if [[ -n $c ]]; then
			BENCH_START=$start shim "$c" "$B" threads "$t" "$SCALE_S" "$4" >"$TMP/herd.$i" &
		else
			BENCH_START=$start "$B" threads "$t" "$SCALE_S" "$4" >"$TMP/herd.$i" &
		fi
		pids+=($!)
	done
	wait "${pids[@]}"
	cat "$TMP/herd".* | awk '{ s += $3 } END { printf "%.0f", s }'
	rm -f "$TMP/herd".*
}
scaling_rows() {
	: >"$TMP/scale.dat"
	for p in 1 2 4 8; do
		line=$p rs=() hs=() ok=met
		for t in 1 2 4; do
			# raw, shim, shim, raw: a drift of the machine's load hits both alike
			raw=$(herdrate "" "$p" "$t" rawget)
			hit=$(herdrate "$HIT" "$p" "$t" fast)
			hit=$(($(herdrate "$HIT" "$p" "$t" fast) + hit))
			raw=$(($(herdrate "" "$p" "$t" rawget) + raw))
			hit=$((hit / 2)) raw=$((raw / 2))
			r=$(awk -v a="$hit" -v b="$raw" 'BEGIN { printf "%.2f", a / b }')
			line+=" $raw $hit"
			rs+=("$r") hs+=("$(awk -v a="$hit" 'BEGIN { printf "%.0fk", a / 1e3 }')")
			[[ $(verdict "$r" '>=' 0.9) == met ]] || ok="not met"
		done
		echo "$line" >>"$TMP/scale.dat"
		row "Hits/s, $p process(es) × 1 / 2 / 4 threads, shim / raw get" \
			"$(printf '%s / %s / %s× (shim %s / %s / %s/s)' "${rs[@]}" "${hs[@]}")" "≥ 0.9× each" "$ok"
	done
	gnuplot <<EOF
set terminal svg size 640,400 dynamic font "sans,12"
set output "$SCALESVG"
set title "txcache: hits/s against one memcached, by processes × threads"
set xlabel "processes"
set ylabel "hits/s (all processes)"
set logscale x 2
set xrange [0.8:10]
set yrange [0:*]
set xtics (1, 2, 4, 8)
set grid
set key outside right
plot "$TMP/scale.dat" using 1:3 with linespoints lw 2 lc rgb "#3070b0" title "shim, 1 thread", \
     "" using 1:5 with linespoints lw 2 lc rgb "#30a060" title "shim, 2 threads", \
     "" using 1:7 with linespoints lw 2 lc rgb "#c07020" title "shim, 4 threads", \
     "" using 1:2 with linespoints dt 2 lc rgb "#3070b0" title "raw, 1 thread", \
     "" using 1:4 with linespoints dt 2 lc rgb "#30a060" title "raw, 2 threads", \
     "" using 1:6 with linespoints dt 2 lc rgb "#c07020" title "raw, 4 threads"
EOF
}
