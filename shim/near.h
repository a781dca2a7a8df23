/* near.h - the near cache: per-thread tables of verified values in front of
 * memcached, for functions with "local_ttl = SECONDS" (and "local_entries =
 * N", default 1024, per thread).
 *
 * It holds encoded values (codec.h) by key digest, each for at most
 * local_ttl seconds after it was stored here, and never past the value's
 * fresh-until (fresh.h): a value already stale is not inserted, so a near
 * hit is never stale by its ttl and stale / refresh decisions are made on
 * memcached's copy. A value enters only after it
 * verified against memcached's current generations (a memcached hit) or was
 * just stored by this process's own miss.
 *
 * Per thread: each thread has its own table per function, so a hit writes
 * no memory another thread reads (no lock, no LRU move, no refcount) and
 * hits scale with threads. The price: a value is fetched from memcached
 * once per thread, and memory is at most local_entries values per function
 * per thread that used it, each at most max_value bytes; a thread's
 * tables are freed when it exits. Eviction is CLOCK (second chance).
 *
 * Staleness: invalidations made in this process (cache_bump,
 * cache_delete_call, from any thread) are seen by every thread's next
 * lookup: they bump a per-function epoch that hits read, and a value read
 * before such an invalidation is never served after it (entries carry the
 * epoch read before their memcached lookup; near.c). Invalidating one key
 * leaves other keys' entries alone, unless more than 64 invalidations of
 * the function came between an entry's insertion and its next hit (then it
 * is a miss). Writes and invalidations by other processes are seen only
 * when the entry expires: a near hit can be at most local_ttl seconds
 * stale.
 *
 * Thread-safe after near_init(), fork-safe (a child keeps the forking
 * thread's tables and frees the others'). Every function is a no-op (or a
 * miss) for a function without a near cache, and before near_init().
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

/* Called with a verified value, with no lock held (the value is pinned in
 * the calling thread's table meanwhile, so APPLY may block, and a cached
 * call it lets run may use the near cache). Returns 0 when it answered the
 * call; anything else makes near_get() return it. */
typedef int (*near_apply_fn)(void *ctx, const struct txc_value_meta *meta,
			     const struct txc_result *res);

/* Looks KEY up in FN's table. Returns TXC_ENOTFOUND when absent or expired,
 * else what APPLY returned for the decoded value (whose pointers are valid
 * only during APPLY). */
int near_get(int fn, const struct txc_digest *key, near_apply_fn apply, void *ctx);

/* FN's invalidation epoch: read it before the memcached lookup whose value
 * (or whose miss's result) is then offered to near_put*(). */
uint64_t near_epoch(int fn);

/* Inserts a copy of the encoded value VAL of LEN bytes under KEY into the
 * calling thread's table. An invalidation of KEY (or FN) in this process
 * since EPOCH was read makes the entry's first hit a miss. Best effort:
 * nothing is reported (an allocation failure inserts nothing). */
void near_put(int fn, const struct txc_digest *key, uint64_t epoch, const void *val, size_t len);

/* The same for a result this process just stored: encodes META and RES. */
void near_put_result(int fn, const struct txc_digest *key, uint64_t epoch,
		     const struct txc_value_meta *meta, const struct txc_result *res);

/* Drops KEY from FN's tables: the calling thread's entry now, the other
 * threads' at their next lookup of KEY. Call it again after the invalidation
 * reached memcached: a thread may have read the old value in between. */
void near_forget(int fn, const struct txc_digest *key);

/* Drops every entry of FN, or of every function when FN < 0, the same way
 * (and, like near_forget, again after memcached's generation moved).
 * errno is preserved. */
void near_forget_fn(int fn);

#endif
