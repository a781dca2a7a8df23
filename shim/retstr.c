/* retstr.c - the char * a hit returns (see retstr.h).
 *
 * string: the old scheme was one buffer per thread grown with realloc, so a
 * longer result freed the pointer the caller still held from the previous
 * call. Two buffers used in turn leave the previous call's bytes alone.
 *
 * static string: a chained hash table per function, keyed by XXH3-64 of the
 * content. Entries are never removed, so a pointer once returned stays valid
 * and unchanged; a process-wide byte budget bounds what that costs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "err.h"
#include "log.h"
#include "retstr.h"

/* ---- string: two buffers in turn ---- */

struct turn_buf {
	size_t cap;
	char *data;
};

struct turns {
	unsigned next; /* the buffer the next hit uses */
	struct turn_buf b[2];
};

/* One thread's pairs of buffers, indexed by the functions' slots. */
struct thread_turns {
	size_t n;
	struct turns *t;
};

/* One thread key for every string function: glibc gives a process 1024
 * keys in all, and they are the host's; a key per function would leave it
 * 23 with 1000 functions configured. */
static pthread_key_t g_key;
static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;
static bool g_key_ok;
static int g_nslots; /* atomic: slots handed out, never reused */

static void turn_clear(struct turns *t)
{
	free(t->b[0].data);
	free(t->b[1].data);
	memset(t, 0, sizeof(*t));
}

static void thread_turns_free(void *p)
{
	struct thread_turns *tt = p;
	for (size_t i = 0; i < tt->n; i++)
		turn_clear(&tt->t[i]);
	free(tt->t);
	free(tt);
}

static void key_create(void)
{
	g_key_ok = pthread_key_create(&g_key, thread_turns_free) == 0;
}

/* This thread's pair for SLOT, created or grown on first use. */
static struct turns *turns_of(int slot)
{
	struct thread_turns *tt = pthread_getspecific(g_key);
	if (!tt) {
		tt = calloc(1, sizeof(*tt));
		if (!tt)
			return NULL;
		if (pthread_setspecific(g_key, tt) != 0) {
			free(tt);
			return NULL;
		}
	}
	if ((size_t)slot >= tt->n) {
		size_t n = tt->n * 2 > (size_t)slot ? tt->n * 2 : (size_t)slot + 8;
		struct turns *nt = realloc(tt->t, n * sizeof(*nt));
		if (!nt)
			return NULL;
		memset(nt + tt->n, 0, (n - tt->n) * sizeof(*nt));
		tt->t = nt;
		tt->n = n;
	}
	return &tt->t[slot];
}

static int turn_string(struct retstr_fn *r, size_t need, char **out)
{
	struct turns *t = turns_of(r->slot);
	if (!t)
		return TXC_ENOMEM;
	/* this buffer last served the call before the previous one: whoever
	 * holds it is past "valid until the next call" */
	struct turn_buf *b = &t->b[t->next];
	if (b->cap < need) {
		char *n = realloc(b->data, need);
		if (!n)
			return TXC_ENOMEM;
		b->data = n;
		b->cap = need;
	}
	t->next ^= 1;
	*out = b->data;
	return 0;
}

/* ---- static string: interned for the process ---- */

struct ent {
	struct ent *next;
	uint64_t hash;
	size_t len;
	char s[];
};

struct retstr_intern {
	size_t nbuckets, count;
	struct ent **buckets;
};

static size_t g_static_bytes; /* atomic: bytes taken by every table */
static int g_static_warned;

size_t retstr_static_bytes(void)
{
	return __atomic_load_n(&g_static_bytes, __ATOMIC_RELAXED);
}

/* Takes N bytes of the budget. Returns 0 or TXC_ETOOBIG. */
static int budget_take(size_t n)
{
	size_t cur = __atomic_load_n(&g_static_bytes, __ATOMIC_RELAXED);
	do {
		if (n > RETSTR_STATIC_MAX || cur > RETSTR_STATIC_MAX - n)
			return TXC_ETOOBIG;
	} while (!__atomic_compare_exchange_n(&g_static_bytes, &cur, cur + n, true,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return 0;
}

static void budget_give(size_t n)
{
	__atomic_fetch_sub(&g_static_bytes, n, __ATOMIC_RELAXED);
}

/* Doubles T's buckets once the chains grow past two entries on average.
 * Failure is harmless: chains just get longer. */
static void intern_grow(struct retstr_intern *t)
{
	size_t n = t->nbuckets ? t->nbuckets * 2 : 64;
	if (t->count < t->nbuckets * 2 || budget_take(n * sizeof(struct ent *)) != 0)
		return;
	struct ent **nb = calloc(n, sizeof(*nb));
	if (!nb) {
		budget_give(n * sizeof(struct ent *));
		return;
	}
	for (size_t i = 0; i < t->nbuckets; i++) {
		for (struct ent *e = t->buckets[i], *nx; e; e = nx) {
			nx = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	free(t->buckets);
	budget_give(t->nbuckets * sizeof(struct ent *));
	t->buckets = nb;
	t->nbuckets = n;
}

static struct ent *intern_find(const struct retstr_intern *t, uint64_t h, const char *s, size_t len)
{
	if (!t->nbuckets)
		return NULL;
	for (struct ent *e = t->buckets[h & (t->nbuckets - 1)]; e; e = e->next)
		if (e->hash == h && e->len == len && memcmp(e->s, s, len) == 0)
			return e;
	return NULL;
}

/* Adds S to T (under the lock). Returns 0 and *OUT, or a TXC_E* code. */
static int intern_add(struct retstr_intern *t, uint64_t h, const char *s, size_t len, char **out)
{
	size_t cost = sizeof(struct ent) + len + 1;
	intern_grow(t);
	if (!t->nbuckets)
		return TXC_ENOMEM;
	if (len > RETSTR_STATIC_MAX || budget_take(cost) != 0)
		return TXC_ETOOBIG;
	struct ent *e = malloc(cost);
	if (!e) {
		budget_give(cost);
		return TXC_ENOMEM;
	}
	e->hash = h;
	e->len = len;
	memcpy(e->s, s, len);
	e->s[len] = '\0';
	e->next = t->buckets[h & (t->nbuckets - 1)];
	t->buckets[h & (t->nbuckets - 1)] = e;
	t->count++;
	*out = e->s;
	return 0;
}

static int intern_string(struct retstr_fn *r, const char *s, size_t len, char **out)
{
	uint64_t h = XXH3_64bits(s, len);
	int rc = 0;
	pthread_mutex_lock(&r->mu);
	if (!r->tab)
		r->tab = calloc(1, sizeof(*r->tab));
	struct ent *e = r->tab ? intern_find(r->tab, h, s, len) : NULL;
	if (e)
		*out = e->s;
	else
		rc = r->tab ? intern_add(r->tab, h, s, len, out) : TXC_ENOMEM;
	pthread_mutex_unlock(&r->mu);
	if (rc == TXC_ETOOBIG)
		log_once(&g_static_warned, TXC_LOG_WARN,
			 "static string results passed %u bytes in this process; further new "
			 "ones call the real function",
			 RETSTR_STATIC_MAX);
	return rc;
}

/* ---- fork: the interning locks ---- */

/* A child of fork() has only the forking thread: a table lock another
 * thread held would never be released there. Child-side re-init, not a
 * prepare handler that takes every lock: a handler would have to take up to
 * 1000 locks in every fork, and a table lock is never held across anything
 * that forks. A table whose lock was held may be half-way through a grow;
 * the child drops it (leaked, never freed: pointers already handed out stay
 * valid) and interns anew. */
static struct retstr_fn *g_statics; /* registered static-string functions */
static pthread_mutex_t g_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_fork_once = PTHREAD_ONCE_INIT;

static void fork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
	g_reg_lock = fresh;
	for (struct retstr_fn *r = g_statics; r; r = r->next_static) {
		if (pthread_mutex_trylock(&r->mu) == 0) {
			pthread_mutex_unlock(&r->mu);
			continue;
		}
		r->mu = fresh;
		r->tab = NULL;
	}
}

static void fork_init(void)
{
	pthread_atfork(NULL, NULL, fork_child);
}

static int retstr_fork_register(struct retstr_fn *r)
{
	pthread_once(&g_fork_once, fork_init);
	pthread_mutex_lock(&g_reg_lock);
	r->next_static = g_statics;
	g_statics = r;
	pthread_mutex_unlock(&g_reg_lock);
	return 0;
}

static void retstr_fork_unregister(struct retstr_fn *r)
{
	pthread_mutex_lock(&g_reg_lock);
	for (struct retstr_fn **pp = &g_statics; *pp; pp = &(*pp)->next_static) {
		if (*pp == r) {
			*pp = r->next_static;
			break;
		}
	}
	pthread_mutex_unlock(&g_reg_lock);
}

/* ---- the interface ---- */

int retstr_init(struct retstr_fn *r, enum txc_ret kind)
{
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->slot = -1;
	pthread_mutex_init(&r->mu, NULL);
	if (kind == TXC_R_STATIC_STRING)
		return retstr_fork_register(r);
	if (kind != TXC_R_STRING)
		return 0;
	pthread_once(&g_key_once, key_create);
	if (!g_key_ok)
		return TXC_ENOMEM;
	r->slot = __atomic_fetch_add(&g_nslots, 1, __ATOMIC_RELAXED);
	return 0;
}

int retstr_make(struct retstr_fn *r, const char *s, size_t len, char **out)
{
	char *d = NULL;
	int rc = 0;
	if (!s) {
		*out = NULL;
		return 0;
	}
	if (len == SIZE_MAX)
		return TXC_ENOMEM;
	switch (r->kind) {
	case TXC_R_OWNED_STRING:
		d = malloc(len + 1);
		rc = d ? 0 : TXC_ENOMEM;
		break;
	case TXC_R_STRING:
		rc = r->slot >= 0 ? turn_string(r, len + 1, &d) : TXC_ENOMEM;
		break;
	case TXC_R_STATIC_STRING:
		return intern_string(r, s, len, out);
	default:
		return TXC_EINVAL;
	}
	if (rc != 0)
		return rc;
	memcpy(d, s, len);
	d[len] = '\0';
	*out = d;
	return 0;
}

void retstr_adopt(struct retstr_fn *r, void *ret)
{
	char *s, *interned;
	if (r->kind != TXC_R_STATIC_STRING)
		return;
	memcpy(&s, ret, sizeof(s));
	if (s && retstr_make(r, s, strlen(s), &interned) == 0)
		memcpy(ret, &interned, sizeof(interned));
}

void retstr_release(struct retstr_fn *r)
{
	struct retstr_intern *t = r->tab;
	for (size_t i = 0; t && i < t->nbuckets; i++) {
		for (struct ent *e = t->buckets[i], *nx; e; e = nx) {
			nx = e->next;
			budget_give(sizeof(*e) + e->len + 1);
			free(e);
		}
	}
	if (t) {
		budget_give(t->nbuckets * sizeof(struct ent *));
		free(t->buckets);
		free(t);
	}
	r->tab = NULL;
	struct thread_turns *tt = r->slot >= 0 ? pthread_getspecific(g_key) : NULL;
	if (tt && (size_t)r->slot < tt->n)
		turn_clear(&tt->t[r->slot]);
	r->slot = -1;
	retstr_fork_unregister(r);
	pthread_mutex_destroy(&r->mu);
}

void retstr_undo(struct retstr_fn *r, char *s)
{
	if (r->kind == TXC_R_OWNED_STRING)
		free(s);
}
