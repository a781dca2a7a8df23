/* mode.h - what each mode (config.h: enum txc_mode) lets a cached call do.
 * The whole contract of the modes; dispatch asks these questions and the
 * shim's interposition asks mode_interposed.
 *
 *   normal    serves hits (near cache and memcached); a miss stores.
 *   readonly  serves hits; a miss calls the real function and writes
 *             nothing to memcached: no value, no generation key (a missing
 *             one is a miss, not created), no registry entry, no stampede
 *             lock. Counters are still published (publish.h): they are not
 *             cached data. A verify mismatch still deletes its entry.
 *   recache   never serves a hit, not even from the near cache: every call
 *             reaches the real function, and its result is stored the way a
 *             miss stores (add/cas against the lookup, so an invalidation
 *             during the call still wins). The lookup is made only for that
 *             cas; its value is never decoded. No stampede lock: every
 *             recache call computes anyway.
 *   off       the function is not interposed at all (no GOT slot, dlsym
 *             returns the real function): no memcached traffic, no cost.
 *
 * A mutator (invalidates =) has no mode: it is always mode normal (config
 * check refuses a mode on it), and always invalidates.
 */
#ifndef TXC_MODE_H
#define TXC_MODE_H

#include <stdbool.h>

#include "config.h"

/* A hit may answer the call. */
static inline bool mode_serves(enum txc_mode m)
{
	return m == TXC_MODE_NORMAL || m == TXC_MODE_READONLY;
}

/* A miss may write to memcached (value, generations, registry, lock). */
static inline bool mode_stores(enum txc_mode m)
{
	return m == TXC_MODE_NORMAL || m == TXC_MODE_RECACHE;
}

/* The function's call sites are redirected to the shim. */
static inline bool mode_interposed(enum txc_mode m)
{
	return m != TXC_MODE_OFF;
}

#endif
