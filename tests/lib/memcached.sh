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
#   mc_start_tcp DIR     memcached on 127.0.0.1:<free port>; exports MC_PORT,
#                        MC_PID and MC_SERVER (= 127.0.0.1:MC_PORT).
#   mc_stop DIR          kills the instance whose pid is in DIR/mc.pid, waits
#                        for it to exit and removes its socket and pid file.
#   mc_ping SERVER       true when SERVER (socket path or host:port) answers
#                        "version".
#   mc_running PID       true when PID is a running (not zombie) memcached.
#
# Every function returns non-zero with a message on stderr when it fails; none
# exits. Processes are only ever killed by the pid they wrote: never by name,
# since other memcached instances (other test files, the user's own) may run.

MC_TIMEOUT_S=${MC_TIMEOUT_S:-5}

mc_tmpdir() {
	mktemp -d /tmp/txc.XXXXXX
}

# Absolute path of an existing directory (memcached chdirs to / when it
# daemonizes, so relative paths would point elsewhere).
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
# treats a zombie as gone (a daemon's parent is init, which may reap late).
mc_running() {
	local stat
	[[ $1 =~ ^[0-9]+$ ]] || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	[[ $stat =~ ^$1\ \(memcached\)\ [^ZX] ]]
}

# Waits until the pid file names a live memcached and SERVER answers.
_mc_wait_ready() {
	local dir=$1 server=$2 i pid=
	for ((i = 0; i < MC_TIMEOUT_S * 20; i++)); do
		pid=$(cat "$dir/mc.pid" 2>/dev/null || true)
		if mc_running "$pid"; then
			if mc_ping "$server"; then
				export MC_PID=$pid MC_SERVER=$server
				return 0
			fi
		elif [[ -n $pid ]] || ((i >= 40)); then
			# The daemon writes its pid file only after binding: a
			# bind failure shows as no pid file (the daemon's parent
			# already exited 0), or as a pid that died at once.
			break
		fi
		sleep 0.05
	done
	echo "memcached.sh: memcached on $server did not start or answer" >&2
	[[ -n $pid ]] && mc_running "$pid" && kill "$pid" 2>/dev/null
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
	# fd 3 closed: bats waits for every holder of its fd 3 to exit.
	memcached -u root -s "$sock" -P "$dir/mc.pid" -d -m 64 -a 0700 3>&- || {
		echo "memcached.sh: memcached failed to start on $sock" >&2
		return 1
	}
	_mc_wait_ready "$dir" "$sock" || return 1
	export MC_SOCK=$sock
}

# Prints a TCP port that was free a moment ago on 127.0.0.1.
_mc_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

mc_start_tcp() {
	local dir port _
	dir=$(_mc_absdir "$1") || return 1
	_mc_prepare "$dir" || return 1
	# Another process can take the port between the probe and memcached's
	# bind: then memcached exits at once, and we try another port.
	for _ in 1 2 3; do
		port=$(_mc_free_port) || return 1
		memcached -u root -l 127.0.0.1 -p "$port" -U 0 -P "$dir/mc.pid" -d -m 64 \
			3>&- 2>/dev/null || continue
		if _mc_wait_ready "$dir" "127.0.0.1:$port" 2>/dev/null; then
			export MC_PORT=$port
			return 0
		fi
		rm -f "$dir/mc.pid"
	done
	echo "memcached.sh: could not start memcached on a TCP port" >&2
	return 1
}

mc_stop() {
	local dir pid i
	dir=$(_mc_absdir "$1") || return 1
	pid=$(cat "$dir/mc.pid" 2>/dev/null || true)
	if mc_running "$pid"; then
		# SIGKILL: memcached notices SIGTERM only on its next one-second
		# clock tick, and a test cache has nothing worth a clean exit.
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < MC_TIMEOUT_S * 100; i++)); do
			mc_running "$pid" || break
			sleep 0.01
		done
		if mc_running "$pid"; then
			echo "memcached.sh: memcached pid $pid did not exit" >&2
			return 1
		fi
	fi
	# memcached leaves both behind on exit.
	rm -f "$dir/mc.pid" "$dir/mc.sock"
}
