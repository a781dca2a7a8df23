#!/usr/bin/env bash
# Makes sure the Debian packages that `make check` and `make demo` need are
# installed. Quiet when they are; installs them when run as root; otherwise
# prints the apt-get line to run and fails.
set -euo pipefail

PKGS=(
	build-essential pkg-config
	libmemcached-dev libmemcached-tools libffi-dev libinih-dev libxxhash-dev
	memcached
	bats bats-assert bats-support bats-file
	whois      # mkpasswd: a real program calling crypt(), used by tests and the demo
	faketime   # stacking test: another LD_PRELOAD shim
	python3    # free ports and fault-injection listeners in tests
	strace     # proof that start-up does no network I/O (78_deadline)
	bsdutils   # script(1): a terminal for the out fd tests
	clang libclang-rt-14-dev # libFuzzer
	libsodium-dev  # keyed BLAKE2b for secret_file authentication
	nutcracker     # twemproxy: tests through a proxy
	valgrind       # memcheck run of the examples
	hyperfine gnuplot-nox  # make bench: timing and the latency picture
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross  # the ELF code compiles for aarch64
	squashfs-tools libzstd-dev  # mksquashfs -comp zstd: ZSTD_compressCCtx cached (41_zstd)
	sasl2-bin libsasl2-modules  # saslpasswd2 (the user database of memcached -S) and PLAIN (43_sasl)
	zlib1g-dev  # zlib.h: compress2/uncompress with inout *destLen (14_siglang)
	libargon2-dev libssl-dev  # the catalogue's drivers link the real libraries (67_catalogue)
	debhelper dpkg-dev lintian  # make deb and 69_deb (Rules-Requires-Root: no, so no fakeroot)
	linux-perf  # perf record: the profiles behind tests/bench/notes.md (not run by make bench)
)

# One dpkg-query for all: unknown packages are simply absent from its output.
declare -A ok=()
while read -r name status; do
	[[ $status == "install ok installed" ]] && ok[${name%%:*}]=1
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${PKGS[@]}" 2>/dev/null || true)

missing=()
for p in "${PKGS[@]}"; do
	[[ -n ${ok[$p]:-} ]] || missing+=("$p")
done

((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 ]]; then
	echo "txcache: missing packages; run as root:" >&2
	echo "apt-get install -y ${missing[*]}" >&2
	exit 1
fi

echo "txcache: installing ${missing[*]}" >&2
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
