/* stats.c - names of the counters. */
#include "stats.h"

__thread unsigned stats_shard_tls __attribute__((tls_model("initial-exec")));

unsigned stats_shard_take(void)
{
	static unsigned next;
	unsigned sh = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED) % TXC_STAT_SHARDS;

	stats_shard_tls = sh + 1;
	return sh;
}

static const char *const names[TXC_ST_COUNT_] = {
    [TXC_ST_HITS] = "hits",
    [TXC_ST_MISSES] = "misses",
    [TXC_ST_STORES] = "stores",
    [TXC_ST_ERRORS] = "errors",
    [TXC_ST_CORRUPT] = "corrupt",
    [TXC_ST_TOOBIG] = "toobig",
    [TXC_ST_NOFIT] = "nofit",
    [TXC_ST_SKIPPED] = "skipped",
    [TXC_ST_INVALIDATIONS] = "invalidations",
    [TXC_ST_RACED] = "raced",
    [TXC_ST_BYTES_IN] = "bytes_in",
    [TXC_ST_BYTES_OUT] = "bytes_out",
    [TXC_ST_SAVED_NS] = "saved_ns",
    [TXC_ST_VERIFIED] = "verified",
    [TXC_ST_MISMATCH] = "mismatch",
};

const char *stats_name(enum txc_stat k)
{
	return (unsigned)k < TXC_ST_COUNT_ ? names[k] : "?";
}
