/* bytelen.c - negative lengths of bytes parameters (bytelen.h). */
#include "bytelen.h"
#include "err.h"

int bytelen_check(const struct txc_sig *sig, void *const *avalue, int *bad)
{
	for (int i = 0; i < sig->nparams && i < TXC_MAX_PARAMS; i++) {
		const struct txc_param *p = &sig->params[i];
		if (p->kind != TXC_K_BYTES || !p->keyed || p->size.from != TXC_SZ_PARAM)
			continue;
		int ref = p->size.param;
		if (ref < 0 || ref >= sig->nparams || sig->params[ref].kind != TXC_K_SCALAR)
			continue;
		const struct txc_type_info *ti = sig_type_info(sig->params[ref].type);
		if (!ti || !ti->is_signed || ti->is_float)
			continue;
		if (!*(const void *const *)avalue[i])
			continue; /* NULL keys as NULL, whatever the length */
		if ((int64_t)sig_scalar_load(sig->params[ref].type, avalue[ref]) < 0) {
			*bad = i;
			return TXC_EINVAL;
		}
	}
	return 0;
}
