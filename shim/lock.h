/* lock.h - the stampede lock, for functions with "lock = yes".
 *
 * When several processes miss the same key at once, one of them wins an
 * "add" of the key "<key>:lock" and computes; the others poll memcached for
 * its result, with short sleeps, for at most lock_timeout_ms, then compute
 * for themselves. The lock key expires by itself (lock_timeout_ms rounded
 * up to seconds, plus one) if its holder dies. A holder whose key was
 * invalidated during its call stores nothing (cache_store_after): its
 * waiters then see a tombstone, which is no value, and the lock go away.
 */
#ifndef TXC_LOCK_H
#define TXC_LOCK_H

#include <stdint.h>

#include "cache.h"

/* Tries to take the lock of KEY. Returns 0 when this process holds it (and
 * must call lock_release() after storing its result), TXC_EEXIST when
 * another process holds it, or a store failure code. */
int lock_acquire(struct txc_cache *c, int fn, const struct txc_key *key);

/* Deletes the lock of KEY. Failures are ignored: the lock expires. */
void lock_release(struct txc_cache *c, int fn, const struct txc_key *key);

/* Waits for the holder's result of KEY for at most TIMEOUT_MS. Returns 0
 * with *LK holding a value that verified (cache_decode) against the current
 * generations: the caller frees it with cache_lookup_free(). Otherwise *LK
 * is empty and the return says why: TXC_ENOTFOUND when the lock went away
 * without a usable value, TXC_ETIMEOUT when the time ran out, or a store
 * failure code. */
int lock_wait(struct txc_cache *c, int fn, const struct txc_key *key, uint32_t timeout_ms,
	      struct txc_lookup *lk);

#endif
