#!/usr/bin/env bats
# Invalidation races: an invalidation wins over every miss that started
# before it (README "Reliability"). Process P1 misses on kv_get(k): its real
# call reads the old value, then waits (RACE_HOLD, tests/fixtures/race_kv.c)
# until P2 has changed the data and invalidated k in one of the four ways:
# the shim's own "invalidates", txcache delete, txcache_invalidate() and a
# flush. Then P1 returns and tries to store the old value; the next run
# must be served the new one. Deterministic: the invalidation always lands
# inside the miss, for many rounds.

load helpers

KV=$FIXTURES/race_kv
API=$FIXTURES/race_api

setup_file() {
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

setup() {
	unset TXCACHE_LOG
	export RACE_DB=$BATS_TEST_TMPDIR/db
	mkdir -p "$RACE_DB"
	HOLD_PID='' MC_DIRS=()
}

teardown() {
	local d pid
	[[ -z $HOLD_PID ]] || kill "$HOLD_PID" 2>/dev/null || true
	for d in "${MC_DIRS[@]}"; do
		pid=$(cat "$d/mc.pid" 2>/dev/null) && kill -CONT "$pid" 2>/dev/null
		mc_stop "$d"
		rm -rf "$d"
	done
}

# race_config NAME [SERVERS [EXTRA-CACHE-LINES [EXTRA-KV_GET-LINES]]]
race_config() {
	txc_config "$1" <<EOF
[cache]
servers = ${2:-$MC_SOCK}
namespace = ${RACE_NS:-race}
timeout_ms = ${RACE_TIMEOUT_MS:-2000}
${3:-}

[function kv_get]
signature = int kv_get(string k, out string[cap] val, size_t cap)
ignore = cap
cache_if = ret >= 0
${4:-}

[function kv_set]
signature = int kv_set(string k, string v)
invalidates = kv_get(k)
EOF
}

# kv CONFIG ARGS...: race_kv under the shim (log = info), bounded.
kv() {
	run --separate-stderr timeout 60 env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$1" \
		TXCACHE_LOG=info "$KV" "${@:2}"
}

# hold_start CONFIG K [ENV...]: a get of K in the background whose real call
# has read the data and waits for hold_finish.
hold_start() {
	local i
	HOLD=$(mktemp -d "$BATS_TEST_TMPDIR/hold.XXXXXX")
	timeout 60 env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$1" TXCACHE_LOG=info \
		RACE_HOLD="$HOLD" "${@:3}" "$KV" get "$2" >"$HOLD/out" 2>"$HOLD/err" 3>&- &
	HOLD_PID=$!
	for ((i = 0; i < 3000; i++)); do
		[[ -e $HOLD/read ]] && return 0
		kill -0 "$HOLD_PID" 2>/dev/null || break
		sleep 0.02
	done
	echo "the held get of $2 never reached its real call:"
	cat "$HOLD/err"
	return 1
}

# hold_finish: lets the held get return; sets HOLD_OUT and HOLD_ERR.
hold_finish() {
	local st=0
	touch "$HOLD/go"
	wait "$HOLD_PID" || st=$?
	HOLD_PID=
	HOLD_OUT=$(cat "$HOLD/out")
	HOLD_ERR=$(cat "$HOLD/err")
	[[ $st -eq 0 ]] || {
		echo "held get: status $st: $HOLD_ERR"
		return 1
	}
}

# expect_get CONFIG K VALUE WHY: the next run of get K prints K=VALUE.
expect_get() {
	kv "$1" get "$2"
	[[ $status -eq 0 && $output == "$2=$3" ]] || {
		echo "$4: got '$output' (status $status), want '$2=$3'"
		echo "$stderr"
		return 1
	}
}

# prepare CONFIG K I: the data of K is old$I and no valid value is cached,
# in turn: a tombstone (cas), nothing at all (add), a stale generation (cas).
prepare() {
	local cfg=$1 k=$2 old=old$3
	case $(($3 % 3)) in
	0)
		kv "$cfg" set "$k" "$old"
		[[ $status -eq 0 ]] || { echo "set: status $status $stderr"; return 1; }
		;;
	1)
		txc_mc_flush
		printf '%s' "$old" >"$RACE_DB/$k"
		;;
	2)
		run_txcache flush -c "$cfg" kv_get
		[[ $status -eq 0 ]] || { echo "flush: status $status $output"; return 1; }
		printf '%s' "$old" >"$RACE_DB/$k"
		;;
	esac
}

# invalidate HOW CONFIG K VALUE: P2 makes the data VALUE and invalidates K.
invalidate() {
	local how=$1 cfg=$2 k=$3 v=$4
	if [[ $how == shim ]]; then
		kv "$cfg" set "$k" "$v"
	else
		printf '%s' "$v" >"$RACE_DB/$k"
		case $how in
		delete) run_txcache delete -c "$cfg" kv_get "$k" ;;
		api) run env TXCACHE_CONFIG="$cfg" "$API" invalidate "$k" ;;
		flush) run_txcache flush -c "$cfg" kv_get ;;
		flush-ns) run_txcache flush -c "$cfg" ;;
		api-flush) run env TXCACHE_CONFIG="$cfg" "$API" flush kv_get ;;
		esac
	fi
	[[ $status -eq 0 ]] || {
		echo "invalidation by $how: status $status: $output"
		return 1
	}
}

# rounds HOW N: N rounds of the race, the invalidation inside each miss.
rounds() {
	local how=$1 n=$2 round
	cfg=$(race_config "race-$how") # (global: the caller may read the stats)
	for ((round = 0; round < n; round++)); do
		prepare "$cfg" k "$round"
		hold_start "$cfg" k
		invalidate "$how" "$cfg" k "new$round"
		hold_finish
		[[ $HOLD_OUT == "k=old$round" ]] || {
			echo "round $round: the held get printed '$HOLD_OUT'"
			return 1
		}
		expect_get "$cfg" k "new$round" "round $round ($how), after the invalidation"
		# a single call's invalidation made the miss's store fail
		if [[ $how == shim || $how == delete || $how == api ]] &&
			! grep -q 'kv_get: not stored: invalidated during the call' <<<"$HOLD_ERR"; then
			echo "round $round ($how): the held miss stored: $HOLD_ERR"
			return 1
		fi
		expect_get "$cfg" k "new$round" "round $round ($how), again"
		grep -q '^txcache: hit kv_get' <<<"$stderr" || {
			echo "round $round: the second get was no hit: $stderr"
			return 1
		}
	done
}

@test "race: kv_set's invalidates lands mid-miss, 20 rounds: the new value wins" {
	rounds shim 20
	# the refused store is counted (published at exit; the last round's
	# prepare emptied memcached, so only that round's count is there)
	run_txcache stats -c "$cfg" --json
	json_check || return 1
	raced=$(sed -n 's/.*"kv_get":{[^}]*"raced":\([0-9]*\).*/\1/p' <<<"$output")
	[[ $raced == 1 ]] || {
		echo "raced: '$raced' in $output"
		return 1
	}
}

@test "race: txcache delete lands mid-miss, 20 rounds: the new value wins" {
	rounds delete 20
}

@test "race: txcache_invalidate() lands mid-miss, 20 rounds: the new value wins" {
	rounds api 20
}

@test "race: flushes land mid-miss (generations): the new value wins" {
	rounds flush 6
	rounds flush-ns 6
	rounds api-flush 6
}

@test "race: a tombstone reads as a miss, never as a corrupt value" {
	cfg=$(race_config tomb)
	kv "$cfg" set t one
	expect_get "$cfg" t one "first get"
	kv "$cfg" set t two
	run_txcache get -c "$cfg" kv_get t
	[[ $status -eq 1 && $output == *"not cached"* ]] || {
		echo "txcache get of a tombstone: status $status: $output"
		return 1
	}
	expect_get "$cfg" t two "get after the invalidation"
	[[ $stderr != *verification* && $stderr == *"miss kv_get"* ]] || {
		echo "$stderr"
		return 1
	}
	expect_get "$cfg" t two "and it was stored over the tombstone"
	[[ $stderr == *"hit kv_get"* ]]
}

@test "race: a miss slower than tombstone_ttl stores nothing" {
	cfg=$(race_config slow "$MC_SOCK" "tombstone_ttl = 2")
	printf old >"$RACE_DB/s"
	hold_start "$cfg" s
	sleep 1.5 # past tombstone_ttl - 1 s: a tombstone may have expired
	hold_finish
	[[ $HOLD_OUT == s=old && $HOLD_ERR == *"outlived tombstone_ttl"* ]] || {
		echo "$HOLD_OUT: $HOLD_ERR"
		return 1
	}
	expect_get "$cfg" s old "next get"
	[[ $stderr == *"miss kv_get"* ]] || {
		echo "the slow miss was stored: $stderr"
		return 1
	}
}

@test "race: with lock = yes, a waiter never takes the invalidated result" {
	cfg=$(race_config lock "$MC_SOCK" "" "lock = yes
lock_timeout_ms = 20000")
	for ((round = 0; round < 5; round++)); do
		prepare "$cfg" l "$round"
		hold_start "$cfg" l
		invalidate shim "$cfg" l "new$round"
		# a second process misses now and waits for the lock's holder
		timeout 60 env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$cfg" \
			"$KV" get l >"$BATS_TEST_TMPDIR/waiter" 2>&1 3>&- &
		waiter=$!
		sleep 0.3
		hold_finish
		wait "$waiter"
		run cat "$BATS_TEST_TMPDIR/waiter"
		assert_output "l=new$round"
		expect_get "$cfg" l "new$round" "round $round, after the lock"
	done
}

# ---- the key's server unreachable: the fallback of every invalidation ----

# start_servers N: N memcacheds on TCP; sets SERVERS, PIDS, LIST.
start_servers() {
	local i d
	SERVERS=() PIDS=()
	for ((i = 0; i < $1; i++)); do
		d=$(mc_tmpdir)
		MC_DIRS+=("$d")
		mc_start_tcp "$d"
		SERVERS+=("$MC_SERVER")
		PIDS+=("$MC_PID")
	done
	LIST=$(
		IFS=,
		echo "${SERVERS[*]}"
	)
}

holds() {
	memccat --servers="$1" "$2" >/dev/null 2>&1
}

# comeback HOW: invalidate a key by HOW while its server is stopped; when
# the server is back, still holding the old value, the new one is served.
comeback() {
	local how=$1 cfg n v victim k keys=()
	start_servers 3
	cfg=$(RACE_TIMEOUT_MS=200 race_config far "$LIST")
	# (not $i: bats' run --separate-stderr sets a global i)
	for n in $(seq 0 29); do
		printf 'old%d' "$n" >"$RACE_DB/k$n"
		kv "$cfg" get "k$n"
		keys[n]=$(sed -n 's/^txcache: miss kv_get \([^ ]*\) .*/\1/p' <<<"$stderr")
	done
	for n in "${!SERVERS[@]}"; do
		holds "${SERVERS[$n]}" race:kv_get:gen || holds "${SERVERS[$n]}" race:@gen ||
			{ v=$n && break; }
	done
	[[ -n ${v:-} ]] || skip "every server holds a generation key"
	victim=${SERVERS[$v]}
	for n in $(seq 0 29); do
		holds "$victim" "${keys[n]}" && { k=$n && break; }
	done
	[[ -n ${k:-} ]] || skip "the free server holds no key"
	expect_get "$cfg" "k$k" "old$k" "a hit from the victim"
	kill -STOP "${PIDS[$v]}"
	invalidate "$how" "$cfg" "k$k" "new$k"
	if [[ $how == delete && $output != *"unreachable; invalidated every call of kv_get"* ]]; then
		echo "txcache delete did not say it fell back: $output"
		return 1
	fi
	kill -CONT "${PIDS[$v]}"
	holds "$victim" "${keys[k]}" # the old value is still there...
	sleep 1.2                    # (past libmemcached's retry and the breaker)
	expect_get "$cfg" "k$k" "new$k" "after the server came back" # ...and is not served
}

@test "comeback: txcache_invalidate() with the key's server stopped falls back" {
	comeback api
}

@test "comeback: txcache delete with the key's server stopped falls back" {
	comeback delete
}

@test "comeback: txcache flush FUNCTION with its generation's server stopped falls back" {
	local cfg n ns g=
	start_servers 3
	# a namespace whose two generation keys live on different servers
	for n in $(seq 0 19); do
		ns=race$n
		cfg=$(RACE_NS=$ns RACE_TIMEOUT_MS=200 race_config "far$n" "$LIST")
		printf old0 >"$RACE_DB/k0"
		kv "$cfg" get k0
		for g in "${!SERVERS[@]}"; do
			holds "${SERVERS[$g]}" "$ns:kv_get:gen" && ! holds "${SERVERS[$g]}" "$ns:@gen" &&
				break
			g=
		done
		[[ -z $g ]] || break
	done
	[[ -n $g ]] || skip "20 namespaces had both generation keys on one server"
	expect_get "$cfg" k0 old0 "a hit"
	kill -STOP "${PIDS[$g]}"
	printf new0 >"$RACE_DB/k0"
	run_txcache flush -c "$cfg" kv_get
	kill -CONT "${PIDS[$g]}"
	assert_success
	assert_output "flushed namespace $ns ($ns:kv_get unreachable)"
	sleep 1.2 # (past libmemcached's retry and the breaker)
	expect_get "$cfg" k0 new0 "after the flush"
}

@test "tombstone_ttl: checked like every option" {
	cfg=$(race_config bad "$MC_SOCK" "tombstone_ttl = 1")
	run_txcache check -c "$cfg"
	[[ $status -eq 65 && $output == *"bad.ini:5: tombstone_ttl: 1 is out of range 2..86400"* ]] || {
		echo "status $status: $output"
		return 1
	}
}
