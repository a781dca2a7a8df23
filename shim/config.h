/* config.h - the INI file (TXCACHE_CONFIG) read with inih.
 *
 * The loader is pure: it reads the file, validates everything and returns a
 * heap-allocated struct txc_config. It does not read the environment
 * (TXCACHE_DISABLE and TXCACHE_LOG are applied by the caller) and does not
 * log: every problem goes to the caller's report callback as (path, line,
 * message), so the shim can log "txcache: FILE:LINE: message" and the CLI
 * can print "FILE:LINE: message".
 */
#ifndef TXC_CONFIG_H
#define TXC_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "cond.h"
#include "sig.h"

#define TXC_MAX_SERVERS	 16
#define TXC_NS_MAX	 101 /* namespace: 1..100 bytes of [A-Za-z0-9_.-] */
#define TXC_MAX_INVAL	 8
#define TXC_DEFAULT_PATH "/etc/txcache.ini"
#define TXC_KEY_ENV_MAX	 16 /* key_env: variables per function, at most */
#define TXC_ENV_NAME_MAX 64 /* a key_env name, including the NUL */

enum txc_log_level { TXC_LOG_ERROR = 0, TXC_LOG_WARN, TXC_LOG_INFO, TXC_LOG_DEBUG };

/* What a key says about the definition a call reached (README "Identity"):
 * the defining library's build-id (default: an upgraded library never
 * serves its old results) or only its soname (a fleet shares results
 * across builds). The symbol version is part of both. */
enum txc_identity { TXC_ID_BUILD_ID = 0, TXC_ID_SONAME };

/* mode = (README "Modes"; mode.h says what each one does on a call).
 * TXCACHE_MODE overrides every cached function's mode for a process. */
enum txc_mode { TXC_MODE_NORMAL = 0, TXC_MODE_READONLY, TXC_MODE_RECACHE, TXC_MODE_OFF };

struct txc_server {
	char host[256]; /* numeric address, name, or socket path */
	unsigned port;	/* 0 for a unix socket */
	bool is_socket; /* value starts with '/' */
};

/* One target of "invalidates = f(a, b), g(*)". */
struct txc_inval {
	int target; /* index into txc_config.fns */
	bool all;   /* f(*): every call of f (a generation bump) */
	int nargs;  /* number of keyed parameters of the target */
	/* For the target's k-th keyed parameter, the index of the mutator's
	 * parameter whose value it takes. Types must be compatible: string to
	 * string, bytes to bytes, integer to integer, float to float. */
	int args[TXC_MAX_PARAMS];
};

struct txc_fn_config {
	struct txc_sig sig; /* keyed flags already cleared for "ignore" */
	int line;	    /* line of the [function NAME] header */
	uint32_t ttl;	    /* seconds; inherits [cache] ttl */
	struct txc_cond cache_if;
	int ninval;
	struct txc_inval inval[TXC_MAX_INVAL];
	char version[64];	  /* optional "version = GLIBC_2.29"; "" = any */
	char library[256];	  /* optional "library = libfoo.so.1"; "" = any */
	uint32_t local_ttl;	  /* near cache: seconds an entry is served in-process; 0 = off */
	uint32_t local_entries;	  /* near cache: capacity per thread; default 1024 */
	bool lock;		  /* stampede lock: one process computes a missing key */
	uint32_t lock_timeout_ms; /* how long the others wait for it; default 5000 */
	bool errno_keep; /* errno = keep: a hit leaves the caller's errno; inherits [cache] */
	enum txc_identity identity; /* inherits [cache] identity */
	uint32_t verify_ppm;	    /* share of hits re-run and compared, per million; inherits */
	uint32_t min_cost_us;	    /* a real call faster than this is not stored; inherits */
	/* keys that see the world (world.h): environment variables whose values
	 * at the call are keyed ([cache] key_env, replaced by the function's
	 * own), and the working directory (key_cwd; inherits) */
	int nkey_env;
	char key_env[TXC_KEY_ENV_MAX][TXC_ENV_NAME_MAX];
	bool key_cwd;
	bool key_locale; /* key_locale = yes: the thread's locale at the call (world.h); inherits */
	/* outs_if: a result failing it is stored without its out-parameters
	 * (negative caching); unset: every result keeps them */
	struct txc_cond outs_if;
	uint32_t negative_ttl; /* ttl of such results; inherits [cache], else ttl */
	/* stale-while-revalidate and early refresh (fresh.h); inherit [cache] */
	uint32_t stale_s;   /* seconds a value past its ttl is still served; 0 = off */
	bool refresh_early; /* refresh = early: XFetch */
	double beta;	    /* XFetch's beta; default 1.0 */
	enum txc_mode mode; /* inherits [cache] mode; always normal for a mutator */
	/* the catalogue file (catalogue.h) this entry came from, by include = or
	 * from =; "" for a function the config defines alone */
	char from[TXC_NAME_MAX];
};

struct txc_config {
	char path[4096];
	int nservers;
	struct txc_server servers[TXC_MAX_SERVERS];
	char ns[TXC_NS_MAX];	/* default "txcache" */
	uint32_t ttl;		/* default 0 = never expires */
	uint32_t timeout_ms;	/* default 50; 1..60000 */
	bool enabled;		/* default yes */
	int log_level;		/* enum txc_log_level; default TXC_LOG_WARN */
	char log_file[4096];	/* "" = stderr, "syslog", or an absolute path */
	uint32_t max_value;	/* largest value stored, bytes; default 1048576 */
	char secret_file[4096]; /* "" = values are checksummed, not authenticated */
	uint32_t
	    stats_interval; /* seconds between counter publications; 0 = at exit only; default 5 */
	bool errno_keep; /* errno = keep|restore (default restore: a hit sets the stored errno) */
	/* seconds an invalidated call's tombstone lives; a miss slower than this
	 * stores nothing (cache.h); default 60, 2..86400 */
	uint32_t tombstone_ttl;
	uint32_t min_cost_us;	    /* default 0: every result is worth storing */
	enum txc_identity identity; /* default TXC_ID_BUILD_ID */
	uint32_t verify_ppm;	    /* "verify = RATE" as parts per million; default 0 */
	int nfns;
	struct txc_fn_config *fns; /* nfns entries, owned by the config */
	int nkey_env;		   /* key_env: the default of every function */
	char key_env[TXC_KEY_ENV_MAX][TXC_ENV_NAME_MAX];
	bool key_cwd;	       /* key_cwd = yes: the default of every function */
	bool key_locale;       /* key_locale = yes: the default of every function */
	uint32_t negative_ttl; /* [cache] negative_ttl, when negative_ttl_set */
	bool negative_ttl_set; /* unset: each function's own ttl */
	uint32_t stale_s;      /* stale = SECONDS; default 0 */
	bool refresh_early;    /* refresh = early|expiry; default expiry */
	double beta;	       /* beta = FLOAT; default 1.0 */
	enum txc_mode mode;    /* default TXC_MODE_NORMAL */
	/* memcached SASL (binary protocol): both set or both ""; the password
	 * file is read by store_open (store.h), not by the config loader */
	char sasl_user[256]; /* 1..255 bytes, no space or control character */
	char sasl_password_file[4096];
};

/* Called once per problem found. LINE is 0 for problems of the whole file
 * (missing file, no servers). WARNING is true for problems that do not make
 * the file invalid (an unknown key). */
typedef void (*config_report_fn)(void *ctx, const char *path, int line, bool warning,
				 const char *msg);

/* Reads and validates the file at PATH.
 * Returns 0 and sets *OUT to a config the caller frees with config_free().
 * On failure returns TXC_ECONFIG (or TXC_ENOMEM), sets *OUT to NULL, and has
 * reported every error found (parsing goes on after the first one).
 * REPORT may be NULL. */
int config_load(const char *path, struct txc_config **out, config_report_fn report, void *ctx);

/* Same as config_load() on the text TEXT; NAME is used as the path in
 * reports and in cfg->path. For tests and fuzzing. */
int config_parse_string(const char *text, const char *name, struct txc_config **out,
			config_report_fn report, void *ctx);

/* Frees CFG and everything it owns. NULL is allowed. */
void config_free(struct txc_config *cfg);

/* Returns the index of the function called NAME, or -1. */
int config_find_fn(const struct txc_config *cfg, const char *name);

/* Parses "error|warn|info|debug" into *LEVEL. Returns 0 or TXC_EINVAL. */
int config_parse_log_level(const char *s, int *level);

/* Parses a rate from 0 to 1 ("0", "1", "0.25", at most 6 decimals; no
 * locale: '.' is the point) into parts per million. Returns 0, or
 * TXC_EINVAL with *PPM unchanged. For verify = RATE and TXCACHE_VERIFY. */
int config_parse_rate(const char *s, uint32_t *ppm);

/* Parses "normal|readonly|recache|off" (ASCII case ignored) into *MODE.
 * Returns 0, or TXC_EINVAL with *MODE unchanged. For mode = and
 * TXCACHE_MODE. */
int config_parse_mode(const char *s, enum txc_mode *mode);

/* The name of MODE ("normal", ...); "?" for a value out of range. */
const char *config_mode_name(enum txc_mode mode);

#endif
