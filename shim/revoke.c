/* revoke.c - invalidation times per call, function and namespace. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "revoke.h"

struct slot {
	_Atomic uint64_t tag; /* the digest's first 8 bytes | 1; 0 = empty or being written */
	_Atomic int64_t at;
	_Atomic int fn;
};

struct gen_seen {
	_Atomic int64_t at;   /* latest invalidation of every call */
	_Atomic uint64_t gen; /* generation read last; 0 = none yet */
};

struct txc_revoke {
	int nfns;
	pthread_mutex_t mu; /* writers of slots */
	struct gen_seen ns;
	struct slot calls[REVOKE_SLOTS];
	struct gen_seen fns[];
};

int revoke_new(int nfns, struct txc_revoke **out)
{
	struct txc_revoke *r =
	    calloc(1, sizeof(*r) + sizeof(r->fns[0]) * (size_t)(nfns > 0 ? nfns : 1));
	*out = r;
	if (!r)
		return TXC_ENOMEM;
	r->nfns = nfns;
	pthread_mutex_init(&r->mu, NULL);
	return 0;
}

void revoke_free(struct txc_revoke *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static void raise_to(_Atomic int64_t *t, int64_t at)
{
	int64_t cur = atomic_load(t);
	while (cur < at && !atomic_compare_exchange_weak(t, &cur, at))
		;
}

static struct gen_seen *group_of(struct txc_revoke *r, int fn)
{
	return fn >= 0 && fn < r->nfns ? &r->fns[fn] : &r->ns;
}

static uint64_t tag_of(const struct txc_digest *d)
{
	uint64_t t;
	memcpy(&t, d->b, sizeof(t));
	return t | 1;
}

static void note_call(struct txc_revoke *r, int fn, const struct txc_digest *d, int64_t at)
{
	uint64_t tag = tag_of(d);
	struct slot *s = &r->calls[tag % REVOKE_SLOTS];
	pthread_mutex_lock(&r->mu);
	uint64_t old = atomic_load(&s->tag);
	int ofn = atomic_load(&s->fn);
	if (old == tag && ofn == fn) {
		raise_to(&s->at, at);
	} else {
		/* the call pushed out widens to its function before it goes */
		if (old)
			raise_to(&group_of(r, ofn)->at, atomic_load(&s->at));
		atomic_store_explicit(&s->tag, 0, memory_order_release);
		atomic_store(&s->at, at);
		atomic_store(&s->fn, fn);
		atomic_store_explicit(&s->tag, tag, memory_order_release);
	}
	pthread_mutex_unlock(&r->mu);
}

void revoke_note(struct txc_revoke *r, int fn, const struct txc_digest *d, int64_t at)
{
	if (!r)
		return;
	if (fn >= 0 && d)
		note_call(r, fn, d, at);
	else
		raise_to(&group_of(r, fn)->at, at);
}

static void gen_seen(struct gen_seen *g, uint64_t gen, int64_t at)
{
	uint64_t old = atomic_load_explicit(&g->gen, memory_order_relaxed);
	if (old == gen)
		return;
	old = atomic_exchange(&g->gen, gen);
	if (old && old != gen)
		raise_to(&g->at, at);
}

void revoke_gens(struct txc_revoke *r, int fn, uint64_t fn_gen, uint64_t ns_gen, int64_t at)
{
	if (!r)
		return;
	gen_seen(&r->ns, ns_gen, at);
	if (fn >= 0 && fn < r->nfns)
		gen_seen(&r->fns[fn], fn_gen, at);
}

/* The slot's time when it holds D's call, else 0. A writer zeroes the tag
 * first: a tag read twice unchanged around the time means the time is
 * that call's. */
static int64_t call_at(const struct txc_revoke *r, int fn, const struct txc_digest *d)
{
	uint64_t tag = tag_of(d);
	const struct slot *s = &r->calls[tag % REVOKE_SLOTS];
	if (atomic_load_explicit(&s->tag, memory_order_acquire) != tag)
		return 0;
	int64_t at = atomic_load(&s->at);
	int sfn = atomic_load(&s->fn);
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&s->tag, memory_order_relaxed) != tag || sfn != fn)
		return 0;
	return at;
}

int64_t revoke_since(const struct txc_revoke *r, int fn, const struct txc_digest *d)
{
	if (!r)
		return 0;
	/* the call first: an entry pushed out raised its function's time
	 * before it went, so one of the two reads sees it */
	int64_t t = fn >= 0 && fn < r->nfns && d ? call_at(r, fn, d) : 0;
	if (fn >= 0 && fn < r->nfns) {
		int64_t f = atomic_load(&r->fns[fn].at);
		t = f > t ? f : t;
	}
	int64_t n = atomic_load(&r->ns.at);
	return n > t ? n : t;
}
