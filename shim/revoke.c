/* revoke.c - invalidation times per call, function and namespace. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "revoke.h"

struct slot {
	_Atomic uint64_t tag; /* the digest's first 8 bytes | 1; 0 = empty or being written */
	_Atomic int64_t at;
	_Atomic uint64_t fn;
};

struct group {
	_Atomic uint64_t id;  /* 0 = free */
	_Atomic int64_t at;   /* latest invalidation of every call */
	_Atomic uint64_t gen; /* generation read last; 0 = none yet */
};

struct txc_revoke {
	pthread_mutex_t mu;  /* writers of slots */
	pthread_mutex_t gmu; /* writers of group ids; taken after mu, never before */
	struct group overflow;
	struct group groups[REVOKE_GROUPS];
	struct slot calls[REVOKE_SLOTS];
};

static struct txc_revoke g_revoke = {.mu = PTHREAD_MUTEX_INITIALIZER,
				     .gmu = PTHREAD_MUTEX_INITIALIZER};

/* A fork while another thread holds a lock would leave it held in the
 * child for ever: hold both across fork(). */
static void fork_prepare(void)
{
	pthread_mutex_lock(&g_revoke.mu);
	pthread_mutex_lock(&g_revoke.gmu);
}

static void fork_done(void)
{
	pthread_mutex_unlock(&g_revoke.gmu);
	pthread_mutex_unlock(&g_revoke.mu);
}

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void fork_init(void)
{
	pthread_atfork(fork_prepare, fork_done, fork_done);
}

struct txc_revoke *revoke_process(void)
{
	pthread_once(&fork_once, fork_init);
	return &g_revoke;
}

uint64_t revoke_id(const char *text, size_t len)
{
	return XXH3_64bits(text, len) | 1;
}

static void raise_to(_Atomic int64_t *t, int64_t at)
{
	int64_t cur = atomic_load(t);
	while (cur < at && !atomic_compare_exchange_weak(t, &cur, at))
		;
}

static struct group *group_find(struct txc_revoke *r, uint64_t id)
{
	for (unsigned i = 0; i < REVOKE_GROUPS; i++) {
		struct group *g = &r->groups[(id + i) % REVOKE_GROUPS];
		uint64_t gid = atomic_load(&g->id);
		if (gid == id)
			return g;
		if (gid == 0)
			return NULL;
	}
	return NULL;
}

/* The group of ID, made when new: its own entry, or the shared overflow
 * entry once the table is full (entries are never removed, so a lock-free
 * probe that stops at a free entry is right). */
static struct group *group_of(struct txc_revoke *r, uint64_t id)
{
	struct group *g = group_find(r, id);
	if (g)
		return g;
	pthread_mutex_lock(&r->gmu);
	for (unsigned i = 0; i < REVOKE_GROUPS && !g; i++) {
		struct group *e = &r->groups[(id + i) % REVOKE_GROUPS];
		uint64_t gid = atomic_load(&e->id);
		if (gid == 0)
			atomic_store(&e->id, id);
		if (gid == 0 || gid == id)
			g = e;
	}
	pthread_mutex_unlock(&r->gmu);
	return g ? g : &r->overflow;
}

static uint64_t tag_of(const struct txc_digest *d)
{
	uint64_t t;
	memcpy(&t, d->b, sizeof(t));
	return t | 1;
}

static void note_call(struct txc_revoke *r, uint64_t fn, const struct txc_digest *d, int64_t at)
{
	uint64_t tag = tag_of(d);
	struct slot *s = &r->calls[tag % REVOKE_SLOTS];
	pthread_mutex_lock(&r->mu);
	uint64_t old = atomic_load(&s->tag), ofn = atomic_load(&s->fn);
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

void revoke_note(struct txc_revoke *r, uint64_t fn, const struct txc_digest *d, int64_t at)
{
	if (!r)
		return;
	if (d)
		note_call(r, fn, d, at);
	else
		raise_to(&group_of(r, fn)->at, at);
}

static void gen_seen(struct group *g, uint64_t gen, int64_t at)
{
	uint64_t old = atomic_load_explicit(&g->gen, memory_order_relaxed);
	if (old == gen)
		return;
	old = atomic_exchange(&g->gen, gen);
	if (old && old != gen)
		raise_to(&g->at, at);
}

void revoke_gens(struct txc_revoke *r, uint64_t fn, uint64_t ns, uint64_t fn_gen, uint64_t ns_gen,
		 int64_t at)
{
	if (!r)
		return;
	gen_seen(group_of(r, ns), ns_gen, at);
	gen_seen(group_of(r, fn), fn_gen, at);
}

/* The slot's time when it holds D's call, else 0. A writer zeroes the tag
 * first: a tag read twice unchanged around the time means the time is
 * that call's. */
static int64_t call_at(const struct txc_revoke *r, uint64_t fn, const struct txc_digest *d)
{
	uint64_t tag = tag_of(d);
	const struct slot *s = &r->calls[tag % REVOKE_SLOTS];
	if (atomic_load_explicit(&s->tag, memory_order_acquire) != tag)
		return 0;
	int64_t at = atomic_load(&s->at);
	uint64_t sfn = atomic_load(&s->fn);
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&s->tag, memory_order_relaxed) != tag || sfn != fn)
		return 0;
	return at;
}

static int64_t group_at(struct txc_revoke *r, uint64_t id)
{
	struct group *g = group_find(r, id);
	return atomic_load(g ? &g->at : &r->overflow.at);
}

int64_t revoke_since(struct txc_revoke *r, uint64_t fn, uint64_t ns, const struct txc_digest *d)
{
	if (!r)
		return 0;
	/* the call first: an entry pushed out raised its function's time
	 * before it went, so one of the two reads sees it */
	int64_t t = d ? call_at(r, fn, d) : 0;
	int64_t f = group_at(r, fn), n = ns ? group_at(r, ns) : 0;
	t = f > t ? f : t;
	return n > t ? n : t;
}
