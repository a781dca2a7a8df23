/* config.c - the INI file (see config.h), read with inih.
 *
 * Reading is split in two: inih feeds raw key values into per-section slots
 * (checking only syntax, duplicates and unknown keys), then everything is
 * validated at the end, when forward references ([cache] ttl after the
 * functions, invalidates targets defined later) can be resolved. Reports are
 * collected and handed to the caller sorted by line.
 *
 * Our own line reader counts lines, so every report knows its line without
 * INI_HANDLER_LINENO, and it sees the raw lines inih never reports: those
 * too long for inih's buffer, section headers (inih cuts names at 50 bytes and
 * does not call us for empty sections) and lines without '='.
 */
#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "config.h"
#include "err.h"

enum { CK_SERVERS, CK_NAMESPACE, CK_TTL, CK_TIMEOUT, CK_ENABLED, CK_LOG, CK_MAXVAL, CK_COUNT };
enum {
	FK_SIGNATURE,
	FK_TTL,
	FK_IGNORE,
	FK_CACHE_IF,
	FK_INVALIDATES,
	FK_VERSION,
	FK_LIBRARY,
	FK_COUNT
};

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
};

struct cfg_note {
	int line, seq;
	bool warning;
	char *msg;
};

enum line_kind { LK_BLANK, LK_KEY, LK_CONT };
enum section { SEC_NONE, SEC_CACHE, SEC_FN, SEC_SKIP };

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

	struct cfg_note *notes;
	int nnotes, notecap, dropped;
	int nerrors;
	bool oom;
};

static const struct keydef cache_keys[CK_COUNT] = {
    [CK_SERVERS] = {"servers", true},	[CK_NAMESPACE] = {"namespace", false},
    [CK_TTL] = {"ttl", false},		[CK_TIMEOUT] = {"timeout_ms", false},
    [CK_ENABLED] = {"enabled", false},	[CK_LOG] = {"log", false},
    [CK_MAXVAL] = {"max_value", false},
};

static const struct keydef fn_keys[FK_COUNT] = {
    [FK_SIGNATURE] = {"signature", true},     [FK_TTL] = {"ttl", false},
    [FK_IGNORE] = {"ignore", true},	      [FK_CACHE_IF] = {"cache_if", false},
    [FK_INVALIDATES] = {"invalidates", true}, [FK_VERSION] = {"version", false},
    [FK_LIBRARY] = {"library", false},
};

#define VALUE_MAX 65536 /* a joined multi-line value */
#define NOTES_MAX 1000	/* reports kept; a garbage file must not eat memory */
#define FNS_MAX	  4096

/* Records one report; returns TXC_ECONFIG so error paths can return it. */
static int cfg_note(struct loader *ld, int line, bool warning, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int cfg_note(struct loader *ld, int line, bool warning, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!warning)
		ld->nerrors++;
	if (ld->nnotes == NOTES_MAX) {
		ld->dropped++;
		return TXC_ECONFIG;
	}
	if (ld->nnotes == ld->notecap) {
		int cap = ld->notecap ? ld->notecap * 2 : 16;
		struct cfg_note *n = realloc(ld->notes, sizeof(*n) * (size_t)cap);
		if (n) {
			ld->notes = n;
			ld->notecap = cap;
		}
	}
	char *copy = ld->nnotes < ld->notecap ? strdup(msg) : NULL;
	if (!copy) { /* out of memory: at least say it now, out of order */
		if (ld->report)
			ld->report(ld->rctx, ld->name, line, warning, msg);
		return TXC_ECONFIG;
	}
	ld->notes[ld->nnotes] = (struct cfg_note){line, ld->nnotes, warning, copy};
	ld->nnotes++;
	return TXC_ECONFIG;
}

static int note_cmp(const void *a, const void *b)
{
	const struct cfg_note *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void flush_notes(struct loader *ld)
{
	if (ld->nnotes > 1)
		qsort(ld->notes, (size_t)ld->nnotes, sizeof(ld->notes[0]), note_cmp);
	for (int i = 0; i < ld->nnotes; i++) {
		if (ld->report)
			ld->report(ld->rctx, ld->name, ld->notes[i].line, ld->notes[i].warning,
				   ld->notes[i].msg);
		free(ld->notes[i].msg);
	}
	if (ld->dropped && ld->report) {
		char msg[64];
		snprintf(msg, sizeof(msg), "%d more problems not shown", ld->dropped);
		ld->report(ld->rctx, ld->name, ld->lineno, false, msg);
	}
	free(ld->notes);
	ld->notes = NULL;
	ld->nnotes = ld->notecap = 0;
}

/* ASCII classes: <ctype.h> follows the host program's locale. */
static bool c_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool c_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool c_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool c_alnum(int c)
{
	return c_alpha(c) || c_digit(c);
}

static bool c_xdigit(int c)
{
	return c_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* ---- reading lines ---- */

static int next_byte(struct loader *ld)
{
	if (ld->fp) {
		int c = getc(ld->fp);
		if (c == EOF && ferror(ld->fp) && !ld->read_errno)
			ld->read_errno = errno ? errno : EIO;
		return c;
	}
	if (!*ld->text)
		return EOF;
	return (unsigned char)*ld->text++;
}

/* Called before each read, when inih is done with the previous line: a
 * key line the handler never saw had no '=' (inih skips it silently). */
static void finish_line(struct loader *ld)
{
	if (ld->kind == LK_KEY && !ld->handled)
		cfg_note(ld, ld->lineno, false, "expected 'key = value'");
	ld->kind = LK_BLANK;
}

static bool is_ident(const char *s, size_t n)
{
	if (n == 0 || !c_alpha((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!c_alnum((unsigned char)s[i]))
			return false;
	return true;
}

static int add_function(struct loader *ld, const char *name, size_t n)
{
	struct txc_config *cfg = ld->cfg;
	char fname[TXC_NAME_MAX];
	if (n >= TXC_NAME_MAX || !is_ident(name, n)) {
		cfg_note(ld, ld->lineno, false,
			 n >= TXC_NAME_MAX ? "[function %.*s...]: name longer than 63 bytes"
					   : "[function %.*s]: not a C identifier",
			 n > 64 ? 64 : (int)n, name);
		return -1;
	}
	memcpy(fname, name, n);
	fname[n] = '\0';
	int dup = config_find_fn(cfg, fname);
	if (dup >= 0) {
		cfg_note(ld, ld->lineno, false,
			 "duplicate section [function %s] (first on line %d)", fname,
			 cfg->fns[dup].line);
		return -1;
	}
	if (cfg->nfns == FNS_MAX) {
		cfg_note(ld, ld->lineno, false, "more than %d functions", FNS_MAX);
		return -1;
	}
	if (cfg->nfns == ld->fncap) {
		int cap = ld->fncap ? ld->fncap * 2 : 8;
		struct txc_fn_config *f = realloc(cfg->fns, sizeof(*f) * (size_t)cap);
		if (f)
			cfg->fns = f;
		struct raw_fn *r = f ? realloc(ld->raw, sizeof(*r) * (size_t)cap) : NULL;
		if (!r) {
			ld->oom = true;
			return -1;
		}
		ld->raw = r;
		ld->fncap = cap;
	}
	struct txc_fn_config *fc = &cfg->fns[cfg->nfns];
	memset(fc, 0, sizeof(*fc));
	memset(&ld->raw[cfg->nfns], 0, sizeof(ld->raw[0]));
	memcpy(fc->sig.name, fname, n + 1);
	fc->line = ld->lineno;
	return cfg->nfns++;
}

static void enter_section(struct loader *ld, const char *s, size_t n)
{
	while (n > 0 && c_space((unsigned char)*s))
		s++, n--;
	while (n > 0 && c_space((unsigned char)s[n - 1]))
		n--;
	ld->sec = SEC_SKIP;
	if (n == 5 && memcmp(s, "cache", 5) == 0) {
		if (ld->cache_line)
			cfg_note(ld, ld->lineno, false,
				 "duplicate section [cache] (first on line %d)", ld->cache_line);
		else
			ld->sec = SEC_CACHE, ld->cache_line = ld->lineno;
		return;
	}
	if (n >= 8 && memcmp(s, "function", 8) == 0 && (n == 8 || c_space((unsigned char)s[8]))) {
		const char *name = s + 8;
		size_t m = n - 8;
		while (m > 0 && c_space((unsigned char)*name))
			name++, m--;
		if (m == 0) {
			cfg_note(ld, ld->lineno, false, "[function]: the function name is missing");
			return;
		}
		ld->fn = add_function(ld, name, m);
		if (ld->fn >= 0)
			ld->sec = SEC_FN;
		return;
	}
	cfg_note(ld, ld->lineno, false,
		 "unknown section [%.*s] (expected [cache] or [function NAME])",
		 n > 64 ? 64 : (int)n, s);
}

/* Mirrors inih's view of the line (comment, continuation, section, key). */
static void classify(struct loader *ld, const char *line)
{
	const char *s = line;
	if (ld->lineno == 1 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (c_space((unsigned char)*s))
		s++;
	ld->is_cont = false;
	if (!*s || *s == ';' || *s == '#')
		return;
	if (ld->have_prev && s > line) {
		ld->kind = LK_CONT;
		ld->is_cont = true;
		return;
	}
	if (*s != '[') {
		ld->kind = LK_KEY;
		return;
	}
	const char *p = s + 1;
	bool was_space = false;
	while (*p && *p != ']' && !(was_space && *p == ';')) {
		was_space = c_space((unsigned char)*p);
		p++;
	}
	if (*p != ']') {
		cfg_note(ld, ld->lineno, false, "section header without ']'");
		ld->sec = SEC_SKIP; /* inih would keep the previous section */
		return;
	}
	const char *rest = p + 1;
	while (c_space((unsigned char)*rest))
		rest++;
	if (*rest && *rest != ';' && *rest != '#')
		cfg_note(ld, ld->lineno, false, "text after ']'");
	ld->have_prev = false;
	ld->cur = NULL;
	enter_section(ld, s + 1, (size_t)(p - s - 1));
}

/* The ini_reader: one physical line per call, like fgets, but counting
 * lines and refusing lines that would not fit inih's buffer of NUM bytes. */
static char *cfg_reader(char *str, int num, void *stream)
{
	struct loader *ld = stream;
	finish_line(ld);
	if (num < 4)
		return NULL;
	size_t cap = (size_t)num - 1, n = 0;
	bool nul = false;
	int c;
	while ((c = next_byte(ld)) != EOF) {
		if (c == '\0')
			nul = true;
		if (n < cap)
			str[n] = (char)c;
		n++;
		if (c == '\n')
			break;
	}
	if (n == 0)
		return NULL;
	ld->lineno++;
	ld->handled = false;
	if (n > cap || nul) {
		if (n > cap)
			cfg_note(ld, ld->lineno, false, "line longer than %d bytes", num - 3);
		else
			cfg_note(ld, ld->lineno, false, "NUL byte in line");
		str[0] = '\0'; /* inih takes an empty line as a comment */
		return str;
	}
	str[n] = '\0';
	classify(ld, str);
	return str;
}

/* ---- collecting values ---- */

static void continue_value(struct loader *ld, const char *value)
{
	struct raw *r = ld->cur;
	if (!r)
		return; /* continues a key already reported */
	if (!ld->cur_multi) {
		cfg_note(ld, ld->lineno, false, "'%s' cannot continue on the next line",
			 ld->cur_key);
		ld->cur = NULL;
		return;
	}
	size_t a = strlen(r->val), b = strlen(value);
	if (a + b + 2 > VALUE_MAX) {
		cfg_note(ld, ld->lineno, false, "'%s' is longer than %d bytes", ld->cur_key,
			 VALUE_MAX);
		ld->cur = NULL;
		return;
	}
	char *v = realloc(r->val, a + b + 2);
	if (!v) {
		ld->oom = true;
		return;
	}
	v[a] = ' ';
	memcpy(v + a + 1, value, b + 1);
	r->val = v;
}

static int on_value(void *user, const char *section, const char *name, const char *value)
{
	struct loader *ld = user;
	(void)section; /* ours is exact; inih's is cut at 50 bytes */
	ld->handled = true;
	ld->have_prev = true;
	if (ld->is_cont) {
		continue_value(ld, value);
		return 1;
	}
	ld->cur = NULL;
	const struct keydef *defs = cache_keys;
	struct raw *slots = ld->cache;
	int nkeys = CK_COUNT;
	if (ld->sec == SEC_NONE) {
		cfg_note(ld, ld->lineno, false, "key '%s' outside of any section", name);
		return 1;
	}
	if (ld->sec == SEC_SKIP)
		return 1;
	if (ld->sec == SEC_FN) {
		defs = fn_keys;
		slots = ld->raw[ld->fn].k;
		nkeys = FK_COUNT;
	}
	int k = 0;
	while (k < nkeys && strcmp(defs[k].name, name) != 0)
		k++;
	if (k == nkeys) {
		cfg_note(ld, ld->lineno, true, "unknown key '%s' in [%s]", name,
			 ld->sec == SEC_FN ? "function" : "cache");
	} else if (slots[k].val) {
		cfg_note(ld, ld->lineno, false, "duplicate key '%s' (first on line %d)", name,
			 slots[k].line);
	} else if (!(slots[k].val = strdup(value))) {
		ld->oom = true;
	} else {
		slots[k].line = ld->lineno;
		ld->cur = &slots[k];
		ld->cur_multi = defs[k].multi;
		ld->cur_key = defs[k].name;
	}
	return 1;
}

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

static bool parse_bool(const char *s, bool *out)
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
	if (k[CK_ENABLED].val && !parse_bool(k[CK_ENABLED].val, &cfg->enabled))
		cfg_note(ld, k[CK_ENABLED].line, false,
			 "enabled: '%.40s' is not yes/no (or true/false, on/off, 1/0)",
			 k[CK_ENABLED].val);
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
		int j = n > 0 ? sig_find_param(sig, item) : -1;
		if (n == 0) {
			cfg_note(ld, r->line, false, "ignore: empty entry");
		} else if (j < 0) {
			cfg_note(ld, r->line, false, "ignore: no parameter named '%s'", item);
		} else if (!sig_param_keyed(&sig->params[j])) {
			enum txc_kind kd = sig->params[j].kind;
			cfg_note(ld, r->line, false,
				 kd == TXC_K_SCALAR || kd == TXC_K_STRING || kd == TXC_K_BYTES
				     ? "ignore: '%s' is listed twice"
				     : "ignore: '%s' is not keyed (only scalar, string and bytes "
				       "parameters are)",
				 item);
		} else {
			sig->params[j].keyed = false;
		}
		if (n == -2)
			cfg_note(ld, r->line, false, "ignore: name longer than 63 bytes");
	}
}

/* Parses an integer literal (decimal or 0x hex, optional sign) or a float. */
static bool parse_literal(const char *s, struct txc_cond *c)
{
	const char *p = s;
	bool neg = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	int base = p[0] == '0' && (p[1] == 'x' || p[1] == 'X') ? 16 : 10;
	const char *d = base == 16 ? p + 2 : p;
	uint64_t v = 0;
	size_t nd = 0;
	for (; c_xdigit((unsigned char)d[nd]) && (base == 16 || c_digit((unsigned char)d[nd]));
	     nd++) {
		unsigned x = c_digit((unsigned char)d[nd]) ? (unsigned)(d[nd] - '0')
							   : (unsigned)((d[nd] | 0x20) - 'a' + 10);
		if (v > (UINT64_MAX - x) / (unsigned)base)
			return false;
		v = v * (unsigned)base + x;
	}
	if (nd > 0 && d[nd] == '\0') {
		if (v > (uint64_t)INT64_MAX + neg)
			return false;
		c->is_int = true;
		c->inum =
		    neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
		c->num = (double)c->inum;
		return true;
	}
	if (base == 16 || strspn(p, "0123456789.eE+-") != strlen(p) ||
	    !c_digit((unsigned char)(p[0] == '.' ? p[1] : p[0])))
		return false;
	char *end;
	errno = 0;
	double x = strtod(s, &end);
	if (*end || errno == ERANGE)
		return false;
	c->num = x;
	return true;
}

static const char *check_cond(const char *s, const struct txc_sig *sig, struct txc_cond *c)
{
	static const struct {
		const char *op;
		enum txc_cmp cmp;
	} ops[] = {{"==", TXC_CMP_EQ}, {"!=", TXC_CMP_NE}, {"<=", TXC_CMP_LE},
		   {">=", TXC_CMP_GE}, {"<", TXC_CMP_LT},  {">", TXC_CMP_GT}};
	while (c_space((unsigned char)*s))
		s++;
	if (strncmp(s, "ret", 3) != 0 || c_alnum((unsigned char)s[3]))
		return "expected 'ret OP VALUE'";
	s += 3;
	while (c_space((unsigned char)*s))
		s++;
	size_t i = 0;
	while (i < 6 && strncmp(s, ops[i].op, strlen(ops[i].op)) != 0)
		i++;
	if (i == 6)
		return "expected an operator: == != < <= > >=";
	c->op = ops[i].cmp;
	s += strlen(ops[i].op);
	while (c_space((unsigned char)*s))
		s++;
	if (sig->ret == TXC_R_VOID)
		return "the function returns void";
	bool str = sig->ret != TXC_R_SCALAR;
	if (strcmp(s, "NULL") == 0) {
		if (!str)
			return "NULL needs a string return";
		if (c->op != TXC_CMP_EQ && c->op != TXC_CMP_NE)
			return "NULL only works with == and !=";
		c->is_null = true;
	} else if (!parse_literal(s, c)) {
		return "VALUE must be a number (int, hex 0x.., float) or NULL";
	} else if (str) {
		return "a string return can only be compared with NULL";
	}
	c->set = true;
	return NULL;
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

static void check_fn(struct loader *ld, int i)
{
	struct txc_fn_config *fc = &ld->cfg->fns[i];
	struct raw_fn *rf = &ld->raw[i];
	const struct raw *k = rf->k;
	char err[256];
	struct txc_sig sig;
	if (!k[FK_SIGNATURE].val) {
		cfg_note(ld, fc->line, false, "[function %s]: signature is required", fc->sig.name);
	} else if (sig_parse(k[FK_SIGNATURE].val, &sig, err, sizeof(err))) {
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
	get_uint(ld, &k[FK_TTL], "ttl", 0, TTL_MAX, ttl_why, &fc->ttl);
	if (rf->sig_ok && k[FK_IGNORE].val)
		check_ignore(ld, &k[FK_IGNORE], &fc->sig);
	const char *why;
	if (rf->sig_ok && k[FK_CACHE_IF].val &&
	    (why = check_cond(k[FK_CACHE_IF].val, &fc->sig, &fc->cache_if))) {
		cfg_note(ld, k[FK_CACHE_IF].line, false, "cache_if: %s", why);
		memset(&fc->cache_if, 0, sizeof(fc->cache_if));
	}
	if (k[FK_VERSION].val)
		check_names(ld, &k[FK_VERSION], "version", fc->version, sizeof(fc->version));
	if (k[FK_LIBRARY].val)
		check_names(ld, &k[FK_LIBRARY], "library", fc->library, sizeof(fc->library));
}

/* The class of values a parameter keys by: invalidation copies values as they
 * are, so only parameters with the same portable form can stand for each other. */
static int value_class(const struct txc_param *p)
{
	if (p->kind == TXC_K_STRING)
		return 1;
	if (p->kind == TXC_K_BYTES)
		return 2;
	if (p->kind != TXC_K_SCALAR)
		return 0;
	if (p->type == TXC_T_FLOAT)
		return 3;
	return p->type == TXC_T_DOUBLE ? 4 : 5;
}

static const char *param_desc(const struct txc_param *p)
{
	static const char *const kinds[] = {"?", "string", "bytes", "float", "double"};
	int c = value_class(p);
	return c == 5 ? sig_type_info(p->type)->name : c ? kinds[c] : "not keyable";
}

/* Lists the keyed parameters of SIG ("user, id") into BUF. */
static int keyed_list(const struct txc_sig *sig, char *buf, size_t cap)
{
	int n = 0;
	size_t len = 0;
	buf[0] = '\0';
	for (int i = 0; i < sig->nparams; i++) {
		if (!sig_param_keyed(&sig->params[i]))
			continue;
		int w = snprintf(buf + len, cap - len, "%s%s", n ? ", " : "",
				 sig->params[i].name[0] ? sig->params[i].name : "(unnamed)");
		if (w > 0 && (size_t)w < cap - len)
			len += (size_t)w;
		n++;
	}
	if (n == 0)
		snprintf(buf, cap, "none");
	return n;
}

struct target {
	char name[TXC_NAME_MAX];
	int nargs;
	char args[TXC_MAX_PARAMS][TXC_NAME_MAX];
	bool star;
};

/* Resolves one parsed target T of function I into its inval[]. */
static int resolve_target(struct loader *ld, int i, const struct target *t, int line)
{
	struct txc_fn_config *fc = &ld->cfg->fns[i];
	int ti = config_find_fn(ld->cfg, t->name);
	char list[TXC_MAX_PARAMS * (TXC_NAME_MAX + 2)];
	if (ti < 0)
		return cfg_note(ld, line, false, "invalidates: no [function %s] section", t->name);
	if (ti == i)
		return cfg_note(ld, line, false, "invalidates: %s cannot invalidate itself",
				t->name);
	if (ld->raw[ti].k[FK_INVALIDATES].val)
		return cfg_note(ld, line, false,
				"invalidates: %s has invalidates itself, so it is never cached",
				t->name);
	if (!ld->raw[ti].sig_ok)
		return 0; /* its signature error is reported already */
	if (fc->ninval == TXC_MAX_INVAL)
		return cfg_note(ld, line, false, "invalidates: more than %d targets",
				TXC_MAX_INVAL);
	const struct txc_sig *ts = &ld->cfg->fns[ti].sig;
	struct txc_inval iv = {.target = ti, .all = t->star};
	int nkeyed = keyed_list(ts, list, sizeof(list));
	if (!t->star && t->nargs != nkeyed)
		return cfg_note(
		    ld, line, false,
		    "invalidates: %s takes %d argument%s, one per keyed parameter (%s), "
		    "got %d",
		    t->name, nkeyed, nkeyed == 1 ? "" : "s", list, t->nargs);
	for (int p = 0, a = 0; !t->star && p < ts->nparams; p++) {
		const struct txc_param *tp = &ts->params[p];
		if (!sig_param_keyed(tp))
			continue;
		int j = sig_find_param(&fc->sig, t->args[a]);
		if (j < 0)
			return cfg_note(ld, line, false, "invalidates: %s: no parameter named '%s'",
					t->name, t->args[a]);
		const struct txc_param *mp = &fc->sig.params[j];
		if (value_class(mp) != value_class(tp))
			return cfg_note(
			    ld, line, false, "invalidates: %s: '%s' (%s) cannot stand for %s (%s)",
			    t->name, t->args[a], param_desc(mp),
			    tp->name[0] ? tp->name : "an unnamed parameter", param_desc(tp));
		iv.args[a++] = j;
		iv.nargs = a;
	}
	fc->inval[fc->ninval++] = iv;
	return 0;
}

/* Reads an identifier at *P into BUF; returns false when there is none. */
static bool take_ident(const char **p, char *buf)
{
	const char *s = *p;
	while (c_space((unsigned char)*s))
		s++;
	size_t n = 0;
	while (c_alnum((unsigned char)s[n]))
		n++;
	if (n == 0 || n >= TXC_NAME_MAX || c_digit((unsigned char)s[0]))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*p = s + n;
	return true;
}

/* Parses "f(a, b)" or "f(*)" at *P. Returns NULL or a syntax error. */
static const char *parse_target(const char **p, struct target *t)
{
	memset(t, 0, sizeof(*t));
	if (!take_ident(p, t->name))
		return "expected a function name";
	const char *s = *p + strspn(*p, " \t");
	if (*s != '(')
		return "expected '(' after the function name (use f(*) for every call)";
	s += 1 + strspn(s + 1, " \t");
	if (*s == '*') {
		t->star = true;
		s += 1 + strspn(s + 1, " \t");
	} else if (*s != ')') {
		for (;;) {
			if (t->nargs == TXC_MAX_PARAMS)
				return "too many arguments";
			if (!take_ident(&s, t->args[t->nargs++]))
				return "expected a parameter name or '*'";
			s += strspn(s, " \t");
			if (*s != ',')
				break;
			s++;
		}
	}
	if (*s != ')')
		return "expected ')' ('*' must be the only argument)";
	s++;
	*p = s + strspn(s, " \t");
	return NULL;
}

static int check_invalidates(struct loader *ld, int i)
{
	const struct raw *r = &ld->raw[i].k[FK_INVALIDATES];
	const char *p = r->val;
	struct target t;
	if (!p || !ld->raw[i].sig_ok)
		return 0;
	p += strspn(p, " \t");
	if (!*p)
		return cfg_note(ld, r->line, false, "invalidates: empty value");
	while (*p) {
		const char *why = parse_target(&p, &t);
		if (!why && *p && *p != ',')
			why = "expected ',' between targets";
		if (why)
			return cfg_note(ld, r->line, false, "invalidates: %s", why);
		resolve_target(ld, i, &t, r->line);
		if (*p == ',')
			p++;
	}
	return 0;
}

static void finish_config(struct loader *ld)
{
	check_cache(ld);
	for (int i = 0; i < ld->cfg->nfns; i++)
		check_fn(ld, i);
	for (int i = 0; i < ld->cfg->nfns; i++)
		check_invalidates(ld, i);
}

/* ---- the whole load ---- */

static void loader_free(struct loader *ld)
{
	for (int k = 0; k < CK_COUNT; k++)
		free(ld->cache[k].val);
	for (int i = 0; ld->cfg && i < ld->cfg->nfns; i++)
		for (int k = 0; k < FK_COUNT; k++)
			free(ld->raw[i].k[k].val);
	free(ld->raw);
	ld->raw = NULL;
}

static int run(struct loader *ld, struct txc_config **out)
{
	int rc = ini_parse_stream(cfg_reader, ld, on_value, ld);
	finish_line(ld); /* in case inih stopped before reading to the end */
	if (rc == -2)
		ld->oom = true;
	if (ld->read_errno)
		cfg_note(ld, 0, false, "read error: %s", strerror(ld->read_errno));
	if (!ld->oom)
		finish_config(ld);
	if (ld->oom)
		cfg_note(ld, 0, false, "out of memory");
	flush_notes(ld);
	loader_free(ld);
	if (ld->oom || ld->nerrors) {
		config_free(ld->cfg);
		return ld->oom ? TXC_ENOMEM : TXC_ECONFIG;
	}
	*out = ld->cfg;
	return 0;
}

static int start(struct loader *ld, const char *name, config_report_fn report, void *ctx)
{
	memset(ld, 0, sizeof(*ld));
	ld->name = name ? name : "";
	ld->report = report;
	ld->rctx = ctx;
	ld->cfg = calloc(1, sizeof(*ld->cfg));
	if (!ld->cfg) {
		if (report)
			report(ctx, ld->name, 0, false, "out of memory");
		return TXC_ENOMEM;
	}
	struct txc_config *cfg = ld->cfg;
	snprintf(cfg->path, sizeof(cfg->path), "%s", ld->name);
	snprintf(cfg->ns, sizeof(cfg->ns), "txcache");
	cfg->timeout_ms = 50;
	cfg->enabled = true;
	cfg->log_level = TXC_LOG_WARN;
	cfg->max_value = 1048576;
	return 0;
}

int config_parse_string(const char *text, const char *name, struct txc_config **out,
			config_report_fn report, void *ctx)
{
	struct loader ld;
	*out = NULL;
	int rc = start(&ld, name, report, ctx);
	if (rc)
		return rc;
	ld.text = text ? text : "";
	return run(&ld, out);
}

int config_load(const char *path, struct txc_config **out, config_report_fn report, void *ctx)
{
	*out = NULL;
	FILE *fp = fopen(path, "re");
	if (!fp) {
		char msg[300];
		snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
		if (report)
			report(ctx, path, 0, false, msg);
		return TXC_ECONFIG;
	}
	struct loader ld;
	int rc = start(&ld, path, report, ctx);
	if (rc == 0) {
		ld.fp = fp;
		rc = run(&ld, out);
	}
	fclose(fp);
	return rc;
}

void config_free(struct txc_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->fns);
	free(cfg);
}

int config_find_fn(const struct txc_config *cfg, const char *name)
{
	for (int i = 0; cfg && name && i < cfg->nfns; i++)
		if (strcmp(cfg->fns[i].sig.name, name) == 0)
			return i;
	return -1;
}

int config_parse_log_level(const char *s, int *level)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {{"error", TXC_LOG_ERROR},
		      {"warn", TXC_LOG_WARN},
		      {"warning", TXC_LOG_WARN},
		      {"info", TXC_LOG_INFO},
		      {"debug", TXC_LOG_DEBUG}};
	for (size_t i = 0; s && i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcasecmp(s, levels[i].name) == 0) {
			*level = levels[i].level;
			return 0;
		}
	}
	return TXC_EINVAL;
}
