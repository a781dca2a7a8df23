/* revalidate.h - what a hit does with a value under its function's
 * freshness policy (stale = SECONDS, refresh = early; fresh.h): serve it,
 * recompute it in this caller's own call, or treat it as a miss.
 *
 * One process at a time recomputes a value that is stale, or that XFetch
 * picked for an early refresh: the caller that wins the "add" of the
 * stampede lock's key "<key>:lock" (lock.h, lock_timeout_ms + 1 s ttl).
 * Everyone else is served the value at once and never waits; a failed add
 * (memcached error) serves it too. The winner reads the key once more (one
 * round trip, winners only): when its CAS moved since the lookup, another
 * process stored a value meanwhile (it took the lock and released it
 * between this caller's lookup and its add), and this caller serves what it
 * read instead of recomputing a second time. A recomputation stores with
 * cas against the lookup (cache_store_after), so an invalidation during it
 * still wins; an invalidated call (a tombstone) or a flushed function (a
 * moved generation) never decodes, so it is never served stale.
 */
#ifndef TXC_REVALIDATE_H
#define TXC_REVALIDATE_H

#include "cache.h"
#include "codec.h"
#include "key.h"
#include "lock.h"

enum reval_do {
	REVAL_SERVE,	   /* fresh: serve it */
	REVAL_SERVE_STALE, /* past its fresh-until, another process recomputes (or
			    * the lock failed): serve it, not a sample for verify */
	REVAL_RECOMPUTE,   /* this caller holds HELD: make the real call, store
			    * against the lookup, then lock_release() */
	REVAL_MISS	   /* past fresh-until + stale: a miss */
};

/* Judges the value of FN under KEY that LK read and cache_decode() turned
 * into META. HELD must not be held on entry; it is held on return only
 * with REVAL_RECOMPUTE. Without MAY_REFRESH (mode readonly: nothing may be
 * stored) a value due for a refresh is served as it is, stale or not, and
 * no lock is taken. Logs one info line for a recomputation. errno is
 * preserved. */
enum reval_do reval_decide(struct txc_cache *c, int fn, const struct txc_key *key,
			   const struct txc_lookup *lk, const struct txc_value_meta *meta,
			   bool may_refresh, struct txc_lock *held);

#endif
