/* near_tab.h - one thread's near-cache table for one function: a chained
 * hash by key digest over an entry array that grows (doubling) up to the
 * function's local_entries, with CLOCK (second-chance) eviction.
 *
 * Only the owning thread ever touches a table, so nothing here locks or
 * writes memory another thread reads. A value is pinned (PINS) while a
 * near hit applies it: a table change made meanwhile by the same thread (a
 * cached call from a signal handler run while a replay's write blocks)
 * drops the entry but leaves the value to the pinning hit, which frees it
 * after its APPLY (DEAD).
 */
#ifndef TXC_NEAR_TAB_H
#define TXC_NEAR_TAB_H

#include <stdbool.h>
#include <stdint.h>

#include "codec.h"
#include "key.h"

#define NEAR_NIL UINT32_MAX

/* One allocation: RES and META point into BYTES. */
struct near_val {
	uint32_t pins; /* hits applying it now (this thread only) */
	bool dead;     /* left the table while pinned: the last unpin frees it */
	struct txc_value_meta meta;
	struct txc_result res;
	uint8_t bytes[];
};

struct near_ent {
	struct txc_digest d;
	int64_t expires_ns;
	uint64_t stamp;	      /* the function's epoch the value is known current at */
	struct near_val *val; /* NULL: the slot is free */
	uint32_t hnext;	      /* hash chain, or the free list */
	uint8_t ref;	      /* CLOCK: hit since the hand last passed */
};

struct near_tab {
	uint32_t cap;	/* local_entries */
	uint32_t alloc; /* entries allocated, <= cap */
	uint32_t used, hand, mask, free_head;
	uint32_t *buckets; /* mask + 1 chains */
	struct near_ent *ents;
};

/* A table of capacity CAP (>= 1) with a few entries allocated. Returns
 * NULL when out of memory. */
struct near_tab *near_tab_new(uint32_t cap);

/* Frees T and every value in it (none may be pinned). */
void near_tab_free(struct near_tab *t);

/* The index of D's entry, or NEAR_NIL. */
uint32_t near_tab_find(const struct near_tab *t, const struct txc_digest *d);

/* Removes entry I; its value is freed, or marked dead when pinned. */
void near_tab_drop(struct near_tab *t, uint32_t i);

/* Removes every entry. */
void near_tab_clear(struct near_tab *t);

/* Inserts VAL (owned: freed here on failure) under D, replacing D's entry,
 * evicting by CLOCK when full. Returns 0 or TXC_ENOMEM. */
int near_tab_insert(struct near_tab *t, const struct txc_digest *d, struct near_val *val,
		    int64_t expires_ns, uint64_t stamp);

/* Releases a pin taken by a hit (frees a value that died meanwhile). */
void near_val_unpin(struct near_val *v);

#endif
