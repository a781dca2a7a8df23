# shellcheck shell=bash
# rel_helpers.bash - shared by the reliability suites (7x_*.bats), after
# `load helpers`. The program under test is $FIXTURES/rel_driver (see
# tests/fixtures/rel_driver.c): its stdout never depends on the cache, so
# "the program is unchanged" is "stdout equals the run without the shim".
#
#   rel_config NAME SERVERS [EXTRA-CACHE-LINES]   prints the config's path
#   rel_expect ARGS...     rel_driver without the shim; sets $expected
#   rel_run CONFIG ARGS... rel_driver with the shim (run --separate-stderr,
#                          60 s bound); sets $elapsed_ms too
#   rel_real / rel_stat FN NAME   real calls / a counter of the last run
#   rel_listener silent|full   a python3 listener; sets REL_LPORT, REL_LPID
#   rel_kill PID           kills a process this file started, by pid
#   raw_set KEY FILE / raw_get KEY FILE   a raw client on $MC_SOCK
#   fake_start MODE        tests/lib/fake_mc.py in MODE; sets FAKE_PORT,
#                          FAKE_PID (rel_kill it in teardown), FAKE_LOG
#   now_ms                 wall-clock milliseconds

REL=$FIXTURES/rel_driver

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

rel_config() {
	local name=$1 servers=$2 extra=${3:-}
	txc_config "$name" <<EOF
[cache]
servers = $servers
namespace = ${REL_NS:-rel}
timeout_ms = ${REL_TIMEOUT_MS:-200}
$extra

[function rel_work]
signature = long rel_work(long x)

[function rel_get]
signature = int rel_get(string k, out string[cap] val, size_t cap)
ignore = cap
cache_if = ret >= 0

[function rel_set]
signature = int rel_set(string k, string v)
invalidates = rel_get(k)

[function rel_blob]
signature = size_t rel_blob(long n, out bytes[cap:ret] buf, size_t cap)
ignore = cap
EOF
}

rel_expect() {
	expected=$("$REL" "$@" 2>/dev/null)
}

rel_run() {
	local config=$1 t0
	shift
	t0=$(now_ms)
	# timeout outside the preload: it would load the shim and log too
	run --separate-stderr timeout 60 \
		env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$config" "$REL" "$@"
	elapsed_ms=$(($(now_ms) - t0))
}

# The real calls of rel_work the last rel_run made ("rel: real=N"), less
# those that verify mode made (make check-verify; seen only at log = info).
rel_real() {
	local n v
	n=$(sed -n 's/^rel: real=\([0-9]*\)$/\1/p' <<<"$stderr" | tail -n 1)
	[[ -n $n ]] || return 0
	v=$(grep -c '^txcache: hit rel_work .* (verified)$' <<<"$stderr" || true)
	echo $((n - v))
}

# A counter from the last run's "txcache: stats FN: ..." line (log = info).
rel_stat() {
	sed -n "s/^txcache: stats $1:.* $2=\([0-9]*\).*/\1/p" <<<"$stderr" | tail -n 1
}

rel_listener() {
	local kind=$1 dir=${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR}
	# silent: accepts every connection and never reads or answers.
	# full: listen(0) and never accepts; its own two connections fill the
	# accept queue, so the kernel drops every later SYN.
	python3 -c '
import socket, sys, time
kind = sys.argv[1]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64 if kind == "silent" else 0)
port = s.getsockname()[1]
held = []
if kind == "full":
    for _ in range(2):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        held.append(c)
    time.sleep(0.3)
print(port, flush=True)
while True:
    if kind == "silent":
        held.append(s.accept()[0])
    else:
        time.sleep(3600)
' "$kind" >"$dir/lport" 2>/dev/null 3>&- &
	REL_LPID=$!
	# python3 alone can take seconds to start on a loaded machine
	wait_until test -s "$dir/lport" || {
		echo "rel_listener: the $kind listener did not start" >&2
		return 1
	}
	REL_LPORT=$(cat "$dir/lport")
}

rel_kill() {
	[[ -n ${1:-} ]] || return 0
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# raw_set KEY FILE / raw_get KEY FILE: a raw memcached client (ASCII) on
# $MC_SOCK, as whoever can reach memcached (exptime 0: never expires).
raw_set() {
	python3 -S -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
d = open(sys.argv[3], "rb").read()
s.sendall(b"set %s 0 0 %d\r\n" % (sys.argv[2].encode(), len(d)) + d + b"\r\n")
r = s.recv(100)
sys.exit(0 if r == b"STORED\r\n" else 1)' "$MC_SOCK" "$1" "$2"
}

raw_get() {
	python3 -S -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"get %s\r\n" % sys.argv[2].encode())
buf = b""
while not buf.endswith(b"END\r\n"):
    c = s.recv(65536)
    if not c: break
    buf += c
if not buf.startswith(b"VALUE"): sys.exit(1)
head, rest = buf.split(b"\r\n", 1)
n = int(head.split()[3])
open(sys.argv[3], "wb").write(rest[:n])' "$MC_SOCK" "$1" "$2"
}

FAKE=$TXC_ROOT/tests/lib/fake_mc.py

# fake_start MODE: the fake server, for 60 s at most; sets FAKE_PORT,
# FAKE_PID, FAKE_LOG (the commands it received).
fake_start() {
	local i
	FAKE_LOG=$BATS_TEST_TMPDIR/fake.log
	: >"$FAKE_LOG"
	python3 "$FAKE" "$1" "$BATS_TEST_TMPDIR/fport" "$FAKE_LOG" 60 3>&- &
	FAKE_PID=$!
	for ((i = 0; i < 200; i++)); do
		FAKE_PORT=$(cat "$BATS_TEST_TMPDIR/fport" 2>/dev/null || true)
		[[ -z $FAKE_PORT ]] || return 0
		sleep 0.05
	done
	echo "the fake server did not start"
	return 1
}
