/* publish.c - batched publication of the counters; see publish.h. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dispatch.h"
#include "err.h"
#include "log.h"
#include "publish.h"

static const struct txc_config *g_cfg; /* set once: publication is possible */
static struct txc_cache *g_cache;
static uint64_t *g_last;  /* nfns * TXC_ST_COUNT_ values already published */
static bool *g_mode_sent; /* nfns: this process published the function's mode */
static int64_t g_next;	  /* CLOCK_MONOTONIC_COARSE second of the next publication */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
/* The item whose counter a host call's one operation found missing: the
 * next call adds it (one_step). -1: none. */
static int g_create = -1;
/* Items the current round (publish_tick) has looked at: a round looks at
 * each item once, so calls that keep changing counters still end it. */
static int g_seen;

const char *publish_counter_name(enum txc_stat k)
{
	return k == TXC_ST_SAVED_NS ? "saved_us" : stats_name(k);
}

void publish_counter_key(const struct txc_key_fn *kf, enum txc_stat k, struct txc_key *out)
{
	int n =
	    snprintf(out->text, sizeof(out->text), "%sst:%s", kf->prefix, publish_counter_name(k));
	out->len = n > 0 ? (size_t)n : 0;
	memset(&out->digest, 0, sizeof(out->digest));
}

void publish_mode_key(const struct txc_key_fn *kf, struct txc_key *out)
{
	int n = snprintf(out->text, sizeof(out->text), "%sst:mode", kf->prefix);
	out->len = n > 0 ? (size_t)n : 0;
	memset(&out->digest, 0, sizeof(out->digest));
}

static uint64_t unit_of(enum txc_stat k)
{
	return k == TXC_ST_SAVED_NS ? 1000 : 1;
}

/* The child inherited its parent's counts, which the parent publishes. */
static void snapshot(void)
{
	const struct txc_config *cfg = __atomic_load_n(&g_cfg, __ATOMIC_ACQUIRE);
	for (int f = 0; cfg && g_last && f < cfg->nfns; f++)
		for (int k = 0; k < TXC_ST_COUNT_; k++)
			g_last[f * TXC_ST_COUNT_ + k] = stats_get(dispatch_stats(f), k);
}

static void at_fork_child(void)
{
	pthread_mutex_init(&g_lock, NULL);
	g_create = -1;
	g_seen = 0;
	snapshot();
}

static int add_counter(const struct txc_key *key, uint64_t delta)
{
	char text[24];
	int n = snprintf(text, sizeof(text), "%" PRIu64, delta);
	return store_add(g_cache->store, key, text, (size_t)n, 0);
}

static int incr_or_create(const struct txc_key *key, uint64_t delta)
{
	uint64_t v;
	int rc = store_incr_by(g_cache->store, key, delta, &v);
	if (rc != TXC_ENOTFOUND)
		return rc;
	rc = add_counter(key, delta);
	if (rc == TXC_EEXIST) /* another process created it meanwhile */
		rc = store_incr_by(g_cache->store, key, delta, &v);
	return rc;
}

/* The same in one round trip, for a host call: an incr, or the add a
 * previous call found missing. Returns 0, TXC_EPENDING when item I needs
 * another call (its add, or an incr after another process's add), or a
 * failure code. */
static int one_step(int i, const struct txc_key *key, uint64_t delta)
{
	uint64_t v;
	int rc;

	if (g_create == i) {
		g_create = -1;
		rc = add_counter(key, delta);
		return rc == TXC_EEXIST ? TXC_EPENDING : rc;
	}
	rc = delta > UINT32_MAX ? incr_or_create(key, delta)
				: store_incr_by(g_cache->store, key, delta, &v);
	if (rc == TXC_ENOTFOUND) {
		g_create = i;
		return TXC_EPENDING;
	}
	return rc;
}

/* Item PUB_MODE of a function, after its counters, is its mode: published
 * once per process, with its first counters (an unused function publishes
 * nothing, mode included). */
#define PUB_MODE  TXC_ST_COUNT_
#define PUB_ITEMS (TXC_ST_COUNT_ + 1)

static bool fn_used(int f)
{
	for (int k = 0; k < TXC_ST_COUNT_; k++)
		if (stats_get(dispatch_stats(f), k) != 0)
			return true;
	return false;
}

static int publish_mode(int f)
{
	struct txc_key key;
	const char *name = config_mode_name(g_cfg->fns[f].mode);
	publish_mode_key(&g_cache->kf[f], &key);
	int rc = store_set(g_cache->store, &key, name, strlen(name), 0);
	if (rc == 0)
		g_mode_sent[f] = true;
	return rc;
}

/* Where the last partial publication stopped: the next one goes on from
 * there, so every counter gets its turn. */
static int g_cursor;

/* What item ITEM of function F has to publish (0: nothing), and the
 * counter K and its last published value *LAST. */
static uint64_t item_units(int f, int item, enum txc_stat *k, uint64_t **last)
{
	*k = (enum txc_stat)(item < PUB_MODE ? item : 0);
	*last = &g_last[f * TXC_ST_COUNT_ + *k];
	if (item == PUB_MODE)
		return !g_mode_sent[f] && fn_used(f);
	return (stats_get(dispatch_stats(f), *k) - **last) / unit_of(*k);
}

/* Publishes item I (UNITS of it): with ONE in at most one round trip
 * (one_step: TXC_EPENDING when I needs another call). */
static int publish_item(int i, uint64_t units, bool one)
{
	int f = i / PUB_ITEMS, item = i % PUB_ITEMS;
	enum txc_stat k;
	uint64_t *last;
	struct txc_key key;

	if (item == PUB_MODE)
		return publish_mode(f);
	item_units(f, item, &k, &last);
	publish_counter_key(&g_cache->kf[f], k, &key);
	int rc = one ? one_step(i, &key, units) : incr_or_create(&key, units);
	if (rc == 0)
		*last += units * unit_of(k);
	return rc;
}

static void publish_failed(int rc)
{
	log_msg(TXC_LOG_INFO, "publishing counters failed (%s)", txc_strerror(rc));
}

/* Publishes every delta (one incr each; a counter's first publication
 * ever also an add), from the cursor on; stops at a failure (the server
 * is likely down). Under g_lock. */
static void publish_locked(void)
{
	int total = g_cfg->nfns * PUB_ITEMS;
	for (int n = 0; n < total; n++) {
		int i = (g_cursor + n) % total;
		enum txc_stat k;
		uint64_t *last, units = item_units(i / PUB_ITEMS, i % PUB_ITEMS, &k, &last);
		int rc = units ? publish_item(i, units, false) : 0;
		if (rc != 0) {
			publish_failed(rc);
			return;
		}
	}
}

/* One host call's share of a round: from the cursor to the next item with
 * a delta, and one operation on it. Returns 1 while the round goes on, 0
 * when it ended (every item looked at once) or failed. Under g_lock. */
static int publish_step(void)
{
	int total = g_cfg->nfns * PUB_ITEMS;
	while (g_seen < total) {
		int i = g_cursor % total;
		enum txc_stat k;
		uint64_t *last, units = item_units(i / PUB_ITEMS, i % PUB_ITEMS, &k, &last);
		int rc = units ? publish_item(i, units, true) : 0;
		if (rc == TXC_EPENDING)
			return 1; /* the same item, next call */
		if (rc != 0) {
			publish_failed(rc);
			g_seen = total; /* the rest waits for the next round */
			break;
		}
		g_cursor = (i + 1) % total;
		g_seen++;
		if (units)
			break;
	}
	if (g_seen < total)
		return 1;
	g_seen = 0;
	return 0;
}

static void fork_init(void)
{
	pthread_atfork(NULL, NULL, at_fork_child);
}

/* The fork handler is registered before g_lock is first taken: a child
 * forked while another thread holds it here gets a fresh lock. */
static void init_once(const struct txc_config *cfg, struct txc_cache *c)
{
	static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
	pthread_once(&fork_once, fork_init);
	pthread_mutex_lock(&g_lock);
	if (!g_cfg) {
		size_t n = cfg->nfns ? (size_t)cfg->nfns : 1;
		g_last = calloc(n, sizeof(*g_last) * TXC_ST_COUNT_);
		g_mode_sent = calloc(n, sizeof(*g_mode_sent));
		if (!g_last || !g_mode_sent) {
			free(g_last);
			free(g_mode_sent);
			g_last = NULL;
			g_mode_sent = NULL;
		} else {
			g_cache = c;
			__atomic_store_n(&g_cfg, cfg, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&g_lock);
}

static int64_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

/* errno is what the host's call left: keep it. */
void publish_tick(const struct txc_config *cfg, struct txc_cache *c)
{
	int saved = errno;
	if (!__atomic_load_n(&g_cfg, __ATOMIC_ACQUIRE)) {
		init_once(cfg, c);
		__atomic_store_n(&g_next, now_s() + cfg->stats_interval, __ATOMIC_RELAXED);
		errno = saved;
		return;
	}
	if (cfg->stats_interval == 0)
		return;
	int64_t now = now_s(), next = __atomic_load_n(&g_next, __ATOMIC_RELAXED);
	/* One operation per host call, at most one round trip spent inside the
	 * host's call: a publication of many counters is spread over the next
	 * calls (g_next stays due until the round has looked at every
	 * counter once: calls that keep counters changing do not keep it
	 * going). */
	if (now >= next && pthread_mutex_trylock(&g_lock) == 0) {
		int more = publish_step();
		__atomic_store_n(&g_next, more ? now : now + cfg->stats_interval, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&g_lock);
	}
	errno = saved;
}

void publish_exit(void)
{
	if (!__atomic_load_n(&g_cfg, __ATOMIC_ACQUIRE))
		return;
	int saved = errno;
	/* another thread still publishing: it covers most of it; do not wait */
	if (pthread_mutex_trylock(&g_lock) == 0) {
		g_create = -1;
		publish_locked();
		pthread_mutex_unlock(&g_lock);
	}
	errno = saved;
}
