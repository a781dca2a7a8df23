/* bytelen.c - negative lengths of bytes parameters (bytelen.h). */
#include "bytelen.h"
#include "err.h"

/* The signed LEN of bytes parameter P, or 0 when it is unsigned, a float
 * or read through a NULL pointer. */
static int64_t signed_len(const struct txc_sig *sig, const struct txc_param *p, void *const *avalue)
{
	int ref = p->size.param;
	if (ref < 0 || ref >= sig->nparams)
		return 0;
	const struct txc_param *r = &sig->params[ref];
	const struct txc_type_info *ti = sig_type_info(r->type);
	if (!ti || !ti->is_signed || ti->is_float)
		return 0;
	if (p->size.from == TXC_SZ_PARAM && r->kind == TXC_K_SCALAR)
		return (int64_t)sig_scalar_load(r->type, avalue[ref]);
	if (p->size.from == TXC_SZ_DEREF && r->kind == TXC_K_INOUT_SCALAR) {
		const void *at = *(const void *const *)avalue[ref];
		return at ? (int64_t)sig_scalar_load(r->type, at) : 0;
	}
	return 0;
}

int bytelen_check(const struct txc_sig *sig, void *const *avalue, int *bad)
{
	for (int i = 0; i < sig->nparams && i < TXC_MAX_PARAMS; i++) {
		const struct txc_param *p = &sig->params[i];
		if (p->kind != TXC_K_BYTES || !p->keyed)
			continue;
		if (!*(const void *const *)avalue[i])
			continue; /* NULL keys as NULL, whatever the length */
		if (signed_len(sig, p, avalue) < 0) {
			*bad = i;
			return TXC_EINVAL;
		}
	}
	return 0;
}
