# shellcheck shell=bash
# memcached.sh - start and stop private memcached instances for tests and the demo.
#
# Source it; it defines functions only and changes no shell options.
#
#   mc_tmpdir            prints a new short directory (/tmp/txc.XXXXXX): unix
#                        socket paths must stay under 108 bytes, and BATS
#                        temporary directories can be longer than that.
#   mc_start DIR         memcached on the unix socket DIR/mc.sock; exports
#                        MC_SOCK, MC_PID and MC_SERVER (= MC_SOCK).
#   mc_start_tcp DIR [PORT]  memcached on 127.0.0.1:<free port, or PORT>;
#                        exports MC_PORT, MC_PID and MC_SERVER (= 127.0.0.1:MC_PORT).
#   mc_stop DIR          kills the instance whose pid is in DIR/mc.pid (if it
#                        still runs), waits for it to be gone and removes its
#                        socket and pid file.
#   mc_ping SERVER       true when SERVER (socket path or host:port) answers
#                        "version".
#   mc_running PID       true when PID is a running (not zombie) memcached.
#
# Every function returns non-zero with a message on stderr when it fails; none
# exits. Processes are only ever killed by the pid they wrote: never by name,
# since other memcached instances (other test files, the user's own) may run.

# The bound on every wait here: generous, because a loaded machine (two
# cores, several test runs at once) can take seconds to start a process.
# Each wait ends as soon as its condition holds, so an idle machine pays
# nothing for it.
MC_TIMEOUT_S=${MC_TIMEOUT_S:-30}

mc_tmpdir() {
	mktemp -d /tmp/txc.XXXXXX
}

# Absolute path of an existing directory: the socket and pid file must not
# depend on the directory a caller is in later.
_mc_absdir() {
	[[ -d $1 ]] || { echo "memcached.sh: no such directory: $1" >&2; return 1; }
	(cd "$1" && pwd -P)
}

mc_ping() {
	# memcping (libmemcached-tools) sends "version"; it starts in ~10 ms where
	# python3 takes ~300 ms on a small VM.
	memcping --servers="$1" >/dev/null 2>&1
}

# True when PID is a running memcached: guards against a recycled pid, and
# treats a zombie as gone (its parent may reap it late).
mc_running() {
	local stat
	[[ $1 =~ ^[0-9]+$ ]] || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	[[ $stat =~ ^$1\ \(memcached\)\ [^ZX] ]]
}

# True while PID exists and is not a zombie, whatever it runs: a child that
# has not yet exec'd memcached counts as alive.
_mc_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	[[ ! $stat =~ ^[0-9]+\ \(.*\)\ [ZX]\  ]]
}

# _mc_launch DIR SERVER ARG...: memcached ARG... in the background, its pid
# in DIR/mc.pid, then waits until SERVER answers. It is not started with -d:
# its pid is then known at once, so a failed bind shows as a process that
# is gone, while a daemon's missing pid file could as well mean a machine
# too busy to have run it yet. Fails after MC_TIMEOUT_S seconds, or at once
# when the process exits, with memcached's own message.
_mc_launch() {
	local dir=$1 server=$2 pid end
	shift 2
	# fd 3 closed: bats waits for every holder of its fd 3 to exit.
	memcached -u root -m 64 "$@" </dev/null >/dev/null 2>"$dir/mc.err" 3>&- &
	pid=$!
	disown "$pid" 2>/dev/null || true
	echo "$pid" >"$dir/mc.pid"
	end=$((SECONDS + MC_TIMEOUT_S))
	while ((SECONDS <= end)); do
		if mc_running "$pid" && mc_ping "$server"; then
			export MC_PID=$pid MC_SERVER=$server
			return 0
		fi
		_mc_alive "$pid" || break
		sleep 0.05
	done
	echo "memcached.sh: memcached on $server did not start or answer within" \
		"${MC_TIMEOUT_S}s: $(head -c 300 "$dir/mc.err" 2>/dev/null)" >&2
	if _mc_alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/mc.pid"
	return 1
}

# Refuses to start over a live instance; clears files a dead one left behind.
_mc_prepare() {
	local dir=$1 pid
	pid=$(cat "$dir/mc.pid" 2>/dev/null || true)
	if mc_running "$pid"; then
		echo "memcached.sh: $dir already has a running memcached (pid $pid)" >&2
		return 1
	fi
	rm -f "$dir/mc.pid" "$dir/mc.sock"
}

mc_start() {
	local dir sock
	dir=$(_mc_absdir "$1") || return 1
	sock=$dir/mc.sock
	if ((${#sock} >= 108)); then
		echo "memcached.sh: socket path too long (${#sock} bytes): $sock" >&2
		return 1
	fi
	_mc_prepare "$dir" || return 1
	_mc_launch "$dir" "$sock" -s "$sock" -a 0700 || return 1
	export MC_SOCK=$sock
}

# Prints a TCP port that was free a moment ago on 127.0.0.1.
_mc_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# mc_start_tcp DIR [PORT]: PORT given (a restart on the port of a stopped
# instance) is used as it is; else a free port, retried when another
# process takes it between the probe and memcached's bind.
mc_start_tcp() {
	local dir port _
	dir=$(_mc_absdir "$1") || return 1
	_mc_prepare "$dir" || return 1
	for _ in 1 2 3; do
		port=${2:-}
		[[ -n $port ]] || port=$(_mc_free_port) || return 1
		if _mc_launch "$dir" "127.0.0.1:$port" -l 127.0.0.1 -p "$port" -U 0; then
			export MC_PORT=$port
			return 0
		fi
		[[ -z ${2:-} ]] || return 1
	done
	echo "memcached.sh: could not start memcached on a TCP port" >&2
	return 1
}

mc_stop() {
	local dir pid end
	dir=$(_mc_absdir "$1") || return 1
	pid=$(cat "$dir/mc.pid" 2>/dev/null || true)
	if mc_running "$pid"; then
		# SIGKILL: memcached notices SIGTERM only on its next one-second
		# clock tick, and a test cache has nothing worth a clean exit.
		kill -KILL "$pid" 2>/dev/null || true
	fi
	# Also after a kill by the caller (a crash test): wait until it is gone.
	end=$((SECONDS + MC_TIMEOUT_S))
	while mc_running "$pid" && ((SECONDS <= end)); do
		sleep 0.01
	done
	if mc_running "$pid"; then
		echo "memcached.sh: memcached pid $pid did not exit" >&2
		return 1
	fi
	# memcached leaves both behind on exit.
	rm -f "$dir/mc.pid" "$dir/mc.sock" "$dir/mc.err"
}
