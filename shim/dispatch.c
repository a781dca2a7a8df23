/* dispatch.c - the closure handler: hit path, miss path, mutators.
 *
 * Hit:  key -> one mget (value + 2 generations) -> verify -> check every
 *       out-buffer fits -> write outs and return value -> errno as before.
 * Miss: create missing generations -> real call (timed) -> cache_if ->
 *       encode + set -> errno as the real function left it.
 * Anything that fails on the way ends in the real function being called.
 */
#include <errno.h>
#include <ffi.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "dispatch.h"
#include "err.h"
#include "lock.h"
#include "log.h"
#include "near.h"
#include "publish.h"
#include "result.h"
#include "verify.h"

#define MAX_CLOSURES 8 /* distinct real targets of one function (versions, libraries) */

struct fn_rt;

struct closure_ud {
	struct fn_rt *fn;
	void *real;
	void *code;
	ffi_closure *closure;
};

struct fn_rt {
	int index;
	const struct txc_fn_config *fc;
	ffi_cif cif;
	ffi_type *atypes[TXC_MAX_PARAMS];
	struct txc_stats stats;
	pthread_key_t retbuf; /* per-thread storage for returned strings */
	int nclosures;
	struct closure_ud cl[MAX_CLOSURES];
};

static const struct txc_config *g_cfg;
static struct txc_cache *g_cache;
static struct fn_rt *g_fns;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

/* Set while the shim does its own work in this thread: any configured
 * function reached meanwhile (from libmemcached, malloc, a signal handler)
 * goes straight to the real function. */
static __thread int in_shim __attribute__((tls_model("initial-exec")));

struct retbuf {
	size_t cap;
	char data[];
};

static void retbuf_free(void *p)
{
	free(p);
}

static ffi_type *ffi_scalar(enum txc_type t)
{
	const struct txc_type_info *ti = sig_type_info(t);
	if (t == TXC_T_FLOAT)
		return &ffi_type_float;
	if (t == TXC_T_DOUBLE)
		return &ffi_type_double;
	switch (ti->size) {
	case 1:
		return ti->is_signed ? &ffi_type_sint8 : &ffi_type_uint8;
	case 2:
		return ti->is_signed ? &ffi_type_sint16 : &ffi_type_uint16;
	case 4:
		return ti->is_signed ? &ffi_type_sint32 : &ffi_type_uint32;
	default:
		return ti->is_signed ? &ffi_type_sint64 : &ffi_type_uint64;
	}
}

static int prep_fn(struct fn_rt *f, int index, const struct txc_fn_config *fc)
{
	const struct txc_sig *sig = &fc->sig;
	f->index = index;
	f->fc = fc;
	for (int i = 0; i < sig->nparams; i++) {
		const struct txc_param *p = &sig->params[i];
		bool by_value = p->kind == TXC_K_SCALAR || p->kind == TXC_K_OUT_FD;
		f->atypes[i] = by_value ? ffi_scalar(p->type) : &ffi_type_pointer;
	}
	ffi_type *rtype = &ffi_type_pointer;
	if (sig->ret == TXC_R_VOID)
		rtype = &ffi_type_void;
	else if (sig->ret == TXC_R_SCALAR)
		rtype = ffi_scalar(sig->ret_type);
	if (ffi_prep_cif(&f->cif, FFI_DEFAULT_ABI, (unsigned)sig->nparams, rtype, f->atypes) !=
	    FFI_OK)
		return TXC_EINVAL;
	if (pthread_key_create(&f->retbuf, retbuf_free) != 0)
		return TXC_ENOMEM;
	return 0;
}

int dispatch_init(const struct txc_config *cfg, struct txc_cache *cache)
{
	struct fn_rt *fns = calloc(cfg->nfns ? (size_t)cfg->nfns : 1, sizeof(*fns));
	if (!fns)
		return TXC_ENOMEM;
	for (int i = 0; i < cfg->nfns; i++) {
		int rc = prep_fn(&fns[i], i, &cfg->fns[i]);
		if (rc != 0) {
			log_msg(TXC_LOG_ERROR, "%s: libffi cannot call this signature",
				cfg->fns[i].sig.name);
			free(fns);
			return rc;
		}
	}
	if (cache && near_init(cache) != 0)
		log_msg(TXC_LOG_WARN, "no memory for the near cache; going without it");
	verify_init();
	g_cfg = cfg;
	g_cache = cache;
	g_fns = fns;
	return 0;
}

struct txc_stats *dispatch_stats(int fn)
{
	return &g_fns[fn].stats;
}

/* ---- values in and out of libffi's return slot ---- */

static int64_t elapsed_ns(const struct timespec *a, const struct timespec *b)
{
	return (int64_t)(b->tv_sec - a->tv_sec) * 1000000000 + (b->tv_nsec - a->tv_nsec);
}

/* ---- the hit path ---- */

/* Produces the char * a hit returns. Returns 0, or TXC_ENOMEM. */
static int ret_string(struct fn_rt *f, const struct txc_result *res, void *ret)
{
	char *s = NULL;
	if (res->ret_str && f->fc->sig.ret == TXC_R_OWNED_STRING) {
		s = malloc(res->ret_len + 1);
		if (!s)
			return TXC_ENOMEM;
	} else if (res->ret_str) {
		struct retbuf *b = pthread_getspecific(f->retbuf);
		if (!b || b->cap < res->ret_len + 1) {
			struct retbuf *nb = realloc(b, sizeof(*b) + res->ret_len + 1);
			if (!nb)
				return TXC_ENOMEM;
			nb->cap = res->ret_len + 1;
			if (pthread_setspecific(f->retbuf, nb) != 0) {
				free(nb);
				return TXC_ENOMEM;
			}
			b = nb;
		}
		s = b->data;
	}
	if (s) {
		memcpy(s, res->ret_str, res->ret_len);
		s[res->ret_len] = '\0';
	}
	memcpy(ret, &s, sizeof(s));
	return 0;
}

/* Applies a verified value. Returns 0 when the call was answered. */
static int apply_hit(struct fn_rt *f, void *ret, void **args, const struct txc_result *res)
{
	const struct txc_sig *sig = &f->fc->sig;
	int rc = result_outs_fit(sig, args, res);
	if (rc != 0)
		return rc;
	if (sig->ret == TXC_R_STRING || sig->ret == TXC_R_OWNED_STRING) {
		rc = ret_string(f, res, ret);
		if (rc != 0)
			return rc;
	} else if (sig->ret == TXC_R_SCALAR) {
		result_ret_store(sig, res->ret, ret);
	}
	result_outs_write(sig, args, res);
	/* last: once bytes are out, the hit must stand */
	rc = capture_replay(sig, args, res);
	if (rc != 0 && sig->ret == TXC_R_OWNED_STRING) {
		char *s;
		memcpy(&s, ret, sizeof(s));
		free(s);
	}
	return rc;
}

/* ---- the miss path ---- */

/* ---- the handler ---- */

/* Failures of memcached are logged at warn at most once per 10 seconds per
 * process, so a dead server does not flood the host's stderr. */
static void warn_store(const char *fn, const char *what, int rc)
{
	static int64_t last;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t t = now.tv_sec, prev = __atomic_load_n(&last, __ATOMIC_RELAXED);
	int level = TXC_LOG_DEBUG;
	if ((prev == 0 || t - prev >= 10) &&
	    __atomic_compare_exchange_n(&last, &prev, t, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		level = TXC_LOG_WARN;
	log_msg(level, "%s: %s failed (%s); calling the real function", fn, what, txc_strerror(rc));
}

static void call_real(struct closure_ud *ud, void *ret, void **args, int caller_errno)
{
	in_shim = 0; /* the real function's own configured calls may be cached */
	errno = caller_errno;
	ffi_call(&ud->fn->cif, FFI_FN(ud->real), ret, args);
	in_shim = 1;
}

static void run_mutator(struct closure_ud *ud, void *ret, void **args, int caller_errno)
{
	struct fn_rt *f = ud->fn;
	call_real(ud, ret, args, caller_errno);
	int real_errno = errno;
	struct txc_arg margs[TXC_MAX_PARAMS];
	key_args_from_ffi(&f->fc->sig, args, margs);
	int rc = cache_invalidate_for(g_cache, f->index, margs);
	if (rc != 0) {
		stats_add(&f->stats, TXC_ST_ERRORS, 1);
		log_msg(TXC_LOG_WARN, "%s: invalidation failed (%s): cached results may be stale",
			f->fc->sig.name, txc_strerror(rc));
	} else {
		stats_add(&f->stats, TXC_ST_INVALIDATIONS, 1);
		log_msg(TXC_LOG_INFO, "invalidate after %s", f->fc->sig.name);
	}
	errno = real_errno;
}

/* A sampled hit is not applied: VK keeps the cached result, to compare
 * with the real call (run_verified). A value that does not fit the
 * caller's buffers would not be served: nothing to verify. */
static bool keep_for_verify(struct fn_rt *f, struct verify_kept *vk, void **args,
			    const struct txc_result *res)
{
	return vk && verify_sample(f->fc) && result_outs_fit(&f->fc->sig, args, res) == 0 &&
	       verify_keep(vk, &f->fc->sig, res) == 0;
}

/* Returns 0 when the call was answered from the cache; TXC_ENOTFOUND with
 * VK->kept when it is to be verified. */
static int try_hit(struct fn_rt *f, void *ret, void **args, const struct txc_key *key,
		   struct txc_lookup *lk, struct verify_kept *vk)
{
	struct txc_value_meta meta;
	struct txc_result res;
	int rc = cache_decode(g_cache, f->index, key, lk, &meta, &res);
	if (rc == 0 && keep_for_verify(f, vk, args, &res)) {
		stats_add(&f->stats, TXC_ST_BYTES_IN, lk->value.len);
		return TXC_ENOTFOUND;
	}
	if (rc == 0)
		rc = apply_hit(f, ret, args, &res);
	if (rc == 0) {
		stats_add(&f->stats, TXC_ST_HITS, 1);
		stats_add(&f->stats, TXC_ST_BYTES_IN, lk->value.len);
		stats_add(&f->stats, TXC_ST_SAVED_NS, meta.cost_ns);
		log_msg(TXC_LOG_INFO, "hit %s %s", f->fc->sig.name, key->text);
	} else if (rc == TXC_ECORRUPT) {
		stats_add(&f->stats, TXC_ST_CORRUPT, 1);
		log_msg(TXC_LOG_WARN, "%s: cached value for %s failed verification; ignoring it",
			f->fc->sig.name, key->text);
	} else if (rc == TXC_ERANGE) {
		stats_add(&f->stats, TXC_ST_NOFIT, 1);
		log_msg(TXC_LOG_INFO, "%s: cached value does not fit the caller's buffer",
			f->fc->sig.name);
	}
	return rc;
}

static void store_result(struct fn_rt *f, void *ret, void **args, const struct txc_key *key,
			 const struct txc_lookup *lk, int64_t cost, const struct capture_call *cc,
			 uint64_t epoch)
{
	const struct txc_sig *sig = &f->fc->sig;
	if (!result_cond_holds(sig, &f->fc->cache_if, ret)) {
		stats_add(&f->stats, TXC_ST_SKIPPED, 1);
		log_msg(TXC_LOG_INFO, "miss %s %s (%.3f ms, not stored: cache_if)", sig->name,
			key->text, (double)cost / 1e6);
		return;
	}
	struct txc_result res;
	struct txc_value_meta meta = {
	    .ns_gen = lk->ns_gen, .fn_gen = lk->fn_gen, .cost_ns = cost > 0 ? (uint64_t)cost : 0};
	size_t len = 0;
	int rc = result_collect(sig, ret, args, &res);
	if (rc == 0)
		rc = capture_fill(cc, &res);
	if (rc == 0)
		rc = cache_store(g_cache, f->index, key, &meta, &res, &len);
	if (rc == 0) {
		stats_add(&f->stats, TXC_ST_STORES, 1);
		stats_add(&f->stats, TXC_ST_BYTES_OUT, len);
		near_put_result(f->index, &key->digest, epoch, &meta, &res);
	} else if (rc == TXC_ETOOBIG) {
		stats_add(&f->stats, TXC_ST_TOOBIG, 1);
		log_msg(TXC_LOG_INFO, "%s: result larger than max_value; not stored", sig->name);
	} else if (rc == TXC_EINVAL) {
		log_msg(TXC_LOG_INFO, "%s: out string without NUL; not stored", sig->name);
	} else if (rc == TXC_ESYS) {
		stats_add(&f->stats, TXC_ST_SKIPPED, 1);
		log_msg(TXC_LOG_INFO, "%s: a write failed or was short; not stored", sig->name);
	} else {
		stats_add(&f->stats, TXC_ST_ERRORS, 1);
		warn_store(sig->name, "store", rc);
	}
	log_msg(TXC_LOG_INFO, "miss %s %s (%.3f ms, %zu bytes stored)", sig->name, key->text,
		(double)cost / 1e6, len);
}

struct near_call {
	struct fn_rt *f;
	void *ret;
	void **args;
	struct verify_kept *vk;
};

/* Under the near cache's lock: a sampled hit only keeps the value. */
static int near_apply(void *ctx, const struct txc_value_meta *meta, const struct txc_result *res)
{
	struct near_call *nc = ctx;
	if (keep_for_verify(nc->f, nc->vk, nc->args, res)) {
		nc->vk->near = true;
		return TXC_ENOTFOUND;
	}
	int rc = apply_hit(nc->f, nc->ret, nc->args, res);
	if (rc == 0) {
		stats_add(&nc->f->stats, TXC_ST_HITS, 1);
		stats_add(&nc->f->stats, TXC_ST_SAVED_NS, meta->cost_ns);
	}
	return rc;
}

/* Another process holds the stampede lock: waits for its result. Returns 0
 * when the call was answered; otherwise the caller computes (*LOCKED: it
 * holds the lock and must release it). */
static int lock_or_wait(struct fn_rt *f, void *ret, void **args, const struct txc_key *key,
			bool *locked, struct verify_kept *vk)
{
	struct txc_lookup lk;
	int rc = lock_acquire(g_cache, f->index, key);
	*locked = rc == 0;
	if (rc != TXC_EEXIST) {
		log_msg(TXC_LOG_DEBUG, "%s: lock %s:lock %s", f->fc->sig.name, key->text,
			rc == 0 ? "taken" : "failed; computing without it");
		return TXC_ENOTFOUND;
	}
	rc = lock_wait(g_cache, f->index, key, f->fc->lock_timeout_ms, &lk);
	if (rc == 0)
		rc = try_hit(f, ret, args, key, &lk, vk);
	cache_lookup_free(&lk);
	if (rc == TXC_ETIMEOUT)
		log_msg(TXC_LOG_INFO, "%s: lock not released in %u ms; computing", f->fc->sig.name,
			f->fc->lock_timeout_ms);
	return rc;
}

/* A sampled hit (VK->kept, verify.h): the real function answers, as on a
 * miss (capture included, nothing replayed), and verify compares. Returns
 * true when it answered the call. */
static bool run_verified(struct closure_ud *ud, void *ret, void **args, const struct txc_key *key,
			 const struct txc_arg *a, struct verify_kept *vk, int caller_errno)
{
	if (!vk->kept)
		return false;
	struct fn_rt *f = ud->fn;
	struct verify_call vc = {g_cache, f->index, &f->fc->sig, &f->stats, key, a};
	struct capture_call cc;
	stats_add(&f->stats, TXC_ST_HITS, 1);
	verify_inputs(vk, vc.sig, args, caller_errno);
	capture_begin(&cc, vc.sig, args, g_cfg->max_value);
	call_real(ud, ret, args, caller_errno);
	int real_errno = errno;
	capture_end(&cc);
	verify_finish(vk, &vc, ret, args, &cc, real_errno);
	capture_free(&cc);
	errno = real_errno;
	return true;
}

static void run_cached(struct closure_ud *ud, void *ret, void **args, int caller_errno)
{
	struct fn_rt *f = ud->fn;
	struct txc_arg a[TXC_MAX_PARAMS];
	struct txc_key key;
	struct txc_lookup lk;
	uint64_t epoch = near_epoch(f->index);
	/* memcached is known down and there is no near cache: skip the key */
	if (!epoch && store_breaker_open(g_cache->store)) {
		stats_add(&f->stats, TXC_ST_ERRORS, 1);
		call_real(ud, ret, args, caller_errno);
		return;
	}
	key_args_from_ffi(&f->fc->sig, args, a);
	key_build(&g_cache->kf[f->index], &f->fc->sig, a, &key);
	struct verify_kept vk = {.kept = false};
	struct near_call nc = {f, ret, args, &vk};
	if (epoch && near_get(f->index, &key.digest, near_apply, &nc) == 0) {
		log_msg(TXC_LOG_INFO, "hit %s %s (near)", f->fc->sig.name, key.text);
		errno = caller_errno;
		return;
	}
	if (run_verified(ud, ret, args, &key, a, &vk, caller_errno))
		return;
	int rc = cache_lookup(g_cache, f->index, &key, &lk);
	bool hit = rc == 0 && try_hit(f, ret, args, &key, &lk, &vk) == 0;
	if (hit || vk.kept) /* a value kept for verify: a mismatch drops it again */
		near_put(f->index, &key.digest, epoch, lk.value.data, lk.value.len);
	cache_lookup_free(&lk);
	if (hit) {
		errno = caller_errno;
		return;
	}
	if (run_verified(ud, ret, args, &key, a, &vk, caller_errno))
		return;
	if (rc == 0)
		rc = cache_ensure_gens(g_cache, f->index, &lk);
	if (rc != 0) {
		stats_add(&f->stats, TXC_ST_ERRORS, 1);
		warn_store(f->fc->sig.name, "lookup", rc);
		call_real(ud, ret, args, caller_errno);
		return;
	}
	bool locked = false;
	if (f->fc->lock && lock_or_wait(f, ret, args, &key, &locked, &vk) == 0) {
		errno = caller_errno;
		return;
	}
	if (run_verified(ud, ret, args, &key, a, &vk, caller_errno))
		return;
	stats_add(&f->stats, TXC_ST_MISSES, 1);
	struct timespec t0, t1;
	struct capture_call cc;
	capture_begin(&cc, &f->fc->sig, args, g_cfg->max_value);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	call_real(ud, ret, args, caller_errno);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	int real_errno = errno;
	capture_end(&cc);
	store_result(f, ret, args, &key, &lk, elapsed_ns(&t0, &t1), &cc, epoch);
	capture_free(&cc);
	if (locked)
		lock_release(g_cache, f->index, &key);
	errno = real_errno;
}

static void on_call(ffi_cif *cif, void *ret, void **args, void *user)
{
	struct closure_ud *ud = user;
	if (in_shim || !g_cache) {
		ffi_call(cif, FFI_FN(ud->real), ret, args);
		return;
	}
	in_shim = 1;
	int caller_errno = errno;
	if (ud->fn->fc->ninval > 0)
		run_mutator(ud, ret, args, caller_errno);
	else
		run_cached(ud, ret, args, caller_errno);
	publish_tick(g_cfg, g_cache);
	in_shim = 0;
}

/* ---- closures ---- */

static bool is_our_closure(void *code)
{
	for (int i = 0; g_cfg && i < g_cfg->nfns; i++)
		for (int k = 0; k < g_fns[i].nclosures; k++)
			if (g_fns[i].cl[k].code == code)
				return true;
	return false;
}

static void *make_closure(struct fn_rt *f, void *real)
{
	for (int k = 0; k < f->nclosures; k++)
		if (f->cl[k].real == real)
			return f->cl[k].code;
	if (f->nclosures == MAX_CLOSURES) {
		log_msg(TXC_LOG_WARN,
			"%s: more than %d distinct definitions; not intercepting another",
			f->fc->sig.name, MAX_CLOSURES);
		return NULL;
	}
	struct closure_ud *ud = &f->cl[f->nclosures];
	void *code = NULL;
	ffi_closure *cl = ffi_closure_alloc(sizeof(ffi_closure), &code);
	if (!cl) {
		log_msg(TXC_LOG_WARN, "%s: cannot allocate a closure", f->fc->sig.name);
		return NULL;
	}
	ud->fn = f;
	ud->real = real;
	if (ffi_prep_closure_loc(cl, &f->cif, on_call, ud, code) != FFI_OK) {
		ffi_closure_free(cl);
		log_msg(TXC_LOG_WARN, "%s: libffi refused the closure", f->fc->sig.name);
		return NULL;
	}
	ud->closure = cl;
	ud->code = code;
	/* publish after the closure is complete: readers scan without the lock */
	__atomic_store_n(&f->nclosures, f->nclosures + 1, __ATOMIC_RELEASE);
	return code;
}

void *dispatch_closure_for(int fn, void *real)
{
	if (!g_fns || fn < 0 || fn >= g_cfg->nfns || !real)
		return NULL;
	void *code = NULL;
	int saved = errno;
	pthread_mutex_lock(&g_lock);
	if (!is_our_closure(real))
		code = make_closure(&g_fns[fn], real);
	pthread_mutex_unlock(&g_lock);
	errno = saved;
	return code;
}

void dispatch_log_stats(void)
{
	for (int i = 0; g_fns && i < g_cfg->nfns; i++) {
		const struct txc_stats *s = &g_fns[i].stats;
		log_msg(TXC_LOG_INFO,
			"stats %s: hits=%llu misses=%llu stores=%llu errors=%llu corrupt=%llu "
			"toobig=%llu saved=%.3f ms verified=%llu mismatch=%llu",
			g_cfg->fns[i].sig.name, (unsigned long long)stats_get(s, TXC_ST_HITS),
			(unsigned long long)stats_get(s, TXC_ST_MISSES),
			(unsigned long long)stats_get(s, TXC_ST_STORES),
			(unsigned long long)stats_get(s, TXC_ST_ERRORS),
			(unsigned long long)stats_get(s, TXC_ST_CORRUPT),
			(unsigned long long)stats_get(s, TXC_ST_TOOBIG),
			(double)stats_get(s, TXC_ST_SAVED_NS) / 1e6,
			(unsigned long long)stats_get(s, TXC_ST_VERIFIED),
			(unsigned long long)stats_get(s, TXC_ST_MISMATCH));
	}
}
