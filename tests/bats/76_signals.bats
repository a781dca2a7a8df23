#!/usr/bin/env bats
# Cached functions called from signal handlers. A SIGALRM every 200 us
# interrupts a main loop that is mostly inside malloc and free; its handler
# calls two cached functions, one with an 8 KiB result. Before the signal
# guard, the shim's own allocations inside the handler corrupted the heap
# ("malloc assertion failure in sysmalloc", exit 134). Now a call from a
# handler goes straight to the real function (shim/sigguard.h).

load helpers

setup_file() {
	txc_mc_start
	export SIGCFG=$BATS_FILE_TMPDIR/sig.ini
	cat >"$SIGCFG" <<EOF
[cache]
servers = $MC_SOCK
namespace = signals
timeout_ms = 2000

[function sq]
signature = int sq(int x)

[function blob]
signature = int blob(int x, out bytes[cap] buf, size_t cap)
EOF
}

teardown_file() {
	txc_mc_stop
}

@test "sigaction handler interrupting malloc: no crash, every result right (3 runs)" {
	for i in 1 2 3; do
		run_shim --separate-stderr "$SIGCFG" timeout 120 "$FIXTURES/sigmalloc" malloc 300000
		[[ $status -eq 0 && $output == "ok bad=0" ]] || {
			echo "run $i: status $status: $output $stderr"
			return 1
		}
	done
}

@test "signal() handler interrupting malloc: no crash, every result right" {
	run_shim --separate-stderr "$SIGCFG" timeout 120 "$FIXTURES/sigmalloc" signal 300000
	[[ $status -eq 0 && $output == "ok bad=0" ]] || { echo "status $status: $output $stderr"; return 1; }
}

@test "calls from a handler are never cached: they reach the real function" {
	TXCACHE_LOG=info run_shim --separate-stderr "$SIGCFG" timeout 120 "$FIXTURES/sigmalloc" malloc 50000
	[[ $status -eq 0 ]] || { echo "status $status"; return 1; }
	[[ $stderr == *"handler calls: "* ]] || { echo "stderr: $stderr"; return 1; }
	# blob is called only by the handler
	[[ $stderr != *" blob "* ]] || { echo "blob went through the cache:"; grep ' blob ' <<<"$stderr" | head -3; return 1; }
	[[ $stderr == *"hit sq "* || $stderr == *"miss sq "* ]] || { echo "the main loop's sq was not cached"; return 1; }
}

@test "the program reads back its own handlers from sigaction and signal" {
	run_shim "$SIGCFG" "$FIXTURES/sigmalloc" identity
	[[ $status -eq 0 && $output == "identity ok calls=1" ]] || { echo "status $status: $output"; return 1; }
}

@test "after a siglongjmp out of a handler, the thread's calls are cached again" {
	# ThreadSanitizer delivers a signal only at its next synchronisation
	# point, which the fixture's busy loop never reaches
	[[ ${TXCACHE_TSAN:-} != 1 ]] || skip "signals are deferred under ThreadSanitizer"
	TXCACHE_LOG=info run_shim --separate-stderr "$SIGCFG" timeout 60 "$FIXTURES/sigmalloc" longjmp
	[[ $status -eq 0 && $output == "after longjmp bad=0" ]] || { echo "status $status: $output"; return 1; }
	local hits
	hits=$(grep -c '^txcache: hit sq ' <<<"$stderr" || true)
	((hits >= 3)) || { echo "hits after the longjmp: $hits"; echo "$stderr" | tail -8; return 1; }
}
