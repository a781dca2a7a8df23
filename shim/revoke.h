/* revoke.h - the invalidations this process has seen, so that a sealed
 * value made before one of them is refused (secret_file: bounded replay).
 *
 * Whoever can write to memcached can save a sealed value and write it back
 * after it was invalidated: it still opens, since the generations and
 * tombstones that revoked it are not authenticated. A sealed value carries
 * its creation time (auth.h), so a process refuses one created before the
 * latest invalidation it knows of that covers the call:
 *   - its own: a call's tombstone, a function's or the namespace's
 *     generation bump, whichever cache made it (the shim's, the C API's,
 *     the CLI's: the table is one per process);
 *   - another process's that its lookups saw: a tombstone under the key, a
 *     generation that differs from the one read before, or a generation
 *     found missing or garbage (it is then recreated, and whatever was made
 *     under the lost one must not come back).
 * Groups (a function, a namespace) are named by a 64-bit id of their key
 * prefix (revoke_id), so that caches of different configs agree. Up to
 * REVOKE_GROUPS groups have their own entry; the rest share one, which only
 * refuses more. Calls are remembered in REVOKE_SLOTS entries indexed by
 * their key digest; an entry pushed out raises its function's time
 * instead, so a refusal is never forgotten, only widened. What a process
 * has not seen it cannot refuse: that window is the value's own expiry
 * (README, threat model).
 *
 * Times are CLOCK_REALTIME ns, the clock the creation time is written in.
 * Safe from any thread: readers take no lock. Inherited by a fork.
 */
#ifndef TXC_REVOKE_H
#define TXC_REVOKE_H

#include <stddef.h>
#include <stdint.h>

#include "key.h"

#define REVOKE_SLOTS  256
#define REVOKE_GROUPS 512

struct txc_revoke;

/* The process's table (static storage: never fails, never freed). */
struct txc_revoke *revoke_process(void);

/* The id of a group named by TEXT[0..LEN): "<ns>:<fn>:" for a function,
 * the namespace's generation key for a namespace. Never 0. */
uint64_t revoke_id(const char *text, size_t len);

/* An invalidation at AT of the call whose key digest is D in group FN
 * (D NULL: every call of FN). A time never moves back. */
void revoke_note(struct txc_revoke *r, uint64_t fn, const struct txc_digest *d, int64_t at);

/* A lookup at AT read FN_GEN for group FN and NS_GEN for group NS: a
 * generation that differs from the one read before is an invalidation seen
 * at AT. */
void revoke_gens(struct txc_revoke *r, uint64_t fn, uint64_t ns, uint64_t fn_gen, uint64_t ns_gen,
		 int64_t at);

/* The latest invalidation seen that covers the call D (NULL: none in
 * particular) of group FN in namespace NS (0: none): a value created before
 * it is refused. 0 when there is none. */
int64_t revoke_since(struct txc_revoke *r, uint64_t fn, uint64_t ns, const struct txc_digest *d);

#endif
