#!/usr/bin/env bats
# Publication of the counters spends at most one round trip inside a host
# call. Twenty functions each have several counters to publish; before,
# the first call after stats_interval published all of them at once (up to
# 12 incr round trips per function, inside that one host call). Now each
# call makes one publication operation (an incr; for a counter that does
# not exist yet, the add is the next call's), and the following calls the
# rest.

load helpers

FUNCS="sin cos tan asin acos atan sinh cosh tanh exp log log10 sqrt cbrt erf erfc expm1 log1p atan2 pow"

setup_file() {
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

setup() {
	txc_mc_flush
	{
		printf '[cache]\nservers = %s\nnamespace = pub\nstats_interval = 3\ntimeout_ms = 2000\n' "$MC_SOCK"
		local f
		for f in $FUNCS; do
			case $f in
			atan2 | pow) printf '\n[function %s]\nsignature = double %s(double x, double y)\n' "$f" "$f" ;;
			*) printf '\n[function %s]\nsignature = double %s(double x)\n' "$f" "$f" ;;
			esac
		done
	} >"$BATS_TEST_TMPDIR/pub.ini"
	CFG=$BATS_TEST_TMPDIR/pub.ini
}

# mc_ask COMMAND: memcached's reply to COMMAND, up to its END line
mc_ask() {
	python3 -S - "$MC_SOCK" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\r\n")
buf = b""
while not buf.endswith(b"END\r\n"):
    d = s.recv(65536)
    if not d: break
    buf += d
sys.stdout.write(buf.decode("latin-1"))
PY
}

# counters_published: the number of "<ns>:<fn>:st:<name>" keys in memcached
# (metadump prints keys URL-encoded).
counters_published() {
	mc_ask "lru_crawler metadump all" | grep -c '%3Ast%3A' || true
}

# write_ops: incr and storage commands memcached has served so far
write_ops() {
	mc_ask stats | tr -d '\r' | awk '$2 == "incr_hits" || $2 == "incr_misses" || $2 == "cmd_set" { n += $3 } END { print n }'
}

# host N [STEP]: calls every function once (misses: several counters
# each), waits past stats_interval, then makes N more calls of sin (with
# STEP, each a new argument: a miss) and leaves with _exit, so the
# destructor publishes nothing.
host() {
	run_shim --separate-stderr "$CFG" /usr/bin/python3 -S -c "
import ctypes, os, time
m = ctypes.CDLL('libm.so.6')
for f in '$FUNCS'.split():
    fn = getattr(m, f); fn.restype = ctypes.c_double
    fn.argtypes = [ctypes.c_double] * (2 if f in ('atan2', 'pow') else 1)
    fn(*([0.5] * len(fn.argtypes)))
time.sleep(3.5)
m.sin.restype = ctypes.c_double; m.sin.argtypes = [ctypes.c_double]
for i in range($1):
    m.sin(0.5 + i * ${2:-0})
os._exit(0)
"
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
}

@test "each call after stats_interval makes one publication operation, not all of them" {
	# the same run without calls after the pause is the baseline
	local a b c
	a=$(write_ops)
	host 0 || return 1
	b=$(write_ops)
	txc_mc_flush
	host 5 || return 1
	c=$(write_ops)
	echo "write operations: $((b - a)) without, $((c - b)) with 5 calls after the pause" >&3
	(((c - b) - (b - a) == 5)) || {
		echo "five host calls made $(((c - b) - (b - a))) publication operations"
		return 1
	}
	txc_mc_flush
	host 1 || return 1
	[[ $(counters_published) -eq 0 ]] || {
		echo "one call published a counter that did not exist in one operation"
		return 1
	}
}

@test "the calls after it publish the rest, one each" {
	host 6 || return 1
	local n
	n=$(counters_published)
	# the first ever publication of a counter is an incr that finds it
	# missing, then the next call's add
	[[ $n -eq 3 ]] || { echo "six host calls published $n counters"; return 1; }
	# at exit (the destructor) everything the process counted goes out
	run_shim "$CFG" /usr/bin/python3 -S -c "
import ctypes
m = ctypes.CDLL('libm.so.6'); m.cos.restype = ctypes.c_double; m.cos.argtypes = [ctypes.c_double]
m.cos(0.25)
"
	local after
	after=$(counters_published)
	((after > n)) || { echo "a normal exit published nothing ($after counters)"; return 1; }
}

@test "calls that keep counters changing do not keep publication going: a round looks at each counter once" {
	local a b c pub
	a=$(write_ops)
	host 0 || return 1
	b=$(write_ops)
	txc_mc_flush
	# 400 misses of sin after the pause: sin's counters change on every
	# call. A round publishes what was pending (about 100 counters, each
	# created by an incr then an add), then waits stats_interval (3 s).
	host 400 0.001 || return 1
	c=$(write_ops)
	# the 400 misses' own stores are 400 of the writes
	pub=$(((c - b) - (b - a) - 400))
	echo "publication operations during 400 calls: $pub" >&3
	((pub > 0 && pub < 300)) || {
		echo "400 calls made $pub publication operations"
		return 1
	}
}
