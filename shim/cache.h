/* cache.h - cache operations on top of the store: generations, lookups,
 * stores and invalidation. Shared by the shim's dispatch, the C API and the
 * CLI, so that all three read and write exactly the same keys and values.
 *
 * Generations: every value records the namespace and function generations
 * read before its real call ran. A lookup fetches the value and both
 * generation keys in one round trip; a value whose generations differ from
 * the current ones is a miss. Bumping a generation therefore drops every
 * call of a function (FUNC(*), txcache flush FUNCTION) or of the namespace.
 * A lost generation key is recreated with "add" and a random 62-bit start,
 * never 1, so entries written before the loss can not come back.
 */
#ifndef TXC_CACHE_H
#define TXC_CACHE_H

#include <stdbool.h>

#include "codec.h"
#include "config.h"
#include "key.h"
#include "store.h"

struct txc_auth;

struct txc_cache {
	const struct txc_config *cfg; /* borrowed: must outlive the cache */
	struct txc_store *store;
	struct txc_key ns_gen; /* "<ns>:@gen" */
	struct txc_key_fn *kf; /* cfg->nfns entries */
	struct txc_auth *auth; /* secret_file: values carry a MAC; NULL = none */
	/* Set when an invalidation reached no server: no lookup answers until
	 * the namespace generation has been bumped (see cache_invalidate_for). */
	int fence;
};

struct txc_lookup {
	struct txc_buf value; /* the cached bytes, or NULL when absent */
	uint64_t ns_gen;
	uint64_t fn_gen;
	bool gens_known; /* both generation keys were present */
};

/* Prepares a cache for CFG: per-function key data, the secret (when
 * secret_file is set) and a store (which connects lazily). Returns 0 and
 * *OUT, or TXC_ENOMEM / TXC_ECONFIG with *OUT NULL, or TXC_EDISABLED when
 * the secret file is unusable (one error line already logged). */
int cache_open(const struct txc_config *cfg, struct txc_cache **out);

/* Frees C (not the config). NULL is allowed. */
void cache_close(struct txc_cache *c);

/* Fetches KEY and the generations of FN and the namespace in one round
 * trip. Returns 0 (OUT->value.data NULL on a miss) or a store failure code
 * with OUT zeroed. The caller frees OUT->value with cache_lookup_free().
 * While the fence is up it first bumps the namespace generation, and
 * fails as that does. */
int cache_lookup(struct txc_cache *c, int fn, const struct txc_key *key, struct txc_lookup *out);
void cache_lookup_free(struct txc_lookup *lk);

/* Creates the generation keys that LK found absent and fills them in.
 * Returns 0 with LK->gens_known set, or a store failure code. */
int cache_ensure_gens(struct txc_cache *c, int fn, struct txc_lookup *lk);

/* Verifies and decodes LK->value for FN under KEY. Returns 0 with *META and
 * *RES pointing into LK->value, TXC_ECORRUPT when it does not verify, or
 * TXC_ENOTFOUND when a generation moved on since it was stored. */
int cache_decode(struct txc_cache *c, int fn, const struct txc_key *key,
		 const struct txc_lookup *lk, struct txc_value_meta *meta, struct txc_result *res);

/* Encodes RES and stores it under KEY with FN's ttl. META's digests are
 * filled here. Returns 0 and *LEN, TXC_ETOOBIG when the value exceeds
 * max_value or the server's item size, or a store failure code. */
int cache_store(struct txc_cache *c, int fn, const struct txc_key *key, struct txc_value_meta *meta,
		const struct txc_result *res, size_t *len);

/* Invalidates every cached call of FN, or of the namespace when FN < 0. */
int cache_bump(struct txc_cache *c, int fn);

/* Deletes the cached call of FN whose parameters have the values ARGS
 * (indexed like FN's params; out-parameters count as non-NULL; symptr
 * arguments as text) under every identity in FN's registry (idreg.h); with
 * no registry or a full one, bumps FN's generation instead. */
int cache_delete_call(struct txc_cache *c, int fn, const struct txc_arg *args);

/* Runs FN's "invalidates" list with the mutator's argument values MARGS.
 * An invalidation that cannot reach its server falls back to a coarser one
 * that can: one call -> every call of the target (its generation) -> the
 * whole namespace; when even that fails the fence goes up. Returns 0 or the
 * first code of an invalidation that no fallback could do; later targets
 * are still tried. */
int cache_invalidate_for(struct txc_cache *c, int fn, const struct txc_arg *margs);

#endif
