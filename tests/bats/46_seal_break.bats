#!/usr/bin/env bats
# Attacks on secret_file (issue 14, points 1-3), as someone with full read
# and write access to memcached but without the secret: raw gets and sets
# with any flags and exptime, touch, delete, incr, metadump. Each test is an
# attack; the claims (README "Integrity and authentication") say it must
# fail, so a passing test guards a claim and a failing one is a finding:
#   (a) a key is a keyed PRF of the arguments: nothing about them can be
#       learned or tested from it;
#   (b) a value is sealed: a reader learns only sizes; a value moved to
#       another key, or changed in any byte, is never served;
#   (c) bounded replay: a value written back is refused past its expiry,
#       and by a process that has seen an invalidation made after the value
#       was created. The window (a process that has NOT seen it is served an
#       unexpired replay) is documented; tests that meet it assert it.
# Plus the host's side: forged, huge, empty or garbage values and
# generation keys never crash, hang or give a wrong result.
# Drivers: rel_driver (rel_helpers) and seal_driver (tests/fixtures).

load helpers
load rel_helpers

SD=$FIXTURES/seal_driver

setup_file() {
	txc_mc_start
	# the python3 of PATH may be a pyenv shim that costs half a second a
	# start; the interpreter itself starts in milliseconds
	PY3=$(command python3 -S -c 'import sys; print(sys.executable)')
	export PY3
}

python3() {
	"${PY3:-$(command -v python3)}" "$@"
}

teardown_file() {
	txc_mc_stop
}

setup() {
	export TXCACHE_LOG=info
	# verify mode re-runs sampled hits: it would hide what an attacker gets
	# served (the tests that need it set TXCACHE_VERIFY themselves)
	export TXCACHE_VERIFY=0
	export REL_TIMEOUT_MS=2000
	export REL_DB=$BATS_TEST_TMPDIR/db
	mkdir -p "$REL_DB"
	txc_mc_flush
	SECRET=$BATS_TEST_TMPDIR/secret
	head -c 32 /dev/urandom >"$SECRET"
	chmod 600 "$SECRET"
	SECRET2=$BATS_TEST_TMPDIR/secret2
	head -c 32 /dev/urandom >"$SECRET2"
	chmod 600 "$SECRET2"
	PLAIN=$(rel_config plain "$MC_SOCK")
	AUTH=$(rel_config auth "$MC_SOCK" "secret_file = $SECRET")
	GKEY=rel:rel_get:gen
	NSKEY=rel:@gen
}

# seal_config NAME [FUNCTION LINES...]: rel_get and rel_set with
# secret_file, the lines added to rel_get's section.
seal_config() {
	local name=$1 l
	shift
	{
		printf '[cache]\nservers = %s\nnamespace = rel\ntimeout_ms = 2000\nsecret_file = %s\n\n' \
			"$MC_SOCK" "$SECRET"
		printf '[function rel_get]\nsignature = int rel_get(string k, out string[cap] val, size_t cap)\nignore = cap\n'
		for l in "$@"; do printf '%s\n' "$l"; done
		printf '\n[function rel_set]\nsignature = int rel_set(string k, string v)\ninvalidates = rel_get(k)\n'
		printf '\n[function rel_work]\nsignature = long rel_work(long x)\n'
	} | txc_config "$name"
}

miss_key() {
	sed -n "s/^txcache: miss $1 \\([^ ]*\\).*/\\1/p" <<<"$stderr" | head -n 1
}

# mc_raw BYTES: sends BYTES (printf escapes) to memcached, prints the answer.
mc_raw() {
	python3 -S -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
s.settimeout(2)
buf = b""
try:
    while True:
        c = s.recv(65536)
        if not c: break
        buf += c
        if buf.endswith(b"\r\n"): break
except socket.timeout:
    pass
sys.stdout.write(buf.decode("latin-1"))' "$MC_SOCK" "$1"
}

# raw_setx KEY FILE FLAGS EXPTIME: raw_set with memcached flags and exptime.
raw_setx() {
	python3 -S -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
d = open(sys.argv[3], "rb").read()
s.sendall(b"set %s %s %s %d\r\n" % (sys.argv[2].encode(), sys.argv[4].encode(), sys.argv[5].encode(), len(d)) + d + b"\r\n")
sys.exit(0 if s.recv(100) == b"STORED\r\n" else 1)' "$MC_SOCK" "$1" "$2" "$3" "$4"
}

# all_keys: every key memcached holds (lru_crawler metadump), one a line.
all_keys() {
	python3 -S -c '
import socket, sys, urllib.parse
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"lru_crawler metadump all\r\n")
buf = b""
while not buf.endswith(b"END\r\n"):
    c = s.recv(65536)
    if not c: break
    buf += c
for line in buf.split(b"\n"):
    if line.startswith(b"key="):
        print(urllib.parse.unquote(line.split()[0][4:].decode()))' "$MC_SOCK"
}

# wait_line FILE PATTERN [N]: until FILE has N (default 1) lines matching.
wait_line() {
	local i
	for i in $(seq 400); do
		(($(grep -c -- "$2" "$1" 2>/dev/null || true) >= ${3:-1})) && return 0
		sleep 0.05
	done
	return 1
}

# saved_role CFG: caches rel_get(role) = "user" under CFG and saves its
# sealed bytes to $V; sets KEY.
saved_role() {
	printf user >"$REL_DB/role"
	rel_run "$1" get role
	[[ $output == "get role 4 user" ]] || fail "first get: $output $stderr"
	KEY=$(miss_key rel_get)
	[[ -n $KEY ]] || fail "no miss logged: $stderr"
	V=$BATS_TEST_TMPDIR/v
	raw_get "$KEY" "$V" || fail "nothing under $KEY"
}

# own_replay CFG [DELAY]: after saved_role CFG, one process reads role
# (user), sets it to banned (its own invalidation), waits; meanwhile the
# attacker writes the saved value back (after DELAY seconds); the process's
# last read must not be the replay.
own_replay() {
	local flag=$BATS_TEST_TMPDIR/flag out=$BATS_TEST_TMPDIR/out
	rm -f "$flag"
	env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$1" \
		"$REL" setwait role banned "$flag" >"$out" 2>"$out.err" &
	local pid=$!
	wait_line "$out" '^set role 0' || fail "no set: $(cat "$out" "$out.err")"
	sleep "${2:-0}"
	raw_set "$KEY" "$V" || fail "raw_set failed"
	touch "$flag"
	wait "$pid"
	[[ $(cat "$out") == "get role 4 user"$'\n'"set role 0"$'\n'"get role 6 banned" ]] ||
		fail "served: $(cat "$out" "$out.err")"
}

# --- (a) keys -------------------------------------------------------------

@test "break(a): keys are one length whatever the argument, and no listed key holds an argument or its unkeyed digest" {
	local long
	long=ARGUMENT$(printf 'x%.0s' $(seq 180))
	printf 1 >"$REL_DB/a"
	printf 2 >"$REL_DB/$long"
	rel_run "$(seal_config lk 'lock = yes')" get a
	local ka kl
	ka=$(miss_key rel_get)
	rel_run "$(seal_config lk 'lock = yes')" get "$long"
	kl=$(miss_key rel_get)
	[[ -n $ka && -n $kl && ${#ka} -eq ${#kl} ]] || fail "key lengths differ: $ka $kl"
	run "$TXCACHE" key -c "$PLAIN" rel_get "$long"
	local plain=${output%%[[:space:]]*}
	[[ $plain == rel:rel_get:* ]] || fail "txcache key: $output"
	local keys
	keys=$(all_keys)
	[[ -n $keys ]] || fail "metadump listed nothing"
	! grep -qF -e ARGUMENT -e "${plain##*:}" <<<"$keys" || fail "a key reveals the argument: $keys"
	# the values hold neither the argument nor the result
	printf '%s\n' "$keys" | while read -r k; do
		raw_get "$k" "$BATS_TEST_TMPDIR/x" || continue
		! grep -aqF -e ARGUMENT "$BATS_TEST_TMPDIR/x" || fail "value of $k holds the argument"
	done
}

@test "break(a): the same argument under another secret, or none, gives an unrelated digest" {
	local auth2 k1 k2 k0
	auth2=$(rel_config auth2 "$MC_SOCK" "secret_file = $SECRET2")
	run "$TXCACHE" key -c "$AUTH" --library "$FIXTURES/librel.so" rel_get role
	k1=${output%%[[:space:]]*}
	run "$TXCACHE" key -c "$auth2" --library "$FIXTURES/librel.so" rel_get role
	k2=${output%%[[:space:]]*}
	run "$TXCACHE" key -c "$PLAIN" --library "$FIXTURES/librel.so" rel_get role
	k0=${output%%[[:space:]]*}
	[[ $k1 == rel:rel_get:* && $k2 == rel:rel_get:* && $k0 == rel:rel_get:* ]] || fail "$k1 $k2 $k0"
	[[ $k1 != "$k2" && $k1 != "$k0" && $k2 != "$k0" ]] || fail "digests agree: $k1 $k2 $k0"
}

@test "break(a): the same argument in two namespaces under one secret does not give the same digest (linkability)" {
	local other k1 k2
	other=$(REL_NS=relother rel_config other "$MC_SOCK" "secret_file = $SECRET")
	run "$TXCACHE" key -c "$AUTH" --library "$FIXTURES/librel.so" rel_get role
	k1=${output%%[[:space:]]*}
	run "$TXCACHE" key -c "$other" --library "$FIXTURES/librel.so" rel_get role
	k2=${output%%[[:space:]]*}
	[[ $k1 == rel:rel_get:* && $k2 == relother:rel_get:* ]] || fail "$k1 $k2"
	# equal digests would tell a reader that both namespaces saw the same
	# argument, without the secret
	[[ ${k1##*:} != "${k2##*:}" ]] || fail "one digest in both namespaces: $k1 $k2"
}

# --- (b) sealed values ----------------------------------------------------

@test "break(b): every single-byte change and every truncation of a sealed value is refused" {
	saved_role "$AUTH"
	printf banned >"$REL_DB/role"
	# one python process writes each changed value, then runs the driver
	run python3 -S -c '
import os, socket, subprocess, sys
sock, key, vfile = sys.argv[1:4]; cmd = sys.argv[4:]
v = open(vfile, "rb").read(); n = len(v)
changes = [("flip", i) for i in list(range(60)) + list(range(60, n, 3)) + list(range(n - 16, n))]
changes += [("cut", c) for c in (0, 1, 59, 60, 61, n - 1)] + [("plus", 1)]
bad = 0
for kind, i in changes:
    d = bytearray(v)
    if kind == "flip": d[i] ^= 0x01
    elif kind == "cut": d = d[:i]
    else: d += b"\0"
    s = socket.socket(socket.AF_UNIX); s.connect(sock)
    s.sendall(b"set %s 0 0 %d\r\n" % (key.encode(), len(d)) + bytes(d) + b"\r\n")
    assert s.recv(100) == b"STORED\r\n"; s.close()
    r = subprocess.run(cmd, capture_output=True, timeout=60)
    if r.returncode != 0 or r.stdout != b"get role 6 banned\n":
        bad += 1
        print("%s %d of %d: %r %r" % (kind, i, n, r.stdout, r.stderr[-300:]))
print("changes=%d served=%d" % (len(changes), bad))
' "$MC_SOCK" "$KEY" "$V" env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$AUTH" "$REL" get role
	[[ $status -eq 0 && $output == *"served=0" ]] || fail "$output"
}

@test "break(b): a plain value forged for the sealed key (right digests, generations and checksum) is refused" {
	# A value made without the secret, made to fit the sealed key: its key
	# digest is the sealed key's, its generations the current ones, its
	# checksum recomputed. Accepting a plain value under secret_file would
	# let any writer forge results.
	printf user >"$REL_DB/role"
	rel_run "$PLAIN" get role
	local kp vp=$BATS_TEST_TMPDIR/vp ks f=$BATS_TEST_TMPDIR/forged g=$BATS_TEST_TMPDIR/g ns=$BATS_TEST_TMPDIR/ns
	kp=$(miss_key rel_get)
	raw_get "$kp" "$vp" || fail "no plain value under $kp"
	printf banned >"$REL_DB/role"
	rel_run "$AUTH" get role
	assert_output "get role 6 banned"
	ks=$(miss_key rel_get)
	[[ -n $ks && $ks != "$kp" ]] || fail "keys $kp $ks"
	raw_get "$GKEY" "$g" || fail "no generation"
	raw_get "$NSKEY" "$ns" || fail "no namespace generation"
	python3 -S -c '
import ctypes, struct, sys
x = ctypes.CDLL("libxxhash.so.0"); x.XXH3_64bits.restype = ctypes.c_uint64
x.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
vp, kp, ks, g, ns, out = sys.argv[1:]
d = bytearray(open(vp, "rb").read())
assert d[:4] == b"TXC\x01", d[:4]
hp = bytes.fromhex(kp.rsplit(":", 1)[1]); hs = bytes.fromhex(ks.rsplit(":", 1)[1])
# the key digest as the plain value holds it, mapped to the sealed key
if d[24:40] == hp: d[24:40] = hs
elif d[24:40] == hp[7::-1] + hp[15:7:-1]: d[24:40] = hs[7::-1] + hs[15:7:-1]
elif d[24:40] == hp[::-1]: d[24:40] = hs[::-1]
else: sys.exit("key digest layout unknown: %s vs %s" % (d[24:40].hex(), hp.hex()))
d[40:48] = struct.pack("<Q", int(open(ns).read()))
d[48:56] = struct.pack("<Q", int(open(g).read()))
d[80:88] = b"\0" * 8
d[72:80] = b"\0" * 8
d[72:80] = struct.pack("<Q", x.XXH3_64bits(bytes(d), len(d)))
open(out, "wb").write(d)' "$vp" "$kp" "$ks" "$g" "$ns" "$f" || fail "forge failed"
	raw_set "$ks" "$f" || fail "raw_set failed"
	rel_run "$AUTH" get role
	assert_output "get role 6 banned"
	# control: the same forge under the plain key is served by a plain reader
	python3 -S -c '
import ctypes, struct, sys
x = ctypes.CDLL("libxxhash.so.0"); x.XXH3_64bits.restype = ctypes.c_uint64
x.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
d = bytearray(open(sys.argv[1], "rb").read())
d[40:48] = struct.pack("<Q", int(open(sys.argv[3]).read()))
d[48:56] = struct.pack("<Q", int(open(sys.argv[2]).read()))
d[72:80] = b"\0" * 8
d[72:80] = struct.pack("<Q", x.XXH3_64bits(bytes(d), len(d)))
open(sys.argv[4], "wb").write(d)' "$vp" "$g" "$ns" "$f.plain" || fail "control forge failed"
	raw_set "$kp" "$f.plain" || fail "raw_set failed"
	rel_run "$PLAIN" get role
	assert_output "get role 4 user"
}

@test "break(b): a value sealed under another secret, or in another namespace with the same argument, moved to the key is refused" {
	local auth2 other k2 ko v2=$BATS_TEST_TMPDIR/v2 vo=$BATS_TEST_TMPDIR/vo
	auth2=$(rel_config auth2 "$MC_SOCK" "secret_file = $SECRET2")
	other=$(REL_NS=relother rel_config other "$MC_SOCK" "secret_file = $SECRET")
	printf user >"$REL_DB/role"
	rel_run "$auth2" get role
	k2=$(miss_key rel_get)
	raw_get "$k2" "$v2" || fail "nothing under $k2"
	rel_run "$other" get role
	ko=$(miss_key rel_get)
	raw_get "$ko" "$vo" || fail "nothing under $ko"
	printf banned >"$REL_DB/role"
	rel_run "$AUTH" get role
	assert_output "get role 6 banned"
	local ks
	ks=$(miss_key rel_get)
	for src in "$v2" "$vo"; do
		raw_set "$ks" "$src" || fail "raw_set failed"
		rel_run "$AUTH" get role
		assert_output "get role 6 banned"
	done
	# the other namespace's value under the same digest in this namespace
	raw_set "rel:rel_get:${ko##*:}" "$vo" || fail "raw_set failed"
	rel_run "$AUTH" get role
	assert_output "get role 6 banned"
}

@test "break(b): a value of another function with the same arguments, moved to the key, is refused" {
	# rel_work(7) and rel_work(8) are one function; rel_blob(7) another with
	# the same long argument: its sealed value under rel_work(7)'s key
	local k7 kb v=$BATS_TEST_TMPDIR/v
	rel_run "$AUTH" blob 7
	kb=$(miss_key rel_blob)
	[[ -n $kb ]] || fail "rel_blob not cached: $stderr"
	raw_get "$kb" "$v" || fail "nothing under $kb"
	rel_run "$AUTH" loop 8 8
	assert_success
	k7=$(sed -n 's/^txcache: miss rel_work \([^ ]*\).*/\1/p' <<<"$stderr" | sed -n 8p)
	[[ -n $k7 ]] || fail "no 8th miss: $stderr"
	raw_set "$k7" "$v" || fail "raw_set failed"
	rel_run "$AUTH" loop 8 8
	assert_success # rel_driver checks every result against rel_ref
	[[ $output == *"bad=0"* ]] || fail "$output"
}

@test "break(b): memcached flags on genuine sealed bytes change nothing; on forged ones they open nothing" {
	saved_role "$AUTH"
	local fl t=$BATS_TEST_TMPDIR/t
	for fl in 1 2 4 8 16 65535 4294967295; do
		raw_setx "$KEY" "$V" "$fl" 0 || fail "raw_setx failed"
		rel_run "$AUTH" get role
		[[ $status -eq 0 && $output == "get role 4 user" ]] || fail "flags $fl: $output $stderr"
	done
	printf banned >"$REL_DB/role"
	head -c 300 /dev/urandom >"$t"
	for fl in 0 1 2 4 8 16 65535 4294967295; do
		raw_setx "$KEY" "$t" "$fl" 0 || fail "raw_setx failed"
		rel_run "$AUTH" get role
		[[ $status -eq 0 && $output == "get role 6 banned" ]] || fail "flags $fl: $output $stderr"
	done
}

@test "break(host): huge, empty, envelope-only and tombstone-like values under a sealed key: right result, no crash or hang" {
	saved_role "$AUTH"
	printf banned >"$REL_DB/role"
	local t=$BATS_TEST_TMPDIR/t kind
	for kind in zero one env60 env60now env61 huge hugeTXS1 plainmagic tomb tombplus; do
		python3 -S -c '
import os, struct, sys, time
k = sys.argv[1]; now = time.time_ns()
env = lambda body: b"TXS1" + struct.pack("<QQ", now - 10**9, now + 10**12) + os.urandom(24) + body + os.urandom(16)
d = {"zero": b"", "one": b"T",
     "env60": b"TXS1" + os.urandom(56),
     "env60now": env(b""), "env61": env(b"x"),
     "huge": os.urandom(900 * 1024),
     "hugeTXS1": env(os.urandom(900 * 1024 - 60)),
     "plainmagic": b"TXC\x01\x05" + os.urandom(200),
     "tomb": b"TXCTomb1", "tombplus": b"TXCTomb1" + os.urandom(100)}[k]
assert k != "env60now" or len(d) == 60
open(sys.argv[2], "wb").write(d)' "$kind" "$t"
		raw_set "$KEY" "$t" || fail "$kind: raw_set failed"
		rel_run "$AUTH" get role
		[[ $status -eq 0 && $output == "get role 6 banned" ]] || fail "$kind: $status $output $stderr"
		((elapsed_ms < 20000)) || fail "$kind: took $elapsed_ms ms"
	done
}

@test "break(host): garbage under the generation keys, the registry and the lock key: right results, no crash or hang" {
	local cfg t=$BATS_TEST_TMPDIR/t kind key k
	cfg=$(seal_config gk 'lock = yes' 'lock_timeout_ms = 1000')
	printf user >"$REL_DB/role"
	rel_run "$cfg" get role
	key=$(miss_key rel_get)
	for kind in empty text neg big21 max zero space huge binary; do
		python3 -S -c '
import os, sys
d = {"empty": b"", "text": b"abc", "neg": b"-1", "big21": b"9" * 21,
     "max": b"18446744073709551615", "zero": b"0", "space": b" 12",
     "huge": os.urandom(900 * 1024), "binary": b"\0\xff\n\r" * 8}[sys.argv[1]]
open(sys.argv[2], "wb").write(d)' "$kind" "$t"
		for k in "$GKEY" "$NSKEY" rel:rel_get:ids "$key:lock"; do
			raw_set "$k" "$t" || fail "$kind $k: raw_set failed"
		done
		printf "v$kind" >"$REL_DB/role"
		rel_run "$cfg" get role
		[[ $status -eq 0 && $output == "get role ${#kind} v$kind"* ]] ||
			[[ $status -eq 0 && $output == "get role $((${#kind} + 1)) v$kind" ]] ||
			fail "$kind: $status $output $stderr"
		((elapsed_ms < 20000)) || fail "$kind: took $elapsed_ms ms"
		mc_raw "delete $key:lock\r\n" >/dev/null
	done
}

@test "break(b): values swapped between keys while 4 threads and 3 forked children call: never a wrong result" {
	local cfg stop=$BATS_TEST_TMPDIR/stop
	cfg=$(seal_config th)
	rel_run "$cfg" loop 16 16
	assert_success
	# the attacker: for as long as the calls run, every rel_work value is
	# written under another rel_work key (and now and then truncated)
	python3 -S -c '
import os, random, socket, sys, time, urllib.parse
def talk(cmd, end):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(cmd)
    buf = b""
    while not buf.endswith(end):
        c = s.recv(65536)
        if not c: break
        buf += c
    s.close(); return buf
while not os.path.exists(sys.argv[2]):
    keys = [urllib.parse.unquote(l.split()[0][4:].decode()) for l in
            talk(b"lru_crawler metadump all\r\n", b"END\r\n").split(b"\n")
            if l.startswith(b"key=rel%3Arel_work%3A")]
    vals = []
    for k in keys:
        b = talk(b"get " + k.encode() + b"\r\n", b"END\r\n")
        if b.startswith(b"VALUE"):
            h, r = b.split(b"\r\n", 1); vals.append(r[:int(h.split()[3])])
    random.shuffle(keys)
    for k, v in zip(keys, vals):
        if random.random() < 0.1: v = v[:random.randrange(len(v) + 1)]
        talk(b"set %s 0 0 %d\r\n" % (k.encode(), len(v)) + v + b"\r\n", b"\r\n")
    time.sleep(0.01)
' "$MC_SOCK" "$stop" &
	local apid=$!
	rel_run "$cfg" threads 4 3000 16
	local tstatus=$status tout=$output
	rel_run "$cfg" fork 3 2000 16
	local fstatus=$status fout=$output
	touch "$stop"
	wait "$apid" || true
	[[ $tstatus -eq 0 && $tout == *"bad=0"* ]] || fail "threads: $tstatus $tout"
	[[ $fstatus -eq 0 && $fout == *"failed=0 bad=0"* ]] || fail "fork: $fstatus $fout"
}

# --- (c) bounded replay ---------------------------------------------------

@test "break(c): a value kept alive with touch (exptime 0) is refused past its sealed expiry" {
	local cfg
	cfg=$(rel_config t2 "$MC_SOCK" "secret_file = $SECRET
ttl = 2")
	# the read and the touch must land inside the 2 s ttl: set-up, not the
	# claim, so a loaded machine gets three tries
	local try
	for try in 1 2 3; do
		txc_mc_flush
		saved_role "$cfg"
		run mc_raw "touch $KEY 0\r\n"
		[[ $output == TOUCHED* ]] && break
	done
	[[ $output == TOUCHED* ]] || fail "touch, three times: $output"
	printf banned >"$REL_DB/role"
	sleep 3.5
	rel_run "$cfg" get role
	assert_output "get role 6 banned"
	[[ $stderr == *"refused: past its expiry"* ]] || fail "not refused as expired: $stderr"
	# the same through the CLI: txcache get serves nothing past expiry
	raw_set "$KEY" "$V" || fail "raw_set failed"
	run "$TXCACHE" get -c "$cfg" rel_get role
	[[ $output != *user* ]] || fail "txcache get served the expired replay: $output"
}

@test "break(c): a negative result (outs_if, negative_ttl = 1, ttl = 600) written back after its negative_ttl is refused" {
	# The value lived negative_ttl in memcached; its seal must end there
	# too, not at the function's ttl.
	local cfg key v=$BATS_TEST_TMPDIR/v
	cfg=$(seal_config neg 'ttl = 600' 'outs_if = ret >= 0' 'negative_ttl = 1')
	rm -f "$REL_DB/role"
	# capturing the 1 s value is set-up: three tries on a loaded machine
	local try got=0
	for try in 1 2 3; do
		txc_mc_flush
		rel_run "$cfg" get role
		assert_output "get role -1 -"
		key=$(miss_key rel_get)
		raw_get "$key" "$v" && { got=1; break; }
	done
	((got)) || fail "negative result not cached (three tries): $stderr"
	[[ $stderr == *"without outs: outs_if"* ]] || fail "not a negative value: $stderr"
	printf user >"$REL_DB/role"
	sleep 3.5 # memcached dropped it after 1 s
	raw_set "$key" "$v" || fail "raw_set failed"
	rel_run "$cfg" get role
	[[ $output == "get role 4 user" ]] ||
		fail "the negative value was served $((3)) s after its 1 s negative_ttl: $output $stderr"
}

@test "break(c): stale = 2 past ttl = 1: written back after ttl + stale it is refused; inside, after an own invalidation, refused too" {
	local cfg
	cfg=$(seal_config st 'ttl = 1' 'stale = 2')
	saved_role "$cfg"
	printf banned >"$REL_DB/role"
	sleep 4.5
	raw_set "$KEY" "$V" || fail "raw_set failed"
	rel_run "$cfg" get role
	assert_output "get role 6 banned"
	# inside ttl + stale: the process invalidated it itself, then the replay
	# (past the ttl: the replay is a stale value)
	txc_mc_flush
	saved_role "$cfg"
	own_replay "$cfg" 1.2
}

@test "break(c): the near cache (local_ttl = 600): a replay after the process's own invalidation is refused" {
	local cfg
	cfg=$(seal_config near 'local_ttl = 600')
	saved_role "$cfg"
	own_replay "$cfg"
}

@test "break(c): verify mode (verify = 1): a replay after the process's own invalidation is refused" {
	unset TXCACHE_VERIFY # the config's verify = 1 decides (the variable would override it)
	local cfg
	cfg=$(seal_config ver 'verify = 1')
	saved_role "$cfg"
	own_replay "$cfg"
	# its last lookup was a miss (the replay refused), not a verified hit
	[[ $(grep -E '^txcache: (hit|miss) rel_get' "$BATS_TEST_TMPDIR/out.err" | tail -n 1) == "txcache: miss rel_get"* ]] ||
		fail "a hit: $(cat "$BATS_TEST_TMPDIR/out.err")"
}

@test "break(c): the stampede lock: a process that invalidated waits on a forged lock, the replay lands meanwhile: refused" {
	local cfg flag=$BATS_TEST_TMPDIR/flag out=$BATS_TEST_TMPDIR/out tok=$BATS_TEST_TMPDIR/tok
	cfg=$(seal_config lock 'lock = yes' 'lock_timeout_ms = 4000')
	saved_role "$cfg"
	env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$cfg" \
		"$REL" setwait role banned "$flag" >"$out" 2>"$out.err" &
	local pid=$!
	wait_line "$out" '^set role 0' || fail "no set: $(cat "$out" "$out.err")"
	# the attacker holds the lock, so the process's miss waits and polls
	printf 'attackertoken' >"$tok"
	raw_setx "$KEY:lock" "$tok" 0 30 || fail "raw_setx failed"
	touch "$flag"
	sleep 0.7
	raw_set "$KEY" "$V" || fail "raw_set failed" # lands while it polls
	wait "$pid"
	[[ $(tail -n 1 "$out") == "get role 6 banned" ]] || fail "served: $(cat "$out" "$out.err")"
	# the waiter's polls read the replay and refused it (the path was taken)
	grep -q "refused: made before an invalidation" "$out.err" || fail "$(cat "$out.err")"
}

@test "break(c): txcache_invalidate() in the process (C API), then the replay: refused" {
	saved_role "$AUTH"
	local flag=$BATS_TEST_TMPDIR/flag out=$BATS_TEST_TMPDIR/out
	printf banned >"$REL_DB/role"
	env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$AUTH" \
		"$SD" apiinval role "$flag" >"$out" 2>"$out.err" &
	local pid=$!
	wait_line "$out" '^invalidate 0' || fail "no invalidation: $(cat "$out" "$out.err")"
	raw_set "$KEY" "$V" || fail "raw_set failed"
	touch "$flag"
	wait "$pid"
	[[ $(cat "$out") == "get role 4 user"$'\n'"invalidate 0"$'\n'"get role 6 banned" ]] ||
		fail "served: $(cat "$out" "$out.err")"
}

# api_flush_replay FN GENKEY [evict]: after saved_role, one process reads
# role, calls txcache_flush(FN; "-": NULL, the namespace) and waits; the
# attacker writes the saved value and GENKEY's old counter back (evict: first
# deletes the counter, so that the process recreates it) before each of its
# next two reads, which must not be the replay.
api_flush_replay() {
	local g=$BATS_TEST_TMPDIR/g f1=$BATS_TEST_TMPDIR/f1 f2=$BATS_TEST_TMPDIR/f2 out=$BATS_TEST_TMPDIR/out
	raw_get "$2" "$g" || fail "no counter $2"
	printf banned >"$REL_DB/role"
	env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$AUTH" \
		"$SD" apiflush role "$1" "$f1" "$f2" >"$out" 2>"$out.err" &
	local pid=$!
	wait_line "$out" '^flush 0' || fail "no flush: $(cat "$out" "$out.err")"
	if [[ ${3:-} == evict ]]; then
		mc_raw "delete $2\r\n" >/dev/null
	else
		raw_set "$KEY" "$V" || fail "raw_set failed"
		raw_set "$2" "$g" || fail "raw_set failed"
	fi
	touch "$f1"
	wait_line "$out" '^get role' 2 || fail "no second get: $(cat "$out" "$out.err")"
	raw_set "$KEY" "$V" || fail "raw_set failed"
	raw_set "$2" "$g" || fail "raw_set failed"
	touch "$f2"
	wait "$pid"
	[[ $(cat "$out") == "get role 4 user"$'\n'"flush 0"$'\n'"get role 6 banned"$'\n'"get role 6 banned" ]] ||
		fail "served: $(cat "$out" "$out.err")"
}

@test "break(c): txcache_flush(rel_get) in the process, then the old generation and value written back: refused" {
	saved_role "$AUTH"
	api_flush_replay rel_get "$GKEY"
}

@test "break(c): txcache_flush(NULL) (the namespace) in the process, then the old namespace generation and value written back: refused" {
	saved_role "$AUTH"
	api_flush_replay - "$NSKEY"
}

@test "break(c): another process's namespace flush (txcache flush) that this one saw, then the old namespace generation and value: refused" {
	printf user >"$REL_DB/role"
	local key v=$BATS_TEST_TMPDIR/v ns=$BATS_TEST_TMPDIR/ns f1=$BATS_TEST_TMPDIR/f1 f2=$BATS_TEST_TMPDIR/f2 out=$BATS_TEST_TMPDIR/out
	env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$AUTH" \
		"$REL" getwait role "$f1" "$f2" >"$out" 2>"$out.err" &
	local pid=$!
	wait_line "$out" '^get role' || fail "no get: $(cat "$out" "$out.err")"
	key=$(sed -n 's/^txcache: miss rel_get \([^ ]*\).*/\1/p' "$out.err" | head -n 1)
	raw_get "$key" "$v" || fail "nothing under '$key'"
	raw_get "$NSKEY" "$ns" || fail "no namespace generation"
	printf banned >"$REL_DB/role"
	run "$TXCACHE" flush -c "$AUTH"
	assert_success
	touch "$f1"
	wait_line "$out" '^get role' 2 || fail "no second get"
	raw_set "$key" "$v" || fail "raw_set failed"
	raw_set "$NSKEY" "$ns" || fail "raw_set failed"
	touch "$f2"
	wait "$pid"
	[[ $(cat "$out") == "get role 4 user"$'\n'"get role 6 banned"$'\n'"get role 6 banned" ]] ||
		fail "served: $(cat "$out" "$out.err")"
}

@test "break(c): another process's txcache delete (CLI tombstone) that this one saw, then the replay: refused" {
	printf user >"$REL_DB/role"
	local key v=$BATS_TEST_TMPDIR/v f1=$BATS_TEST_TMPDIR/f1 f2=$BATS_TEST_TMPDIR/f2 out=$BATS_TEST_TMPDIR/out
	env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$AUTH" \
		"$REL" getwait role "$f1" "$f2" >"$out" 2>"$out.err" &
	local pid=$!
	wait_line "$out" '^get role' || fail "no get"
	key=$(sed -n 's/^txcache: miss rel_get \([^ ]*\).*/\1/p' "$out.err" | head -n 1)
	raw_get "$key" "$v" || fail "nothing under '$key'"
	printf banned >"$REL_DB/role"
	run "$TXCACHE" delete -c "$AUTH" rel_get role
	assert_success
	touch "$f1"
	wait_line "$out" '^get role' 2 || fail "no second get"
	raw_set "$key" "$v" || fail "raw_set failed"
	touch "$f2"
	wait "$pid"
	[[ $(cat "$out") == "get role 4 user"$'\n'"get role 6 banned"$'\n'"get role 6 banned" ]] ||
		fail "served: $(cat "$out" "$out.err")"
}

@test "break(c): txcache_flush(rel_get) in the process, its counter evicted and recreated, then the old generation and value back: refused" {
	saved_role "$AUTH"
	api_flush_replay rel_get "$GKEY" evict
}

@test "break(c): 300 more invalidations after its own push the call out of the 256 remembered: the replay is still refused" {
	saved_role "$AUTH"
	local flag=$BATS_TEST_TMPDIR/flag out=$BATS_TEST_TMPDIR/out
	env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$AUTH" \
		"$SD" many role banned 300 "$flag" >"$out" 2>"$out.err" &
	local pid=$!
	wait_line "$out" '^set 300 others' || fail "no sets: $(cat "$out" "$out.err")"
	raw_set "$KEY" "$V" || fail "raw_set failed"
	touch "$flag"
	wait "$pid"
	[[ $(cat "$out") == "get role 4 user"$'\n'"set role 0"$'\n'"set 300 others"$'\n'"get role 6 banned" ]] ||
		fail "served: $(cat "$out" "$out.err")"
}

@test "break(c): 300 tombstones of other calls seen after this call's: the replay is still refused" {
	# P reads role (user); Q invalidates role and role.1 .. role.300; P
	# reads role (sees its tombstone) and the 300 others (their tombstones
	# push role out of the 256 calls remembered); then the replay
	saved_role "$AUTH"
	local i f1=$BATS_TEST_TMPDIR/f1 f2=$BATS_TEST_TMPDIR/f2 out=$BATS_TEST_TMPDIR/out
	env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$AUTH" \
		"$SD" readmany role 300 "$f1" "$f2" >"$out" 2>"$out.err" &
	local pid=$!
	wait_line "$out" '^get role' || fail "no get"
	touch "$BATS_TEST_TMPDIR/now"

	run env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$AUTH" \
		"$SD" many role banned 300 "$BATS_TEST_TMPDIR/now"
	[[ $output == *"set 300 others"* ]] || fail "invalidator: $output"
	touch "$f1"
	wait_line "$out" '^read 300 others' || fail "no reads: $(cat "$out" "$out.err")"
	raw_set "$KEY" "$V" || fail "raw_set failed"
	touch "$f2"
	wait "$pid"
	[[ $(cat "$out") == "get role 4 user"$'\n'"get role 6 banned"$'\n'"read 300 others"$'\n'"get role 6 banned" ]] ||
		fail "served: $(cat "$out" "$out.err")"
}

@test "break(c): fork after the process's own invalidation: neither the child nor the parent is served the replay" {
	saved_role "$AUTH"
	local flag=$BATS_TEST_TMPDIR/flag out=$BATS_TEST_TMPDIR/out
	env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$AUTH" \
		"$SD" forkget role banned "$flag" >"$out" 2>"$out.err" &
	local pid=$!
	wait_line "$out" '^set role 0' || fail "no set: $(cat "$out" "$out.err")"
	raw_set "$KEY" "$V" || fail "raw_set failed"
	touch "$flag"
	wait "$pid"
	grep -qx "child get role 6 banned" "$out" || fail "child served: $(cat "$out" "$out.err")"
	grep -qx "parent get role 6 banned" "$out" || fail "parent served: $(cat "$out" "$out.err")"
}

@test "break(c): a saved tombstone written back over a fresh value is a miss, never a wrong result" {
	printf user >"$REL_DB/role"
	rel_run "$AUTH" get role
	local key tomb=$BATS_TEST_TMPDIR/tomb
	key=$(miss_key rel_get)
	rel_run "$AUTH" set role banned
	raw_get "$key" "$tomb" || fail "no tombstone"
	rel_run "$AUTH" get role
	assert_output "get role 6 banned"
	raw_set "$key" "$tomb" || fail "raw_set failed"
	rel_run "$AUTH" get role
	assert_output "get role 6 banned"
}

@test "break(c): the window, as documented: a fresh process that saw no invalidation is served an unexpired replay, also after a flush whose generation is written back" {
	saved_role "$AUTH"
	local g=$BATS_TEST_TMPDIR/g
	raw_get "$GKEY" "$g" || fail "no generation"
	printf banned >"$REL_DB/role"
	run "$TXCACHE" flush -c "$AUTH" rel_get
	assert_success
	raw_set "$KEY" "$V" || fail "raw_set failed"
	raw_set "$GKEY" "$g" || fail "raw_set failed"
	rel_run "$AUTH" get role
	assert_output "get role 4 user" # the documented window
}

@test "break(c): the process's own generation bump through the shim (invalidates = rel_get(*)), then the old generation and value back: refused" {
	local cfg g=$BATS_TEST_TMPDIR/g f1=$BATS_TEST_TMPDIR/f1 f2=$BATS_TEST_TMPDIR/f2 out=$BATS_TEST_TMPDIR/out
	cfg=$(txc_config star <<EOC
[cache]
servers = $MC_SOCK
namespace = rel
timeout_ms = 2000
secret_file = $SECRET

[function rel_get]
signature = int rel_get(string k, out string[cap] val, size_t cap)
ignore = cap

[function rel_set]
signature = int rel_set(string k, string v)
invalidates = rel_get(*)
EOC
)
	saved_role "$cfg"
	raw_get "$GKEY" "$g" || fail "no generation"
	env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$cfg" \
		"$SD" setwait2 role banned "$f1" "$f2" >"$out" 2>"$out.err" &
	local pid=$!
	wait_line "$out" '^set role 0' || fail "no set: $(cat "$out" "$out.err")"
	raw_set "$KEY" "$V" || fail "raw_set failed"
	raw_set "$GKEY" "$g" || fail "raw_set failed"
	touch "$f1"
	wait_line "$out" '^get role' 2 || fail "no second get"
	raw_set "$KEY" "$V" || fail "raw_set failed"
	raw_set "$GKEY" "$g" || fail "raw_set failed"
	touch "$f2"
	wait "$pid"
	[[ $(cat "$out") == "get role 4 user"$'\n'"set role 0"$'\n'"get role 6 banned"$'\n'"get role 6 banned" ]] ||
		fail "served: $(cat "$out" "$out.err")"
}

# gen_lost HOW: a process reads role ("user"); another flushes rel_get; the
# counter is then lost (HOW: delete, as an eviction or the attacker; garbage,
# which the shim replaces) before this process reads it again: its lookup
# finds no usable counter and makes a new one, so it has looked the call up
# since the invalidation. Then the old generation and value come back.
gen_lost() {
	saved_role "$AUTH"
	local g=$BATS_TEST_TMPDIR/g f1=$BATS_TEST_TMPDIR/f1 f2=$BATS_TEST_TMPDIR/f2 out=$BATS_TEST_TMPDIR/out
	raw_get "$GKEY" "$g" || fail "no generation"
	env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$AUTH" \
		"$SD" getwait2 role "$f1" "$f2" >"$out" 2>"$out.err" &
	local pid=$!
	wait_line "$out" '^get role' || fail "no get: $(cat "$out" "$out.err")"
	run "$TXCACHE" flush -c "$AUTH" rel_get
	assert_success
	if [[ $1 == delete ]]; then
		mc_raw "delete $GKEY\r\n" >/dev/null
	else
		printf 'not a number' >"$BATS_TEST_TMPDIR/junk"
		raw_set "$GKEY" "$BATS_TEST_TMPDIR/junk" || fail "raw_set failed"
	fi
	printf banned >"$REL_DB/role"
	touch "$f1"
	wait_line "$out" '^get role' 2 || fail "no second get"
	raw_set "$KEY" "$V" || fail "raw_set failed"
	raw_set "$GKEY" "$g" || fail "raw_set failed"
	touch "$f2"
	wait "$pid"
	[[ $(cat "$out") == "get role 4 user"$'\n'"get role 6 banned"$'\n'"get role 6 banned" ]] ||
		fail "served: $(cat "$out" "$out.err")"
}

@test "break(c): a flush, its counter evicted, recreated by this process's lookup, then the old generation and value back: refused" {
	# README: "A lost counter is recreated with a random start, never 1, so
	# old entries cannot come back"
	gen_lost delete
}

@test "break(c): a flush, its counter overwritten with garbage and replaced by this process, then the old generation and value back: refused" {
	gen_lost garbage
}

@test "break(near): txcache_invalidate() in the process drops its own near-cache entry (local_ttl = 600)" {
	# "Invalidations made in this process clear entries at once"; no
	# attacker needed: the C API's invalidation, then a near hit
	local cfg flag=$BATS_TEST_TMPDIR/flag out=$BATS_TEST_TMPDIR/out
	cfg=$(seal_config nearapi 'local_ttl = 600')
	printf user >"$REL_DB/role"
	env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$cfg" \
		"$SD" apiinval role "$flag" >"$out" 2>"$out.err" &
	local pid=$!
	wait_line "$out" '^invalidate' || fail "no invalidation: $(cat "$out" "$out.err")"
	printf banned >"$REL_DB/role"
	touch "$flag"
	wait "$pid"
	[[ $(cat "$out") == "get role 4 user"$'\n'"invalidate 0"$'\n'"get role 6 banned" ]] ||
		fail "served: $(cat "$out" "$out.err")"
}

@test "break(c): the window, as documented: a process that read a newer value but no invalidation is served the older replay" {
	# P reads "user"; Q invalidates and stores "banned"; P reads "banned"
	# (a hit: it never saw the tombstone); the attacker writes "user" back;
	# P is served it. Inside the stated window (P saw no invalidation), but
	# P had already been served a value of that key created later: a
	# per-key "newest creation seen" would refuse it (not claimed).
	saved_role "$AUTH"
	local f1=$BATS_TEST_TMPDIR/f1 f2=$BATS_TEST_TMPDIR/f2 out=$BATS_TEST_TMPDIR/out
	env LD_PRELOAD="$(txc_preload)" TXCACHE_CONFIG="$AUTH" \
		"$SD" getwait2 role "$f1" "$f2" >"$out" 2>"$out.err" &
	local pid=$!
	wait_line "$out" '^get role' || fail "no get"
	rel_run "$AUTH" set role banned
	rel_run "$AUTH" get role
	assert_output "get role 6 banned"
	touch "$f1"
	wait_line "$out" '^get role' 2 || fail "no second get"
	raw_set "$KEY" "$V" || fail "raw_set failed"
	touch "$f2"
	wait "$pid"
	[[ $(cat "$out") == "get role 4 user"$'\n'"get role 6 banned"$'\n'"get role 4 user" ]] ||
		fail "not the documented window: $(cat "$out" "$out.err")"
}

@test "break(c): a value written by txcache set (ttl = 2), saved and written back after 3.5 s, is refused" {
	local cfg key v=$BATS_TEST_TMPDIR/v
	cfg=$(rel_config tset "$MC_SOCK" "secret_file = $SECRET
ttl = 2")
	run "$TXCACHE" set -c "$cfg" --library "$FIXTURES/librel.so" rel_get role -- 4 user
	assert_success
	run "$TXCACHE" key -c "$cfg" --library "$FIXTURES/librel.so" rel_get role
	key=${output%%[[:space:]]*}
	raw_get "$key" "$v" || fail "txcache set stored nothing under $key"
	printf banned >"$REL_DB/role"
	rel_run "$cfg" get role # control: the shim reads that key
	assert_output "get role 4 user"
	sleep 3.5
	raw_set "$key" "$v" || fail "raw_set failed"
	rel_run "$cfg" get role
	assert_output "get role 6 banned"
}
