#!/usr/bin/env bats
# Keys that see the world (issue 13, point 3): key_env, key_cwd and the file
# and file:content parameter kinds, with libwk.so's real functions whose
# results depend on a file, the locale, TZ and the working directory
# (tests/fixtures/wk_lib.c). Real calls are counted in WK_CALLS.
#
# WK_WITHOUT=1 runs every test with the feature taken out of its config
# (file kinds become string, key_env and key_cwd lines go): each test then
# fails on a wrong cached result. The tests that a changed file must not
# be stored fail the same way against the TXC_MUTANT_FILE_STILL build.

load helpers

WKD=$FIXTURES/wk_driver

setup_file() {
	local f
	for f in "$SHIM" "$TXCACHE" "$WKD" "$FIXTURES/libwk.so"; do
		[[ -e $f ]] || { echo "missing $f: run make all and make -C tests/fixtures" >&2; return 1; }
	done
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

setup() {
	export WK_CALLS=$BATS_TEST_TMPDIR/calls
	: >"$WK_CALLS"
	WK_NS=wk${BATS_TEST_NUMBER}
	export TXCACHE_LOG=info
	unset LC_ALL LC_CTYPE LC_TIME LANG TZ WK_FLIP
	D=$BATS_TEST_TMPDIR
}

# wk_config NAME [CACHE-LINE...] <SECTIONS: a config with this file's server
# and a namespace per test; under WK_WITHOUT=1 the feature is stripped.
wk_config() {
	local name=$1
	shift
	{
		printf '[cache]\nservers = %s\nnamespace = %s\ntimeout_ms = 1000\n' "$MC_SOCK" "$WK_NS"
		(($# == 0)) || printf '%s\n' "$@"
		printf '\n'
		cat
	} | if [[ ${WK_WITHOUT:-} == 1 ]]; then
		sed -e 's/file:content /string /g; s/(file /(string /g' -e '/^key_env\|^key_cwd/d'
	else
		cat
	fi | txc_config "$name"
}

# wk CFG ARG...: the driver under the shim, in the current directory. Under
# make check-verify (TXCACHE_VERIFY=1) a verified hit runs the real function
# too: those calls are taken out of WK_CALLS again.
wk() {
	local cfg=$1 before fn
	shift
	before=$(calls)
	run --separate-stderr env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$cfg" "$WKD" "$@"
	for fn in $(sed -n 's/^txcache: hit \([^ ]*\) .* (verified)$/\1/p' <<<"$stderr"); do
		unlog "$fn" "$before"
	done
}

# unlog FN FROM: drops the last call of FN after line FROM of WK_CALLS.
unlog() {
	local -a l=()
	local i
	mapfile -t l <"$WK_CALLS"
	for ((i = ${#l[@]} - 1; i >= $2; i--)); do
		[[ ${l[i]} == "$1" ]] || continue
		unset 'l[i]'
		if ((${#l[@]})); then printf '%s\n' "${l[@]}"; fi >"$WK_CALLS"
		return 0
	done
}

calls() {
	wc -l <"$WK_CALLS" | tr -d ' '
}

# expect OUT CALLS: the last run printed OUT, and CALLS real calls were made
# in this test so far.
expect() {
	[[ $status -eq 0 ]] || { echo "status $status; stderr: $stderr"; return 1; }
	[[ $output == "$1" ]] || {
		printf 'expected: %s\ngot:      %s\nstderr:\n%s\n' "$1" "$output" "$stderr"
		return 1
	}
	local n
	n=$(calls)
	[[ $n -eq $2 ]] || { printf 'expected %s real calls, got %s; stderr:\n%s\n' "$2" "$n" "$stderr"; return 1; }
}

# A `file` is stored only once its times are 100 ms old (filekey.h).
settle() {
	sleep 0.3
}

read_cfg() {
	wk_config "$1" <<EOF
[function wk_read]
signature = int wk_read($2 path, out string[cap] buf, size_t cap)
EOF
}

@test "file: an unchanged file is a hit; a rewrite of the same size is a miss, even with its mtime put back" {
	cfg=$(read_cfg file file)
	echo one >"$D/a.txt"
	settle
	wk "$cfg" read "$D/a.txt"
	expect "wk_read $D/a.txt -> 3 one" 1
	wk "$cfg" read "$D/a.txt"
	expect "wk_read $D/a.txt -> 3 one" 1
	[[ $stderr == *"hit wk_read"* ]] || { echo "no hit: $stderr"; return 1; }
	# as cp -p or tar would: other bytes, same size, the old mtime
	touch -r "$D/a.txt" "$D/ref"
	echo two >"$D/a.txt"
	touch -r "$D/ref" "$D/a.txt"
	settle
	wk "$cfg" read "$D/a.txt"
	expect "wk_read $D/a.txt -> 3 two" 2
	wk "$cfg" read "$D/a.txt"
	expect "wk_read $D/a.txt -> 3 two" 2
}

@test "file: a file whose times are not yet settled is never stored (a same-size rewrite in the same tick would not show)" {
	cfg=$(read_cfg unsettled file)
	echo one >"$D/a.txt"
	# a time ahead of the clock is as unsettled as one written just now,
	# and stays so for the whole test
	touch -d '+1 hour' "$D/a.txt"
	wk "$cfg" read "$D/a.txt" "$D/a.txt"
	expect $'wk_read '"$D/a.txt"$' -> 3 one\nwk_read '"$D/a.txt"' -> 3 one' 2
	[[ $stderr == *"not stored: a file changed during the call, or was written too recently"* ]] || {
		echo "$stderr"
		return 1
	}
	# file:content needs no settling
	cfg=$(read_cfg unsettled-content file:content)
	wk "$cfg" read "$D/a.txt" "$D/a.txt"
	expect $'wk_read '"$D/a.txt"$' -> 3 one\nwk_read '"$D/a.txt"' -> 3 one' 3
}

# The file PATH names is switched between the shim's look at it and the
# function's read (WK_FLIP: a symlink repointed, as deployments do): the
# result is the new file's, and must not be stored under the old one.
flip_test() {
	local kind=$1
	cfg=$(read_cfg "flip-$kind" "$kind")
	echo alpha >"$D/a.txt"
	echo bravo >"$D/b.txt"
	ln -s "$D/a.txt" "$D/cur"
	settle
	WK_FLIP="$D/cur=$D/b.txt" wk "$cfg" read "$D/cur"
	expect "wk_read $D/cur -> 5 bravo" 1 || return 1
	local first=$stderr
	ln -sfn "$D/a.txt" "$D/cur"
	wk "$cfg" read "$D/cur"
	expect "wk_read $D/cur -> 5 alpha" 2 || return 1
	wk "$cfg" read "$D/cur"
	expect "wk_read $D/cur -> 5 alpha" 2 || return 1
	[[ $first == *"not stored: a file changed during the call"* ]] || {
		echo "the switched call was stored: $first"
		return 1
	}
}

@test "file: the file switched during the call: nothing stored, the old state never gets the new result" {
	flip_test file
}

@test "file:content: the file switched during the call: nothing stored" {
	flip_test file:content
}

@test "file:content: another process rewrites the file during the call: nothing stored" {
	cfg=$(read_cfg midcall file:content)
	echo alpha >"$D/a.txt"
	mkdir "$D/sync"
	WK_PAUSE="$D/sync" LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$cfg" \
		"$WKD" read "$D/a.txt" >"$D/out" 2>"$D/err" 3>&- &
	pid=$!
	wait_until test -e "$D/sync/ready" || { kill "$pid"; echo "the call never paused"; return 1; }
	echo delta >"$D/a.txt" # the same size, in place, while the function waits to read it
	touch "$D/sync/go"
	wait "$pid" || { echo "driver failed: $(<"$D/err")"; return 1; }
	[[ $(<"$D/out") == "wk_read $D/a.txt -> 5 delta" ]] || { cat "$D/out" "$D/err"; return 1; }
	# the first bytes again: their key must not hold what was read from the second
	echo alpha >"$D/a.txt"
	wk "$cfg" read "$D/a.txt"
	expect "wk_read $D/a.txt -> 5 alpha" 2 || return 1
	grep -q "not stored: a file changed during the call" "$D/err" || { cat "$D/err"; return 1; }
}

@test "file:content: keyed by the bytes, whatever the file's times" {
	cfg=$(read_cfg content file:content)
	echo one >"$D/a.txt"
	wk "$cfg" read "$D/a.txt"
	expect "wk_read $D/a.txt -> 3 one" 1
	echo two >"$D/a.txt"
	touch -d '2001-01-01' "$D/a.txt"
	wk "$cfg" read "$D/a.txt"
	expect "wk_read $D/a.txt -> 3 two" 2
	# the first bytes again, in a new file: the first result, from the cache
	rm "$D/a.txt"
	echo one >"$D/a.txt"
	wk "$cfg" read "$D/a.txt"
	expect "wk_read $D/a.txt -> 3 one" 2
	[[ $stderr == *"hit wk_read"* ]] || { echo "no hit: $stderr"; return 1; }
}

@test "file: a missing file keys as missing; once it exists the key changes" {
	for kind in file file:content; do
		: >"$WK_CALLS"
		cfg=$(read_cfg "missing-${kind/:/-}" "$kind")
		rm -f "$D/late.txt"
		wk "$cfg" read "$D/late.txt"
		expect "wk_read $D/late.txt -> -1 " 1 || return 1
		wk "$cfg" read "$D/late.txt"
		expect "wk_read $D/late.txt -> -1 " 1 || return 1
		echo here >"$D/late.txt"
		settle
		wk "$cfg" read "$D/late.txt"
		expect "wk_read $D/late.txt -> 4 here" 2 || return 1
		WK_NS=${WK_NS}x
	done
}

@test "file: a device or an oversized file:content runs uncached, logged once" {
	cfg=$(read_cfg dev file)
	wk "$cfg" read /dev/null /dev/null
	expect $'wk_read /dev/null -> 0 \nwk_read /dev/null -> 0 ' 2
	n=$(grep -c "not a regular file" <<<"$stderr")
	[[ $n -eq 1 ]] || { echo "logged $n times: $stderr"; return 1; }
	: >"$WK_CALLS"
	cfg=$(read_cfg big file:content)
	truncate -s 65M "$D/big"
	wk "$cfg" read "$D/big" "$D/big"
	expect $'wk_read '"$D/big"$' -> 255 \nwk_read '"$D/big"' -> 255 ' 2
	n=$(grep -c "larger than 64 MiB" <<<"$stderr")
	[[ $n -eq 1 ]] || { echo "logged $n times: $stderr"; return 1; }
}

@test "key_env: LANG selects the locale's codeset; unset and empty key apart; a function's key_env replaces [cache]'s" {
	cfg=$(wk_config codeset 'key_env = TZ' <<'EOF'
[function wk_codeset]
signature = int wk_codeset(out string[cap] buf, size_t cap)
key_env = LANG
EOF
	)
	for round in 1 2; do
		LANG=C wk "$cfg" codeset
		expect "wk_codeset -> 14 ANSI_X3.4-1968" 2 || [[ $round == 1 ]] || return 1
		LANG=C.UTF-8 wk "$cfg" codeset
		expect "wk_codeset -> 5 UTF-8" 2 || return 1
	done
	# TZ is [cache]'s key_env, replaced here: not keyed
	TZ=JST-9 LANG=C.UTF-8 wk "$cfg" codeset
	expect "wk_codeset -> 5 UTF-8" 2
	wk "$cfg" codeset
	expect "wk_codeset -> 14 ANSI_X3.4-1968" 3
	LANG='' wk "$cfg" codeset
	expect "wk_codeset -> 14 ANSI_X3.4-1968" 4
}

@test "key_env: TZ as the program sets it itself (setenv) at each call" {
	cfg=$(wk_config tz 'key_env = TZ' <<'EOF'
[function wk_clock]
signature = int wk_clock(long t, out string[cap] buf, size_t cap)
EOF
	)
	want=$'wk_clock UTC0 -> 20 1970-01-01 00:00 UTC\nwk_clock JST-9 -> 20 1970-01-01 09:00 JST'
	wk "$cfg" tz 0 UTC0 JST-9
	expect "$want" 2
	wk "$cfg" tz 0 UTC0 JST-9 UTC0
	expect "$want"$'\nwk_clock UTC0 -> 20 1970-01-01 00:00 UTC' 2
}

@test "key_cwd: the same relative name in two directories gives two results, both right on the second run" {
	mkdir "$D/d1" "$D/d2"
	echo in-d1 >"$D/d1/data.txt"
	echo in-d2 >"$D/d2/data.txt"
	cfg=$(wk_config cwd <<'EOF'
[function wk_rel]
signature = int wk_rel(string name, out string[cap] buf, size_t cap)
key_cwd = yes
EOF
	)
	for round in 1 2; do
		cd "$D/d1"
		wk "$cfg" rel data.txt
		expect "wk_rel data.txt -> 5 in-d1" 2 || [[ $round == 1 ]] || return 1
		cd "$D/d2"
		wk "$cfg" rel data.txt
		expect "wk_rel data.txt -> 5 in-d2" 2 || return 1
	done
}

@test "key_cwd: a working directory longer than PATH_MAX runs uncached, logged once" {
	cfg=$(wk_config cwdlong <<'EOF'
[function wk_rel]
signature = int wk_rel(string name, out string[cap] buf, size_t cap)
key_cwd = yes
EOF
	)
	cd "$D"
	seg=$(printf 'd%.0s' {1..200})
	for i in $(seq 1 22); do
		mkdir "$seg" && cd "$seg" || return 1
	done
	echo deep >data.txt
	wk "$cfg" rel data.txt
	expect "wk_rel data.txt -> 4 deep" 1
	[[ $stderr == *"longer than 4096 bytes; calling uncached"* ]] || { echo "$stderr"; return 1; }
	wk "$cfg" rel data.txt
	expect "wk_rel data.txt -> 4 deep" 2
	cd "$D"
}

@test "txcache key prints the key the shim uses, with the same env, cwd and file" {
	cfg=$(wk_config keycli <<'EOF'
[function wk_read]
signature = int wk_read(file:content path, out string[cap] buf, size_t cap)
key_env = LANG
key_cwd = yes
EOF
	)
	cd "$D"
	echo one >a.txt
	# (the driver's buffer is 256 bytes: cap is a keyed argument)
	shim_key() {
		[[ $stderr =~ miss\ wk_read\ ([^ ]+) ]] || { echo "no miss logged: $stderr" >&2; return 1; }
		printf '%s\n' "${BASH_REMATCH[1]}"
	}
	LANG=C wk "$cfg" read a.txt
	k1=$(shim_key)
	LANG=C run_txcache key -c "$cfg" wk_read a.txt 256
	[[ $status -eq 0 && $output == "$k1" ]] || { echo "cli '$output' ($status), shim '$k1'"; return 1; }
	for change in lang file cwd; do
		case $change in
		lang) export LANG=C.UTF-8 ;;
		file) echo two >a.txt ;;
		cwd) mkdir -p sub && cp a.txt sub/ && cd sub ;;
		esac
		run_txcache key -c "$cfg" wk_read a.txt 256
		[[ $status -eq 0 && $output != "$k1" ]] || { echo "$change: key unchanged: $output"; return 1; }
		k2=$output
		wk "$cfg" read a.txt
		[[ $(shim_key) == "$k2" ]] || { echo "$change: shim $(shim_key), cli $k2"; return 1; }
		k1=$k2
	done
}

@test "invalidation: dropping a call of a world-keyed function drops it in every world" {
	cfg=$(wk_config inval 'key_env = LANG' <<'EOF'
[function wk_codeset]
signature = int wk_codeset(out string[cap] buf, size_t cap)
EOF
	)
	LANG=C wk "$cfg" codeset
	LANG=C.UTF-8 wk "$cfg" codeset
	expect "wk_codeset -> 5 UTF-8" 2
	LANG=C run_txcache --separate-stderr delete -c "$cfg" wk_codeset 256
	[[ $status -eq 0 ]] || { echo "delete: $status $output $stderr"; return 1; }
	local said=$stderr
	# the cached C.UTF-8 result is gone too, not only LANG=C's
	LANG=C.UTF-8 wk "$cfg" codeset
	expect "wk_codeset -> 5 UTF-8" 3 || return 1
	[[ $said == *"wk_codeset is keyed by the world"*"invalidated every call of it"* ]] || {
		echo "$said"
		return 1
	}
}

@test "txcache check: key_env, key_cwd, key_locale and file kinds explain their errors with FILE:LINE" {
	cfg=$(wk_config bad 'key_env = LANG, 9X' 'key_cwd = maybe' <<'EOF'
[function wk_read]
signature = int wk_read(file:contents path, out string[cap] buf, size_t cap)

[function wk_codeset]
signature = int wk_codeset(out string[cap] buf, size_t cap)
key_env = LANG, TZ, LANG
key_locale = perhaps
EOF
	)
	run_txcache --separate-stderr check -c "$cfg"
	[[ $status -ne 0 ]] || { echo "check accepted it"; return 1; }
	all="$output $stderr"
	for want in "$cfg:5: key_env: '9X' is not a variable name" \
		"$cfg:6: key_cwd: 'maybe' is not yes/no" \
		"$cfg:9: signature: parameter 1 (path): expected 'content' after 'file:'" \
		"$cfg:13: key_env: 'LANG' is listed twice" \
		"$cfg:14: key_locale: 'perhaps' is not yes/no"; do
		[[ $all == *"$want"* ]] || { printf 'missing: %s\nin: %s\n' "$want" "$all"; return 1; }
	done
	many=$(printf 'V%d,' {1..17})
	cfg=$(wk_config many "key_env = ${many%,}" </dev/null)
	run_txcache --separate-stderr check -c "$cfg"
	[[ $status -ne 0 && "$output $stderr" == *"$cfg:5: key_env: more than 16 variables"* ]] || {
		echo "$status $output $stderr"
		return 1
	}
}
