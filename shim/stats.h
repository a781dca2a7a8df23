/* stats.h - per-function counters, updated with relaxed atomics.
 *
 * Counters live in one array allocated at load and never freed (closures
 * may still run in other threads during exit). Publishing them to
 * memcached belongs to the CLI issue; here they are kept and logged at exit.
 */
#ifndef TXC_STATS_H
#define TXC_STATS_H

#include <stdint.h>

enum txc_stat {
	TXC_ST_HITS,
	TXC_ST_MISSES,
	TXC_ST_STORES,
	TXC_ST_ERRORS,	/* memcached failed; the real function ran */
	TXC_ST_CORRUPT, /* a value failed verification */
	TXC_ST_TOOBIG,	/* a result larger than max_value, not stored */
	TXC_ST_NOFIT,	/* a cached value larger than the caller's buffer */
	TXC_ST_SKIPPED, /* cache_if said no */
	TXC_ST_INVALIDATIONS,
	TXC_ST_RACED,	  /* not stored: the key changed during the call (cache.h) */
	TXC_ST_BYTES_IN,  /* value bytes read on hits */
	TXC_ST_BYTES_OUT, /* value bytes stored */
	TXC_ST_SAVED_NS,  /* sum of the real-call durations that hits avoided */
	TXC_ST_VERIFIED,  /* sampled hits whose real call gave the same result */
	TXC_ST_MISMATCH,  /* sampled hits whose real call differed (verify.h) */
	TXC_ST_COUNT_
};

struct txc_stats {
	uint64_t v[TXC_ST_COUNT_];
};

static inline void stats_add(struct txc_stats *s, enum txc_stat k, uint64_t n)
{
	__atomic_fetch_add(&s->v[k], n, __ATOMIC_RELAXED);
}

static inline uint64_t stats_get(const struct txc_stats *s, enum txc_stat k)
{
	return __atomic_load_n(&s->v[k], __ATOMIC_RELAXED);
}

/* Returns the short name of counter K ("hits", "saved_ns", ...). */
const char *stats_name(enum txc_stat k);

#endif
