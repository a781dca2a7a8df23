# kinds_helpers.bash - the libkinds fixture under the shim, for 10..40_*.bats.
# Load after helpers: `load helpers; load kinds_helpers`.
#
#   kinds_setup_file / kinds_teardown_file   memcached for the file
#   kinds_setup                              per test: KINDS_CALLS, KINDS_DB,
#                                            KINDS_NS (a namespace of its own)
#   kinds_config NAME [LINE...] <SECTIONS    a config: [cache] with this file's
#                                            server and KINDS_NS, the LINEs, then stdin
#   kinds_exec CMD...           like `run --separate-stderr CMD...`, faster
#   kinds_exec_shim CFG CMD...  the same with the shim preloaded into CMD
#   kd ARG...        the driver without the shim         (kinds_exec)
#   kd_shim CFG ARG...  the driver with the shim         (kinds_exec_shim)
#   calls_count      real libkinds calls so far in this test
#   assert_calls N   fails unless exactly N real calls were made
#   assert_same_as_plain   fails unless stdout/status equal the last kd
#   assert_log hit|miss FN   stderr has "txcache: hit FN NS:FN:<32 hex>"
#   kinds_roundtrip CFG FN ARG...  uncached reference, miss, hit (see below)
#   expect_out [--partial] TEXT, expect_status N   checks of the last run
#
# Every failure prints the last command's status, stdout, stderr and the
# list of real calls, so a misbehaving shim shows what it did.
#
# Every check here returns 1 at its first failed condition, by an explicit
# `return`: bash turns errexit off inside a function called as `f || return`,
# `if f` or `f && g`, so a helper that leaned on `set -e` would go on to
# its last command and return 0 after a failed check.

bats_require_minimum_version 1.5.0

KD=$FIXTURES/kinds_driver
KO=$FIXTURES/kinds_other

kinds_setup_file() {
	local f
	for f in "$SHIM" "$TXCACHE" "$KD" "$KO" "$FIXTURES/libkinds.so"; do
		if [[ ! -e $f ]]; then
			echo "missing $f: run make all and make -C tests/fixtures BUILD=$BUILD" >&2
			return 1
		fi
	done
	txc_mc_start
}

kinds_teardown_file() {
	txc_mc_stop
}

kinds_setup() {
	export KINDS_CALLS=$BATS_TEST_TMPDIR/calls
	export KINDS_DB=$BATS_TEST_TMPDIR/db
	# The file's memcached is shared by its tests: a namespace per test keeps
	# them independent without a flush.
	KINDS_NS=n${BATS_TEST_NUMBER}
	: >"$KINDS_CALLS"
	: >"$KINDS_DB"
	unset TXCACHE_DISABLE
	KINDS_PRELOAD=$(txc_preload)
	# Only the shim reads it; bash and bats do not load the shim.
	export TXCACHE_LOG=info
}

kinds_config() {
	local name=$1
	shift
	{
		printf '[cache]\nservers = %s\nnamespace = %s\ntimeout_ms = 1000\n' \
			"$MC_SOCK" "$KINDS_NS"
		(($# == 0)) || printf '%s\n' "$@"
		printf '\n'
		cat
	} | txc_config "$name"
}

# kinds_exec CMD...: bats' `run --separate-stderr CMD...` (sets status,
# output and stderr; trailing newlines dropped) at a third of its cost: these
# suites make hundreds of runs and must stay well under a minute.
kinds_exec() {
	local errf=$BATS_TEST_TMPDIR/.kinds_stderr
	KINDS_LAST=$*
	status=0
	local before
	before=$(calls_count)
	output=$("$@" 2>"$errf") || status=$?
	stderr=$(<"$errf")
	kinds_unlog_verified "$errf" "$before"
}

# kinds_exec_shim CFG CMD...: kinds_exec with the shim preloaded into CMD
# only (never into bash or bats), configured by CFG.
kinds_exec_shim() {
	local errf=$BATS_TEST_TMPDIR/.kinds_stderr cfg=$1
	shift
	KINDS_LAST="(shim, $cfg) $*"
	status=0
	local before
	before=$(calls_count)
	output=$(LD_PRELOAD=$KINDS_PRELOAD TXCACHE_CONFIG=$cfg "$@" 2>"$errf") || status=$?
	stderr=$(<"$errf")
	kinds_unlog_verified "$errf" "$before"
}

# kinds_unlog_verified STDERR-FILE FROM: under verify (make check-verify) a
# verified hit also calls the real function. Each such call leaves the call
# log (after line FROM), so that the tests still count the calls that
# caching let through. Needs log = info, as kinds_setup sets.
kinds_unlog_verified() {
	local fn
	for fn in $(sed -n 's/^txcache: hit \([^ ]*\) .* (verified)$/\1/p' "$1"); do
		kinds_unlog "$fn" "$2"
	done
}

# kinds_unlog FN FROM: drops the last call of FN after line FROM of the log.
kinds_unlog() {
	local -a l=()
	local i
	[[ -f $KINDS_CALLS ]] || return 0
	mapfile -t l <"$KINDS_CALLS"
	for ((i = ${#l[@]} - 1; i >= $2; i--)); do
		[[ ${l[i]} == "$1" || ${l[i]} == "$1 "* ]] || continue
		unset 'l[i]'
		if ((${#l[@]})); then printf '%s\n' "${l[@]}"; fi >"$KINDS_CALLS"
		return 0
	done
}

kd() {
	kinds_exec "$KD" "$@"
}

kd_shim() {
	local cfg=$1
	shift
	kinds_exec_shim "$cfg" "$KD" "$@"
}

calls_count() {
	local -a l=()
	[[ ! -f $KINDS_CALLS ]] || mapfile -t l <"$KINDS_CALLS"
	echo "${#l[@]}"
}

# kinds_fail MESSAGE: prints MESSAGE and the state of the last `run`; returns 1.
kinds_fail() {
	{
		printf '%s\n' "$1"
		printf -- '-- last command: %s\n' "${KINDS_LAST:-}"
		printf -- '-- status: %s\n' "${status:-}"
		printf -- '-- stdout:\n%s\n' "${output:-}"
		printf -- '-- stderr:\n%s\n' "${stderr:-}"
		printf -- '-- real calls so far (%s):\n' "$(calls_count)"
		cat "$KINDS_CALLS" 2>/dev/null
		printf -- '--\n'
	} >&2
	return 1
}

# assert_calls N [WHY]
assert_calls() {
	local n
	n=$(calls_count)
	[[ $n -eq $1 ]] || { kinds_fail "expected $1 real calls so far, found $n${2:+ ($2)}"; return 1; }
}

# Remembers the last run as the reference for assert_same_as_plain.
kinds_keep_ref() {
	REF_OUT=$output
	REF_STATUS=$status
}

assert_same_as_plain() {
	[[ $status -eq $REF_STATUS ]] || {
		kinds_fail "exit status $status, uncached run exited $REF_STATUS"
		return 1
	}
	[[ $output == "$REF_OUT" ]] || {
		kinds_fail "stdout differs from the uncached run, which printed:
$REF_OUT"
		return 1
	}
}

# assert_log hit|miss FN [present|absent]
assert_log() {
	local what=$1 fn=$2 want=${3:-present}
	local re="^txcache: $what $fn $KINDS_NS:$fn:[0-9a-f]{32}( |\$)"
	local line found=0
	while IFS= read -r line; do
		[[ $line =~ $re ]] && found=1
	done <<<"${stderr:-}"
	if [[ $want == present && $found -eq 0 ]]; then
		kinds_fail "no stderr line matching /$re/"
		return 1
	elif [[ $want == absent && $found -eq 1 ]]; then
		kinds_fail "unexpected stderr line matching /$re/"
		return 1
	fi
	return 0
}

# kinds_roundtrip CFG FN ARG...
# The call ARG... of function FN: run without the shim for reference, then
# twice with it. The first shimmed run must be a miss making exactly one real
# call, the second a hit making none (across processes), and both must print
# what the uncached run printed, with the same exit status.
kinds_roundtrip() {
	local cfg=$1 fn=$2 base
	shift 2
	kd "$@"
	[[ $status -eq 0 ]] || { kinds_fail "uncached run of '$*' failed"; return 1; }
	kinds_keep_ref
	base=$(calls_count)

	kd_shim "$cfg" "$@"
	assert_same_as_plain || return 1
	assert_calls $((base + 1)) || return 1
	assert_log miss "$fn" || return 1

	kd_shim "$cfg" "$@"
	assert_same_as_plain || return 1
	[[ $(calls_count) -eq $((base + 1)) ]] || {
		kinds_fail "second run of '$*' made a real call: not served from the cache"
		return 1
	}
	assert_log hit "$fn" || return 1
}

# expect_out [--partial] TEXT: stdout of the last run is (or contains) TEXT.
expect_out() {
	if [[ $1 == --partial ]]; then
		[[ $output == *"$2"* ]] || { kinds_fail "stdout does not contain: $2"; return 1; }
	else
		[[ $output == "$1" ]] || { kinds_fail "expected stdout: $1"; return 1; }
	fi
}

# expect_status N: the last run exited N.
expect_status() {
	[[ $status -eq $1 ]] || { kinds_fail "expected exit status $1"; return 1; }
}
