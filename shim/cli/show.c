/* show.c - cached results for people (C-like literals) and for JSON
 * (text by the rule of jsonout.h, bytes as lowercase hex). */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "args.h"
#include "jsonout.h"

/* A C string literal; bytes outside printable ASCII as \xNN. */
static void c_str(FILE *out, const char *s, size_t len)
{
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch >= 0x20 && ch < 0x7f)
			fputc(ch, out);
		else
			fprintf(out, "\\x%02x", ch);
	}
	fputc('"', out);
}

static void hex(FILE *out, const void *p, size_t len, bool json)
{
	const uint8_t *b = p;
	if (json)
		fputc('"', out);
	for (size_t i = 0; i < len; i++)
		fprintf(out, "%02x", b[i]);
	if (json)
		fputc('"', out);
}

/* A scalar in its portable form V; non-finite floats as JSON strings. */
static void scalar(FILE *out, enum txc_type t, uint64_t v, bool json)
{
	const struct txc_type_info *ti = sig_type_info(t);
	if (!ti->is_float) {
		if (ti->is_signed)
			fprintf(out, "%" PRId64, (int64_t)v);
		else
			fprintf(out, "%" PRIu64, v);
		return;
	}
	double d;
	if (t == TXC_T_FLOAT) {
		float f;
		sig_scalar_store(t, v, &f);
		d = f;
	} else {
		memcpy(&d, &v, sizeof(d));
	}
	const char *q = json && !isfinite(d) ? "\"" : "";
	fprintf(out, t == TXC_T_FLOAT ? "%s%.9g%s" : "%s%.17g%s", q, d, q);
}

static void string(FILE *out, const char *s, size_t len, bool json)
{
	if (!s)
		fputs(json ? "null" : "NULL", out);
	else if (json)
		cli_json_str(out, s, len);
	else
		c_str(out, s, len);
}

static void out_value(FILE *out, const struct txc_param *p, const struct txc_out *o, bool json)
{
	if (!o->present)
		fputs(json ? "null" : "NULL", out);
	else if (sig_kind_is_out_scalar(p->kind))
		scalar(out, p->type, o->num, json);
	else if (p->kind == TXC_K_OUT_STRING)
		string(out, o->data, o->len, json);
	else
		hex(out, o->data, o->len, json);
}

static void ret_value(FILE *out, const struct txc_sig *sig, const struct txc_result *res, bool json)
{
	if (sig->ret == TXC_R_SCALAR)
		scalar(out, sig->ret_type, res->ret, json);
	else
		string(out, res->ret_str, res->ret_len, json);
}

static void print_json(FILE *out, const struct cli_call *c, const struct txc_result *res,
		       const struct txc_value_meta *meta)
{
	const struct txc_sig *sig = c->sig;
	fputs("{\"function\":", out);
	cli_json_str(out, sig->name, strlen(sig->name));
	fputs(",\"key\":", out);
	cli_json_str(out, c->key.text, c->key.len);
	if (sig->ret != TXC_R_VOID) {
		fputs(",\"ret\":", out);
		ret_value(out, sig, res, true);
	}
	fputs(",\"out\":{", out);
	for (int i = 0, n = 0; i < sig->nparams; i++) {
		if (!sig_param_is_out(&sig->params[i]))
			continue;
		char label[TXC_NAME_MAX + 16];
		cli_param_label(sig, i, label, sizeof(label));
		fputs(n++ ? "," : "", out);
		cli_json_str(out, label, strlen(label));
		fputc(':', out);
		out_value(out, &sig->params[i], &res->out[i], true);
	}
	fputc('}', out);
	if (res->outs_dropped)
		fputs(",\"outs_stored\":false", out);
	if (res->err_set)
		fprintf(out, ",\"errno\":%" PRId32, res->err);
	/* fresh_until_ns: wall clock, 0 = never stale (fresh.h) */
	fprintf(out, ",\"cost_ns\":%" PRIu64 ",\"fresh_until_ns\":%" PRIu64 "}\n", meta->cost_ns,
		meta->fresh_until);
}

void cli_result_print(FILE *out, const struct cli_call *c, const struct txc_result *res,
		      const struct txc_value_meta *meta, bool json)
{
	const struct txc_sig *sig = c->sig;
	if (json) {
		print_json(out, c, res, meta);
		return;
	}
	if (sig->ret != TXC_R_VOID) {
		fputs("ret = ", out);
		ret_value(out, sig, res, false);
		fputc('\n', out);
	}
	for (int i = 0; i < sig->nparams; i++) {
		if (!sig_param_is_out(&sig->params[i]))
			continue;
		char label[TXC_NAME_MAX + 16];
		cli_param_label(sig, i, label, sizeof(label));
		fprintf(out, "%s = ", label);
		if (res->outs_dropped) /* outs_if failed: a hit leaves the caller's */
			fputs("(not stored: outs_if)", out);
		else
			out_value(out, &sig->params[i], &res->out[i], false);
		fputc('\n', out);
	}
	if (res->err_set)
		fprintf(out, "errno = %" PRId32 "\n", res->err);
}
