/* near_tab.c - one thread's table for one function; see near_tab.h.
 *
 * Indices, not pointers, link the entries, so growing the entry array is
 * one realloc and a rehash of the chains. CLOCK instead of an LRU list: a
 * hit only sets its entry's REF byte, and eviction gives every referenced
 * entry a second chance, so the hit path moves nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "near_tab.h"

#define FIRST_ALLOC 16

static uint32_t bucket_of(const struct near_tab *t, const struct txc_digest *d)
{
	uint32_t h;

	memcpy(&h, d->b + 4, sizeof(h));
	return h & t->mask;
}

/* Rebuilds the chains for ALLOC entries (and the free list). */
static int rehash(struct near_tab *t)
{
	uint32_t nb = 1;

	while (nb < t->alloc * 2)
		nb <<= 1;
	uint32_t *b = malloc(sizeof(*b) * nb);
	if (!b)
		return TXC_ENOMEM;
	free(t->buckets);
	t->buckets = b;
	t->mask = nb - 1;
	memset(b, 0xff, sizeof(*b) * nb); /* every chain NEAR_NIL */
	t->free_head = NEAR_NIL;
	for (uint32_t i = 0; i < t->used; i++) {
		struct near_ent *e = &t->ents[i];
		uint32_t *head = e->val ? &b[bucket_of(t, &e->d)] : &t->free_head;

		e->hnext = *head;
		*head = i;
	}
	return 0;
}

static int grow(struct near_tab *t, uint32_t alloc)
{
	struct near_ent *ents = realloc(t->ents, sizeof(*ents) * alloc);

	if (!ents)
		return TXC_ENOMEM;
	t->ents = ents;
	t->alloc = alloc;
	return rehash(t);
}

struct near_tab *near_tab_new(uint32_t cap)
{
	struct near_tab *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cap = cap;
	if (grow(t, cap < FIRST_ALLOC ? cap : FIRST_ALLOC) != 0) {
		near_tab_free(t);
		return NULL;
	}
	return t;
}

static void val_drop(struct near_val *v)
{
	if (v->pins)
		v->dead = true;
	else
		free(v);
}

void near_val_unpin(struct near_val *v)
{
	if (--v->pins == 0 && v->dead)
		free(v);
}

void near_tab_free(struct near_tab *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; t->ents && i < t->used; i++)
		free(t->ents[i].val);
	free(t->ents);
	free(t->buckets);
	free(t);
}

uint32_t near_tab_find(const struct near_tab *t, const struct txc_digest *d)
{
	for (uint32_t i = t->buckets[bucket_of(t, d)]; i != NEAR_NIL; i = t->ents[i].hnext)
		if (memcmp(t->ents[i].d.b, d->b, sizeof(d->b)) == 0)
			return i;
	return NEAR_NIL;
}

void near_tab_drop(struct near_tab *t, uint32_t i)
{
	struct near_ent *e = &t->ents[i];
	uint32_t *p = &t->buckets[bucket_of(t, &e->d)];

	while (*p != i)
		p = &t->ents[*p].hnext;
	*p = e->hnext;
	val_drop(e->val);
	e->val = NULL;
	e->hnext = t->free_head;
	t->free_head = i;
}

void near_tab_clear(struct near_tab *t)
{
	for (uint32_t i = 0; i < t->used; i++)
		if (t->ents[i].val)
			near_tab_drop(t, i);
}

/* A slot for a new entry: a free one, a never used one, a new one (the
 * array doubles up to CAP), else CLOCK's victim. NEAR_NIL: out of memory. */
static uint32_t slot_take(struct near_tab *t)
{
	uint32_t i = t->free_head;

	if (i != NEAR_NIL) {
		t->free_head = t->ents[i].hnext;
		return i;
	}
	if (t->used == t->alloc && t->alloc < t->cap &&
	    grow(t, t->alloc > t->cap / 2 ? t->cap : t->alloc * 2) != 0)
		return NEAR_NIL;
	if (t->used < t->alloc)
		return t->used++;
	for (;;) { /* every slot holds a value here; ends within two turns */
		i = t->hand;
		t->hand = i + 1 == t->used ? 0 : i + 1;
		if (!t->ents[i].ref)
			break;
		t->ents[i].ref = 0;
	}
	near_tab_drop(t, i);
	return slot_take(t); /* the slot just freed */
}

int near_tab_insert(struct near_tab *t, const struct txc_digest *d, struct near_val *val,
		    int64_t expires_ns, uint64_t stamp)
{
	uint32_t i = near_tab_find(t, d);

	if (i != NEAR_NIL) /* rare: the same key inserted again (a re-entrant call) */
		near_tab_drop(t, i);
	i = slot_take(t);
	if (i == NEAR_NIL) {
		free(val);
		return TXC_ENOMEM;
	}
	uint32_t b = bucket_of(t, d);
	t->ents[i] = (struct near_ent){
	    .d = *d, .expires_ns = expires_ns, .stamp = stamp, .val = val, .hnext = t->buckets[b]};
	t->buckets[b] = i;
	return 0;
}
