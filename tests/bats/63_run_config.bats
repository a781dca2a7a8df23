#!/usr/bin/env bats
# txcache run with a config that can be read only once: a FIFO, a pipe on
# /dev/stdin, a process substitution. The CLI reads it once, checks it, and
# hands the shim the very text it checked (TXCACHE_CONFIG_TEXT).

load helpers

setup_file() {
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

cfg_text() {
	printf '[cache]\nservers = %s\nnamespace = runcfg\nlog = info\n\n[function pow]\nsignature = double pow(double x, double y)\n' "$MC_SOCK"
}

# The shim's start line proves it read the config; the program's output is its own.
check_ran() {
	[[ $status -eq 0 ]] || { echo "status $status: $output $stderr"; return 1; }
	[[ $output == 8.0 ]] || { echo "stdout: $output"; return 1; }
	[[ $stderr == *"txcache: 1 functions configured"* ]] || { echo "stderr: $stderr"; return 1; }
}

@test "run -c FIFO: read once, no hang, the shim uses what was checked" {
	local fifo=$BATS_TEST_TMPDIR/cfg.fifo
	mkfifo "$fifo"
	cfg_text >"$fifo" 3>&- &
	run --separate-stderr timeout 20 "$TXCACHE" run -c "$fifo" -- python3 -S -c 'import math; print(math.pow(2, 3))'
	check_ran
}

@test "run -c /dev/stdin from a pipe" {
	run --separate-stderr bash -c "cfg_text() { $(declare -f cfg_text | tail -n +2); }; MC_SOCK='$MC_SOCK'; cfg_text | timeout 20 '$TXCACHE' run -c /dev/stdin -- python3 -S -c 'import math; print(math.pow(2, 3))'"
	check_ran
}

@test "run -c <(...) (process substitution)" {
	run --separate-stderr bash -c "cfg_text() { $(declare -f cfg_text | tail -n +2); }; MC_SOCK='$MC_SOCK'; timeout 20 '$TXCACHE' run -c <(cfg_text) -- python3 -S -c 'import math; print(math.pow(2, 3))'"
	check_ran
}

@test "run -c FIFO with an invalid config: FILE:LINE and exit 65, nothing runs" {
	local fifo=$BATS_TEST_TMPDIR/bad.fifo
	mkfifo "$fifo"
	printf '[cache]\nservers = %s\nttl = soon\n' "$MC_SOCK" >"$fifo" 3>&- &
	run --separate-stderr timeout 20 "$TXCACHE" run -c "$fifo" -- echo ran
	[[ $status -eq 65 ]] || { echo "status $status"; return 1; }
	[[ $output != *ran* ]] || { echo "the program ran"; return 1; }
	[[ $stderr == *"bad.fifo:3: ttl"* ]] || { echo "stderr: $stderr"; return 1; }
}
