/* world.h - what a call's key sees outside its arguments: the key_env
 * variables and the working directory (key_cwd) at the call, and the state
 * of the files its file and file:content parameters name (filekey.h).
 *
 * With key_locale, the calling thread's locale too (uselocale's, else the
 * global one setlocale set): the name of each category, as nl_langinfo's
 * _NL_LOCALE_NAME gives it, keyed like a variable named "@LC_CTYPE" etc.
 * (no environment variable can have that name).
 *
 * Taken on every call, before the lookup: getenv (so the program's own
 * setenv counts), getcwd, stat or read. Checked again after a miss's real
 * call (world_still): a file, a key_env value or the directory that
 * changed meanwhile (another thread's setenv or chdir: both are per
 * process) stores nothing, since the function may have seen the new one.
 */
#ifndef TXC_WORLD_H
#define TXC_WORLD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "filekey.h"
#include "key.h"

#define WORLD_LOCALE_CATS 12  /* glibc's categories but LC_ALL */
#define WORLD_LOCALE_NAME 128 /* a longer locale name: the call runs uncached */

struct txc_world {
	struct txc_key_world kw; /* what key_build_world reads */
	const char *env_val[TXC_KEY_ENV_MAX + WORLD_LOCALE_CATS];
	const char *env_name[TXC_KEY_ENV_MAX + WORLD_LOCALE_CATS];
	char locale[WORLD_LOCALE_CATS][WORLD_LOCALE_NAME]; /* copies: setlocale frees names */
	bool files;					   /* a file parameter was taken */
	uint64_t env_hash;			 /* of the key_env values taken (world_still) */
	uint64_t locale_hash;			 /* of the locale names taken */
	struct txc_filekey file[TXC_MAX_PARAMS]; /* by parameter index */
	char cwd[PATH_MAX];
};

/* True when FC's keys see the world at all (key_env, key_cwd, key_locale or a keyed
 * file parameter): one call's key then depends on more than its
 * arguments, so invalidating "that call" must drop every call of FC. */
bool world_used(const struct txc_fn_config *fc);

/* Takes the world of a call of FC whose arguments ARGS were read
 * (key_args_from_ffi) and points each keyed file argument's ->file into
 * *W. Returns 0, or, when the call cannot be keyed and must run uncached
 * (logged once per process and reason, at info): TXC_ETOOBIG (the working
 * directory is longer than PATH_MAX, or a file:content is too big),
 * TXC_ESYS (getcwd failed, or a file could not be read), TXC_EINVAL (a
 * file parameter names a FIFO or device; a locale name longer than
 * WORLD_LOCALE_NAME - 1 bytes), TXC_ENOMEM. Keeps errno. */
int world_take(const struct txc_fn_config *fc, struct txc_arg *args, struct txc_world *w);

/* After the real call: 0 when the key_env values, the directory and the
 * locale are those world_take saw and every file is as it saw it (and, for `file`,
 * settled: filekey.h), else TXC_EEXIST: do not store. Keeps errno. */
int world_still(const struct txc_fn_config *fc, const struct txc_arg *args,
		const struct txc_world *w);

#endif
