#!/usr/bin/env bats
# The config file: `txcache check` on good and bad files (each problem named
# as FILE:LINE), and the shim given a bad or missing file: one report on
# stderr, then the program runs exactly as without the shim.

load helpers
load kinds_helpers

setup_file() {
	kinds_setup_file
}

teardown_file() {
	kinds_teardown_file
}

setup() {
	kinds_setup
	# The default level (warn): what a user sees.
	unset TXCACHE_LOG
}

# lineno FILE TEXT: the number of the first line of FILE containing TEXT.
lineno() {
	local n
	n=$(grep -n -F -m1 -- "$2" "$1" | cut -d: -f1)
	[[ -n $n ]] || {
		echo "lineno: '$2' not in $1" >&2
		return 1
	}
	echo "$n"
}

# has_line REGEX: some stderr line of the last run matches REGEX (extended,
# case-insensitive after the FILE:LINE prefix the caller puts first).
has_line() {
	local line
	shopt -s nocasematch
	while IFS= read -r line; do
		if [[ $line =~ $1 ]]; then
			shopt -u nocasematch
			return 0
		fi
	done <<<"${stderr:-}"
	shopt -u nocasematch
	kinds_fail "no stderr line matches /$1/"
}

# A regex matching TEXT literally.
re_quote() {
	printf '%s' "$1" | sed 's/[][\.|$(){}?+*^]/\\&/g'
}

# check_fails CFG LINE WORDS: `txcache check` exits 65 and reports
# "CFG:LINE: ..." mentioning WORDS (an extended regex). LINE "" means a
# problem of the whole file ("CFG: ..." or "CFG:N: ...").
check_fails() {
	local cfg=$1 line=$2 words=$3 prefix
	prefix="^$(re_quote "$cfg")"
	if [[ -n $line ]]; then
		prefix+=":$line: "
	else
		prefix+="(:[0-9]+)?: "
	fi
	run_txcache --separate-stderr check -c "$cfg"
	[[ $status -eq 65 ]] || { kinds_fail "txcache check: expected exit 65 (EX_DATAERR)"; return 1; }
	has_line "$prefix.*($words)" || return 1
}

good_config() {
	txc_config good <<EOF
[cache]
servers = $MC_SOCK
namespace = cfg
ttl = 0
timeout_ms = 200
log = warn

[function k_greet]
signature = int k_greet(string name, out string[cap] buf, size_t cap)
ttl = 60
ignore = cap                 ; left out of the key
cache_if = ret >= 0

[function k_get]
signature = int k_get(string name)

[function k_all]
signature = int k_all(int x)

[function k_set]
signature = int k_set(string name, int v)
invalidates = k_get(name), k_all(*)   ; a mutator
EOF
}

@test "check: a good config" {
	cfg=$(good_config)
	run_txcache --separate-stderr check -c "$cfg"
	expect_status 0
	[[ $output == "$cfg: ok: "* ]] || kinds_fail "expected '$cfg: ok: ...'"
	[[ -z $stderr ]] || kinds_fail "a good config prints nothing on stderr"
}

@test "check: every type of the signature language" {
	cfg=$(txc_config types <<EOF
[cache]
servers = $MC_SOCK

[function f1]
signature = char f1(signed char a, unsigned char b, short c, unsigned short d, int e, unsigned f, unsigned int g)
[function f2]
signature = long f2(unsigned long a, long long b, unsigned long long c, size_t d, ssize_t e, bool f)
[function f3]
signature = double f3(int8_t a, uint8_t b, int16_t c, uint16_t d, int32_t e, uint32_t f, int64_t g, uint64_t h, float i)
[function f4]
signature = void f4(string s, bytes[n] b, size_t n, ptr p, out string[cap] o, size_t cap)
[function f5]
signature = ssize_t f5(out bytes[cap:ret] a, out bytes[cap:len] b, size_t cap, int len, out bytes[16] c, out double *d)
[function f6]
signature = string f6(int x)
[function f7]
signature = owned string f7(int x)
EOF
	)
	run_txcache --separate-stderr check -c "$cfg"
	expect_status 0
	[[ $output == "$cfg: ok: 7 functions"* ]] || kinds_fail "expected '$cfg: ok: 7 functions...'"
}

@test "check: unknown type in a signature" {
	cfg=$(txc_config badtype <<EOF
[cache]
servers = $MC_SOCK

[function k_strlen]
signature = int k_strlen(strng s)
EOF
	)
	check_fails "$cfg" "$(lineno "$cfg" strng)" 'strng|type'
}

@test "check: bad ttl values, every one reported" {
	cfg=$(txc_config badttl <<EOF
[cache]
servers = $MC_SOCK
ttl = soon

[function k_int]
signature = int k_int(int x)
ttl = -5
EOF
	)
	check_fails "$cfg" "$(lineno "$cfg" 'ttl = soon')" 'ttl'
	has_line "^$(re_quote "$cfg"):$(lineno "$cfg" 'ttl = -5'): .*ttl"
}

@test "check: missing servers" {
	cfg=$(txc_config noservers <<'EOF'
[cache]
namespace = x

[function k_int]
signature = int k_int(int x)
EOF
	)
	check_fails "$cfg" "" 'server'
}

@test "check: invalidates naming an unknown function" {
	cfg=$(txc_config badinval <<EOF
[cache]
servers = $MC_SOCK

[function k_get]
signature = int k_get(string name)

[function k_set]
signature = int k_set(string name, int v)
invalidates = k_get(name), k_nope(*)
EOF
	)
	check_fails "$cfg" "$(lineno "$cfg" k_nope)" 'k_nope'
}

@test "check: invalidates with an argument the mutator does not have" {
	cfg=$(txc_config badinvalarg <<EOF
[cache]
servers = $MC_SOCK

[function k_get]
signature = int k_get(string name)

[function k_set]
signature = int k_set(string name, int v)
invalidates = k_get(nobody)
EOF
	)
	check_fails "$cfg" "$(lineno "$cfg" nobody)" 'nobody'
}

@test "check: invalidates naming a parameter that ignore leaves unread" {
	# Without the check, k_set("bob", 1) would drop k_get("") and leave
	# k_get("bob") cached: `ignore` means the shim never reads the value.
	cfg=$(txc_config badinvalignore <<EOF
[cache]
servers = $MC_SOCK

[function k_get]
signature = int k_get(string name)

[function k_set]
signature = int k_set(string name, int v)
ignore = name, v
invalidates = k_get(name)
EOF
	)
	check_fails "$cfg" "$(lineno "$cfg" invalidates)" "'name' is listed in ignore \(line $(lineno "$cfg" ignore)\)"
	# ignoring a parameter that no invalidates names stays fine
	sed -i 's/^ignore = name, v$/ignore = v/' "$cfg"
	run_txcache --separate-stderr check -c "$cfg"
	expect_status 0
}

@test "check: duplicate key" {
	cfg=$(txc_config dupkey <<EOF
[cache]
servers = $MC_SOCK
namespace = first
namespace = second

[function k_int]
signature = int k_int(int x)
EOF
	)
	check_fails "$cfg" "$(lineno "$cfg" second)" 'namespace|duplicate'
}

@test "check: bad cache_if" {
	cfg=$(txc_config badcond <<EOF
[cache]
servers = $MC_SOCK

[function k_int]
signature = int k_int(int x)
cache_if = ret >> 0
EOF
	)
	check_fails "$cfg" "$(lineno "$cfg" cache_if)" 'cache_if|ret|operator|condition'
}

@test "check: an ignore name longer than 63 bytes is one error, and nothing uninitialised is read" {
	local long
	long=$(printf 'p%.0s' {1..70})
	cfg=$(txc_config longignore <<EOF
[cache]
servers = $MC_SOCK

[function k_int]
signature = int k_int(int x)
ignore = $long
EOF
	)
	check_fails "$cfg" "$(lineno "$cfg" "ignore =")" 'longer than 63'
	[[ $stderr != *"no parameter named"* ]] || kinds_fail "a false 'no parameter named' came first"
	command -v valgrind >/dev/null || return 0
	# an ASan build is checked by ASan itself: valgrind cannot run it
	[[ ${TXCACHE_ASAN:-} != 1 ]] || return 0
	run --separate-stderr valgrind -q --error-exitcode=99 "$TXCACHE" check -c "$cfg"
	[[ $status -eq 65 ]] || kinds_fail "valgrind: status $status (99: a memory error)"
}

@test "check: string arguments cached on a server that is not local, without secret_file, are a warning with FILE:LINE" {
	# issue 14, point 6: a key is an unkeyed hash of the arguments, a value
	# plain bytes: whoever reaches a remote memcached can test guesses
	secret=$BATS_TEST_TMPDIR/secret
	head -c 32 /dev/urandom >"$secret"
	chmod 600 "$secret"
	for servers in 192.0.2.7:11211 db.example.org:11211 "$MC_SOCK" 127.0.0.1:11211 \
		127.9.9.9:11211 localhost:11211 "192.0.2.7:11211|secret_file = $secret"; do
		cfg=$(txc_config exposed <<EOF
[cache]
servers = ${servers%%|*}
$([[ $servers == *"|"* ]] && echo "${servers#*|}")

[function crypt]
signature = string crypt(string phrase, string setting)

[function k_int]
signature = int k_int(int x)
EOF
		)
		run_txcache --separate-stderr check -c "$cfg"
		expect_status 0
		case $servers in
		192.0.2.7:11211 | db.example.org:11211)
			has_line "^$(re_quote "$cfg"):$(lineno "$cfg" "function crypt"): warning: crypt: its string/bytes argument 1 \(phrase\) goes to ${servers%%:*}, which is not a local socket or loopback, without secret_file"
			[[ $stderr != *"k_int"* ]] || kinds_fail "an int-only function warned" ;;
		*)
			[[ $stderr != *"without secret_file"* ]] || kinds_fail "$servers: warned" ;;
		esac
	done
}

@test "check: an unknown key is only a warning" {
	cfg=$(txc_config unknownkey <<EOF
[cache]
servers = $MC_SOCK

[function k_int]
signature = int k_int(int x)
colour = blue
EOF
	)
	run_txcache --separate-stderr check -c "$cfg"
	expect_status 0
	[[ $output == "$cfg: ok: "* ]] || kinds_fail "expected '$cfg: ok: ...'"
	has_line "^$(re_quote "$cfg"):$(lineno "$cfg" colour): .*colour"
}

@test "check: missing file" {
	run_txcache --separate-stderr check -c "$BATS_TEST_TMPDIR/nope.ini"
	expect_status 65
	has_line "^$(re_quote "$BATS_TEST_TMPDIR/nope.ini"): "
}

@test "shim: a good config is silent at the default log level" {
	cfg=$(kinds_config quiet <<'EOF'
[function k_int]
signature = int k_int(int x)
EOF
	)
	kd_shim "$cfg" int 4
	expect_out 'k_int 4 -> 13'
	[[ -z $stderr ]] || kinds_fail "expected nothing on stderr"
}

@test "shim: a bad config is reported, and the program runs unchanged and uncached" {
	cfg=$(kinds_config bad <<'EOF'
[function k_int]
signature = int k_int(int x)
ttl = never
EOF
	)
	kd exit 7
	kinds_keep_ref
	expect_status 7
	kd_shim "$cfg" exit 7
	assert_same_as_plain
	has_line "^txcache: $(re_quote "$cfg"):$(lineno "$cfg" never): "
	kd_shim "$cfg" exit 7
	assert_same_as_plain
	assert_calls 3 "nothing is cached under a bad config"
}

@test "shim: a missing config file is one line, and the program runs unchanged" {
	missing=$BATS_TEST_TMPDIR/nope.ini
	kd exit 3
	kinds_keep_ref
	kd_shim "$missing" exit 3
	assert_same_as_plain
	[[ $(grep -c . <<<"$stderr") -eq 1 ]] || kinds_fail "expected exactly one line on stderr"
	[[ $stderr == "txcache: "*"$missing"* ]] || kinds_fail "expected 'txcache: ...$missing...'"
	kd_shim "$missing" exit 3
	assert_calls 3
}
