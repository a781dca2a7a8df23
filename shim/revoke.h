/* revoke.h - the invalidations this process has seen, so that a sealed
 * value made before one of them is refused (secret_file: bounded replay).
 *
 * Whoever can write to memcached can save a sealed value and write it back
 * after it was invalidated: it still opens, since the generations and
 * tombstones that revoked it are not authenticated. A sealed value carries
 * its creation time (auth.h), so a process refuses one created before the
 * latest invalidation it knows of that covers the call:
 *   - its own: a call's tombstone, a function's or the namespace's
 *     generation bump (cache.c notes each before it writes);
 *   - another process's that its lookups saw: a tombstone under the key,
 *     or a generation that differs from the one its last lookup read.
 * A call is remembered in a table of REVOKE_SLOTS entries indexed by its
 * key digest; an entry pushed out raises its function's time instead, so
 * a refusal is never forgotten, only widened. What a process has not seen
 * it cannot refuse: that window is the value's own expiry (README, threat
 * model).
 *
 * Times are CLOCK_REALTIME ns, the clock the creation time is written in.
 * Safe from any thread: readers take no lock.
 */
#ifndef TXC_REVOKE_H
#define TXC_REVOKE_H

#include <stdint.h>

#include "key.h"

#define REVOKE_SLOTS 256

struct txc_revoke;

/* A table for NFNS functions, all times 0. Returns 0 and *OUT, or
 * TXC_ENOMEM with *OUT NULL. */
int revoke_new(int nfns, struct txc_revoke **out);

/* Frees R. NULL is allowed. */
void revoke_free(struct txc_revoke *r);

/* An invalidation at AT of FN's call whose key digest is D; D NULL: of
 * every call of FN; FN < 0: of every call of the namespace. A time never
 * moves back. */
void revoke_note(struct txc_revoke *r, int fn, const struct txc_digest *d, int64_t at);

/* A lookup at AT read FN_GEN and NS_GEN: a generation that differs from
 * the one read before is an invalidation seen at AT. */
void revoke_gens(struct txc_revoke *r, int fn, uint64_t fn_gen, uint64_t ns_gen, int64_t at);

/* The latest invalidation seen that covers FN's call D (0: none): a value
 * created before it is refused. */
int64_t revoke_since(const struct txc_revoke *r, int fn, const struct txc_digest *d);

#endif
