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
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "config_priv.h"
#include "err.h"
#include "trustpath.h"

static const struct keydef cache_keys[CK_COUNT] = {
    [CK_SERVERS] = {"servers", true},
    [CK_NAMESPACE] = {"namespace", false},
    [CK_TTL] = {"ttl", false},
    [CK_TIMEOUT] = {"timeout_ms", false},
    [CK_ENABLED] = {"enabled", false},
    [CK_LOG] = {"log", false},
    [CK_MAXVAL] = {"max_value", false},
    [CK_SECRET] = {"secret_file", false},
    [CK_STATS_INTERVAL] = {"stats_interval", false},
    [CK_LOG_FILE] = {"log_file", false},
    [CK_ERRNO] = {"errno", false},
    [CK_TOMBSTONE_TTL] = {"tombstone_ttl", false},
    [CK_IDENTITY] = {"identity", false},
    [CK_VERIFY] = {"verify", false},
    [CK_MIN_COST] = {"min_cost_us", false},
    [CK_KEY_ENV] = {"key_env", true},
    [CK_KEY_CWD] = {"key_cwd", false},
    [CK_NEGATIVE_TTL] = {"negative_ttl", false},
    [CK_STALE] = {"stale", false},
    [CK_REFRESH] = {"refresh", false},
    [CK_BETA] = {"beta", false},
    [CK_MODE] = {"mode", false},
    [CK_KEY_LOCALE] = {"key_locale", false},
    [CK_SASL_USER] = {"sasl_user", false},
    [CK_SASL_PWFILE] = {"sasl_password_file", false},
    [CK_INCLUDE] = {"include", true},
};

static const struct keydef fn_keys[FK_COUNT] = {
    [FK_SIGNATURE] = {"signature", true},
    [FK_TTL] = {"ttl", false},
    [FK_IGNORE] = {"ignore", true},
    [FK_CACHE_IF] = {"cache_if", true},
    [FK_INVALIDATES] = {"invalidates", true},
    [FK_VERSION] = {"version", false},
    [FK_LIBRARY] = {"library", false},
    [FK_LOCAL_TTL] = {"local_ttl", false},
    [FK_LOCAL_ENTRIES] = {"local_entries", false},
    [FK_LOCK] = {"lock", false},
    [FK_LOCK_TIMEOUT] = {"lock_timeout_ms", false},
    [FK_ERRNO] = {"errno", false},
    [FK_IDENTITY] = {"identity", false},
    [FK_VERIFY] = {"verify", false},
    [FK_MIN_COST] = {"min_cost_us", false},
    [FK_KEY_ENV] = {"key_env", true},
    [FK_KEY_CWD] = {"key_cwd", false},
    [FK_OUTS_IF] = {"outs_if", true},
    [FK_NEGATIVE_TTL] = {"negative_ttl", false},
    [FK_STALE] = {"stale", false},
    [FK_REFRESH] = {"refresh", false},
    [FK_BETA] = {"beta", false},
    [FK_MODE] = {"mode", false},
    [FK_KEY_LOCALE] = {"key_locale", false},
    [FK_FROM] = {"from", false},
};

static const struct keydef catalogue_keys[CATK_COUNT] = {
    [CATK_LIBRARY] = {"library", false},
    [CATK_DOC] = {"doc", true},
};

int cfg_note(struct loader *ld, int line, bool warning, const char *fmt, ...)
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

/* ---- reading lines ---- */

static int next_byte(struct loader *ld)
{
	if (ld->fp) {
		int c = getc_unlocked(ld->fp); /* the stream is ours alone */
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

static int add_function(struct loader *ld, const char *name, size_t n, int line)
{
	struct txc_config *cfg = ld->cfg;
	char fname[TXC_NAME_MAX];
	if (n >= TXC_NAME_MAX || !is_ident(name, n)) {
		cfg_note(ld, line, false,
			 n >= TXC_NAME_MAX ? "[function %.*s...]: name longer than 63 bytes"
					   : "[function %.*s]: not a C identifier",
			 n > 64 ? 64 : (int)n, name);
		return -1;
	}
	memcpy(fname, name, n);
	fname[n] = '\0';
	int dup = config_find_fn(cfg, fname);
	if (dup >= 0) {
		cfg_note(ld, line, false, "duplicate section [function %s] (first on line %d)",
			 fname, cfg->fns[dup].line);
		return -1;
	}
	if (cfg->nfns == FNS_MAX) {
		cfg_note(ld, line, false, "more than %d functions", FNS_MAX);
		return -1;
	}
	if (cfg->nfns == ld->fncap) {
		/* 32 first: at 4.8 KiB a function, 150 KiB is above malloc's mmap
		 * threshold, so pages no function uses are never touched and
		 * growth is an mremap; from 8 by doubling, start-up copied
		 * every function twice (about 30 page faults for 20) */
		int cap = ld->fncap ? ld->fncap * 2 : 32;
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
	fc->line = line;
	return cfg->nfns++;
}

int config_add_fn(struct loader *ld, const char *name, int line)
{
	return add_function(ld, name, strlen(name), line);
}

static void enter_section(struct loader *ld, const char *s, size_t n)
{
	while (n > 0 && c_space((unsigned char)*s))
		s++, n--;
	while (n > 0 && c_space((unsigned char)s[n - 1]))
		n--;
	ld->sec = SEC_SKIP;
	const char *top = ld->is_catalogue ? "catalogue" : "cache";
	if (n == strlen(top) && memcmp(s, top, n) == 0) {
		if (ld->cache_line)
			cfg_note(ld, ld->lineno, false, "duplicate section [%s] (first on line %d)",
				 top, ld->cache_line);
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
		ld->fn = add_function(ld, name, m, ld->lineno);
		if (ld->fn >= 0)
			ld->sec = SEC_FN;
		return;
	}
	if (!ld->is_catalogue && n == 5 && memcmp(s, "types", 5) == 0) { /* may repeat */
		ld->sec = SEC_TYPES;
		return;
	}
	cfg_note(ld, ld->lineno, false, "unknown section [%.*s] (expected [%s], [function NAME]%s)",
		 n > 64 ? 64 : (int)n, s, top, ld->is_catalogue ? "" : " or [types]");
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
	if (ld->sec == SEC_TYPES) { /* NAME = C scalar type, known to every signature */
		char err[160];
		if (sig_types_add(&ld->types, name, value, err, sizeof(err)) != 0)
			cfg_note(ld, ld->lineno, false, "[types] %s: %s", name, err);
		ld->cur = &ld->types_cur; /* a continued type is an error, not dropped */
		ld->cur_multi = false;
		ld->cur_key = "a [types] entry";
		return 1;
	}
	if (ld->sec == SEC_FN) {
		defs = fn_keys;
		slots = ld->raw[ld->fn].k;
		nkeys = FK_COUNT;
	} else if (ld->is_catalogue) {
		defs = catalogue_keys;
		slots = ld->cat;
		nkeys = CATK_COUNT;
	}
	int k = 0;
	while (k < nkeys && strcmp(defs[k].name, name) != 0)
		k++;
	if (k == nkeys) {
		cfg_note(ld, ld->lineno, true, "unknown key '%s' in [%s]", name,
			 ld->sec == SEC_FN	  ? "function"
			 : defs == catalogue_keys ? "catalogue"
						  : "cache");
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

/* ---- the whole load ---- */

static void loader_free(struct loader *ld)
{
	for (int k = 0; k < CK_COUNT; k++)
		free(ld->cache[k].val);
	for (int k = 0; k < CATK_COUNT; k++)
		free(ld->cat[k].val);
	for (int i = 0; ld->cfg && i < ld->cfg->nfns; i++)
		for (int k = 0; k < FK_COUNT; k++)
			free(ld->raw[i].k[k].val);
	free(ld->raw);
	ld->raw = NULL;
}

/* Reads, completes (catalogue entries) and validates; reports everything. */
static void parse_all(struct loader *ld)
{
	int rc = ini_parse_stream(cfg_reader, ld, on_value, ld);
	finish_line(ld); /* in case inih stopped before reading to the end */
	if (rc == -2)
		ld->oom = true;
	if (ld->read_errno)
		cfg_note(ld, 0, false, "read error: %s", strerror(ld->read_errno));
	if (!ld->oom && !ld->is_catalogue)
		config_include_all(ld);
	if (!ld->oom)
		config_check_all(ld);
	if (ld->oom)
		cfg_note(ld, 0, false, "out of memory");
	flush_notes(ld);
}

static int run(struct loader *ld, struct txc_config **out)
{
	parse_all(ld);
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
	cfg->stats_interval = 5;
	cfg->tombstone_ttl = 60;
	cfg->beta = 1.0;
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

/* Opens PATH as a trusted file (trustpath.h). Returns 0 and *FP, or
 * TXC_ECONFIG after reporting why (line 0). */
static int open_trusted(const char *path, FILE **fpp, config_report_fn report, void *ctx)
{
	char msg[1024]; /* a longer directory name is cut */
	/* one open, checked on its fd: a refused config reads nothing it names */
	int rc, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
		rc = TXC_ECONFIG;
	} else {
		rc = trust_path_check(path, fd, msg, sizeof(msg));
	}
	FILE *fp = rc == 0 ? fdopen(fd, "re") : NULL;
	if (rc == 0 && !fp) {
		snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
		rc = TXC_ECONFIG;
	}
	if (rc != 0) {
		if (fd >= 0)
			close(fd);
		if (report)
			report(ctx, path, 0, false, msg);
		return rc;
	}
	*fpp = fp;
	return 0;
}

int config_load(const char *path, struct txc_config **out, config_report_fn report, void *ctx)
{
	*out = NULL;
	FILE *fp;
	int rc = open_trusted(path, &fp, report, ctx);
	if (rc)
		return rc;
	struct loader ld;
	rc = start(&ld, path, report, ctx);
	if (rc == 0) {
		ld.fp = fp;
		rc = run(&ld, out);
	}
	fclose(fp);
	return rc;
}

int config_read_catalogue(struct loader *sub, const char *path, config_report_fn report, void *ctx)
{
	FILE *fp = NULL;
	memset(sub, 0, sizeof(*sub));
	int rc = open_trusted(path, &fp, report, ctx);
	if (rc == 0)
		rc = start(sub, path, report, ctx);
	if (rc == 0) {
		sub->fp = fp;
		sub->is_catalogue = true;
		parse_all(sub);
		rc = sub->oom ? TXC_ENOMEM : sub->nerrors ? TXC_ECONFIG : 0;
		sub->fp = NULL;
	}
	if (fp)
		fclose(fp);
	return rc;
}

void config_sub_free(struct loader *sub)
{
	loader_free(sub);
	config_free(sub->cfg);
	sub->cfg = NULL;
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

int config_parse_rate(const char *s, uint32_t *ppm)
{
	uint32_t whole = 0, frac = 0, scale = 1000000;
	if (!s || !*s)
		return TXC_EINVAL;
	if (*s == '0' || *s == '1')
		whole = (uint32_t)(*s++ - '0');
	else if (*s != '.')
		return TXC_EINVAL;
	if (*s == '.') {
		if (!c_digit(*++s))
			return TXC_EINVAL;
		for (; c_digit(*s); s++) {
			if (scale == 1)
				return TXC_EINVAL; /* more than 6 decimals */
			scale /= 10;
			frac += (uint32_t)(*s - '0') * scale;
		}
	}
	if (*s || (whole == 1 && frac > 0))
		return TXC_EINVAL;
	*ppm = whole * 1000000 + frac;
	return 0;
}

static const char *const mode_names[] = {
    [TXC_MODE_NORMAL] = "normal",
    [TXC_MODE_READONLY] = "readonly",
    [TXC_MODE_RECACHE] = "recache",
    [TXC_MODE_OFF] = "off",
};

int config_parse_mode(const char *s, enum txc_mode *mode)
{
	for (size_t i = 0; s && i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (strcasecmp(s, mode_names[i]) == 0) {
			*mode = (enum txc_mode)i;
			return 0;
		}
	}
	return TXC_EINVAL;
}

const char *config_mode_name(enum txc_mode mode)
{
	return (unsigned)mode < sizeof(mode_names) / sizeof(mode_names[0]) ? mode_names[mode] : "?";
}
