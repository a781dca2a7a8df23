#!/usr/bin/env bats
# stale = SECONDS (stale-while-revalidate) and refresh = early (XFetch):
# real processes, a real memcached, libstale's log of real calls (with the
# wall-clock start and end of each: tests/fixtures/stale_lib.c).

load helpers
load kinds_helpers

SL=$FIXTURES/stale_loop

setup_file() {
	kinds_setup_file
	[[ -x $SL ]] || { echo "missing $SL: make -C tests/fixtures BUILD=$BUILD" >&2; return 1; }
}

teardown_file() {
	kinds_teardown_file
}

setup() {
	kinds_setup
}

# stale_config NAME LINE...: st_slow (keyed by x only) with LINEs, and its
# mutator st_set.
stale_config() {
	local name=$1
	shift
	{
		printf '[function st_slow]\nsignature = int st_slow(int x, int ms)\nignore = ms\n'
		printf '%s\n' "$@"
		printf '\n[function st_set]\nsignature = int st_set(int x, int n)\n'
		printf 'invalidates = st_slow(x)\n'
	} | kinds_config "$name"
}

sl() {
	local cfg=$1
	shift
	kinds_exec_shim "$cfg" "$SL" "$@"
}

# The key the last run's stderr names for st_slow (miss, hit or refresh).
last_key() {
	grep -o "$KINDS_NS:st_slow:[0-9a-f]\{32\}" <<<"$stderr" | tail -n 1
}

# mc_raw COMMAND...: one text-protocol exchange with this file's memcached;
# prints the first reply line.
mc_raw() {
	python3 -S -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().replace(b"\\n", b"\r\n"))
print(s.recv(200).split(b"\r\n")[0].decode())' "$MC_SOCK" "$1"
}

# hold_lock KEY: another process's refresh lock on KEY, for 60 s.
hold_lock() {
	local r
	r=$(mc_raw "add $1:lock 0 60 4\\nheld\\n")
	[[ $r == STORED ]] || { kinds_fail "could not add $1:lock: $r"; return 1; }
}

drop_lock() {
	local r
	r=$(mc_raw "delete $1:lock\\n")
	[[ $r == DELETED ]] || { kinds_fail "could not delete $1:lock: $r"; return 1; }
}

# past_fresh SECONDS: waits until the wall clock is SECONDS (plus 50 ms)
# past the end of the last real call (with SECONDS = ttl: past fresh-until).
past_fresh() {
	local end
	end=$(tail -n 1 "$KINDS_CALLS" | cut -d' ' -f5)
	[[ -n $end ]] || { kinds_fail "no real call logged"; return 1; }
	wait_until -t 60 python3 -S -c '
import sys, time
sys.exit(0 if time.time_ns() > int(sys.argv[1]) + int(sys.argv[2]) * 10**9 + 5 * 10**7 else 1)
' "$end" "$1"
}

# stale_value CFG X: st_slow(X) stored with the db at 1 (a miss), then
# waits past its fresh-until (CFG has ttl = 1); sets KEY.
stale_value() {
	echo 1 >"$KINDS_DB"
	sl "$1" once "$2" 10
	[[ $output == "st_slow($2) = $(($2 * 1000 + 1))" ]] || {
		kinds_fail "the first call of st_slow($2)"
		return 1
	}
	key=$(last_key)
	[[ -n $key ]] || { kinds_fail "no key logged"; return 1; }
	past_fresh 1
}

# herd N CFG SECONDS: N processes call st_slow(1, 600) in a loop for SECONDS.
herd() {
	local n=$1 cfg=$2 secs=$3 i pids=() bad=0
	for ((i = 0; i < n; i++)); do
		LD_PRELOAD=$KINDS_PRELOAD TXCACHE_CONFIG=$cfg "$SL" loop 1 600 "$secs" \
			>"$BATS_TEST_TMPDIR/herd.$i" 2>"$BATS_TEST_TMPDIR/herd.$i.err" 3>&- &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || bad=1
	done
	((bad == 0)) || { kinds_fail "a process of the herd failed"; return 1; }
}

# check_herd TTL_S DELAY_MS FROM: the real calls after line FROM of the call
# log came one at a time, each at least TTL_S after the previous one ended
# (one per expiry), and no caller that did not make a real call itself
# took DELAY_MS or longer (nobody waits for another's recomputation).
check_herd() {
	python3 -S - "$KINDS_CALLS" "$1" "$2" "$3" "$BATS_TEST_TMPDIR"/herd.? <<'EOF'
import sys
calls, ttl, delay, skip = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
real = [l.split() for l in open(calls).read().splitlines()[skip:]]
real = sorted((int(r[3]), int(r[4]), r[2]) for r in real)
bad = []
if not real:
    bad.append("no real call at all: nothing was ever refreshed")
for a, b in zip(real, real[1:]):
    gap = (b[0] - a[1]) / 1e9
    # fresh-until is set after the previous call returned: at least ttl later
    if gap < ttl - 0.02:
        bad.append("real call at %d began %.3f s after the previous ended (ttl %d)" % (b[0], gap, ttl))
per_pid = {}
for s, e, pid in real:
    per_pid[pid] = per_pid.get(pid, 0) + 1
n = 0
for f in sys.argv[5:]:
    slow = {}
    for l in open(f):
        w = l.split()
        if w[0] != "call":
            bad.append("%s: unexpected line %r" % (f, l))
            continue
        n += 1
        if w[4] != "1007":
            bad.append("pid %s got %s, not 1007" % (w[1], w[4]))
        if int(w[3]) >= delay * 1000000:
            slow[w[1]] = slow.get(w[1], 0) + 1
    for pid, k in slow.items():
        if k > per_pid.get(pid, 0):
            bad.append("pid %s: %d calls took >= %d ms, but it made %d real calls: it waited"
                       % (pid, k, delay, per_pid.get(pid, 0)))
print("%d calls, %d real calls: %s" % (n, len(real), ", ".join(
    "%.3f-%.3f by %s" % (s / 1e9 % 1000, e / 1e9 % 1000, p) for s, e, p in real)))
for b in bad:
    print("BAD: " + b)
sys.exit(1 if bad else 0)
EOF
}

# hot_key NAME LINE...: the acceptance run. With LINEs for st_slow, one
# process stores st_slow(1), then 6 processes call it for 5 s with ttl = 1
# and stale = 30: one real call per expiry, and nobody waits for it.
hot_key() {
	local cfg from
	cfg=$(stale_config "$@" 'ttl = 1' 'stale = 30')
	echo 7 >"$KINDS_DB"
	sl "$cfg" once 1 600
	[[ $output == 'st_slow(1) = 1007' ]] || { kinds_fail "the first call"; return 1; }
	from=$(calls_count)
	herd 6 "$cfg" 5 || return 1
	run check_herd 1 600 "$from"
	echo "$output"
	[[ $status -eq 0 ]] || { kinds_fail "the herd broke the guarantee"; return 1; }
	# the refreshers said so; every other process was served the old value
	grep -q "refreshing $KINDS_NS:st_slow:.* (stale)" "$BATS_TEST_TMPDIR"/herd.*.err || {
		kinds_fail "no refresh logged: $(cat "$BATS_TEST_TMPDIR"/herd.*.err)"
		return 1
	}
	grep -q "^txcache: hit st_slow .* (stale)$" "$BATS_TEST_TMPDIR"/herd.*.err ||
		{ kinds_fail "no stale hit logged"; return 1; }
}

@test "stale: 6 processes on one hot key across expiries: one real call per expiry, nobody waits" {
	# timing is the point: under make check-verify every fresh hit would
	# also make a 600 ms real call
	export TXCACHE_VERIFY=0
	hot_key hot
}

@test "stale with lock = yes: stale readers never wait for the refresher's lock" {
	export TXCACHE_VERIFY=0
	hot_key hotlock 'lock = yes'
}

@test "stale: the refresher gets the new result, the others the old one meanwhile" {
	cfg=$(stale_config serve 'ttl = 1' 'stale = 30')
	stale_value "$cfg" 2
	echo 2 >"$KINDS_DB"
	# another process is refreshing: the old value at once, no real call
	hold_lock "$key"
	sl "$cfg" once 2 10
	expect_out 'st_slow(2) = 2001'
	assert_calls 1
	grep -q "^txcache: hit st_slow $key (stale)$" <<<"$stderr" || kinds_fail "no stale hit"
	drop_lock "$key"
	# now this caller wins the lock: it makes the real call and gets its result
	sl "$cfg" once 2 10
	expect_out 'st_slow(2) = 2002'
	assert_calls 2
	grep -q "refreshing $key (stale)" <<<"$stderr" || kinds_fail "no refresh"
	# and the fresh value is what the next caller is served
	sl "$cfg" once 2 10
	expect_out 'st_slow(2) = 2002'
	assert_calls 2
	run -1 memcexist --servers="$MC_SOCK" "$key:lock"
}

@test "stale: memcached keeps the item ttl + stale; past that, and past a reader's own stale, a miss" {
	# stale 8: the item must outlast ttl by far more than a loaded machine's delays
	cfg=$(stale_config keep 'ttl = 1' 'stale = 8')
	sl "$cfg" once 3 10
	key=$(last_key)
	assert_calls 1
	# past ttl the item is still there (stale), the lock key is not
	past_fresh 1
	run -0 memcexist --servers="$MC_SOCK" "$key"
	# memcached drops it once ttl + stale (9 s, whole seconds) passed
	wait_until -t 30 bash -c "! memcexist --servers='$MC_SOCK' '$key'" ||
		kinds_fail "the item outlived ttl + stale"
	sl "$cfg" once 3 10
	assert_log miss st_slow
	assert_calls 2
	# a reader with stale = 1 judges a value stored under stale = 30 itself:
	# 1.05 s past fresh-until + its stale, it is a miss, not a stale hit
	local long short
	long=$(stale_config long 'ttl = 1' 'stale = 30')
	short=$(stale_config short 'ttl = 1' 'stale = 1')
	sl "$long" once 4 10
	assert_calls 3
	past_fresh 2
	sl "$short" once 4 10
	assert_log miss st_slow
	grep -q "(stale)" <<<"$stderr" && kinds_fail "served stale past fresh-until + stale"
	assert_calls 4
}

@test "stale: an invalidated call, or a flushed function, is never served stale" {
	cfg=$(stale_config inval 'ttl = 1' 'stale = 30')
	stale_value "$cfg" 5
	# a refresh elsewhere would make any value stale-servable: hold its lock
	hold_lock "$key"
	sl "$cfg" set 5 2
	expect_out 'set 5 2'
	sl "$cfg" once 5 10
	expect_out 'st_slow(5) = 5002'
	assert_log miss st_slow
	assert_calls 2
	# the same for a generation bump (txcache flush FUNCTION)
	drop_lock "$key"
	past_fresh 1
	hold_lock "$key"
	echo 3 >"$KINDS_DB"
	run_txcache flush -c "$cfg" st_slow
	[[ $status -eq 0 ]] || kinds_fail "txcache flush failed: $output"
	sl "$cfg" once 5 10
	expect_out 'st_slow(5) = 5003'
	assert_calls 3
}

@test "stale: an invalidation during the refresh wins: its result is not stored" {
	cfg=$(stale_config during 'ttl = 1' 'stale = 30')
	stale_value "$cfg" 6
	export STALE_BEGIN=$BATS_TEST_TMPDIR/begin
	# the refresher reads the db (1), then works 3 s
	LD_PRELOAD=$KINDS_PRELOAD TXCACHE_CONFIG=$cfg "$SL" once 6 3000 \
		>"$BATS_TEST_TMPDIR/a.out" 2>"$BATS_TEST_TMPDIR/a.err" 3>&- &
	local a=$!
	wait_until -t 30 test -s "$STALE_BEGIN" || {
		kill "$a"
		kinds_fail "the refresher never began its real call"
	}
	unset STALE_BEGIN
	sl "$cfg" set 6 2
	wait "$a" || kinds_fail "the refresher failed"
	[[ $(cat "$BATS_TEST_TMPDIR/a.out") == 'st_slow(6) = 6001' ]] ||
		kinds_fail "the refresher's own result: $(cat "$BATS_TEST_TMPDIR/a.out")"
	grep -q "not stored: invalidated during the call" "$BATS_TEST_TMPDIR/a.err" ||
		kinds_fail "the refresher stored over the invalidation: $(cat "$BATS_TEST_TMPDIR/a.err")"
	sl "$cfg" once 6 10
	expect_out 'st_slow(6) = 6002'
	assert_calls 3
}

@test "stale: a near-cache entry ends at fresh-until, so a local_ttl does not hide expiry" {
	export TXCACHE_VERIFY=0 # a verified near hit makes a real call: counted here
	cfg=$(stale_config near 'ttl = 1' 'stale = 30' 'local_ttl = 60')
	echo 8 >"$KINDS_DB"
	# one process, 4 s of calls: its near entry must not serve past fresh-until
	kinds_exec_shim "$cfg" "$SL" loop 1 100 4
	[[ $status -eq 0 ]] || kinds_fail "the loop failed"
	local n
	n=$(calls_count)
	((n >= 2)) || kinds_fail "only $n real call(s) in 4 s with ttl = 1: the near entry outlived fresh-until"
}

@test "stale: a value served stale is never a verify sample (it may rightly differ); a fresh one is" {
	cfg=$(stale_config verify 'ttl = 1' 'stale = 30' 'verify = 1')
	stale_value "$cfg" 9
	hold_lock "$key"
	echo 2 >"$KINDS_DB"
	sl "$cfg" once 9 10
	expect_out 'st_slow(9) = 9001'
	assert_calls 1
	grep -q "^txcache: hit st_slow $key (stale)$" <<<"$stderr" || kinds_fail "no stale hit"
	grep -q "^txcache: verify: " <<<"$stderr" && kinds_fail "a stale value was verified"
	drop_lock "$key"
	sl "$cfg" once 9 10
	expect_out 'st_slow(9) = 9002'
	assert_calls 2
	sl "$cfg" once 9 10
	expect_out 'st_slow(9) = 9002'
	grep -q "^txcache: hit st_slow $key (verified)$" <<<"$stderr" ||
		kinds_fail "the fresh hit was not verified"
	assert_calls 2 # the verified hit's real call is taken off the log
}

@test "refresh = early with a large beta recomputes before expiry; beta 1 does not" {
	cfg=$(stale_config early 'ttl = 60' 'refresh = early' 'beta = 100000')
	sl "$cfg" once 7 50
	assert_calls 1
	# cost 50 ms x beta 1e5 = 5000 s against 60 s left: each hit fires
	# with probability exp(-60/5000) = 0.988
	local n logs=
	for i in 1 2 3 4 5 6; do
		sl "$cfg" once 7 50
		expect_out 'st_slow(7) = 7000'
		logs+=$stderr$'\n'
	done
	n=$(calls_count)
	((n >= 5)) || kinds_fail "only $((n - 1)) early refreshes in 6 fresh hits"
	grep -q "refreshing $KINDS_NS:st_slow:.* (early)" <<<"$logs" ||
		kinds_fail "no early refresh logged"
	# beta 1: 0.05 s against 60 s left, probability exp(-1200): never
	cfg=$(stale_config early1 'ttl = 60' 'refresh = early')
	sl "$cfg" once 8 50
	for i in 1 2 3 4 5 6; do
		sl "$cfg" once 8 50
	done
	assert_calls $((n + 1))
}

@test "txcache check: stale, refresh and beta errors with FILE:LINE" {
	cfg=$(kinds_config badfresh 'stale = soon' 'refresh = sometimes' <<'EOF'
[function st_slow]
signature = int st_slow(int x, int ms)
ttl = 2592000
stale = 10
beta = 0
[function st_other]
signature = int st_other(int x)
ttl = 60
refresh = early
beta = 1e7
EOF
	)
	run_txcache check -c "$cfg"
	echo "$output"
	[[ $status -eq 65 ]] || kinds_fail "exit status $status, not 65"
	[[ $output == *"$cfg:5: stale: 'soon' is not a non-negative integer"* ]] ||
		kinds_fail "no stale error at line 5"
	[[ $output == *"$cfg:6: refresh: 'sometimes' is not early or expiry"* ]] ||
		kinds_fail "no refresh error at line 6"
	[[ $output == *"$cfg:11: stale: ttl 2592000 + stale 10 of [function st_slow] is more than 2592000 s"* ]] ||
		kinds_fail "no ttl + stale error at line 11"
	[[ $output == *"$cfg:12: beta: '0' is not a number above 0 and at most 1000000"* ]] ||
		kinds_fail "no beta error at line 12"
	[[ $output != *"$cfg:12: warning:"* ]] || kinds_fail "a warning for a bad beta"
	[[ $output == *"$cfg:17: beta: '1e7' is not a number above 0 and at most 1000000"* ]] ||
		kinds_fail "no beta error at line 17"
	cfg=$(kinds_config warnfresh <<'EOF'
[function st_slow]
signature = int st_slow(int x, int ms)
stale = 30
beta = 2
EOF
	)
	run_txcache check -c "$cfg"
	echo "$output"
	[[ $status -eq 0 ]] || kinds_fail "warnings only, yet exit status $status"
	[[ $output == *"$cfg:8: warning: stale: no effect with ttl = 0"* ]] || kinds_fail "no ttl = 0 warning"
	[[ $output == *"$cfg:9: warning: beta: no effect without refresh = early"* ]] ||
		kinds_fail "no beta warning"
}
