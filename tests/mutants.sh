#!/usr/bin/env bash
# mutants.sh - `make mutants`: can the tests fail? One build per deliberate
# fault, and the suites that guard against it, run against that build.
#
#   tests/mutants.sh [NAME...]     (default: every mutant below)
#
# Each mutant is a compile-time switch, TXC_MUTANT_<NAME>: a 2-3 line #ifdef
# in the shim's source, off in every normal build. For each one this script
# builds the shim into build-mut-<name>/ with -DTXC_MUTANT_<NAME>, runs the
# suites listed for it (BUILD=build-mut-<name> tests/run.sh bats ...) and
# prints one row of the table: NAME | suites | caught/SURVIVED | the first
# failing test. Caught means at least one test failed. A survivor is a
# missing test: the suites passed with the guarantee broken.
#
# Speed: a mutant build starts from a copy of $BUILD's objects and
# fixtures (`make mutants` builds them first); only the files that mention
# the switch are compiled again, with it, and what links them is relinked.
# The mutants run one after another. Logs stay in build-mut-<name>/*.log.
#
# Exit status: 0 when every mutant was caught, 1 otherwise (a survivor, or a
# mutant that could not be built). The last line is "N caught, N survived".
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD

# NAME|what the fault does|suites (tests/bats/*.bats) that must catch it
MUTANTS=(
	"KEY_ARG|the second argument left out of the key|10_kinds"
	"OUTS_FIT|an out buffer's capacity not checked on a hit|10_kinds"
	"GEN|a value of an old generation served (flush ignored)|30_policy"
	"MAC|a sealed value opened without its tag checked|45_seal"
	"ERRNO|errno left as the shim's own I/O set it on a hit|10_kinds"
	"INVAL|the invalidation of a mutator skipped|30_policy"
	"HANDLER_WRITES|a signal handler's writes captured into the value|93_capture_signals"
	"DEFER|signal handlers run in the middle of the shim's work|94_guard_unwind"
	"FILE_STILL|a keyed file not checked again after the call|33_worldkey"
	"NOOUTS|a value flagged 'outs not stored' that holds an out entry decoded|32_cond"
	"STALE_LOCK|every reader of a stale value recomputes it (no refresh lock)|34_stale"
	"STALE_FOREVER|a value past fresh-until + stale served as stale|34_stale"
	"NEAR_FRESH|a near-cache entry outlives its value's fresh-until|34_stale"
	"NEAR_EPOCH|a near hit ignores invalidations made by other threads|81_near"
	"STORE_SET|a refresh (or miss) stores over an invalidation made during it|34_stale"
	"MODE_STORE|mode readonly stores what it missed|36_modes"
	"MODE_SERVE|mode recache serves hits|36_modes"
	"MODE_OFF|mode off still interposed|36_modes"
	"RECACHE_SET|mode recache stores over an invalidation (a plain set)|36_modes"
	"TRUST_DIR|a config in a directory others can write trusted|44_trust"
)

die() {
	echo "mutants.sh: $*" >&2
	exit 2
}

[[ -f $BUILD/libtxcache.so && -x $BUILD/txcache && -d $BUILD/fixtures ]] ||
	die "build $BUILD and its fixtures first (make mutants does)"

# build_mutant NAME DIR: the shim with TXC_MUTANT_NAME into DIR. Returns 1
# when no source has the switch or the build fails (log in DIR/build.log).
build_mutant() {
	local name=$1 dir=$2 f obj
	local -a files
	mapfile -t files < <(grep -lw "TXC_MUTANT_$name" shim/*.c shim/cli/*.c)
	if ((${#files[@]} == 0)); then
		echo "no source file has the switch TXC_MUTANT_$name" >"$dir/build.log"
		return 1
	fi
	cp -a "$BUILD/obj" "$dir/obj" || return 1
	for f in "${files[@]}"; do
		obj=${f#shim/}
		rm -f "$dir/obj/${obj%.c}.o"
	done
	# the fixtures that link the shim itself are linked again against this one
	cp -a "$BUILD/fixtures" "$dir/fixtures" || return 1
	rm -f "$dir/fixtures/libtxcache.so.0" "$dir/fixtures/api_driver" \
		"$dir/fixtures/rel_linked"
	{
		make --no-print-directory -j2 BUILD="$dir" \
			CFLAGS="${CFLAGS:--O2 -g} -DTXC_MUTANT_$name" all &&
			make --no-print-directory -C tests/fixtures BUILD="$dir"
	} >"$dir/build.log" 2>&1
}

# The first failing test of a run.sh log ("  not ok N name").
first_failure() {
	sed -n 's/^  not ok [0-9]* //p' "$1" | head -n 1
}

selected=("$@")
caught=0 survived=0
rows=()
t0=$SECONDS
for m in "${MUTANTS[@]}"; do
	IFS='|' read -r name what suites <<<"$m"
	if ((${#selected[@]})) && [[ " ${selected[*]} " != *" $name "* ]]; then
		continue
	fi
	dir=$ROOT/build-mut-${name,,}
	rm -rf "$dir"
	mkdir -p "$dir"
	files=()
	for s in $suites; do
		files+=("tests/bats/$s.bats")
	done
	printf 'mutant %s: %s ...\n' "$name" "$what" >&2
	if ! build_mutant "$name" "$dir"; then
		rows+=("$name|$suites|NOT BUILT|see $dir/build.log")
		survived=$((survived + 1))
		continue
	fi
	BUILD=$dir tests/run.sh bats "${files[@]}" >"$dir/bats.log" 2>&1
	rc=$?
	last=$(tail -n 1 "$dir/bats.log")
	if ((rc != 0)) && [[ $last =~ ^[0-9]+\ passed,\ ([1-9][0-9]*)\ failed ]]; then
		rows+=("$name|$suites|caught (${BASH_REMATCH[1]} failed)|$(first_failure "$dir/bats.log")")
		caught=$((caught + 1))
	else
		rows+=("$name|$suites|SURVIVED|$last")
		survived=$((survived + 1))
	fi
done

printf '\n%-9s | %-17s | %-18s | %s\n' mutant suites result "first failing test"
printf '%s\n' "----------+-------------------+--------------------+-------------------"
for r in "${rows[@]}"; do
	IFS='|' read -r name suites result first <<<"$r"
	printf '%-9s | %-17s | %-18s | %.70s\n' "$name" "$suites" "$result" "$first"
done
printf '\n%d caught, %d survived (%d s)\n' "$caught" "$survived" $((SECONDS - t0))
((survived == 0))
