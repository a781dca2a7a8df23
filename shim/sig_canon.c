/* sig_canon.c - the canonical text of a parsed signature (see sig.h).
 *
 * Apart from the parser so each stays readable; the two must agree: every
 * canonical text parses back to itself (tests/fuzz/fuzz_sig.c checks it).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "fmt.h"
#include "sig.h"

void sig_size_text(const struct txc_sig *sig, const struct txc_size *s, char *buf, size_t cap)
{
	if (s->from == TXC_SZ_LITERAL)
		txc_fmt(buf, cap, "%llu", (unsigned long long)s->literal);
	else if (s->from == TXC_SZ_RET)
		txc_fmt(buf, cap, "ret");
	else if (s->from == TXC_SZ_PARAM && s->param >= 0)
		txc_fmt(buf, cap, "%s", sig->params[s->param].name);
	else if (s->from == TXC_SZ_DEREF && s->param >= 0)
		txc_fmt(buf, cap, "*%s", sig->params[s->param].name);
	else
		txc_fmt(buf, cap, "?");
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
	sig_size_text(sig, &pm->size, a, sizeof(a));
	sig_size_text(sig, &pm->len, b, sizeof(b));
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
		if (pm->len.from == TXC_SZ_NONE ||
		    (pm->len.from == TXC_SZ_DEREF && pm->size.from == TXC_SZ_DEREF &&
		     pm->len.param == pm->size.param)) /* [*n] is [*n:*n] */
			sb_add(sb, "out bytes[%s]", a);
		else
			sb_add(sb, "out bytes[%s:%s]", a, b);
		break;
	case TXC_K_OUT_SCALAR:
		sb_add(sb, "out %s *", type_name(pm->type));
		break;
	case TXC_K_INOUT_SCALAR:
		sb_add(sb, "inout %s *", type_name(pm->type));
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
		sb_add(sb, "%s%.*s", sig_kind_is_out_scalar(pm->kind) ? "" : " ", TXC_NAME_MAX - 1,
		       pm->name);
	bool keyable = pm->kind == TXC_K_SCALAR || pm->kind == TXC_K_STRING ||
		       pm->kind == TXC_K_BYTES || pm->kind == TXC_K_SYMPTR ||
		       sig_kind_is_file(pm->kind) || pm->kind == TXC_K_INOUT_SCALAR;
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
