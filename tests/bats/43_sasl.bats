#!/usr/bin/env bats
# memcached authentication with SASL ([cache] sasl_user, sasl_password_file)
# against a real `memcached -S` on a free TCP port (libmemcached
# authenticates TCP connections only), with a SASL user database of its own.
# Real calls of libkinds are counted in KINDS_CALLS.

load helpers
load kinds_helpers

SASL_USER=alice
SASL_PW='open sesame' # a space: only the file's trailing newline goes

# txc_mc_start_sasl USER PASSWORD: memcached -S on 127.0.0.1:<free port>,
# in a directory of its own holding memcached.conf (PLAIN, a sasldb) and the
# sasldb with USER. Exports TXC_MC_DIR, MC_PORT, MC_PID, MC_SERVER; stop it
# with txc_mc_stop (it kills only the pid written in TXC_MC_DIR/mc.pid).
txc_mc_start_sasl() {
	local user=$1 pw=$2 dir port pid end _
	dir=$(mc_tmpdir) || return 1
	export TXC_MC_DIR=$dir
	printf 'mech_list: plain\nsasldb_path: %s/sasldb2\n' "$dir" >"$dir/memcached.conf"
	printf '%s\n' "$pw" | saslpasswd2 -p -a memcached -c -f "$dir/sasldb2" "$user" || return 1
	for _ in 1 2 3; do # another process may take the free port first
		port=$(_mc_free_port) || return 1
		# fd 3 closed: bats waits for every holder of its fd 3 to exit
		SASL_CONF_PATH=$dir memcached -u root -m 64 -S -l 127.0.0.1 -p "$port" -U 0 \
			</dev/null >/dev/null 2>"$dir/mc.err" 3>&- &
		pid=$!
		disown "$pid" 2>/dev/null || true
		echo "$pid" >"$dir/mc.pid"
		end=$((SECONDS + MC_TIMEOUT_S))
		while _mc_alive "$pid" && ((SECONDS <= end)); do
			if memcping --servers="127.0.0.1:$port" --username="$user" --password="$pw" \
				>/dev/null 2>&1; then
				export MC_PORT=$port MC_PID=$pid MC_SERVER=127.0.0.1:$port
				return 0
			fi
			sleep 0.05
		done
		mc_stop "$dir" || return 1
	done
	echo "memcached -S did not start: $(head -c 300 "$dir/mc.err" 2>/dev/null)" >&2
	return 1
}

setup_file() {
	local f
	for f in "$SHIM" "$TXCACHE" "$KD" "$FIXTURES/libkinds.so"; do
		[[ -e $f ]] || { echo "missing $f: run make all and make -C tests/fixtures" >&2; return 1; }
	done
	command -v saslpasswd2 >/dev/null || { echo "saslpasswd2 missing: tests/deps.sh" >&2; return 1; }
	txc_mc_start_sasl "$SASL_USER" "$SASL_PW"
}

teardown_file() {
	txc_mc_stop
}

setup() {
	kinds_setup
	PW_OK=$BATS_TEST_TMPDIR/pw.ok
	PW_BAD=$BATS_TEST_TMPDIR/pw.bad
	printf '%s\n' "$SASL_PW" >"$PW_OK"
	printf 'not it\n' >"$PW_BAD"
	chmod 600 "$PW_OK" "$PW_BAD"
}

teardown() {
	[[ -z ${SILENT_PID:-} ]] || kill "$SILENT_PID" 2>/dev/null || true
}

# sasl_config NAME [LINE...]: [cache] on this file's memcached -S with the
# LINEs (sasl_user, ...), and the functions the tests call.
sasl_config() {
	local name=$1
	shift
	{
		printf '[cache]\nservers = %s\nnamespace = %s\ntimeout_ms = 2000\n' \
			"$MC_SERVER" "$KINDS_NS"
		(($# == 0)) || printf '%s\n' "$@"
		cat <<'EOF'

[function k_greet]
signature = int k_greet(string name, out string[cap] buf, size_t cap)
cache_if = ret >= 0
[function k_get]
signature = int k_get(string name)
[function k_all]
signature = int k_all(int x)
[function k_set]
signature = int k_set(string name, int v)
invalidates = k_get(name), k_all(*)
EOF
	} | txc_config "$name"
}

ok_config() {
	sasl_config "$1" "sasl_user = $SASL_USER" "sasl_password_file = ${2:-$PW_OK}"
}

# sasl_run CFG ARG...: the driver under the shim at log = warn, bounded by
# `timeout` (a hang fails as status 124); sets status, output, stderr.
sasl_run() {
	local cfg=$1 errf=$BATS_TEST_TMPDIR/.sasl_stderr
	shift
	KINDS_LAST="(shim, $cfg) $*"
	status=0
	output=$(TXCACHE_LOG=warn timeout -k 5 60 env LD_PRELOAD="$KINDS_PRELOAD" \
		TXCACHE_CONFIG="$cfg" "$KD" "$@" 2>"$errf") || status=$?
	stderr=$(<"$errf")
}

# one_line TEXT: stderr of the last run is exactly one txcache line, holding TEXT.
one_line() {
	local n
	n=$(grep -c '^txcache: ' <<<"$stderr" || true)
	[[ $n -eq 1 ]] || { kinds_fail "expected exactly one txcache line, found $n"; return 1; }
	[[ $stderr == *"$1"* ]] || { kinds_fail "no line containing: $1"; return 1; }
}

# pass_through CFG ARG...: with the shim, ARG... prints what it prints
# without, and every call is a real one, twice in a row.
pass_through() {
	local cfg=$1 base i
	shift
	kd "$@"
	kinds_keep_ref
	for i in 1 2; do
		base=$(calls_count)
		sasl_run "$cfg" "$@"
		[[ $status -ne 124 ]] || { kinds_fail "the run hung"; return 1; }
		assert_same_as_plain || return 1
		[[ $(calls_count) -gt $base ]] || { kinds_fail "no real call: something was served"; return 1; }
	done
}

@test "right password: a miss, then a hit without a real call; txcache get reads the value" {
	cfg=$(ok_config ok)
	kinds_roundtrip "$cfg" k_greet greet bob 64
	[[ $stderr != *authentication* ]] || kinds_fail "an authentication complaint"
	kinds_exec "$TXCACHE" get -c "$cfg" k_greet bob 64
	expect_status 0
	expect_out $'ret = 10\nbuf = "hello, bob"'
	# a password file without its trailing newline reads the same
	printf '%s' "$SASL_PW" >"$PW_OK"
	kinds_exec "$TXCACHE" get -c "$cfg" k_greet bob 64
	expect_status 0
}

@test "binary protocol: gets/cas, add, set, incr, delete, counters and flush all work" {
	cfg=$(ok_config ops)
	kd set a 1
	kd set b 2
	assert_calls 2
	kd_shim "$cfg" get a -- get b -- all 5
	assert_calls 5
	kd_shim "$cfg" get a -- get b -- all 5
	assert_calls 5 "all three are hits"
	expect_out $'k_get "a" -> 1\nk_get "b" -> 2\nk_all 5 -> 7'
	# the mutator: a tombstone (set) for k_get("a"), k_all's generation (incr)
	kd_shim "$cfg" set a 11
	assert_calls 6
	kd_shim "$cfg" get a -- get b -- all 5
	expect_out $'k_get "a" -> 11\nk_get "b" -> 2\nk_all 5 -> 8'
	assert_calls 8 "k_get(a) and k_all re-run, k_get(b) still a hit"
	# stored over the tombstone with cas: a hit now
	kd_shim "$cfg" get a -- all 5
	assert_calls 8
	# counters published at exit (incr, add) read back by txcache stats
	kinds_exec "$TXCACHE" stats -c "$cfg"
	expect_status 0
	[[ $output =~ k_get\ +[1-9] ]] || kinds_fail "no k_get hits counted"
	kinds_exec "$TXCACHE" delete -c "$cfg" k_get b
	expect_status 0
	kinds_exec "$TXCACHE" get -c "$cfg" k_get b
	expect_status 1
	kinds_exec "$TXCACHE" flush -c "$cfg"
	expect_status 0
	kinds_exec "$TXCACHE" get -c "$cfg" k_get a
	expect_status 1
}

@test "wrong password: one line, the program's output unchanged, no hang" {
	cfg=$(ok_config bad "$PW_BAD")
	pass_through "$cfg" greet bob 64 -- greet ann 64 -- get a -- all 3
	one_line "memcached authentication failed for user $SASL_USER (wrong user name or password); caching is off"
	# an unknown user reads the same
	cfg=$(sasl_config nouser "sasl_user = mallory" "sasl_password_file = $PW_OK")
	pass_through "$cfg" greet bob 64 -- greet ann 64
	one_line "memcached authentication failed for user mallory"
	kinds_exec "$TXCACHE" get -c "$cfg" k_greet bob 64
	expect_status 69
}

@test "no sasl_user against a SASL server: pass-through" {
	cfg=$(sasl_config none)
	pass_through "$cfg" greet bob 64 -- greet ann 64 -- all 3
	[[ $(grep -c '^txcache: ' <<<"$stderr" || true) -le 1 ]] || kinds_fail "more than one line"
}

@test "a password file others may read, or a symlink, is refused with one line" {
	cfg=$(ok_config open)
	chmod 644 "$PW_OK"
	pass_through "$cfg" greet bob 64 -- greet ann 64
	one_line "sasl_password_file $PW_OK: must be mode 0600, not 0644; caching is off"
	chmod 600 "$PW_OK"
	ln -s "$PW_OK" "$BATS_TEST_TMPDIR/pw.link"
	cfg=$(ok_config link "$BATS_TEST_TMPDIR/pw.link")
	pass_through "$cfg" greet bob 64
	one_line "sasl_password_file $BATS_TEST_TMPDIR/pw.link: cannot open"
	: >"$PW_BAD"
	cfg=$(ok_config empty "$PW_BAD")
	pass_through "$cfg" greet bob 64
	one_line "must hold 1 to 257 bytes"
}

@test "no usable SASL mechanism on the client: one line, pass-through" {
	mkdir "$BATS_TEST_TMPDIR/noplugins"
	export SASL_PATH=$BATS_TEST_TMPDIR/noplugins # libsasl2 finds no PLAIN
	cfg=$(ok_config nomech)
	pass_through "$cfg" greet bob 64 -- greet ann 64
	one_line "memcached authentication failed for user $SASL_USER (the SASL exchange failed"
}

@test "txcache flush --all-server works under SASL; ls says plainly it cannot" {
	cfg=$(ok_config cli)
	kd_shim "$cfg" greet zoe 64
	kinds_exec "$TXCACHE" get -c "$cfg" k_greet zoe 64
	expect_status 0
	kinds_exec timeout 60 "$TXCACHE" flush --all-server -c "$cfg"
	expect_status 0
	expect_out "flushed the whole server $MC_SERVER"
	kinds_exec "$TXCACHE" get -c "$cfg" k_greet zoe 64
	expect_status 1
	kinds_exec timeout 60 "$TXCACHE" ls -c "$cfg"
	expect_status 69
	[[ -z $output ]] || kinds_fail "ls printed something"
	[[ $stderr == "txcache ls: not available with SASL"* && $stderr != *$'\n'* ]] ||
		kinds_fail "not one plain line"
	cfg=$(ok_config clibad "$PW_BAD")
	kinds_exec timeout 60 "$TXCACHE" flush --all-server -c "$cfg"
	expect_status 69
}

@test "txcache check: sasl_user and sasl_password_file need each other (FILE:LINE)" {
	cfg=$(ok_config good)
	kinds_exec "$TXCACHE" check -c "$cfg"
	expect_status 0
	cfg=$(sasl_config user "sasl_user = $SASL_USER")
	kinds_exec "$TXCACHE" check -c "$cfg"
	expect_status 65
	[[ $stderr == *"$cfg:5: sasl_user: needs sasl_password_file"* ]] || kinds_fail "no FILE:LINE error"
	cfg=$(sasl_config file "sasl_password_file = $PW_OK")
	kinds_exec "$TXCACHE" check -c "$cfg"
	expect_status 65
	[[ $stderr == *"$cfg:5: sasl_password_file: needs sasl_user"* ]] || kinds_fail "no FILE:LINE error"
	cfg=$(sasl_config rel "sasl_user = $SASL_USER" "sasl_password_file = pw")
	kinds_exec "$TXCACHE" check -c "$cfg"
	expect_status 65
	[[ $stderr == *"$cfg:6: sasl_password_file: 'pw' must be an absolute path"* ]] ||
		kinds_fail "no FILE:LINE error"
	cfg=$(printf '[cache]\nservers = /tmp/mc.sock\nsasl_user = u\nsasl_password_file = /pw\n' |
		txc_config sock)
	kinds_exec "$TXCACHE" check -c "$cfg"
	expect_status 65
	[[ $stderr == *"$cfg:3: sasl_user: server /tmp/mc.sock is a unix socket"* ]] ||
		kinds_fail "no FILE:LINE error"
}

@test "a server that accepts and never answers the SASL exchange: bounded pass-through" {
	local port
	# fd 3 closed: bats waits for every holder of its fd 3 to exit
	python3 -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept()[0])
' >"$BATS_TEST_TMPDIR/silent.port" 3>&- &
	SILENT_PID=$! # teardown kills it, whatever happens here
	wait_until test -s "$BATS_TEST_TMPDIR/silent.port" || fail "no listener"
	port=$(<"$BATS_TEST_TMPDIR/silent.port")
	cfg=$({
		printf '[cache]\nservers = 127.0.0.1:%s\nnamespace = %s\ntimeout_ms = 200\n' "$port" "$KINDS_NS"
		printf 'sasl_user = %s\nsasl_password_file = %s\n\n' "$SASL_USER" "$PW_OK"
		printf '[function k_greet]\nsignature = int k_greet(string name, out string[cap] buf, size_t cap)\n'
	} | txc_config silent)
	pass_through "$cfg" greet bob 64 -- greet ann 64 -- greet cid 64
	kinds_exec timeout 60 "$TXCACHE" flush --all-server -c "$cfg"
	expect_status 69
}
