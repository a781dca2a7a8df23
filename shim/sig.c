/* sig.c - parser and canonical form of the signature language (see sig.h).
 *
 * A hand-written lexer and a flat, non-recursive parser: every loop is
 * bounded by the text length (itself capped at SIG_TEXT_MAX), so the parser
 * can be fed arbitrary bytes.
 *
 * Over 500 lines on purpose: the grammar and its error messages must stay
 * in step, and one file keeps them so. The canonical printer is
 * sig_canon.c, the typedef tables sigtypes.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "fmt.h"
#include "sig.h"
#include "sigtypes.h"

#define SIG_TEXT_MAX 8192
#define SIG_LIT_MAX  (1u << 30) /* largest literal size: keeps buffers sane */

enum tok_kind { TK_END, TK_IDENT, TK_NUM, TK_PUNCT, TK_BAD };

struct tok {
	enum tok_kind kind;
	const char *s;
	size_t len;
};

/* A size as written, resolved once every parameter is known because
 * references may point forward. */
struct size_ref {
	char name[TXC_NAME_MAX]; /* "" for a literal or none */
	int set;
};

struct parser {
	const char *p, *end;
	struct txc_sig *sig;
	const struct txc_sig_types *types; /* [types] of the config, or NULL */
	char *err;
	size_t errcap;
	struct size_ref size[TXC_MAX_PARAMS], len[TXC_MAX_PARAMS];
	/* Error contexts ("parameter 2 (buf): out bytes[cap:ret]") are
	 * formatted only when set: a signature that parses never needs them,
	 * and one that fails is parsed again with it set (sig_parse_types). */
	bool describe;
};

static int fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parser *ps, const char *fmt, ...)
{
	if (ps->errcap > 0) {
		va_list ap;
		va_start(ap, fmt);
		txc_vfmt(ps->err, ps->errcap, fmt, ap);
		va_end(ap);
	}
	return TXC_EINVAL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_punct(char c)
{
	return c == '(' || c == ')' || c == '[' || c == ']' || c == ',' || c == ':' || c == '*';
}

static struct tok lex_peek(const struct parser *ps)
{
	const char *p = ps->p;
	struct tok t = {TK_END, p, 0};

	while (p < ps->end && is_space(*p))
		p++;
	t.s = p;
	if (p >= ps->end)
		return t;
	const char *q = p;
	if (is_alpha(*p)) {
		while (q < ps->end && (is_alpha(*q) || is_digit(*q)))
			q++;
		t.kind = TK_IDENT;
	} else if (is_digit(*p)) {
		while (q < ps->end && (is_alpha(*q) || is_digit(*q)))
			q++;
		t.kind = TK_NUM;
	} else if (is_punct(*p)) {
		q++;
		t.kind = TK_PUNCT;
	} else {
		q++;
		t.kind = TK_BAD;
	}
	t.len = (size_t)(q - p);
	return t;
}

static struct tok lex_next(struct parser *ps)
{
	struct tok t = lex_peek(ps);
	ps->p = t.s + t.len;
	return t;
}

static bool tok_is(struct tok t, const char *word)
{
	if (t.len > 0 && t.s[0] != word[0])
		return false; /* most words differ here: no strlen */
	size_t n = strlen(word);
	return (t.kind == TK_IDENT || t.kind == TK_PUNCT) && t.len == n &&
	       memcmp(t.s, word, n) == 0;
}

/* Accepts the next token when it is WORD. */
static bool lex_accept(struct parser *ps, const char *word)
{
	if (!tok_is(lex_peek(ps), word))
		return false;
	lex_next(ps);
	return true;
}

/* Describes T for an error message, in a static-free caller buffer. */
static const char *tok_desc(struct tok t, char *buf, size_t cap)
{
	if (t.kind == TK_END)
		txc_fmt(buf, cap, "end of text");
	else if (t.kind == TK_BAD && ((unsigned char)*t.s < 0x20 || (unsigned char)*t.s >= 0x7f))
		txc_fmt(buf, cap, "byte 0x%02x", (unsigned char)*t.s);
	else
		txc_fmt(buf, cap, "'%.*s'", t.len > 40 ? 40 : (int)t.len, t.s);
	return buf;
}

enum { W_SIGNED, W_UNSIGNED, W_CHAR, W_SHORT, W_INT, W_LONG, W_COUNT };
static const char *const c_words[W_COUNT] = {"signed", "unsigned", "char", "short", "int", "long"};

static bool is_qual(struct tok t)
{
	return t.kind == TK_IDENT && sigtypes_is_qualifier(t.s, t.len);
}

/* True when T starts a C type: a type word, a typedef name, void, or
 * struct/union/enum. Such a word is never a parameter name. */
static bool is_type_start(const struct parser *ps, struct tok t)
{
	static const char *const words[] = {"void", "struct", "union", "enum"};
	enum txc_type dummy;
	if (t.kind != TK_IDENT)
		return false;
	for (int k = 0; k < W_COUNT; k++)
		if (tok_is(t, c_words[k]))
			return true;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (tok_is(t, words[i]))
			return true;
	return sigtypes_lookup(t.s, t.len, ps->types, &dummy) == 1;
}

/* Words that can never be a name: C's type words and qualifiers. The
 * language's own words (out, string, ret, ...) can: a name is always in
 * a place where no kind can be. */
static bool is_reserved(const struct parser *ps, struct tok t)
{
	return is_type_start(ps, t) || is_qual(t);
}

/* Maps counts of the C type words to a type, or TXC_T_VOID when the
 * combination is not a C type. Order of the words does not matter, as in C. */
static enum txc_type combine_words(const int *w)
{
	if (w[W_SIGNED] > 1 || w[W_UNSIGNED] > 1 || (w[W_SIGNED] && w[W_UNSIGNED]) ||
	    w[W_CHAR] > 1 || w[W_SHORT] > 1 || w[W_INT] > 1 || w[W_LONG] > 2)
		return TXC_T_VOID;
	bool u = w[W_UNSIGNED];
	if (w[W_CHAR]) {
		if (w[W_SHORT] || w[W_INT] || w[W_LONG])
			return TXC_T_VOID;
		return u ? TXC_T_UCHAR : w[W_SIGNED] ? TXC_T_SCHAR : TXC_T_CHAR;
	}
	if (w[W_SHORT])
		return w[W_LONG] ? TXC_T_VOID : u ? TXC_T_USHORT : TXC_T_SHORT;
	if (w[W_LONG] == 2)
		return u ? TXC_T_ULLONG : TXC_T_LLONG;
	if (w[W_LONG] == 1)
		return u ? TXC_T_ULONG : TXC_T_LONG;
	return u ? TXC_T_UINT : TXC_T_INT;
}

/* Parses a scalar type whose first word is FIRST (already consumed).
 * Returns 0 and *T, or 1 when FIRST does not start a scalar type. */
static int parse_scalar(struct parser *ps, const char *ctx, struct tok first, enum txc_type *t)
{
	if (first.kind == TK_IDENT && sigtypes_lookup(first.s, first.len, ps->types, t))
		return 0;
	int w[W_COUNT] = {0};
	struct tok cur = first;
	bool any = false;
	for (;;) {
		int k = 0;
		while (k < W_COUNT && !tok_is(cur, c_words[k]))
			k++;
		if (k == W_COUNT)
			break;
		w[k]++;
		any = true;
		if (first.s != cur.s)
			lex_next(ps);
		cur = lex_peek(ps);
	}
	if (!any)
		return 1;
	*t = combine_words(w);
	enum txc_type other;
	if (cur.kind == TK_IDENT && sigtypes_lookup(cur.s, cur.len, ps->types, &other)) {
		lex_next(ps); /* "long double", "unsigned size_t" */
		*t = TXC_T_VOID;
	}
	if (*t == TXC_T_VOID) {
		size_t n = (size_t)(ps->p - first.s);
		return fail(ps, "%s: unsupported type '%.*s'", ctx, n > 60 ? 60 : (int)n, first.s);
	}
	return 0;
}

static int copy_name(struct parser *ps, struct tok t, char *dst, const char *what)
{
	if (t.kind != TK_IDENT)
		return fail(ps, "%s: expected a name", what);
	if (t.len >= TXC_NAME_MAX)
		return fail(ps, "%s: name '%.20s...' is longer than %d bytes", what, t.s,
			    TXC_NAME_MAX - 1);
	memcpy(dst, t.s, t.len);
	dst[t.len] = '\0';
	return 0;
}

/* "[N]" or "[N:M]" after bytes/string; M only when ALLOW_LEN. */
static int parse_brackets(struct parser *ps, const char *ctx, struct txc_size *sz,
			  struct size_ref *ref, struct txc_size *len, struct size_ref *lref)
{
	char d[64];
	if (!lex_accept(ps, "["))
		return fail(ps, "%s: expected '[' after the type", ctx);
	for (int part = 0; part < 2; part++) {
		struct txc_size *s = part ? len : sz;
		struct size_ref *r = part ? lref : ref;
		struct tok t = lex_next(ps);
		if (t.kind == TK_NUM) {
			uint64_t v = 0;
			for (size_t i = 0; i < t.len; i++) {
				if (!is_digit(t.s[i]))
					return fail(ps, "%s: bad number '%.*s'", ctx,
						    t.len > 30 ? 30 : (int)t.len, t.s);
				if (v <= SIG_LIT_MAX)
					v = v * 10 + (uint64_t)(t.s[i] - '0');
			}
			if (v > SIG_LIT_MAX)
				return fail(ps, "%s: size %.*s is too large (max %u)", ctx,
					    t.len > 30 ? 30 : (int)t.len, t.s, SIG_LIT_MAX);
			s->from = TXC_SZ_LITERAL;
			s->literal = v;
		} else if (tok_is(t, "*")) { /* read through a pointer: "*destLen" */
			if (copy_name(ps, lex_next(ps), r->name, ctx))
				return TXC_EINVAL;
			s->from = TXC_SZ_DEREF;
			r->set = 1;
		} else if (t.kind == TK_IDENT) {
			if (copy_name(ps, t, r->name, ctx))
				return TXC_EINVAL;
			s->from = tok_is(t, "ret") ? TXC_SZ_RET : TXC_SZ_PARAM;
			r->set = 1;
		} else {
			return fail(ps,
				    "%s: expected a size (a parameter name or a number), got %s",
				    ctx, tok_desc(t, d, sizeof(d)));
		}
		if (part == 0 && len && lex_accept(ps, ":"))
			continue;
		break;
	}
	struct tok t = lex_next(ps);
	if (!tok_is(t, "]"))
		return fail(ps, "%s: expected ']', got %s", ctx, tok_desc(t, d, sizeof(d)));
	return 0;
}

/* A C type as a header writes it, before the name: "const Bytef *",
 * "struct z_stream_s *", "z_streamp". */
enum base { B_NONE, B_SCALAR, B_VOID, B_OPAQUE };
struct cdecl {
	enum base base;
	enum txc_type type; /* B_SCALAR */
	int stars;
	bool is_const;	       /* const before the first star: "const char *" */
	bool unknown;	       /* B_OPAQUE from a name no table knows */
	const char *from, *to; /* the text of the base type, for messages */
};

/* Skips qualifiers; true when one of them was const. */
static bool skip_quals(struct parser *ps)
{
	bool c = false;
	while (is_qual(lex_peek(ps)))
		c |= tok_is(lex_next(ps), "const");
	return c;
}

/* The base type of a declarator; B_NONE when the next word is a name. */
static int parse_base(struct parser *ps, const char *ctx, struct cdecl *d)
{
	struct tok t = lex_peek(ps);
	if (is_type_start(ps, t)) {
		lex_next(ps);
		if (tok_is(t, "void")) {
			d->base = B_VOID;
		} else if (tok_is(t, "struct") || tok_is(t, "union") || tok_is(t, "enum")) {
			if (lex_next(ps).kind != TK_IDENT)
				return fail(ps, "%s: expected a name after '%.*s'", ctx, (int)t.len,
					    t.s);
			d->base = B_OPAQUE;
		} else {
			int rc = parse_scalar(ps, ctx, t, &d->type);
			if (rc)
				return rc < 0 ? rc : fail(ps, "%s: unknown type", ctx);
			d->base = B_SCALAR;
		}
	} else if (t.kind == TK_IDENT) {
		/* a typedef no table knows, when a star or a name follows it */
		struct parser la = *ps;
		lex_next(&la);
		struct tok n = lex_peek(&la);
		if (tok_is(n, "*") || n.kind == TK_IDENT) {
			*ps = la;
			d->base = B_OPAQUE;
			d->unknown = true;
		}
	}
	return 0;
}

/* Qualifiers, base type, stars: everything of a declarator but its name. */
static int parse_ctype(struct parser *ps, const char *ctx, struct cdecl *d)
{
	memset(d, 0, sizeof(*d));
	d->is_const = skip_quals(ps);
	d->from = lex_peek(ps).s;
	int rc = parse_base(ps, ctx, d);
	if (rc)
		return rc;
	d->to = ps->p;
	for (;;) {
		bool c = skip_quals(ps);
		if (d->stars == 0)
			d->is_const |= c;
		if (!lex_accept(ps, "*"))
			break;
		d->stars++;
	}
	if (d->stars > 0 && d->base == B_NONE)
		return fail(ps, "%s: '*' without a type", ctx);
	return 0;
}

/* The name after the type, if any: any word but C's type words, so the
 * language's own words (out, string, ret, ...) are names here. */
static int parse_name(struct parser *ps, struct txc_param *pm, int i, const char *ctx)
{
	struct tok t = lex_peek(ps);
	if (t.kind != TK_IDENT)
		return 0;
	if (is_reserved(ps, t))
		return fail(ps, "%s: '%.*s' cannot be a parameter name", ctx, (int)t.len, t.s);
	lex_next(ps);
	if (copy_name(ps, t, pm->name, ctx))
		return TXC_EINVAL;
	for (int j = 0; j < i; j++)
		if (strcmp(ps->sig->params[j].name, pm->name) == 0)
			return fail(ps, "%s: duplicate parameter name '%s'", ctx, pm->name);
	return 0;
}

static bool is_integer(enum txc_type t);

static bool is_char(enum txc_type t)
{
	return t == TXC_T_CHAR || t == TXC_T_SCHAR || t == TXC_T_UCHAR;
}

/* What a kind accepts as the C type after it. */
enum want { WANT_CHARS, WANT_BUFFER, WANT_POINTER, WANT_INT };

/* Checks that the C type given after a kind agrees with the kind. */
static int check_ctype(struct parser *ps, const char *ctx, const char *kw, const struct cdecl *d,
		       enum want w)
{
	static const char *const need[] = {"a char *", "a pointer to the buffer", "a pointer",
					   "an int"};
	if (d->base == B_NONE)
		return 0;
	bool ok = false;
	if (w == WANT_CHARS)
		ok = d->stars == 1 && d->base == B_SCALAR && is_char(d->type);
	else if (w == WANT_BUFFER)
		ok = d->stars == 1;
	else if (w == WANT_POINTER)
		ok = d->stars >= 1 || d->base == B_OPAQUE;
	else
		ok = d->stars == 0 && d->base == B_SCALAR && is_integer(d->type);
	if (ok)
		return 0;
	size_t n = (size_t)(ps->p - d->from);
	while (n > 0 && is_space(d->from[n - 1]))
		n--;
	return fail(ps, "%s: '%s' needs %s, not '%.*s'", ctx, kw, need[w], n > 60 ? 60 : (int)n,
		    d->from);
}

/* After a kind: the C declarator a header has ("const Bytef *source"),
 * checked against the kind, then the name. */
static int parse_decl(struct parser *ps, struct txc_param *pm, int i, const char *ctx,
		      const char *kw, enum want w)
{
	struct cdecl d;
	int rc = parse_ctype(ps, ctx, &d);
	if (rc == 0)
		rc = check_ctype(ps, ctx, kw, &d, w);
	if (rc == 0)
		rc = parse_name(ps, pm, i, ctx);
	return rc;
}

/* Explains which kinds fit a C pointer given without one. */
static int pointer_hint(struct parser *ps, const char *ctx, const struct cdecl *d)
{
	int n = (int)(d->to - d->from);
	n = n > 40 ? 40 : n;
	if (d->stars == 1 && d->base == B_SCALAR && d->type == TXC_T_CHAR)
		return fail(ps,
			    "%s: a char * needs a kind: 'out string[CAP]' or 'out bytes[CAP]' when "
			    "the function writes it; use 'string' for a const char * it only reads",
			    ctx);
	if (d->stars == 1 && d->base == B_SCALAR)
		return fail(ps,
			    "%s: '%.*s *' needs a kind: 'out %.*s *' or 'inout %.*s *' (one value "
			    "written through it), 'bytes[LEN]' (an array it reads), 'out "
			    "bytes[CAP]' (an array it writes) or 'ptr'",
			    ctx, n, d->from, n, d->from, n, d->from);
	if (d->stars == 1 && d->base == B_VOID)
		return fail(ps,
			    "%s: a void * needs a kind: use 'ptr' (passed through), 'bytes[LEN]' "
			    "(read) or 'out bytes[CAP]' (written)",
			    ctx);
	return fail(ps,
		    "%s: a pointer to '%.*s' needs a kind: 'ptr' (passed through) or 'bytes[LEN]'",
		    ctx, n, d->from);
}

/* A parameter without a kind, as C writes it: a scalar type means a
 * scalar, const char * a string; other pointers need a kind. */
static int parse_plain(struct parser *ps, struct txc_param *pm, int i, const char *ctx)
{
	char desc[64];
	struct cdecl d;
	struct parser at = *ps;
	skip_quals(&at);
	struct tok t = lex_peek(&at);
	if (t.kind != TK_IDENT)
		return fail(ps, "%s: expected a type, got %s", ctx,
			    tok_desc(t, desc, sizeof(desc)));
	int rc = parse_ctype(ps, ctx, &d);
	if (rc)
		return rc;
	if (d.base == B_NONE || (d.unknown && d.stars == 0))
		return fail(ps, "%s: unknown type %s", ctx, tok_desc(t, desc, sizeof(desc)));
	if (d.base == B_VOID && d.stars == 0)
		return fail(ps, "%s: void is only allowed as a return type", ctx);
	if (d.base == B_OPAQUE && d.stars == 0)
		return fail(ps, "%s: a struct passed by value cannot be cached", ctx);
	if (d.stars == 1 && d.base == B_SCALAR && is_char(d.type) && d.is_const) {
		pm->kind = TXC_K_STRING;
	} else if (d.stars == 0) {
		pm->kind = TXC_K_SCALAR;
		pm->type = d.type;
	} else {
		return pointer_hint(ps, ctx, &d);
	}
	pm->keyed = true;
	return parse_name(ps, pm, i, ctx);
}

/* out ... and inout T *; the word itself was read. */
static int parse_out(struct parser *ps, struct txc_param *pm, int i, const char *ctx, bool inout)
{
	char d[64];
	skip_quals(ps);
	struct tok t = lex_next(ps);
	if (!inout && tok_is(t, "string")) {
		pm->kind = TXC_K_OUT_STRING;
		int rc = parse_brackets(ps, ctx, &pm->size, &ps->size[i], NULL, NULL);
		return rc ? rc : parse_decl(ps, pm, i, ctx, "out string", WANT_CHARS);
	}
	if (!inout && tok_is(t, "bytes")) {
		pm->kind = TXC_K_OUT_BYTES;
		int rc = parse_brackets(ps, ctx, &pm->size, &ps->size[i], &pm->len, &ps->len[i]);
		if (rc)
			return rc;
		if (pm->size.from == TXC_SZ_DEREF && pm->len.from == TXC_SZ_NONE) {
			pm->len = pm->size; /* out bytes[*n] means [*n:*n] */
			ps->len[i] = ps->size[i];
		}
		return parse_decl(ps, pm, i, ctx, "out bytes", WANT_BUFFER);
	}
	if (!inout && (tok_is(t, "fd") || tok_is(t, "stream"))) {
		bool fd = tok_is(t, "fd");
		pm->kind = fd ? TXC_K_OUT_FD : TXC_K_OUT_STREAM;
		pm->type = fd ? TXC_T_INT : TXC_T_VOID; /* passed as an int */
		return parse_decl(ps, pm, i, ctx, fd ? "out fd" : "out stream",
				  fd ? WANT_INT : WANT_POINTER);
	}
	int rc = parse_scalar(ps, ctx, t, &pm->type);
	if (rc < 0)
		return rc;
	if (rc > 0 && inout)
		return fail(ps, "%s: unknown inout type %s (expected T *, T a scalar type)", ctx,
			    tok_desc(t, d, sizeof(d)));
	if (rc > 0)
		return fail(ps,
			    "%s: unknown out type %s (expected string[CAP], bytes[CAP], T *, fd "
			    "or stream)",
			    ctx, tok_desc(t, d, sizeof(d)));
	skip_quals(ps);
	if (!lex_accept(ps, "*"))
		return fail(ps, "%s: expected '*' after '%s %s'", ctx, inout ? "inout" : "out",
			    sig_type_info(pm->type)->name);
	skip_quals(ps);
	pm->kind = inout ? TXC_K_INOUT_SCALAR : TXC_K_OUT_SCALAR;
	pm->keyed = inout; /* the value on entry, unless ignored */
	return parse_name(ps, pm, i, ctx);
}

/* "file" (already read) or "file:content": a path keyed by its file. */
static int parse_file(struct parser *ps, struct txc_param *pm, int i, const char *ctx)
{
	pm->kind = TXC_K_FILE;
	pm->keyed = true;
	if (lex_accept(ps, ":")) {
		if (!lex_accept(ps, "content"))
			return fail(
			    ps, "%s: expected 'content' after 'file:' (file or file:content)", ctx);
		pm->kind = TXC_K_FILE_CONTENT;
	}
	return parse_decl(ps, pm, i, ctx, "file", WANT_CHARS);
}

/* "parameter N" or "parameter N (name)", the name looked up ahead when the
 * type could not be parsed yet. */
static void param_ctx(const struct parser *ps, int i, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (!ps->describe)
		return;
	struct parser la = *ps;
	struct tok t = lex_next(&la), name = {TK_END, NULL, 0};
	int ntok = 0;
	while (t.kind != TK_END && !tok_is(t, ",") && !tok_is(t, ")")) {
		name = t;
		ntok++;
		t = lex_next(&la);
	}
	if (ntok >= 2 && name.kind == TK_IDENT && name.len < TXC_NAME_MAX && !is_reserved(ps, name))
		txc_fmt(buf, cap, "parameter %d (%.*s)", i + 1, (int)name.len, name.s);
	else
		txc_fmt(buf, cap, "parameter %d", i + 1);
}

/* One parameter: a kind and what follows it, or a C declaration. */
static int parse_param(struct parser *ps, int i)
{
	struct txc_param *pm = &ps->sig->params[i];
	char ctx[96];
	param_ctx(ps, i, ctx, sizeof(ctx));
	struct tok t = lex_peek(ps);
	bool is_kind = tok_is(t, "out") || tok_is(t, "inout") || tok_is(t, "string") ||
		       tok_is(t, "bytes") || tok_is(t, "ptr") || tok_is(t, "symptr") ||
		       tok_is(t, "file");
	if (!is_kind)
		return parse_plain(ps, pm, i, ctx);
	lex_next(ps);
	if (tok_is(t, "out") || tok_is(t, "inout"))
		return parse_out(ps, pm, i, ctx, tok_is(t, "inout"));
	if (tok_is(t, "file")) /* not reserved: "string file" stays a valid name */
		return parse_file(ps, pm, i, ctx);
	pm->keyed = !tok_is(t, "ptr");
	if (tok_is(t, "string")) {
		pm->kind = TXC_K_STRING;
		return parse_decl(ps, pm, i, ctx, "string", WANT_CHARS);
	}
	if (tok_is(t, "bytes")) {
		pm->kind = TXC_K_BYTES;
		int rc = parse_brackets(ps, ctx, &pm->size, &ps->size[i], NULL, NULL);
		return rc ? rc : parse_decl(ps, pm, i, ctx, "bytes", WANT_BUFFER);
	}
	pm->kind = tok_is(t, "ptr") ? TXC_K_PTR : TXC_K_SYMPTR;
	return parse_decl(ps, pm, i, ctx, tok_is(t, "ptr") ? "ptr" : "symptr", WANT_POINTER);
}

static int parse_return(struct parser *ps)
{
	struct txc_sig *sig = ps->sig;
	char d[64];
	struct tok t = lex_next(ps);
	if (t.kind == TK_END)
		return fail(ps, "empty signature");
	if (tok_is(t, "void")) {
		sig->ret = TXC_R_VOID;
		return tok_is(lex_peek(ps), "*") ? fail(ps, "a returned void * cannot be cached")
						 : 0;
	}
	if (tok_is(t, "string")) {
		sig->ret = TXC_R_STRING;
		return 0;
	}
	if (tok_is(t, "static")) {
		if (!lex_accept(ps, "string"))
			return fail(ps, "return type: 'static' must be followed by 'string'");
		sig->ret = TXC_R_STATIC_STRING;
		return 0;
	}
	if (tok_is(t, "owned")) {
		if (!lex_accept(ps, "string"))
			return fail(ps, "return type: 'owned' must be followed by 'string'");
		sig->ret = TXC_R_OWNED_STRING;
		return 0;
	}
	if (tok_is(t, "ptr"))
		return fail(ps, "a returned ptr cannot be cached");
	if (tok_is(t, "out") || tok_is(t, "bytes"))
		return fail(ps, "return type: %s is only allowed for parameters",
			    tok_desc(t, d, sizeof(d)));
	if (tok_is(t, "const"))
		return fail(ps, "return type: use 'string' or 'owned string' for a char *");
	int rc = parse_scalar(ps, "return type", t, &sig->ret_type);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return fail(ps, "unknown return type %s", tok_desc(t, d, sizeof(d)));
	if (tok_is(lex_peek(ps), "*"))
		return sig->ret_type == TXC_T_CHAR
			   ? fail(ps, "return type: use 'string' or 'owned string' for a char *")
			   : fail(ps, "a returned pointer cannot be cached");
	sig->ret = TXC_R_SCALAR;
	return 0;
}

static int parse_params(struct parser *ps)
{
	char d[64];
	struct parser save = *ps;
	if (lex_accept(ps, "void") && lex_accept(ps, ")"))
		return 0;
	*ps = save;
	if (lex_accept(ps, ")"))
		return 0;
	for (int i = 0;; i++) {
		if (i == TXC_MAX_PARAMS)
			return fail(ps, "too many parameters (max %d)", TXC_MAX_PARAMS);
		int rc = parse_param(ps, i);
		if (rc)
			return rc;
		ps->sig->nparams = i + 1;
		struct tok t = lex_next(ps);
		if (tok_is(t, ")"))
			return 0;
		if (!tok_is(t, ","))
			return fail(ps, "parameter %d: expected ',' or ')', got %s", i + 1,
				    tok_desc(t, d, sizeof(d)));
	}
}

static bool is_integer(enum txc_type t)
{
	const struct txc_type_info *ti = sig_type_info(t);
	return ti && ti->size > 0 && !ti->is_float && t != TXC_T_BOOL;
}

/* "*name": NAME must be an integer written through a pointer. A CAP or an
 * input length is read on entry, so only an inout has one; the LEN of out
 * bytes is read after the call, where an out has it too. */
static int resolve_deref(struct parser *ps, struct txc_size *s, int j, const char *ctx, bool is_len)
{
	const struct txc_param *ref = &ps->sig->params[j];
	if (!sig_kind_is_out_scalar(ref->kind) || !is_integer(ref->type))
		return fail(ps, "%s: '*%s' needs '%s' to be an inout (or out) integer: inout T *",
			    ctx, ref->name, ref->name);
	if (ref->kind != TXC_K_INOUT_SCALAR && !is_len)
		return fail(ps, "%s: '*%s' is read on entry: '%s' must be inout T *, not out", ctx,
			    ref->name, ref->name);
	s->param = j;
	return 0;
}

/* A size as written, before it is resolved: "n", "*n", "ret", "16". */
static void ref_text(const struct txc_sig *sig, const struct txc_size *s, const struct size_ref *r,
		     char *buf, size_t cap)
{
	if (s->from == TXC_SZ_PARAM)
		txc_fmt(buf, cap, "%s", r->name);
	else if (s->from == TXC_SZ_DEREF)
		txc_fmt(buf, cap, "*%s", r->name);
	else
		sig_size_text(sig, s, buf, cap);
}

/* Resolves one size of parameter I; IS_LEN for the LEN of out bytes. */
static int resolve_one(struct parser *ps, int i, struct txc_size *s, const struct size_ref *r,
		       const char *what, bool is_len)
{
	struct txc_sig *sig = ps->sig;
	const struct txc_param *pm = &sig->params[i];
	char ctx[256] = "";
	if (ps->describe && pm->name[0])
		txc_fmt(ctx, sizeof(ctx), "parameter %d (%s): %s", i + 1, pm->name, what);
	else if (ps->describe)
		txc_fmt(ctx, sizeof(ctx), "parameter %d: %s", i + 1, what);
	if (s->from == TXC_SZ_RET) {
		if (!is_len)
			return fail(ps, "%s: 'ret' can only be the LEN of out bytes[CAP:ret]", ctx);
		if (sig->ret != TXC_R_SCALAR || !is_integer(sig->ret_type))
			return fail(ps, "%s: 'ret' needs a function that returns an integer", ctx);
		return 0;
	}
	if (s->from == TXC_SZ_LITERAL) {
		if (!is_len && pm->kind != TXC_K_BYTES && s->literal == 0)
			return fail(ps, "%s: a capacity of 0 leaves no room", ctx);
		return 0;
	}
	if (s->from != TXC_SZ_PARAM && s->from != TXC_SZ_DEREF)
		return 0;
	int j = sig_find_param(sig, r->name);
	if (j < 0)
		return fail(ps, "%s: no parameter named '%s'", ctx, r->name);
	const struct txc_param *ref = &sig->params[j];
	if (s->from == TXC_SZ_DEREF)
		return resolve_deref(ps, s, j, ctx, is_len);
	if (ref->kind != TXC_K_SCALAR || !is_integer(ref->type))
		return fail(ps, "%s: '%s' must be an integer parameter passed by value", ctx,
			    r->name);
	s->param = j;
	return 0;
}

/* "bytes[n]", "out bytes[cap:ret]": what resolve_one's errors name. */
static void size_what(const struct parser *ps, int i, char *what, size_t cap)
{
	const struct txc_sig *sig = ps->sig;
	const struct txc_param *pm = &sig->params[i];
	char a[TXC_NAME_MAX + 2], b[TXC_NAME_MAX + 2];
	const char *kw = pm->kind == TXC_K_BYTES	? "bytes"
			 : pm->kind == TXC_K_OUT_STRING ? "out string"
							: "out bytes";
	ref_text(sig, &pm->size, &ps->size[i], a, sizeof(a));
	ref_text(sig, &pm->len, &ps->len[i], b, sizeof(b));
	if (pm->len.from != TXC_SZ_NONE)
		txc_fmt(what, cap, "%s[%s:%s]", kw, a, b);
	else
		txc_fmt(what, cap, "%s[%s]", kw, a);
}

static int resolve_sizes(struct parser *ps)
{
	struct txc_sig *sig = ps->sig;
	for (int i = 0; i < sig->nparams; i++) {
		struct txc_param *pm = &sig->params[i];
		char what[200] = "";
		if (pm->size.from == TXC_SZ_NONE)
			continue;
		if (ps->describe)
			size_what(ps, i, what, sizeof(what));
		if (resolve_one(ps, i, &pm->size, &ps->size[i], what, false) ||
		    resolve_one(ps, i, &pm->len, &ps->len[i], what, true))
			return TXC_EINVAL;
	}
	return 0;
}

int sig_parse(const char *text, struct txc_sig *out, char *err, size_t errcap)
{
	return sig_parse_types(text, NULL, out, err, errcap);
}

static int parse_sig(const char *text, const struct txc_sig_types *types, struct txc_sig *out,
		     char *err, size_t errcap, bool describe)
{
	struct parser ps;
	char d[64];

	memset(&ps, 0, sizeof(ps));
	ps.describe = describe;
	if (errcap > 0)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < TXC_MAX_PARAMS; i++)
		out->params[i].size.param = out->params[i].len.param = -1;
	ps.sig = out;
	ps.types = types;
	ps.err = err;
	ps.errcap = errcap;
	if (!text)
		return fail(&ps, "empty signature");
	size_t n = strnlen(text, SIG_TEXT_MAX + 1);
	if (n > SIG_TEXT_MAX)
		return fail(&ps, "signature longer than %d bytes", SIG_TEXT_MAX);
	ps.p = text;
	ps.end = text + n;

	int rc = parse_return(&ps);
	if (rc)
		return rc;
	struct tok t = lex_next(&ps);
	if (t.kind != TK_IDENT)
		return fail(&ps, "expected the function name, got %s", tok_desc(t, d, sizeof(d)));
	if (copy_name(&ps, t, out->name, "function name"))
		return TXC_EINVAL;
	t = lex_next(&ps);
	if (!tok_is(t, "("))
		return fail(&ps, "expected '(' after '%s', got %s", out->name,
			    tok_desc(t, d, sizeof(d)));
	rc = parse_params(&ps);
	if (rc)
		return rc;
	t = lex_peek(&ps);
	if (t.kind != TK_END)
		return fail(&ps, "trailing text after ')': %s", tok_desc(t, d, sizeof(d)));
	return resolve_sizes(&ps);
}

int sig_parse_types(const char *text, const struct txc_sig_types *types, struct txc_sig *out,
		    char *err, size_t errcap)
{
	/* the parser is a function of its input: the second run fails in the
	 * same place, now with the context in the message */
	int rc = parse_sig(text, types, out, err, errcap, false);
	if (rc != 0 && errcap > 0)
		rc = parse_sig(text, types, out, err, errcap, true);
	return rc;
}

int sig_find_param(const struct txc_sig *sig, const char *name)
{
	if (!name || !name[0])
		return -1;
	for (int i = 0; i < sig->nparams && i < TXC_MAX_PARAMS; i++)
		if (strncmp(sig->params[i].name, name, TXC_NAME_MAX) == 0)
			return i;
	return -1;
}

/* Words a [types] name cannot be: the language's and C's own. */
static bool is_language_word(const char *name)
{
	static const char *const words[] = {
	    "out",    "inout",	"string", "bytes",    "ptr",	  "symptr",	"file",
	    "owned",  "static", "ret",	  "fd",	      "stream",	  "content",	"void",
	    "struct", "union",	"enum",	  "signed",   "unsigned", "char",	"short",
	    "int",    "long",	"const",  "volatile", "restrict", "__restrict", "__restrict__",
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(name, words[i]) == 0)
			return true;
	return false;
}

int sig_types_add(struct txc_sig_types *types, const char *name, const char *target, char *err,
		  size_t errcap)
{
	struct parser ps = {.err = err, .errcap = errcap};
	size_t n = strnlen(name, TXC_NAME_MAX);
	bool ident = n > 0 && is_alpha(name[0]);
	for (size_t i = 1; i < n; i++)
		ident = ident && (is_alpha(name[i]) || is_digit(name[i]));
	if (!ident || n >= TXC_NAME_MAX)
		return fail(&ps, "'%.40s' is not a type name (letters, digits, '_'; at most %d)",
			    name, TXC_NAME_MAX - 1);
	if (is_language_word(name))
		return fail(&ps, "'%s' is a keyword, not a type name", name);
	if (sigtypes_is_builtin(name, n))
		return fail(&ps,
			    "'%s' is a built-in type (see txcache.ini(5)): it cannot be redefined",
			    name);
	enum txc_type t;
	if (sigtypes_lookup(name, n, types, &t))
		return fail(&ps, "'%s' is defined twice", name);
	if (types->n >= TXC_MAX_USER_TYPES)
		return fail(&ps, "too many types (at most %d)", TXC_MAX_USER_TYPES);
	/* the target as the return type of a made-up prototype */
	char text[256];
	struct txc_sig sig;
	char e[8];
	if (strlen(target) > 100 ||
	    txc_fmt(text, sizeof(text), "%s txc_type_probe(void)", target) < 0 ||
	    sig_parse_types(text, types, &sig, e, sizeof(e)) != 0 || sig.ret != TXC_R_SCALAR)
		return fail(&ps,
			    "'%.60s' is not a C scalar type (int, unsigned long, uint32_t, ...)",
			    target);
	memcpy(types->v[types->n].name, name, n + 1);
	types->v[types->n].type = sig.ret_type;
	types->n++;
	return 0;
}
