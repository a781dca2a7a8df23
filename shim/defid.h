/* defid.h - the identity of one closure's definition, computed once, and
 * its registration in the identity registry.
 *
 * dispatch keeps one closure per (function, real target); each carries a
 * struct defid. The identity is computed on the closure's first cached call
 * (not when it is made: the patcher runs under the loader's locks, and a
 * function never called costs nothing at start-up).
 */
#ifndef TXC_DEFID_H
#define TXC_DEFID_H

#include <stdint.h>

#include "config.h"
#include "ident.h"
#include "store.h"

/* Zero-initialised storage; never freed (closures live for good). */
struct defid {
	struct txc_ident *id; /* published once with release order */
	int failed;	      /* the identity cannot be known: every call is real */
	uint64_t reg_gen;     /* the function generation the registration is for */
	int reg_ok;	      /* reg_gen is valid */
	int busy;	      /* pid of the process whose thread is registering, or 0 */
	unsigned reg_seq;     /* successful registrations so far */
};

/* Returns the identity of REAL, the definition of FC's function this closure
 * calls, computing it on first use (any thread; concurrent first calls may
 * both compute, one result wins). Returns NULL when it cannot be known (logged
 * once): the caller must not cache the call. Never fails otherwise. */
const struct txc_ident *defid_get(struct defid *d, const struct txc_fn_config *fc, void *real);

/* Makes sure the identity is in the registry for generation *FN_GEN (the one
 * the lookup read), at most one round trip per generation and process.
 * When it registers, *FN_GEN becomes the generation read with the registry
 * (or bumped when this process made the registry). Returns 0, or a store
 * failure code: then do not store. */
int defid_register(struct defid *d, struct txc_store *st, const struct txc_key_fn *kf,
		   uint64_t *fn_gen);

#endif
