/* resolve.h - a server's host name to a numeric address, in bounded time.
 *
 * getaddrinfo() may wait on DNS for as long as the resolver likes (several
 * seconds per server, retries included), and a program start must never
 * wait on the network. The store calls this on its first operation, not at
 * start-up. A numeric address (127.0.0.1, ::1) is converted without any
 * lookup; a name is looked up asynchronously (getaddrinfo_a) and waited for
 * at most TIMEOUT_MS. A lookup still running then is cancelled, or, when
 * glibc cannot cancel it, its request is left to the resolver's thread
 * (a few hundred bytes leaked, once per timed-out lookup).
 */
#ifndef TXC_RESOLVE_H
#define TXC_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

/* Writes HOST's address (IPv4 preferred: "localhost" often lists ::1 first
 * while memcached listens on 127.0.0.1) as numeric text into OUT. Returns 0,
 * TXC_ETIMEOUT (no answer within TIMEOUT_MS), TXC_ECONFIG (no such name, or
 * the lookup failed) or TXC_ENOMEM. errno is preserved. */
int resolve_host(const char *host, uint32_t timeout_ms, char *out, size_t outlen);

#endif
