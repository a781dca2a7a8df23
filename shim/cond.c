/* cond.c - the condition language of cache_if and outs_if (see cond.h).
 *
 * A recursive-descent parser writes the condition as postfix, so that the
 * miss path evaluates it with a small fixed stack and no allocation.
 * Literals are checked and converted once, here, into the operand's
 * portable form: evaluation compares integers as uint64 or int64 and never
 * goes through a double.
 */
#include <errno.h>
#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cond.h"
#include "err.h"

struct parser {
	const char *s;
	const struct txc_sig *sig;
	struct txc_cond *c;
	char *err;
	size_t errcap;
	int depth;
};

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errcap, fmt, ap);
	va_end(ap);
	return TXC_EINVAL;
}

/* ASCII only: <ctype.h> follows the host program's locale. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ident(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static void skip_space(struct parser *p)
{
	while (is_space(*p->s))
		p->s++;
}

/* Consumes the word W when it comes next as a whole word. */
static bool take_word(struct parser *p, const char *w)
{
	size_t n = strlen(w);
	skip_space(p);
	if (strncmp(p->s, w, n) != 0 || is_ident(p->s[n]))
		return false;
	p->s += n;
	return true;
}

/* A number as written: an integer's magnitude and sign, or a float. */
struct number {
	bool neg;
	bool is_int;
	bool hex;
	bool too_big; /* an integer beyond 64 bits, or a float beyond double */
	uint64_t mag;
	double dbl;
};

static int digit_value(char c)
{
	if (is_digit(c))
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* Reads TOK (the whole literal). Returns false when it is not a number. */
static bool read_number(const char *tok, struct number *n)
{
	memset(n, 0, sizeof(*n));
	const char *d = tok + (*tok == '-' || *tok == '+');
	n->neg = *tok == '-';
	unsigned base = d[0] == '0' && (d[1] == 'x' || d[1] == 'X') ? 16 : 10;
	const char *q = base == 16 ? d + 2 : d;
	size_t nd = 0;
	for (int x; (x = digit_value(q[nd])) >= 0 && (unsigned)x < base; nd++) {
		if (n->mag > (UINT64_MAX - (unsigned)x) / base)
			n->too_big = true;
		n->mag = n->mag * base + (unsigned)x;
	}
	if (nd > 0 && q[nd] == '\0') {
		n->is_int = true;
		n->hex = base == 16;
		/* beyond 64 bits a decimal still names a double */
		n->dbl = n->too_big && !n->hex ? strtod(tok, NULL)
			 : n->neg	       ? -(double)n->mag
					       : (double)n->mag;
		return true;
	}
	/* floats: decimal only, no inf or nan, a digit first */
	if (base == 16 || strspn(d, "0123456789.eE+-") != strlen(d) ||
	    !is_digit(d[0] == '.' ? d[1] : d[0]))
		return false;
	char *end;
	int saved = errno;
	errno = 0;
	n->dbl = strtod(tok, &end);
	n->too_big = errno == ERANGE && (n->dbl > 1 || n->dbl < -1);
	errno = saved;
	return *end == '\0';
}

static const char *type_name(enum txc_type t)
{
	return sig_type_info(t)->name;
}

/* Converts N into the portable form of integer type T. */
static int int_literal(struct parser *p, const char *tok, const struct number *n,
		       struct txc_cond_term *t, const char *what)
{
	const struct txc_type_info *ti = sig_type_info(t->type);
	unsigned bits = t->type == TXC_T_BOOL ? 1 : 8u * ti->size;
	if (!n->is_int)
		return fail(p, "%s is not an integer (%s is %s)", tok, what, type_name(t->type));
	uint64_t max = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
	uint64_t lim_pos = ti->is_signed ? max >> 1 : max;
	uint64_t lim_neg = ti->is_signed ? (max >> 1) + 1 : 0;
	if (n->too_big || n->mag > (n->neg ? lim_neg : lim_pos))
		return fail(p, "%s is out of range for %s (%s)", tok, type_name(t->type), what);
	t->lit = n->neg ? 0 - n->mag : n->mag;
	return 0;
}

/* Reads the literal after OP into T, in the domain of T's operand. */
static int parse_literal(struct parser *p, struct txc_cond_term *t, const char *what)
{
	char tok[80];
	skip_space(p);
	size_t len = strcspn(p->s, " \t\r\n\f\v()");
	if (len == 0)
		return fail(p, "expected a value after the operator");
	if (len >= sizeof(tok))
		return fail(p, "value '%.20s...' is too long", p->s);
	memcpy(tok, p->s, len);
	tok[len] = '\0';
	p->s += len;
	if (t->type == TXC_T_VOID) { /* a string return */
		if (strcmp(tok, "NULL") != 0)
			return fail(p, "a string return can only be compared with NULL");
		if (t->op != TXC_CMP_EQ && t->op != TXC_CMP_NE)
			return fail(p, "NULL only works with == and !=");
		return 0;
	}
	struct number n;
	if (strcmp(tok, "NULL") == 0)
		return fail(p, "NULL needs a string return");
	if (!read_number(tok, &n))
		return fail(p, "'%s' is not a number (decimal, hex 0x.., float) or NULL", tok);
	if (!sig_type_info(t->type)->is_float)
		return int_literal(p, tok, &n, t, what);
	double lim = t->type == TXC_T_FLOAT ? FLT_MAX : DBL_MAX;
	if ((n.too_big && (n.hex || !n.is_int)) || n.dbl > lim || n.dbl < -lim)
		return fail(p, "%s is out of range for %s (%s)", tok, type_name(t->type), what);
	memcpy(&t->lit, &n.dbl, sizeof(t->lit));
	return 0;
}

/* ret, errno or *NAME; WHAT gets its spelling for messages. */
static int parse_operand(struct parser *p, struct txc_cond_term *t, char *what, size_t cap)
{
	const struct txc_sig *sig = p->sig;
	skip_space(p);
	if (take_word(p, "ret")) {
		if (sig->ret == TXC_R_VOID)
			return fail(p, "the function returns void");
		t->src = TXC_CS_RET;
		t->type = sig->ret == TXC_R_SCALAR ? (uint8_t)sig->ret_type : TXC_T_VOID;
		snprintf(what, cap, "ret");
		return 0;
	}
	if (take_word(p, "errno")) {
		t->src = TXC_CS_ERRNO;
		t->type = TXC_T_INT;
		snprintf(what, cap, "errno");
		return 0;
	}
	if (*p->s != '*')
		return fail(p, "expected ret, errno or *NAME (an out scalar) at '%.20s'", p->s);
	p->s++;
	size_t n = 0;
	while (is_ident(p->s[n]))
		n++;
	char name[TXC_NAME_MAX];
	if (n == 0 || n >= sizeof(name))
		return fail(p, "expected a parameter name after '*'");
	memcpy(name, p->s, n);
	name[n] = '\0';
	p->s += n;
	int i = sig_find_param(sig, name);
	if (i < 0)
		return fail(p, "no parameter named '%s'", name);
	if (!sig_kind_is_out_scalar(sig->params[i].kind))
		return fail(p, "'*%s': only out scalar parameters (out T *) can be compared", name);
	t->src = TXC_CS_OUT;
	t->param = (uint8_t)i;
	t->type = (uint8_t)sig->params[i].type;
	snprintf(what, cap, "*%s", name);
	return 0;
}

static int parse_cmp(struct parser *p)
{
	static const struct {
		const char *text;
		enum txc_cmp op;
	} ops[] = {{"==", TXC_CMP_EQ}, {"!=", TXC_CMP_NE}, {"<=", TXC_CMP_LE},
		   {">=", TXC_CMP_GE}, {"<", TXC_CMP_LT},  {">", TXC_CMP_GT}};
	struct txc_cond *c = p->c;
	char what[TXC_NAME_MAX + 1];
	if (c->nterms == TXC_COND_MAX_TERMS)
		return fail(p, "more than %d comparisons", TXC_COND_MAX_TERMS);
	struct txc_cond_term *t = &c->terms[c->nterms];
	memset(t, 0, sizeof(*t));
	int rc = parse_operand(p, t, what, sizeof(what));
	if (rc != 0)
		return rc;
	skip_space(p);
	size_t i = 0;
	while (i < 6 && strncmp(p->s, ops[i].text, strlen(ops[i].text)) != 0)
		i++;
	if (i == 6)
		return fail(p, "expected an operator after %s: == != < <= > >=", what);
	p->s += strlen(ops[i].text);
	t->op = (uint8_t)ops[i].op;
	rc = parse_literal(p, t, what);
	if (rc == 0)
		c->prog[c->nprog++] = c->nterms++;
	return rc;
}

static int parse_or(struct parser *p);

static int parse_primary(struct parser *p)
{
	skip_space(p);
	if (*p->s != '(')
		return parse_cmp(p);
	if (++p->depth > TXC_COND_MAX_DEPTH)
		return fail(p, "parentheses nested deeper than %d", TXC_COND_MAX_DEPTH);
	p->s++;
	int rc = parse_or(p);
	if (rc != 0)
		return rc;
	skip_space(p);
	if (*p->s != ')')
		return fail(p, "expected ')' at '%.20s'", p->s);
	p->s++;
	p->depth--;
	return rc;
}

/* One level of the grammar: OPERAND (WORD OPERAND)*, emitting OP after each pair. */
static int parse_chain(struct parser *p, const char *word, uint8_t op, int (*next)(struct parser *))
{
	int rc = next(p);
	while (rc == 0 && take_word(p, word)) {
		rc = next(p);
		if (rc == 0)
			p->c->prog[p->c->nprog++] = op;
	}
	return rc;
}

static int parse_and(struct parser *p)
{
	return parse_chain(p, "and", TXC_COND_AND, parse_primary);
}

static int parse_or(struct parser *p)
{
	return parse_chain(p, "or", TXC_COND_OR, parse_and);
}

int cond_parse(const char *text, const struct txc_sig *sig, struct txc_cond *out, char *err,
	       size_t errcap)
{
	struct parser p = {text, sig, out, err, errcap, 0};
	memset(out, 0, sizeof(*out));
	if (errcap)
		err[0] = '\0';
	int rc = parse_or(&p);
	if (rc == 0)
		skip_space(&p);
	if (rc == 0 && *p.s != '\0')
		rc = fail(&p, "expected 'and', 'or' or the end at '%.20s'", p.s);
	if (rc != 0) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	out->set = true;
	return 0;
}

/* -1, 0 or 1: V against T's literal; 2 when either is a NaN. */
static int compare(const struct txc_cond_term *t, uint64_t v)
{
	if (t->type == TXC_T_FLOAT || t->type == TXC_T_DOUBLE) {
		double a, b;
		if (t->type == TXC_T_FLOAT) {
			float f;
			uint32_t b32 = (uint32_t)v;
			memcpy(&f, &b32, sizeof(f));
			a = f;
		} else {
			memcpy(&a, &v, sizeof(a));
		}
		memcpy(&b, &t->lit, sizeof(b));
		return a < b ? -1 : a > b ? 1 : a == b ? 0 : 2;
	}
	if (sig_type_info(t->type)->is_signed) {
		int64_t a = (int64_t)v, b = (int64_t)t->lit;
		return a < b ? -1 : a > b;
	}
	return v < t->lit ? -1 : v > t->lit;
}

static bool term_holds(const struct txc_cond_term *t, const struct txc_result *res)
{
	int cmp;
	if (t->src == TXC_CS_RET && t->type == TXC_T_VOID) {
		cmp = res->ret_str != NULL; /* only NULL is comparable */
	} else if (t->src == TXC_CS_OUT && !res->out[t->param].present) {
		return false; /* documented: a NULL out pointer fails every comparison */
	} else {
		uint64_t v = t->src == TXC_CS_RET ? res->ret
			     : t->src == TXC_CS_ERRNO
				 ? (uint64_t)(int64_t)(res->err_set ? res->err : 0)
				 : res->out[t->param].num;
		cmp = compare(t, v);
	}
	if (cmp == 2)
		return t->op == TXC_CMP_NE;
	switch (t->op) {
	case TXC_CMP_EQ:
		return cmp == 0;
	case TXC_CMP_NE:
		return cmp != 0;
	case TXC_CMP_LT:
		return cmp < 0;
	case TXC_CMP_LE:
		return cmp <= 0;
	case TXC_CMP_GT:
		return cmp > 0;
	default:
		return cmp >= 0;
	}
}

bool cond_holds(const struct txc_cond *c, const struct txc_result *res)
{
	bool stack[TXC_COND_MAX_TERMS];
	int top = 0;
	if (!c->set)
		return true;
	for (int i = 0; i < c->nprog; i++) {
		uint8_t op = c->prog[i];
		if (op == TXC_COND_AND || op == TXC_COND_OR) {
			bool b = stack[--top], a = stack[--top];
			stack[top++] = op == TXC_COND_AND ? a && b : a || b;
		} else {
			stack[top++] = term_holds(&c->terms[op], res);
		}
	}
	return top == 1 && stack[0];
}
