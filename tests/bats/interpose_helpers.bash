# shellcheck shell=bash
# interpose_helpers.bash - the bind fixtures (tests/fixtures/bind.mk) under
# the shim, for 50_interpose*.bats. Load after helpers and kinds_helpers:
#   load helpers; load kinds_helpers; load interpose_helpers
#
#   bind_setup         per test: kinds_setup, and libbindt's real calls go to
#                      $KINDS_CALLS (calls_count, assert_calls work)
#   bind_config [SECTIONS...]  a config caching bind_slow (and strlen), plus
#                      the sections given on stdin
#   bind_roundtrip CFG PROG ARG...  uncached reference, then a run of misses
#                      (every real call made), then a run of hits (none)
#   preload_roundtrip CFG PRELOAD PROG ARG...  the same with other preloads
#                      around the shim ("$WRAP SHIM"), counting $BIND_FN
#   count_log hit|miss FN      lines "txcache: hit FN ..." in the last stderr
#
# Each check returns 1 explicitly at its first failure (see kinds_helpers).

bind_setup() {
	kinds_setup
	export BIND_CALLS=$KINDS_CALLS
}

bind_config() {
	kinds_config bind <<EOF2
[function bind_slow]
signature = long bind_slow(long x)

$(cat)
EOF2
}

count_log() {
	local re="^txcache: $1 $2 $KINDS_NS:$2:[0-9a-f]{32}( |\$)" line n=0
	while IFS= read -r line; do
		[[ ! $line =~ $re ]] || n=$((n + 1))
	done <<<"${stderr:-}"
	echo "$n"
}

# expect_log_count hit|miss FN N
expect_log_count() {
	local n
	n=$(count_log "$1" "$2")
	[[ $n -eq $3 ]] || { kinds_fail "expected $3 '$1 $2' lines, found $n"; return 1; }
}

# bind_roundtrip CFG PROG ARG...: the plain run makes N real calls; the
# first shimmed run makes the same N calls as misses and prints the same
# bytes; the second makes no call at all and answers N times from cache.
bind_roundtrip() {
	local cfg=$1
	shift
	preload_roundtrip "$cfg" SHIM "$@"
}

# preload_roundtrip CFG PRELOAD PROG ARG...: bind_roundtrip with LD_PRELOAD
# set to PRELOAD, in which the word SHIM stands for the shim (the plain run
# has it left out): "$WRAP SHIM" preloads a wrapper before the shim.
# The function counted is $BIND_FN (default bind_slow). The misses must make
# the plain run's real calls exactly (the same definitions ran).
preload_roundtrip() {
	local cfg=$1 pre=$2 n plain with fn=${BIND_FN:-bind_slow} ref
	shift 2
	plain=${pre//SHIM/}
	with=${pre//SHIM/$KINDS_PRELOAD}
	kinds_exec env LD_PRELOAD="$plain" "$@"
	[[ $status -eq 0 ]] || { kinds_fail "plain run failed"; return 1; }
	kinds_keep_ref
	n=$(calls_count)
	((n > 0)) || { kinds_fail "the plain run made no real call"; return 1; }
	ref=$(sort "$KINDS_CALLS")
	: >"$KINDS_CALLS"

	kinds_exec env LD_PRELOAD="$with" TXCACHE_CONFIG="$cfg" "$@"
	assert_same_as_plain || return 1
	assert_calls "$n" "first run ($pre): every call is a miss" || return 1
	[[ $(sort "$KINDS_CALLS") == "$ref" ]] ||
		{ kinds_fail "first run ($pre): other calls than the plain run's: $ref"; return 1; }
	expect_log_count miss "$fn" "$n" || return 1
	: >"$KINDS_CALLS"

	kinds_exec env LD_PRELOAD="$with" TXCACHE_CONFIG="$cfg" "$@"
	assert_same_as_plain || return 1
	assert_calls 0 "second run ($pre): served from the cache" || return 1
	expect_log_count hit "$fn" "$n" || return 1
}
