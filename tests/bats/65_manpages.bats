#!/usr/bin/env bats
# The man pages against the program: every config key the parser knows
# (shim/config.c's keydef tables), every parameter and return kind of the
# signature language (shim/sig_canon.c), and every command and option that
# `txcache --help` lists must be documented, and the pages must format
# without groff warnings. tests/lib/mancheck.py reads what the program knows
# from the source and from --help, so a key added to the parser alone fails.

load helpers

MANCHECK=$TXC_ROOT/tests/lib/mancheck.py

# mancheck WHAT [ARG]: runs the check; its output lists each mismatch.
mancheck() {
	run python3 "$MANCHECK" "$1" "$TXC_ROOT" "${@:2}"
	[[ $status -eq 0 ]] || {
		echo "man pages behind the program ($1):"
		echo "$output"
		return 1
	}
}

@test "txcache.ini(5) has an entry for every key of [cache] and [function NAME], and no other" {
	mancheck keys
}

@test "txcache.ini(5)'s signature entry names every parameter and return kind" {
	mancheck kinds
}

@test "txcache(1) has every usage line of txcache --help, each command and each option" {
	[[ -x $TXCACHE ]] || { echo "missing $TXCACHE: make all"; return 1; }
	mancheck cli "$TXCACHE"
}

@test "the man pages format without warnings" {
	local page
	for page in "$TXC_ROOT"/shim/man/txcache.1 "$TXC_ROOT"/shim/man/txcache.ini.5; do
		run groff -ww -man -z "$page"
		[[ $status -eq 0 && -z $output ]] || {
			echo "groff -ww -man -z $page: status $status"
			echo "$output"
			return 1
		}
		if command -v man >/dev/null; then
			run env MANWIDTH=80 man --warnings -l "$page"
			[[ $status -eq 0 ]] || { echo "man -l $page: status $status"; return 1; }
			run bash -c 'MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null' _ "$page"
			[[ -z $output ]] || {
				echo "man --warnings -l $page:"
				echo "$output"
				return 1
			}
		fi
	done
}

@test "txcache --version prints the version of shim/version.h, which both man pages carry" {
	local v
	v=$(sed -n 's/^#define TXC_VERSION "\(.*\)"$/\1/p' "$TXC_ROOT/shim/version.h")
	[[ -n $v ]] || fail "no TXC_VERSION in shim/version.h"
	run "$TXCACHE" --version
	assert_success
	assert_output "txcache $v"
	run "$TXCACHE" --help
	[[ $output == *"txcache --version prints the version ($v)."* ]] || fail "--help: $output"
	for page in "$TXC_ROOT/shim/man/txcache.1" "$TXC_ROOT/shim/man/txcache.ini.5"; do
		head -n 1 "$page" | grep -qF "\"txcache $v\"" || fail "$page: $(head -n 1 "$page")"
	done
}
