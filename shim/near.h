/* near.h - the near cache: a per-process LRU of verified values in front of
 * memcached, for functions with "local_ttl = SECONDS" (and "local_entries =
 * N", default 1024).
 *
 * It holds encoded values (codec.h) by key digest, each for at most
 * local_ttl seconds after it was stored here, and never past the value's
 * fresh-until (fresh.h): a value already stale is not inserted, so a near
 * hit is never stale by its ttl and stale / refresh decisions are made on
 * memcached's copy. A value enters only after it
 * verified against memcached's current generations (a memcached hit) or was
 * just stored by this process's own miss.
 *
 * Staleness: invalidations made in this process (cache_bump,
 * cache_delete_call) clear the matching entries at once, and a value read
 * before such an invalidation is never inserted after it (per-function
 * epochs). Writes and invalidations by other processes are seen only when
 * the entry expires: a near hit can be at most local_ttl seconds stale.
 *
 * Memory: at most local_entries values per function, each at most
 * max_value bytes. Tables are split into lock stripes by key digest; entry
 * arrays are allocated on a function's first insertion.
 *
 * Thread-safe after near_init(). Every function is a no-op (or a miss) for a
 * function without a near cache, and before near_init().
 */
#ifndef TXC_NEAR_H
#define TXC_NEAR_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "codec.h"
#include "key.h"

/* Prepares the tables of every cached function of C's config that has a
 * local_ttl. C (its config and key data) must outlive the process's use of
 * the near cache. Call once, before any other near_* call. Returns 0 or
 * TXC_ENOMEM (then no function has a near cache). */
int near_init(const struct txc_cache *c);

/* Called with a verified value, after the near cache's lock is dropped (a
 * reference keeps the value alive meanwhile, so APPLY may block). Returns 0
 * when it answered the call; anything else makes near_get() return it. */
typedef int (*near_apply_fn)(void *ctx, const struct txc_value_meta *meta,
			     const struct txc_result *res);

/* Looks KEY up in FN's table. Returns TXC_ENOTFOUND when absent or expired,
 * else what APPLY returned for the decoded value (whose pointers are valid
 * only during APPLY). */
int near_get(int fn, const struct txc_digest *key, near_apply_fn apply, void *ctx);

/* FN's invalidation epoch: read it before the memcached lookup whose value
 * (or whose miss's result) is then offered to near_put*(). */
uint64_t near_epoch(int fn);

/* Inserts a copy of the encoded value VAL of LEN bytes under KEY, unless an
 * invalidation of FN happened in this process since EPOCH was read. Best
 * effort: nothing is reported (an allocation failure inserts nothing). */
void near_put(int fn, const struct txc_digest *key, uint64_t epoch, const void *val, size_t len);

/* The same for a result this process just stored: encodes META and RES. */
void near_put_result(int fn, const struct txc_digest *key, uint64_t epoch,
		     const struct txc_value_meta *meta, const struct txc_result *res);

/* Drops KEY from FN's table. */
void near_forget(int fn, const struct txc_digest *key);

/* Drops every entry of FN, or of every function when FN < 0. */
void near_forget_fn(int fn);

#endif
