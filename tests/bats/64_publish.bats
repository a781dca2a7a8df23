#!/usr/bin/env bats
# Publication of the counters spends at most one round trip inside a host
# call. Twenty functions each have several counters to publish; before,
# the first call after stats_interval published all of them at once (up to
# 12 incr round trips per function, inside that one host call). Now each
# call publishes one counter, and the following calls the rest.

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

# counters_published: the number of "<ns>:<fn>:st:<name>" keys in memcached
# (metadump prints keys URL-encoded).
counters_published() {
	python3 -S - "$MC_SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"lru_crawler metadump all\r\n")
buf = b""
while not buf.endswith(b"END\r\n"):
    d = s.recv(65536)
    if not d: break
    buf += d
print(sum(1 for l in buf.split(b"\n") if b"%3Ast%3A" in l))
PY
}

# host N: calls every function once (misses: several counters each), waits
# past stats_interval, then makes N more calls of sin and leaves with
# _exit, so the destructor publishes nothing.
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
    m.sin(0.5)
os._exit(0)
"
	[[ $status -eq 0 ]] || { echo "status $status: $stderr"; return 1; }
}

@test "one call after stats_interval publishes one counter, not all of them" {
	host 1 || return 1
	local n
	n=$(counters_published)
	[[ $n -eq 1 ]] || { echo "one host call published $n counters"; return 1; }
}

@test "the calls after it publish the rest, one each" {
	host 5 || return 1
	local n
	n=$(counters_published)
	[[ $n -eq 5 ]] || { echo "five host calls published $n counters"; return 1; }
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
