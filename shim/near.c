/* near.c - per-thread near-cache tables with shared invalidation epochs;
 * see near.h.
 *
 * A hit reads its own thread's table and one shared word, the function's
 * epoch, which only invalidations write: on 2 cores two threads' hits no
 * longer fight over a stripe mutex, an LRU list and a refcount (issue 16:
 * 11 M hits/s with 1 thread fell to 4 M with 2).
 *
 * Invalidation without touching other threads' tables: near_forget and
 * near_forget_fn bump the function's epoch and write what they invalidated
 * (a 48-bit tag of the key, or 0 for "everything") into a ring of the last
 * RING such notes, slot epoch % RING, with the epoch's low 16 bits next
 * to the tag. Every entry carries the epoch its value is known current at
 * (the one read before the memcached lookup that found it). A hit on an
 * entry of an older epoch scans the ring slots after it: none names the key
 * or the whole function, then the entry is restamped and served; anything
 * else, including a slot not yet written or already reused for a newer
 * epoch (checked seqlock-style after the scan), is a miss. The writer
 * stores the epoch, then a release fence, then the slot; the reader reads
 * the slots, an acquire fence, then the epoch again: a slot reused during
 * the scan shows as an epoch too new.
 *
 * Threads' state is found through an initial-exec TLS pointer; a pthread
 * key's destructor frees it when the thread exits, and a registry (a list
 * under a mutex taken only when a thread's state is made or freed, and
 * around fork) lets a fork child free the tables of the threads it lost.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "fresh.h"
#include "near.h"
#include "near_tab.h"
#include "tslot.h"

#define TLS __thread __attribute__((tls_model("initial-exec")))
/* notes a stale-stamped entry can be checked against: the last 64
 * invalidations, each noted twice (cache.c: before and after memcached's) */
#define RING	   128
#define EPOCH_BITS 16
#define EPOCH_MASK ((1u << EPOCH_BITS) - 1)
#define TAG_ALL	   0 /* a ring tag: every key of the function */

/* Shared, one per function with a near cache: read by hits, written only by
 * invalidations (under MU, which serialises them). */
struct near_fn {
	_Atomic uint64_t epoch;
	_Atomic uint64_t ring[RING];
	pthread_mutex_t mu;
	const struct txc_sig *sig;
	const struct txc_digest *sig_digest;
	int64_t ttl_ns;
	uint32_t cap;
} __attribute__((aligned(64)));

/* One thread's tables. */
struct near_thr {
	struct near_thr *next, *prev; /* the registry */
	struct near_tab *tabs[];      /* by function; NULL until its first insertion here */
};

static struct near_fn **g_fns;
static int g_nfns;
/* the thread's tables (tslot.h: the shim holds one of the program's
 * thread keys, whatever it keeps per thread) */
static unsigned g_slot;
static pthread_mutex_t g_reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct near_thr *g_reg;
static TLS struct near_thr *t_thr;

static int64_t now_ns(void)
{
	struct timespec ts;

	/* a few ms of resolution is plenty for whole-second TTLs, and the
	 * coarse clock costs a few ns instead of tens */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct near_fn *fn_of(int fn)
{
	if (!g_fns || fn < 0 || fn >= g_nfns)
		return NULL;
	return g_fns[fn];
}

static uint64_t tag_of(const struct txc_digest *d)
{
	uint64_t h;

	memcpy(&h, d->b + 8, sizeof(h));
	return (h >> EPOCH_BITS) | 1; /* never TAG_ALL */
}

/* ---- threads' state ---- */

static void reg_unlink(struct near_thr *th)
{
	if (th->prev)
		th->prev->next = th->next;
	else
		g_reg = th->next;
	if (th->next)
		th->next->prev = th->prev;
}

static void thr_free(struct near_thr *th)
{
	for (int i = 0; i < g_nfns; i++)
		near_tab_free(th->tabs[i]);
	free(th);
}

/* pthread key destructor: the thread exits. */
static void thr_exit(void *p)
{
	struct near_thr *th = p;

	pthread_mutex_lock(&g_reg_mu);
	reg_unlink(th);
	pthread_mutex_unlock(&g_reg_mu);
	if (t_thr == th)
		t_thr = NULL;
	thr_free(th);
}

static struct near_thr *thr_get(void)
{
	struct near_thr *th = t_thr;

	if (th)
		return th;
	th = calloc(1, sizeof(*th) + sizeof(th->tabs[0]) * (size_t)g_nfns);
	if (!th)
		return NULL;
	if (tslot_set(g_slot, th, thr_exit) != 0) {
		free(th);
		return NULL;
	}
	pthread_mutex_lock(&g_reg_mu);
	th->next = g_reg;
	if (g_reg)
		g_reg->prev = th;
	g_reg = th;
	pthread_mutex_unlock(&g_reg_mu);
	t_thr = th;
	return th;
}

/* fork(): the registry's and the invalidation locks, in one order. */
static void locks_each(int lock)
{
	if (lock)
		pthread_mutex_lock(&g_reg_mu);
	for (int i = 0; g_fns && i < g_nfns; i++)
		if (g_fns[i]) {
			if (lock)
				pthread_mutex_lock(&g_fns[i]->mu);
			else
				pthread_mutex_unlock(&g_fns[i]->mu);
		}
	if (!lock)
		pthread_mutex_unlock(&g_reg_mu);
}

static void fork_prepare(void)
{
	locks_each(1);
}

static void fork_parent(void)
{
	locks_each(0);
}

/* The child has only the forking thread: the other threads' tables are
 * nobody's now (none of them can be in use). */
static void fork_child(void)
{
	struct near_thr *th = g_reg, *next;

	locks_each(0);
	for (; th; th = next) {
		next = th->next;
		if (th != t_thr)
			thr_free(th);
	}
	g_reg = t_thr;
	if (g_reg)
		g_reg->next = g_reg->prev = NULL;
}

/* ---- set-up ---- */

static struct near_fn *fn_new(const struct txc_fn_config *fc, const struct txc_key_fn *kf)
{
	struct near_fn *f = aligned_alloc(64, sizeof(*f));

	if (!f)
		return NULL;
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	f->sig = &fc->sig;
	f->sig_digest = &kf->sig_digest;
	f->ttl_ns = (int64_t)fc->local_ttl * 1000000000;
	f->cap = fc->local_entries;
	atomic_init(&f->epoch, 1); /* 0: no near cache (near_epoch) */
	for (int i = 0; i < RING; i++)
		atomic_init(&f->ring[i], EPOCH_MASK); /* matches no epoch yet */
	return f;
}

int near_init(const struct txc_cache *c)
{
	const struct txc_config *cfg = c->cfg;
	struct near_fn **fns = calloc(cfg->nfns ? (size_t)cfg->nfns : 1, sizeof(*fns));
	int i;

	if (!fns)
		return TXC_ENOMEM;
	for (i = 0; i < cfg->nfns; i++) {
		const struct txc_fn_config *fc = &cfg->fns[i];

		if (fc->local_ttl == 0 || fc->ninval > 0)
			continue;
		fns[i] = fn_new(fc, &c->kf[i]);
		if (!fns[i])
			break;
	}
	/* without the fork handlers a child could hang: no near cache at all */
	if (i < cfg->nfns || pthread_atfork(fork_prepare, fork_parent, fork_child) != 0)
		goto fail;
	g_slot = tslot_new();
	g_nfns = cfg->nfns;
	g_fns = fns;
	return 0;
fail:
	while (i-- > 0) /* never freed elsewhere: nothing has seen them yet */
		free(fns[i]);
	free(fns);
	return TXC_ENOMEM;
}

/* ---- invalidation epochs ---- */

/* Invalidates TAG (a key's, or TAG_ALL) in F for every thread. */
static void fn_bump(struct near_fn *f, uint64_t tag)
{
	pthread_mutex_lock(&f->mu);
	uint64_t e = atomic_load_explicit(&f->epoch, memory_order_relaxed) + 1;
	/* release: carries the earlier invalidations' slots to whoever sees E */
	atomic_store_explicit(&f->epoch, e, memory_order_release);
	/* a reader that sees the slot written below sees E after its fence */
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&f->ring[e % RING], tag << EPOCH_BITS | (e & EPOCH_MASK),
			      memory_order_relaxed);
	pthread_mutex_unlock(&f->mu);
}

/* Whether no invalidation of F since STAMP named D (true: then NOW, the
 * epoch read first, is a stamp the entry may take). */
static bool still_current(const struct near_fn *f, const struct txc_digest *d, uint64_t stamp,
			  uint64_t now)
{
#ifdef TXC_MUTANT_NEAR_EPOCH /* make mutants: invalidations in other threads ignored */
	return true;
#endif
	if (now - stamp > RING)
		return false;
	uint64_t tag = tag_of(d);
	for (uint64_t e = stamp + 1; e <= now; e++) {
		uint64_t s = atomic_load_explicit(&f->ring[e % RING], memory_order_relaxed);

		if ((s & EPOCH_MASK) != (e & EPOCH_MASK) || s >> EPOCH_BITS == TAG_ALL ||
		    s >> EPOCH_BITS == tag)
			return false;
	}
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&f->epoch, memory_order_relaxed) - stamp <= RING;
}

/* ---- the interface ---- */

int near_get(int fn, const struct txc_digest *key, near_apply_fn apply, void *ctx)
{
	struct near_fn *f = fn_of(fn);
	struct near_thr *th = t_thr;
	struct near_tab *t = f && th ? th->tabs[fn] : NULL;
	uint32_t i = t ? near_tab_find(t, key) : NEAR_NIL;

	if (i == NEAR_NIL)
		return TXC_ENOTFOUND;
	struct near_ent *e = &t->ents[i];
	uint64_t now = atomic_load_explicit(&f->epoch, memory_order_acquire);
	if (e->expires_ns <= now_ns() ||
	    (e->stamp != now && !still_current(f, key, e->stamp, now))) {
		near_tab_drop(t, i);
		return TXC_ENOTFOUND;
	}
	e->stamp = now;
	e->ref = 1;
	/* pinned: APPLY may block, and a cached call made meanwhile by this
	 * thread (a signal handler's) may change the table */
	struct near_val *v = e->val;
	v->pins++;
	int rc = apply(ctx, &v->meta, &v->res);
	near_val_unpin(v);
	return rc;
}

uint64_t near_epoch(int fn)
{
	struct near_fn *f = fn_of(fn);

	return f ? atomic_load_explicit(&f->epoch, memory_order_acquire) : 0;
}

/* How long an entry of VAL may live: local_ttl, but never past the value's
 * fresh-until (after it, memcached's copy decides: stale or refreshed, or
 * early refresh: fresh.h). 0: not at all. */
static int64_t entry_life(const struct near_fn *f, const struct near_val *val)
{
	uint64_t until = val->meta.fresh_until;
	int64_t now = fresh_now_ns();
#ifdef TXC_MUTANT_NEAR_FRESH /* make mutants: near entries live local_ttl regardless */
	until = 0;
#endif
	if (until == 0)
		return f->ttl_ns;
	if (now < 0 || until <= (uint64_t)now)
		return 0;
	uint64_t left = until - (uint64_t)now;
	return left < (uint64_t)f->ttl_ns ? (int64_t)left : f->ttl_ns;
}

/* Inserts VAL (owned: freed here when not kept), whose LEN bytes are
 * filled in, into this thread's table: decodes them first. An invalidation
 * since EPOCH needs no check here: the entry is stamped EPOCH, so its first
 * hit checks the ring. */
static void insert_owned(int fn, struct near_fn *f, const struct txc_digest *d, uint64_t epoch,
			 struct near_val *val, size_t len)
{
	struct near_thr *th;
	int64_t life;

	val->pins = 0;
	val->dead = false;
	if (codec_decode(f->sig, f->sig_digest, d, val->bytes, len, &val->meta, &val->res) != 0 ||
	    (life = entry_life(f, val)) == 0 || !(th = thr_get()) ||
	    (!th->tabs[fn] && !(th->tabs[fn] = near_tab_new(f->cap)))) {
		free(val);
		return;
	}
	near_tab_insert(th->tabs[fn], d, val, now_ns() + life, epoch);
}

/* Whether a value read at EPOCH may still be offered: not when the ring no
 * longer reaches back to it (its first hit would be a miss anyway). */
static struct near_fn *fn_for_put(int fn, uint64_t epoch)
{
	struct near_fn *f = fn_of(fn);

	if (!f || epoch == 0 ||
	    atomic_load_explicit(&f->epoch, memory_order_acquire) - epoch > RING)
		return NULL;
	return f;
}

void near_put(int fn, const struct txc_digest *key, uint64_t epoch, const void *val, size_t len)
{
	struct near_fn *f = fn_for_put(fn, epoch);
	struct near_val *v;

	if (!f || len == 0 || len > UINT32_MAX)
		return;
	v = malloc(sizeof(*v) + len);
	if (!v)
		return;
	memcpy(v->bytes, val, len);
	insert_owned(fn, f, key, epoch, v, len);
}

void near_put_result(int fn, const struct txc_digest *key, uint64_t epoch,
		     const struct txc_value_meta *meta, const struct txc_result *res)
{
	struct near_fn *f = fn_for_put(fn, epoch);
	size_t size, len = 0;
	struct near_val *v;

	if (!f)
		return;
	size = codec_size(f->sig, res);
	v = size && size <= UINT32_MAX ? malloc(sizeof(*v) + size) : NULL;
	if (!v)
		return;
	if (codec_encode(f->sig, meta, res, v->bytes, size, &len) != 0) {
		free(v);
		return;
	}
	insert_owned(fn, f, key, epoch, v, len);
}

void near_forget(int fn, const struct txc_digest *key)
{
	struct near_fn *f = fn_of(fn);
	struct near_thr *th = t_thr;
	uint32_t i;

	if (!f)
		return;
	/* first: a racing insertion is stamped before it from now on */
	fn_bump(f, tag_of(key));
	/* this thread's own entry goes now; other threads' at their next look */
	if (th && th->tabs[fn] && (i = near_tab_find(th->tabs[fn], key)) != NEAR_NIL)
		near_tab_drop(th->tabs[fn], i);
}

void near_forget_fn(int fn)
{
	int saved = errno;
	struct near_thr *th = t_thr;

	for (int i = 0; g_fns && i < g_nfns; i++)
		if (g_fns[i] && (fn < 0 || fn == i)) {
			fn_bump(g_fns[i], TAG_ALL);
			if (th && th->tabs[i])
				near_tab_clear(th->tabs[i]);
		}
	errno = saved;
}
