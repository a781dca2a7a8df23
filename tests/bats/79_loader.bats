#!/usr/bin/env bats
# The loader and the shim's own resources: plugins whose constructors reach
# dlopen or a cached call while other threads load plugins (the patch lock
# must never be waited for by a thread that holds the loader's lock), thread
# keys left to the host, and the modules the shim must never patch.

load helpers

setup_file() {
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

ldcfg() {
	txc_config "$1" <<EOF
[cache]
servers = $MC_SOCK
namespace = loader$1
timeout_ms = 2000

[function ldf]
signature = int ldf(int x)
EOF
}

@test "a constructor that dlopens (directly and through a patched module) while another thread loads plugins: no deadlock" {
	local cfg
	cfg=$(ldcfg ctor)
	LDLEAF=$FIXTURES/libldleaf.so run_shim --separate-stderr "$cfg" \
		timeout 120 "$FIXTURES/ldhost" "$FIXTURES/libldctor.so" 1000
	[[ $status -eq 0 && $output == "ok 1000 bad=0" ]] || {
		echo "status $status (124 = deadlock): $output $stderr"
		return 1
	}
	[[ -z $stderr ]] || { echo "unexpected stderr: $stderr"; return 1; }
}

@test "a constructor whose thread makes the process's first cached call, joined by the constructor: no deadlock" {
	local cfg
	cfg=$(ldcfg first)
	run_shim --separate-stderr "$cfg" timeout 60 "$FIXTURES/ldopen" "$FIXTURES/libldthr.so"
	[[ $status -eq 0 && $output == "plug_get 7" ]] || {
		echo "status $status (124 = deadlock): $output $stderr"
		return 1
	}
	[[ -z $stderr ]] || { echo "unexpected stderr: $stderr"; return 1; }
}

# Also a dlclose in one thread during another's patch pass: the pass read a
# module that was unmapped meanwhile (segfault in about 1 run of 2).
@test "a constructor that starts a thread making cached calls, while another thread loads and unloads plugins: no deadlock, no crash (4 runs)" {
	local cfg i
	cfg=$(ldcfg thr)
	for i in 1 2 3 4; do
		LDLEAF=$FIXTURES/libldleaf.so run_shim --separate-stderr "$cfg" \
			timeout 120 "$FIXTURES/ldhost" "$FIXTURES/libldthr.so" 300
		[[ $status -eq 0 && $output == "ok 300 bad=0" ]] || {
			echo "run $i: status $status (124 = deadlock, 139 = crash): $output $stderr"
			return 1
		}
	done
}

@test "1000 string-returning functions configured: the host still creates 1000 thread keys" {
	local cfg=$BATS_TEST_TMPDIR/keys.ini i
	{
		printf '[cache]\nservers = %s\nnamespace = keys\n' "$MC_SOCK"
		for ((i = 0; i < 1000; i++)); do
			printf '\n[function s%d]\nsignature = string s%d(int x)\n' "$i" "$i"
		done
	} >"$cfg"
	TXCACHE_LOG=info run_shim --separate-stderr "$cfg" "$FIXTURES/keys" 1000
	[[ $status -eq 0 && $output == "keys 1000 of 1000" ]] || {
		echo "status $status: $output $stderr"
		return 1
	}
	[[ $stderr == *"1000 functions configured"* ]] || { echo "shim not active: $stderr"; return 1; }
}

@test "C++ program with strlen configured: libstdc++ and libgcc_s are never patched, the program's own calls are cached" {
	local cfg
	cfg=$(txc_config cxx <<EOF
[cache]
servers = $MC_SOCK
namespace = loadercxx$RANDOM

[function strlen]
signature = size_t strlen(string s)
EOF
)
	TXCACHE_LOG=debug run_shim --separate-stderr "$cfg" "$FIXTURES/ldcxx"
	[[ $status -eq 0 && $output == "hello 5 3" ]] || { echo "status $status: $output $stderr"; return 1; }
	[[ $stderr == *"patched strlen in (main)"* ]] || { echo "main not patched: $stderr"; return 1; }
	[[ $stderr != *"patched strlen in "*libstdc++* && $stderr != *"patched strlen in "*libgcc_s* ]] || {
		echo "a library of libmemcached's closure was patched: $stderr"
		return 1
	}
	# the program's 3 calls, not libstdc++'s 3 appends
	[[ $stderr == *"stats strlen: hits=2 misses=1 "* ]] || { echo "calls counted: $stderr"; return 1; }
}
