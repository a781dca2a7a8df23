/* result.c - reading and writing results in libffi terms (see result.h). */
#include <ffi.h>
#include <string.h>

#include "err.h"
#include "result.h"

/* libffi widens integer results narrower than a register to ffi_arg. */
uint64_t result_ret_load(const struct txc_sig *sig, const void *ret)
{
	const struct txc_type_info *ti = sig_type_info(sig->ret_type);
	if (ti->is_float || ti->size >= sizeof(ffi_arg))
		return sig_scalar_load(sig->ret_type, ret);
	ffi_arg a;
	memcpy(&a, ret, sizeof(a));
	uint8_t narrow[8];
	uint64_t wide = (uint64_t)a;
	memcpy(narrow, &wide, sizeof(narrow)); /* little endian: low bytes first */
	return sig_scalar_load(sig->ret_type, narrow);
}

void result_ret_store(const struct txc_sig *sig, uint64_t v, void *ret)
{
	const struct txc_type_info *ti = sig_type_info(sig->ret_type);
	if (ti->is_float || ti->size >= sizeof(ffi_arg)) {
		sig_scalar_store(sig->ret_type, v, ret);
		return;
	}
	/* v is already sign- or zero-extended to 64 bits */
	ffi_arg a = (ffi_arg)v;
	memcpy(ret, &a, sizeof(a));
}

/* The value of a CAP or LEN reference; negative counts as 0. */
static uint64_t size_value(const struct txc_sig *sig, const struct txc_size *sz, void **args,
			   const void *ret)
{
	enum txc_type t;
	uint64_t v;
	switch (sz->from) {
	case TXC_SZ_LITERAL:
		return sz->literal;
	case TXC_SZ_PARAM:
		t = sig->params[sz->param].type;
		v = sig_scalar_load(t, args[sz->param]);
		break;
	case TXC_SZ_RET:
		t = sig->ret_type;
		v = result_ret_load(sig, ret);
		break;
	case TXC_SZ_DEREF: { /* what it points to now; NULL counts as 0 */
		const void *at = *(void **)args[sz->param];
		if (!at)
			return 0;
		t = sig->params[sz->param].type;
		v = sig_scalar_load(t, at);
		break;
	}
	default:
		return 0;
	}
	if (sig_type_info(t)->is_signed && (int64_t)v < 0)
		return 0;
	return v;
}

/* True when the stored out O may have been cut short by the capacity its
 * real call was given: it filled that capacity, or an integer return value
 * reached it (confstr and snprintf return the size they needed). Either
 * can be a coincidence; refusing then costs one real call, serving a cut
 * result would be a wrong answer. */
static bool may_be_cut(const struct txc_sig *sig, const struct txc_param *p,
		       const struct txc_result *res, const struct txc_out *o)
{
	if (o->len + (p->kind == TXC_K_OUT_STRING ? 1 : 0) >= o->cap)
		return true;
	if (sig->ret != TXC_R_SCALAR || sig->ret_type == TXC_T_BOOL)
		return false;
	const struct txc_type_info *ti = sig_type_info(sig->ret_type);
	if (ti->is_float || (ti->is_signed && (int64_t)res->ret < 0))
		return false;
	return res->ret >= o->cap;
}

/* out bytes[CAP:param]: the stored length against this call's LEN. A
 * mismatch is corrupt when LEN and CAP are both in the key (the stored call
 * had the same values), else the call differs and the real function runs. */
static int len_param_fits(const struct txc_sig *sig, const struct txc_param *p, void **args,
			  uint64_t cap, const struct txc_out *o)
{
	uint64_t n = size_value(sig, &p->len, args, NULL);
	uint64_t stored_want = n < o->cap ? n : o->cap;
	bool known = sig->params[p->len.param].keyed &&
		     (p->size.from != TXC_SZ_PARAM || sig->params[p->size.param].keyed);
	if (known && o->len != stored_want)
		return TXC_ECORRUPT;
	return o->len == (n < cap ? n : cap) ? 0 : TXC_ERANGE;
}

/* One buffer out against the caller's capacity. */
static int buffer_fits(const struct txc_sig *sig, const struct txc_param *p, void **args,
		       const struct txc_result *res, const struct txc_out *o)
{
	uint64_t cap = size_value(sig, &p->size, args, NULL);
	uint64_t need = o->len + (p->kind == TXC_K_OUT_STRING ? 1 : 0);
#ifdef TXC_MUTANT_OUTS_FIT /* make mutants: the capacity check skipped */
	return 0;
#endif
	if (need > cap)
		return TXC_ERANGE;
	/* with CAP out of the key ("ignore = cap"), the real call with this
	 * capacity may have given more than the stored, cut result */
	if (cap != o->cap && may_be_cut(sig, p, res, o))
		return TXC_ERANGE;
	if (p->kind == TXC_K_OUT_BYTES && p->len.from == TXC_SZ_PARAM)
		return len_param_fits(sig, p, args, cap, o);
	return 0;
}

/* Checks that every cached out-parameter fits the caller's buffer before
 * anything is written: a hit is all or nothing. */
int result_outs_fit(const struct txc_sig *sig, void **args, const struct txc_result *res)
{
	for (int i = 0; i < sig->nparams; i++) {
		const struct txc_param *p = &sig->params[i];
		if (!sig_param_is_out(p) || res->outs_dropped)
			continue;
		void *dst = *(void **)args[i];
		if ((dst != NULL) != res->out[i].present)
			return TXC_ECORRUPT; /* the key covers NULL-ness: cannot happen honestly */
		if (!dst || sig_kind_is_out_scalar(p->kind))
			continue;
		int rc = buffer_fits(sig, p, args, res, &res->out[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void result_outs_write(const struct txc_sig *sig, void **args, const struct txc_result *res)
{
	for (int i = 0; i < sig->nparams; i++) {
		const struct txc_param *p = &sig->params[i];
		void *dst = sig_param_is_out(p) ? *(void **)args[i] : NULL;
		if (!dst || res->outs_dropped) /* outs_if said no: the caller's stay */
			continue;
		const struct txc_out *o = &res->out[i];
		if (sig_kind_is_out_scalar(p->kind)) {
			sig_scalar_store(p->type, o->num, dst);
		} else {
			if (o->len)
				memcpy(dst, o->data, o->len);
			if (p->kind == TXC_K_OUT_STRING)
				((char *)dst)[o->len] = '\0';
		}
	}
}

/* Reads what the real call produced. Returns 0, or TXC_EINVAL when an
 * out string was left without a NUL inside its capacity (not storable
 * unless outs_if drops the outs); that out reads as absent, the rest is
 * read all the same. */
/* A CAP read through a pointer is its value on entry: the real call may
 * have overwritten it (compress2's *destLen). */
static uint64_t entry_cap(const struct txc_sig *sig, const struct txc_size *sz,
			  const struct txc_arg *entry)
{
	if (!entry || sz->param < 0 || !entry[sz->param].ptr)
		return 0;
	uint64_t v = entry[sz->param].num;
	bool neg = sig_type_info(sig->params[sz->param].type)->is_signed && (int64_t)v < 0;
	return neg ? 0 : v;
}

int result_collect(const struct txc_sig *sig, void *ret, void **args, const struct txc_arg *entry,
		   struct txc_result *res)
{
	int bad = 0;
	memset(res, 0, sizeof(*res));
	if (sig->ret == TXC_R_SCALAR) {
		res->ret = result_ret_load(sig, ret);
	} else if (sig->ret != TXC_R_VOID) {
		char *s;
		memcpy(&s, ret, sizeof(s));
		res->ret_str = s;
		res->ret_len = s ? strlen(s) : 0;
	}
	for (int i = 0; i < sig->nparams; i++) {
		const struct txc_param *p = &sig->params[i];
		void *src = sig_param_is_out(p) ? *(void **)args[i] : NULL;
		struct txc_out *o = &res->out[i];
		if (!src)
			continue;
		o->present = true;
		if (sig_kind_is_out_scalar(p->kind)) {
			o->num = sig_scalar_load(p->type, src);
			continue;
		}
		uint64_t cap = p->size.from == TXC_SZ_DEREF ? entry_cap(sig, &p->size, entry)
							    : size_value(sig, &p->size, args, ret);
		o->data = src;
		o->cap = cap;
		if (p->kind == TXC_K_OUT_STRING) {
			const char *nul = memchr(src, '\0', cap);
			if (!nul) { /* read on: outs_if may drop every out */
				o->present = false;
				bad = TXC_EINVAL;
				continue;
			}
			o->len = (uint64_t)(nul - (const char *)src);
		} else {
			uint64_t len =
			    p->len.from == TXC_SZ_NONE ? cap : size_value(sig, &p->len, args, ret);
			o->len = len < cap ? len : cap;
		}
	}
	return bad;
}
