/* stats.h - per-function counters, updated with relaxed atomics on
 * per-thread shards.
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

/* Each counter is split into shards, a thread adding to its own: a hit
 * adds to three counters, and one shared cache line written by every
 * thread on every hit would keep threads from scaling (issue 16: the near
 * cache's hits). Readers add the shards up. A shard is 16 words (128
 * bytes), so two threads' hot counters never share a line even when the
 * array is only 16-byte aligned (calloc). */
#define TXC_STAT_SHARDS 8
#define TXC_STAT_WORDS	16

struct txc_stats {
	uint64_t v[TXC_STAT_SHARDS][TXC_STAT_WORDS];
};

_Static_assert(TXC_ST_COUNT_ <= TXC_STAT_WORDS, "a shard holds every counter");

/* The calling thread's shard + 1; 0 until its first stats_add. */
extern __thread unsigned stats_shard_tls __attribute__((tls_model("initial-exec")));

/* Gives the calling thread its shard (threads take them in turn). */
unsigned stats_shard_take(void);

static inline void stats_add(struct txc_stats *s, enum txc_stat k, uint64_t n)
{
	unsigned sh = stats_shard_tls;
	sh = sh ? sh - 1 : stats_shard_take();
	__atomic_fetch_add(&s->v[sh][k], n, __ATOMIC_RELAXED);
}

static inline uint64_t stats_get(const struct txc_stats *s, enum txc_stat k)
{
	uint64_t sum = 0;
	for (int i = 0; i < TXC_STAT_SHARDS; i++)
		sum += __atomic_load_n(&s->v[i][k], __ATOMIC_RELAXED);
	return sum;
}

/* Returns the short name of counter K ("hits", "saved_ns", ...). */
const char *stats_name(enum txc_stat k);

#endif
