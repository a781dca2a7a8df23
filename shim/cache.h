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
 *
 * Invalidation races (memcache leases): invalidating one call writes a
 * TOMBSTONE (a small value that is not a codec value) with tombstone_ttl
 * instead of deleting the key. The miss path stores with "add" when its
 * lookup found the key absent and with "cas" against the CAS unique it saw
 * otherwise (tombstone, stale or corrupt value). An invalidation between
 * that lookup and the store changed the item, so the store fails: the
 * invalidation wins over every miss that started before it. A miss that
 * outlived the tombstone (tombstone_ttl - 1 s from lookup to store) stores
 * nothing. Lookups cost nothing more: "gets" is the same round trip.
 * Generation bumps need no tombstone: a value carries the generations read
 * before its call.
 */
#ifndef TXC_CACHE_H
#define TXC_CACHE_H

#include <stdbool.h>

#include "codec.h"
#include "config.h"
#include "key.h"
#include "store.h"

struct txc_auth;
struct txc_revoke;

/* A pipelined miss store's outcome (cache_store_after_nowait): FN, the
 * LEN bytes sent, and ERR as cache_store_after() would have returned it. */
typedef void (*cache_done_fn)(void *ctx, int fn, size_t len, int err);

struct txc_cache {
	const struct txc_config *cfg; /* borrowed: must outlive the cache */
	struct txc_store *store;
	struct txc_key ns_gen;	    /* "<ns>:@gen" */
	struct txc_key_fn *kf;	    /* cfg->nfns entries */
	struct txc_auth *auth;	    /* secret_file: PRF keys, sealed values; NULL = none */
	struct txc_revoke *revoked; /* the process's invalidations seen (revoke.h) */
	/* Set when an invalidation reached no server: no lookup answers until
	 * the namespace generation has been bumped (see cache_invalidate_for). */
	int fence;
	cache_done_fn done; /* cache_on_store_done */
	void *done_ctx;
};

struct txc_lookup {
	struct txc_buf value; /* the cached bytes; NULL when absent or a tombstone */
	uint64_t ns_gen;
	uint64_t fn_gen;
	bool gens_known; /* both generation keys were present */
	/* What cache_store_after() stores against; kept by cache_lookup_free(). */
	bool found;	 /* the key held an item: a value, a tombstone or garbage */
	bool tombstone;	 /* that item is a tombstone (read as a miss) */
	uint64_t cas;	 /* the item's CAS unique */
	int64_t at_ns;	 /* CLOCK_MONOTONIC time the lookup was sent */
	int64_t at_wall; /* with secret_file: CLOCK_REALTIME ns of the same */
	/* the codec bytes inside VALUE once cache_decode opened it (a sealed
	 * value is opened in place, once) */
	bool opened;
	size_t body_off, body_len;
};

/* How an invalidation was done: the finest way that reached a server. */
enum txc_inval_how {
	TXC_INV_CALL, /* the call's tombstone was written */
	TXC_INV_FN,   /* every call of the function: its generation */
	TXC_INV_NS,   /* every call of the namespace: its generation */
	TXC_INV_FENCE /* nothing reachable: this process's fence is up */
};

/* Prepares a cache for CFG: per-function key data, the secret (when
 * secret_file is set) and a store (which connects lazily). Returns 0 and
 * *OUT, or TXC_ENOMEM / TXC_ECONFIG with *OUT NULL, or TXC_EDISABLED when
 * the secret file is unusable (one error line already logged). */
int cache_open(const struct txc_config *cfg, struct txc_cache **out);

/* Frees C (not the config). NULL is allowed. */
void cache_close(struct txc_cache *c);

/* Fetches KEY and the generations of FN and the namespace in one round
 * trip. Returns 0 (OUT->value.data NULL on a miss; a tombstone is a miss,
 * never a corrupt value) or a store failure code with OUT zeroed. The caller frees OUT->value with
 * cache_lookup_free(). While the fence is up it first bumps the namespace generation, and fails as
 * that does. */
int cache_lookup(struct txc_cache *c, int fn, const struct txc_key *key, struct txc_lookup *out);
void cache_lookup_free(struct txc_lookup *lk);

/* Creates the generation keys that LK found absent and fills them in.
 * Returns 0 with LK->gens_known set, or a store failure code. */
int cache_ensure_gens(struct txc_cache *c, int fn, struct txc_lookup *lk);

/* Verifies and decodes LK->value for FN under KEY; with secret_file it
 * first opens the sealed value in place (auth.h; a second call on the same
 * LK decodes what the first opened). Returns 0 with *META and *RES pointing
 * into LK->value; TXC_ECORRUPT when it does not verify; TXC_ENOTFOUND when
 * a generation moved on since it was stored, or a sealed value is past its
 * expiry or older than an invalidation this process has seen (revoke.h). */
int cache_decode(struct txc_cache *c, int fn, const struct txc_key *key, struct txc_lookup *lk,
		 struct txc_value_meta *meta, struct txc_result *res);

/* The codec bytes of LK->value (*LEN of them): a sealed value's plaintext.
 * This is what the near cache holds (near_put): it decodes with the codec
 * alone. Call only after cache_decode() returned 0 for LK. */
const uint8_t *cache_codec_bytes(const struct txc_lookup *lk, size_t *len);

/* Encodes RES and stores it under KEY with FN's ttl (its negative_ttl when
 * RES->outs_dropped: outs_if failed), kept by memcached for that ttl +
 * stale (fresh.h). META's digests and fresh_until (now + that ttl) are
 * filled here. Returns 0 and *LEN, TXC_ETOOBIG when the value exceeds
 * max_value or the server's item size, or a store failure code. */
int cache_store(struct txc_cache *c, int fn, const struct txc_key *key, struct txc_value_meta *meta,
		const struct txc_result *res, size_t *len);

/* The miss path's store: like cache_store(), but the value goes in only
 * when KEY still holds what LK saw: "add" when LK found it absent, "cas"
 * against LK->cas otherwise. Returns 0 and *LEN; TXC_EEXIST, storing
 * nothing, when KEY changed since LK (an invalidation, or another
 * process's store) or LK is too old for a tombstone written since to be
 * still there; or what cache_store() returns. */
int cache_store_after(struct txc_cache *c, int fn, const struct txc_key *key,
		      const struct txc_lookup *lk, struct txc_value_meta *meta,
		      const struct txc_result *res, size_t *len);

/* The same, pipelined (store.h): returns TXC_EPENDING, with *LEN the bytes
 * sent, when the store went out and its reply comes later (to the function
 * of cache_on_store_done(), in this thread: before its next memcached
 * operation, at its exit, or at cache_drain()); else what
 * cache_store_after() returns. Waits for the reply when no function was
 * set. */
int cache_store_after_nowait(struct txc_cache *c, int fn, const struct txc_key *key,
			     const struct txc_lookup *lk, struct txc_value_meta *meta,
			     const struct txc_result *res, size_t *len);

/* Sets the function that receives pipelined stores' outcomes. */
void cache_on_store_done(struct txc_cache *c, cache_done_fn fn, void *ctx);

/* Reads the calling thread's pending store reply now, if any. */
void cache_drain(struct txc_cache *c);

/* Bumps the generation of FN, or of the namespace when FN < 0: one
 * attempt, no fallback (see cache_invalidate_fn). */
int cache_bump(struct txc_cache *c, int fn);

/* The one path of every invalidation of a single call (the shim's
 * "invalidates", txcache_invalidate(), txcache delete): writes the
 * tombstone of FN called with ARGS (indexed like FN's params;
 * out-parameters count as non-NULL; symptr arguments as text) under every
 * identity in FN's registry (idreg.h); with no registry or a full one, FN's
 * generation is bumped instead. When the key's server is unreachable
 * (it may come back holding the old value) it falls back to FN's
 * generation, then the namespace's, then the fence. Sets *HOW. Returns 0
 * when one of the first three worked, else the last failure code (the
 * fence, which guards only this process's lookups, is up). */
int cache_invalidate_call(struct txc_cache *c, int fn, const struct txc_arg *args,
			  enum txc_inval_how *how);

/* The same for every call of FN (FN < 0: the namespace), for FN(*),
 * txcache flush and txcache_flush(): FN's generation, then the
 * namespace's, then the fence. */
int cache_invalidate_fn(struct txc_cache *c, int fn, enum txc_inval_how *how);

/* Runs FN's "invalidates" list with the mutator's argument values MARGS.
 * An invalidation that cannot reach its server falls back to a coarser one
 * that can: one call -> every call of the target (its generation) -> the
 * whole namespace; when even that fails the fence goes up. Returns 0 or the
 * first code of an invalidation that no fallback could do; later targets
 * are still tried. */
int cache_invalidate_for(struct txc_cache *c, int fn, const struct txc_arg *margs);

#endif
