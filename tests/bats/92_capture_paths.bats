#!/usr/bin/env bats
# out fd: every byte the call put on its descriptor, by whatever path, and
# in the order the program would have put it (issue 12, points 7 to 10).
# Each case runs the same cpath_driver command sequence
# (tests/fixtures/cpath_driver.c, cpath_lib.c) without the shim, then twice
# with it, and compares stdout byte for byte. A path the shim cannot see
# must leave the call unstored: the second run is a miss again.

load helpers
load kinds_helpers

setup_file() {
	kinds_setup_file
	[[ -x $FIXTURES/cpath_driver ]] || {
		echo "missing $FIXTURES/cpath_driver: run make -C tests/fixtures" >&2
		return 1
	}
}

teardown_file() {
	kinds_teardown_file
}

setup() {
	kinds_setup
	DRV=$FIXTURES/cpath_driver
	T=$BATS_TEST_TMPDIR
	# a body of 20 bytes for the sendfile-like paths
	BODY=$T/body.txt
	printf '<p>hello world!</p>\n' >"$BODY"
	CP_FN='[function cp_write]
signature = int cp_write(out fd fd, string mode, string arg)
cache_if  = ret == 0'
	cfg=$(kinds_config cpath <<<"$CP_FN")
}

# run_to DEST NAME SHIM ARG...: the driver with ARGs; stdout (a file, a
# pipe, or "merged": a pipe that stderr is a copy of, 2>&1) saved in
# $T/NAME.out, stderr (merged: the shim's log) in $T/NAME.err; with the shim
# when SHIM is 1. Sets status.
run_to() {
	local dest=$1 out=$T/$2.out err=$T/$2.err shim=$3 pre=() c=$cfg
	shift 3
	if [[ $dest == merged ]]; then
		: >"$err"
		c=$(kinds_config "cpath_$(basename "$err")" "log_file = $err" <<<"$CP_FN")
	fi
	((shim)) && pre=(env LD_PRELOAD="$KINDS_PRELOAD" TXCACHE_CONFIG="$c")
	status=0
	local before
	before=$(calls_count)
	case $dest in
	file) "${pre[@]}" "$DRV" "$@" >"$out" 2>"$err" || status=$? ;;
	pipe) { "${pre[@]}" "$DRV" "$@" 2>"$err" || status=$?; } | cat >"$out" ;;
	merged) { "${pre[@]}" "$DRV" "$@" 2>&1 || status=$?; } | cat >"$out" ;;
	esac
	kinds_unlog_verified "$err" "$before"
}

cp_fail() {
	{
		printf '%s\n' "$1"
		local f
		for f in "$T"/*.out "$T"/*.err; do
			[[ -f $f ]] || continue
			printf -- '-- %s:\n' "${f##*/}"
			if [[ $f == *.out ]]; then od -c "$f" | head -n 30; else cat -A "$f"; fi
		done
		printf -- '-- real calls:\n'
		cat "$KINDS_CALLS"
	} >&2
	return 1
}

# stats_are NAME REGEX: the shim's exit statistics line in $T/NAME.err
# matches "stats cp_write: REGEX".
stats_are() {
	grep -Eq "^txcache: stats cp_write: $2" "$T/$1.err" ||
		cp_fail "$1: statistics are not '$2'"
}

same_bytes() {
	cmp -s "$T/$1.out" "$T/$2.out" || cp_fail "$2: output differs from the uncached run"
}

# cp_roundtrip DEST ARG...: uncached, miss (stored), hit (no real call),
# all three byte-identical.
cp_roundtrip() {
	local dest=$1
	shift
	run_to "$dest" plain 0 "$@"
	((status == 0)) || cp_fail "uncached run failed ($status)" || return
	: >"$KINDS_CALLS"
	run_to "$dest" miss 1 "$@"
	((status == 0)) || cp_fail "miss run failed ($status)" || return
	same_bytes plain miss || return
	grep -q '^txcache: miss cp_write' "$T/miss.err" || cp_fail "no miss logged" || return
	! grep -q 'not stored' "$T/miss.err" || cp_fail "the miss was not stored" || return
	stats_are miss 'hits=[0-9]+ misses=[1-9][0-9]* stores=[1-9]' || return
	: >"$KINDS_CALLS"
	run_to "$dest" hit 1 "$@"
	((status == 0)) || cp_fail "hit run failed ($status)" || return
	same_bytes plain hit || return
	grep -q '^txcache: hit cp_write' "$T/hit.err" || cp_fail "no hit logged" || return
	! grep -q '^txcache: miss ' "$T/hit.err" || cp_fail "the hit run had a miss" || return
	stats_are hit 'hits=[1-9][0-9]* misses=0 ' || return
	[[ $(calls_count) -eq 0 ]] || cp_fail "the hit run made real calls"
}

# cp_unstored DEST WHY ARG...: the shim cannot see every byte: the miss
# writes what the uncached run wrote and logs "WHY; not stored"; the next
# run is a miss again, with the same bytes.
cp_unstored() {
	local dest=$1 why=$2
	shift 2
	run_to "$dest" plain 0 "$@"
	((status == 0)) || cp_fail "uncached run failed ($status)" || return
	: >"$KINDS_CALLS"
	local run
	for run in miss again; do
		run_to "$dest" "$run" 1 "$@"
		((status == 0)) || cp_fail "$run run failed ($status)" || return
	done
	same_bytes plain miss || return
	same_bytes plain again || return
	for run in miss again; do
		grep -q "^txcache: cp_write: $why; not stored" "$T/$run.err" ||
			cp_fail "$run: not logged as '$why; not stored'" || return
		! grep -q '^txcache: hit ' "$T/$run.err" || cp_fail "$run: a hit" || return
		stats_are "$run" 'hits=0 misses=1 stores=0 ' || return
	done
	[[ $(calls_count) -eq 2 ]] || cp_fail "expected two real calls"
}

@test "a hit keeps the program's earlier buffered stdout output first (stdio writer)" {
	cp_roundtrip pipe say before -- call 1 printf bob -- say after
	[[ $(tr '\n' ' ' <"$T/hit.out") == "before hello bob after " ]] || cp_fail "order"
	cp_roundtrip file say one -- call 1 printf ann -- say two -- call 1 printf ann -- say three
}

@test "another stream over the descriptor holding earlier output: not stored" {
	# the miss's flush writes the program's "before" too; a hit could not
	cp_unstored pipe "another stream over the descriptor held earlier output" \
		own 1 before -- call 1 own bob -- own 1 after
	[[ $(tr '\n' ' ' <"$T/again.out") == "before hello bob after " ]] || cp_fail "order"
	# without earlier output it is stored, and replayed in order
	cp_roundtrip pipe own 1 -- call 1 own ann -- own 1 after
}

@test "a raw writer after buffered stdout: the same order as uncached, hit and miss" {
	# uncached, the raw bytes overtake the buffered line: so must a hit
	cp_roundtrip pipe say before -- call 1 raw bob -- say after
	[[ $(tr '\n' ' ' <"$T/hit.out") == "hello bob before after " ]] || cp_fail "order"
}

@test "a stdio writer whose stdout is elsewhere on the hit gets the real function" {
	# stored while stdout is fd 1; replayed for fd 2 it would go to stdout
	run_to pipe miss 1 call 1 printf eve
	run_to pipe other 1 call 2 printf eve
	grep -q '^hello eve$' "$T/other.out" || cp_fail "the real function did not write to stdout"
	! grep -q '^txcache: hit cp_write' "$T/other.err" || cp_fail "replayed to another stream"
}

@test "sendfile from a file after write: all 39 bytes stored and replayed (today 19)" {
	cp_roundtrip pipe call 1 sendfile "$BODY"
	[[ $(wc -c <"$T/hit.out") -eq 39 ]] || cp_fail "expected 39 bytes"
	cp "$BODY" "$T/body2.txt" # another key
	cp_roundtrip file say head -- flush -- call 1 sendfile "$T/body2.txt" -- say tail
}

@test "splice from a file into a pipe: stored and replayed exactly" {
	cp_roundtrip pipe call 1 splice "$BODY"
}

@test "copy_file_range into a file: stored and replayed exactly" {
	cp_roundtrip file say head -- flush -- call 1 copy_file_range "$BODY" -- say tail
}

@test "splice from a pipe into the descriptor: not stored (the bytes are gone)" {
	cp_unstored pipe "splice from a pipe wrote to the descriptor" call 1 splicepipe body
}

@test "tee into the descriptor: not stored" {
	cp_unstored pipe "tee wrote to the descriptor" call 1 tee body
}

@test "vmsplice into a pipe after write: not stored" {
	cp_unstored pipe "vmsplice wrote to the descriptor" call 1 vmsplice x
}

@test "pwritev is captured and replayed exactly" {
	cp_roundtrip file say head -- flush -- call 1 pwritev a -- say tail
}

@test "sendmmsg is captured and replayed exactly, one datagram per message" {
	cp_roundtrip pipe sock stream sendmmsg b
	cp_roundtrip pipe sock dgram sendmmsg c
	[[ $(grep -c '^\[15:sendmmsg' "$T/hit.out") -eq 2 ]] || cp_fail "two datagrams expected"
}

@test "a forked child writing to the descriptor: not stored" {
	cp_unstored pipe "a child process was started during the call" call 1 fork x
}

@test "system() whose command writes to the descriptor: not stored" {
	cp_unstored pipe "a child process was started during the call" call 1 system x
}

@test "posix_spawn()ed child writing to the descriptor: not stored" {
	cp_unstored pipe "a child process was started during the call" call 1 spawn x
}

@test "vfork()ed child writing to the descriptor: not stored" {
	cp_unstored pipe "a child process was started during the call" call 1 vfork x
}

@test "popen()ed child writing to the inherited descriptor: not stored" {
	cp_unstored pipe "a child process was started during the call" call 1 popen x
}

@test "a write no wrapper sees (syscall) to a regular file: caught by the offset, not stored" {
	cp_unstored file "the file's offset moved by other than the captured bytes" call 1 syscall x
}

@test "a call that leaves its descriptor closed: not stored" {
	cp_unstored pipe "the descriptor was closed or redirected and not restored" \
		call 1 close x -- say after
}

@test "datagram boundaries are kept: three sends and a sendmsg are four datagrams" {
	cp_roundtrip pipe sock dgram dgram d
	[[ $(grep -c '^\[' "$T/hit.out") -eq 4 ]] || cp_fail "expected four datagrams"
	cp_roundtrip pipe sock seqpacket dgram e
	[[ $(grep -c '^\[' "$T/hit.out") -eq 4 ]] || cp_fail "expected four packets"
}

@test "a descriptor redirected to /dev/null during the call: the noise is not replayed" {
	cp_roundtrip pipe call 1 redirect f
	[[ $(cat "$T/hit.out") == report ]] || cp_fail "only the report expected"
}

@test "writes through a dup() of the descriptor are part of the output" {
	cp_roundtrip pipe call 1 viadup g
	[[ $(tr '\n' ' ' <"$T/hit.out") == "direct one through a dup g direct two " ]] ||
		cp_fail "order"
}

@test "writes through a copy made before the call (stderr is 2>&1 of the pipe): not stored" {
	# stored, they would reach stdout in a run whose stderr is elsewhere
	cp_unstored merged "written through another descriptor of the same file" \
		say before -- flush -- call 1 both h -- say after
	[[ $(tr '\n' ' ' <"$T/again.out") == "before to fd to stderr h to fd again ret=0 after " ]] ||
		cp_fail "order"
	# the same call with stderr elsewhere is stored and replayed
	cp_roundtrip pipe say before -- flush -- call 1 both h -- say after
}

@test "a write through a separate open of the same file: not stored" {
	cp_unstored file "written through another descriptor of the same file" call 1 reopen x
}

@test "wide-character output (fwprintf) to the descriptor's stream: not stored" {
	cp_unstored pipe "wide-character output to the stream" call 1 wide i
}
