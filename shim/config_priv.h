/* config_priv.h - shared between the two halves of the config loader:
 * config.c (reading lines and collecting raw values) and config_check.c
 * (validating them once the whole file has been read). Not a public header.
 */
#ifndef TXC_CONFIG_PRIV_H
#define TXC_CONFIG_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "sig.h"

enum {
	CK_SERVERS,
	CK_NAMESPACE,
	CK_TTL,
	CK_TIMEOUT,
	CK_ENABLED,
	CK_LOG,
	CK_MAXVAL,
	CK_SECRET,
	CK_STATS_INTERVAL,
	CK_LOG_FILE,
	CK_ERRNO,
	CK_TOMBSTONE_TTL,
	CK_IDENTITY,
	CK_VERIFY,
	CK_MIN_COST,
	CK_KEY_ENV,
	CK_KEY_CWD,
	CK_NEGATIVE_TTL,
	CK_STALE,
	CK_REFRESH,
	CK_BETA,
	CK_MODE,
	CK_KEY_LOCALE,
	CK_SASL_USER,
	CK_SASL_PWFILE,
	CK_INCLUDE,
	CK_COUNT
};
enum {
	FK_SIGNATURE,
	FK_TTL,
	FK_IGNORE,
	FK_CACHE_IF,
	FK_INVALIDATES,
	FK_VERSION,
	FK_LIBRARY,
	FK_LOCAL_TTL,
	FK_LOCAL_ENTRIES,
	FK_LOCK,
	FK_LOCK_TIMEOUT,
	FK_ERRNO,
	FK_IDENTITY,
	FK_VERIFY,
	FK_MIN_COST,
	FK_KEY_ENV,
	FK_KEY_CWD,
	FK_OUTS_IF,
	FK_NEGATIVE_TTL,
	FK_STALE,
	FK_REFRESH,
	FK_BETA,
	FK_MODE,
	FK_KEY_LOCALE,
	FK_FROM,
	FK_COUNT
};

/* keys of a catalogue file's [catalogue] section */
enum { CATK_LIBRARY, CATK_DOC, CATK_COUNT };

struct keydef {
	const char *name;
	bool multi; /* continuation lines are joined with a space */
};

/* A value as written; val is NULL when the key is absent. */
struct raw {
	char *val;
	int line;
};

struct raw_fn {
	struct raw k[FK_COUNT];
	bool sig_ok;
	/* the signature came from a catalogue entry (config_include.c): it is
	 * parsed without the user's [types], whose names are the user's own */
	bool sig_from_catalogue;
};

struct cfg_note {
	int line, seq;
	bool warning;
	char *msg;
};

enum line_kind { LK_BLANK, LK_KEY, LK_CONT };
enum section { SEC_NONE, SEC_CACHE, SEC_FN, SEC_SKIP, SEC_TYPES };

struct loader {
	struct txc_config *cfg;
	const char *name;
	config_report_fn report;
	void *rctx;

	FILE *fp;	  /* config_load */
	int read_errno;	  /* first read error on fp */
	const char *text; /* config_parse_string */
	int lineno;
	enum line_kind kind; /* of the current line */
	bool handled;	     /* on_value ran for the current line */
	bool have_prev;	     /* inih has a previous key: indented lines continue it */
	bool is_cont;

	enum section sec;
	int fn;		/* SEC_FN: index into cfg->fns */
	int cache_line; /* line of [cache], 0 when not seen */
	struct raw cache[CK_COUNT];
	struct raw_fn *raw; /* parallel to cfg->fns */
	int fncap;
	struct raw *cur; /* what a continuation line extends, or NULL */
	bool cur_multi;
	const char *cur_key;

	struct txc_sig_types types; /* [types]: the signatures parse with them */
	struct raw types_cur;	    /* what a continuation of a [types] line extends: nothing */

	struct cfg_note *notes;
	int nnotes, notecap, dropped;
	int nerrors;
	bool oom;

	/* a catalogue file (config_include.c): [catalogue] instead of [cache],
	 * no servers, no include or from */
	bool is_catalogue;
	struct raw cat[CATK_COUNT];
};

#define VALUE_MAX 65536 /* a joined multi-line value */
#define NOTES_MAX 1000	/* reports kept; a garbage file must not eat memory */
#define FNS_MAX	  4096

/* Records one report; returns TXC_ECONFIG so error paths can return it. */
int cfg_note(struct loader *ld, int line, bool warning, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Validates everything collected, reporting through cfg_note(). */
void config_check_all(struct loader *ld);

/* invalidates = of function I (config_inval.c): fills its inval[] and
 * reports each bad target at its line. Returns 0 or TXC_ECONFIG. */
int config_check_invalidates(struct loader *ld, int i);

/* include = in [cache] and from = in [function] (config_include.c): reads
 * the catalogue files named, adds their entries to LD (a user's own keys
 * win over the catalogue's) and drops a function whose entry cannot be
 * had, with one warning at its line. Never makes the config invalid. */
void config_include_all(struct loader *ld);

/* Reads the catalogue file at PATH into SUB (config.c): opened and trusted
 * as a config is (trustpath.h), parsed and validated like a config without
 * [cache]. Reports go to REPORT (its path is PATH). Returns 0, TXC_ECONFIG
 * or TXC_ENOMEM. SUB holds the raw values and the config either way: the
 * caller releases it with config_sub_free(). */
int config_read_catalogue(struct loader *sub, const char *path, config_report_fn report, void *ctx);
void config_sub_free(struct loader *sub);

/* Appends [function NAME] to LD at LINE (config.c's section code). Returns
 * its index, or -1 after a note (bad name, duplicate, too many) or OOM. */
int config_add_fn(struct loader *ld, const char *name, int line);

/* Parses yes/no, true/false, on/off, 1/0 (any case). False when S is none. */
bool parse_bool(const char *s, bool *out);

/* key_env and key_cwd, [cache] and per function (config_world.c). */
void config_check_world(struct loader *ld);

/* stale, refresh and beta of [cache] and of function I (config_check.c):
 * fills cfg's and fns[I]'s fields (inherited from [cache]) and reports
 * each bad value at its line. FN < 0: [cache] only. */
void config_check_fresh(struct loader *ld, int fn);

/* mode = in [cache] and each [function]: sets cfg->mode and every
 * function's (inherited; normal for a mutator). Call after the signatures
 * are checked. Reports through cfg_note(). */
void config_check_modes(struct loader *ld);
/* ASCII classes: <ctype.h> follows the host program's locale. */
static inline bool c_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static inline bool c_digit(int c)
{
	return c >= '0' && c <= '9';
}

static inline bool c_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static inline bool c_alnum(int c)
{
	return c_alpha(c) || c_digit(c);
}

static inline bool c_xdigit(int c)
{
	return c_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
#endif
