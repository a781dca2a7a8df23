/* world.c - the world a call's key sees; see world.h. */
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "err.h"
#include "log.h"
#include "world.h"

bool world_used(const struct txc_fn_config *fc)
{
	if (fc->nkey_env > 0 || fc->key_cwd || fc->key_locale)
		return true;
	for (int i = 0; i < fc->sig.nparams; i++)
		if (sig_kind_is_file(fc->sig.params[i].kind) && fc->sig.params[i].keyed)
			return true;
	return false;
}

/* The hash of N key_env values (NULL: unset). A value is hashed, not kept
 * by pointer: a putenv'd string can be rewritten in place. An unset
 * variable and an empty one hash apart (the seeds differ). */
static uint64_t env_hash(const char *const *vals, int n)
{
	uint64_t h = 0;
	for (int i = 0; i < n; i++)
		h = XXH3_64bits_withSeed(vals[i] ? vals[i] : "", vals[i] ? strlen(vals[i]) : 0,
					 h + (vals[i] ? 1 : 2));
	return h;
}

static const struct {
	int cat;
	const char *name;
} locale_cats[WORLD_LOCALE_CATS] = {
    {LC_CTYPE, "@LC_CTYPE"},
    {LC_NUMERIC, "@LC_NUMERIC"},
    {LC_TIME, "@LC_TIME"},
    {LC_COLLATE, "@LC_COLLATE"},
    {LC_MONETARY, "@LC_MONETARY"},
    {LC_MESSAGES, "@LC_MESSAGES"},
    {LC_PAPER, "@LC_PAPER"},
    {LC_NAME, "@LC_NAME"},
    {LC_ADDRESS, "@LC_ADDRESS"},
    {LC_TELEPHONE, "@LC_TELEPHONE"},
    {LC_MEASUREMENT, "@LC_MEASUREMENT"},
    {LC_IDENTIFICATION, "@LC_IDENTIFICATION"},
};

/* The hash of the calling thread's locale names now; copies them into
 * NAMES when it is not NULL. Returns TXC_EINVAL when a name does not fit. */
static int locale_names(char (*names)[WORLD_LOCALE_NAME], uint64_t *hash)
{
	uint64_t h = 0;
	for (int i = 0; i < WORLD_LOCALE_CATS; i++) {
		const char *v = nl_langinfo(_NL_LOCALE_NAME(locale_cats[i].cat));
		size_t n = v ? strlen(v) : 0;
		if (n >= WORLD_LOCALE_NAME)
			return TXC_EINVAL;
		if (names) {
			memcpy(names[i], v ? v : "", n);
			names[i][n] = '\0';
		}
		h = XXH3_64bits_withSeed(names ? names[i] : v, n, h + 1);
	}
	*hash = h;
	return 0;
}

static int take_locale(const struct txc_fn_config *fc, struct txc_world *w)
{
	static int logged;
	if (locale_names(w->locale, &w->locale_hash) != 0) {
		log_once(&logged, TXC_LOG_INFO,
			 "%s: key_locale: a locale name is longer than %d bytes; calling uncached "
			 "(logged once)",
			 fc->sig.name, WORLD_LOCALE_NAME - 1);
		return TXC_EINVAL;
	}
	for (int i = 0; i < WORLD_LOCALE_CATS; i++) {
		w->env_name[w->kw.nenv] = locale_cats[i].name;
		w->env_val[w->kw.nenv++] = w->locale[i];
	}
	return 0;
}

static int take_cwd(const struct txc_fn_config *fc, struct txc_world *w)
{
	static int logged_long, logged_fail;
	if (getcwd(w->cwd, sizeof(w->cwd))) {
		w->kw.cwd = w->cwd;
		w->kw.cwd_len = strlen(w->cwd);
		return 0;
	}
	if (errno == ERANGE) {
		log_once(&logged_long, TXC_LOG_INFO,
			 "%s: key_cwd: the working directory is longer than %d bytes; calling "
			 "uncached (logged once)",
			 fc->sig.name, PATH_MAX);
		return TXC_ETOOBIG;
	}
	log_once(&logged_fail, TXC_LOG_INFO,
		 "%s: key_cwd: getcwd failed (%s); calling uncached (logged once)", fc->sig.name,
		 strerror(errno));
	return TXC_ESYS;
}

static int take_files(const struct txc_fn_config *fc, struct txc_arg *args, struct txc_world *w)
{
	static int logged;
	for (int i = 0; i < fc->sig.nparams; i++) {
		const struct txc_param *p = &fc->sig.params[i];
		if (!sig_kind_is_file(p->kind) || !p->keyed || !args[i].ptr)
			continue;
		int rc = filekey_take(args[i].ptr, p->kind == TXC_K_FILE_CONTENT, &w->file[i]);
		if (rc != 0) {
			log_once(&logged, TXC_LOG_INFO,
				 "%s: %s '%.200s': %s; calling uncached (logged once)",
				 fc->sig.name, p->name[0] ? p->name : "file",
				 (const char *)args[i].ptr, filekey_why(rc));
			return rc;
		}
		args[i].file = &w->file[i];
		w->files = true;
	}
	return 0;
}

int world_take(const struct txc_fn_config *fc, struct txc_arg *args, struct txc_world *w)
{
	int saved = errno, rc = 0;
	w->files = false;
	w->kw.nenv = fc->nkey_env;
	w->kw.env_name = w->env_name;
	w->kw.env_val = w->env_val;
	w->kw.cwd = NULL;
	w->kw.cwd_len = 0;
	for (int i = 0; i < fc->nkey_env; i++) {
		w->env_name[i] = fc->key_env[i];
		w->env_val[i] = getenv(fc->key_env[i]); /* the program's setenv counts */
	}
	w->env_hash = env_hash(w->env_val, fc->nkey_env);
	if (fc->key_locale)
		rc = take_locale(fc, w);
	if (rc == 0 && fc->key_cwd)
		rc = take_cwd(fc, w);
	if (rc == 0)
		rc = take_files(fc, args, w);
	errno = saved;
	return rc;
}

/* True when the working directory is still W's (another thread may have
 * chdir()ed during the call). */
static bool same_cwd(const struct txc_world *w)
{
	char now[PATH_MAX];
	return getcwd(now, sizeof(now)) && strcmp(now, w->cwd) == 0;
}

/* True when the thread's locale names are still W's (another thread's
 * setlocale, or the function's own uselocale left in place). */
static bool same_locale(const struct txc_world *w)
{
	uint64_t h;
	return locale_names(NULL, &h) == 0 && h == w->locale_hash;
}

int world_still(const struct txc_fn_config *fc, const struct txc_arg *args,
		const struct txc_world *w)
{
	int saved = errno, rc = 0;
	const char *now[TXC_KEY_ENV_MAX];
	for (int i = 0; i < fc->nkey_env; i++)
		now[i] = getenv(fc->key_env[i]);
	if (env_hash(now, fc->nkey_env) != w->env_hash)
		rc = TXC_EEXIST;
	else if (w->kw.cwd && !same_cwd(w))
		rc = TXC_EEXIST;
	else if (fc->key_locale && !same_locale(w))
		rc = TXC_EEXIST;
	for (int i = 0; rc == 0 && w->files && i < fc->sig.nparams; i++)
		if (args[i].file && filekey_still(args[i].ptr, args[i].file) != 0)
			rc = TXC_EEXIST;
	errno = saved;
	return rc;
}
