#!/usr/bin/env bats
# out fd / out stream: what a function writes is captured on a miss and
# replayed on a hit. Each case runs the same command sequence of cap_driver
# (tests/fixtures/cap_driver.c) without the shim, then twice with it: the
# miss and the hit must write byte for byte what the uncached run wrote, and
# the hit must make no real call.

load helpers
load kinds_helpers

setup_file() {
	kinds_setup_file
	local f
	for f in "$FIXTURES/cap_driver" "$FIXTURES/fort/cap_driver"; do
		[[ -x $f ]] || { echo "missing $f: run make -C tests/fixtures" >&2; return 1; }
	done
}

teardown_file() {
	kinds_teardown_file
}

setup() {
	kinds_setup
	DRV=$FIXTURES/cap_driver
	T=$BATS_TEST_TMPDIR
	cfg=$(cap_config)
}

# cap_config [LINE...]: the three writers, LINEs added to [cache].
cap_config() {
	kinds_config cap "$@" <<'EOF'
[function cap_emit]
signature = int cap_emit(out fd fd, string mode, string tag, int n)
cache_if  = ret >= 0

[function cap_print]
signature = void cap_print(out stream f, string mode, string tag, int n)

[function cap_outer]
signature = int cap_outer(out fd fd, string tag)
cache_if  = ret == 0
EOF
}

# run_to DEST NAME SHIM ARG...: the driver with ARGs, stdout to a DEST
# (file, file-errpipe, pipe or tty) saved in $T/NAME.out, stderr in $T/NAME.err; with the
# shim when SHIM is 1. Sets status.
run_to() {
	local dest=$1 out=$T/$2.out err=$T/$2.err shim=$3 pre=()
	shift 3
	((shim)) && pre=(env LD_PRELOAD="$KINDS_PRELOAD" TXCACHE_CONFIG="$cfg")
	status=0
	local before
	before=$(calls_count)
	case $dest in
	file) "${pre[@]}" "$DRV" "$@" >"$out" 2>"$err" || status=$? ;;
	# stderr through a pipe: not limited by the program's RLIMIT_FSIZE
	file-errpipe) { "${pre[@]}" "$DRV" "$@" 2>&1 >"$out" || status=$?; } | cat >"$err" ;;
	pipe) { "${pre[@]}" "$DRV" "$@" 2>"$err" || status=$?; } | cat >"$out" ;;
	tty)
		script -qec "$(printf '%q ' "${pre[@]}" "$DRV" "$@") 2>$(printf %q "$err")" \
			/dev/null </dev/null >"$out" || status=$?
		;;
	esac
	kinds_unlog_verified "$err" "$before"
}

# cap_fail MESSAGE: prints MESSAGE and every output of this test; returns 1.
cap_fail() {
	{
		printf '%s\n' "$1"
		local f
		for f in "$T"/*.out "$T"/*.err; do
			[[ -f $f ]] || continue
			printf -- '-- %s:\n' "${f##*/}"
			head -c 2000 "$f" | cat -A | head -n 40
		done
		printf -- '-- real calls:\n'
		cat "$KINDS_CALLS"
	} >&2
	return 1
}

same_bytes() {
	cmp -s "$T/$1.out" "$T/$2.out" || cap_fail "$2: output differs from the uncached run"
}

# cap_roundtrip DEST ARG...: uncached, miss (real calls made, all stored),
# hit (no real call), all three byte-identical.
cap_roundtrip() {
	local dest=$1
	shift
	run_to "$dest" plain 0 "$@"
	((status == 0)) || cap_fail "uncached run failed ($status)" || return
	[[ -s $T/plain.out ]] || cap_fail "uncached run wrote nothing" || return
	: >"$KINDS_CALLS"
	run_to "$dest" miss 1 "$@"
	((status == 0)) || cap_fail "miss run failed ($status)" || return
	same_bytes plain miss || return
	[[ $(calls_count) -gt 0 ]] || cap_fail "miss run made no real call" || return
	grep -q '^txcache: miss ' "$T/miss.err" || cap_fail "no miss logged" || return
	! grep -q 'not stored' "$T/miss.err" || cap_fail "a result was not stored" || return
	: >"$KINDS_CALLS"
	run_to "$dest" hit 1 "$@"
	((status == 0)) || cap_fail "hit run failed ($status)" || return
	same_bytes plain hit || return
	[[ $(calls_count) -eq 0 ]] || cap_fail "hit run made real calls" || return
	! grep -q '^txcache: miss ' "$T/hit.err" || cap_fail "hit run had a miss"
}

# A conforming program (POSIX XSH 2.5.1): stdout is flushed before the
# descriptor is written directly, and after stdio output to it.
FD_SEQ=(say head -- flush -- emit 1 write A 5 -- emit 1 writev B 5 -- emit 1 dprintf C 5
	-- emit 1 stdio D 5 -- flush -- emit 1 mix E 6 -- say tail)

@test "out fd: write, writev, dprintf, stdio and mixed output to a file" {
	cap_roundtrip file "${FD_SEQ[@]}" -- flush -- emit 1 pwrite F 4
}

@test "out fd: write, writev, dprintf, stdio and mixed output to a pipe" {
	cap_roundtrip pipe "${FD_SEQ[@]}"
}

@test "out fd: write, writev, dprintf, stdio and mixed output to a terminal" {
	command -v script >/dev/null || skip "script (bsdutils) is not installed"
	cap_roundtrip tty "${FD_SEQ[@]}"
	grep -q $'A 4\r$' "$T/hit.out" || cap_fail "no terminal line endings: not a pty"
}

@test "out fd: send, sendto, sendmsg and write to a socket" {
	cap_roundtrip pipe sock send S 4 -- sock sendto T 4 -- sock sendmsg U 4 -- sock write V 4
}

@test "out stream: fprintf, fputs, fputc/putc, fwrite, printf/puts/putchar" {
	cap_roundtrip pipe say head -- print stdout fprintf A 3 -- print stdout fputs B 3 \
		-- print stdout fputc C 3 -- print stdout fwrite D 3 -- print stdout printf E 6 \
		-- say tail
	cap_roundtrip tty print stdout fputs F 3 -- say tail
}

@test "_FORTIFY_SOURCE programs: __printf_chk, __fprintf_chk, __dprintf_chk" {
	DRV=$FIXTURES/fort/cap_driver
	nm -D "$FIXTURES/fort/libcap.so" | grep -q __fprintf_chk ||
		skip "the compiler did not fortify the fixture"
	cap_roundtrip pipe emit 1 dprintf A 3 -- emit 1 stdio B 3 -- flush \
		-- print stdout fprintf C 3 -- print stdout printf D 6
}

@test "order with the program's other buffered output is kept" {
	# No flush at all: everything through stdout's buffer, to a pipe.
	cap_roundtrip pipe say one -- print stdout fputs X 3 -- say two -- print stdout printf Y 3 \
		-- say three
	[[ $(head -n 1 "$T/hit.out") == one && $(tail -n 1 "$T/hit.out") == three ]] ||
		cap_fail "order lost"
	# Raw writes between flushed stdout lines.
	cap_roundtrip file say before -- flush -- emit 1 write Z 2 -- say after
	[[ $(tr '\n' ' ' <"$T/hit.out") == "before Z 0 Z 1 after " ]] || cap_fail "order lost"
}

@test "a short write reaches the function as the descriptor gave it; not stored" {
	run_to file-errpipe plain 0 fsize 100 -- emit 1 big x 300
	grep -q '^emit=100 ' "$T/plain.err" || cap_fail "the fixture did not get a short write"
	for run in miss again; do
		run_to file-errpipe "$run" 1 fsize 100 -- emit 1 big x 300
		same_bytes plain "$run" || return
		grep -q '^emit=100 ' "$T/$run.err" || cap_fail "$run: the short count was changed"
		grep -q 'cap_emit: a write failed or was short; not stored' "$T/$run.err" ||
			cap_fail "$run: stored or not logged"
	done
	[[ $(calls_count) -eq 3 ]] || cap_fail "expected three real calls"
}

@test "an error (EPIPE) reaches the function; not stored" {
	for run in miss again; do
		run_to file "$run" 1 nopipe -- brokenpipe 3 -- emit 3 write P 2
		grep -q '^emit=-1 errno=32$' "$T/$run.err" || cap_fail "$run: EPIPE not passed on"
		grep -q 'not stored' "$T/$run.err" || cap_fail "$run: stored"
	done
	[[ $(calls_count) -eq 2 ]] || cap_fail "expected two real calls"
}

@test "a hit's replay continues short writes to a non-blocking pipe" {
	# what is tested is the replay, which a verified hit does not do; and
	# the real call's result depends on the pipe's state
	export TXCACHE_VERIFY=0
	# 600000 bytes > a pipe's 64 KiB: the replay meets EAGAIN and short writes.
	run_to file plain 0 emit 1 big x 600000
	run_to file miss 1 emit 1 big x 600000
	same_bytes plain miss
	status=0
	{ env LD_PRELOAD="$KINDS_PRELOAD" TXCACHE_CONFIG="$cfg" "$DRV" nonblock 1 \
		-- emit 1 big x 600000 2>"$T/hit.err" || status=$?; } | { sleep 0.3; cat >"$T/hit.out"; }
	((status == 0)) || cap_fail "hit run failed"
	same_bytes plain hit
	grep -q '^txcache: hit cap_emit' "$T/hit.err" || cap_fail "not a hit"
	[[ $(calls_count) -eq 2 ]] || cap_fail "the hit made a real call"
}

@test "two threads writing to one descriptor: each value holds its own thread's bytes" {
	run_to pipe mt 1 threads A B 300
	grep -q '^threads=1690,1690$' "$T/mt.err" || cap_fail "threads failed"
	[[ $(grep -c '^txcache: miss cap_emit' "$T/mt.err") -eq 2 ]] || cap_fail "two misses expected"
	[[ $(grep -c '^[AB] ' "$T/mt.out") -eq 600 ]] || cap_fail "lines lost"
	for tag in A B; do
		run_to pipe plain 0 emit 1 write $tag 300
		: >"$KINDS_CALLS"
		run_to pipe hit 1 emit 1 write $tag 300
		same_bytes plain hit || return
		[[ $(calls_count) -eq 0 ]] || cap_fail "$tag: not a hit"
	done
}

@test "nesting: an outer writer captures its inner writer's miss and hit" {
	# Both miss: each value gets its own bytes.
	cap_roundtrip pipe outer 1 N1
	run_to pipe plain 0 emit 1 write N1 3
	: >"$KINDS_CALLS"
	run_to pipe hit 1 emit 1 write N1 3
	same_bytes plain hit
	[[ $(calls_count) -eq 0 ]] || cap_fail "the inner call was not stored on its own"
	# Inner cached first: the outer miss captures the inner hit's replay.
	run_to pipe inner 1 emit 1 write N2 3
	run_to pipe plain 0 outer 1 N2
	: >"$KINDS_CALLS"
	run_to pipe miss 1 outer 1 N2
	same_bytes plain miss
	grep -q '^txcache: hit cap_emit' "$T/miss.err" || cap_fail "inner was not a hit"
	[[ $(cat "$KINDS_CALLS") == "cap_outer 1 N2" ]] || cap_fail "expected only the outer call"
	: >"$KINDS_CALLS"
	run_to pipe hit 1 outer 1 N2
	same_bytes plain hit
	[[ $(calls_count) -eq 0 ]] || cap_fail "outer was not a hit"
}

@test "a capture larger than max_value is written in full, not stored, counted" {
	cfg=$(cap_config "max_value = 1024")
	run_to pipe plain 0 emit 1 big x 5000
	: >"$KINDS_CALLS"
	for run in miss again; do
		run_to pipe "$run" 1 emit 1 big x 5000
		same_bytes plain "$run" || return
		grep -q 'cap_emit: result larger than max_value; not stored' "$T/$run.err" ||
			cap_fail "$run: not reported too big"
	done
	[[ $(calls_count) -eq 2 ]] || cap_fail "expected two real calls"
	# a small one still fits
	cap_roundtrip pipe emit 1 write small 3
}

@test "the descriptor is not keyed: a hit replays to whatever descriptor is passed" {
	run_to pipe miss 1 emit 1 write K 3
	run_to pipe hit 1 emit 2 write K 3
	grep -q '^txcache: hit cap_emit' "$T/hit.err" || cap_fail "not a hit"
	grep -q '^K 2$' "$T/hit.err" || cap_fail "not replayed to descriptor 2"
	[[ ! -s $T/hit.out ]] || cap_fail "replayed to descriptor 1"
}

@test "txcache check accepts out fd and out stream; ignore refuses them" {
	run_txcache check -c "$cfg"
	assert_success
	bad=$(kinds_config bad <<'EOF'
[function cap_emit]
signature = int cap_emit(out fd fd, string mode, string tag, int n)
ignore = fd
EOF
	)
	run_txcache check -c "$bad"
	assert_failure
	assert_output --partial "'fd' is not keyed"
}

# The example: examples/webpage with config/webpage.ini (servers replaced).
webpage_setup() {
	make -s -C "$TXC_ROOT/examples/webpage" BUILD="$BUILD" >&2 || return 1
	WEB=$BUILD/examples/webpage
	export WEBPAGE_DB=$T/web.txt WEBPAGE_DELAY_MS=300
	cfg=$T/webpage.ini
	sed -e "s|^servers .*|servers = $MC_SOCK|" -e "s|^namespace .*|namespace = $KINDS_NS|" \
		"$TXC_ROOT/config/webpage.ini" >"$cfg"
	"$WEB" set alice "hello world"
}

@test "example webpage (CGI style): a cached page, dropped by page_update" {
	webpage_setup
	"$WEB" render alice >"$T/plain.out"
	grep -q '<p>hello world</p>' "$T/plain.out" || cap_fail "no page"
	for run in miss hit; do
		env LD_PRELOAD="$KINDS_PRELOAD" TXCACHE_CONFIG="$cfg" "$WEB" render alice \
			>"$T/$run.out" 2>"$T/$run.err"
		same_bytes plain "$run" || return
		grep -q "^txcache: $run page_render" "$T/$run.err" || cap_fail "$run expected"
	done
	env LD_PRELOAD="$KINDS_PRELOAD" TXCACHE_CONFIG="$cfg" "$WEB" set alice bye 2>"$T/set.err"
	grep -q '^txcache: invalidate after page_update' "$T/set.err" || cap_fail "no invalidation"
	env LD_PRELOAD="$KINDS_PRELOAD" TXCACHE_CONFIG="$cfg" "$WEB" render alice \
		>"$T/after.out" 2>"$T/after.err"
	grep -q '^txcache: miss page_render' "$T/after.err" || cap_fail "stale page served"
	grep -q '<p>bye</p>' "$T/after.out" || cap_fail "old text"
}

@test "example webpage (HTTP server): the page is sent from the cache to each client" {
	webpage_setup
	timeout 120 env LD_PRELOAD="$KINDS_PRELOAD" TXCACHE_CONFIG="$cfg" "$WEB" serve 0 3 \
		>"$T/srv.out" 2>"$T/srv.err" 3>&- &
	local pid=$! port= i
	wait_until grep -q '^listening on 127.0.0.1:' "$T/srv.out" || true # checked next
	port=$(sed -n 's/^listening on 127.0.0.1://p' "$T/srv.out")
	[[ -n $port ]] || cap_fail "server did not start"
	for i in 1 2 3; do
		exec 4<>"/dev/tcp/127.0.0.1/$port"
		printf 'GET /alice HTTP/1.0\r\n\r\n' >&4
		cat <&4 >"$T/get$i.out"
		exec 4<&-
	done
	wait "$pid"
	grep -q '<p>hello world</p>' "$T/get1.out" || cap_fail "no page"
	same_bytes get1 get2
	same_bytes get1 get3
	[[ $(grep -c '^txcache: hit page_render' "$T/srv.err") -eq 2 ]] || cap_fail "two hits expected"
}

@test "a writer in a library dlopen()ed later (python3 ctypes) is captured and replayed" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	[[ ${TXCACHE_ASAN:-} == 1 ]] && skip "python3 is not built with ASan"
	local py="import ctypes; ctypes.CDLL('$FIXTURES/libcap.so').cap_emit(1, b'write', b'late', 5)"
	export KINDS_CALLS=$T/calls
	python3 -c "$py" >"$T/plain.out"
	grep -q '^late 4' "$T/plain.out" || cap_fail "no output from the plain run"
	: >"$KINDS_CALLS"
	for run in miss hit; do
		TXCACHE_LOG=info env LD_PRELOAD="$KINDS_PRELOAD" TXCACHE_CONFIG="$cfg" \
			python3 -c "$py" >"$T/$run.out" 2>"$T/$run.err"
		kinds_unlog_verified "$T/$run.err" 0
		same_bytes plain "$run" || return
		grep -q "^txcache: $run cap_emit" "$T/$run.err" || cap_fail "$run expected"
	done
	# one real call: the hit wrote the captured bytes itself
	[[ $(wc -l <"$KINDS_CALLS") -eq 1 ]] || cap_fail "expected 1 real call"
}
