#!/usr/bin/env bash
# demo.sh - txcache in two minutes: `make demo`.
#
# Starts a private memcached, then runs two programs that know nothing about
# txcache under the shim: the slowdb example (a 2-second lookup) and Debian's
# mkpasswd (a slow password hash). Each is run twice to show the miss and the
# hit, the outputs are compared byte for byte, and a write through slowdb
# shows invalidation. Exits non-zero when anything does not behave.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
TXCACHE=$BUILD/txcache
SLOWDB=$BUILD/examples/slowdb
DELAY_MS=2000

for f in "$TXCACHE" "$BUILD/libtxcache.so" "$SLOWDB"; do
	[[ -e $f ]] || { echo "demo: $f is missing: run 'make demo'" >&2; exit 1; }
done

# shellcheck source=../tests/lib/memcached.sh
source "$ROOT/tests/lib/memcached.sh"
DIR=$(mc_tmpdir)
cleanup() {
	mc_stop "$DIR" || true
	rm -rf "$DIR"
}
trap cleanup EXIT
mc_start "$DIR"

# The committed configs name a placeholder server; use the private one.
runtime_config() {
	sed "s|^servers *=.*|servers   = $MC_SOCK|" "config/$1" >"$DIR/$1"
	"$TXCACHE" check -c "$DIR/$1" >/dev/null
}
runtime_config slowdb.ini
runtime_config mkpasswd.ini

fail() {
	echo "demo: FAILED: $*" >&2
	exit 1
}

# timed NAME CMD...: runs CMD with stdout in $DIR/NAME.out and stderr in
# $DIR/NAME.err, sets MS to the wall time in milliseconds.
timed() {
	local name=$1 t0 t1 rc=0
	shift
	t0=${EPOCHREALTIME/[^0-9]/}
	"$@" >"$DIR/$name.out" 2>"$DIR/$name.err" || rc=$?
	t1=${EPOCHREALTIME/[^0-9]/}
	MS=$(((t1 - t0) / 1000))
	if [[ -s $DIR/$name.err ]]; then
		sed 's/^/    stderr: /' "$DIR/$name.err"
	fi
	((rc == 0)) || fail "$* exited with status $rc"
}

secs() {
	printf '%d.%03d s' $(($1 / 1000)) $(($1 % 1000))
}

same() {
	cmp -s "$DIR/$1.out" "$DIR/$2.out" || {
		diff "$DIR/$1.out" "$DIR/$2.out" | sed 's/^/    /' >&2
		fail "$3"
	}
}

run_slowdb() {
	local name=$1
	shift
	timed "$name" "$TXCACHE" run -c "$DIR/slowdb.ini" -- "$SLOWDB" "$@"
}

export SLOWDB_FILE=$DIR/slowdb.txt SLOWDB_DELAY_MS=$DELAY_MS
printf 'alice alice@example.org\nbob bob@example.org\n' >"$SLOWDB_FILE"

echo "== slowdb: db_get() takes $((DELAY_MS / 1000)) s per lookup (examples/slowdb, config/slowdb.ini)"
echo "   \$ txcache run -c slowdb.ini -- slowdb get alice"
run_slowdb get1 get alice
miss=$MS
printf '   %s\n' "$(cat "$DIR/get1.out")"
[[ $(cat "$DIR/get1.out") == "alice: alice@example.org" ]] || fail "unexpected output"
((miss >= DELAY_MS)) || fail "the first run was too fast for a real db_get"
run_slowdb get2 get alice
hit=$MS
printf '   first run:  %s  (miss: the real db_get ran, its result was stored)\n' "$(secs $miss)"
((hit < DELAY_MS / 2)) || fail "the second run took $(secs $hit): not a cache hit"
printf '   second run: %s  (hit: answered from memcached)\n' "$(secs $hit)"
same get1 get2 "the cached answer differs from the real one"
printf '   outputs identical byte for byte; %s saved (%dx faster)\n' \
	"$(secs $((miss - hit)))" $((miss / (hit > 0 ? hit : 1)))

echo "   \$ txcache run -c slowdb.ini -- slowdb set alice new@example.org"
run_slowdb set set alice new@example.org
run_slowdb get3 get alice
printf '   %s\n' "$(cat "$DIR/get3.out")"
[[ $(cat "$DIR/get3.out") == "alice: new@example.org" ]] ||
	fail "the lookup after db_set did not see the new email"
((MS >= DELAY_MS)) || fail "the lookup after db_set took $(secs $MS): not a miss"
printf '   after set:  %s  (miss: db_set invalidated alice'\''s entry)\n' "$(secs $MS)"
run_slowdb get4 get alice
((MS < DELAY_MS / 2)) || fail "the next lookup took $(secs $MS): the new email was not cached"
same get3 get4 "the cached new email differs from the real one"
printf '   next run:   %s  (hit: the new email)\n' "$(secs $MS)"

MKPASSWD=$(command -v mkpasswd) || fail "mkpasswd not found (package whois)"
HASH=(-m sha-512 -R 5000000 -S saltsaltsalt secret)
echo
echo "== mkpasswd: Debian's own binary, crypt() cached (config/mkpasswd.ini)"
echo "   \$ txcache run -c mkpasswd.ini -- mkpasswd ${HASH[*]}"
timed plain "$MKPASSWD" "${HASH[@]}"
plain=$MS
timed mk1 "$TXCACHE" run -c "$DIR/mkpasswd.ini" -- "$MKPASSWD" "${HASH[@]}"
miss=$MS
timed mk2 "$TXCACHE" run -c "$DIR/mkpasswd.ini" -- "$MKPASSWD" "${HASH[@]}"
hit=$MS
printf '   %s\n' "$(cut -c1-60 "$DIR/plain.out")..."
printf '   without txcache: %s\n' "$(secs $plain)"
printf '   first run:       %s  (miss)\n' "$(secs $miss)"
((hit < plain / 2)) || fail "the second run took $(secs $hit): not a cache hit"
printf '   second run:      %s  (hit)\n' "$(secs $hit)"
same plain mk1 "mkpasswd under txcache (miss) printed a different hash"
same plain mk2 "mkpasswd under txcache (hit) printed a different hash"
echo "   all three hashes identical byte for byte"
echo
echo "demo: OK"
