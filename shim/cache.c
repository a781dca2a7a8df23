/* cache.c - generations, lookups, stores and invalidation over the store. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "auth.h"
#include "cache.h"
#include "err.h"
#include "fresh.h"
#include "idreg.h"
#include "log.h"
#include "near.h"
#include "revoke.h"
#include "world.h"

/* A tombstone: never a codec value (whose magic is "TXC\x01"), and short,
 * so that tombstones cost little memory for their tombstone_ttl. */
static const uint8_t tomb[8] = {'T', 'X', 'C', 'T', 'o', 'm', 'b', '1'};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int cache_open(const struct txc_config *cfg, struct txc_cache **out)
{
	*out = NULL;
	struct txc_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return TXC_ENOMEM;
	c->cfg = cfg;
	c->kf = calloc(cfg->nfns ? (size_t)cfg->nfns : 1, sizeof(*c->kf));
	int rc = c->kf ? 0 : TXC_ENOMEM;
	/* one per process: the C API's invalidations refuse the shim's replays */
	c->revoked = revoke_process();
	if (rc == 0 && cfg->secret_file[0]) {
		char msg[160];
		rc = auth_open(cfg->secret_file, &c->auth, msg, sizeof(msg));
		if (rc == TXC_ECONFIG) {
			log_msg(TXC_LOG_ERROR, "secret_file %s: %s; caching is off",
				cfg->secret_file, msg);
			cache_close(c);
			return TXC_EDISABLED;
		}
	}
	for (int i = 0; rc == 0 && i < cfg->nfns; i++) {
		rc = key_fn_init(&c->kf[i], cfg->ns, &cfg->fns[i].sig);
		if (rc == 0 && c->auth)
			key_fn_set_prf(&c->kf[i], auth_prf_key(c->auth));
	}
	if (rc == 0)
		rc = key_gen_ns(cfg->ns, &c->ns_gen);
	if (rc == 0)
		rc = store_open(cfg, &c->store);
	if (rc != 0) {
		cache_close(c);
		return rc == TXC_ENOMEM ? rc : TXC_ECONFIG;
	}
	*out = c;
	return 0;
}

void cache_close(struct txc_cache *c)
{
	if (!c)
		return;
	store_close(c->store);
	auth_free(c->auth);
	free(c->kf);
	free(c);
}

/* A generation value is a decimal counter written by add/incr: 1 to 20
 * digits for a number below 2^64, then only the spaces that incr pads with
 * when the number shrinks in place. Anything else (a leading space, a sign,
 * no digit, a number past 2^64 - 1) is TXC_ECORRUPT, never a zero or a
 * wrapped number: a value is served only against generations that parsed
 * (cache_decode), and ensure_gen replaces a garbage counter. */
static int parse_gen(const struct txc_buf *b, uint64_t *gen)
{
	uint64_t v = 0;
	size_t i = 0;
	if (!b->data)
		return TXC_ENOTFOUND;
	for (; i < b->len && b->data[i] >= '0' && b->data[i] <= '9'; i++) {
		unsigned d = (unsigned)(b->data[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return TXC_ECORRUPT;
		v = v * 10 + d;
	}
	if (i == 0)
		return TXC_ECORRUPT;
	for (; i < b->len; i++)
		if (b->data[i] != ' ')
			return TXC_ECORRUPT;
	*gen = v;
	return 0;
}

void cache_lookup_free(struct txc_lookup *lk)
{
	store_bufs_free(&lk->value, 1);
}

/* The ids of FN's and the namespace's groups in the revocation table. */
static uint64_t rid_ns(const struct txc_cache *c)
{
	return revoke_id(c->ns_gen.text, c->ns_gen.len);
}

static uint64_t rid_fn(const struct txc_cache *c, int fn)
{
	return fn >= 0 ? revoke_id(c->kf[fn].prefix, c->kf[fn].prefix_len) : rid_ns(c);
}

/* What a lookup tells the revocation table (revoke.h): a tombstone, and
 * generations that moved, or that are missing or garbage (G1, G2: their
 * parse results): they get recreated, and nothing made under the lost
 * ones may come back, even if someone writes them back. */
static void seen_at_lookup(struct txc_cache *c, int fn, const struct txc_key *key,
			   const struct txc_lookup *lk, int g1, int g2)
{
	if (!lk->at_wall)
		return; /* without a secret nothing carries a creation time */
	if (lk->gens_known)
		revoke_gens(c->revoked, rid_fn(c, fn), rid_ns(c), lk->fn_gen, lk->ns_gen,
			    lk->at_wall);
	if (g1 != 0)
		revoke_note(c->revoked, rid_fn(c, fn), NULL, lk->at_wall);
	if (g2 != 0)
		revoke_note(c->revoked, rid_ns(c), NULL, lk->at_wall);
	if (lk->tombstone)
		revoke_note(c->revoked, rid_fn(c, fn), &key->digest, lk->at_wall);
}

int cache_lookup(struct txc_cache *c, int fn, const struct txc_key *key, struct txc_lookup *out)
{
	struct txc_key fn_gen;
	key_gen_fn(&c->kf[fn], &fn_gen);
	const struct txc_key *keys[3] = {key, &fn_gen, &c->ns_gen};
	struct txc_buf vals[3] = {{0}};
	memset(out, 0, sizeof(*out));
	int rc = 0;
	if (__atomic_load_n(&c->fence, __ATOMIC_ACQUIRE)) {
		rc = cache_bump(c, -1);
		if (rc != 0)
			return rc;
		__atomic_store_n(&c->fence, 0, __ATOMIC_RELEASE);
	}
	out->at_ns = now_ns();
	out->at_wall = c->auth ? fresh_now_ns() : 0;
	rc = store_mget(c->store, keys, 3, vals);
	if (rc != 0)
		return rc;
	out->value = vals[0];
	out->found = vals[0].data != NULL;
	out->cas = vals[0].cas;
	out->tombstone = vals[0].len == sizeof(tomb) && out->found &&
			 memcmp(vals[0].data, tomb, sizeof(tomb)) == 0;
	if (out->tombstone)
		store_bufs_free(&out->value, 1); /* a miss, never a corrupt value */
	int g1 = parse_gen(&vals[1], &out->fn_gen);
	int g2 = parse_gen(&vals[2], &out->ns_gen);
	out->gens_known = g1 == 0 && g2 == 0;
	store_bufs_free(&vals[1], 2);
	seen_at_lookup(c, fn, key, out, g1, g2);
	return 0;
}

/* A start value that no earlier generation of this key can have had. */
static uint64_t fresh_gen(void)
{
	uint64_t r = 0;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		r = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec;
	}
	return (r >> 2) | 1; /* 62 bits: incr never wraps in practice */
}

/* KEY holds VAL, which is no counter: replaces it with a fresh start
 * value, but only if nobody changed it since (cas). A fresh value differs
 * from every generation any stored value carries, so this invalidates the
 * group: the safe reading of a counter we cannot read. */
static int repair_gen(struct txc_cache *c, const struct txc_key *key, const struct txc_buf *val,
		      uint64_t *gen)
{
	char text[24];
	uint64_t v = fresh_gen();
	int n = snprintf(text, sizeof(text), "%" PRIu64, v);
	log_msg(TXC_LOG_WARN, "generation %s holds no counter; replacing it", key->text);
	int rc = store_cas(c->store, key, text, (size_t)n, 0, val->cas);
	if (rc == 0)
		*gen = v;
	return rc;
}

/* Reads the generation at KEY, creating it when absent. */
static int ensure_gen(struct txc_cache *c, const struct txc_key *key, uint64_t *gen)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		char text[24];
		uint64_t v = fresh_gen();
		int n = snprintf(text, sizeof(text), "%" PRIu64, v);
		int rc = store_add(c->store, key, text, (size_t)n, 0);
		if (rc == 0) {
			*gen = v;
			return 0;
		}
		if (rc != TXC_EEXIST)
			return rc;
		const struct txc_key *keys[1] = {key};
		struct txc_buf val = {0};
		rc = store_mget(c->store, keys, 1, &val);
		if (rc != 0)
			return rc;
		rc = parse_gen(&val, gen);
		if (rc == TXC_ECORRUPT)
			rc = repair_gen(c, key, &val, gen);
		store_bufs_free(&val, 1);
		if (rc == 0)
			return 0;
		if (rc != TXC_ENOTFOUND && rc != TXC_EEXIST)
			return rc;
		/* evicted between add and get, or changed under the repair: again */
	}
	return TXC_ESERVER;
}

int cache_ensure_gens(struct txc_cache *c, int fn, struct txc_lookup *lk)
{
	if (lk->gens_known)
		return 0;
	struct txc_key fn_gen;
	key_gen_fn(&c->kf[fn], &fn_gen);
	int rc = ensure_gen(c, &fn_gen, &lk->fn_gen);
	if (rc == 0)
		rc = ensure_gen(c, &c->ns_gen, &lk->ns_gen);
	lk->gens_known = rc == 0;
	if (rc == 0 && lk->at_wall) /* remember the new ones: the old may come back */
		revoke_gens(c->revoked, rid_fn(c, fn), rid_ns(c), lk->fn_gen, lk->ns_gen,
			    lk->at_wall);
	return rc;
}

/* Opens LK's sealed value once. Returns 0, TXC_ECORRUPT, or TXC_ENOTFOUND
 * for a value past its expiry or made before an invalidation this process
 * saw: a replay, or a value that lost a race with the invalidation. */
static int open_sealed(struct txc_cache *c, int fn, const struct txc_key *key,
		       struct txc_lookup *lk)
{
	struct txc_seal_times t;
	if (auth_unseal(c->auth, key, lk->value.data, lk->value.len, &t) != 0)
		return TXC_ECORRUPT;
	lk->opened = true;
	lk->body_off = TXC_SEAL_HEAD;
	lk->body_len = lk->value.len - TXC_SEAL_OVERHEAD;
	int64_t now = lk->at_wall ? lk->at_wall : fresh_now_ns();
	int64_t revoked = revoke_since(c->revoked, rid_fn(c, fn), rid_ns(c), &key->digest);
	if ((t.expires && now > t.expires) || t.created < revoked) {
		log_msg(TXC_LOG_INFO, "%s: sealed value for %s refused: %s",
			c->cfg->fns[fn].sig.name, key->text,
			t.created < revoked ? "made before an invalidation" : "past its expiry");
		lk->body_len = 0; /* never decoded, never near_put */
		return TXC_ENOTFOUND;
	}
	return 0;
}

int cache_decode(struct txc_cache *c, int fn, const struct txc_key *key, struct txc_lookup *lk,
		 struct txc_value_meta *meta, struct txc_result *res)
{
	if (!lk->value.data)
		return TXC_ENOTFOUND;
	if (!lk->opened && c->auth) {
		int rc = open_sealed(c, fn, key, lk);
		if (rc != 0)
			return rc;
	} else if (!lk->opened) {
		lk->opened = true;
		lk->body_off = 0;
		lk->body_len = lk->value.len;
	}
	if (c->auth && lk->body_len == 0)
		return TXC_ENOTFOUND;
	int rc = codec_decode(&c->cfg->fns[fn].sig, &c->kf[fn].sig_digest, &key->digest,
			      lk->value.data + lk->body_off, lk->body_len, meta, res);
	if (rc != 0) /* another value format version is a quiet miss */
		return rc == TXC_ENOTFOUND ? rc : TXC_ECORRUPT;
#ifdef TXC_MUTANT_GEN /* make mutants: the generation check skipped */
	return 0;
#endif
	if (!lk->gens_known || meta->fn_gen != lk->fn_gen || meta->ns_gen != lk->ns_gen)
		return TXC_ENOTFOUND;
	return 0;
}

const uint8_t *cache_codec_bytes(const struct txc_lookup *lk, size_t *len)
{
	*len = lk->opened ? lk->body_len : 0;
	return lk->opened ? lk->value.data + lk->body_off : NULL;
}

/* The ttl of RES: a result that failed outs_if (stored without its outs)
 * lives negative_ttl, as nscd's negative entries. */
static uint32_t value_ttl(const struct txc_cache *c, int fn, const struct txc_result *res)
{
	return res->outs_dropped ? c->cfg->fns[fn].negative_ttl : c->cfg->fns[fn].ttl;
}

/* How long memcached keeps a value of TTL seconds: a stale value is still
 * served for stale_s seconds (fresh.h); past 30 days memcached reads an
 * exptime as a date, so the longest stays 30 days. */
static uint32_t kept_s(const struct txc_fn_config *fc, uint32_t ttl)
{
	if (!ttl)
		return 0;
	return (uint64_t)ttl + fc->stale_s > 2592000 ? 2592000 : ttl + fc->stale_s;
}

/* Writes an encoded value for TTL seconds: "set" without LK, else against
 * what LK saw. */
static int put_value(struct txc_cache *c, int fn, const struct txc_key *key,
		     const struct txc_lookup *lk, const void *buf, size_t len, uint32_t ttl,
		     bool nowait)
{
	if (!lk)
		return store_set(c->store, key, buf, len, ttl);
	/* A tombstone written after LK lives tombstone_ttl seconds of the
	 * server's clock, which counts whole seconds: keep one in hand. */
	int64_t limit = ((int64_t)c->cfg->tombstone_ttl - 1) * 1000000000;
	if (now_ns() - lk->at_ns >= limit) {
		log_msg(TXC_LOG_INFO, "%s: the call outlived tombstone_ttl (%u s)",
			c->cfg->fns[fn].sig.name, c->cfg->tombstone_ttl);
		return TXC_EEXIST;
	}
	int rc;
	if (nowait)
		rc = lk->found
			 ? store_cas_nowait(c->store, key, buf, len, ttl, lk->cas, (uint32_t)fn)
			 : store_add_nowait(c->store, key, buf, len, ttl, (uint32_t)fn);
	else
		rc = lk->found ? store_cas(c->store, key, buf, len, ttl, lk->cas)
			       : store_add(c->store, key, buf, len, ttl);
#ifdef TXC_MUTANT_STORE_SET /* make mutants: a miss or refresh overwrites what changed */
	rc = store_set(c->store, key, buf, len, ttl);
#endif
	return rc == TXC_ENOTFOUND ? TXC_EEXIST : rc;
}

static int store_value(struct txc_cache *c, int fn, const struct txc_key *key,
		       const struct txc_lookup *lk, struct txc_value_meta *meta,
		       const struct txc_result *res, size_t *len, bool nowait)
{
	const struct txc_fn_config *fc = &c->cfg->fns[fn];
	size_t size = codec_size(&fc->sig, res), head = c->auth ? TXC_SEAL_HEAD : 0;
	*len = 0;
	if (size != 0 && c->auth)
		size += TXC_SEAL_OVERHEAD;
	if (size == 0 || size > c->cfg->max_value)
		return TXC_ETOOBIG;
	uint8_t small[2048];
	uint8_t *buf = size <= sizeof(small) ? small : malloc(size);
	if (!buf)
		return TXC_ENOMEM;
	meta->sig = c->kf[fn].sig_digest;
	meta->key = key->digest;
	uint32_t ttl = value_ttl(c, fn, res), kept = kept_s(fc, ttl);
	int64_t now = fresh_now_ns();
	meta->fresh_until = fresh_until_ns(now, ttl);
	int rc = codec_encode(&fc->sig, meta, res, buf + head,
			      size - (c->auth ? TXC_SEAL_OVERHEAD : 0), len);
	if (rc == 0 && c->auth) {
		/* made when its call started: an invalidation during the call
		 * refuses it (revoke.h) */
		struct txc_seal_times t = {lk && lk->at_wall ? lk->at_wall : now,
					   kept ? now + (int64_t)kept * 1000000000 : 0};
		auth_seal(c->auth, key, &t, buf, *len);
		*len += TXC_SEAL_OVERHEAD;
	}
	if (rc == 0)
		rc = put_value(c, fn, key, lk, buf, *len, kept, nowait);
	if (rc != 0 && rc != TXC_EPENDING)
		*len = 0;
	if (buf != small)
		free(buf);
	return rc;
}

int cache_store(struct txc_cache *c, int fn, const struct txc_key *key, struct txc_value_meta *meta,
		const struct txc_result *res, size_t *len)
{
	return store_value(c, fn, key, NULL, meta, res, len, false);
}

int cache_store_after(struct txc_cache *c, int fn, const struct txc_key *key,
		      const struct txc_lookup *lk, struct txc_value_meta *meta,
		      const struct txc_result *res, size_t *len)
{
	return store_value(c, fn, key, lk, meta, res, len, false);
}

int cache_store_after_nowait(struct txc_cache *c, int fn, const struct txc_key *key,
			     const struct txc_lookup *lk, struct txc_value_meta *meta,
			     const struct txc_result *res, size_t *len)
{
	return store_value(c, fn, key, lk, meta, res, len, c->done != NULL);
}

/* The store reports "gone" for a cas whose item went away: to the miss
 * path that is the same as "changed" (put_value). */
static void store_done(void *ctx, uint32_t tag, size_t len, int err)
{
	struct txc_cache *c = ctx;

	c->done(c->done_ctx, (int)tag, len, err == TXC_ENOTFOUND ? TXC_EEXIST : err);
}

void cache_on_store_done(struct txc_cache *c, cache_done_fn fn, void *ctx)
{
	c->done = fn;
	c->done_ctx = ctx;
	if (c->store)
		store_on_done(c->store, fn ? store_done : NULL, c);
}

void cache_drain(struct txc_cache *c)
{
	if (c && c->store)
		store_drain(c->store);
}

int cache_bump(struct txc_cache *c, int fn)
{
	struct txc_key key;
	near_forget_fn(fn);
	if (fn >= 0)
		key_gen_fn(&c->kf[fn], &key);
	else
		key = c->ns_gen;
	uint64_t v;
	revoke_note(c->revoked, rid_fn(c, fn), NULL, fresh_now_ns());
	int rc = store_incr(c->store, &key, &v);
	if (rc == TXC_ENOTFOUND) {
		/* No generation yet: a fresh random one invalidates all the same. */
		rc = ensure_gen(c, &key, &v);
		if (rc == 0)
			rc = store_incr(c->store, &key, &v);
	}
	near_forget_fn(fn); /* again, after the increment: see tombstone_one */
	return rc;
}

/* Replaces the call's value (or its absence) under one identity by a
 * tombstone: a miss that looked the key up before this fails its add/cas
 * (cache_store_after). A float signature's call has a key per rounding
 * mode (key.h): each is replaced. */
static int tombstone_one(struct txc_cache *c, int fn, const struct txc_digest *ident,
			 const struct txc_arg *args)
{
	const struct txc_sig *sig = &c->cfg->fns[fn].sig;
	int modes = key_sig_has_fp(sig) ? 4 : 1, rc = 0;
	for (int i = 0; i < modes && rc == 0; i++) {
		struct txc_key key;
		rc = key_build_round(&c->kf[fn], ident, sig, args, key_round_modes[i], &key);
		if (rc != 0)
			return rc;
		near_forget(fn, &key.digest);
		revoke_note(c->revoked, rid_fn(c, fn), &key.digest, fresh_now_ns());
		rc = store_set(c->store, &key, tomb, sizeof(tomb), c->cfg->tombstone_ttl);
		/* again: a thread that read the value before the tombstone
		 * landed must not keep it near (81_near's hammer test) */
		near_forget(fn, &key.digest);
	}
	return rc;
}

/* After invalidating FN's call (or FN, or the namespace when FN < 0) failed
 * with RC: the next coarser way that reaches a server. */
static int fall_back(struct txc_cache *c, int fn, int rc, enum txc_inval_how *how)
{
	const char *name = fn >= 0 ? c->cfg->fns[fn].sig.name : c->cfg->ns;
	if (rc == 0)
		return 0;
	if (*how == TXC_INV_CALL) {
		*how = TXC_INV_FN;
		rc = cache_bump(c, fn);
	}
	if (rc != 0 && *how == TXC_INV_FN) {
		*how = TXC_INV_NS;
		rc = cache_bump(c, -1);
	}
	if (rc != 0) {
		*how = TXC_INV_FENCE;
		__atomic_store_n(&c->fence, 1, __ATOMIC_RELEASE);
	}
	log_msg(TXC_LOG_INFO, "%s: invalidation fell back to %s", name,
		*how == TXC_INV_FN   ? "every call of the function"
		: *how == TXC_INV_NS ? "every call of the namespace"
				     : "this process's fence");
	return rc;
}

/* The tombstone of FN's call with ARGS under every identity in FN's
 * registry (idreg.h). Returns TXC_ENOTFOUND when the identities are not all
 * known (no registry, or a full one): the caller falls back to FN's
 * generation, which reaches them all. */
static int write_tombstones(struct txc_cache *c, int fn, const struct txc_arg *args)
{
	struct txc_ident ids[IDREG_MAX];
	int n = 0;
	int rc = idreg_read(c->store, &c->kf[fn], ids, &n);
	if (rc == TXC_ETOOBIG)
		rc = TXC_ENOTFOUND;
	for (int i = 0; rc == 0 && i < n; i++)
		rc = tombstone_one(c, fn, &ids[i].digest, args);
	return rc;
}

int cache_invalidate_call(struct txc_cache *c, int fn, const struct txc_arg *args,
			  enum txc_inval_how *how)
{
	*how = TXC_INV_CALL;
	/* a key that sees the world (key_env, key_cwd, files) exists once per
	 * state of it: only the generation reaches them all */
	if (world_used(&c->cfg->fns[fn]))
		return cache_invalidate_fn(c, fn, how);
	return fall_back(c, fn, write_tombstones(c, fn, args), how);
}

int cache_invalidate_fn(struct txc_cache *c, int fn, enum txc_inval_how *how)
{
	*how = fn >= 0 ? TXC_INV_FN : TXC_INV_NS;
	return fall_back(c, fn, cache_bump(c, fn), how);
}

/* Maps the mutator's argument values onto the target's keyed parameters. */
static void map_args(const struct txc_sig *target, const struct txc_inval *iv,
		     const struct txc_arg *margs, struct txc_arg *targs)
{
	static const char present = 1;
	int k = 0;
	memset(targs, 0, sizeof(struct txc_arg) * TXC_MAX_PARAMS);
	for (int i = 0; i < target->nparams; i++) {
		const struct txc_param *p = &target->params[i];
		if (sig_param_keyed(p) && k < iv->nargs) {
			int m = iv->args[k++];
			targs[i] = margs[m];
			/* as C would convert the value when passing it to the target */
			if (p->kind == TXC_K_SCALAR && !sig_type_info(p->type)->is_float) {
				uint8_t tmp[8];
				sig_scalar_store(p->type, margs[m].num, tmp);
				targs[i].num = sig_scalar_load(p->type, tmp);
			}
		} else if (sig_param_is_out(p))
			targs[i].ptr = &present;
	}
}

int cache_invalidate_for(struct txc_cache *c, int fn, const struct txc_arg *margs)
{
#ifdef TXC_MUTANT_INVAL /* make mutants: the invalidation skipped */
	return 0;
#endif
	const struct txc_fn_config *fc = &c->cfg->fns[fn];
	int first = 0;
	for (int i = 0; i < fc->ninval; i++) {
		const struct txc_inval *iv = &fc->inval[i];
		enum txc_inval_how how;
		int rc;
		if (iv->all) {
			rc = cache_invalidate_fn(c, iv->target, &how);
		} else {
			struct txc_arg targs[TXC_MAX_PARAMS];
			map_args(&c->cfg->fns[iv->target].sig, iv, margs, targs);
			rc = cache_invalidate_call(c, iv->target, targs, &how);
		}
		if (rc != 0 && first == 0)
			first = rc;
	}
	return first;
}
