#!/usr/bin/env bats
# Which definition answered: a key covers the defining library, its build
# and the symbol version (shim/ident.h), and invalidations reach every
# definition through the identity registry (shim/idreg.h), from processes
# that never load the library. And the symptr kind: a pointer keyed by where
# it points (shim/symptr.h). Fixtures: tests/fixtures/ident.mk.

load helpers
load kinds_helpers

setup_file() {
	kinds_setup_file
	local f
	for f in ident_p1 ident_p2 ident_vnew ident_vold ident_mut ident_tab ident_v2/libidA.so; do
		[[ -e $FIXTURES/$f ]] || {
			echo "missing $FIXTURES/$f" >&2
			return 1
		}
	done
}

teardown_file() {
	kinds_teardown_file
}

setup() {
	kinds_setup
	export IDENT_STATE=$BATS_TEST_TMPDIR/state IDENT_CALLS=$BATS_TEST_TMPDIR/idcalls
	echo 0 >"$IDENT_STATE"
	: >"$IDENT_CALLS"
	CFG=$(kinds_config ident 'stats_interval = 0' <<'EOF'
[function calc]
signature = int calc(int x)
[function ident_set]
signature   = int ident_set(int x, int v)
invalidates = calc(x)
EOF
	)
}

# run_id CFG PROGRAM ARG...: PROGRAM under the shim (kinds_exec_shim).
run_id() {
	local cfg=$1 prog=$2
	shift 2
	kinds_exec_shim "$cfg" "$FIXTURES/$prog" "$@"
	[[ $status -eq 0 ]] || kinds_fail "$prog exited $status"
}

# real_calls: the number of real calc/ident_sum calls so far.
real_calls() {
	local -a l=()
	mapfile -t l <"$IDENT_CALLS"
	echo "${#l[@]}"
}

expect_calls() {
	local n
	n=$(real_calls)
	[[ $n -eq $1 ]] || kinds_fail "expected $1 real calls so far, found $n${2:+ ($2)}"
}

@test "libA's calc and libB's calc never share a result" {
	# counts real calls exactly: verification would add its own
	export TXCACHE_VERIFY=0
	run_id "$CFG" ident_p1 5 || return
	expect_out "calc(5)=50" || return
	run_id "$CFG" ident_p1 5 || return
	expect_out "calc(5)=50" || return
	assert_log hit calc || return
	run_id "$CFG" ident_p2 5 || return
	expect_out "calc(5)=100" || return
	assert_log miss calc || return
	run_id "$CFG" ident_p2 5 || return
	expect_out "calc(5)=100" || return
	assert_log hit calc || return
	expect_calls 2 "one real call per library"
}

@test "two versions of one symbol (calc@IDV_1, calc@@IDV_2) keep their own results" {
	run_id "$CFG" ident_vnew 5 || return
	expect_out "calc(5)=7" || return
	run_id "$CFG" ident_vold 5 || return
	expect_out "calc(5)=6" || return
	assert_log miss calc || return
	run_id "$CFG" ident_vold 5 || return
	expect_out "calc(5)=6" || return
	assert_log hit calc || return
	run_id "$CFG" ident_vnew 5 || return
	expect_out "calc(5)=7" || return
	assert_log hit calc
}

@test "glibc's exp@GLIBC_2.2.5 and exp@@GLIBC_2.29 key apart" {
	[[ -x $FIXTURES/ident_exp_old ]] || skip "x86-64 only (glibc's old exp version)"
	local cfg k1 k2 pinned libm
	cfg=$(kinds_config exp <<'EOF'
[function exp]
signature = double exp(double x)
EOF
	)
	run_id "$cfg" ident_exp_new 1 || return
	k1=$(sed -n 's/^txcache: miss exp \([^ ]*\).*/\1/p' <<<"$stderr")
	run_id "$cfg" ident_exp_old 1 || return
	k2=$(sed -n 's/^txcache: miss exp \([^ ]*\).*/\1/p' <<<"$stderr")
	[[ -n $k1 && -n $k2 && $k1 != "$k2" ]] ||
		kinds_fail "the old exp should miss under its own key (new '$k1', old '$k2')" || return
	run_id "$cfg" ident_exp_old 1 || return
	assert_log hit exp || return
	# the CLI computes each key from the library file and the version
	pinned=$(kinds_config expv <<'EOF'
[function exp]
signature = double exp(double x)
version = GLIBC_2.2.5
EOF
	)
	libm=$(ldd "$FIXTURES/ident_exp_old" | sed -n 's/.*libm\.so\.6 => \([^ ]*\).*/\1/p')
	kinds_exec "$TXCACHE" key -c "$cfg" --library "$libm" exp 1
	[[ $status -eq 0 && $output == "$k1" ]] ||
		kinds_fail "txcache key --library libm: want $k1" || return
	kinds_exec "$TXCACHE" key -c "$pinned" --library "$libm" exp 1
	[[ $status -eq 0 && $output == "$k2" ]] ||
		kinds_fail "txcache key --library libm with version = GLIBC_2.2.5: want $k2"
}

@test "a rebuilt library (another build-id) misses; identity = soname shares across builds" {
	# identity = soname serves build 1's value to build 2 on purpose: a
	# verified hit would rightly report the difference
	export TXCACHE_VERIFY=0
	run_id "$CFG" ident_p1 5 || return
	expect_out "calc(5)=50" || return
	# the upgrade: same soname, other code
	LD_LIBRARY_PATH=$FIXTURES/ident_v2 run_id "$CFG" ident_p1 5 || return
	expect_out "calc(5)=55" || return
	assert_log miss calc || return
	LD_LIBRARY_PATH=$FIXTURES/ident_v2 run_id "$CFG" ident_p1 5 || return
	expect_out "calc(5)=55" || return
	assert_log hit calc || return
	# the fleet's choice: the soname alone, per function or for the cache
	local weak
	weak=$(KINDS_NS=${KINDS_NS}w kinds_config weak 'identity = soname' <<'EOF'
[function calc]
signature = int calc(int x)
EOF
	)
	run_id "$weak" ident_p1 5 || return
	expect_out "calc(5)=50" || return
	LD_LIBRARY_PATH=$FIXTURES/ident_v2 run_id "$weak" ident_p1 5 || return
	expect_out "calc(5)=50" || kinds_fail "identity = soname: build 2 should be served build 1's value"
}

@test "an invalidation reaches both libraries from a mutator that loads neither" {
	run_id "$CFG" ident_p1 5 || return
	expect_out "calc(5)=50" || return
	run_id "$CFG" ident_p2 5 || return
	expect_out "calc(5)=100" || return
	run_id "$CFG" ident_mut 5 7 || return
	[[ $stderr == *"invalidate after ident_set"* ]] || kinds_fail "no invalidation logged" || return
	run_id "$CFG" ident_p1 5 || return
	expect_out "calc(5)=57" || return
	run_id "$CFG" ident_p2 5 || return
	expect_out "calc(5)=107" || return
	expect_calls 4
}

@test "txcache_invalidate() reaches both libraries from a program that loads neither" {
	[[ -x $FIXTURES/api_driver ]] || skip "no api_driver"
	run_id "$CFG" ident_p1 5 || return
	run_id "$CFG" ident_p2 5 || return
	expect_out "calc(5)=100" || return
	echo 2 >"$IDENT_STATE"
	local -a pre=() # an ASan-built driver needs its runtime first
	[[ ${TXCACHE_ASAN:-} != 1 ]] || pre=(LD_PRELOAD="$TXC_LIBASAN")
	kinds_exec env "${pre[@]}" TXCACHE_CONFIG="$CFG" "$FIXTURES/api_driver" inval-calc 5
	expect_status 0 || return
	run_id "$CFG" ident_p1 5 || return
	expect_out "calc(5)=52" || return
	run_id "$CFG" ident_p2 5 || return
	expect_out "calc(5)=102"
}

@test "txcache key lists every definition; delete drops all; --library picks one" {
	run_id "$CFG" ident_p1 5 || return
	local k1
	k1=$(sed -n 's/^txcache: miss calc \([^ ]*\).*/\1/p' <<<"$stderr")
	run_id "$CFG" ident_p2 5 || return
	local k2
	k2=$(sed -n 's/^txcache: miss calc \([^ ]*\).*/\1/p' <<<"$stderr")
	[[ -n $k1 && -n $k2 && $k1 != "$k2" ]] || kinds_fail "keys '$k1' and '$k2'" || return
	kinds_exec "$TXCACHE" key -c "$CFG" calc 5
	expect_status 0 || return
	[[ $output == *"$k1 lib=libidA.so build-id="* && $output == *"$k2 lib=libidB.so build-id="* ]] ||
		kinds_fail "txcache key should list both keys with their definitions" || return
	kinds_exec "$TXCACHE" key -c "$CFG" --library "$FIXTURES/libidB.so" calc 5
	[[ $status -eq 0 && $output == "$k2" ]] || kinds_fail "--library libidB.so: want $k2" || return
	kinds_exec "$TXCACHE" get -c "$CFG" calc 5
	expect_status 64 || return
	kinds_exec "$TXCACHE" get -c "$CFG" --library "$FIXTURES/libidA.so" calc 5
	expect_status 0 || return
	expect_out "ret = 50" || return
	kinds_exec "$TXCACHE" delete -c "$CFG" calc 5
	expect_status 0 || return
	echo 3 >"$IDENT_STATE"
	run_id "$CFG" ident_p1 5 || return
	expect_out "calc(5)=53" || return
	run_id "$CFG" ident_p2 5 || return
	expect_out "calc(5)=103"
}

@test "a missing identity registry makes an invalidation bump the generation" {
	run_id "$CFG" ident_p1 5 || return
	memcrm --servers="$MC_SOCK" "$KINDS_NS:calc:ids" ||
		kinds_fail "no registry $KINDS_NS:calc:ids after a stored miss" || return
	run_id "$CFG" ident_mut 5 9 || return
	run_id "$CFG" ident_p1 5 || return
	expect_out "calc(5)=59"
}

@test "a live process whose registry was evicted and remade registers again before it stores" {
	local ready=$BATS_TEST_TMPDIR/ready go=$BATS_TEST_TMPDIR/go out=$BATS_TEST_TMPDIR/p1.out
	# P1 stores calc(5) (registering libA), then waits
	LD_PRELOAD=$KINDS_PRELOAD TXCACHE_CONFIG=$CFG "$FIXTURES/ident_p1" 5 "touch:$ready" \
		"wait:$go" 6 >"$out" 2>&1 3>&- &
	local pid=$! t
	for ((t = 0; t < 600; t++)); do
		[[ ! -e $ready ]] || break
		sleep 0.1
	done
	[[ -e $ready ]] || kinds_fail "P1 did not get past calc(5)" || return
	# the registry is lost; P2 makes a new one that lists only libB
	memcrm --servers="$MC_SOCK" "$KINDS_NS:calc:ids" ||
		kinds_fail "no registry after P1's miss" || return
	run_id "$CFG" ident_p2 5 || return
	touch "$go"
	wait "$pid" || kinds_fail "P1 failed: $(cat "$out")" || return
	[[ $(cat "$out") == *"calc(6)=60"* ]] || kinds_fail "P1: $(cat "$out")" || return
	# P1's calc(6) must be reachable by the invalidation
	run_id "$CFG" ident_mut 6 4 || return
	run_id "$CFG" ident_p1 6 || return
	expect_out "calc(6)=64"
}

@test "symptr keys a pointer by the library place it names; a plain ptr shares one result" {
	# the plain ptr case serves a wrong value on purpose (what symptr fixes)
	export TXCACHE_VERIFY=0
	local sp pp
	sp=$(kinds_config sym <<'EOF'
[function ident_sum]
signature = int ident_sum(symptr tab, int n)
EOF
	)
	run_id "$sp" ident_tab a b x y +a a b x y +a || return
	expect_out $'sum(a)=10\nsum(b)=100\nsum(x)=1000\nsum(y)=10000\nsum(+a)=9\nsum(a)=10\nsum(b)=100\nsum(x)=1000\nsum(y)=10000\nsum(+a)=9' || return
	expect_calls 5 "each place once, then hits" || return
	# a heap pointer names nothing: every call is real, and counted
	run_id "$sp" ident_tab h h || return
	expect_out $'sum(h)=10\nsum(h)=10' || return
	expect_calls 7 || return
	[[ $stderr == *"symptr argument points into no library"* ]] || kinds_fail "not logged" || return
	kinds_exec "$TXCACHE" key -c "$sp" ident_sum "libidtab.so:ident_tab_x+0x0" 4
	expect_status 0 || return
	[[ $output == "$KINDS_NS:ident_sum:"* ]] || kinds_fail "no key for a symptr text" || return
	# the same function with ptr: the wrong hit this kind exists to prevent
	pp=$(KINDS_NS=${KINDS_NS}p kinds_config ptr <<'EOF'
[function ident_sum]
signature = int ident_sum(ptr tab, int n)
EOF
	)
	run_id "$pp" ident_tab a b || return
	[[ $output == $'sum(a)=10\nsum(b)=10' ]] || kinds_fail "expected ptr to share one result"
}

@test "txcache check warns for every plain ptr parameter" {
	local pp
	pp=$(kinds_config chk <<'EOF'
[function ident_sum]
signature = int ident_sum(ptr tab, int n)
[function calc]
signature = int calc(int x)
EOF
	)
	kinds_exec "$TXCACHE" check -c "$pp"
	expect_status 0 || return
	[[ $stderr == *"warning: ident_sum: parameter 1 (tab) is a plain ptr: a pointer that is not keyed must not change the result and must not be written by the function"* ]] ||
		kinds_fail "no warning for ptr tab" || return
	[[ $stderr != *"calc"* ]] || kinds_fail "calc has no ptr"
	kinds_exec "$TXCACHE" check -c "$pp" "$FIXTURES/ident_tab"
	[[ $stderr == *"parameter 1 (tab) is a plain ptr"* ]] || kinds_fail "no warning against a program"
}

# OpenSSL 3 fetches the EVP_MD it passes (EVP_MD_fetch: heap memory), so the
# digest pointer names no library place: each call runs for real and the
# answer stays right. (With `ptr digest` the sha512 run was served sha256's
# key and IV.)
@test "openssl enc -pbkdf2 with symptr digest: -md sha256 and -md sha512 never share a key" {
	command -v openssl >/dev/null || skip "openssl not installed"
	local cfg
	cfg=$(kinds_config ossl <<'EOF'
[function PKCS5_PBKDF2_HMAC]
signature = int PKCS5_PBKDF2_HMAC(bytes[passlen] pass, int passlen, bytes[saltlen] salt, int saltlen, int iter, symptr digest, int keylen, out bytes[keylen] key)
cache_if  = ret == 1
EOF
	)
	local md plain cached
	for md in sha256 sha512 sha256 sha512; do
		plain=$(openssl enc -aes-256-cbc -pbkdf2 -md "$md" -k secret -S 0102030405060708 -P)
		kinds_exec_shim "$cfg" openssl enc -aes-256-cbc -pbkdf2 -md "$md" -k secret \
			-S 0102030405060708 -P
		[[ $status -eq 0 && $output == "$plain" ]] ||
			kinds_fail "-md $md: cached run printed another key/iv than the plain run" || return
	done
	[[ $stderr == *"PKCS5_PBKDF2_HMAC: a symptr argument points into no library"* ]] ||
		kinds_fail "the fetched EVP_MD should be reported as naming no library"
}
