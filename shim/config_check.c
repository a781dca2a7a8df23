/* config_check.c - validation of a whole config file (see config_priv.h).
 *
 * Runs after every line was read, so forward references resolve: the
 * [cache] ttl may follow the functions, and invalidates may name a function
 * defined further down. invalidates itself is config_inval.c, key_env and
 * key_cwd config_world.c.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capture_names.h"
#include "cond.h"
#include "config_priv.h"
#include "err.h"

/* ---- validation ---- */

/* Parses a decimal number of the whole string S, no sign, no junk. */
static bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* Checks a number value of KEY in MIN..MAX; WHY explains the maximum. */
static bool get_uint(struct loader *ld, const struct raw *r, const char *key, uint32_t min,
		     uint32_t max, const char *why, uint32_t *out)
{
	uint64_t v;
	if (!r->val)
		return false;
	if (!parse_u64(r->val, &v)) {
		cfg_note(ld, r->line, false, "%s: '%.40s' is not a non-negative integer", key,
			 r->val);
		return false;
	}
	if (v < min || v > max) {
		cfg_note(ld, r->line, false, "%s: %.40s is out of range %u..%u%s", key, r->val, min,
			 max, why);
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

/* verify = RATE: a share of hits, 0 to 1. */
static void get_rate(struct loader *ld, const struct raw *r, uint32_t *ppm)
{
	if (r->val && config_parse_rate(r->val, ppm) != 0)
		cfg_note(ld, r->line, false, "verify: '%.40s' is not a rate from 0 to 1", r->val);
}

#define TTL_MAX 2592000
static const char ttl_why[] = " (above 30 days memcached reads a ttl as an absolute unix time)";

/* Copies the next comma-separated item of *P, trimmed, into BUF.
 * Returns its length, -1 at the end of the list, -2 when it does not fit. */
static int next_item(const char **p, char *buf, size_t cap)
{
	const char *s = *p;
	if (!s)
		return -1;
	const char *comma = strchr(s, ',');
	const char *e = comma ? comma : s + strlen(s);
	*p = comma ? comma + 1 : NULL;
	while (s < e && c_space((unsigned char)*s))
		s++;
	while (e > s && c_space((unsigned char)e[-1]))
		e--;
	size_t n = (size_t)(e - s);
	if (n >= cap)
		return -2;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return (int)n;
}

static const char *check_server(const char *item, struct txc_server *sv)
{
	if (item[0] == '/') {
		size_t n = strlen(item);
		if (n >= 108) /* sun_path */
			return "socket path longer than 107 bytes";
		memcpy(sv->host, item, n + 1);
		sv->is_socket = true;
		return NULL;
	}
	if (item[strcspn(item, " \t")])
		return "separate servers with ','";
	if (item[0] == '[' || strchr(item, ':') != strrchr(item, ':'))
		return "IPv6 addresses are not supported; use a host name or a socket path";
	const char *colon = strchr(item, ':');
	size_t hlen = colon ? (size_t)(colon - item) : strlen(item);
	if (hlen == 0)
		return "the host is missing";
	for (size_t i = 0; i < hlen; i++) {
		char c = item[i];
		if (!c_alnum((unsigned char)c) && c != '.' && c != '-' && c != '_')
			return "bad character in host name";
	}
	uint64_t port = 11211;
	if (colon && (!parse_u64(colon + 1, &port) || port < 1 || port > 65535))
		return "port must be a number 1..65535";
	memcpy(sv->host, item, hlen);
	sv->host[hlen] = '\0';
	sv->port = (unsigned)port;
	return NULL;
}

static void check_servers(struct loader *ld, const struct raw *r)
{
	struct txc_config *cfg = ld->cfg;
	const char *p = r->val;
	char item[300];
	int n;
	if (!r->val) {
		cfg_note(ld, 0, false, "no servers: [cache] servers is required");
		return;
	}
	while ((n = next_item(&p, item, sizeof(item))) != -1) {
		if (n == -2) {
			cfg_note(ld, r->line, false, "servers: entry longer than 255 bytes");
			continue;
		}
		if (n == 0) {
			cfg_note(ld, r->line, false, "servers: empty entry");
			continue;
		}
		if (cfg->nservers == TXC_MAX_SERVERS) {
			cfg_note(ld, r->line, false, "servers: more than %d servers",
				 TXC_MAX_SERVERS);
			return;
		}
		struct txc_server *sv = &cfg->servers[cfg->nservers];
		memset(sv, 0, sizeof(*sv));
		const char *why = check_server(item, sv);
		if (why)
			cfg_note(ld, r->line, false, "servers: '%.64s': %s", item, why);
		else
			cfg->nservers++;
	}
}

bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
			*out = strcasecmp(s, yes[i]) == 0;
			return true;
		}
	}
	return false;
}

/* errno = restore (a hit sets errno as the real call left it) | keep. */
static void check_errno(struct loader *ld, const struct raw *r, bool *keep)
{
	if (!r->val)
		return;
	if (strcasecmp(r->val, "keep") == 0 || strcasecmp(r->val, "restore") == 0)
		*keep = strcasecmp(r->val, "keep") == 0;
	else
		cfg_note(ld, r->line, false, "errno: '%.40s' is not keep or restore", r->val);
}

static void get_identity(struct loader *ld, const struct raw *r, enum txc_identity *out)
{
	if (!r->val)
		return;
	if (strcmp(r->val, "build-id") == 0)
		*out = TXC_ID_BUILD_ID;
	else if (strcmp(r->val, "soname") == 0)
		*out = TXC_ID_SONAME;
	else
		cfg_note(ld, r->line, false, "identity: '%.40s' is not build-id or soname", r->val);
}

/* ---- cache_if, outs_if, negative_ttl (cond.h) ---- */

/* [cache] negative_ttl: the default of every function's negative_ttl. */
static void check_cache_cond(struct loader *ld)
{
	struct txc_config *cfg = ld->cfg;
	cfg->negative_ttl_set = get_uint(ld, &ld->cache[CK_NEGATIVE_TTL], "negative_ttl", 0,
					 TTL_MAX, ttl_why, &cfg->negative_ttl);
}

static void get_cond(struct loader *ld, const struct raw *r, const char *key,
		     const struct txc_sig *sig, struct txc_cond *out)
{
	char why[256];
	if (r->val && cond_parse(r->val, sig, out, why, sizeof(why)) != 0)
		cfg_note(ld, r->line, false, "%s: %s", key, why);
}

/* cache_if and outs_if are read against the signature; negative_ttl
 * inherits [cache] negative_ttl, else the function's own ttl. */
static void check_fn_cond(struct loader *ld, int i)
{
	struct txc_fn_config *fc = &ld->cfg->fns[i];
	const struct raw *k = ld->raw[i].k;
	if (ld->raw[i].sig_ok) {
		get_cond(ld, &k[FK_CACHE_IF], "cache_if", &fc->sig, &fc->cache_if);
		get_cond(ld, &k[FK_OUTS_IF], "outs_if", &fc->sig, &fc->outs_if);
	}
	fc->negative_ttl = ld->cfg->negative_ttl_set ? ld->cfg->negative_ttl : fc->ttl;
	get_uint(ld, &k[FK_NEGATIVE_TTL], "negative_ttl", 0, TTL_MAX, ttl_why, &fc->negative_ttl);
	if (k[FK_NEGATIVE_TTL].val && !k[FK_OUTS_IF].val)
		cfg_note(ld, k[FK_NEGATIVE_TTL].line, true,
			 "negative_ttl: has no effect without outs_if");
}

static void check_cache(struct loader *ld)
{
	struct txc_config *cfg = ld->cfg;
	const struct raw *k = ld->cache;
	check_servers(ld, &k[CK_SERVERS]);
	if (k[CK_NAMESPACE].val) {
		const char *ns = k[CK_NAMESPACE].val;
		size_t n = strlen(ns), good = strspn(ns, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
							 "abcdefghijklmnopqrstuvwxyz0123456789_.-");
		if (n == 0 || n >= TXC_NS_MAX || good != n)
			cfg_note(ld, k[CK_NAMESPACE].line, false,
				 "namespace: '%.40s' must be 1..%d bytes of [A-Za-z0-9_.-]", ns,
				 TXC_NS_MAX - 1);
		else
			memcpy(cfg->ns, ns, n + 1);
	}
	get_uint(ld, &k[CK_TTL], "ttl", 0, TTL_MAX, ttl_why, &cfg->ttl);
	get_uint(ld, &k[CK_TIMEOUT], "timeout_ms", 1, 60000, "", &cfg->timeout_ms);
	get_uint(ld, &k[CK_MAXVAL], "max_value", 1024, 134217728, "", &cfg->max_value);
	get_uint(ld, &k[CK_STATS_INTERVAL], "stats_interval", 0, 3600, "", &cfg->stats_interval);
	get_uint(ld, &k[CK_TOMBSTONE_TTL], "tombstone_ttl", 2, 86400, "", &cfg->tombstone_ttl);
	get_uint(ld, &k[CK_MIN_COST], "min_cost_us", 0, 600000000, "", &cfg->min_cost_us);
	get_identity(ld, &k[CK_IDENTITY], &cfg->identity);
	get_rate(ld, &k[CK_VERIFY], &cfg->verify_ppm);
	check_cache_cond(ld);
	if (k[CK_SECRET].val) {
		const char *v = k[CK_SECRET].val;
		if (v[0] != '/' || strlen(v) >= sizeof(cfg->secret_file))
			cfg_note(ld, k[CK_SECRET].line, false,
				 "secret_file: '%.60s' must be an absolute path", v);
		else
			snprintf(cfg->secret_file, sizeof(cfg->secret_file), "%s", v);
	}
	if (k[CK_LOG_FILE].val) {
		const char *v = k[CK_LOG_FILE].val;
		bool named = strcmp(v, "syslog") == 0 || strcmp(v, "stderr") == 0;
		if ((!named && v[0] != '/') || strlen(v) >= sizeof(cfg->log_file))
			cfg_note(ld, k[CK_LOG_FILE].line, false,
				 "log_file: '%.60s' must be an absolute path, syslog or stderr", v);
		else
			snprintf(cfg->log_file, sizeof(cfg->log_file), "%s", v);
	}
	if (k[CK_ENABLED].val && !parse_bool(k[CK_ENABLED].val, &cfg->enabled))
		cfg_note(ld, k[CK_ENABLED].line, false,
			 "enabled: '%.40s' is not yes/no (or true/false, on/off, 1/0)",
			 k[CK_ENABLED].val);
	check_errno(ld, &k[CK_ERRNO], &cfg->errno_keep);
	if (k[CK_LOG].val && config_parse_log_level(k[CK_LOG].val, &cfg->log_level))
		cfg_note(ld, k[CK_LOG].line, false,
			 "log: unknown level '%.40s' (error, warn, info or debug)", k[CK_LOG].val);
}

static void check_ignore(struct loader *ld, const struct raw *r, struct txc_sig *sig)
{
	const char *p = r->val;
	char item[TXC_NAME_MAX];
	int n;
	while ((n = next_item(&p, item, sizeof(item))) != -1) {
		/* -2: ITEM was not filled in; no parameter name is that long */
		int j = n > 0 ? sig_find_param(sig, item) : -1;
		if (n == -2) {
			cfg_note(ld, r->line, false, "ignore: name longer than 63 bytes");
		} else if (n == 0) {
			cfg_note(ld, r->line, false, "ignore: empty entry");
		} else if (j < 0) {
			cfg_note(ld, r->line, false, "ignore: no parameter named '%s'", item);
		} else if (sig->params[j].kind == TXC_K_INOUT_SCALAR && sig->params[j].keyed) {
			sig->params[j].keyed = false; /* its value on entry; NULL-ness stays */
		} else if (!sig_param_keyed(&sig->params[j])) {
			enum txc_kind kd = sig->params[j].kind;
			cfg_note(
			    ld, r->line, false,
			    kd == TXC_K_SCALAR || kd == TXC_K_STRING || kd == TXC_K_BYTES ||
				    kd == TXC_K_SYMPTR || sig_kind_is_file(kd) ||
				    kd == TXC_K_INOUT_SCALAR
				? "ignore: '%s' is listed twice"
				: "ignore: '%s' is not keyed (only scalar, string, bytes, inout, "
				  "symptr and file parameters are)",
			    item);
		} else {
			sig->params[j].keyed = false;
		}
	}
}

static void check_names(struct loader *ld, const struct raw *r, const char *key, char *dst,
			size_t cap)
{
	size_t n = strlen(r->val);
	bool bad = n == 0;
	for (size_t i = 0; i < n; i++)
		bad |= (unsigned char)r->val[i] <= ' ' || r->val[i] == 0x7f;
	if (bad)
		cfg_note(ld, r->line, false, "%s: must be a non-empty name without spaces", key);
	else if (n >= cap)
		cfg_note(ld, r->line, false, "%s: longer than %zu bytes", key, cap - 1);
	else
		memcpy(dst, r->val, n + 1);
}

/* A cached function the capture layer wraps, with an out fd or out
 * stream: its closure would call libc directly, whose own writes the
 * capture never sees, so a hit would write nothing (capture_names.h). A
 * mutator captures nothing and may be any function. */
static void check_writer(struct loader *ld, int i)
{
	const struct txc_sig *sig = &ld->cfg->fns[i].sig;
	int line = ld->raw[i].k[FK_SIGNATURE].line;
	if (!ld->raw[i].sig_ok || ld->cfg->fns[i].ninval > 0 || !capture_wraps_name(sig->name))
		return;
	for (int k = 0; k < sig->nparams; k++) {
		const struct txc_param *p = &sig->params[k];
		if (sig_param_is_capture(p)) {
			cfg_note(ld, line, false,
				 "signature: %s is one of the writers the capture layer wraps: "
				 "its output to out %s '%s' cannot be captured, so it cannot be "
				 "cached",
				 sig->name, p->kind == TXC_K_OUT_FD ? "fd" : "stream", p->name);
			return;
		}
	}
}

static void check_fn(struct loader *ld, int i)
{
	struct txc_fn_config *fc = &ld->cfg->fns[i];
	struct raw_fn *rf = &ld->raw[i];
	const struct raw *k = rf->k;
	char err[256];
	struct txc_sig sig;
	if (!k[FK_SIGNATURE].val) {
		cfg_note(ld, fc->line, false, "[function %s]: signature is required", fc->sig.name);
	} else if (sig_parse_types(k[FK_SIGNATURE].val, rf->sig_from_catalogue ? NULL : &ld->types,
				   &sig, err, sizeof(err))) {
		cfg_note(ld, k[FK_SIGNATURE].line, false, "signature: %s", err);
	} else if (strcmp(sig.name, fc->sig.name) != 0) {
		cfg_note(ld, k[FK_SIGNATURE].line, false,
			 "signature: function '%s' does not match the section [function %s]",
			 sig.name, fc->sig.name);
	} else {
		fc->sig = sig;
		rf->sig_ok = true;
	}
	fc->ttl = ld->cfg->ttl;
	fc->identity = ld->cfg->identity;
	get_identity(ld, &k[FK_IDENTITY], &fc->identity);
	get_uint(ld, &k[FK_TTL], "ttl", 0, TTL_MAX, ttl_why, &fc->ttl);
	if (rf->sig_ok && k[FK_IGNORE].val)
		check_ignore(ld, &k[FK_IGNORE], &fc->sig);
	check_fn_cond(ld, i);
	fc->min_cost_us = ld->cfg->min_cost_us;
	get_uint(ld, &k[FK_MIN_COST], "min_cost_us", 0, 600000000, "", &fc->min_cost_us);
	fc->verify_ppm = ld->cfg->verify_ppm;
	get_rate(ld, &k[FK_VERIFY], &fc->verify_ppm);
	fc->local_entries = 1024;
	fc->lock_timeout_ms = 5000;
	get_uint(ld, &k[FK_LOCAL_TTL], "local_ttl", 0, 86400, "", &fc->local_ttl);
	get_uint(ld, &k[FK_LOCAL_ENTRIES], "local_entries", 1, 1000000, "", &fc->local_entries);
	get_uint(ld, &k[FK_LOCK_TIMEOUT], "lock_timeout_ms", 1, 600000, "", &fc->lock_timeout_ms);
	fc->errno_keep = ld->cfg->errno_keep;
	check_errno(ld, &k[FK_ERRNO], &fc->errno_keep);
	if (k[FK_LOCK].val && !parse_bool(k[FK_LOCK].val, &fc->lock))
		cfg_note(ld, k[FK_LOCK].line, false, "lock: '%.40s' is not yes/no", k[FK_LOCK].val);
	if (k[FK_VERSION].val)
		check_names(ld, &k[FK_VERSION], "version", fc->version, sizeof(fc->version));
	if (k[FK_LIBRARY].val)
		check_names(ld, &k[FK_LIBRARY], "library", fc->library, sizeof(fc->library));
}

/* sasl_user and sasl_password_file: both or neither. libmemcached
 * authenticates TCP connections only: a socket server would be sent every
 * request unauthenticated (and its binary incr asserts on the refusal). */
static void check_sasl(struct loader *ld)
{
	struct txc_config *cfg = ld->cfg;
	const struct raw *u = &ld->cache[CK_SASL_USER], *f = &ld->cache[CK_SASL_PWFILE];
	if (u->val && !f->val)
		cfg_note(ld, u->line, false, "sasl_user: needs sasl_password_file");
	if (f->val && !u->val)
		cfg_note(ld, f->line, false, "sasl_password_file: needs sasl_user");
	if (u->val)
		check_names(ld, u, "sasl_user", cfg->sasl_user, sizeof(cfg->sasl_user));
	if (f->val && (f->val[0] != '/' || strlen(f->val) >= sizeof(cfg->sasl_password_file)))
		cfg_note(ld, f->line, false, "sasl_password_file: '%.60s' must be an absolute path",
			 f->val);
	else if (f->val)
		snprintf(cfg->sasl_password_file, sizeof(cfg->sasl_password_file), "%s", f->val);
	for (int i = 0; u->val && i < cfg->nservers; i++)
		if (cfg->servers[i].is_socket)
			cfg_note(ld, u->line, false,
				 "sasl_user: server %.100s is a unix socket; libmemcached "
				 "authenticates only TCP connections",
				 cfg->servers[i].host);
	if (!u->val || !f->val) { /* both or neither reach the store */
		cfg->sasl_user[0] = '\0';
		cfg->sasl_password_file[0] = '\0';
	}
}

void config_check_all(struct loader *ld)
{
	if (!ld->is_catalogue) { /* a catalogue file has no [cache]: no servers */
		check_cache(ld);
		check_sasl(ld);
	}
	for (int i = 0; i < ld->cfg->nfns; i++)
		check_fn(ld, i);
	for (int i = -1; i < ld->cfg->nfns; i++) /* after check_fn: ttl is known */
		config_check_fresh(ld, i);
	for (int i = 0; i < ld->cfg->nfns; i++)
		config_check_invalidates(ld, i);
	for (int i = 0; i < ld->cfg->nfns; i++)
		check_writer(ld, i);
	config_check_world(ld);
	config_check_modes(ld);
}

/* ---- stale, refresh, beta (fresh.h) ---- */

/* beta = FLOAT: above 0, at most 1e6; plain decimal ("1", "0.5", "2e3").
 * True when a value was set. */
static bool get_beta(struct loader *ld, const struct raw *r, double *beta)
{
	const char *s = r->val;
	char *end;
	if (!s)
		return false;
	errno = 0;
	double v = strspn(s, "0123456789.eE+-") == strlen(s) && (c_digit(*s) || *s == '.')
		       ? strtod(s, &end)
		       : -1;
	if (v <= 0 || v > 1e6 || v != v || *end || errno == ERANGE) {
		cfg_note(ld, r->line, false,
			 "beta: '%.40s' is not a number above 0 and at most 1000000", s);
		return false;
	}
	*beta = v;
	return true;
}

/* refresh = expiry (default: recompute once the value is stale or gone)
 * | early (XFetch: sometimes before). */
static void get_refresh(struct loader *ld, const struct raw *r, bool *early)
{
	if (!r->val)
		return;
	if (strcmp(r->val, "early") == 0 || strcmp(r->val, "expiry") == 0)
		*early = strcmp(r->val, "early") == 0;
	else
		cfg_note(ld, r->line, false, "refresh: '%.40s' is not early or expiry", r->val);
}

/* One section's three keys in K (the [cache] ones or a function's). */
static void get_fresh(struct loader *ld, const struct raw *k, int ks, int kr, int kb, uint32_t ttl,
		      uint32_t *stale, bool *early, double *beta)
{
	get_uint(ld, &k[ks], "stale", 0, TTL_MAX, ttl_why, stale);
	get_refresh(ld, &k[kr], early);
	if (get_beta(ld, &k[kb], beta) && !*early)
		cfg_note(ld, k[kb].line, true, "beta: no effect without refresh = early");
	const struct raw *set = k[ks].val ? &k[ks] : k[kr].val ? &k[kr] : NULL;
	if (set && ttl == 0 && (*stale || *early))
		cfg_note(ld, set->line, true,
			 "%s: no effect with ttl = 0 (a value that never expires is never stale)",
			 set == &k[ks] ? "stale" : "refresh");
}

void config_check_fresh(struct loader *ld, int fn)
{
	struct txc_config *cfg = ld->cfg;
	const struct raw *ck = ld->cache;
	if (fn < 0) {
		/* ttl 1: no "ttl = 0" warning here, a function may set its own */
		get_fresh(ld, ck, CK_STALE, CK_REFRESH, CK_BETA, 1, &cfg->stale_s,
			  &cfg->refresh_early, &cfg->beta);
		return;
	}
	struct txc_fn_config *fc = &cfg->fns[fn];
	const struct raw *k = ld->raw[fn].k;
	fc->stale_s = cfg->stale_s;
	fc->refresh_early = cfg->refresh_early;
	fc->beta = cfg->beta;
	get_fresh(ld, k, FK_STALE, FK_REFRESH, FK_BETA, fc->ttl, &fc->stale_s, &fc->refresh_early,
		  &fc->beta);
	/* the item lives ttl + stale seconds: the same 30-day bound as ttl */
	if (fc->ttl && (uint64_t)fc->ttl + fc->stale_s > TTL_MAX) {
		const struct raw *r = k[FK_STALE].val ? &k[FK_STALE]
				      : k[FK_TTL].val ? &k[FK_TTL]
						      : &ck[CK_STALE];
		cfg_note(ld, r->line, false,
			 "stale: ttl %u + stale %u of [function %s] is more than %d s%s", fc->ttl,
			 fc->stale_s, fc->sig.name, TTL_MAX, ttl_why);
	}
}

/* ---- mode ---- */

static void get_mode(struct loader *ld, const struct raw *r, enum txc_mode *out)
{
	if (r->val && config_parse_mode(r->val, out) != 0)
		cfg_note(ld, r->line, false,
			 "mode: '%.40s' is not normal, readonly, recache or off", r->val);
}

/* A mutator is never cached: its calls always reach the real function and
 * always invalidate (skipping that would leave wrong results cached for
 * every process), so no mode applies to it. */
void config_check_modes(struct loader *ld)
{
	struct txc_config *cfg = ld->cfg;
	get_mode(ld, &ld->cache[CK_MODE], &cfg->mode);
	for (int i = 0; i < cfg->nfns; i++) {
		const struct raw *r = &ld->raw[i].k[FK_MODE];
		bool mutator = ld->raw[i].k[FK_INVALIDATES].val != NULL;
		cfg->fns[i].mode = mutator ? TXC_MODE_NORMAL : cfg->mode;
		if (mutator && r->val)
			cfg_note(ld, r->line, false,
				 "mode: %s has invalidates: it is never cached, and it always "
				 "invalidates, so it takes no mode",
				 cfg->fns[i].sig.name);
		else
			get_mode(ld, r, &cfg->fns[i].mode);
	}
}
