/* revalidate.c - serve, recompute or miss under stale / refresh = early;
 * see revalidate.h. */
#include <errno.h>

#include "fresh.h"
#include "log.h"
#include "revalidate.h"

/* After winning the lock: whether KEY still holds what LK read. A changed
 * item means another process stored (or invalidated) since the lookup. */
static bool unchanged_since(struct txc_cache *c, const struct txc_key *key,
			    const struct txc_lookup *lk)
{
	const struct txc_key *keys[1] = {key};
	struct txc_buf cur = {0};
	if (store_mget(c->store, keys, 1, &cur) != 0)
		return false;
	bool same = cur.data && cur.cas == lk->cas;
	store_bufs_free(&cur, 1);
	return same;
}

enum reval_do reval_decide(struct txc_cache *c, int fn, const struct txc_key *key,
			   const struct txc_lookup *lk, const struct txc_value_meta *meta,
			   bool may_refresh, struct txc_lock *held)
{
	const struct txc_fn_config *fc = &c->cfg->fns[fn];
	struct fresh_policy p = {fc->stale_s, fc->refresh_early, fc->beta};
	if (!fresh_active(&p) || meta->fresh_until == 0)
		return REVAL_SERVE;
	int saved = errno;
	int64_t now = fresh_now_ns();
	double u = p.early ? fresh_uniform() : 1.0;
	enum fresh_verdict v = fresh_judge(&p, meta->fresh_until, meta->cost_ns, now, u);
#ifdef TXC_MUTANT_STALE_FOREVER /* make mutants: past fresh-until + stale still served */
	v = v == FRESH_EXPIRED ? FRESH_REFRESH : v;
#endif
	bool stale = now >= 0 && (uint64_t)now >= meta->fresh_until;
	bool won = may_refresh && v == FRESH_REFRESH && lock_acquire(c, fn, key, held) == 0;
#ifdef TXC_MUTANT_STALE_LOCK /* make mutants: every stale reader recomputes */
	won = v == FRESH_REFRESH;
#endif
	enum reval_do what = stale ? REVAL_SERVE_STALE : REVAL_SERVE;
	if (v == FRESH_EXPIRED) {
		what = REVAL_MISS;
	} else if (won && unchanged_since(c, key, lk)) {
		log_msg(TXC_LOG_INFO, "%s: refreshing %s (%s)", fc->sig.name, key->text,
			stale ? "stale" : "early");
		what = REVAL_RECOMPUTE;
	} else if (won) {
		lock_release(c, fn, key, held);
	}
	errno = saved;
	return what;
}
