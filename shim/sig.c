/* sig.c - parser and canonical form of the signature language (see sig.h).
 *
 * A hand-written lexer and a flat, non-recursive parser: every loop is
 * bounded by the text length (itself capped at SIG_TEXT_MAX), so the parser
 * can be fed arbitrary bytes.
 *
 * Over 500 lines on purpose: the grammar, its error messages and the
 * canonical printer must stay in step, and one file keeps them so.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "fmt.h"
#include "sig.h"

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
	char *err;
	size_t errcap;
	struct size_ref size[TXC_MAX_PARAMS], len[TXC_MAX_PARAMS];
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
	} else if (strchr("()[],:*", *p)) {
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

/* Words that can never be a name: they would make the text ambiguous. */
static bool is_reserved(struct tok t)
{
	static const char *const words[] = {
	    "ret",	"out",	 "string", "bytes",  "ptr",   "owned", "void",	 "symptr",
	    "const",	"char",	 "short",  "int",    "long",  "float", "double", "signed",
	    "unsigned", "_Bool", "bool",   "struct", "union", "enum",
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (tok_is(t, words[i]))
			return true;
	return false;
}

static const struct {
	const char *name;
	enum txc_type type;
} typedef_names[] = {
    {"size_t", TXC_T_SIZE},  {"ssize_t", TXC_T_SSIZE}, {"int8_t", TXC_T_I8},
    {"uint8_t", TXC_T_U8},   {"int16_t", TXC_T_I16},   {"uint16_t", TXC_T_U16},
    {"int32_t", TXC_T_I32},  {"uint32_t", TXC_T_U32},  {"int64_t", TXC_T_I64},
    {"uint64_t", TXC_T_U64}, {"bool", TXC_T_BOOL},     {"_Bool", TXC_T_BOOL},
    {"float", TXC_T_FLOAT},  {"double", TXC_T_DOUBLE},
};

enum { W_SIGNED, W_UNSIGNED, W_CHAR, W_SHORT, W_INT, W_LONG, W_COUNT };
static const char *const c_words[W_COUNT] = {"signed", "unsigned", "char", "short", "int", "long"};

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
	for (size_t i = 0; i < sizeof(typedef_names) / sizeof(typedef_names[0]); i++) {
		if (tok_is(first, typedef_names[i].name)) {
			*t = typedef_names[i].type;
			return 0;
		}
	}
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
	for (size_t i = 0; i < sizeof(typedef_names) / sizeof(typedef_names[0]); i++) {
		if (tok_is(cur, typedef_names[i].name)) {
			lex_next(ps); /* "long double", "unsigned size_t" */
			*t = TXC_T_VOID;
			break;
		}
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

/* Explains why a C pointer type is not accepted, after "T *". */
static int pointer_hint(struct parser *ps, const char *ctx, enum txc_type t)
{
	if (t == TXC_T_CHAR)
		return fail(ps,
			    "%s: use 'string' for a const char * (or 'out string[CAP]' for a "
			    "buffer)",
			    ctx);
	return fail(ps, "%s: use 'out %s *' for a pointer the function writes, or 'ptr'", ctx,
		    sig_type_info(t)->name);
}

static int parse_out(struct parser *ps, struct txc_param *pm, int i, const char *ctx)
{
	char d[64];
	struct tok t = lex_next(ps);
	if (tok_is(t, "string")) {
		pm->kind = TXC_K_OUT_STRING;
		return parse_brackets(ps, ctx, &pm->size, &ps->size[i], NULL, NULL);
	}
	if (tok_is(t, "bytes")) {
		pm->kind = TXC_K_OUT_BYTES;
		return parse_brackets(ps, ctx, &pm->size, &ps->size[i], &pm->len, &ps->len[i]);
	}
	if (tok_is(t, "fd") || tok_is(t, "stream")) {
		pm->kind = tok_is(t, "fd") ? TXC_K_OUT_FD : TXC_K_OUT_STREAM;
		pm->type = tok_is(t, "fd") ? TXC_T_INT : TXC_T_VOID; /* passed as an int */
		return 0;
	}
	int rc = parse_scalar(ps, ctx, t, &pm->type);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return fail(ps,
			    "%s: unknown out type %s (expected string[CAP], bytes[CAP], T *, fd "
			    "or stream)",
			    ctx, tok_desc(t, d, sizeof(d)));
	if (!lex_accept(ps, "*"))
		return fail(ps, "%s: expected '*' after 'out %s'", ctx,
			    sig_type_info(pm->type)->name);
	pm->kind = TXC_K_OUT_SCALAR;
	return 0;
}

/* "file" (already read) or "file:content": a path keyed by its file. */
static int parse_file(struct parser *ps, struct txc_param *pm, const char *ctx)
{
	pm->kind = TXC_K_FILE;
	pm->keyed = true;
	if (!lex_accept(ps, ":"))
		return 0;
	if (!lex_accept(ps, "content"))
		return fail(ps, "%s: expected 'content' after 'file:' (file or file:content)", ctx);
	pm->kind = TXC_K_FILE_CONTENT;
	return 0;
}

/* The type part of parameter I: everything before its name. */
static int parse_param_type(struct parser *ps, struct txc_param *pm, int i, const char *ctx)
{
	char d[64];
	struct tok t = lex_next(ps);
	if (t.kind != TK_IDENT)
		return fail(ps, "%s: expected a type, got %s", ctx, tok_desc(t, d, sizeof(d)));
	if (tok_is(t, "out"))
		return parse_out(ps, pm, i, ctx);
	if (tok_is(t, "string")) {
		pm->kind = TXC_K_STRING;
		pm->keyed = true;
		return 0;
	}
	if (tok_is(t, "bytes")) {
		pm->kind = TXC_K_BYTES;
		pm->keyed = true;
		return parse_brackets(ps, ctx, &pm->size, &ps->size[i], NULL, NULL);
	}
	if (tok_is(t, "ptr")) {
		pm->kind = TXC_K_PTR;
		return 0;
	}
	if (tok_is(t, "symptr")) {
		pm->kind = TXC_K_SYMPTR;
		pm->keyed = true;
		return 0;
	}
	if (tok_is(t, "file")) /* not reserved: "string file" stays a valid name */
		return parse_file(ps, pm, ctx);
	if (tok_is(t, "void"))
		return fail(ps, "%s: void is only allowed as a return type%s", ctx,
			    tok_is(lex_peek(ps), "*") ? " (use 'ptr' for a void *)" : "");
	if (tok_is(t, "const"))
		return fail(ps,
			    "%s: use 'string' for a const char *, 'bytes[LEN]' for a const "
			    "void *",
			    ctx);
	int rc = parse_scalar(ps, ctx, t, &pm->type);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return fail(ps, "%s: unknown type %s", ctx, tok_desc(t, d, sizeof(d)));
	if (tok_is(lex_peek(ps), "*"))
		return pointer_hint(ps, ctx, pm->type);
	pm->kind = TXC_K_SCALAR;
	pm->keyed = true;
	return 0;
}

/* "parameter N" or "parameter N (name)", the name looked up ahead when the
 * type could not be parsed yet. */
static void param_ctx(const struct parser *ps, int i, char *buf, size_t cap)
{
	struct parser la = *ps;
	struct tok t = lex_next(&la), name = {TK_END, NULL, 0};
	int ntok = 0;
	while (t.kind != TK_END && !tok_is(t, ",") && !tok_is(t, ")")) {
		name = t;
		ntok++;
		t = lex_next(&la);
	}
	if (ntok >= 2 && name.kind == TK_IDENT && name.len < TXC_NAME_MAX && !is_reserved(name))
		txc_fmt(buf, cap, "parameter %d (%.*s)", i + 1, (int)name.len, name.s);
	else
		txc_fmt(buf, cap, "parameter %d", i + 1);
}

static int parse_param(struct parser *ps, int i)
{
	struct txc_param *pm = &ps->sig->params[i];
	char ctx[96];
	param_ctx(ps, i, ctx, sizeof(ctx));
	int rc = parse_param_type(ps, pm, i, ctx);
	if (rc)
		return rc;
	struct tok t = lex_peek(ps);
	if (t.kind != TK_IDENT)
		return 0;
	if (is_reserved(t))
		return fail(ps, "%s: '%.*s' cannot be a parameter name", ctx, (int)t.len, t.s);
	lex_next(ps);
	if (copy_name(ps, t, pm->name, ctx))
		return TXC_EINVAL;
	for (int j = 0; j < i; j++)
		if (strcmp(ps->sig->params[j].name, pm->name) == 0)
			return fail(ps, "%s: duplicate parameter name '%s'", ctx, pm->name);
	return 0;
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

static void size_text(const struct txc_sig *sig, const struct txc_size *s, char *buf, size_t cap)
{
	if (s->from == TXC_SZ_LITERAL)
		txc_fmt(buf, cap, "%llu", (unsigned long long)s->literal);
	else if (s->from == TXC_SZ_RET)
		txc_fmt(buf, cap, "ret");
	else if (s->from == TXC_SZ_PARAM && s->param >= 0)
		txc_fmt(buf, cap, "%s", sig->params[s->param].name);
	else
		txc_fmt(buf, cap, "?");
}

/* Resolves one size of parameter I; IS_LEN for the LEN of out bytes. */
static int resolve_one(struct parser *ps, int i, struct txc_size *s, const struct size_ref *r,
		       const char *what, bool is_len)
{
	struct txc_sig *sig = ps->sig;
	const struct txc_param *pm = &sig->params[i];
	char ctx[256];
	if (pm->name[0])
		txc_fmt(ctx, sizeof(ctx), "parameter %d (%s): %s", i + 1, pm->name, what);
	else
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
	if (s->from != TXC_SZ_PARAM)
		return 0;
	int j = sig_find_param(sig, r->name);
	if (j < 0)
		return fail(ps, "%s: no parameter named '%s'", ctx, r->name);
	const struct txc_param *ref = &sig->params[j];
	if (ref->kind != TXC_K_SCALAR || !is_integer(ref->type))
		return fail(ps, "%s: '%s' must be an integer parameter passed by value", ctx,
			    r->name);
	s->param = j;
	return 0;
}

static int resolve_sizes(struct parser *ps)
{
	struct txc_sig *sig = ps->sig;
	for (int i = 0; i < sig->nparams; i++) {
		struct txc_param *pm = &sig->params[i];
		char what[160], a[TXC_NAME_MAX], b[TXC_NAME_MAX];
		const char *kw = pm->kind == TXC_K_BYTES	? "bytes"
				 : pm->kind == TXC_K_OUT_STRING ? "out string"
								: "out bytes";
		if (pm->size.from == TXC_SZ_NONE)
			continue;
		txc_fmt(a, sizeof(a), "%s", pm->size.from == TXC_SZ_PARAM ? ps->size[i].name : "");
		if (pm->size.from != TXC_SZ_PARAM)
			size_text(sig, &pm->size, a, sizeof(a));
		txc_fmt(b, sizeof(b), "%s", pm->len.from == TXC_SZ_PARAM ? ps->len[i].name : "");
		if (pm->len.from != TXC_SZ_PARAM)
			size_text(sig, &pm->len, b, sizeof(b));
		if (pm->len.from != TXC_SZ_NONE)
			txc_fmt(what, sizeof(what), "%s[%s:%s]", kw, a, b);
		else
			txc_fmt(what, sizeof(what), "%s[%s]", kw, a);
		if (resolve_one(ps, i, &pm->size, &ps->size[i], what, false) ||
		    resolve_one(ps, i, &pm->len, &ps->len[i], what, true))
			return TXC_EINVAL;
	}
	return 0;
}

int sig_parse(const char *text, struct txc_sig *out, char *err, size_t errcap)
{
	struct parser ps;
	char d[64];

	memset(&ps, 0, sizeof(ps));
	if (errcap > 0)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < TXC_MAX_PARAMS; i++)
		out->params[i].size.param = out->params[i].len.param = -1;
	ps.sig = out;
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

int sig_find_param(const struct txc_sig *sig, const char *name)
{
	if (!name || !name[0])
		return -1;
	for (int i = 0; i < sig->nparams && i < TXC_MAX_PARAMS; i++)
		if (strncmp(sig->params[i].name, name, TXC_NAME_MAX) == 0)
			return i;
	return -1;
}

struct sbuf {
	char *buf;
	size_t cap, len;
	bool over;
};

static void sb_add(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(struct sbuf *sb, const char *fmt, ...)
{
	if (sb->over)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = txc_vfmt(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sb->cap - sb->len)
		sb->over = true;
	else
		sb->len += (size_t)n;
}

static const char *type_name(enum txc_type t)
{
	const struct txc_type_info *ti = sig_type_info(t);
	return ti ? ti->name : "?";
}

static void canon_param(struct sbuf *sb, const struct txc_sig *sig, const struct txc_param *pm)
{
	char a[TXC_NAME_MAX + 24], b[TXC_NAME_MAX + 24];
	size_text(sig, &pm->size, a, sizeof(a));
	size_text(sig, &pm->len, b, sizeof(b));
	switch (pm->kind) {
	case TXC_K_SCALAR:
		sb_add(sb, "%s", type_name(pm->type));
		break;
	case TXC_K_STRING:
		sb_add(sb, "string");
		break;
	case TXC_K_BYTES:
		sb_add(sb, "bytes[%s]", a);
		break;
	case TXC_K_PTR:
		sb_add(sb, "ptr");
		break;
	case TXC_K_OUT_STRING:
		sb_add(sb, "out string[%s]", a);
		break;
	case TXC_K_OUT_BYTES:
		if (pm->len.from == TXC_SZ_NONE)
			sb_add(sb, "out bytes[%s]", a);
		else
			sb_add(sb, "out bytes[%s:%s]", a, b);
		break;
	case TXC_K_OUT_SCALAR:
		sb_add(sb, "out %s *", type_name(pm->type));
		break;
	case TXC_K_OUT_FD:
		sb_add(sb, "out fd");
		break;
	case TXC_K_OUT_STREAM:
		sb_add(sb, "out stream");
		break;
	case TXC_K_SYMPTR:
		sb_add(sb, "symptr");
		break;
	case TXC_K_FILE:
		sb_add(sb, "file");
		break;
	case TXC_K_FILE_CONTENT:
		sb_add(sb, "file:content");
		break;
	default:
		sb_add(sb, "?");
		break;
	}
	if (pm->name[0])
		sb_add(sb, "%s%.*s", pm->kind == TXC_K_OUT_SCALAR ? "" : " ", TXC_NAME_MAX - 1,
		       pm->name);
	bool keyable = pm->kind == TXC_K_SCALAR || pm->kind == TXC_K_STRING ||
		       pm->kind == TXC_K_BYTES || pm->kind == TXC_K_SYMPTR ||
		       sig_kind_is_file(pm->kind);
	if (keyable && !pm->keyed)
		sb_add(sb, " [ignored]");
}

int sig_canonical(const struct txc_sig *sig, char *buf, size_t cap)
{
	struct sbuf sb = {buf, cap, 0, cap == 0};

	switch (sig->ret) {
	case TXC_R_VOID:
		sb_add(&sb, "void ");
		break;
	case TXC_R_SCALAR:
		sb_add(&sb, "%s ", type_name(sig->ret_type));
		break;
	case TXC_R_STRING:
		sb_add(&sb, "string ");
		break;
	case TXC_R_OWNED_STRING:
		sb_add(&sb, "owned string ");
		break;
	case TXC_R_STATIC_STRING:
		sb_add(&sb, "static string ");
		break;
	default:
		sb_add(&sb, "? ");
		break;
	}
	sb_add(&sb, "%.*s(", TXC_NAME_MAX - 1, sig->name);
	if (sig->nparams <= 0)
		sb_add(&sb, "void");
	for (int i = 0; i < sig->nparams && i < TXC_MAX_PARAMS; i++) {
		if (i > 0)
			sb_add(&sb, ", ");
		canon_param(&sb, sig, &sig->params[i]);
	}
	sb_add(&sb, ")");
	if (sb.over) {
		if (cap > 0)
			buf[0] = '\0';
		return TXC_ETOOBIG;
	}
	return 0;
}
