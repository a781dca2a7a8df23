#!/usr/bin/env bats
# Acceptance (issue 13): ZSTD_compressCCtx, whose errors are size_t values
# near 2^64, cached from a real program: mksquashfs -comp zstd. The image
# is byte-identical uncached, on the first cached run (misses, stores) and
# on the rerun (hits). Blocks zstd cannot shrink into block_size come back
# as the error dstSize_tooSmall (mksquashfs then stores them raw): cache_if
# keeps those out, so they miss on every run, and the image is still right.

load helpers

setup_file() {
	command -v mksquashfs >/dev/null || skip "mksquashfs not installed (squashfs-tools)"
	txc_mc_start
	SRC=$BATS_FILE_TMPDIR/src
	export SRC
	mkdir -p "$SRC/sub"
	# a few MB, the same on every run: text that compresses, random bytes
	# that do not, and small files that become fragments
	python3 -S - "$SRC" <<'EOF'
import random, sys
d = sys.argv[1]
r = random.Random(42)
words = ["alpha", "beta", "gamma", "delta", "squash", "cache", "block", "fragment"]
for i in range(6):
    with open("%s/text%d.txt" % (d, i), "w") as f:
        for j in range(20000):
            f.write(" ".join(r.choice(words) for _ in range(8)) + "\n")
with open(d + "/sub/random.bin", "wb") as f:
    f.write(bytes(r.getrandbits(8) for _ in range(600000)))
for i in range(20):
    with open("%s/sub/small%d" % (d, i), "w") as f:
        f.write("small file %d\n" % i * (i + 1))
EOF
}

teardown_file() {
	txc_mc_stop
}

zstd_cfg() {
	txc_config "zstd${1:+_$1}" <<EOF
[cache]
servers = $MC_SOCK
namespace = zstd
timeout_ms = 2000
log = info

[function ZSTD_compressCCtx]
signature = size_t ZSTD_compressCCtx(ptr cctx, out bytes[dstCapacity:ret] dst, size_t dstCapacity, bytes[srcSize] src, size_t srcSize, int level)
cache_if = ret < 18446744073709551000${1:+ or ret == 18446744073709551546}
${1:+outs_if = ret < 18446744073709551000}
EOF
}

# squash IMG PROCESSORS [CONFIG]: a deterministic image of SRC.
squash() {
	local img=$1 procs=$2 cfg=${3:-}
	local args=("$SRC" "$img" -noappend -comp zstd -all-time 0 -mkfs-time 0 -all-root
		-processors "$procs" -no-progress -quiet)
	if [[ -n $cfg ]]; then
		run_shim --separate-stderr "$cfg" mksquashfs "${args[@]}"
	else
		run --separate-stderr mksquashfs "${args[@]}"
	fi
	[[ $status -eq 0 ]] || { echo "mksquashfs: status $status: $output $stderr"; return 1; }
}

# stat_of NAME: a counter from the shim's exit line "stats ZSTD_compressCCtx: ...".
stat_of() {
	sed -n "s/^txcache: stats ZSTD_compressCCtx: .*\\b$1=\\([0-9]*\\).*/\\1/p" <<<"$stderr" |
		tail -n 1
}

three_ways() {
	local procs=$1 neg=${2:-} cfg t=$BATS_TEST_TMPDIR
	cfg=$(zstd_cfg "$neg")
	txc_mc_flush
	squash "$t/plain.img" "$procs" || return 1
	squash "$t/first.img" "$procs" "$cfg" || return 1
	local misses stores hits
	misses=$(stat_of misses) stores=$(stat_of stores) hits=$(stat_of hits)
	[[ $misses -gt 0 && $stores -gt 0 && $hits -eq 0 ]] || {
		echo "first run: misses=$misses stores=$stores hits=$hits"
		echo "$stderr" | tail -n 5
		return 1
	}
	# the random file's blocks do not shrink: zstd returned dstSize_tooSmall
	# (not stored without outs_if, stored without dst with it)
	[[ -n $neg || $misses -gt $stores ]] || { echo "no error value met: $misses, $stores"; return 1; }
	[[ -z $neg || $misses -eq $stores ]] || { echo "outs_if: $misses misses, $stores stored"; return 1; }
	squash "$t/rerun.img" "$procs" "$cfg" || return 1
	hits=$(stat_of hits)
	local again
	again=$(stat_of misses)
	[[ $hits -eq $stores ]] || { echo "rerun: hits=$hits, first run stored $stores"; return 1; }
	# the misses left are the blocks zstd could not shrink (error values);
	# with negative caching there are none
	[[ -z $neg || $again -eq 0 ]] || { echo "rerun with outs_if: misses=$again"; return 1; }
	[[ $again -eq $((misses - stores)) ]] || {
		echo "rerun: misses=$again, want $misses - $stores"
		return 1
	}
	cmp "$t/plain.img" "$t/first.img" || return 1
	cmp "$t/plain.img" "$t/rerun.img" || return 1
}

@test "mksquashfs -comp zstd, one thread: uncached, first run and rerun images are byte-identical; the rerun hits" {
	three_ways 1
}

@test "mksquashfs -comp zstd, two compressor threads: the same" {
	three_ways 2
}

@test "negative caching: dstSize_tooSmall stored without dst (outs_if); the rerun misses nothing, same image" {
	# mksquashfs reads nothing of dst after that error: it stores the
	# block raw. The random file's blocks do not shrink, so the first run
	# meets the error.
	three_ways 1 neg
}

@test "a ZSTD error value (dstCapacity too small) is not stored; a good result is" {
	local zd=$FIXTURES/cond_zstd
	[[ -x $zd ]] || skip "cond_zstd not built (libzstd-dev not installed)"
	cfg=$(zstd_cfg)
	txc_mc_flush
	run "$zd" 1
	[[ $output == *" error 1 "* ]] || { echo "capacity 1 did not fail: $output"; return 1; }
	want=$output
	for i in 1 2; do
		run_shim --separate-stderr "$cfg" "$zd" 1
		[[ $status -eq 0 && $output == "$want" ]] || { echo "$output / $want"; return 1; }
		[[ $stderr == *"not stored: cache_if"* && $stderr != *"hit ZSTD"* ]] || {
			echo "run $i: $stderr"
			return 1
		}
	done
	run "$zd" 8000
	want=$output
	run_shim --separate-stderr "$cfg" "$zd" 8000
	[[ $output == "$want" && $(stat_of stores) -eq 1 ]] || { echo "$output: $stderr"; return 1; }
	run_shim --separate-stderr "$cfg" "$zd" 8000
	[[ $output == "$want" && $(stat_of hits) -eq 1 ]] || { echo "$output: $stderr"; return 1; }
}
