/* publish.c - batched publication of the counters; see publish.h. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
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
	snapshot();
}

static int incr_or_create(const struct txc_key *key, uint64_t delta)
{
	uint64_t v;
	int rc = store_incr_by(g_cache->store, key, delta, &v);
	if (rc != TXC_ENOTFOUND)
		return rc;
	char text[24];
	int n = snprintf(text, sizeof(text), "%" PRIu64, delta);
	rc = store_add(g_cache->store, key, text, (size_t)n, 0);
	if (rc == TXC_EEXIST) /* another process created it meanwhile */
		rc = store_incr_by(g_cache->store, key, delta, &v);
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

/* Publishes up to MAX deltas (one incr each; a counter's first publication
 * ever also an add), from the cursor on. Returns 1 when deltas remain,
 * 0 when all are published or on a failure (the server is likely down: the
 * rest waits for the next publication). Under g_lock. */
static int publish_locked(int max)
{
	int total = g_cfg->nfns * PUB_ITEMS;
	for (int n = 0; n < total; n++) {
		int i = (g_cursor + n) % total, f = i / PUB_ITEMS, item = i % PUB_ITEMS;
		enum txc_stat k = (enum txc_stat)(item < PUB_MODE ? item : 0);
		uint64_t *last = &g_last[f * TXC_ST_COUNT_ + k];
		uint64_t units = item == PUB_MODE
				     ? !g_mode_sent[f] && fn_used(f)
				     : (stats_get(dispatch_stats(f), k) - *last) / unit_of(k);
		if (units == 0)
			continue;
		if (max-- == 0) {
			g_cursor = i;
			return 1;
		}
		struct txc_key key;
		if (item != PUB_MODE)
			publish_counter_key(&g_cache->kf[f], k, &key);
		int rc = item == PUB_MODE ? publish_mode(f) : incr_or_create(&key, units);
		if (rc != 0) {
			log_msg(TXC_LOG_INFO, "publishing counters failed (%s)", txc_strerror(rc));
			return 0;
		}
		if (item != PUB_MODE)
			*last += units * unit_of(k);
	}
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
	/* One counter per host call, at most one round trip spent inside the
	 * host's call: a publication of many counters is spread over the next
	 * calls (g_next stays due until it is done). */
	if (now >= next && pthread_mutex_trylock(&g_lock) == 0) {
		int more = publish_locked(1);
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
		publish_locked(g_cfg->nfns * PUB_ITEMS);
		pthread_mutex_unlock(&g_lock);
	}
	errno = saved;
}
