/* store.h - the memcached client: the only module that touches libmemcached.
 *
 * One struct txc_store per process. It is safe to call from any thread:
 * each thread gets its own memcached_st, cloned from a template on first use.
 * After fork() a child never touches its parent's connections: handles are
 * tagged with the pid that created them, and a handle from another pid is
 * abandoned (not freed: freeing sends "quit" on the parent's socket).
 *
 * Nothing touches the network or DNS before the first operation: server
 * names are resolved then, each lookup bounded by timeout_ms (resolve.h).
 *
 * Every operation is bounded: connect, send and receive together by one
 * deadline of timeout_ms (mcio.h); a missed deadline counts as a failure
 * of the server. After a
 * failure (timeout, refused, dead server) a breaker shared by all threads
 * sends calls straight to TXC_EUNAVAIL for a back-off interval (starting at
 * 100 ms, doubling up to 5 s); then one operation probes the server. There
 * is one breaker per server: an operation is refused only when the server
 * of its (first) key is, so a dead server costs only its share of keys.
 * Store functions never log above TXC_LOG_INFO per call: the caller decides.
 *
 * SASL ([cache] sasl_user, sasl_password_file; mcsasl.h): the binary
 * protocol, and libmemcached authenticates each new connection. The
 * password file is read by store_open; an unusable file is logged once
 * (error level) and the store refuses every operation (TXC_EUNAVAIL,
 * store_breaker_open says 1) without touching the network. So does the
 * first failed authentication, for the rest of the process: one line
 * "memcached authentication failed for user U (...); caching is off".
 */
#ifndef TXC_STORE_H
#define TXC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "key.h"

struct txc_store;

struct txc_buf {
	uint8_t *data; /* malloc'ed, owned by the caller; NULL when absent */
	size_t len;
	/* store_mget: the item's CAS unique (memcached "gets"), for store_cas();
	 * 0 when absent. */
	uint64_t cas;
};

/* Creates a store for CFG's servers and timeout. Does not connect: the first
 * operation does. CFG may be freed afterwards (everything is copied).
 * Returns 0 and *OUT, or TXC_ENOMEM / TXC_ECONFIG (libmemcached rejected the
 * server list), with *OUT NULL. */
int store_open(const struct txc_config *cfg, struct txc_store **out);

/* Frees ST and the calling thread's handle. Other threads' handles are freed
 * by their thread-exit destructor. NULL is allowed. */
void store_close(struct txc_store *st);

/* Fetches N keys (1..4) in one round trip ("gets": the CAS values come in
 * the same reply). Returns 0 when the servers answered: VALS[i].data is a
 * malloc'ed copy of key i's value and VALS[i].cas its CAS unique, or NULL
 * and 0 when it is absent. On failure returns TXC_ETIMEOUT, TXC_EUNAVAIL or
 * TXC_ESERVER with every VALS[i].data NULL. */
int store_mget(struct txc_store *st, const struct txc_key *const *keys, size_t n,
	       struct txc_buf *vals);

/* Stores VAL under KEY with TTL seconds (0 = never expires).
 * Returns 0, TXC_ETOOBIG (server refused the size), or a failure code. */
int store_set(struct txc_store *st, const struct txc_key *key, const void *val, size_t len,
	      uint32_t ttl);

/* Stores only when KEY is absent. Returns 0, TXC_EEXIST, or a failure code. */
int store_add(struct txc_store *st, const struct txc_key *key, const void *val, size_t len,
	      uint32_t ttl);

/* Replaces KEY's value only when its CAS unique is still CAS, i.e. nothing
 * wrote, deleted or replaced the item since the store_mget() that returned
 * CAS. Returns 0; TXC_EEXIST when the item changed since; TXC_ENOTFOUND
 * when it is gone (deleted, expired, evicted); or a failure code. Nothing
 * is stored unless it returns 0. */
int store_cas(struct txc_store *st, const struct txc_key *key, const void *val, size_t len,
	      uint32_t ttl, uint64_t cas);

/* Pipelined stores, for the miss path: the add / cas is sent, and the
 * caller goes on without waiting for the server's reply. The reply is read
 * by the calling thread's next operation (any store_* call: by its first
 * read of that socket, after its own request went out, so the two waits
 * overlap; else before it returns), at the thread's exit, or by
 * store_drain(); its outcome then goes to the function given to
 * store_on_done(), with TAG and LEN, as ERR: what store_add / store_cas
 * would have returned (0, TXC_EEXIST, TXC_ENOTFOUND, TXC_ETOOBIG,
 * TXC_ESERVER, TXC_ETIMEOUT, TXC_EUNAVAIL). A failure to read it (timeout,
 * closed connection) is charged to the server's breaker, and the
 * connection is dropped; so is one whose reply is not a storage reply.
 *
 * Returns TXC_EPENDING when the reply is pending, or, when the store waited
 * after all (the binary protocol of SASL, no store_on_done() function, the
 * breaker's probe, mcio not installed, a failure before the send), what
 * store_add / store_cas return; DONE is then not called. Invalidation still
 * wins: the server applies add / cas as always, and the next operation on
 * this connection (an invalidation of this thread's) is read after the
 * store's reply. A forked child never reads its parent's pending reply;
 * store_thread_drop() forgets one (the outcome is never reported). */
typedef void (*store_done_fn)(void *ctx, uint32_t tag, size_t len, int err);
int store_add_nowait(struct txc_store *st, const struct txc_key *key, const void *val, size_t len,
		     uint32_t ttl, uint32_t tag);
/* CAS must be nonzero (else TXC_EINVAL). */
int store_cas_nowait(struct txc_store *st, const struct txc_key *key, const void *val, size_t len,
		     uint32_t ttl, uint64_t cas, uint32_t tag);

/* Sets the function that receives pipelined stores' outcomes, in the
 * thread that made the store. Call before any *_nowait. */
void store_on_done(struct txc_store *st, store_done_fn fn, void *ctx);

/* Reads the calling thread's pending reply now, if any (process exit:
 * before the last counters are published). */
void store_drain(struct txc_store *st);

/* Appends VAL to the value at KEY (its ttl unchanged). Returns 0,
 * TXC_ENOTFOUND when KEY is absent, or a failure code. */
int store_append(struct txc_store *st, const struct txc_key *key, const void *val, size_t len);

/* Deletes KEY. An absent key is success. Returns 0 or a failure code. */
int store_delete(struct txc_store *st, const struct txc_key *key);

/* Adds 1 to the decimal counter at KEY. Returns 0 and *NEWVAL, TXC_ENOTFOUND
 * when KEY is absent, or a failure code. */
int store_incr(struct txc_store *st, const struct txc_key *key, uint64_t *newval);

/* Adds DELTA to the decimal counter at KEY, like store_incr() (one round
 * trip per 2^32 - 1). */
int store_incr_by(struct txc_store *st, const struct txc_key *key, uint64_t delta,
		  uint64_t *newval);

/* Returns nonzero while every server's breaker refuses calls (TXC_EUNAVAIL
 * without touching the network) after a timeout or connection failure, and
 * while the store cannot be used at all: libmemcached could not be loaded
 * (for good), or a server name did not resolve (for a retry interval). The
 * first call makes the store ready: it loads libmemcached and resolves
 * server names (each lookup bounded by timeout_ms), so that a failure there
 * is logged once, by the store, and the caller can pass through quietly. */
int store_breaker_open(struct txc_store *st);

/* Drops the calling thread's handle, which an operation left in the middle
 * (a signal handler jumped out of it: guard.h): its connection may hold
 * half a request or an unread reply. The next operation connects anew.
 * Nothing when the thread has none. */
void store_thread_drop(struct txc_store *st);

/* Empties every server (memcached flush_all, through libmemcached: with
 * SASL it authenticates like every operation). TIMEOUT_MS bounds the whole
 * call (at least the store's timeout_ms). Returns 0 when every server
 * answered OK, else TXC_EUNAVAIL (a server failed, or authentication
 * failed: then the store is off, as after any operation), TXC_ETIMEOUT or
 * TXC_ESERVER. For the CLI: the breaker is neither asked nor charged. */
int store_flush_all(struct txc_store *st, uint32_t timeout_ms);

/* Frees the VALS[0..n) data and sets them to NULL. */
void store_bufs_free(struct txc_buf *vals, size_t n);

#endif
