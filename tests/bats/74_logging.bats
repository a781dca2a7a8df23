#!/usr/bin/env bats
# Where the shim's log lines go. A daemon that closes fd 2 and reuses the
# number for its own data must never find "txcache:" lines in that data;
# log_file sends lines to a file of txcache's own, and syslog is a target.

load helpers

setup_file() {
	txc_mc_start
}

teardown_file() {
	txc_mc_stop
}

setup() {
	txc_mc_flush
}

logcfg() {
	txc_config "$1" <<EOF
[cache]
servers = $MC_SOCK
namespace = logging
log = info
$2

[function pow]
signature = double pow(double x, double y)
EOF
}

@test "a reused fd 2 never receives log lines: the data file holds only the data" {
	local cfg data=$BATS_TEST_TMPDIR/data
	cfg=$(logcfg plain "")
	run "$FIXTURES/logfd" "$data" 6
	[[ $status -eq 0 ]] || { echo "plain: status $status"; return 1; }
	local plain=$output
	run_shim --separate-stderr "$cfg" "$FIXTURES/logfd" "$data" 6
	[[ $status -eq 0 ]] || { echo "shim: status $status $output"; return 1; }
	[[ $output == "$plain" ]] || { echo "stdout differs: $output"; return 1; }
	run cat "$data"
	[[ $output == "$(printf 'data %d\n' 0 1 2 3 4 5)" ]] || {
		echo "data file polluted:"
		cat -A "$data"
		return 1
	}
}

@test "log_file receives the lines the program's own fd 2 did not" {
	local cfg data=$BATS_TEST_TMPDIR/data log=$BATS_TEST_TMPDIR/txc.log
	cfg=$(logcfg file "log_file = $log")
	run_shim "$cfg" "$FIXTURES/logfd" "$data" 6
	[[ $status -eq 0 ]] || { echo "status $status"; return 1; }
	grep -q '^txcache: miss pow ' "$log" || { echo "no miss line in log_file:"; cat "$log"; return 1; }
	grep -q '^txcache: hit pow ' "$log" || { echo "no hit line in log_file"; return 1; }
	[[ $(stat -c %a "$log") == 600 ]] || { echo "log_file mode $(stat -c %a "$log")"; return 1; }
	! grep -q txcache "$data" || { echo "data file polluted"; return 1; }
}

@test "log_file: a program whose stderr is intact logs nothing there" {
	local cfg log=$BATS_TEST_TMPDIR/txc.log
	cfg=$(logcfg file2 "log_file = $log")
	run_shim --separate-stderr "$cfg" "$FIXTURES/logfd" "$BATS_TEST_TMPDIR/d" 2
	[[ $status -eq 0 ]] || { echo "status $status"; return 1; }
	[[ -z $stderr ]] || { echo "stderr: $stderr"; return 1; }
	[[ -s $log ]] || { echo "log_file empty"; return 1; }
}

@test "log_file that cannot be opened: one warning on stderr, the program is unchanged" {
	local cfg
	cfg=$(logcfg bad "log_file = /nonexistent-dir/x.log")
	run_shim --separate-stderr "$cfg" sh -c 'echo ok'
	[[ $status -eq 0 && $output == ok ]] || { echo "status $status output $output"; return 1; }
	[[ $stderr == *"log_file /nonexistent-dir/x.log: cannot open"* ]] || {
		echo "stderr: $stderr"
		return 1
	}
}

@test "log_file must be absolute, syslog or stderr: FILE:LINE from txcache check" {
	local cfg
	cfg=$(logcfg rel "log_file = relative.log")
	run_txcache check -c "$cfg"
	[[ $status -eq 65 ]] || { echo "status $status: $output"; return 1; }
	[[ $output == *"rel.ini:5: log_file: 'relative.log' must be an absolute path"* ]] || {
		echo "$output"
		return 1
	}
}

@test "log_file = syslog: no line on stderr, the program is unchanged" {
	local cfg
	cfg=$(logcfg sys "log_file = syslog")
	run_shim --separate-stderr "$cfg" "$FIXTURES/logfd" "$BATS_TEST_TMPDIR/d" 3
	[[ $status -eq 0 ]] || { echo "status $status"; return 1; }
	[[ $output == "$(printf '1\n2\n4')" ]] || { echo "stdout: $output"; return 1; }
	[[ -z $stderr ]] || { echo "stderr: $stderr"; return 1; }
}
