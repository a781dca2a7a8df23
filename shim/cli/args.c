/* args.c - options, the call named on the command line, argument words. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "args.h"
#include "cli.h"
#include "err.h"

int cli_opts_parse(int argc, char **argv, unsigned allowed, struct cli_opts *o)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"json", no_argument, NULL, 'j'},
	    {"all-server", no_argument, NULL, 'A'},
	    {"replace", no_argument, NULL, 'r'},
	    {"library", required_argument, NULL, 'L'},
	    {NULL, 0, NULL, 0},
	};
	int ch;
	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		unsigned f = ch == 'j'	 ? CLI_OPT_JSON
			     : ch == 'A' ? CLI_OPT_ALL
			     : ch == 'r' ? CLI_OPT_REPLACE
					 : 0;
		if (ch == 'c') {
			o->config = optarg;
		} else if (ch == 'L') {
			o->library = optarg;
		} else if (ch == 'h') {
			cli_usage(stdout);
			exit(EX_OK);
		} else if (f && (allowed & f)) {
			o->flags |= f;
		} else {
			fprintf(stderr, "txcache %s: option not accepted here\n", argv[0]);
			cli_usage(stderr);
			return -1;
		}
	}
	return optind;
}

int cli_exit_of(int err)
{
	switch (err) {
	case TXC_ETIMEOUT:
	case TXC_EUNAVAIL:
	case TXC_ESERVER:
		return EX_UNAVAILABLE;
	case TXC_ENOMEM:
	case TXC_ESYS:
		return EX_OSERR;
	case TXC_ECONFIG:
		return EX_DATAERR;
	default:
		return EX_SOFTWARE;
	}
}

/* Strips C integer suffixes (u, l, ll in any case and order) in place. */
static void strip_suffix(char *s, const char *chars)
{
	size_t n = strlen(s);
	while (n > 1 && strchr(chars, s[n - 1]) && s[0] != '\'')
		s[--n] = '\0';
}

/* Copies WORD into BUF (CAP bytes) for strto*: refuses an empty or long
 * word, and leading white space, which strto* would skip (" -1" would
 * then read as -1, and as 2^64-1 for strtoull). */
static int number_word(const char *word, char *buf, size_t cap)
{
	size_t n = strlen(word);
	if (n == 0 || n >= cap || isspace((unsigned char)word[0]))
		return -1;
	memcpy(buf, word, n + 1);
	return 0;
}

static int parse_int(enum txc_type t, const char *word, uint64_t *out)
{
	char buf[128], *end;
	if (t == TXC_T_BOOL && (!strcmp(word, "true") || !strcmp(word, "false"))) {
		*out = word[0] == 't';
		return 0;
	}
	if (strlen(word) == 3 && word[0] == '\'' && word[2] == '\'') {
		int64_t ch = (char)word[1]; /* a char constant, as C reads it */
		if (!callargs_int_fits(t, (uint64_t)ch, true))
			return -1;
		*out = callargs_from_int(t, (uint64_t)ch);
		return 0;
	}
	if (number_word(word, buf, sizeof(buf)) != 0)
		return -1;
	strip_suffix(buf, "uUlL");
	errno = 0;
	/* strtoull would also take "-1" (as 2^64-1): negatives go to strtoll */
	bool neg = buf[0] == '-';
	uint64_t v = neg ? (uint64_t)strtoll(buf, &end, 0) : strtoull(buf, &end, 0);
	if (errno || end == buf || *end || !callargs_int_fits(t, v, neg))
		return -1;
	*out = callargs_from_int(t, v);
	return 0;
}

/* True when WORD is inf, infinity or nan (any case), with an optional sign. */
static bool nonfinite_word(const char *word)
{
	if (word[0] == '-' || word[0] == '+')
		word++;
	return !strcasecmp(word, "inf") || !strcasecmp(word, "infinity") ||
	       !strcasecmp(word, "nan");
}

/* A float or double: a C literal, or inf/nan spelled out. A literal beyond
 * the type's range is refused: 1e999 is a typo, not a way to say inf. */
static int parse_float(enum txc_type t, const char *word, uint64_t *out)
{
	char buf[128], *end;
	if (number_word(word, buf, sizeof(buf)) != 0)
		return -1;
	bool nonfinite = nonfinite_word(buf);
	if (!nonfinite && strncmp(buf, "0x", 2) && strncmp(buf, "-0x", 3))
		strip_suffix(buf, "fFlL");
	errno = 0;
	double d = strtod(buf, &end);
	if (end == buf || *end)
		return -1;
	if (!nonfinite && (!isfinite(d) || (t == TXC_T_FLOAT && !isfinite((float)d))))
		return -1;
	*out = callargs_from_double(t, d);
	return 0;
}

/* Parses WORD as a value of scalar type T into its portable form. */
static int parse_scalar(enum txc_type t, const char *word, uint64_t *out)
{
	if (sig_type_info(t)->is_float)
		return parse_float(t, word, out);
	return parse_int(t, word, out);
}

/* Hands P to C; returns it, or NULL (P freed) when C is full. */
static void *keep(struct cli_call *c, void *p)
{
	if (c->nowned < (int)(sizeof(c->owned) / sizeof(c->owned[0]))) {
		c->owned[c->nowned++] = p;
		return p;
	}
	free(p);
	return NULL;
}

static int read_file(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t cap = 4096, n = 0;
	uint8_t *b = malloc(cap);
	while (b) {
		n += fread(b + n, 1, cap - n, f);
		if (n < cap)
			break;
		uint8_t *nb = realloc(b, cap *= 2);
		if (!nb)
			free(b);
		b = nb;
	}
	int bad = ferror(f) || !b;
	fclose(f);
	if (bad) {
		free(b);
		return -1;
	}
	*data = b;
	*len = n;
	return 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Bytes from hex, @FILE, NULL or "". Sets *PTR (owned by C) and *LEN. */
static int parse_bytes(struct cli_call *c, const char *word, const void **ptr, uint64_t *len)
{
	static const uint8_t none[1]; /* zero bytes, but not a NULL pointer */
	uint8_t *d;
	size_t n;
	*ptr = NULL;
	*len = 0;
	if (!strcmp(word, "NULL"))
		return 0;
	if (word[0] == '@') {
		if (read_file(word + 1, &d, &n) != 0)
			return -1;
	} else {
		if (!strncmp(word, "0x", 2))
			word += 2;
		n = strlen(word);
		if (n % 2 || !(d = malloc(n / 2 + 1)))
			return -1;
		for (size_t i = 0; i < n / 2; i++) {
			int hi = hexval(word[2 * i]), lo = hexval(word[2 * i + 1]);
			if (hi < 0 || lo < 0) {
				free(d);
				return -1;
			}
			d[i] = (uint8_t)(hi << 4 | lo);
		}
		n /= 2;
	}
	if (n) {
		*ptr = keep(c, d);
	} else {
		free(d);
		*ptr = none;
	}
	*len = n;
	return *ptr ? 0 : -1;
}

static int parse_arg(struct cli_call *c, const struct txc_param *p, const char *word,
		     struct txc_arg *a)
{
	if (p->kind == TXC_K_SCALAR)
		return parse_scalar(p->type, word, &a->num);
	if (p->kind == TXC_K_INOUT_SCALAR) { /* the value it points to on entry, or NULL */
		static const char present = 1;
		a->ptr = strcmp(word, "NULL") ? &present : NULL;
		return a->ptr ? parse_scalar(p->type, word, &a->num) : 0;
	}
	/* a symptr is written as the text the shim keys it by (symptr.h) */
	if (p->kind == TXC_K_STRING || p->kind == TXC_K_SYMPTR || sig_kind_is_file(p->kind)) {
		a->ptr = strcmp(word, "NULL") ? word : NULL;
		a->len = a->ptr ? strlen(word) : 0;
		return 0;
	}
	return parse_bytes(c, word, &a->ptr, &a->len);
}

void cli_param_label(const struct txc_sig *sig, int i, char *buf, size_t cap)
{
	if (sig->params[i].name[0])
		snprintf(buf, cap, "%s", sig->params[i].name);
	else
		snprintf(buf, cap, "param%d", i + 1);
}

static int parse_args(const char *cmd, struct cli_call *c, int nwords, char **words)
{
	const struct txc_sig *sig = c->sig;
	int want = callargs_count(sig), w = 0;
	if (nwords != want) {
		fprintf(stderr, "txcache %s: %s takes %d keyed argument%s, %d given\n", cmd,
			sig->name, want, want == 1 ? "" : "s", nwords);
		return EX_USAGE;
	}
	for (int i = 0; i < sig->nparams; i++) {
		if (!callargs_given(sig, i))
			continue;
		char label[TXC_NAME_MAX + 16];
		cli_param_label(sig, i, label, sizeof(label));
		if (parse_arg(c, &sig->params[i], words[w], &c->args[i]) != 0) {
			fprintf(stderr, "txcache %s: %s: bad value '%s'\n", cmd, label, words[w]);
			return EX_USAGE;
		}
		w++;
	}
	if (callargs_finish(sig, c->args) != 0) {
		fprintf(stderr,
			"txcache %s: a bytes argument's length does not match its LEN, "
			"or is more than the LEN parameter's type can hold\n",
			cmd);
		return EX_USAGE;
	}
	return 0;
}

/* key_locale: the shim keys the locale of the calling thread. The CLI has
 * none of its own (it never calls setlocale), so it keys the locale that
 * setlocale(LC_ALL, "") picks from this environment, as most programs do at
 * start; a name it cannot load leaves "C", as it would in the program. */
static int take_world(const struct txc_fn_config *fc, struct txc_arg *args, struct txc_world *w)
{
	locale_t env = fc->key_locale ? newlocale(LC_ALL_MASK, "", (locale_t)0) : (locale_t)0;
	locale_t old = env ? uselocale(env) : (locale_t)0;
	int rc = world_take(fc, args, w);
	if (env) {
		uselocale(old);
		freelocale(env);
	}
	return rc;
}

int cli_call_open(const char *cmd, const struct cli_opts *o, int nwords, char **words,
		  struct cli_call *c)
{
	memset(c, 0, sizeof(*c));
	c->fn = -1;
	if (nwords < 1) {
		fprintf(stderr, "txcache %s: no FUNCTION given\n", cmd);
		return EX_USAGE;
	}
	int rc = cli_load_config(cli_config_path(o->config), &c->cfg);
	if (rc != 0)
		return rc;
	c->fn = config_find_fn(c->cfg, words[0]);
	if (c->fn < 0) {
		fprintf(stderr, "txcache %s: no function '%s' in %s\n", cmd, words[0],
			c->cfg->path);
		return EX_USAGE;
	}
	c->sig = &c->cfg->fns[c->fn].sig;
	rc = cache_open(c->cfg, &c->cache);
	if (rc != 0) {
		fprintf(stderr, "txcache %s: %s\n", cmd, txc_strerror(rc));
		return cli_exit_of(rc);
	}
	rc = parse_args(cmd, c, nwords - 1, words + 1);
	if (rc == 0)
		rc = cli_call_idents(cmd, o->library, c);
	if (rc == 0 && take_world(&c->cfg->fns[c->fn], c->args, &c->world) != 0) {
		fprintf(stderr,
			"txcache %s: this call cannot be keyed here (key_cwd: no "
			"working directory; key_locale: a locale name too long; or a file "
			"argument is a FIFO or device, unreadable, or too big): the shim "
			"calls it uncached\n",
			cmd);
		rc = EX_DATAERR;
	}
	for (int i = 0; rc == 0 && i < c->nids; i++)
		key_build_world(&c->cache->kf[c->fn], &c->ids[i].digest, c->sig, c->args,
				&c->world.kw, &c->keys[i]);
	if (rc == 0 && c->nids > 0)
		c->key = c->keys[0];
	return rc;
}

void cli_call_close(struct cli_call *c)
{
	for (int i = 0; i < c->nowned; i++)
		free(c->owned[i]);
	cache_close(c->cache);
	config_free(c->cfg);
	memset(c, 0, sizeof(*c));
}

/* The capacity of out-parameter P when the command line fixes it, else 0. */
static uint64_t known_cap(const struct cli_call *c, const struct txc_param *p)
{
	if (p->size.from == TXC_SZ_LITERAL)
		return p->size.literal;
	bool deref = p->size.from == TXC_SZ_DEREF; /* *n: the inout's value given */
	if ((p->size.from != TXC_SZ_PARAM && !deref) || !c->sig->params[p->size.param].keyed ||
	    (deref && !c->args[p->size.param].ptr))
		return 0;
	const struct txc_param *ref = &c->sig->params[p->size.param];
	uint64_t v = c->args[p->size.param].num;
	return sig_type_info(ref->type)->is_signed && (int64_t)v < 0 ? 0 : v;
}

static int parse_out(struct cli_call *c, const struct txc_param *p, const char *word,
		     struct txc_out *o)
{
	o->present = true;
	if (sig_kind_is_out_scalar(p->kind))
		return parse_scalar(p->type, word, &o->num);
	if (p->kind == TXC_K_OUT_STRING) {
		o->data = word;
		o->len = strlen(word);
	} else if (parse_bytes(c, word, &o->data, &o->len) != 0 || !o->data) {
		return -1;
	}
	uint64_t cap = known_cap(c, p);
	if (cap && o->len + (p->kind == TXC_K_OUT_STRING) > cap) {
		fprintf(stderr, "txcache set: %llu bytes do not fit a capacity of %llu\n",
			(unsigned long long)o->len, (unsigned long long)cap);
		return -1;
	}
	/* the value records its capacity; unknown here, it is unbounded (the
	 * value is whole), except out bytes[CAP], which is always CAP bytes */
	o->cap = cap ? cap : UINT64_MAX;
	if (!cap && p->kind == TXC_K_OUT_BYTES && p->len.from == TXC_SZ_NONE)
		o->cap = o->len;
	return 0;
}

static int parse_ret(const struct txc_sig *sig, const char *word, struct txc_result *res)
{
	if (sig->ret == TXC_R_SCALAR)
		return parse_scalar(sig->ret_type, word, &res->ret);
	res->ret_str = strcmp(word, "NULL") ? word : NULL;
	res->ret_len = res->ret_str ? strlen(word) : 0;
	return 0;
}

int cli_result_parse(struct cli_call *c, int nwords, char **words, struct txc_result *res)
{
	const struct txc_sig *sig = c->sig;
	int want = sig->ret != TXC_R_VOID, w = 0;
	for (int i = 0; i < sig->nparams; i++)
		want += sig_param_is_out(&sig->params[i]);
	memset(res, 0, sizeof(*res));
	if (nwords != want) {
		fprintf(stderr, "txcache set: %s takes %d result value%s after --, %d given\n",
			sig->name, want, want == 1 ? "" : "s", nwords);
		return EX_USAGE;
	}
	if (sig->ret != TXC_R_VOID && parse_ret(sig, words[w++], res) != 0) {
		fprintf(stderr, "txcache set: ret: bad value '%s'\n", words[0]);
		return EX_USAGE;
	}
	for (int i = 0; i < sig->nparams; i++) {
		const struct txc_param *p = &sig->params[i];
		if (!sig_param_is_out(p))
			continue;
		if (parse_out(c, p, words[w], &res->out[i]) != 0) {
			char label[TXC_NAME_MAX + 16];
			cli_param_label(sig, i, label, sizeof(label));
			fprintf(stderr, "txcache set: %s: bad value '%s'\n", label, words[w]);
			return EX_USAGE;
		}
		w++;
	}
	return 0;
}
