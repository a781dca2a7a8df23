/* dispatch.c - the closure handler: hit path, miss path, mutators.
 *
 * Hit:  key -> one mget (value + 2 generations) -> verify -> check every
 *       out-buffer fits -> write outs and return value -> errno as the real
 *       call left it (stored with the value; errno = keep: as before).
 * Miss: create missing generations -> list the definition's identity in the
 *       registry (defid.h; once per generation) -> real call (timed, entered
 *       with an errno no function sets, so a set errno is seen) -> cache_if
 *       -> outs_if (false: stored without outs, for negative_ttl; cond.h)
 *       -> encode + add/cas against the lookup (cache.h: an invalidation
 *       during the call wins) -> errno as the real function left it (the
 *       caller's when it set none).
 * Modes (mode.h): recache skips every hit, readonly every write of a miss.
 * Anything that fails on the way ends in the real function being called.
 * Keys cover which definition a closure calls (ident.h) and the places that
 * symptr arguments name (symptr.h); a call where either is unknown runs real.
 *
 * Over 500 lines: the hit, miss, lock, verify and mutator paths share one
 * call's state (struct call) and the per-function state kept here; the
 * closures themselves live in closures.c, the identity and symptr work in
 * defid.c and symptr.c, module liveness in modref.c.
 */
#include <errno.h>
#include <ffi.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "closures.h"
#include "cond.h"
#include "defid.h"
#include "dispatch.h"
#include "fpenv.h"
#include "err.h"
#include "guard.h"
#include "lock.h"
#include "log.h"
#include "mode.h"
#include "modref.h"
#include "near.h"
#include "prof.h"
#include "publish.h"
#include "result.h"
#include "retstr.h"
#include "revalidate.h"
#include "sigguard.h"
#include "stackroom.h"
#include "symptr.h"
#include "verify.h"
#include "world.h"

struct fn_rt {
	int index;
	const struct txc_fn_config *fc;
	ffi_cif cif;
	ffi_type *atypes[TXC_MAX_PARAMS];
	struct txc_stats stats;
	struct retstr_fn rs; /* the char * of string returns on a hit */
	bool writes;	     /* has an out fd / out stream: a hit replays output */
	struct closure_set closures;
};

static const struct txc_config *g_cfg;
static struct txc_cache *g_cache;
static struct fn_rt *g_fns;

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
		f->writes = f->writes || sig_param_is_capture(p);
	}
	ffi_type *rtype = &ffi_type_pointer;
	if (sig->ret == TXC_R_VOID)
		rtype = &ffi_type_void;
	else if (sig->ret == TXC_R_SCALAR)
		rtype = ffi_scalar(sig->ret_type);
	if (ffi_prep_cif(&f->cif, FFI_DEFAULT_ABI, (unsigned)sig->nparams, rtype, f->atypes) !=
	    FFI_OK)
		return TXC_EINVAL;
	if (sig_ret_is_string(sig->ret) && retstr_init(&f->rs, sig->ret) != 0)
		return TXC_ENOMEM;
	return 0;
}

static void on_call(ffi_cif *cif, void *ret, void **args, void *user);
static void miss_stored(void *ctx, int fn, size_t len, int err);

int dispatch_init(const struct txc_config *cfg, struct txc_cache *cache)
{
	size_t n = cfg->nfns ? (size_t)cfg->nfns : 1;
	struct fn_rt *fns = calloc(n, sizeof(*fns));
	struct closure_set **sets = calloc(n, sizeof(*sets));
	if (!fns || !sets) {
		free(fns);
		free(sets);
		return TXC_ENOMEM;
	}
	for (int i = 0; i < cfg->nfns; i++) {
		int rc = prep_fn(&fns[i], i, &cfg->fns[i]);
		if (rc != 0) {
			log_msg(TXC_LOG_ERROR, "%s: libffi cannot call this signature",
				cfg->fns[i].sig.name);
			free(fns);
			free(sets);
			return rc;
		}
		closure_set_init(&fns[i].closures, cfg->fns[i].sig.name, &fns[i].cif, &fns[i]);
		sets[i] = &fns[i].closures;
	}
	if (cache)
		cache_on_store_done(cache, miss_stored, NULL);
	if (cache && near_init(cache) != 0)
		log_msg(TXC_LOG_WARN, "no memory for the near cache; going without it");
	verify_init();
	g_cfg = cfg;
	g_cache = cache;
	g_fns = fns;
	closures_init(on_call, sets, cfg->nfns);
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

/* One intercepted call, as the hit paths see it. */
struct call {
	struct fn_rt *f;
	void *ret;
	void **args;
	int errno_after;	   /* what the caller sees once a hit answered the call */
	struct fpenv *fe;	   /* the program's floating-point environment */
	struct verify_kept *vk;	   /* a sampled hit's value, kept for run_verified */
	const struct txc_arg *a;   /* the key's arguments */
	const struct txc_world *w; /* and its world (world.h) */
	struct txc_lock held;	   /* the stampede lock, or a refresh's (revalidate.h) */
};

/* Applies a verified value. Returns 0 when the call was answered. */
static int apply_hit(struct call *c, const struct txc_result *res)
{
	struct fn_rt *f = c->f;
	const struct txc_sig *sig = &f->fc->sig;
	char *s = NULL;
	int rc = result_outs_fit(sig, c->args, res);
	if (rc == 0 && sig_ret_is_string(sig->ret)) {
		rc = retstr_make(&f->rs, res->ret_str, res->ret_len, &s);
		if (rc == 0)
			memcpy(c->ret, &s, sizeof(s));
	} else if (rc == 0 && sig->ret == TXC_R_SCALAR) {
		result_ret_store(sig, res->ret, c->ret);
	}
	if (rc != 0)
		return rc;
	result_outs_write(sig, c->args, res);
	/* last: once bytes are out, the hit must stand. A replay may block (a
	 * full pipe): the host's handlers (a timeout's siglongjmp) run
	 * meanwhile, as during the real function's writes; a jump then loses
	 * the lookup's buffer (memory only). Without output, nothing blocks and
	 * handlers stay deferred (a jump there leaked a buffer per signal). */
	uintptr_t owner = f->writes ? guard_pause() : 0;
	rc = capture_replay(sig, c->args, res);
	if (f->writes)
		guard_resume(owner);
	if (rc != 0 && s)
		retstr_undo(&f->rs, s);
	if (rc == 0 && res->err_set && !f->fc->errno_keep)
		c->errno_after = res->err;
	if (rc == 0)
		fpenv_set_hit(c->fe, res->fe_raised);
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

static void call_real(struct closure_ud *ud, void *ret, void **args, int caller_errno,
		      struct fpenv *fe)
{
	/* the real function's own configured calls may be cached */
	uintptr_t owner = guard_pause();
	fpenv_real_begin(fe);
	errno = caller_errno;
	ffi_call(&ud->fn->cif, FFI_FN(ud->real), ret, args);
	int real_errno = errno;
	fpenv_real_end(fe);
	guard_resume(owner);
	errno = real_errno;
}

static void run_mutator(struct closure_ud *ud, void *ret, void **args, int caller_errno,
			struct fpenv *fe)
{
	struct fn_rt *f = ud->fn;
	call_real(ud, ret, args, caller_errno, fe);
	int real_errno = errno;
	struct txc_arg margs[TXC_MAX_PARAMS];
	struct symptr_texts tx;
	/* a negative length: that call was never cached; its targets' keys
	 * are built as given */
	key_args_from_ffi(&f->fc->sig, args, margs, NULL);
	int rc = symptr_args_text(&f->fc->sig, margs, &tx);
	if (rc != 0) { /* a pointer that names nothing: drop every call of each target */
		rc = 0;
		for (int i = 0; i < f->fc->ninval; i++) {
			int r = cache_bump(g_cache, f->fc->inval[i].target);
			rc = rc ? rc : r;
		}
	} else {
		rc = cache_invalidate_for(g_cache, f->index, margs);
	}
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

/* A sampled hit is not applied: C->vk keeps the cached result, to compare
 * with the real call (run_verified). A value that does not fit the
 * caller's buffers, or whose output cannot be replayed to this caller,
 * would not be served: nothing to verify. */
static bool keep_for_verify(struct call *c, const struct txc_result *res)
{
	const struct txc_fn_config *fc = c->f->fc;
	return c->vk && verify_sample(fc) && result_outs_fit(&fc->sig, c->args, res) == 0 &&
	       capture_replayable(&fc->sig, c->args, res) == 0 &&
	       verify_keep(c->vk, &fc->sig, res) == 0;
}

/* Returns 0 when the call was answered from the cache; TXC_ENOTFOUND with
 * C->vk->kept when it is to be verified, or with C->held held when this
 * caller recomputes a stale value (revalidate.h). */
static int try_hit(struct call *c, const struct txc_key *key, struct txc_lookup *lk)
{
	struct fn_rt *f = c->f;
	struct txc_value_meta meta;
	struct txc_result res;
	int rc = cache_decode(g_cache, f->index, key, lk, &meta, &res);
	enum reval_do what = rc == 0 ? reval_decide(g_cache, f->index, key, lk, &meta,
						    mode_stores(f->fc->mode), &c->held)
				     : REVAL_MISS;
	if (rc == 0 && (what == REVAL_MISS || what == REVAL_RECOMPUTE))
		rc = TXC_ENOTFOUND;
	if (rc == 0 && what == REVAL_SERVE && keep_for_verify(c, &res)) {
		stats_add(&f->stats, TXC_ST_BYTES_IN, lk->value.len);
		return TXC_ENOTFOUND;
	}
	if (rc == 0)
		rc = apply_hit(c, &res);
	if (rc == 0) {
		stats_add(&f->stats, TXC_ST_HITS, 1);
		stats_add(&f->stats, TXC_ST_BYTES_IN, lk->value.len);
		stats_add(&f->stats, TXC_ST_SAVED_NS, meta.cost_ns);
		log_msg(TXC_LOG_INFO, "hit %s %s%s", f->fc->sig.name, key->text,
			what == REVAL_SERVE_STALE ? " (stale)" : "");
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

/* What the miss path knows once the real call returned. */
struct miss {
	int64_t cost;	/* the real call's duration */
	uint64_t epoch; /* near cache epoch read before the lookup */
	bool err_set;	/* the real call changed errno ... */
	int err;	/* ... to this */
	int fe_raised;	/* the floating-point flags it raised (FE_*) */
};

/* outs_if failed: the buffer outs are neither stored nor, on a hit,
 * written (the caller's stay); captured output still is (it is what the
 * call did), and the value lives negative_ttl (cache.c). */
static void drop_outs(const struct txc_sig *sig, struct txc_result *res)
{
	res->outs_dropped = true;
	for (int i = 0; i < sig->nparams; i++)
		if (sig_param_is_out(&sig->params[i]))
			res->out[i].present = false;
}

/* The outcome of a miss's store, read at once or later (a pipelined store:
 * miss_stored). */
static void count_store(struct fn_rt *f, int rc, size_t len)
{
	const char *name = f->fc->sig.name;

	if (rc == 0) {
		stats_add(&f->stats, TXC_ST_STORES, 1);
		stats_add(&f->stats, TXC_ST_BYTES_OUT, len);
	} else if (rc == TXC_EEXIST) {
		stats_add(&f->stats, TXC_ST_RACED, 1);
		log_msg(TXC_LOG_INFO, "%s: not stored: invalidated during the call", name);
	} else if (rc == TXC_ETOOBIG) {
		stats_add(&f->stats, TXC_ST_TOOBIG, 1);
		log_msg(TXC_LOG_INFO, "%s: result larger than max_value; not stored", name);
	} else {
		stats_add(&f->stats, TXC_ST_ERRORS, 1);
		warn_store(name, "store", rc);
	}
}

static void miss_stored(void *ctx, int fn, size_t len, int err)
{
	(void)ctx;
	count_store(&g_fns[fn], err, len);
}

static void store_result(struct fn_rt *f, void *ret, void **args, const struct txc_arg *entry,
			 const struct txc_key *key, const struct txc_lookup *lk,
			 const struct miss *m, const struct capture_call *cc)
{
	const struct txc_sig *sig = &f->fc->sig;
	int64_t cost = m->cost;
	struct txc_result res;
	int rc = result_collect(sig, ret, args, entry, &res);
	res.err_set = m->err_set;
	res.err = m->err_set ? m->err : 0;
	if (!cond_holds(&f->fc->cache_if, &res)) {
		stats_add(&f->stats, TXC_ST_SKIPPED, 1);
		log_msg(TXC_LOG_INFO, "miss %s %s (%.3f ms, not stored: cache_if)", sig->name,
			key->text, (double)cost / 1e6);
		return;
	}
	/* cheaper than the round trips a hit costs: not worth storing */
	if (cost < (int64_t)f->fc->min_cost_us * 1000) {
		stats_add(&f->stats, TXC_ST_SKIPPED, 1);
		log_msg(TXC_LOG_INFO, "miss %s %s (%.3f ms, not stored: under min_cost_us = %u)",
			sig->name, key->text, (double)cost / 1e6, f->fc->min_cost_us);
		return;
	}
	if (!cond_holds(&f->fc->outs_if, &res)) {
		drop_outs(sig, &res);
		rc = rc == TXC_EINVAL ? 0 : rc; /* an unterminated out string is not stored */
	}
	struct txc_value_meta meta = {
	    .ns_gen = lk->ns_gen, .fn_gen = lk->fn_gen, .cost_ns = cost > 0 ? (uint64_t)cost : 0};
	size_t len = 0;
	res.fe_raised = fpenv_to_portable(m->fe_raised);
	if (rc == 0)
		rc = capture_fill(cc, &res);
	/* pipelined: its outcome is counted when the reply is read
	 * (miss_stored). Only in the main thread, whose last reply the exit
	 * path reads: a process may end while other threads still hold
	 * theirs, never to be counted. A near cache takes only values known
	 * stored. */
	bool nowait = f->fc->local_ttl == 0 && gettid() == getpid();
#ifdef TXC_MUTANT_RECACHE_SET
	nowait = false;
#endif
	if (rc == 0)
		rc = nowait
			 ? cache_store_after_nowait(g_cache, f->index, key, lk, &meta, &res, &len)
			 : cache_store_after(g_cache, f->index, key, lk, &meta, &res, &len);
#ifdef TXC_MUTANT_RECACHE_SET /* make mutants: recache overwrites with a plain set */
	if (f->fc->mode == TXC_MODE_RECACHE && rc == TXC_EEXIST)
		rc = cache_store(g_cache, f->index, key, &meta, &res, &len);
#endif
	if (rc == 0)
		near_put_result(f->index, &key->digest, m->epoch, &meta, &res);
	if (rc == TXC_EINVAL) {
		log_msg(TXC_LOG_INFO, "%s: out string without NUL; not stored", sig->name);
	} else if (rc == TXC_ESYS) {
		stats_add(&f->stats, TXC_ST_SKIPPED, 1);
		log_msg(TXC_LOG_INFO, "%s: %s; not stored", sig->name, capture_fail_reason(cc));
	} else if (rc != TXC_EPENDING) {
		count_store(f, rc, len);
	}
	log_msg(TXC_LOG_INFO, "miss %s %s (%.3f ms, %zu bytes stored%s)", sig->name, key->text,
		(double)cost / 1e6, len, res.outs_dropped ? ", without outs: outs_if" : "");
}

static int near_apply(void *ctx, const struct txc_value_meta *meta, const struct txc_result *res)
{
	struct call *c = ctx;
	if (keep_for_verify(c, res)) { /* a sampled hit only keeps the value */
		c->vk->near = true;
		return TXC_ENOTFOUND;
	}
	int rc = apply_hit(c, res);
	if (rc == 0) {
		stats_add(&c->f->stats, TXC_ST_HITS, 1);
		stats_add(&c->f->stats, TXC_ST_SAVED_NS, meta->cost_ns);
	}
	return rc;
}

/* Another process holds the stampede lock: waits for its result. Returns 0
 * when the call was answered; otherwise the caller computes (C->held.held:
 * it holds the lock and must release it). */
static int lock_or_wait(struct call *c, const struct txc_key *key)
{
	struct fn_rt *f = c->f;
	struct txc_lookup lk;
	int rc = lock_acquire(g_cache, f->index, key, &c->held);
	if (rc != TXC_EEXIST) {
		log_msg(TXC_LOG_DEBUG, "%s: lock %s:lock %s", f->fc->sig.name, key->text,
			rc == 0 ? "taken" : "failed; computing without it");
		return TXC_ENOTFOUND;
	}
	rc = lock_wait(g_cache, f->index, key, f->fc->lock_timeout_ms, &lk);
	if (rc == 0)
		rc = try_hit(c, key, &lk);
	cache_lookup_free(&lk);
	if (rc == TXC_ETIMEOUT)
		log_msg(TXC_LOG_INFO, "%s: lock not released in %u ms; computing", f->fc->sig.name,
			f->fc->lock_timeout_ms);
	return rc;
}

/* errno on entry to a miss's real call: no function sets it, so any other
 * value after the call (0 included) was set by the function. One that
 * saves and restores errno restores this, and leaves the caller's. */
#define ERRNO_UNSET (-0x54584300) /* "TXC" */

/* The real call as a miss makes it: entered with ERRNO_UNSET (errno =
 * keep: the caller's errno, as before) so that an errno it sets is seen,
 * with what it writes captured into CC (capture_end done; the caller frees
 * CC). Returns the errno it left; *SET tells whether it set one, *COST how
 * long it took. */
static int call_as_miss(struct closure_ud *ud, struct call *c, struct capture_call *cc,
			int caller_errno, bool *set, int64_t *cost)
{
	struct fn_rt *f = ud->fn;
	int entry_errno = f->fc->errno_keep ? caller_errno : ERRNO_UNSET;
	struct timespec t0, t1;
	capture_begin(cc, &f->fc->sig, c->args, g_cfg->max_value);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	call_real(ud, c->ret, c->args, entry_errno, c->fe);
	int real_errno = errno;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	uintptr_t owner = guard_pause(); /* its flush may block, as the function's writes */
	capture_end(cc);
	guard_resume(owner);
	*set = real_errno != entry_errno;
	*cost = elapsed_ns(&t0, &t1);
	return real_errno;
}

/* The miss: the real call, then the store. */
static void run_miss(struct closure_ud *ud, struct call *c, const struct txc_key *key,
		     const struct txc_lookup *lk, uint64_t epoch, int caller_errno)
{
	struct fn_rt *f = ud->fn;
	struct capture_call cc;
	struct miss m = {0, epoch, false, 0, 0};
	stats_add(&f->stats, TXC_ST_MISSES, 1);
	unsigned runs = sigguard_runs;
	m.err = call_as_miss(ud, c, &cc, caller_errno, &m.err_set, &m.cost);
	c->errno_after = m.err_set ? m.err : caller_errno;
	/* a handler ran during the call: the errno it left may be the
	 * interruption's (EINTR), which a hit, when no signal fires, must not
	 * repeat: the value says "errno not set" (the hit leaves the caller's) */
	if (sigguard_runs != runs)
		m.err_set = false;
	m.fe_raised = c->fe->raised;
	if (world_still(f->fc, c->a, c->w) != 0) { /* the key no longer says what was read */
		stats_add(&f->stats, TXC_ST_SKIPPED, 1);
		log_msg(TXC_LOG_INFO,
			"miss %s %s (not stored: a file changed during the call, or was "
			"written too recently to key; or a key_env value or the directory "
			"changed)",
			f->fc->sig.name, key->text);
	} else {
		store_result(f, c->ret, c->args, c->a, key, lk, &m, &cc);
	}
	capture_free(&cc);
	retstr_adopt(&f->rs, c->ret);
}

/* The key of this call of UD's definition, with its world in *W. Returns 0,
 * or TXC_ENOTFOUND (counted, logged) when the call is not cacheable: the
 * definition or a symptr argument names nothing, or the world cannot be
 * taken (world.h). */
static int call_key(struct closure_ud *ud, void **args, struct txc_arg *a, struct symptr_texts *tx,
		    struct txc_world *w, struct txc_key *key)
{
	struct fn_rt *f = ud->fn;
	const struct txc_ident *id = defid_get(&ud->def, f->fc, ud->real);
	int bad = -1;
	int neg = key_args_from_ffi(&f->fc->sig, args, a, &bad);
	if (!id || symptr_args_text(&f->fc->sig, a, tx) != 0) {
		stats_add(&f->stats, TXC_ST_SKIPPED, 1);
		log_msg(TXC_LOG_INFO, "%s: %s; calling the real function", f->fc->sig.name,
			id ? "a symptr argument points into no library" : "definition unknown");
		return TXC_ENOTFOUND;
	}
	if (neg != 0) {
		stats_add(&f->stats, TXC_ST_SKIPPED, 1);
		log_msg(TXC_LOG_INFO,
			"%s: bytes %s has a negative length; calling the real function",
			f->fc->sig.name, f->fc->sig.params[bad].name);
		return TXC_ENOTFOUND;
	}
	if (world_take(f->fc, a, w) != 0) { /* logged there */
		stats_add(&f->stats, TXC_ST_SKIPPED, 1);
		return TXC_ENOTFOUND;
	}
	return key_build_world(&g_cache->kf[f->index], &id->digest, &f->fc->sig, a, &w->kw, key);
}

/* A sampled hit (C->vk->kept, verify.h): the real function answers, as on
 * a miss (capture included, nothing replayed; errno as run_miss has it),
 * and verify compares. Returns true when it answered the call. */
static bool run_verified(struct closure_ud *ud, struct call *c, const struct txc_key *key,
			 const struct txc_arg *a, int caller_errno)
{
	if (!c->vk->kept)
		return false;
	struct fn_rt *f = ud->fn;
	struct verify_call vc = {g_cache, f->index, &f->fc->sig,      &f->stats,
				 key,	  a,	    f->fc->errno_keep};
	struct capture_call cc;
	bool set;
	int64_t cost;
	stats_add(&f->stats, TXC_ST_HITS, 1);
	verify_inputs(c->vk, vc.sig, c->args, caller_errno);
	int real_errno = call_as_miss(ud, c, &cc, caller_errno, &set, &cost);
	int seen = set ? real_errno : caller_errno; /* what a miss would leave */
	verify_finish(c->vk, &vc, c->ret, c->args, &cc, seen);
	capture_free(&cc);
	retstr_adopt(&f->rs, c->ret);
	errno = seen;
	return true;
}

/* mode = readonly (mode.h): a miss calls the real function and writes
 * nothing. LOOKUP_RC is the lookup's: a failure counts as an error. */
static void run_unstored(struct closure_ud *ud, struct call *c, const struct txc_key *key,
			 int lookup_rc, int caller_errno)
{
	struct fn_rt *f = ud->fn;
	stats_add(&f->stats, lookup_rc == 0 ? TXC_ST_MISSES : TXC_ST_ERRORS, 1);
	log_msg(TXC_LOG_INFO, "miss %s %s (mode readonly: not stored)", f->fc->sig.name, key->text);
	call_real(ud, c->ret, c->args, caller_errno, c->fe);
}

/* The miss that stores (modes normal and recache): generations and the
 * registry before the real call, the stampede lock (normal only: recache
 * serves no waiter's result), then run_miss. RC is the lookup's. */
static void run_stored(struct closure_ud *ud, struct call *c, const struct txc_key *key,
		       const struct txc_arg *a, struct txc_lookup *lk, int rc, uint64_t epoch,
		       int caller_errno)
{
	struct fn_rt *f = ud->fn;
	if (rc == 0)
		rc = cache_ensure_gens(g_cache, f->index, lk);
	/* before the real call: see idreg.h */
	if (rc == 0)
		rc = defid_register(&ud->def, g_cache->store, &g_cache->kf[f->index], &lk->fn_gen);
	if (rc != 0) {
		stats_add(&f->stats, TXC_ST_ERRORS, 1);
		warn_store(f->fc->sig.name, "lookup", rc);
		lock_release(g_cache, f->index, key, &c->held);
		call_real(ud, c->ret, c->args, caller_errno, c->fe);
		return;
	}
	/* a refresh (revalidate.h) holds the lock already */
	if (f->fc->lock && mode_serves(f->fc->mode) && !c->held.held && lock_or_wait(c, key) == 0) {
		errno = c->errno_after;
		return;
	}
	if (run_verified(ud, c, key, a, caller_errno))
		return;
	c->errno_after = caller_errno; /* a refused hit may have set it */
	run_miss(ud, c, key, lk, epoch, caller_errno);
	lock_release(g_cache, f->index, key, &c->held);
	errno = c->errno_after;
}

static void run_cached(struct closure_ud *ud, void *ret, void **args, int caller_errno,
		       struct fpenv *fe)
{
	struct fn_rt *f = ud->fn;
	struct txc_arg a[TXC_MAX_PARAMS];
	struct symptr_texts tx;
	struct txc_world w;
	struct txc_key key;
	struct txc_lookup lk;
	uint64_t epoch = near_epoch(f->index);
	bool serve = mode_serves(f->fc->mode); /* recache: never a hit */
#ifdef TXC_MUTANT_MODE_SERVE		       /* make mutants: recache serves hits */
	serve = true;
#endif
	/* memcached is known down and there is no near cache: skip the key */
	bool down = !epoch && store_breaker_open(g_cache->store);
	if (down || call_key(ud, args, a, &tx, &w, &key) != 0) {
		if (down)
			stats_add(&f->stats, TXC_ST_ERRORS, 1);
		call_real(ud, ret, args, caller_errno, fe);
		return;
	}
	struct verify_kept vk = {.kept = false};
	struct call c = {f, ret, args, caller_errno, fe, &vk, a, &w, {0}};
	if (serve && epoch && near_get(f->index, &key.digest, near_apply, &c) == 0) {
		log_msg(TXC_LOG_INFO, "hit %s %s (near)", f->fc->sig.name, key.text);
		errno = c.errno_after;
		return;
	}
	if (run_verified(ud, &c, &key, a, caller_errno))
		return;
	int rc = cache_lookup(g_cache, f->index, &key, &lk);
	bool hit = serve && rc == 0 && try_hit(&c, &key, &lk) == 0;
	if (hit || vk.kept) { /* a value kept for verify: a mismatch drops it again */
		size_t blen;
		const uint8_t *body = cache_codec_bytes(&lk, &blen);
		near_put(f->index, &key.digest, epoch, body, blen);
	}
	cache_lookup_free(&lk);
	if (hit) {
		errno = c.errno_after;
#ifdef TXC_MUTANT_ERRNO /* make mutants: errno as the shim's own I/O left it */
		errno = EIO;
#endif
		return;
	}
	if (run_verified(ud, &c, &key, a, caller_errno))
		return;
	bool store = mode_stores(f->fc->mode);
#ifdef TXC_MUTANT_MODE_STORE /* make mutants: readonly stores its misses */
	store = true;
#endif
	if (store)
		run_stored(ud, &c, &key, a, &lk, rc, epoch, caller_errno);
	else
		run_unstored(ud, &c, &key, rc, caller_errno);
}

/* Profile mode (prof.h): the key as a real run would make it, the real
 * call timed, no cache at all. A mutator's calls are only timed. */
static void run_profile(struct closure_ud *ud, void *ret, void **args, int caller_errno,
			struct fpenv *fe)
{
	struct txc_arg a[TXC_MAX_PARAMS];
	struct symptr_texts tx;
	struct txc_world w;
	struct txc_key key;
	bool keyed = ud->fn->fc->ninval == 0 && call_key(ud, args, a, &tx, &w, &key) == 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	call_real(ud, ret, args, caller_errno, fe);
	int real_errno = errno;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	prof_keyed(ud->fn->index, ud->real, keyed ? &key.digest : NULL, elapsed_ns(&t0, &t1));
	errno = real_errno;
}

static void on_call(ffi_cif *cif, void *ret, void **args, void *user)
{
	struct closure_ud *ud = closure_target(user);
	struct guard_owner own;
	bool took_over;
	/* the guard: see guard.h (re-entry from the shim's own work, signals) */
	if (!g_cache || sigguard_in_handler() || !stackroom_enough() ||
	    !guard_enter(&own, &took_over)) {
		ffi_call(cif, FFI_FN(ud->real), ret, args);
		return;
	}
	int caller_errno = errno;
	struct fpenv fe; /* the shim's own work raises no flag and cannot trap */
	fpenv_enter(&fe);
	if (took_over) /* the jump left the thread's handle mid-request */
		store_thread_drop(g_cache->store);
	if (prof_on())
		run_profile(ud, ret, args, caller_errno, &fe);
	else if (ud->fn->fc->ninval > 0)
		run_mutator(ud, ret, args, caller_errno, &fe);
	else
		run_cached(ud, ret, args, caller_errno, &fe);
	if (!prof_on())
		publish_tick(g_cfg, g_cache);
	int errno_out = errno;
	guard_leave(); /* deferred handlers run here */
	/* last, outside the guard: a hit's trap fires as the real call's would */
	fpenv_leave(&fe);
	errno = errno_out;
}

void *dispatch_closure_for(int fn, void *real)
{
	if (!g_fns || fn < 0 || fn >= g_cfg->nfns)
		return NULL;
#ifndef TXC_MUTANT_MODE_OFF /* make mutants: mode off still interposed */
	if (!mode_interposed(g_cfg->fns[fn].mode))
		return NULL;
#endif
	return closures_for(&g_fns[fn].closures, real);
}

void dispatch_forget_unloaded(void)
{
	closures_forget_unloaded();
}

void dispatch_log_stats(void)
{
	for (int i = 0; g_fns && i < g_cfg->nfns; i++) {
		const struct txc_stats *s = &g_fns[i].stats;
		log_msg(TXC_LOG_INFO,
			"stats %s: hits=%llu misses=%llu stores=%llu errors=%llu corrupt=%llu "
			"toobig=%llu saved=%.3f ms verified=%llu mismatch=%llu%s%s",
			g_cfg->fns[i].sig.name, (unsigned long long)stats_get(s, TXC_ST_HITS),
			(unsigned long long)stats_get(s, TXC_ST_MISSES),
			(unsigned long long)stats_get(s, TXC_ST_STORES),
			(unsigned long long)stats_get(s, TXC_ST_ERRORS),
			(unsigned long long)stats_get(s, TXC_ST_CORRUPT),
			(unsigned long long)stats_get(s, TXC_ST_TOOBIG),
			(double)stats_get(s, TXC_ST_SAVED_NS) / 1e6,
			(unsigned long long)stats_get(s, TXC_ST_VERIFIED),
			(unsigned long long)stats_get(s, TXC_ST_MISMATCH),
			/* only when it is not normal: the line stays as it was */
			g_cfg->fns[i].mode != TXC_MODE_NORMAL ? " mode=" : "",
			g_cfg->fns[i].mode != TXC_MODE_NORMAL ? config_mode_name(g_cfg->fns[i].mode)
							      : "");
	}
}
