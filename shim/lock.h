/* lock.h - the stampede lock, for functions with "lock = yes".
 *
 * When several processes miss the same key at once, one of them wins an
 * "add" of the key "<key>:lock" and computes; the others poll memcached for
 * its result, with short sleeps, for at most lock_timeout_ms, then compute
 * for themselves. The lock key expires by itself (lock_timeout_ms rounded
 * up to seconds, plus one) if its holder dies. A holder whose key was
 * invalidated during its call stores nothing (cache_store_after): its
 * waiters then see a tombstone, which is no value, and the lock go away.
 *
 * The same lock key serves the refresh of a stale value (revalidate.h):
 * there the losers never wait, they are served the stale value.
 *
 * The lock's value is a random token of the acquisition. A holder deletes
 * the lock only while it is its own: it does not touch it once the lock may
 * have expired (ttl - 1 s after the add was sent, less the release's own
 * deadline: memcached counts whole seconds), and otherwise reads it first
 * and deletes only when it still holds its token. memcached's ASCII delete
 * takes no CAS (and libmemcached has no meta commands), so one window
 * remains: the lock evicted (LRU, not expiry) and taken by another process
 * between that read and the delete, one round trip. The cost of losing it
 * is an extra real call, never a wrong result.
 */
#ifndef TXC_LOCK_H
#define TXC_LOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "cache.h"

/* One acquisition: zero it before lock_acquire(). */
struct txc_lock {
	bool held;	 /* lock_acquire() took it; lock_release() clears it */
	uint64_t token;	 /* the value written: this acquisition's, random */
	int64_t sent_ns; /* CLOCK_MONOTONIC time the add was sent */
	uint32_t ttl_s;	 /* the lock key's TTL */
};

/* Tries to take the lock of KEY. Returns 0 when this process holds it
 * (HELD->held set: call lock_release() after storing the result),
 * TXC_EEXIST when another process holds it, or a store failure code. */
int lock_acquire(struct txc_cache *c, int fn, const struct txc_key *key, struct txc_lock *held);

/* Deletes the lock of KEY if HELD holds it and it is still this
 * acquisition's (see above); clears HELD->held. Does nothing for a lock not
 * held. Failures are ignored: the lock expires. */
void lock_release(struct txc_cache *c, int fn, const struct txc_key *key, struct txc_lock *held);

/* Waits for the holder's result of KEY for at most TIMEOUT_MS. Returns 0
 * with *LK holding a value that verified (cache_decode) against the current
 * generations: the caller frees it with cache_lookup_free(). Otherwise *LK
 * is empty and the return says why: TXC_ENOTFOUND when the lock went away
 * without a usable value, TXC_ETIMEOUT when the time ran out, or a store
 * failure code. */
int lock_wait(struct txc_cache *c, int fn, const struct txc_key *key, uint32_t timeout_ms,
	      struct txc_lookup *lk);

#endif
