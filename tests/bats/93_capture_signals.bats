#!/usr/bin/env bats
# What a capturing call's value holds, when something else happens during
# the call: a signal handler writes to the same descriptor (its text is not
# the function's output: a hit, when no signal fires, must not replay it),
# a C++ exception leaves the call (later calls are captured and served), or
# the configured function is itself a writer the capture layer wraps (it
# cannot be captured: the config check refuses it).

load helpers

setup_file() {
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

setup() {
	txc_mc_flush
	CFG=$(txc_config capsig <<EOF
[cache]
servers = $MC_SOCK
namespace = capsig
timeout_ms = 2000

[function slow_page]
signature = int slow_page(out fd fd, int n)

[function throw_emit]
signature = int throw_emit(out fd fd, int n)
EOF
)
}

# handler_writes HOW: sigwdrv with a ticking handler (HOW: write, alt,
# stdio) fills the cache; a run without signals is then a hit and prints
# exactly what the program prints without txcache and without signals.
handler_writes() {
	local plain
	plain=$("$FIXTURES/sigwdrv" 2>/dev/null) || { echo "plain run failed"; return 1; }
	TXCACHE_LOG=info run_shim --separate-stderr "$CFG" timeout 60 "$FIXTURES/sigwdrv" tick "$1"
	[[ $status -eq 0 ]] || { echo "cold: status $status"; echo "$stderr" | tail -5; return 1; }
	[[ $output == *tick* ]] || { echo "no tick printed during the call: proves nothing"; echo "$output"; return 1; }
	[[ $stderr == *"txcache: miss slow_page "*"bytes stored"* ]] || { echo "cold: not stored:"; echo "$stderr" | tail -5; return 1; }
	[[ $(grep -c '^page line' <<<"$output") == 20 ]] || { echo "cold: page lines lost:"; echo "$output"; return 1; }
	TXCACHE_LOG=info run_shim --separate-stderr "$CFG" timeout 60 "$FIXTURES/sigwdrv"
	[[ $status -eq 0 ]] || { echo "warm: status $status"; return 1; }
	[[ $stderr == *"txcache: hit slow_page "* ]] || { echo "warm run had no hit"; echo "$stderr" | tail -5; return 1; }
	[[ $output == "$plain" ]] || { echo "the hit differs from the program without signals:"; diff <(echo "$plain") <(echo "$output"); return 1; }
}

@test "a SIGALRM handler's write(2) during a capturing call is not stored" {
	handler_writes write
}

@test "the handler on an alternate signal stack: its writes are not stored" {
	handler_writes alt
}

@test "a handler's printf to the captured stream is not stored" {
	handler_writes stdio
}

@test "C++ exception out of a capturing call: later calls are captured, served, caching stays on" {
	local plain
	plain=$("$FIXTURES/throwguard") || { echo "plain run failed"; return 1; }
	[[ $plain == "throw_emit -1"$'\n'"caught negative"* ]] || { echo "plain: $plain"; return 1; }
	local run
	for run in cold warm; do
		TXCACHE_LOG=info run_shim --separate-stderr "$CFG" timeout 30 "$FIXTURES/throwguard"
		[[ $status -eq 0 ]] || { echo "$run: status $status (124 = hang)"; echo "$stderr" | tail -5; return 1; }
		[[ $output == "$plain" ]] || { echo "$run output differs:"; diff <(echo "$plain") <(echo "$output"); return 1; }
		[[ $stderr != *"left the shim's work"* ]] || { echo "$run: guard taken over?"; return 1; }
	done
	# warm: the thrown call is never stored (a miss again); the four after it hit
	[[ $stderr == *"txcache: stats throw_emit: hits=4 misses=1 "* ]] || {
		echo "warm counters:"; grep 'stats throw_emit' <<<"$stderr"; return 1; }
}

# writer_config SIGNATURE: a config caching one wrapped writer (its
# [function] header on line 6, its signature on line 7).
writer_config() {
	local name=${1#* }
	name=${name%%(*}
	txc_config writer <<EOF
[cache]
servers = $MC_SOCK
namespace = capsig
timeout_ms = 2000

[function $name]
signature = $1
EOF
}

@test "txcache check refuses a wrapped writer with an out stream or out fd, with FILE:LINE" {
	local cfg sig
	for sig in "int fputs(string s, out stream f)" "ssize_t write(out fd fd, ptr buf, size_t n)" \
		"int fprintf(out stream f, string fmt)" "int dprintf(out fd fd, string fmt)"; do
		cfg=$(writer_config "$sig")
		run_txcache --separate-stderr check -c "$cfg"
		[[ $status -ne 0 ]] || { echo "$sig: accepted"; return 1; }
		[[ $stderr == *"$cfg:7: signature: "*"is one of the writers the capture layer wraps"* ]] || {
			echo "$sig: $stderr"; return 1; }
	done
	# the same name without a capture parameter is not a captured writer
	cfg=$(writer_config "int fputs(string s, ptr f)")
	run_txcache --separate-stderr check -c "$cfg"
	[[ $stderr != *"writers the capture layer wraps"* ]] || { echo "refused: $stderr"; return 1; }
}

@test "fputs configured with out stream: refused at load, the program's output is whole" {
	local cfg plain run logs=()
	cfg=$(writer_config "int fputs(string s, out stream f)")
	plain=$("$FIXTURES/fputsdrv") || { echo "plain run failed"; return 1; }
	for run in cold warm; do
		# no timeout(1): it would load the shim and log the line too
		run_shim --separate-stderr "$cfg" "$FIXTURES/fputsdrv"
		[[ $status -eq 0 ]] || { echo "$run: status $status"; return 1; }
		[[ $output == "$plain" ]] || { echo "$run output differs:"; diff <(echo "$plain") <(echo "$output"); return 1; }
		logs+=("$stderr")
	done
	for run in 0 1; do
		[[ $(grep -c "^txcache: .*$cfg:7: .*writers the capture layer wraps" <<<"${logs[run]}") == 1 ]] || {
			echo "run $run: not one line:"; echo "${logs[run]}"; return 1; }
	done
}
