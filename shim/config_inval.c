/* config_inval.c - "invalidates = f(a, b), g(*)" of a mutator: parsed
 * once every section is read (a target may be defined further down), each
 * target's keyed parameters matched to the mutator's by name, and their
 * value classes checked (see config_priv.h).
 */
#include <stdio.h>
#include <string.h>

#include "config_priv.h"

/* The class of values a parameter keys by: invalidation copies values as they
 * are, so only parameters with the same portable form can stand for each other. */
static int value_class(const struct txc_param *p)
{
	if (p->kind == TXC_K_STRING || sig_kind_is_file(p->kind)) /* a path is a string */
		return 1;
	if (p->kind == TXC_K_BYTES)
		return 2;
	if (p->kind == TXC_K_SYMPTR)
		return 6;
	if (p->kind != TXC_K_SCALAR)
		return 0;
	if (p->type == TXC_T_FLOAT)
		return 3;
	return p->type == TXC_T_DOUBLE ? 4 : 5;
}

static const char *param_desc(const struct txc_param *p)
{
	static const char *const kinds[] = {"?",      "string", "bytes", "float",
					    "double", "?",	"symptr"};
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
	for (int p = 0; !t->star && p < ts->nparams; p++) /* not mapped from a call */
		if (ts->params[p].kind == TXC_K_INOUT_SCALAR && ts->params[p].keyed)
			return cfg_note(ld, line, false,
					"invalidates: %s is keyed by inout '%s', which no argument "
					"can stand for: use %s(*)",
					t->name, ts->params[p].name, t->name);
	for (int p = 0, a = 0; !t->star && p < ts->nparams; p++) {
		const struct txc_param *tp = &ts->params[p];
		if (!sig_param_keyed(tp))
			continue;
		int j = sig_find_param(&fc->sig, t->args[a]);
		if (j < 0)
			return cfg_note(ld, line, false, "invalidates: %s: no parameter named '%s'",
					t->name, t->args[a]);
		const struct txc_param *mp = &fc->sig.params[j];
		/* an ignored parameter is never read from the call: the target
		 * would be keyed by zeroes, and the real entry never dropped */
		if (value_class(mp) && !sig_param_keyed(mp))
			return cfg_note(ld, line, false,
					"invalidates: %s: '%s' is listed in ignore (line %d), so "
					"its value is not read; take it out of ignore",
					t->name, t->args[a], ld->raw[i].k[FK_IGNORE].line);
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

int config_check_invalidates(struct loader *ld, int i)
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
