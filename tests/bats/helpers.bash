# shellcheck shell=bash
# helpers.bash - loaded by every .bats file with `load helpers`.
#
# Paths:    BUILD (absolute), TXCACHE, SHIM, FIXTURES, TXC_ROOT (the repo).
# memcached per file:  txc_mc_start / txc_mc_stop in setup_file / teardown_file
#           (export MC_SOCK, MC_PID, MC_SERVER); txc_mc_flush empties it.
# Configs:  path=$(txc_config NAME <<EOF ... EOF)
# Catalogue: txc_catalogue_copy (setup_file: a trusted copy in CATDIR)
# JSON:     json_check [PYTHON]   ($output parses; PYTHON asserts on d)
# Waiting:  wait_until [-t SECONDS] CMD [ARG...]        (a condition, not a sleep)
# Preload:  run_shim [RUN-OPTIONS] CONFIG CMD [ARG...]   (run with the shim)
#           run_txcache ARG...                          (run the CLI)
#           txc_preload                                 (the LD_PRELOAD value)
# With TXCACHE_ASAN=1 (make asan) the ASan runtime is preloaded first.
#
# LD_PRELOAD is never exported here: bash, coreutils and bats itself would all
# load the shim. It is passed to one command at a time.

TXC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$TXC_ROOT/$BUILD
export BUILD
# shellcheck disable=SC2034 # used by the .bats files
{
	TXCACHE=$BUILD/txcache
	SHIM=$BUILD/libtxcache.so
	FIXTURES=$BUILD/fixtures
}

# shellcheck source=../lib/memcached.sh
source "$TXC_ROOT/tests/lib/memcached.sh"

bats_require_minimum_version 1.5.0 # run -N, --separate-stderr

export BATS_LIB_PATH=${BATS_LIB_PATH:-/usr/lib/bats}
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

# make tsan: the ThreadSanitizer runtime takes the ASan runtime's place in
# every preload below (TXC_LIBASAN names "the sanitizer runtime").
if [[ ${TXCACHE_TSAN:-} == 1 ]]; then
	TXCACHE_ASAN=1
	TXC_LIBASAN=$(${CC:-cc} -print-file-name=libtsan.so)
elif [[ ${TXCACHE_ASAN:-} == 1 ]]; then
	TXC_LIBASAN=$(${CC:-cc} -print-file-name=libasan.so)
	# Host programs leak by design (they exit without freeing); only the
	# unit tests hunt leaks.
	# (helpers.bash is loaded again for every test: append once.)
	[[ ${ASAN_OPTIONS:-} == *detect_leaks=0* ]] ||
		export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
fi

# json_check [PYTHON]: $output is one JSON document in strict UTF-8 (python's
# json.load(sys.stdin) would let bad bytes through as surrogate escapes) with
# no NaN/Infinity, and PYTHON (statements; the document is d; jbytes(v) turns
# a text value back into its bytes, see jsonout.h) does not raise.
json_check() {
	python3 -c '
import base64, json, sys
def bad(c):
    raise ValueError("not JSON: " + c)
def jbytes(v):
    if isinstance(v, str):
        return v.encode("utf-8")
    assert isinstance(v, dict) and list(v) == ["base64"], v
    return base64.b64decode(v["base64"], validate=True)
d = json.loads(sys.stdin.buffer.read().decode("utf-8", "strict"), parse_constant=bad)
exec(sys.argv[1])
' "${1:-pass}" <<<"$output" || {
		printf 'invalid JSON or failed check (%s): %q\n' "${1:-parse}" "$output" >&2
		return 1
	}
}

# wait_until [-t SECONDS] CMD [ARG...]: runs CMD every 50 ms until it
# succeeds (returns 0), or until SECONDS (default TXC_WAIT_S, else 30) have
# passed (returns 1). A test waits for the condition itself, never for a
# fixed time: a machine running other builds can take seconds to start a
# process, and an idle one then pays nothing for the generous bound. CMD
# runs as a condition (errexit off): make it one check.
wait_until() {
	local limit=${TXC_WAIT_S:-30} end
	if [[ $1 == -t ]]; then
		limit=$2
		shift 2
	fi
	end=$((SECONDS + limit))
	until "$@"; do
		((SECONDS <= end)) || return 1
		sleep 0.05
	done
}

# Starts this file's memcached in a short directory of its own (BATS
# temporary paths can exceed the 108-byte socket limit). For setup_file.
txc_mc_start() {
	TXC_MC_DIR=$(mc_tmpdir) || return 1
	export TXC_MC_DIR
	mc_start "$TXC_MC_DIR"
}

# For teardown_file: stops that memcached and removes its directory.
txc_mc_stop() {
	[[ -n ${TXC_MC_DIR:-} ]] || return 0
	mc_stop "$TXC_MC_DIR" || return 1
	rm -rf "$TXC_MC_DIR"
	unset TXC_MC_DIR
}

# Empties this file's memcached, for tests that need a cold cache.
txc_mc_flush() {
	memcflush --servers="$MC_SOCK" >/dev/null
}

# For setup_file: a copy of the shipped catalogue in CATDIR (exported), for
# TXCACHE_CATALOGUE. A copy, because catalogue files are read with the
# config's trust rules and a checkout may sit in a directory others can write.
txc_catalogue_copy() {
	CATDIR=$BATS_FILE_TMPDIR/catalogue
	mkdir -m 0755 "$CATDIR" || return 1
	cp "$TXC_ROOT"/config/catalogue/*.ini "$CATDIR/" || return 1
	export CATDIR
}

# Writes stdin to a config file NAME (".ini" added when missing) in the
# current test's temporary directory (the file's, from setup_file) and prints
# its path.
txc_config() {
	local dir=${BATS_TEST_TMPDIR:-$BATS_FILE_TMPDIR} name=$1
	[[ $name == *.ini ]] || name+=.ini
	cat >"$dir/$name" || return 1
	printf '%s\n' "$dir/$name"
}

# The LD_PRELOAD value for a command run under the shim.
txc_preload() {
	if [[ ${TXCACHE_ASAN:-} == 1 ]]; then
		printf '%s %s\n' "$TXC_LIBASAN" "$SHIM"
	else
		printf '%s\n' "$SHIM"
	fi
}

# run_shim [RUN-OPTIONS] CONFIG CMD [ARG...]
# Bats' `run` of CMD with the shim preloaded and TXCACHE_CONFIG=CONFIG.
# Leading options (--separate-stderr, -N, !) are passed to `run`.
run_shim() {
	local opts=()
	while [[ $# -gt 0 && ($1 == -* || $1 == '!') ]]; do
		opts+=("$1")
		shift
	done
	local config=$1
	shift
	run "${opts[@]}" env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$config" "$@"
}

# run_txcache [RUN-OPTIONS] ARG...
# Bats' `run` of the CLI. Under ASan, `txcache run` appends the ASan-built
# shim to LD_PRELOAD, so the ASan runtime must already be there, first.
run_txcache() {
	local opts=()
	while [[ $# -gt 0 && ($1 == -* || $1 == '!') ]]; do
		opts+=("$1")
		shift
	done
	if [[ ${TXCACHE_ASAN:-} == 1 ]]; then
		run "${opts[@]}" env LD_PRELOAD="$TXC_LIBASAN" "$TXCACHE" "$@"
	else
		run "${opts[@]}" "$TXCACHE" "$@"
	fi
}
