#!/usr/bin/env bats
# Several servers (ketama), the stale-value-after-comeback rule, and
# twemproxy (nutcracker) used as a single server.
#
# Stale values: an invalidation that cannot reach the server holding a key
# falls back to bumping the target function's generation, then the
# namespace's (they live on other servers); when nothing is reachable the
# process raises a fence and answers no lookup until the namespace
# generation has been bumped. So a server that comes back still holding an
# invalidated value never has it served.

load helpers
load rel_helpers

setup() {
	unset TXCACHE_LOG
	MC_DIRS=() NC_PID=
	export REL_DB=$BATS_TEST_TMPDIR/db
	mkdir -p "$REL_DB"
}

teardown() {
	local d pid
	rel_kill "$NC_PID"
	for d in "${MC_DIRS[@]}"; do
		pid=$(cat "$d/mc.pid" 2>/dev/null) && kill -CONT "$pid" 2>/dev/null
		mc_stop "$d"
		rm -rf "$d"
	done
}

# start_servers N: N memcacheds on TCP; sets SERVERS (array), PIDS, LIST.
start_servers() {
	local i d
	SERVERS=() PIDS=()
	for ((i = 0; i < $1; i++)); do
		d=$(mc_tmpdir) || return 1
		MC_DIRS+=("$d")
		mc_start_tcp "$d" || return 1
		SERVERS+=("$MC_SERVER")
		PIDS+=("$MC_PID")
	done
	LIST=$(
		IFS=,
		echo "${SERVERS[*]}"
	)
}

# holds SERVER KEY: SERVER has KEY.
holds() {
	memccat --servers="$1" "$2" >/dev/null 2>&1
}

# free_server KEY...: index of a server holding none of KEYS.
free_server() {
	local i k
	for i in "${!SERVERS[@]}"; do
		for k in "$@"; do
			holds "${SERVERS[$i]}" "$k" && continue 2
		done
		echo "$i"
		return 0
	done
	return 1
}

curr_items() {
	memcstat --servers="$1" | sed -n 's/^[[:space:]]*curr_items: \([0-9]*\)/\1/p'
}

# How many of the keys listed in file $2 server $1 (host:port) holds: the
# data keys only, whatever else (published counters) the server has.
held() {
	python3 - "$1" "$2" <<'PY'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
keys = open(sys.argv[2]).read().split()
s = socket.create_connection((host, int(port)), timeout=5)
f = s.makefile("rb")
n = 0
for k in keys:
    s.sendall(b"mg " + k.encode() + b"\r\n")
    line = f.readline()
    n += line.startswith(b"HD")
print(n)
PY
}

@test "ketama: a dead server costs only its share of the keys" {
	export TXCACHE_VERIFY=0 # counts real calls at log = warn; under verify each hit makes one too
	start_servers 3
	# 2 s: a loaded machine must not time out on a live server (exact count)
	cfg=$(REL_TIMEOUT_MS=2000 rel_config ketama "$LIST")
	rel_expect loop 300 300
	TXCACHE_LOG=info rel_run "$cfg" loop 300 300
	assert_success
	sed -n 's/^txcache: miss rel_work \([^ ]*\).*/\1/p' <<<"$stderr" | sort -u >"$BATS_TEST_TMPDIR/keys"
	v=$(free_server rel:rel_work:gen rel:@gen)
	share=$(held "${SERVERS[$v]}" "$BATS_TEST_TMPDIR/keys")
	echo "shares: $(for s in "${SERVERS[@]}"; do printf '%s ' "$(held "$s" "$BATS_TEST_TMPDIR/keys")"; done)" >&3
	((share > 0 && share < 300))
	kill -KILL "${PIDS[$v]}"
	rel_run "$cfg" loop 300 300
	assert_success
	assert_output "$expected"
	# exactly the keys of the dead server ran the real function
	echo "dead server held $share keys; real calls: $(rel_real)" >&3
	(($(rel_real) == share))
}

@test "comeback: a value invalidated while its server was stopped is never served" {
	start_servers 3
	cfg=$(rel_config comeback "$LIST")
	for i in $(seq 0 29); do printf 'old%d' "$i" >"$REL_DB/k$i"; done
	TXCACHE_LOG=info rel_run "$cfg" get k0
	for i in $(seq 1 29); do
		TXCACHE_LOG=info rel_run "$cfg" get "k$i"
		keys[i]=$(sed -n 's/^txcache: miss rel_get \([^ ]*\) .*/\1/p' <<<"$stderr")
	done
	v=$(free_server rel:rel_get:gen rel:@gen)
	victim=${SERVERS[$v]}
	for i in $(seq 1 29); do
		holds "$victim" "${keys[i]}" && { k=$i; break; }
	done
	[[ -n ${k:-} ]]
	rel_run "$cfg" get "k$k"
	assert_output "get k$k $((3 + ${#k})) old$k" # a hit, from the victim
	kill -STOP "${PIDS[$v]}"
	rel_run "$cfg" set "k$k" "new$k"
	assert_output "set k$k 0"
	kill -CONT "${PIDS[$v]}"
	holds "$victim" "${keys[k]}" # the old value is still there...
	sleep 1.2                    # (past libmemcached's retry and the breaker)
	rel_run "$cfg" get "k$k"
	assert_output "get k$k $((3 + ${#k})) new$k" # ...and is not served
}

@test "comeback, one server: nothing reachable raises the fence until a bump succeeds" {
	start_servers 1
	cfg=$(rel_config fence "$LIST")
	printf old >"$REL_DB/k"
	rel_run "$cfg" get k
	rel_run "$cfg" get k
	assert_output "get k 3 old"
	flag=$BATS_TEST_TMPDIR/flag
	kill -STOP "${PIDS[0]}"
	timeout 60 env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$cfg" TXCACHE_LOG=info \
		"$REL" setwait k new "$flag" >"$BATS_TEST_TMPDIR/out" \
		2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	wait_until grep -q '^set k' "$BATS_TEST_TMPDIR/out" || {
		kill -CONT "${PIDS[0]}"
		fail "the set did not return: $(cat "$BATS_TEST_TMPDIR/err")"
	}
	kill -CONT "${PIDS[0]}"
	sleep 1.2
	# another process would still see the old value: the one residual window
	touch "$flag"
	wait "$pid"
	run cat "$BATS_TEST_TMPDIR/out"
	assert_output "get k 3 old
set k 0
get k 3 new"
	# and after the fence's bump, every process sees the new value
	rel_run "$cfg" get k
	assert_output "get k 3 new"
}

@test "twemproxy (nutcracker) as the one server: hits, same output" {
	export TXCACHE_VERIFY=0 # counts real calls at log = warn; under verify each hit makes one too
	command -v nutcracker >/dev/null || skip "nutcracker is not installed"
	start_servers 1
	port=$(_mc_free_port) sport=$(_mc_free_port)
	cat >"$BATS_TEST_TMPDIR/nc.yml" <<EOF
txc:
  listen: 127.0.0.1:$port
  hash: fnv1a_64
  distribution: ketama
  timeout: 1000
  redis: false
  auto_eject_hosts: false
  servers:
   - ${SERVERS[0]}:1
EOF
	nutcracker -c "$BATS_TEST_TMPDIR/nc.yml" -s "$sport" -o "$BATS_TEST_TMPDIR/nc.log" 3>&- &
	NC_PID=$!
	wait_until mc_ping "127.0.0.1:$port" || fail "nutcracker did not answer"
	cfg=$(REL_TIMEOUT_MS=2000 rel_config proxy "127.0.0.1:$port")
	rel_expect loop 500 50
	rel_run "$cfg" loop 500 50
	assert_success
	assert_output "$expected"
	(($(rel_real) == 50))
	rel_run "$cfg" loop 500 50
	assert_output "$expected"
	(($(rel_real) == 0)) # every call a hit, through the proxy
	(($(curr_items "${SERVERS[0]}") > 50))
	# and invalidation through it
	printf a >"$REL_DB/x"
	rel_run "$cfg" get x
	rel_run "$cfg" set x b
	rel_run "$cfg" get x
	assert_output "get x 1 b"
}
