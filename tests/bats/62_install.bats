#!/usr/bin/env bats
# make install / make uninstall into a DESTDIR, and a program built against
# the installed tree with pkg-config that caches and invalidates for real.

load helpers
load kinds_helpers

setup_file() {
	kinds_setup_file
	export STAGE=$BATS_FILE_TMPDIR/stage INST_PREFIX=/opt/txc
	# The install copies what `make all` built into $BUILD; nothing is rebuilt.
	make -C "$TXC_ROOT" --no-print-directory -s BUILD="$BUILD" DESTDIR="$STAGE" \
		PREFIX="$INST_PREFIX" install >"$BATS_FILE_TMPDIR/install.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/install.log" >&2; return 1; }
}

teardown_file() {
	kinds_teardown_file
}

setup() {
	kinds_setup
	ROOT=$STAGE$INST_PREFIX
}

@test "make install puts every file under DESTDIR/PREFIX, the library with its soname" {
	local f
	for f in bin/txcache lib/libtxcache.so.0 lib/libtxcache.so include/txcache.h \
		lib/pkgconfig/txcache.pc share/man/man1/txcache.1 share/man/man5/txcache.ini.5; do
		[[ -e $ROOT/$f ]] || kinds_fail "missing $ROOT/$f"
	done
	[[ -L $ROOT/lib/libtxcache.so && $(readlink "$ROOT/lib/libtxcache.so") == libtxcache.so.0 ]] ||
		kinds_fail "libtxcache.so is not a link to libtxcache.so.0"
	readelf -d "$ROOT/lib/libtxcache.so.0" | grep -q 'SONAME.*\[libtxcache.so.0\]' ||
		kinds_fail "wrong soname"
	grep -qx "prefix=$INST_PREFIX" "$ROOT/lib/pkgconfig/txcache.pc" || kinds_fail "pc prefix"
	# nothing escaped the staging directory
	[[ ! -e $INST_PREFIX ]] || kinds_fail "$INST_PREFIX exists outside DESTDIR"
	kinds_exec "$ROOT/bin/txcache" --help
	expect_status 0
	grep -q '^\.TH TXCACHE 1' "$ROOT/share/man/man1/txcache.1" || kinds_fail "man page"
}

@test "a program built with pkg-config against the installed tree uses the API" {
	local pc
	pc=$(PKG_CONFIG_PATH=$ROOT/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$STAGE \
		pkg-config --cflags --libs txcache)
	[[ $pc == *"-I$ROOT/include"* && $pc == *"-L$ROOT/lib"* && $pc == *-ltxcache* ]] ||
		kinds_fail "pkg-config said: $pc"
	cat >"$BATS_TEST_TMPDIR/p.c" <<'EOF'
#include <stdio.h>
#include <txcache.h>
int k_greet(const char *, char *, size_t);
int main(void)
{
	char key[256], buf[32];
	int rc = txcache_key(key, sizeof(key), "k_greet", "ivy", (size_t)32);
	printf("%d %s\n", rc, rc ? txcache_strerror(rc) : key);
	k_greet("ivy", buf, sizeof(buf));
	printf("%s\n", buf);
	return txcache_invalidate("k_greet", "ivy", (size_t)32) != 0;
}
EOF
	# shellcheck disable=SC2086 # pkg-config output is words
	cc -o "$BATS_TEST_TMPDIR/p" "$BATS_TEST_TMPDIR/p.c" $pc -Wl,-rpath,"$ROOT/lib" \
		-L"$FIXTURES" -lkinds -Wl,-rpath,"$FIXTURES" || kinds_fail "build failed"
	readelf -d "$BATS_TEST_TMPDIR/p" | grep -q 'NEEDED.*\[libtxcache.so.0\]' ||
		kinds_fail "not linked against the soname"
	local cfg
	cfg=$(kinds_config p <<'EOF'
[function k_greet]
signature = int k_greet(string name, out string[cap] buf, size_t cap)
EOF
	)
	local -a pre=()
	[[ ${TXCACHE_ASAN:-} != 1 ]] || pre=(LD_PRELOAD="$TXC_LIBASAN")
	kinds_exec env "${pre[@]}" TXCACHE_CONFIG="$cfg" TXCACHE_LOG=info "$BATS_TEST_TMPDIR/p"
	expect_status 0
	local key
	key=$(sed -n 1p <<<"$output")
	[[ $key == "0 $KINDS_NS:k_greet:"* ]] || kinds_fail "txcache_key failed"
	[[ $stderr == *"txcache: miss k_greet ${key#0 }"* ]] ||
		kinds_fail "the installed shim did not cache k_greet under the API's key"
	kinds_exec "$ROOT/bin/txcache" get -c "$cfg" k_greet ivy 32
	expect_status 1 # invalidated by the program
}

@test "txcache run from the installed tree finds the installed shim" {
	local cfg
	cfg=$(kinds_config r <<'EOF'
[function k_int]
signature = int k_int(int x)
EOF
	)
	[[ ${TXCACHE_ASAN:-} != 1 ]] || skip "the ASan shim must follow libasan in LD_PRELOAD"
	kinds_exec env TXCACHE_LOG=info "$ROOT/bin/txcache" run -c "$cfg" -- "$KD" int 5
	expect_status 0
	assert_log miss k_int
}

@test "make uninstall removes every installed file" {
	local stage2=$BATS_TEST_TMPDIR/stage2
	make -C "$TXC_ROOT" --no-print-directory -s BUILD="$BUILD" DESTDIR="$stage2" install \
		>/dev/null 2>&1 || kinds_fail "install failed"
	[[ -x $stage2/usr/local/bin/txcache ]] || kinds_fail "default PREFIX is not /usr/local"
	make -C "$TXC_ROOT" --no-print-directory -s BUILD="$BUILD" DESTDIR="$stage2" uninstall \
		>/dev/null 2>&1 || kinds_fail "uninstall failed"
	local left
	left=$(find "$stage2" -type f -o -type l)
	[[ -z $left ]] || kinds_fail "left behind: $left"
}
