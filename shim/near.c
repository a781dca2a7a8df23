/* near.c - per-process LRU tables by key digest; see near.h.
 *
 * Each function's table is split into stripes by the digest's first byte;
 * a stripe is a mutex, a chained hash and a doubly linked LRU list over a
 * fixed array of entries (indices, not pointers: one allocation). A value
 * is kept decoded, next to its bytes, so a hit costs no decoding: about
 * 550 bytes per entry beyond the value. Values are copied and decoded
 * before the lock is taken and freed after it is dropped, so a lock is
 * only ever held for pointer work. A hit takes a reference to the value
 * under the lock and runs the caller's APPLY after dropping it: APPLY may
 * write to a descriptor nobody reads (an out fd replay), and that must
 * block only its own thread, never other callers of the same stripe.
 * Every stripe lock is taken around fork() (pthread_atfork), so a child
 * never inherits one held by a thread that does not exist there.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "fresh.h"
#include "near.h"

#define NIL	     UINT32_MAX
#define MAX_STRIPES  8
#define STRIPE_ABOVE 64 /* smaller tables are one stripe: exact LRU */

/* One allocation: RES and META point into BYTES. REFS: one for the table
 * while the entry is in it, one per near_get() using it. */
struct near_val {
	_Atomic uint32_t refs;
	struct txc_value_meta meta;
	struct txc_result res;
	uint8_t bytes[];
};

struct near_ent {
	struct txc_digest d;
	int64_t expires_ns;
	struct near_val *val; /* NULL: the slot is free */
	uint32_t prev, next;  /* LRU: prev is more recent */
	uint32_t hnext;	      /* hash chain, or the free list */
};

struct near_stripe {
	pthread_mutex_t mu;
	uint32_t cap, used, nfree, head, tail, free_head, mask;
	uint32_t *buckets; /* mask + 1 chains; NULL until the first insertion */
	struct near_ent *ents;
} __attribute__((aligned(64)));

struct near_tab {
	const struct txc_sig *sig;
	const struct txc_digest *sig_digest;
	int64_t ttl_ns;
	_Atomic uint64_t epoch;
	uint32_t nstripes;
	struct near_stripe *stripes;
};

static struct near_tab **g_tabs;
static int g_ntabs;

static void val_release(struct near_val *v)
{
	if (v && atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) == 1)
		free(v);
}

/* fork(): take every stripe lock, in one order, and release it on both sides. */
static void stripes_each(int lock)
{
	for (int i = 0; g_tabs && i < g_ntabs; i++)
		for (uint32_t k = 0; g_tabs[i] && k < g_tabs[i]->nstripes; k++) {
			pthread_mutex_t *mu = &g_tabs[i]->stripes[k].mu;
			if (lock)
				pthread_mutex_lock(mu);
			else
				pthread_mutex_unlock(mu);
		}
}

static void fork_prepare(void)
{
	stripes_each(1);
}

static void fork_release(void)
{
	stripes_each(0);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	/* a few ms of resolution is plenty for whole-second TTLs, and the
	 * coarse clock costs a few ns instead of tens */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct near_tab *tab_of(int fn)
{
	if (!g_tabs || fn < 0 || fn >= g_ntabs)
		return NULL;
	return g_tabs[fn];
}

static struct near_stripe *stripe_of(struct near_tab *t, const struct txc_digest *d)
{
	return &t->stripes[d->b[0] & (t->nstripes - 1)];
}

static uint32_t bucket_of(const struct near_stripe *s, const struct txc_digest *d)
{
	uint32_t h;

	memcpy(&h, d->b + 4, sizeof(h));
	return h & s->mask;
}

static struct near_tab *tab_new(const struct txc_fn_config *fc, const struct txc_key_fn *kf)
{
	uint32_t n = fc->local_entries > STRIPE_ABOVE ? MAX_STRIPES : 1;
	struct near_tab *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->stripes = aligned_alloc(64, sizeof(*t->stripes) * n);
	if (!t->stripes) {
		free(t);
		return NULL;
	}
	memset(t->stripes, 0, sizeof(*t->stripes) * n);
	t->sig = &fc->sig;
	t->sig_digest = &kf->sig_digest;
	t->ttl_ns = (int64_t)fc->local_ttl * 1000000000;
	t->nstripes = n;
	atomic_init(&t->epoch, 1);
	for (uint32_t i = 0; i < n; i++) {
		pthread_mutex_init(&t->stripes[i].mu, NULL);
		t->stripes[i].cap = (fc->local_entries + n - 1) / n;
	}
	return t;
}

int near_init(const struct txc_cache *c)
{
	const struct txc_config *cfg = c->cfg;
	struct near_tab **tabs = calloc(cfg->nfns ? (size_t)cfg->nfns : 1, sizeof(*tabs));

	if (!tabs)
		return TXC_ENOMEM;
	for (int i = 0; i < cfg->nfns; i++) {
		const struct txc_fn_config *fc = &cfg->fns[i];

		if (fc->local_ttl == 0 || fc->ninval > 0)
			continue;
		tabs[i] = tab_new(fc, &c->kf[i]);
		if (!tabs[i]) {
			/* never freed elsewhere: nothing has seen them yet */
			while (i-- > 0)
				if (tabs[i]) {
					free(tabs[i]->stripes);
					free(tabs[i]);
				}
			free(tabs);
			return TXC_ENOMEM;
		}
	}
	g_ntabs = cfg->nfns;
	g_tabs = tabs;
	if (pthread_atfork(fork_prepare, fork_release, fork_release) != 0) {
		g_tabs = NULL; /* without the handlers a child could hang: no near cache */
		return TXC_ENOMEM;
	}
	return 0;
}

/* ---- one stripe, with its lock held ---- */

static uint32_t find(const struct near_stripe *s, const struct txc_digest *d)
{
	if (!s->buckets)
		return NIL;
	for (uint32_t i = s->buckets[bucket_of(s, d)]; i != NIL; i = s->ents[i].hnext)
		if (memcmp(s->ents[i].d.b, d->b, sizeof(d->b)) == 0)
			return i;
	return NIL;
}

static void lru_unlink(struct near_stripe *s, uint32_t i)
{
	struct near_ent *e = &s->ents[i];

	if (e->prev != NIL)
		s->ents[e->prev].next = e->next;
	else
		s->head = e->next;
	if (e->next != NIL)
		s->ents[e->next].prev = e->prev;
	else
		s->tail = e->prev;
}

static void lru_push(struct near_stripe *s, uint32_t i)
{
	struct near_ent *e = &s->ents[i];

	e->prev = NIL;
	e->next = s->head;
	if (s->head != NIL)
		s->ents[s->head].prev = i;
	s->head = i;
	if (s->tail == NIL)
		s->tail = i;
}

/* Unlinks entry I and returns its value for the caller to free unlocked. */
static struct near_val *detach(struct near_stripe *s, uint32_t i)
{
	struct near_ent *e = &s->ents[i];
	uint32_t *p = &s->buckets[bucket_of(s, &e->d)];
	struct near_val *val = e->val;

	while (*p != i)
		p = &s->ents[*p].hnext;
	*p = e->hnext;
	lru_unlink(s, i);
	e->val = NULL;
	e->hnext = s->free_head;
	s->free_head = i;
	s->nfree++;
	return val;
}

static int stripe_alloc(struct near_stripe *s)
{
	uint32_t nb = 1;

	while (nb < s->cap * 2)
		nb <<= 1;
	s->ents = calloc(s->cap, sizeof(*s->ents));
	s->buckets = malloc(sizeof(*s->buckets) * nb);
	if (!s->ents || !s->buckets) {
		free(s->ents);
		free(s->buckets);
		s->ents = NULL;
		s->buckets = NULL;
		return TXC_ENOMEM;
	}
	memset(s->buckets, 0xff, sizeof(*s->buckets) * nb); /* every chain NIL */
	s->mask = nb - 1;
	s->head = s->tail = s->free_head = NIL;
	return 0;
}

/* A slot for a new entry: a free one, an unused one, or the LRU victim
 * (whose value goes to *OLD). */
static uint32_t slot_take(struct near_stripe *s, struct near_val **old)
{
	uint32_t i;

	if (s->free_head != NIL) {
		i = s->free_head;
		s->free_head = s->ents[i].hnext;
		s->nfree--;
		return i;
	}
	if (s->used < s->cap)
		return s->used++;
	*old = detach(s, s->tail);
	return slot_take(s, old);
}

/* How long an entry of VAL may live: local_ttl, but never past the value's
 * fresh-until (after it, memcached's copy decides: stale or refreshed, or
 * early refresh: fresh.h). 0: not at all. */
static int64_t entry_life(const struct near_tab *t, const struct near_val *val)
{
	uint64_t until = val->meta.fresh_until;
	int64_t now = fresh_now_ns();
#ifdef TXC_MUTANT_NEAR_FRESH /* make mutants: near entries live local_ttl regardless */
	until = 0;
#endif
	if (until == 0)
		return t->ttl_ns;
	if (now < 0 || until <= (uint64_t)now)
		return 0;
	uint64_t left = until - (uint64_t)now;
	return left < (uint64_t)t->ttl_ns ? (int64_t)left : t->ttl_ns;
}

/* Inserts VAL (owned: freed here when not kept), whose LEN bytes are
 * filled in: decodes them first. */
static void insert_owned(struct near_tab *t, const struct txc_digest *d, uint64_t epoch,
			 struct near_val *val, size_t len)
{
	struct near_stripe *s;
	struct near_val *old = NULL;
	uint32_t i;
	int64_t life;

	if (codec_decode(t->sig, t->sig_digest, d, val->bytes, len, &val->meta, &val->res) != 0 ||
	    (life = entry_life(t, val)) == 0) {
		free(val);
		return;
	}
	s = stripe_of(t, d);
	pthread_mutex_lock(&s->mu);
	if (atomic_load_explicit(&t->epoch, memory_order_acquire) != epoch ||
	    (!s->ents && stripe_alloc(s) != 0)) {
		pthread_mutex_unlock(&s->mu);
		free(val);
		return;
	}
	i = find(s, d);
	if (i != NIL)
		old = detach(s, i);
	val_release(old); /* rare (a racing insertion of the same key): keeps slot_take simple */
	old = NULL;
	atomic_init(&val->refs, 1);
	i = slot_take(s, &old);
	s->ents[i] = (struct near_ent){.d = *d, .val = val};
	s->ents[i].expires_ns = now_ns() + life;
	s->ents[i].hnext = s->buckets[bucket_of(s, d)];
	s->buckets[bucket_of(s, d)] = i;
	lru_push(s, i);
	pthread_mutex_unlock(&s->mu);
	val_release(old);
}

/* ---- the interface ---- */

int near_get(int fn, const struct txc_digest *key, near_apply_fn apply, void *ctx)
{
	struct near_tab *t = tab_of(fn);
	struct near_stripe *s;
	struct near_val *old = NULL, *hit = NULL;
	uint32_t i;
	int rc = TXC_ENOTFOUND;

	if (!t)
		return rc;
	s = stripe_of(t, key);
	pthread_mutex_lock(&s->mu);
	i = find(s, key);
	if (i != NIL && s->ents[i].expires_ns <= now_ns()) {
		old = detach(s, i);
		i = NIL;
	}
	if (i != NIL) {
		if (s->head != i) {
			lru_unlink(s, i);
			lru_push(s, i);
		}
		hit = s->ents[i].val;
		atomic_fetch_add_explicit(&hit->refs, 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&s->mu);
	val_release(old);
	if (hit) {
		rc = apply(ctx, &hit->meta, &hit->res);
		val_release(hit);
	}
	return rc;
}

uint64_t near_epoch(int fn)
{
	struct near_tab *t = tab_of(fn);

	return t ? atomic_load_explicit(&t->epoch, memory_order_acquire) : 0;
}

void near_put(int fn, const struct txc_digest *key, uint64_t epoch, const void *val, size_t len)
{
	struct near_tab *t = tab_of(fn);
	struct near_val *v;

	if (!t || len == 0 || len > UINT32_MAX)
		return;
	v = malloc(sizeof(*v) + len);
	if (!v)
		return;
	memcpy(v->bytes, val, len);
	insert_owned(t, key, epoch, v, len);
}

void near_put_result(int fn, const struct txc_digest *key, uint64_t epoch,
		     const struct txc_value_meta *meta, const struct txc_result *res)
{
	struct near_tab *t = tab_of(fn);
	size_t size, len = 0;
	struct near_val *v;

	if (!t)
		return;
	size = codec_size(t->sig, res);
	v = size && size <= UINT32_MAX ? malloc(sizeof(*v) + size) : NULL;
	if (!v)
		return;
	if (codec_encode(t->sig, meta, res, v->bytes, size, &len) != 0) {
		free(v);
		return;
	}
	insert_owned(t, key, epoch, v, len);
}

void near_forget(int fn, const struct txc_digest *key)
{
	struct near_tab *t = tab_of(fn);
	struct near_stripe *s;
	struct near_val *old = NULL;
	uint32_t i;

	if (!t)
		return;
	/* first: an insertion racing with us is refused from now on */
	atomic_fetch_add_explicit(&t->epoch, 1, memory_order_acq_rel);
	s = stripe_of(t, key);
	pthread_mutex_lock(&s->mu);
	i = find(s, key);
	if (i != NIL)
		old = detach(s, i);
	pthread_mutex_unlock(&s->mu);
	val_release(old);
}

static void tab_clear(struct near_tab *t)
{
	atomic_fetch_add_explicit(&t->epoch, 1, memory_order_acq_rel);
	for (uint32_t k = 0; k < t->nstripes; k++) {
		struct near_stripe *s = &t->stripes[k];

		pthread_mutex_lock(&s->mu);
		while (s->head != NIL)
			val_release(detach(s, s->head));
		pthread_mutex_unlock(&s->mu);
	}
}

void near_forget_fn(int fn)
{
	int saved = errno;

	for (int i = 0; g_tabs && i < g_ntabs; i++)
		if (g_tabs[i] && (fn < 0 || fn == i))
			tab_clear(g_tabs[i]);
	errno = saved;
}
