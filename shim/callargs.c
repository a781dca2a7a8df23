/* callargs.c - keyed arguments supplied by hand; see callargs.h. */
#include <string.h>

#include "callargs.h"
#include "err.h"

/* True when parameter I is the LEN of some keyed bytes parameter. */
static bool is_bytes_len(const struct txc_sig *sig, int i)
{
	for (int k = 0; k < sig->nparams; k++) {
		const struct txc_param *p = &sig->params[k];
		if (p->kind == TXC_K_BYTES && p->keyed && p->size.from == TXC_SZ_PARAM &&
		    p->size.param == i)
			return true;
	}
	return false;
}

bool callargs_given(const struct txc_sig *sig, int i)
{
	const struct txc_param *p = &sig->params[i];
	if (p->kind == TXC_K_INOUT_SCALAR)
		return p->keyed; /* its value on entry, or NULL */
	if (!sig_param_keyed(p))
		return false;
	return p->kind != TXC_K_SCALAR || !is_bytes_len(sig, i);
}

int callargs_count(const struct txc_sig *sig)
{
	int n = 0;
	for (int i = 0; i < sig->nparams; i++)
		n += callargs_given(sig, i);
	return n;
}

bool callargs_int_fits(enum txc_type t, uint64_t v, bool is_int64)
{
	const struct txc_type_info *ti = sig_type_info(t);
	if (!ti || ti->is_float || ti->size == 0)
		return false;
	bool neg = is_int64 && (int64_t)v < 0;
	if (t == TXC_T_BOOL)
		return !neg && v <= 1;
	unsigned bits = ti->size * 8u - ti->is_signed; /* value bits */
	if (neg)
		return ti->is_signed && (bits >= 63 || (int64_t)v >= -(int64_t)(1ULL << bits));
	return bits >= 64 || v <= (1ULL << bits) - 1;
}

uint64_t callargs_from_int(enum txc_type t, uint64_t v)
{
	uint8_t tmp[8];
	if (t == TXC_T_BOOL)
		v = v != 0;
	/* the store truncates to T's width, the load sign- or zero-extends */
	sig_scalar_store(t, v, tmp);
	return sig_scalar_load(t, tmp);
}

uint64_t callargs_from_double(enum txc_type t, double d)
{
	if (t == TXC_T_FLOAT) {
		float f = (float)d;
		return sig_scalar_load(t, &f);
	}
	return sig_scalar_load(TXC_T_DOUBLE, &d);
}

int callargs_finish(const struct txc_sig *sig, struct txc_arg *args)
{
	static const char present = 1;
	bool set[TXC_MAX_PARAMS] = {false};
	for (int i = 0; i < sig->nparams; i++) {
		const struct txc_param *p = &sig->params[i];
		struct txc_arg *a = &args[i];
		if (p->kind == TXC_K_INOUT_SCALAR && p->keyed)
			continue; /* given: a value, or NULL */
		if (sig_param_is_out(p)) {
			a->ptr = &present;
			continue;
		}
		if (p->kind != TXC_K_BYTES || !p->keyed)
			continue;
		uint64_t len = a->ptr ? a->len : 0;
		if (p->size.from == TXC_SZ_LITERAL && a->ptr && len != p->size.literal)
			return TXC_EINVAL;
		if (p->size.from == TXC_SZ_DEREF) { /* bytes[*n]: n is given on its own */
			const struct txc_arg *n = &args[p->size.param];
			if (sig->params[p->size.param].keyed && a->ptr &&
			    (!n->ptr || n->num != len))
				return TXC_EINVAL;
			continue;
		}
		if (p->size.from != TXC_SZ_PARAM)
			continue;
		int ref = p->size.param;
		const struct txc_param *rp = &sig->params[ref];
		if (!callargs_int_fits(rp->type, len, false))
			return TXC_EINVAL;
		uint64_t v = callargs_from_int(rp->type, len);
		if (set[ref] && args[ref].num != v)
			return TXC_EINVAL;
		args[ref].num = v;
		set[ref] = true;
	}
	return 0;
}
