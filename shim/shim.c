/* shim.c - the load-time constructor: the one file that knows every module.
 *
 * Order: environment -> config (TXCACHE_MODE applied to it) -> cache ->
 * dispatch -> interpose. Any failure logs one line and leaves the process
 * untouched: no GOT entry is rewritten, so every call reaches the real
 * function at full speed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "cache.h"
#include "capture.h"
#include "config.h"
#include "dispatch.h"
#include "closures.h"
#include "dl.h"
#include "err.h"
#include "fpenv.h"
#include "interpose.h"
#include "log.h"
#include "mc.h"
#include "prof.h"
#include "publish.h"
#include "redir.h"
#include "sigguard.h"

static struct txc_config *g_config;
static struct txc_cache *g_cache;

static void report_to_log(void *ctx, const char *path, int line, bool warning, const char *msg)
{
	(void)ctx;
	/* each error line says the consequence, so one line is the whole story */
	int level = warning ? TXC_LOG_WARN : TXC_LOG_ERROR;
	const char *tail = warning ? "" : "; caching is off";
	if (line > 0)
		log_msg(level, "%s:%d: %s%s", path, line, msg, tail);
	else
		log_msg(level, "%s: %s%s", path, msg, tail);
}

static bool env_true(const char *name)
{
	const char *v = secure_getenv(name);
	return v && *v && strcmp(v, "0") != 0 && strcasecmp(v, "no") != 0 &&
	       strcasecmp(v, "false") != 0;
}

/* TXCACHE_LOG wins over the file; it is applied before and after loading so
 * that problems in the file are reported at the level the user asked for. */
static void apply_log_env(void)
{
	const char *v = secure_getenv("TXCACHE_LOG");
	int level;
	if (v && config_parse_log_level(v, &level) == 0)
		log_set_level(level);
}

/* TXCACHE_MODE overrides the mode of every cached function (a mutator has
 * none: it always invalidates). A bad value is logged and ignored. */
static void apply_mode_env(struct txc_config *cfg)
{
	const char *v = secure_getenv("TXCACHE_MODE");
	enum txc_mode mode;
	if (!v || !*v)
		return;
	if (config_parse_mode(v, &mode) != 0) {
		log_msg(TXC_LOG_WARN,
			"TXCACHE_MODE: '%.40s' is not normal, readonly, recache or off; ignoring "
			"it (the config's modes apply)",
			v);
		return;
	}
	for (int i = 0; i < cfg->nfns; i++)
		if (cfg->fns[i].ninval == 0)
			cfg->fns[i].mode = mode;
}

static void *hook(void *ctx, int fn, void *real)
{
	(void)ctx;
	return dispatch_closure_for(fn, real);
}

static int patch_everything(const struct txc_config *cfg)
{
	struct interpose_target *t = calloc(cfg->nfns ? (size_t)cfg->nfns : 1, sizeof(*t));
	if (!t)
		return TXC_ENOMEM;
	for (int i = 0; i < cfg->nfns; i++) {
		t[i].name = cfg->fns[i].sig.name;
		t[i].version = cfg->fns[i].version;
		t[i].library = cfg->fns[i].library;
	}
	int npatched = 0;
	redir_init(cfg); /* before the first pass: it tallies each module's sites */
	/* also arms dlopen/dlsym/dlvsym/dlclose: modules opened later are patched too */
	dl_set_unwrap(closures_real_of); /* dladdr(closure) answers for the definition */
	int rc = dl_arm(t, (size_t)cfg->nfns, hook, NULL, &npatched);
	free(t);
	log_msg(TXC_LOG_INFO, "%d functions configured, %d call sites redirected", cfg->nfns,
		npatched);
	return rc;
}

static void load_mc(void)
{
	(void)mc_load(); /* failure is logged once; calls then pass through */
}

/* Modules opened later get the capture and signal wrappers too. */
static void rearm(void *ctx)
{
	capture_arm(ctx);
	sigguard_arm();
}

/* Profile mode (prof.h): timing only, no memcached at all. Returns 1 when
 * on, 0 when off, or a negative code: the shim must stay inert. */
static int profile_mode(void)
{
	int prof = prof_init(g_config);
	if (prof != 1)
		return prof;
	interpose_set_any(prof_any);
	/* the program's stderr stays its own: the config's info lines are
	 * for cached runs (TXCACHE_LOG still wins) */
	if (log_get_level() > TXC_LOG_WARN && !secure_getenv("TXCACHE_LOG"))
		log_set_level(TXC_LOG_WARN);
	return 1;
}

/* No function configured: every patch pass (three at start, one per
 * dlopen) would find nothing to rewrite. Profile mode patches every import,
 * and `txcache check --run` (TXCACHE_REPORT) reads what the passes saw. */
static bool nothing_to_patch(int prof)
{
	const char *report = secure_getenv("TXCACHE_REPORT");
	return g_config->nfns == 0 && !prof && !(report && *report);
}

static void start(void)
{
	log_init();
	apply_log_env();
	const char *path = secure_getenv("TXCACHE_CONFIG");
	if (!path || !*path)
		path = TXC_DEFAULT_PATH;
	/* set by `txcache run` for a config it could read only once (a FIFO) */
	const char *text = secure_getenv("TXCACHE_CONFIG_TEXT");
	int rc = text ? config_parse_string(text, path, &g_config, report_to_log, NULL)
		      : config_load(path, &g_config, report_to_log, NULL);
	if (rc != 0)
		return;
	log_set_level(g_config->log_level);
	apply_log_env();
	if (log_set_target(g_config->log_file) != 0)
		log_msg(TXC_LOG_WARN, "log_file %s: cannot open (%s); logging to stderr",
			g_config->log_file, strerror(errno));
	int prof = profile_mode(); /* before `enabled`: profiling caches nothing */
	if (prof < 0)
		return;
	if (!prof && (!g_config->enabled || env_true("TXCACHE_DISABLE"))) {
		log_msg(TXC_LOG_INFO, "caching disabled; every call goes to the real function");
		return;
	}
	apply_mode_env(g_config);
	/* loaded on the first cached call: never patch it or what it pulls in
	 * (profile mode never loads it: there libstdc++ is patched, so that
	 * its throws reach the unwind stubs, prof.c) */
	if (!prof)
		interpose_add_private(mc_library());
	rc = cache_open(g_config, &g_cache);
	if (rc == 0)
		rc = dispatch_init(g_config, g_cache);
	if (rc == 0 && nothing_to_patch(prof)) {
		/* the C API still has its cache; no module, now or later, has a
		 * slot to rewrite, and the signal and capture wrappers only
		 * serve cached functions */
		log_msg(TXC_LOG_INFO, "0 functions configured, 0 call sites redirected");
		return;
	}
	if (rc == 0)
		rc = patch_everything(g_config);
	if (rc == 0 && capture_arm(g_config) != 0)
		log_msg(TXC_LOG_WARN, "capture: wrappers not installed; out fd/stream results are "
				      "not stored");
	if (rc == 0 && sigguard_arm() != 0)
		log_msg(TXC_LOG_WARN, "signal handlers not guarded: cached functions called "
				      "from them take the normal path");
	if (rc == 0) {
		dl_after_load(rearm, g_config);
		if (!prof)
			dl_before_load(load_mc);
		dl_after_unload(dispatch_forget_unloaded);
	}
	/* TXC_EDISABLED: the reason is already logged */
	if (rc != 0 && rc != TXC_EDISABLED)
		log_msg(TXC_LOG_ERROR, "cannot start (%s); caching is off", txc_strerror(rc));
}

__attribute__((constructor)) static void txcache_init(void)
{
	int saved = errno;
	/* setuid/setgid: the loader already distrusts the environment; so do we. */
	if (getauxval(AT_SECURE) == 0)
		start();
	errno = saved;
}

__attribute__((destructor)) static void txcache_fini(void)
{
	int saved = errno;
	fenv_t fe; /* a program trapping FE_INEXACT: the report's divisions */
	fpenv_hold(&fe);
	if (g_cache) {
		cache_drain(g_cache); /* this thread's last store: counted before the report */
		dispatch_log_stats();
	}
	publish_exit();
	fpenv_restore(&fe);
	/* The cache and config stay allocated: other threads may still be in a
	 * closure while the process exits. */
	errno = saved;
}
