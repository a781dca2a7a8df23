#!/usr/bin/env bats
# Modes (issue 13, point 6): mode = normal | readonly | recache | off in
# [cache] and per function, TXCACHE_MODE, txcache warm, and the mode in
# txcache stats. The fixture is libkinds' k_get(name), whose answer is the
# number stored under NAME in the file KINDS_DB: a test changes the file to
# change what the real function answers. Real calls are counted in
# KINDS_CALLS.
#
# This file's memcached runs with -vv: it logs every command it receives
# ("<FD set KEY ..."), so a test can say which keys a run wrote, which
# memcached's own counters (stats) cannot.

load helpers
load kinds_helpers

setup_file() {
	local f
	for f in "$SHIM" "$TXCACHE" "$KD" "$FIXTURES/libkinds.so"; do
		[[ -e $f ]] || { echo "missing $f: run make all and the fixtures" >&2; return 1; }
	done
	TXC_MC_DIR=$(mc_tmpdir) || return 1
	export TXC_MC_DIR
	# mc_start without -vv; memcached.sh's launcher takes the extra flag
	# and sends memcached's stderr (the command log) to mc.err.
	_mc_prepare "$TXC_MC_DIR" || return 1
	_mc_launch "$TXC_MC_DIR" "$TXC_MC_DIR/mc.sock" -s "$TXC_MC_DIR/mc.sock" -a 0700 -vv ||
		return 1
	export MC_SOCK=$TXC_MC_DIR/mc.sock MC_LOG=$TXC_MC_DIR/mc.err
}

teardown_file() {
	txc_mc_stop
}

setup() {
	kinds_setup
	unset TXCACHE_MODE
	# These tests change what the real function answers and count memcached's
	# commands: a verified hit (make check-verify) would serve the real answer
	# and delete the entry it found different.
	export TXCACHE_VERIFY=0
	printf 'bob 5\n' >"$KINDS_DB"
}

get_config() {
	kinds_config "$@" <<'EOF'
[function k_get]
signature = int k_get(string name)
EOF
}

# mc_mark: remembers where memcached's command log ends now.
mc_mark() {
	MC_MARK=$(wc -l <"$MC_LOG")
}

# mc_writes: every command since mc_mark that changes memcached, as
# "COMMAND KEY" (storage, arithmetic, delete, touch, flush).
mc_writes() {
	tail -n +$((MC_MARK + 1)) "$MC_LOG" | LC_ALL=C awk '
		$1 ~ /^<[0-9]+$/ && $2 ~ /^(set|add|replace|append|prepend|cas|incr|decr|delete|touch|gat|gats|flush_all)$/ { print $2, $3 }'
}

# mc_commands_of NS: the commands since mc_mark naming a key of namespace NS.
mc_commands_of() {
	tail -n +$((MC_MARK + 1)) "$MC_LOG" | LC_ALL=C grep -a "^<[0-9]* .* $1:" || true
}

# mc_stat NAME: memcached's counter NAME (stats).
mc_stat() {
	memcstat --servers="$MC_SOCK" | awk -v n="$1:" '$1 == n { print $2 }'
}

# mc_stats_snapshot: the counters of every writing command, one line.
mc_stats_snapshot() {
	local k out=""
	for k in cmd_set cmd_touch cmd_flush delete_hits delete_misses incr_hits incr_misses \
		decr_hits decr_misses cas_hits cas_misses cas_badval get_hits; do
		out+="$k=$(mc_stat "$k") "
	done
	echo "$out"
}

# stat_delta BEFORE AFTER NAME: how much counter NAME grew.
stat_delta() {
	local a b
	a=$(grep -o "$3=[0-9]*" <<<"$1") b=$(grep -o "$3=[0-9]*" <<<"$2")
	echo $((${b#*=} - ${a#*=}))
}

@test "readonly: serves hits and writes no cached data (only its counters)" {
	cfg=$(get_config ro)
	kd_shim "$cfg" get bob # normal: miss and store
	expect_out 'k_get "bob" -> 5' || return 1
	assert_calls 1 || return 1
	before=$(mc_stats_snapshot)
	mc_mark
	TXCACHE_MODE=readonly kd_shim "$cfg" repeat 3 get bob
	expect_out $'k_get "bob" -> 5\nk_get "bob" -> 5\nk_get "bob" -> 5' || return 1
	assert_calls 1 "readonly serves the stored value" || return 1
	assert_log hit k_get || return 1
	TXCACHE_MODE=readonly kd_shim "$cfg" get ann # a miss, which must not be stored
	after=$(mc_stats_snapshot)
	expect_out 'k_get "ann" -> -1' || return 1
	assert_calls 2 "readonly: a miss calls the real function" || return 1
	(($(stat_delta "$before" "$after" get_hits) >= 3)) ||
		kinds_fail "memcached counted no hits: $before -> $after" || return 1
	# Nothing but the counters of txcache stats (NS:k_get:st:*) was written.
	writes=$(mc_writes)
	data=$(grep -v "^[a-z]* $KINDS_NS:k_get:st:[a-z_]*\$" <<<"$writes" || true)
	[[ -z $data ]] || kinds_fail "readonly wrote cached data:
$data" || return 1
	for k in cmd_touch cmd_flush delete_hits delete_misses decr_hits decr_misses \
		cas_hits cas_misses cas_badval; do
		[[ $(stat_delta "$before" "$after" $k) -eq 0 ]] ||
			kinds_fail "memcached counted $k: $before -> $after" || return 1
	done
	# memcached's cmd_set counts exactly the counter writes the log shows.
	sets=$(grep -cE '^(set|add|replace|append|prepend|cas) ' <<<"$writes" || true)
	[[ $(stat_delta "$before" "$after" cmd_set) -eq $sets ]] ||
		kinds_fail "cmd_set grew by more than the $sets counter writes: $before -> $after" ||
		return 1
}

@test "readonly on an empty cache: every call is real and nothing is stored (no generation, registry, lock)" {
	cfg=$(kinds_config empty <<'EOF'
[function k_get]
signature = int k_get(string name)
lock = yes
mode = readonly
EOF
	)
	mc_mark
	kd_shim "$cfg" repeat 3 get bob
	expect_out $'k_get "bob" -> 5\nk_get "bob" -> 5\nk_get "bob" -> 5' || return 1
	assert_calls 3 "readonly: each miss calls the real function" || return 1
	[[ $stderr == *"(mode readonly: not stored)"* ]] || kinds_fail "no readonly miss line" ||
		return 1
	data=$(mc_writes | grep -v "^[a-z]* $KINDS_NS:k_get:st:[a-z_]*\$" || true)
	[[ -z $data ]] || kinds_fail "readonly wrote:
$data" || return 1
	# A normal run then finds nothing.
	kd_shim "$(get_config after)" get bob
	assert_calls 4 "nothing was stored: the normal run misses" || return 1
	assert_log miss k_get || return 1
}

@test "recache: calls the real function every time (near cache too), stores the new answer; normal then serves it" {
	cfg=$(kinds_config rc <<'EOF'
[function k_get]
signature = int k_get(string name)
local_ttl = 60
EOF
	)
	kd_shim "$cfg" repeat 2 get bob
	expect_out $'k_get "bob" -> 5\nk_get "bob" -> 5' || return 1
	assert_calls 1 || return 1
	printf 'bob 7\n' >"$KINDS_DB" # the world changed; the cache did not see it
	kd_shim "$cfg" get bob
	expect_out 'k_get "bob" -> 5' || return 1
	assert_calls 1 "normal serves the old value" || return 1
	TXCACHE_MODE=recache kd_shim "$cfg" repeat 2 get bob
	expect_out $'k_get "bob" -> 7\nk_get "bob" -> 7' || return 1
	assert_calls 3 "recache: both calls real, the second not from the near cache" || return 1
	assert_log hit k_get absent || return 1
	kd_shim "$cfg" repeat 2 get bob
	expect_out $'k_get "bob" -> 7\nk_get "bob" -> 7' || return 1
	assert_calls 3 "normal serves what recache stored" || return 1
}

@test "off: not interposed, no memcached traffic; txcache check still validates it" {
	cfg=$(kinds_config off <<'EOF'
[function k_get]
signature = int k_get(string name)
mode = off
EOF
	)
	mc_mark
	kd_shim "$cfg" repeat 3 get bob
	expect_out $'k_get "bob" -> 5\nk_get "bob" -> 5\nk_get "bob" -> 5' || return 1
	assert_calls 3 || return 1
	[[ $stderr == *"0 call sites redirected"* ]] || kinds_fail "k_get was patched" || return 1
	cmds=$(mc_commands_of "$KINDS_NS")
	[[ -z $cmds ]] || kinds_fail "traffic for an off function:
$cmds" || return 1
	# TXCACHE_MODE=off turns off a function configured normal.
	TXCACHE_MODE=off kd_shim "$(get_config envoff)" repeat 2 get bob
	assert_calls 5 || return 1
	cmds=$(mc_commands_of "$KINDS_NS")
	[[ -z $cmds ]] || kinds_fail "traffic under TXCACHE_MODE=off:
$cmds" || return 1
	run_txcache check -c "$cfg"
	[[ $status -eq 0 ]] || kinds_fail "check refused mode = off" || return 1
	run_txcache check -c "$cfg" "$KD"
	[[ $status -eq 0 && $output == *"k_get: interceptable: imported by "*" (mode = off: left alone)"* ]] ||
		kinds_fail "check PROGRAM does not say k_get is off: $output" || return 1
}

@test "txcache warm: runs the program in recache, whatever TXCACHE_MODE it inherits" {
	cfg=$(get_config warm)
	kd_shim "$cfg" get bob
	assert_calls 1 || return 1
	printf 'bob 9\n' >"$KINDS_DB"
	TXCACHE_MODE=readonly run_txcache warm -c "$cfg" -- "$KD" get bob
	[[ $status -eq 0 && $output == *'k_get "bob" -> 9'* ]] || kinds_fail "warm: wrong answer" ||
		return 1
	assert_calls 2 "warm calls the real function" || return 1
	kd_shim "$cfg" get bob
	expect_out 'k_get "bob" -> 9' || return 1
	assert_calls 2 "the next normal run is served what warm stored" || return 1
	run_txcache warm -c "$cfg"
	[[ $status -eq 64 && $output == *"txcache warm: no PROGRAM given"* ]] ||
		kinds_fail "warm without a program: status $status" || return 1
	kinds_exec "$TXCACHE" --help
	[[ $status -eq 0 && $output == *"txcache warm "* ]] || kinds_fail "--help does not list warm" || return 1
}

@test "TXCACHE_MODE overrides a function's mode and [cache] mode" {
	cfg=$(kinds_config over 'mode = off' <<'EOF'
[function k_get]
signature = int k_get(string name)
mode = readonly
EOF
	)
	kd_shim "$cfg" get bob
	assert_calls 1 || return 1
	[[ $stderr == *"(mode readonly: not stored)"* ]] ||
		kinds_fail "the function's own mode (readonly) did not apply" || return 1
	[[ $stderr =~ "txcache: stats k_get: hits=0 misses=1 ".*" mismatch=0 mode=readonly" ]] ||
		kinds_fail "the exit stats line does not name the mode" || return 1
	TXCACHE_MODE=normal kd_shim "$cfg" get bob
	[[ $stderr != *"mode="* ]] || kinds_fail "a normal stats line names its mode" || return 1
	assert_log miss k_get || return 1
	TXCACHE_MODE=normal kd_shim "$cfg" get bob
	assert_log hit k_get || return 1
	assert_calls 2 "TXCACHE_MODE=normal stored and served" || return 1
	mc_mark
	TXCACHE_MODE=off kd_shim "$cfg" get bob
	assert_calls 3 "TXCACHE_MODE=off: the real function" || return 1
	cmds=$(mc_commands_of "$KINDS_NS")
	[[ -z $cmds ]] || kinds_fail "traffic under TXCACHE_MODE=off: $cmds" || return 1
}

@test "a bad TXCACHE_MODE logs one line and the config's modes apply" {
	cfg=$(get_config bad)
	TXCACHE_MODE=sometimes kd_shim "$cfg" repeat 2 get bob
	expect_status 0 || return 1
	expect_out $'k_get "bob" -> 5\nk_get "bob" -> 5' || return 1
	n=$(grep -c "TXCACHE_MODE" <<<"$stderr" || true)
	[[ $n -eq 1 ]] || kinds_fail "expected one TXCACHE_MODE line, found $n" || return 1
	grep -q "^txcache: TXCACHE_MODE: 'sometimes' is not normal, readonly, recache or off" \
		<<<"$stderr" || kinds_fail "unexpected message" || return 1
	assert_calls 1 "normal: a miss then a hit" || return 1
	assert_log hit k_get || return 1
}

@test "per-function modes: [cache] mode is inherited, a function's own wins" {
	cfg=$(kinds_config perfn 'mode = readonly' <<'EOF'
[function k_get]
signature = int k_get(string name)
[function k_strlen]
signature = int k_strlen(string s)
mode = normal
EOF
	)
	mc_mark
	kd_shim "$cfg" get bob -- strlen abc
	kd_shim "$cfg" get bob -- strlen abc
	assert_calls 3 "k_get (readonly) twice real, k_strlen (normal) once" || return 1
	assert_log hit k_strlen || return 1
	data=$(mc_writes | grep -E "^(set|add|cas) $KINDS_NS:k_get:" | grep -v ":st:" || true)
	[[ -z $data ]] || kinds_fail "k_get (readonly) wrote: $data" || return 1
	mc_writes | grep -qE "^(add|cas|set) $KINDS_NS:k_strlen:[0-9a-f]{32}\$" ||
		kinds_fail "k_strlen stored nothing" || return 1
}

@test "readonly: a mutator still invalidates (a skipped invalidation would serve wrong results)" {
	cfg=$(kinds_config mut <<'EOF'
[function k_get]
signature = int k_get(string name)
[function k_set]
signature = int k_set(string name, int v)
invalidates = k_get(name)
EOF
	)
	kd_shim "$cfg" get bob
	assert_calls 1 || return 1
	TXCACHE_MODE=readonly kd_shim "$cfg" set bob 8 -- get bob
	expect_out --partial 'k_get "bob" -> 8' || return 1
	kd_shim "$cfg" get bob
	expect_out 'k_get "bob" -> 8' || return 1
}

@test "txcache stats shows the mode each function last ran with" {
	cfg=$(get_config stats 'stats_interval = 0')
	kd_shim "$cfg" get bob
	run_txcache stats -c "$cfg"
	[[ $(awk '$1 == "k_get" {print $NF}' <<<"$output") == normal ]] ||
		kinds_fail "stats: $output" || return 1
	TXCACHE_MODE=readonly kd_shim "$cfg" get bob
	run_txcache stats -c "$cfg"
	[[ $(awk '$1 == "k_get" {print $2, $NF}' <<<"$output") == "1 readonly" ]] ||
		kinds_fail "stats after readonly: $output" || return 1
	TXCACHE_MODE=recache kd_shim "$cfg" get bob
	run_txcache stats -c "$cfg" --json
	json_check '
g = d["functions"]["k_get"]
assert d["modes"]["k_get"] == "recache" and g["misses"] == 2 and g["stores"] == 2, d
' || kinds_fail "stats --json: $output" || return 1
	KINDS_NS=${KINDS_NS}never # a namespace no process used
	run_txcache stats -c "$(get_config never)"
	[[ $(awk '$1 == "k_get" {print $NF}' <<<"$output") == - ]] ||
		kinds_fail "a function never published: $output" || return 1
}

@test "mode: bad values and a mode on a mutator are errors with FILE:LINE in txcache check" {
	cfg=$(kinds_config badmode 'mode = sometimes' <<'EOF'
[function k_get]
signature = int k_get(string name)
mode = READONLY
[function k_strlen]
signature = int k_strlen(string s)
mode = fast
[function k_set]
signature = int k_set(string name, int v)
invalidates = k_get(name)
mode = readonly
EOF
	)
	run_txcache --separate-stderr check -c "$cfg"
	[[ $status -ne 0 ]] || { echo "check accepted bad modes"; return 1; }
	grep -qx "$cfg:5: mode: 'sometimes' is not normal, readonly, recache or off" <<<"$stderr" ||
		{ echo "no [cache] line: $stderr"; return 1; }
	grep -qx "$cfg:12: mode: 'fast' is not normal, readonly, recache or off" <<<"$stderr" ||
		{ echo "no k_strlen line: $stderr"; return 1; }
	grep -q "^$cfg:16: mode: k_set has invalidates" <<<"$stderr" ||
		{ echo "no mutator line: $stderr"; return 1; }
	[[ $stderr != *":9: mode"* ]] || { echo "READONLY (any case) refused: $stderr"; return 1; }
}

@test "off: a function with an out fd installs no capture wrappers either" {
	cfg=$(kinds_config capoff <<'EOF2'
[function cap_emit]
signature = int cap_emit(out fd fd, string mode, string tag, int n)
mode = off
EOF2
	)
	kinds_exec_shim "$cfg" "$FIXTURES/cap_driver" emit 1 write x 1
	expect_status 0 || return 1
	[[ $stderr == *"0 call sites redirected"* && $stderr != *"capture:"* ]] ||
		kinds_fail "mode off still armed the capture" || return 1
	TXCACHE_MODE=normal kinds_exec_shim "$cfg" "$FIXTURES/cap_driver" emit 1 write x 1
	[[ $stderr == *"capture: "*" write call sites redirected"* ]] ||
		kinds_fail "the control run armed no capture" || return 1
}

# recache_looked_up KEY: the command log shows a lookup of KEY since mc_mark.
recache_looked_up() {
	tail -n +$((MC_MARK + 1)) "$MC_LOG" | LC_ALL=C grep -aq "^<[0-9]* gets $1 "
}

@test "recache: an invalidation during its real call wins (cas against the lookup, not a plain set)" {
	cfg=$(kinds_config race <<'EOF2'
[function pf_slow]
signature = int pf_slow(int x, int ms)
ignore = ms
EOF2
	)
	PD=$FIXTURES/perf_driver
	kinds_exec_shim "$cfg" "$PD" slow:4:1
	expect_out 'slow(4) = 12' || return 1
	run_txcache key -c "$cfg" --library "$FIXTURES/libperf.so" pf_slow 4
	key=$output
	mc_mark
	# a recache whose real call takes 3 s; the entry is deleted meanwhile
	TXCACHE_MODE=recache LD_PRELOAD=$KINDS_PRELOAD TXCACHE_CONFIG=$cfg \
		"$PD" slow:4:3000 >"$BATS_TEST_TMPDIR/rc.out" 2>"$BATS_TEST_TMPDIR/rc.err" 3>&- &
	pid=$!
	wait_until recache_looked_up "$key" || { kill "$pid"; kinds_fail "no lookup of $key"; return 1; }
	run_txcache delete -c "$cfg" pf_slow 4
	[[ $status -eq 0 ]] || { kill "$pid"; kinds_fail "delete failed: $output"; return 1; }
	wait "$pid" || kinds_fail "the recache run failed: $(cat "$BATS_TEST_TMPDIR/rc.err")" || return 1
	grep -q "pf_slow: not stored: invalidated during the call" "$BATS_TEST_TMPDIR/rc.err" ||
		kinds_fail "recache stored over the invalidation: $(cat "$BATS_TEST_TMPDIR/rc.err")" ||
		return 1
	before=$(calls_count)
	kinds_exec_shim "$cfg" "$PD" slow:4:1
	assert_calls $((before + 1)) "the invalidation stands: the next normal run is a miss" ||
		return 1
}
