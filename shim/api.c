/* api.c - txcache_invalidate, txcache_flush, txcache_key, txcache_strerror. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <dlfcn.h>

#include "api.h"
#include "err.h"
#include "fpenv.h"
#include "idreg.h"
#include "ident.h"
#include "log.h"
#include "symptr.h"
#include "txcache.h"
#include "world.h"

_Static_assert((int)TXCACHE_ENOMEM == (int)TXC_ENOMEM && (int)TXCACHE_ECONFIG == (int)TXC_ECONFIG &&
		   (int)TXCACHE_EEXIST == (int)TXC_EEXIST,
	       "the public error codes are the internal ones");

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static struct txc_config *g_cfg;
static struct txc_cache *g_cache;
static int g_err = TXC_ECONFIG;

static void report(void *ctx, const char *path, int line, bool warning, const char *msg)
{
	(void)ctx;
	if (warning)
		return;
	if (line > 0)
		log_msg(TXC_LOG_ERROR, "%s:%d: %s; the txcache API is unavailable", path, line,
			msg);
	else
		log_msg(TXC_LOG_ERROR, "%s: %s; the txcache API is unavailable", path, msg);
}

/* Never freed: another thread may be inside an API call while we exit. */
static void load(void)
{
	const char *path = secure_getenv("TXCACHE_CONFIG");
	if (!path || !*path)
		path = TXC_DEFAULT_PATH;
	g_err = config_load(path, &g_cfg, report, NULL);
	if (g_err == 0)
		g_err = cache_open(g_cfg, &g_cache);
}

/* Finds FUNCTION in the lazily loaded config. Returns 0 and *FN, or a code. */
static int api_begin(const char *function, int *fn)
{
	pthread_once(&g_once, load);
	if (g_err != 0)
		return g_err;
	if (!function) {
		*fn = -1;
		return 0;
	}
	*fn = config_find_fn(g_cfg, function);
	return *fn < 0 ? TXC_ENOTFOUND : 0;
}

static uint64_t va_int(const struct txc_type_info *ti, va_list *ap)
{
	if (ti->size <= sizeof(int)) /* promoted to int (or unsigned int) */
		return ti->is_signed ? (uint64_t)(int64_t)va_arg(*ap, int) : va_arg(*ap, unsigned);
	return ti->is_signed ? (uint64_t)va_arg(*ap, long long) : va_arg(*ap, unsigned long long);
}

int api_args_from_va(const struct txc_sig *sig, va_list ap, struct txc_arg *args)
{
	va_list aq;
	va_copy(aq, ap);
	memset(args, 0, sizeof(*args) * TXC_MAX_PARAMS);
	for (int i = 0; i < sig->nparams; i++) {
		const struct txc_param *p = &sig->params[i];
		if (!callargs_given(sig, i))
			continue;
		if (p->kind == TXC_K_SCALAR) {
			const struct txc_type_info *ti = sig_type_info(p->type);
			if (ti->is_float)
				args[i].num = callargs_from_double(p->type, va_arg(aq, double));
			else
				args[i].num = callargs_from_int(p->type, va_int(ti, &aq));
		} else if (p->kind == TXC_K_STRING || sig_kind_is_file(p->kind)) {
			const char *s = va_arg(aq, const char *);
			args[i].ptr = s;
			args[i].len = s ? strlen(s) : 0;
		} else if (p->kind == TXC_K_SYMPTR) {
			args[i].ptr = va_arg(aq, const void *);
		} else {
			args[i].ptr = va_arg(aq, const void *);
			args[i].len = va_arg(aq, size_t);
		}
	}
	va_end(aq);
	return callargs_finish(sig, args);
}

/* The identity of FN as this process would call it: the definition the
 * loader finds, else the only one the registry lists. */
static int api_ident(int fn, struct txc_ident *id)
{
	const struct txc_fn_config *fc = &g_cfg->fns[fn];
	void *real = fc->version[0] ? dlvsym(RTLD_DEFAULT, fc->sig.name, fc->version)
				    : dlsym(RTLD_DEFAULT, fc->sig.name);
	if (real && ident_of_addr(id, fc->identity, fc->sig.name, fc->version, real) == 0)
		return 0;
	struct txc_ident ids[IDREG_MAX];
	int n = 0;
	int rc = idreg_read(g_cache->store, &g_cache->kf[fn], ids, &n);
	if (rc == 0 && n != 1)
		rc = TXC_ENOTFOUND;
	if (rc == 0)
		*id = ids[0];
	return rc == TXC_ETOOBIG ? TXC_ENOTFOUND : rc;
}

static int key_of(int fn, va_list ap, struct txc_key *key)
{
	const struct txc_sig *sig = &g_cfg->fns[fn].sig;
	struct txc_arg args[TXC_MAX_PARAMS];
	struct symptr_texts tx;
	struct txc_ident id;
	struct txc_world w; /* this process's, as the shim would take it */
	int rc = api_args_from_va(sig, ap, args);
	if (rc == 0)
		rc = symptr_args_text(sig, args, &tx);
	if (rc == 0)
		rc = api_ident(fn, &id);
	if (rc == 0)
		rc = world_take(&g_cfg->fns[fn], args, &w);
	if (rc == 0)
		rc = key_build_world(&g_cache->kf[fn], &id.digest, sig, args, &w.kw, key);
	return rc;
}

TXCACHE_API int txcache_invalidate(const char *function, ...)
{
	int saved = errno, fn = -1;
	fenv_t fe; /* the shim's work raises no flag the program sees */
	fpenv_hold(&fe);
	int rc = function ? api_begin(function, &fn) : TXC_EINVAL;
	if (rc == 0) {
		struct txc_arg args[TXC_MAX_PARAMS];
		va_list ap;
		va_start(ap, function);
		rc = api_args_from_va(&g_cfg->fns[fn].sig, ap, args);
		va_end(ap);
		enum txc_inval_how how;
		struct symptr_texts tx;
		/* a pointer that names nothing: every call of FN goes */
		if (rc == 0 && symptr_args_text(&g_cfg->fns[fn].sig, args, &tx) != 0)
			rc = cache_invalidate_fn(g_cache, fn, &how);
		else if (rc == 0)
			rc = cache_invalidate_call(g_cache, fn, args, &how);
	}
	fpenv_restore(&fe);
	errno = saved;
	return rc;
}

TXCACHE_API int txcache_flush(const char *function)
{
	int saved = errno, fn = -1;
	fenv_t fe; /* the shim's work raises no flag the program sees */
	fpenv_hold(&fe);
	int rc = api_begin(function, &fn);
	enum txc_inval_how how;
	if (rc == 0)
		rc = cache_invalidate_fn(g_cache, fn, &how);
	fpenv_restore(&fe);
	errno = saved;
	return rc;
}

TXCACHE_API int txcache_key(char *out, size_t cap, const char *function, ...)
{
	int saved = errno, fn = -1;
	fenv_t fe; /* the shim's work raises no flag the program sees */
	fpenv_hold(&fe);
	int rc = function && (out || cap == 0) ? api_begin(function, &fn) : TXC_EINVAL;
	if (out && cap > 0)
		out[0] = '\0';
	if (rc == 0) {
		struct txc_key key;
		va_list ap;
		va_start(ap, function);
		rc = key_of(fn, ap, &key);
		va_end(ap);
		if (rc == 0 && key.len >= cap)
			rc = TXC_ETOOBIG;
		if (rc == 0)
			memcpy(out, key.text, key.len + 1);
	}
	fpenv_restore(&fe);
	errno = saved;
	return rc;
}

TXCACHE_API const char *txcache_strerror(int err)
{
	return txc_strerror(err);
}
