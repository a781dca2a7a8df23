#!/usr/bin/env bats
# cache_if over the full range of the return type, errno and out scalars;
# outs_if and negative_ttl (negative caching). libcond.so counts its real
# calls in COND_CALLS, one line per call, across processes.

load helpers

CD=$FIXTURES/cond_driver

setup_file() {
	local f
	for f in "$SHIM" "$TXCACHE" "$CD" "$FIXTURES/cond_resign"; do
		[[ -e $f ]] || { echo "missing $f: make all; make -C tests/fixtures" >&2; return 1; }
	done
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

setup() {
	txc_mc_flush
	# every test counts real calls, which a verified hit (make check-verify)
	# would add to; "outs_if under verify" turns verify on for its own call
	export TXCACHE_VERIFY=0
	export COND_CALLS=$BATS_TEST_TMPDIR/calls
	: >"$COND_CALLS"
}

# cond_cfg NAME [CACHE-LINE...] <<EOF: a config with [cache] on this file's
# memcached; the body (function sections) on stdin.
cond_cfg() {
	local name=$1
	shift
	{
		printf '[cache]\nservers = %s\nnamespace = cond\ntimeout_ms = 2000\nlog = info\n' \
			"$MC_SOCK"
		(($# == 0)) || printf '%s\n' "$@"
		printf '\n'
		cat
	} | txc_config "$name"
}

calls() {
	wc -l <"$COND_CALLS"
}

# plain ARG...: the driver without the shim (and uncounted); its output is
# the reference.
plain() {
	run env -u COND_CALLS "$CD" "$@"
	[[ $status -eq 0 ]] || { echo "plain $*: status $status: $output"; return 1; }
	expected=$output
}

# shimmed CFG WANT_CALLS ARG...: the driver under the shim prints what it
# prints without it, and the real calls so far number WANT_CALLS.
shimmed() {
	local cfg=$1 want=$2
	shift 2
	plain "$@" || return 1
	run_shim --separate-stderr "$cfg" "$CD" "$@"
	[[ $status -eq 0 ]] || { echo "shim $*: status $status: $stderr"; return 1; }
	[[ $output == "$expected" ]] || {
		echo "shim $*: '$output', plain: '$expected'"
		echo "$stderr"
		return 1
	}
	[[ $(calls) -eq $want ]] || {
		echo "$*: $(calls) real calls so far, want $want"
		echo "$stderr"
		return 1
	}
}

@test "cache_if on size_t: error codes near 2^64 are not stored, good values are (decimal and hex)" {
	for lim in 18446744073709551000 0xffffffffffffff00; do
		txc_mc_flush
		: >"$COND_CALLS"
		cfg=$(cond_cfg pack <<EOF
[function cz_pack]
signature = size_t cz_pack(int n)
cache_if = ret < $lim
EOF
		)
		shimmed "$cfg" 1 pack -5
		[[ $expected == "cz_pack -5 -> 18446744073709551611" ]]
		shimmed "$cfg" 2 pack -5 # not stored: the real function again
		[[ $stderr == *"not stored: cache_if"* ]] || { echo "$stderr"; return 1; }
		shimmed "$cfg" 3 pack 7
		shimmed "$cfg" 3 pack 7 # stored: a hit
		[[ $stderr == *"hit cz_pack"* ]] || { echo "$stderr"; return 1; }
	done
}

@test "cache_if = errno == 0: a call that set errno is not stored" {
	cfg=$(cond_cfg err <<'EOF'
[function cz_err]
signature = int cz_err(int n)
cache_if = errno == 0 and ret == 0
EOF
	)
	shimmed "$cfg" 1 err 2
	shimmed "$cfg" 2 err 2
	shimmed "$cfg" 3 err 0
	shimmed "$cfg" 3 err 0
	[[ $stderr == *"hit cz_err"* ]] || { echo "$stderr"; return 1; }
}

@test "cache_if on an out scalar: *value > 0; a NULL out pointer fails the comparison" {
	cfg=$(cond_cfg count <<'EOF'
[function cz_count]
signature = int cz_count(int n, out long *value)
cache_if = *value > 0 or (ret != 0 and ret == 5)
EOF
	)
	shimmed "$cfg" 1 count -3
	shimmed "$cfg" 2 count -3
	shimmed "$cfg" 3 count 4
	shimmed "$cfg" 3 count 4
	[[ $stderr == *"hit cz_count"* ]] || { echo "$stderr"; return 1; }
	shimmed "$cfg" 4 count 4 null
	shimmed "$cfg" 5 count 4 null
}

lookup_cfg() {
	cond_cfg lookup "$@" <<'EOF'
[function cz_lookup]
signature = int cz_lookup(string user, out string[cap] dst, size_t cap)
outs_if = ret >= 0
EOF
}

@test "outs_if: an unknown user is cached without its buffer; the caller's bytes stay" {
	cfg=$(lookup_cfg)
	# the canary has a NUL (an out string could be read from it) ...
	shimmed "$cfg" 1 lookup nobody 32 A 5
	[[ $stderr == *"bytes stored, without outs: outs_if)"* ]] || { echo "$stderr"; return 1; }
	# ... and the second caller's canary differs: a hit that wrote the
	# stored buffer would show the first caller's bytes
	shimmed "$cfg" 1 lookup nobody 32 B 7
	[[ $stderr == *"hit cz_lookup"* ]] || { echo "$stderr"; return 1; }
	run_txcache get -c "$cfg" cz_lookup nobody 32
	[[ $status -eq 0 && $output == $'ret = -1\ndst = (not stored: outs_if)' ]] || {
		echo "txcache get: $status: $output"
		return 1
	}
	# a canary without any NUL: nothing to read as a string, still cached
	shimmed "$cfg" 2 lookup carol 32 C -1
	shimmed "$cfg" 2 lookup carol 32 D -1
	[[ $stderr == *"hit cz_lookup"* ]] || { echo "$stderr"; return 1; }
	# a known user's result replays its out string over any canary
	shimmed "$cfg" 3 lookup alice 32 E -1
	shimmed "$cfg" 3 lookup alice 32 F 3
	[[ $stderr == *"hit cz_lookup"* ]] || { echo "$stderr"; return 1; }
	[[ $output == "cz_lookup alice -> 17 buf=616c696365406578616d706c652e6f726700"* ]]
}

@test "outs_if under verify: a negative entry verifies (ret and errno), its missing outs are no mismatch" {
	cfg=$(lookup_cfg)
	shimmed "$cfg" 1 lookup nobody 32 C -1
	TXCACHE_VERIFY=1 shimmed "$cfg" 2 lookup nobody 32 D -1
	[[ $stderr == *"verified=1 mismatch=0"* ]] || { echo "$stderr"; return 1; }
	shimmed "$cfg" 2 lookup nobody 32 E -1 # still there: a hit
	[[ $stderr == *"hit cz_lookup"* ]] || { echo "$stderr"; return 1; }
}

# The value under the key of cz_lookup(USER): from the shim's miss line.
value_key() {
	sed -n 's/^txcache: miss cz_lookup \([^ ]*\) .*/\1/p' <<<"$1" | head -n 1
}

raw() {
	python3 -S - "$MC_SOCK" "$@" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
op, key, path = sys.argv[2:5]
if op == "set":
    d = open(path, "rb").read()
    s.sendall(b"set %s 0 0 %d\r\n" % (key.encode(), len(d)) + d + b"\r\n")
    sys.exit(0 if s.recv(100) == b"STORED\r\n" else 1)
s.sendall(b"get %s\r\n" % key.encode())
buf = b""
while not buf.endswith(b"END\r\n"):
    c = s.recv(65536)
    if not c: break
    buf += c
if not buf.startswith(b"VALUE"): sys.exit(1)
head, rest = buf.split(b"\r\n", 1)
open(path, "wb").write(rest[:int(head.split()[3])])
EOF
}

@test "outs_if: a value whose flag says 'no outs' but holds one is corrupt: the real function answers" {
	cfg=$(lookup_cfg)
	shimmed "$cfg" 1 lookup alice 32 E -1
	key=$(value_key "$stderr")
	[[ -n $key ]] || { echo "no key in: $stderr"; return 1; }
	v=$BATS_TEST_TMPDIR/v
	raw get "$key" "$v"
	# flags byte 5, bit 1 set, checksum redone: only the new rule rejects it
	"$FIXTURES/cond_resign" "$v" "$v.forged" 5 2
	raw set "$key" "$v.forged"
	shimmed "$cfg" 2 lookup alice 32 G 9
	[[ $stderr == *"failed verification"* ]] || { echo "$stderr"; return 1; }
	# control: the genuine value is served
	raw set "$key" "$v"
	shimmed "$cfg" 2 lookup alice 32 G 9
	[[ $stderr == *"hit cz_lookup"* ]] || { echo "$stderr"; return 1; }
}

@test "negative_ttl: a result failing outs_if expires after negative_ttl, the others live ttl" {
	cfg=$(lookup_cfg 'ttl = 600' 'negative_ttl = 1')
	shimmed "$cfg" 1 lookup nobody 32 A 5
	shimmed "$cfg" 2 lookup alice 32 A 5
	# memcached counts whole seconds: wait until the negative entry is gone
	# (a miss stores it again, so each probe that misses costs one call)
	gone() {
		local n
		n=$(calls)
		run env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$cfg" "$CD" lookup nobody 32 A 5
		[[ $(calls) -gt $n ]]
	}
	wait_until -t 30 gone || { echo "the negative entry never expired"; return 1; }
	n=$(calls)
	shimmed "$cfg" "$n" lookup alice 32 A 5 # positive entry: still a hit
	[[ $stderr == *"hit cz_lookup"* ]] || { echo "$stderr"; return 1; }
}

@test "negative_ttl bounds the near cache too: a negative result is not served in-process past it" {
	cfg=$(cond_cfg nearneg 'ttl = 600' 'negative_ttl = 1' <<'EOF'
[function cz_lookup]
signature = int cz_lookup(string user, out string[cap] dst, size_t cap)
outs_if = ret >= 0
local_ttl = 600
EOF
	)
	# one process, two calls 2.5 s apart: the negative entry (1 s) is a
	# real call again, from the near cache as from memcached ...
	shimmed "$cfg" 2 twice 2500 lookup nobody 32 A 5
	# ... the positive one (600 s) a near hit
	shimmed "$cfg" 3 twice 2500 lookup alice 32 A 5
	[[ $stderr == *"hit cz_lookup "*"(near)"* ]] || { echo "$stderr"; return 1; }
	# a near hit of a negative result leaves the caller's buffer as it was
	# too (the driver prints all 64 bytes: shimmed compares them)
	cfg=$(cond_cfg nearneg2 'ttl = 600' 'negative_ttl = 600' <<'EOF'
[function cz_lookup]
signature = int cz_lookup(string user, out string[cap] dst, size_t cap)
outs_if = ret >= 0
local_ttl = 600
EOF
	)
	shimmed "$cfg" 4 twice 10 lookup ghost 32 B 7
	[[ $stderr == *"hit cz_lookup "*"(near)"* ]] || { echo "$stderr"; return 1; }
}

@test "cache_if, outs_if, negative_ttl: txcache check names FILE:LINE and the problem" {
	local cases=(
		'cache_if = ret < 18446744073709551616|18446744073709551616 is out of range for size_t (ret)'
		'cache_if = ret < -1|-1 is out of range for size_t (ret)'
		'outs_if = *nope > 0|outs_if: no parameter named'
		'outs_if = ret > 1 and|outs_if: expected ret, errno'
		'negative_ttl = 2592001|negative_ttl: 2592001 is out of range'
	)
	for c in "${cases[@]}"; do
		cfg=$(cond_cfg bad <<EOF
[function cz_pack]
signature = size_t cz_pack(int n)
${c%%|*}
EOF
		)
		run_txcache --separate-stderr check -c "$cfg"
		[[ $status -ne 0 ]] || { echo "check accepted '${c%%|*}'"; return 1; }
		[[ "$output $stderr" == *"$cfg:9: "*"${c#*|}"* ]] || {
			echo "want '$cfg:9: ... ${c#*|}' in: $output $stderr"
			return 1
		}
	done
	cfg=$(cond_cfg good <<'EOF'
[function cz_pack]
signature = size_t cz_pack(int n)
cache_if = ret < 0xffffffffffffff00 and (errno == 0 or errno == 4)
EOF
	)
	run_txcache --separate-stderr check -c "$cfg"
	[[ $status -eq 0 ]] || { echo "check refused a good config: $output $stderr"; return 1; }
}
