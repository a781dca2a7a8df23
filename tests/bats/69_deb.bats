#!/usr/bin/env bats
# The Debian package (make deb) installed with dpkg on this machine: every
# file where it belongs, mkpasswd cached with the installed files only, and
# nothing left after dpkg --purge.
#
# TXC_DEB=PATH tests that .deb; otherwise `make deb` builds it (or finds it
# up to date: the verify run of `make check` does not build it again).
# Skipped when not root, or when txcache is already installed from elsewhere
# (dpkg -i would take its files over and the purge would delete them).

load helpers

# deb_fail MESSAGE: fails the test with MESSAGE and what the last `run` saw.
deb_fail() {
	printf '%s\n-- status: %s\n-- stdout:\n%s\n-- stderr:\n%s\n' "$1" "${status:-}" \
		"${output:-}" "${stderr:-}" >&2
	return 1
}

# Why this machine cannot run the suite, or nothing.
deb_skip_reason() {
	if [[ $(id -u) -ne 0 ]]; then
		echo "not root: dpkg -i needs root"
	elif dpkg-query -W -f='${Status}' txcache 2>/dev/null | grep -q 'installed'; then
		echo "the txcache package is already installed: this suite would purge it"
	elif compgen -G '/usr/lib/*/libtxcache.so*' >/dev/null || [[ -e /usr/bin/txcache ]] ||
		[[ -e /etc/txcache.ini ]]; then
		echo "txcache files are already in /usr or /etc (make install?): dpkg would take them over"
	fi
}

deb_purge() {
	dpkg --purge txcache >"$BATS_FILE_TMPDIR/purge.log" 2>&1
}

setup_file() {
	DEB_SKIP=$(deb_skip_reason)
	export DEB_SKIP
	[[ -z $DEB_SKIP ]] || return 0
	if [[ -z ${TXC_DEB:-} ]]; then
		# make check's MAKEFLAGS (a jobserver this process does not hold)
		# must not reach the package build.
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$TXC_ROOT" --no-print-directory \
			BUILD="$BUILD" deb >"$BATS_FILE_TMPDIR/deb.log" 2>&1 ||
			{ tail -n 40 "$BATS_FILE_TMPDIR/deb.log" >&2; return 1; }
		TXC_DEB=$BUILD/$(cat "$BUILD/deb.stamp")
	fi
	[[ -f $TXC_DEB ]] || { echo "no package at $TXC_DEB" >&2; return 1; }
	export TXC_DEB
	MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
	export MA
	# From here on teardown_file purges, whatever fails.
	touch "$BATS_FILE_TMPDIR/installed"
	dpkg -i "$TXC_DEB" >"$BATS_FILE_TMPDIR/install.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/install.log" >&2; return 1; }
	txc_mc_start
}

teardown_file() {
	if [[ -e $BATS_FILE_TMPDIR/installed ]]; then
		deb_purge || cat "$BATS_FILE_TMPDIR/purge.log" >&2
	fi
	txc_mc_stop
}

setup() {
	[[ -z $DEB_SKIP ]] || skip "$DEB_SKIP"
}

# The files the package must hold, one a line (the catalogue: whatever
# config/catalogue holds).
deb_files() {
	local f
	printf '%s\n' /usr/bin/txcache "/usr/lib/$MA/libtxcache.so.0" "/usr/lib/$MA/libtxcache.so" \
		/usr/include/txcache.h "/usr/lib/$MA/pkgconfig/txcache.pc" \
		/usr/share/man/man1/txcache.1.gz /usr/share/man/man5/txcache.ini.5.gz /etc/txcache.ini
	for f in "$TXC_ROOT"/config/catalogue/*.ini; do
		[[ -e $f ]] && printf '/usr/share/txcache/catalogue/%s\n' "${f##*/}"
	done
	return 0
}

@test "dpkg -L lists every file; the shim has its soname, nothing has an rpath" {
	local listed f
	listed=$(dpkg -L txcache)
	while IFS= read -r f; do
		grep -qxF "$f" <<<"$listed" || deb_fail "dpkg -L txcache does not list $f"
		[[ -e $f ]] || deb_fail "$f is not installed"
	done < <(deb_files)
	readelf -d "/usr/lib/$MA/libtxcache.so.0" | grep -q 'SONAME.*\[libtxcache.so.0\]' ||
		deb_fail "libtxcache.so.0 has not its soname"
	[[ $(readlink "/usr/lib/$MA/libtxcache.so") == libtxcache.so.0 ]] ||
		deb_fail "libtxcache.so is not a link to libtxcache.so.0"
	for f in /usr/bin/txcache "/usr/lib/$MA/libtxcache.so.0"; do
		! readelf -d "$f" | grep -Eq 'RPATH|RUNPATH' || deb_fail "$f has an rpath"
	done
	dpkg-query -W -f='${Conffiles}\n' txcache | grep -q '^ /etc/txcache.ini ' ||
		deb_fail "/etc/txcache.ini is not a conffile"
}

@test "txcache --version is the package's version and shim/version.h's" {
	local pkg src
	pkg=$(dpkg-query -W -f='${Version}' txcache)
	src=$(sed -n 's/^#define TXC_VERSION "\(.*\)"$/\1/p' "$TXC_ROOT/shim/version.h")
	run --separate-stderr /usr/bin/txcache --version
	[[ $status -eq 0 && $output == "txcache $pkg" ]] || deb_fail "package version $pkg"
	[[ $pkg == "$src" ]] || deb_fail "package $pkg, shim/version.h $src"
}

@test "the compiled-in paths are the installed ones, not /usr/local" {
	local f
	for f in /usr/bin/txcache "/usr/lib/$MA/libtxcache.so.0"; do
		! grep -aq /usr/local/ "$f" ||
			deb_fail "$f names /usr/local/: $(tr '\0' '\n' <"$f" | grep -a /usr/local/ | head -n 3)"
	done
	# once the catalogue is compiled in (TXC_CATALOGUE_DIR), it is /usr's
	if grep -q TXC_CATALOGUE_DIR "$TXC_ROOT/Makefile"; then
		grep -aq /usr/share/txcache/catalogue /usr/bin/txcache ||
			deb_fail "/usr/bin/txcache does not name /usr/share/txcache/catalogue"
	fi
}

@test "pkg-config finds txcache and a program links against the installed library" {
	run --separate-stderr env -u PKG_CONFIG_PATH pkg-config --cflags --libs txcache
	[[ $status -eq 0 && $output == *-ltxcache* ]] || deb_fail "pkg-config --cflags --libs txcache"
	local pc=$output
	cat >"$BATS_TEST_TMPDIR/p.c" <<'EOF'
#include <stdio.h>
#include <txcache.h>
int main(void)
{
	char key[256];
	/* no config: the API answers TXCACHE_ECONFIG, from the library */
	int rc = txcache_key(key, sizeof(key), "crypt", "x", "y");
	printf("%s\n", txcache_strerror(rc));
	return 0;
}
EOF
	# shellcheck disable=SC2086 # pkg-config output is words
	run cc -o "$BATS_TEST_TMPDIR/p" "$BATS_TEST_TMPDIR/p.c" $pc
	[[ $status -eq 0 ]] || deb_fail "cc with pkg-config's flags failed"
	run --separate-stderr env TXCACHE_CONFIG=/nonexistent/txcache.ini "$BATS_TEST_TMPDIR/p"
	[[ $status -eq 0 && -n $output ]] || deb_fail "the program did not run"
	run ldd "$BATS_TEST_TMPDIR/p"
	# (/lib is /usr/lib on a merged-/usr system: ldd may say either)
	[[ $output =~ libtxcache\.so\.0\ =\>\ (/usr)?/lib/$MA/libtxcache\.so\.0 ]] ||
		deb_fail "not linked against the installed libtxcache.so.0"
}

@test "man -w finds txcache(1) and txcache.ini(5)" {
	run man -w 1 txcache
	[[ $status -eq 0 && $output == /usr/share/man/man1/txcache.1.gz ]] || deb_fail "man -w 1 txcache"
	run man -w 5 txcache.ini
	[[ $status -eq 0 && $output == /usr/share/man/man5/txcache.ini.5.gz ]] ||
		deb_fail "man -w 5 txcache.ini"
}

@test "/etc/txcache.ini is valid, caches nothing, and is the default config" {
	run --separate-stderr env -u TXCACHE_CONFIG /usr/bin/txcache check
	[[ $status -eq 0 && $output == "/etc/txcache.ini: ok: 0 functions,"* ]] ||
		deb_fail "txcache check of the shipped /etc/txcache.ini"
}

# deb_mkpasswd: mkpasswd under /usr/bin/txcache run with the test's config,
# from /, with nothing of the checkout or the build in its environment.
deb_mkpasswd() {
	# shellcheck disable=SC2016 # $1 is the inner sh's
	run --separate-stderr env -i PATH=/usr/bin:/bin TXCACHE_LOG=info \
		sh -c 'cd / && exec /usr/bin/txcache run -c "$1" -- mkpasswd -m sha-512 -R 5000 -S saltsalt secret' \
		sh "$BATS_TEST_TMPDIR/crypt.ini"
}

@test "txcache run caches mkpasswd with the installed files only; the second run is a hit" {
	command -v mkpasswd >/dev/null || skip "mkpasswd is not installed (Debian package whois)"
	cat >"$BATS_TEST_TMPDIR/crypt.ini" <<EOF
[cache]
servers   = $MC_SOCK
namespace = deb$$
[function crypt]
signature = string crypt(string phrase, string setting)
cache_if  = ret != NULL
EOF
	local plain
	plain=$(mkpasswd -m sha-512 -R 5000 -S saltsalt secret)
	# shellcheck disable=SC2016 # a literal crypt prefix
	[[ $plain == '$6$rounds=5000$saltsalt$'* ]] || deb_fail "mkpasswd said: $plain"

	deb_mkpasswd
	[[ $status -eq 0 && $output == "$plain" ]] || deb_fail "first run: not mkpasswd's output"
	[[ $stderr == *"txcache: miss crypt deb$$:crypt:"* ]] || deb_fail "first run: no miss of crypt"
	grep -Eq '^txcache: stats crypt: hits=0 misses=1( |$)' <<<"$stderr" || deb_fail "first run: counters"

	deb_mkpasswd
	[[ $status -eq 0 && $output == "$plain" ]] || deb_fail "second run: not mkpasswd's output"
	[[ $stderr == *"txcache: hit crypt deb$$:crypt:"* ]] || deb_fail "second run: no hit"
	grep -Eq '^txcache: stats crypt: hits=1 misses=0( |$)' <<<"$stderr" || deb_fail "second run: counters"

	# txcache check finds the installed shim too (to leave its libraries alone)
	run --separate-stderr env -i PATH=/usr/bin:/bin /usr/bin/txcache check \
		-c "$BATS_TEST_TMPDIR/crypt.ini" "$(command -v mkpasswd)"
	[[ $status -eq 0 && $stderr != *"cannot list libtxcache.so"* ]] ||
		deb_fail "txcache check did not find the installed shim"

	# the shim that answered is the installed one
	run env -i PATH=/usr/bin:/bin /usr/bin/txcache run -c "$BATS_TEST_TMPDIR/crypt.ini" -- \
		printenv LD_PRELOAD
	[[ $status -eq 0 && $output == "/usr/lib/$MA/libtxcache.so.0" ]] ||
		deb_fail "txcache run preloaded $output"
}

@test "dpkg --purge removes every file, /etc/txcache.ini too" {
	deb_purge || { cat "$BATS_FILE_TMPDIR/purge.log" >&2; deb_fail "dpkg --purge failed"; }
	local f
	while IFS= read -r f; do
		[[ ! -e $f && ! -L $f ]] || deb_fail "$f is still there after the purge"
	done < <(deb_files)
	[[ ! -e /usr/share/txcache ]] || deb_fail "/usr/share/txcache is still there"
	run dpkg-query -W -f='${Status}' txcache
	[[ $output != *installed* || $output == *not-installed* ]] || deb_fail "still installed: $output"
	rm -f "$BATS_FILE_TMPDIR/installed"
}
