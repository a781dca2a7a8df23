#!/usr/bin/env bats
# Modules loaded later (issue 15, point 4). python3 reaches EVP_PBE_scrypt
# only from its _hashlib extension module, which it dlopen()s: `check
# PROGRAM` reads only what loads at start, the shim patches the module as it
# is loaded. check must not call that "not interceptable", the shim must log
# each later module, and `check --run` must report what a run redirected.
# The bind fixture (tests/fixtures/bind.mk) is the same case without
# Python: its plugin, dlopen()ed by "plugin X", imports bind_slow.

load helpers
load kinds_helpers
load interpose_helpers

setup_file() {
	kinds_setup_file
}

teardown_file() {
	kinds_teardown_file
}

setup() {
	bind_setup
	PY=/usr/bin/python3.11
	BIND=$FIXTURES/bind_now_pie_full
	PLUG=$FIXTURES/libbindplug_now_pie_full.so
	HASHLIB_RE='/.*/lib-dynload/_hashlib\.[^ /]*\.so'
	# check --run adds the shim after what LD_PRELOAD holds: under make asan
	# the ASan runtime must come first
	ASAN_PRE=()
	[[ ${TXCACHE_ASAN:-} != 1 ]] || ASAN_PRE=(LD_PRELOAD="$TXC_LIBASAN")
}

need_python() {
	[[ -x $PY ]] || skip "Debian's python3.11 is not installed"
	"$PY" -c 'import _hashlib' 2>/dev/null || skip "python3 has no _hashlib"
}

# EVP_PBE_scrypt (reached only from _hashlib) and tgamma (never called).
scrypt_config() {
	kinds_config "$1" <<'EOF2'
[function EVP_PBE_scrypt]
signature = int EVP_PBE_scrypt(bytes[passlen] pass, size_t passlen, bytes[saltlen] salt, size_t saltlen, uint64_t N, uint64_t r, uint64_t p, uint64_t maxmem, out bytes[keylen] key, size_t keylen)
cache_if = ret == 1

[function tgamma]
signature = double tgamma(double x)
EOF2
}

SCRYPT='import hashlib, sys
print(hashlib.scrypt(sys.argv[1].encode(), salt=b"saltsalt", n=1024, r=8, p=1, dklen=32).hex())
sys.exit(int(sys.argv[2]))'

bind_tgamma_config() {
	bind_config <<'EOF2'
[function tgamma]
signature = double tgamma(double x)
EOF2
}

@test "check PROGRAM: a function only a dlopen()ed module imports is 'not seen at start', not 'not interceptable'" {
	need_python
	kinds_exec "$TXCACHE" check -c "$(scrypt_config check)" "$PY"
	expect_status 1 || return 1
	[[ $output == *"EVP_PBE_scrypt: not seen at start: may be imported by a library loaded later (dlopen)"* ]] ||
		{ kinds_fail "no 'not seen at start' for EVP_PBE_scrypt"; return 1; }
	[[ $output != *"not interceptable"* ]] || { kinds_fail "says 'not interceptable'"; return 1; }
	[[ $output == *"0 of 2 configured functions can be intercepted in $PY at start (txcache check --run tells what a run redirects)"* ]] ||
		{ kinds_fail "no summary pointing at check --run"; return 1; }
	# yet the run caches it: the first call stores, the second hits
	local cfg
	cfg=$(scrypt_config run)
	kinds_exec_shim "$cfg" "$PY" -c "$SCRYPT" pw 0
	expect_status 0 || return 1
	[[ $stderr =~ txcache:\ miss\ EVP_PBE_scrypt ]] || { kinds_fail "no stored call"; return 1; }
	kinds_exec_shim "$cfg" "$PY" -c "$SCRYPT" pw 0
	[[ $stderr =~ txcache:\ hit\ EVP_PBE_scrypt ]] || { kinds_fail "no hit"; return 1; }
}

@test "log = info: each module patched after a dlopen has its own line (python3's _hashlib)" {
	need_python
	kinds_exec_shim "$(scrypt_config log)" "$PY" -c "$SCRYPT" pw 0
	expect_status 0 || return 1
	grep -qx 'txcache: 2 functions configured, 0 call sites redirected' <<<"$stderr" ||
		{ kinds_fail "no start line"; return 1; }
	grep -qxE "txcache: redirected 1 call site in $HASHLIB_RE \(loaded later\)" <<<"$stderr" ||
		{ kinds_fail "no info line for _hashlib"; return 1; }
	# at log = warn (the default) the line is not there
	TXCACHE_LOG=warn kinds_exec_shim "$(scrypt_config warn)" "$PY" -c "$SCRYPT" pw 0
	[[ $stderr != *"redirected"* ]] || { kinds_fail "logged at warn"; return 1; }
}

@test "log = info: a fixture plugin dlopen()ed later gets its line; the program's start is counted apart" {
	kinds_exec_shim "$(bind_config </dev/null)" "$BIND" plt 1 plugin 5
	expect_status 0 || return 1
	grep -qx 'txcache: 1 functions configured, 1 call sites redirected' <<<"$stderr" ||
		{ kinds_fail "no start line"; return 1; }
	grep -qxF "txcache: redirected 1 call site in $PLUG (loaded later)" <<<"$stderr" ||
		{ kinds_fail "no info line for the plugin"; return 1; }
	[[ $(grep -c 'loaded later' <<<"$stderr") -eq 1 ]] || { kinds_fail "more than one later line"; return 1; }
}

@test "check --run: python3 lists _hashlib (loaded later) with its count, tgamma as never redirected; output and status are the program's" {
	need_python
	kinds_exec "$PY" -c "$SCRYPT" pw2 3
	expect_status 3 || return 1
	kinds_keep_ref
	kinds_exec env "${ASAN_PRE[@]}" "$TXCACHE" check --run -c "$(scrypt_config crun)" -- "$PY" -c "$SCRYPT" pw2 3
	assert_same_as_plain || return 1
	grep -qxE "txcache check: process [0-9]+ \(${PY//./\\.}\):" <<<"$stderr" ||
		{ kinds_fail "no process line"; return 1; }
	grep -qxE "txcache check:   $HASHLIB_RE \(loaded later\): 1 call site: EVP_PBE_scrypt 1" <<<"$stderr" ||
		{ kinds_fail "no _hashlib line"; return 1; }
	grep -qxF "txcache check: never redirected: tgamma" <<<"$stderr" ||
		{ kinds_fail "tgamma not listed as never redirected"; return 1; }
	grep -qxF "txcache check: 1 of 2 configured functions redirected in 1 process" <<<"$stderr" ||
		{ kinds_fail "no summary"; return 1; }
	# the shim's report file is gone, and it was private
	[[ $(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'txcache-check.*' -user "$(id -u)" -newer "$KINDS_CALLS" | wc -l) -eq 0 ]] ||
		{ kinds_fail "report directory left behind"; return 1; }
}

@test "check --run: the fixture's program at start, its plugin loaded later, its dlsym, and a never-redirected function" {
	kinds_exec "$BIND" plt 1 dlsym 3 plugin 5
	expect_status 0 || return 1
	kinds_keep_ref
	kinds_exec env "${ASAN_PRE[@]}" "$TXCACHE" check --run -c "$(bind_tgamma_config)" -- "$BIND" plt 1 dlsym 3 plugin 5
	assert_same_as_plain || return 1
	local want
	for want in "txcache check:   $BIND (at start): 1 call site: bind_slow 1" \
		"txcache check:   $PLUG (loaded later): 1 call site: bind_slow 1" \
		"txcache check:   $BIND: its dlsym got bind_slow (the cached closure)" \
		"txcache check: never redirected: tgamma" \
		"txcache check: 1 of 2 configured functions redirected in 1 process"; do
		grep -qxF "$want" <<<"$stderr" || { kinds_fail "missing: $want"; return 1; }
	done
}

@test "check --run: a shim that did not start reports nothing, and says so" {
	kinds_exec env "${ASAN_PRE[@]}" TXCACHE_DISABLE=1 "$TXCACHE" check --run -c "$(bind_tgamma_config)" -- "$BIND" plt 1
	expect_status 0 || return 1
	[[ $output == "plt 1 = 8" ]] || { kinds_fail "program output changed"; return 1; }
	grep -qF "txcache check: the shim reported nothing: it did not start" <<<"$stderr" ||
		{ kinds_fail "no 'reported nothing' line"; return 1; }
	[[ $stderr != *"never redirected"* ]] || { kinds_fail "claims a verdict without a report"; return 1; }
}

@test "check --run: usage errors" {
	kinds_exec env "${ASAN_PRE[@]}" "$TXCACHE" check --run -c "$(bind_tgamma_config)"
	expect_status 64 || return 1
	[[ $stderr == *"no PROGRAM given"* ]] || { kinds_fail "no usage message"; return 1; }
	# -c before --run works the same
	kinds_exec env "${ASAN_PRE[@]}" "$TXCACHE" check -c "$(bind_tgamma_config)" --run -- "$BIND" plt 1
	expect_status 0 || return 1
	[[ $stderr == *"txcache check: 1 of 2 configured functions redirected in 1 process"* ]] ||
		{ kinds_fail "no report"; return 1; }
}

@test "TXCACHE_REPORT: the shim appends only to an existing regular file: never creates one, never follows a link" {
	local cfg missing=$BATS_TEST_TMPDIR/missing target=$BATS_TEST_TMPDIR/target link=$BATS_TEST_TMPDIR/link
	cfg=$(bind_config </dev/null)
	TXCACHE_REPORT=$missing kinds_exec_shim "$cfg" "$BIND" plt 1
	expect_status 0 || return 1
	[[ ! -e $missing ]] || { kinds_fail "the shim created the report file"; return 1; }
	[[ $stderr == *"TXCACHE_REPORT $missing: not an existing regular file"* ]] ||
		{ kinds_fail "no warning"; return 1; }
	: >"$target"
	ln -s "$target" "$link"
	TXCACHE_REPORT=$link kinds_exec_shim "$cfg" "$BIND" plt 1
	[[ ! -s $target ]] || { kinds_fail "the shim followed the link"; return 1; }
	TXCACHE_REPORT=$target kinds_exec_shim "$cfg" "$BIND" plt 1
	grep -qE "^R	[0-9]+	start	1	bind_slow	\$" "$target" ||
		{ kinds_fail "no R line for the program in $target: $(cat "$target")"; return 1; }
}
