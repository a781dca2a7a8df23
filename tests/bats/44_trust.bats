#!/usr/bin/env bats
# The config file is a trust root (issue 14, point 5): a config that anyone
# but the user or root could have written or replaced is refused with one
# line, and the program runs uncached, as ssh refuses its own files. The
# tests run as root in a 0700 mktemp directory under the sticky /tmp, as the
# rest of the suite does; each builds a path that breaks one rule.

load helpers
load rel_helpers

setup_file() {
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

setup() {
	unset TXCACHE_LOG
	export REL_TIMEOUT_MS=2000
	txc_mc_flush
	D=$BATS_TEST_TMPDIR
	GOOD=$(REL_NS=trust$BATS_TEST_NUMBER rel_config good "$MC_SOCK")
	rel_expect loop 2 1
}

# refused CONFIG WORDS: the program's output is unchanged, rel_work ran
# twice (nothing cached), and stderr has exactly one txcache line: CONFIG
# refused, with WORDS in it.
refused() {
	rel_run "$1" loop 2 1
	[[ $status -eq 0 && $output == "$expected" ]] || { echo "status $status, stdout '$output': $stderr"; return 1; }
	[[ $(rel_real) == 2 ]] || { echo "cached ($(rel_real) real calls): $stderr"; return 1; }
	[[ $(grep -c '^txcache:' <<<"$stderr") == 1 ]] || { echo "not one txcache line: $stderr"; return 1; }
	[[ $stderr == "txcache: $1: refusing a config "*"$2"*"; caching is off"$'\n'"rel: real=2" ]] || {
		echo "not the refusal ($2): $stderr"
		return 1
	}
}

# accepted CONFIG: the second call is a hit (log = info: rel_real then
# discounts the calls that make check-verify re-runs).
accepted() {
	TXCACHE_LOG=info rel_run "$1" loop 2 1
	[[ $status -eq 0 && $output == "$expected" ]] || { echo "status $status, stdout '$output': $stderr"; return 1; }
	[[ $(rel_real) == 1 ]] || { echo "not cached ($(rel_real) real calls): $stderr"; return 1; }
	[[ $stderr != *refusing* ]] || { echo "refused: $stderr"; return 1; }
}

@test "mode 0664 and 0646: refused, one line, nothing cached" {
	chmod 0664 "$GOOD"
	refused "$GOOD" "that others can write (mode 0664)" || return 1
	chmod 0646 "$GOOD"
	refused "$GOOD" "that others can write (mode 0646)"
}

@test "mode 0600 and 0644: accepted and cached" {
	chmod 0600 "$GOOD"
	accepted "$GOOD" || return 1
	txc_mc_flush
	chmod 0644 "$GOOD"
	accepted "$GOOD"
}

@test "a config in a 0777 directory that is not sticky: refused, naming the directory" {
	mkdir -m 0777 "$D/open"
	cp "$GOOD" "$D/open/c.ini"
	refused "$D/open/c.ini" "under $D/open, a directory others can write (mode 0777, not sticky)"
}

@test "a directory two levels up is group-writable: refused" {
	mkdir -p "$D/a/b/c"
	chmod 0775 "$D/a"
	cp "$GOOD" "$D/a/b/c/c.ini"
	refused "$D/a/b/c/c.ini" "under $D/a, a directory others can write (mode 0775"
}

@test "a relative path from a working directory others can write: refused" {
	mkdir -m 0777 "$D/open"
	cp "$GOOD" "$D/open/c.ini"
	cd "$D/open"
	refused c.ini "under $D/open, a directory"
}

@test "a symlink to a good config, kept in a world-writable directory: refused" {
	mkdir -m 0777 "$D/open"
	ln -s "$GOOD" "$D/open/link.ini"
	refused "$D/open/link.ini" "under $D/open, a directory others can write"
}

@test "a symlink in a good directory to a config in a world-writable one: refused" {
	mkdir -m 0777 "$D/open"
	cp "$GOOD" "$D/open/c.ini"
	mkdir "$D/safe"
	ln -s ../open/c.ini "$D/safe/link.ini"
	refused "$D/safe/link.ini" "under $D/open, a directory others can write"
}

@test "a symlink owned by another user: refused" {
	[[ $(id -u) == 0 ]] || skip "needs root, to chown"
	ln -s "$GOOD" "$D/link.ini"
	chown -h 65534 "$D/link.ini"
	refused "$D/link.ini" "through $D/link.ini, a symlink owned by uid 65534"
}

@test "a config owned by another user: refused" {
	[[ $(id -u) == 0 ]] || skip "needs root, to chown"
	chown 65534 "$GOOD"
	refused "$GOOD" "owned by uid 65534 (not you or root)"
}

@test "a directory owned by another user: refused, even when sticky" {
	[[ $(id -u) == 0 ]] || skip "needs root, to chown"
	mkdir -m 1777 "$D/theirs"
	chown 65534 "$D/theirs"
	cp "$GOOD" "$D/theirs/c.ini"
	refused "$D/theirs/c.ini" "under $D/theirs, a directory owned by uid 65534"
}

@test "a sticky 1777 directory owned by root or the user: accepted (like /tmp)" {
	mkdir -m 1777 "$D/sticky"
	cp "$GOOD" "$D/sticky/c.ini"
	accepted "$D/sticky/c.ini"
}

@test "a refused config's secret_file is never read" {
	secret=$D/secret
	head -c 32 /dev/urandom >"$secret"
	chmod 0644 "$secret" # read, it would log its own "must be mode 0600" line
	cfg=$(REL_NS=trustsecret rel_config sec "$MC_SOCK" "secret_file = $secret")
	# control: the config trusted, the secret is read and complains
	rel_run "$cfg" loop 2 1
	[[ $stderr == *"secret_file $secret: must be mode 0600"* ]] || { echo "the control did not read the secret: $stderr"; return 1; }
	chmod 0664 "$cfg"
	refused "$cfg" "that others can write (mode 0664)" || return 1
	[[ $stderr != *secret_file* ]]
}

@test "txcache check -c BAD (and \$TXCACHE_CONFIG=BAD): the refusal on one line, a non-zero exit" {
	run_txcache --separate-stderr check -c "$GOOD"
	assert_success
	chmod 0666 "$GOOD"
	run_txcache --separate-stderr check -c "$GOOD"
	[[ $status -ne 0 ]] || { echo "exit 0: $output $stderr"; return 1; }
	[[ $stderr == "$GOOD: refusing a config that others can write (mode 0666)" ]] || { echo "stderr: $stderr"; return 1; }
	[[ -z $output ]]
	TXCACHE_CONFIG=$GOOD run_txcache --separate-stderr check
	[[ $status -ne 0 && $stderr == "$GOOD: refusing a config that others can write (mode 0666)" ]] || {
		echo "status $status: $stderr"
		return 1
	}
}

@test "txcache run -c BAD: refused before the program starts" {
	chmod 0666 "$GOOD"
	run_txcache --separate-stderr run -c "$GOOD" -- "$REL" loop 2 1
	[[ $status -ne 0 && $output == "" ]] || { echo "status $status, stdout $output"; return 1; }
	[[ $stderr == "$GOOD: refusing a config that others can write (mode 0666)" ]]
}

@test "a config read from a pipe (-c /dev/stdin, <(...)) has no directory: still accepted" {
	run_txcache --separate-stderr check -c /dev/stdin <"$GOOD"
	assert_success
	run --separate-stderr bash -c "cat '$GOOD' | '$TXCACHE' check -c /dev/stdin"
	assert_success
	run --separate-stderr bash -c "'$TXCACHE' check -c <(cat '$GOOD')"
	assert_success
}

@test "txcache run -c FIFO: a named pipe in a directory others can write is refused too" {
	# txcache run reads a FIFO once and hands the shim its text
	# (TXCACHE_CONFIG_TEXT), which the shim cannot check: the CLI must
	mkdir -m 0777 "$D/open"
	mkfifo -m 0600 "$D/open/c.fifo"
	cat "$GOOD" >"$D/open/c.fifo" &
	local feeder=$!
	run_txcache --separate-stderr run -c "$D/open/c.fifo" -- "$REL" loop 2 1
	kill "$feeder" 2>/dev/null || true
	wait "$feeder" 2>/dev/null || true
	[[ $status -ne 0 && $output == "" ]] || { echo "status $status, stdout $output"; return 1; }
	[[ $stderr == "$D/open/c.fifo: refusing a config "*"$D/open"* ]] || { echo "$stderr"; return 1; }
	# control: the same FIFO in a private directory runs and caches
	mkdir -m 0700 "$D/priv"
	mkfifo -m 0600 "$D/priv/c.fifo"
	cat "$GOOD" >"$D/priv/c.fifo" &
	run_txcache --separate-stderr run -c "$D/priv/c.fifo" -- "$REL" loop 2 1
	assert_success
	assert_output "$expected"
}
