#!/usr/bin/env bats
# Attacks on keys that see the world (issue 13 point 3: key_env, key_cwd and
# the file / file:content kinds), with libwb.so's real functions
# (tests/fixtures/wb_lib.c). Each test tries to get a hit that returns what
# the real function would not have returned for that call, or to make the
# shim disturb or hang the host. Real calls are counted in WB_CALLS.
#
# A test that shows a break not fixed yet is skipped with "BREAK: ...";
# WB_RUN_BREAKS=1 runs those too (they fail). The tests of the fixed
# breaks each failed on a5dac9d (main with worldkey), before the fixes in
# shim/filekey.c and shim/world.c.

load helpers

WBD=$FIXTURES/wb_driver

setup_file() {
	local f
	for f in "$SHIM" "$TXCACHE" "$WBD" "$FIXTURES/libwb.so" "$FIXTURES/wb_mmapw"; do
		[[ -e $f ]] || { echo "missing $f: run make all and make -C tests/fixtures" >&2; return 1; }
	done
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

setup() {
	export WB_CALLS=$BATS_TEST_TMPDIR/calls
	: >"$WB_CALLS"
	WB_NS=wb${BATS_TEST_NUMBER}
	export TXCACHE_LOG=info
	unset WB_HOOK WB_VAR
	D=$BATS_TEST_TMPDIR
	TCP_DIR= SHARED=
}

teardown() {
	if [[ -n $TCP_DIR ]]; then
		mc_stop "$TCP_DIR"
		rm -rf "$TCP_DIR"
	fi
	[[ -z $SHARED ]] || rm -rf "$SHARED"
}

# wb_config NAME [CACHE-LINE...] <SECTIONS: a config with this file's
# server and a namespace per test.
wb_config() {
	local name=$1
	shift
	{
		printf '[cache]\nservers = %s\nnamespace = %s\ntimeout_ms = 1000\n' "$MC_SOCK" "$WB_NS"
		(($# == 0)) || printf '%s\n' "$@"
		printf '\n'
		cat
	} | txc_config "$name"
}

# read_cfg NAME KIND [CACHE-LINE...]: wb_read with its path of KIND.
read_cfg() {
	wb_config "$1" "${@:3}" <<EOF
[function wb_read]
signature = int wb_read($2 path, out string[cap] buf, size_t cap)
EOF
}

# wb CFG ARG...: the driver under the shim. Under make check-verify
# (TXCACHE_VERIFY=1) a verified hit runs the real function too: those
# calls are taken out of WB_CALLS again.
wb() {
	local cfg=$1 before fn
	shift
	before=$(calls)
	run --separate-stderr env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$cfg" "$WBD" "$@"
	for fn in $(sed -n 's/^txcache: hit \([^ ]*\) .* (verified)$/\1/p' <<<"$stderr"); do
		unlog "$fn" "$before"
	done
}

# unlog FN FROM: drops the last call of FN after line FROM of WB_CALLS.
unlog() {
	local -a l=()
	local i
	mapfile -t l <"$WB_CALLS"
	for ((i = ${#l[@]} - 1; i >= $2; i--)); do
		[[ ${l[i]} == "$1" ]] || continue
		unset 'l[i]'
		if ((${#l[@]})); then printf '%s\n' "${l[@]}"; fi >"$WB_CALLS"
		return 0
	done
}

calls() {
	wc -l <"$WB_CALLS" | tr -d ' '
}

# expect OUT CALLS: the last run printed OUT, and CALLS real calls were
# made in this test so far.
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

hit_logged() {
	[[ $stderr == *"hit $1"* ]] || { echo "no hit of $1 logged: $stderr"; return 1; }
}

# ---- breaks: each failed before its fix (a5dac9d, main with worldkey) ----

@test "file:content: a FIFO is not opened by the shim: a writer waiting for its reader is not cut off, the call does not hang" {
	mkfifo "$D/fifo"
	cfg=$(read_cfg fifo file:content)
	# a writer blocked in open(O_WRONLY) until a reader comes: the
	# function's open. An open by the shim (to hash) lets it through, and
	# the shim's close then leaves it writing to no reader (SIGPIPE): the
	# function's own open then waits for a writer that is gone.
	start_writer() {
		(exec 3>&-; echo hello >"$D/fifo") &
		writer=$!
		# the writer is in open(2), waiting for a partner (a kernel that
		# names no wait channel: the driver starts slower than the writer)
		wait_until -t 10 bash -c "[[ \$(cat /proc/$writer/wchan 2>/dev/null) == wait_for_partner ]]" || true
	}
	# control: without the shim
	start_writer
	run timeout 20 env WB_HOOK=sleep:200 WB_CALLS=/dev/null "$WBD" read "$D/fifo"
	wait "$writer" 2>/dev/null || true
	[[ $status -eq 0 && $output == "wb_read $D/fifo -> 6 hello" ]] || { echo "control: $status $output"; return 1; }
	start_writer
	# the function does 200 ms of other work before its open
	WB_HOOK=sleep:200 run --separate-stderr timeout 20 env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$cfg" "$WBD" read "$D/fifo"
	kill "$writer" 2>/dev/null || true
	wait "$writer" 2>/dev/null || true
	[[ $status -ne 124 ]] || { echo "the call hung: the shim's open of the FIFO cut the writer off"; return 1; }
	expect "wb_read $D/fifo -> 6 hello" 1 || return 1
	[[ $stderr == *"not a regular file"* ]] || { echo "$stderr"; return 1; }
}

@test "file, file:content: a path missing (ENOENT) and one through a regular file (ENOTDIR) key apart: a hit gives the errno the real call gives" {
	for kind in file file:content; do
		: >"$WB_CALLS"
		cfg=$(read_cfg "errno-${kind/:/-}" "$kind")
		rm -rf "$D/x"
		wb "$cfg" read "$D/x/data.txt"
		expect "wb_read $D/x/data.txt -> -1 errno 2" 1 || return 1
		wb "$cfg" read "$D/x/data.txt"
		expect "wb_read $D/x/data.txt -> -1 errno 2" 1 || return 1
		# x is now a regular file: open gives ENOTDIR
		echo not-a-dir >"$D/x"
		settle
		wb "$cfg" read "$D/x/data.txt"
		expect "wb_read $D/x/data.txt -> -1 errno 20" 2 || return 1
		wb "$cfg" read "$D/x/data.txt"
		expect "wb_read $D/x/data.txt -> -1 errno 20" 2 || return 1
		hit_logged wb_read || return 1
		WB_NS=${WB_NS}x
	done
}

@test "file: a file this user cannot read keys apart from the same file readable: no user gets another's cached bytes" {
	[[ ${TXCACHE_ASAN:-} == 1 ]] && skip "the copies below are not the ASan build"
	command -v setpriv >/dev/null || skip "setpriv is not installed"
	[[ $(id -u) == 0 ]] || skip "needs root, to run a second user"
	TCP_DIR=$(mc_tmpdir)
	mc_start_tcp "$TCP_DIR"
	# what nobody runs and reads, in a world-readable directory (the bats
	# temp dir and the checkout may be private)
	SHARED=$(mktemp -d /tmp/txc-wb.XXXXXX)
	chmod 755 "$SHARED"
	cp -L "$SHIM" "$FIXTURES/libwb.so" "$WBD" "$SHARED/"
	: >"$SHARED/calls"
	chmod 666 "$SHARED/calls"
	printf '[cache]\nservers = %s\nnamespace = %s\n\n[function wb_read]\n%s\n' "$MC_SERVER" "$WB_NS" \
		'signature = int wb_read(file path, out string[cap] buf, size_t cap)' >"$SHARED/c.ini"
	chmod 644 "$SHARED/c.ini"
	printf topsecret >"$SHARED/secret.txt"
	chmod 600 "$SHARED/secret.txt" # root's: nobody's open fails with EACCES; its stat works
	settle
	as() {
		local who=()
		[[ $1 == root ]] || who=(setpriv --reuid=65534 --regid=65534 --clear-groups)
		run --separate-stderr "${who[@]}" env WB_CALLS="$SHARED/calls" LD_LIBRARY_PATH="$SHARED" \
			LD_PRELOAD="$SHARED/libtxcache.so" TXCACHE_CONFIG="$SHARED/c.ini" \
			"$SHARED/wb_driver" read "$SHARED/secret.txt"
		# make check-verify: a verified hit ran the real function too
		[[ $stderr != *"(verified)"* ]] || sed -i '$d' "$SHARED/calls"
	}
	n_calls() {
		[[ $(wc -l <"$SHARED/calls") -eq $1 ]] || { echo "expected $1 real calls: $stderr"; return 1; }
	}
	as root
	[[ $status -eq 0 && $output == "wb_read $SHARED/secret.txt -> 9 topsecret" ]] || { echo "root: $output $stderr"; return 1; }
	n_calls 1 || return 1
	# the same file, the same stat: but nobody's own call fails
	as nobody
	[[ $status -eq 0 && $output == "wb_read $SHARED/secret.txt -> -1 errno 13" ]] || {
		echo "nobody got: $output"
		echo "$stderr"
		return 1
	}
	n_calls 2 || return 1
	as root
	[[ $output == "wb_read $SHARED/secret.txt -> 9 topsecret" && $stderr == *"hit wb_read"* ]] || { echo "root again: $output $stderr"; return 1; }
	as nobody
	[[ $output == "wb_read $SHARED/secret.txt -> -1 errno 13" && $stderr == *"hit wb_read"* ]] || { echo "nobody again: $output $stderr"; return 1; }
	n_calls 2
}

@test "key_cwd: another thread chdir()s during the call: the result read in the new directory is not stored under the old" {
	mkdir "$D/d1" "$D/d2"
	printf in-d1 >"$D/d1/data.txt"
	printf in-d2 >"$D/d2/data.txt"
	cfg=$(read_cfg cwdrace string 'key_cwd = yes')
	cd "$D/d1"
	WB_HOOK=chdir:$D/d2 wb "$cfg" read data.txt
	expect "wb_read data.txt -> 5 in-d2" 1
	first=$stderr
	# no thread moves now: data.txt is d1's
	wb "$cfg" read data.txt
	expect "wb_read data.txt -> 5 in-d1" 2
	wb "$cfg" read data.txt
	expect "wb_read data.txt -> 5 in-d1" 2
	cd "$D"
	[[ $first == *"not stored"* ]] || { echo "stored: $first"; return 1; }
}

@test "key_env: another thread setenv()s during the call: the result of the new value is not stored under the old" {
	cfg=$(wb_config envrace 'key_env = WB_VAR' <<'EOF'
[function wb_env]
signature = int wb_env(out string[cap] buf, size_t cap)
EOF
	)
	WB_VAR=one WB_HOOK=setenv:WB_VAR=two wb "$cfg" env
	expect "wb_env WB_VAR -> 3 two" 1
	first=$stderr
	WB_VAR=one wb "$cfg" env
	expect "wb_env WB_VAR -> 3 one" 2
	WB_VAR=one wb "$cfg" env
	expect "wb_env WB_VAR -> 3 one" 2
	[[ $first == *"not stored"* ]] || { echo "stored: $first"; return 1; }
}

@test "file: bytes written through a shared mapping change no time: the file's old result is served" {
	[[ ${WB_RUN_BREAKS:-} == 1 ]] ||
		skip "BREAK: file trusts stat; a write through a MAP_SHARED mapping to a page already dirty updates no time (use file:content)"
	cfg=$(read_cfg mmap file)
	printf 'AAAA' >"$D/m.dat"
	mkdir "$D/sync"
	"$FIXTURES/wb_mmapw" "$D/m.dat" "$D/sync" BBBB CCCC &
	writer=$!
	wait_until test -e "$D/sync/ready1" || { kill "$writer"; echo "the writer never wrote"; return 1; }
	settle
	wb "$cfg" read "$D/m.dat" "$D/m.dat"
	expect "wb_read $D/m.dat -> 4 BBBB"$'\n'"wb_read $D/m.dat -> 4 BBBB" 1 || { kill "$writer"; return 1; }
	before=$(stat -c '%i %s %Y.%y %Z.%z' "$D/m.dat")
	touch "$D/sync/go1"
	wait_until test -e "$D/sync/ready2" || { kill "$writer"; echo "the writer never wrote again"; return 1; }
	after=$(stat -c '%i %s %Y.%y %Z.%z' "$D/m.dat")
	wb "$cfg" read "$D/m.dat"
	touch "$D/sync/go2"
	wait "$writer"
	echo "stat before the second write: $before; after: $after"
	expect "wb_read $D/m.dat -> 4 CCCC" 2
}

@test "key_locale = yes: a program that picks its locale with setlocale(LC_ALL, NAME) is keyed by it (key_env = LANG is not)" {
	unset LC_ALL LC_CTYPE
	# key_env = LANG alone: the program chose C.UTF-8 itself and got another
	# program's ANSI_X3.4-1968 (the break this test was written for)
	cfg=$(wb_config locale <<'EOF'
[function wb_codeset]
signature = int wb_codeset(out string[cap] buf, size_t cap)
key_locale = yes
EOF
	)
	for round in 1 2; do
		LANG=C wb "$cfg" codeset
		expect "wb_codeset - -> 14 ANSI_X3.4-1968" 2 || [[ $round == 1 ]] || return 1
		LANG=C wb "$cfg" codeset C.UTF-8
		expect "wb_codeset C.UTF-8 -> 5 UTF-8" 2 || return 1
	done
	# txcache key keys the locale setlocale(LC_ALL, "") picks from its
	# environment: the key of a program that does that at start
	for l in C.UTF-8 C; do
		LANG=$l wb "$cfg" codeset ''
		[[ $stderr =~ (hit|miss)\ wb_codeset\ ([^[:space:]]+) ]] || { echo "no key logged: $stderr"; return 1; }
		k=${BASH_REMATCH[2]}
		LANG=$l run_txcache key -c "$cfg" wb_codeset 256
		[[ $status -eq 0 && $output == "$k" ]] || { echo "LANG=$l: cli '$output' ($status), shim '$k'"; return 1; }
	done
}

# ---- cases that held: kept where they guard a claim of the README ----

@test "file: a symlink loop keys as such (ELOOP, cached); the link repointed at a file changes the key (guards: the errno key)" {
	cfg=$(read_cfg loop file)
	ln -s "$D/l2" "$D/l1"
	ln -s "$D/l1" "$D/l2"
	wb "$cfg" read "$D/l1" "$D/l1"
	expect "wb_read $D/l1 -> -1 errno 40"$'\n'"wb_read $D/l1 -> -1 errno 40" 1
	printf real >"$D/t.txt"
	ln -sfn "$D/t.txt" "$D/l1"
	settle
	wb "$cfg" read "$D/l1" "$D/l1"
	expect "wb_read $D/l1 -> 4 real"$'\n'"wb_read $D/l1 -> 4 real" 2
}

@test "file:content: bytes written through a shared mapping are seen (guards: the content is hashed, not its stat)" {
	cfg=$(read_cfg mmap-content file:content)
	printf 'AAAA' >"$D/m.dat"
	mkdir "$D/sync"
	"$FIXTURES/wb_mmapw" "$D/m.dat" "$D/sync" BBBB CCCC &
	writer=$!
	wait_until test -e "$D/sync/ready1" || { kill "$writer"; echo "the writer never wrote"; return 1; }
	wb "$cfg" read "$D/m.dat" "$D/m.dat"
	expect "wb_read $D/m.dat -> 4 BBBB"$'\n'"wb_read $D/m.dat -> 4 BBBB" 1 || { kill "$writer"; return 1; }
	touch "$D/sync/go1"
	wait_until test -e "$D/sync/ready2" || { kill "$writer"; echo "the writer never wrote again"; return 1; }
	wb "$cfg" read "$D/m.dat"
	touch "$D/sync/go2"
	wait "$writer"
	expect "wb_read $D/m.dat -> 4 CCCC" 2
}

@test "file:content: a /proc file (size 0 in stat) is keyed by the bytes it reads (guards README: /proc wants file:content)" {
	cfg=$(read_cfg proc file:content)
	proc_run() {
		local before
		before=$(calls)
		run --separate-stderr env -i WB_X="$1" WB_CALLS="$WB_CALLS" TXCACHE_LOG=info \
			LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$cfg" "$WBD" read /proc/self/environ
		for fn in $(sed -n 's/^txcache: hit \([^ ]*\) .* (verified)$/\1/p' <<<"$stderr"); do
			unlog "$fn" "$before"
		done
	}
	proc_run 1
	[[ $output == "wb_read /proc/self/environ -> "*" WB_X=1|"* ]] || { echo "$output"; return 1; }
	proc_run 2
	[[ $output == "wb_read /proc/self/environ -> "*" WB_X=2|"* ]] || { echo "a hit of the other environ: $output $stderr"; return 1; }
	proc_run 1
	[[ $output == "wb_read /proc/self/environ -> "*" WB_X=1|"* ]] || { echo "$output"; return 1; }
	hit_logged wb_read
	[[ $(calls) -eq 2 ]]
}

@test "key_env: a megabyte value and binary bytes key by every byte (guards: no value is cut short)" {
	cfg=$(wb_config envbig 'key_env = WB_VAR' <<'EOF'
[function wb_env]
signature = int wb_env(out string[cap] buf, size_t cap)
EOF
	)
	tail=$(printf 'x%.0s' {1..254})
	# set by the program itself: execve refuses a string over 128 KiB
	wb "$cfg" envbig 2000000 a
	expect "wb_env big -> 2000001 ${tail}a" 1
	wb "$cfg" envbig 2000000 b
	expect "wb_env big -> 2000001 ${tail}b" 2
	wb "$cfg" envbig 2000000 a
	expect "wb_env big -> 2000001 ${tail}a" 2
	hit_logged wb_env
	n=2
	for v in $'\x01\xff\xfe' $'\x01\xff\xfd' $'\t =;\x7f'; do
		WB_VAR=$v wb "$cfg" env
		expect "wb_env WB_VAR -> ${#v} $v" $((++n)) || return 1
	done
	WB_VAR=$'\x01\xff\xfd' wb "$cfg" env
	expect "wb_env WB_VAR -> 3 "$'\x01\xff\xfd' 5
}

@test "near cache (local_ttl): a file rewritten between two calls of one process is a miss (guards: the near key has the world)" {
	cfg=$(wb_config near <<'EOF'
[function wb_read]
signature = int wb_read(file:content path, out string[cap] buf, size_t cap)
local_ttl = 60
EOF
	)
	printf one >"$D/n.txt"
	wb "$cfg" rewrite "$D/n.txt" two
	expect "wb_read $D/n.txt -> 3 one"$'\n'"wb_read $D/n.txt -> 3 two" 2
	printf one >"$D/n.txt"
	wb "$cfg" rewrite "$D/n.txt" two
	expect "wb_read $D/n.txt -> 3 one"$'\n'"wb_read $D/n.txt -> 3 two" 2
}
