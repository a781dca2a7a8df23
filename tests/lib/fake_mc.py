#!/usr/bin/env python3
"""A fake memcached (ASCII) on 127.0.0.1 for the store fault tests.

usage: fake_mc.py MODE PORTFILE LOGFILE [LIFETIME_S]
  drip          valid replies, one byte every 100 ms (a get misses: END)
  server_error  every get is answered "SERVER_ERROR out of memory writing get
                response" (what memcached says under memory pressure); every
                other command gets a valid reply at once
  store_silent  gets miss (END); an add, cas or set of a call's value (a
                key ending in 32 hex digits) is never answered
  store_toobig  the same, answered "SERVER_ERROR object too large for cache"
  store_junk    the same, answered with a forged get reply ("VALUE ... END")
                instead of a storage reply
Writes the port to PORTFILE once listening, each command line received to
LOGFILE. Exits by itself after LIFETIME_S seconds (default 60): the loops are
bounded even when the test that started it dies.
"""
import socket
import sys
import threading
import time

MODE, PORTFILE, LOGFILE = sys.argv[1:4]
LIFETIME = float(sys.argv[4]) if len(sys.argv) > 4 else 60.0
END_AT = time.monotonic() + LIFETIME
log_lock = threading.Lock()


def log(line):
    with log_lock, open(LOGFILE, "a") as f:
        f.write(line + "\n")


def send(conn, data):
    if MODE != "drip":
        conn.sendall(data)
        return
    for i in range(len(data)):
        if time.monotonic() > END_AT:
            return
        conn.sendall(data[i:i + 1])
        time.sleep(0.1)


def reply(cmd, words):
    if cmd in ("get", "gets"):
        if MODE == "server_error":
            return b"SERVER_ERROR out of memory writing get response\r\n"
        return b"END\r\n"
    value = (cmd in ("set", "add", "cas") and len(words) > 4 and
             len(words[1].rsplit(":", 1)[-1]) == 32)
    if value and MODE == "store_silent":
        return b""
    if value and MODE == "store_junk":
        return (b"VALUE " + words[1].encode() + b" 0 4\r\njunk\r\nEND\r\n")
    if value and MODE == "store_toobig":
        return b"SERVER_ERROR object too large for cache\r\n"
    if cmd in ("set", "add", "cas", "replace", "append", "prepend"):
        return b"STORED\r\n"
    if cmd == "delete":
        return b"NOT_FOUND\r\n"
    if cmd in ("incr", "decr", "touch"):
        return b"NOT_FOUND\r\n"
    if cmd == "version":
        return b"VERSION 1.6.18\r\n"
    return b"ERROR\r\n"


def serve(conn):
    conn.settimeout(1.0)
    buf = b""
    while time.monotonic() < END_AT:
        try:
            chunk = conn.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
        while b"\r\n" in buf:
            line, rest = buf.split(b"\r\n", 1)
            words = line.decode("latin-1").split()
            cmd = words[0] if words else ""
            if cmd in ("set", "add", "cas", "replace", "append", "prepend"):
                n = int(words[4])
                if len(rest) < n + 2:
                    break  # wait for the data block
                rest = rest[n + 2:]
            buf = rest
            log(line.decode("latin-1"))
            if cmd == "quit":
                conn.close()
                return
            try:
                send(conn, reply(cmd, words))
            except OSError:
                conn.close()
                return
    conn.close()


def main():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    s.settimeout(0.5)
    with open(PORTFILE + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    import os
    os.rename(PORTFILE + ".tmp", PORTFILE)
    while time.monotonic() < END_AT:
        try:
            conn, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
