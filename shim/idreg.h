/* idreg.h - which definitions of a function have stored values: the
 * identity registry "<ns>:<fn>:ids" in memcached.
 *
 * Keys cover the definition's identity (ident.h), so one call of f has one
 * key per identity: libA's calc and libB's calc, or builds 1 and 2 of
 * libfoo. An invalidation must reach them all, also from a process that
 * never loaded f's library (a mutator, `txcache delete`, txcache_invalidate).
 * So a process adds its identity's text, one line, to the registry before
 * the real call of a miss whose value it will store, and invalidations
 * delete the call under every identity listed.
 *
 * Safety rules (README "Identity"):
 * - Registration happens before the real call: an invalidation that read
 *   the registry before the line was added came before that call's reads.
 * - A missing registry (never made, or evicted) or a full one (IDREG_MAX
 *   lines) is "unknown": the invalidation bumps f's generation instead.
 * - Whoever creates the registry bumps f's generation just before: a value
 *   stored under an identity that an evicted registry listed is thereby
 *   dead, and a process learns that its registration is gone because the
 *   generation it registered under moved on (it registers again). A value
 *   carries the generation read together with the registry.
 */
#ifndef TXC_IDREG_H
#define TXC_IDREG_H

#include <stdbool.h>
#include <stdint.h>

#include "ident.h"
#include "key.h"
#include "store.h"

#define IDREG_MAX 16 /* lines; at IDREG_MAX the registry is full */

/* The identities of the function of KF. Returns 0 with up to IDREG_MAX
 * distinct entries in IDS[0..*N), TXC_ENOTFOUND when there is no registry,
 * TXC_ETOOBIG when it is full or holds a line that is not an identity (*N
 * entries still given), or a store failure code. */
int idreg_read(struct txc_store *st, const struct txc_key_fn *kf, struct txc_ident *ids, int *n);

/* Makes sure ID is listed (or the registry is full, which invalidations
 * treat as "bump"), creating the registry when it is missing: first the
 * function's generation is bumped, then the registry is added. Sets *GEN to
 * the function's generation as read (or bumped) in the same round trip,
 * with *GEN_KNOWN; read before the real call, it is the generation a value
 * computed afterwards must carry. Returns 0 or a store failure code (then
 * do not store). */
int idreg_register(struct txc_store *st, const struct txc_key_fn *kf, const struct txc_ident *id,
		   uint64_t *gen, bool *gen_known);

#endif
