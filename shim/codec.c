/* codec.c - the bytes stored in memcached for one cached call.
 *
 * The layout is in codec.h. The checksum is XXH3-64 of the whole value with
 * the checksum field (bytes 72..79) replaced by eight zero bytes; it is
 * computed by streaming bytes [0..72), eight zeros and bytes [80..len), so
 * the const input of decode is never copied or written.
 *
 * Decoding is strict: a value is either exactly what codec_encode would
 * write for some result, or TXC_ECORRUPT. Encode refuses what decode would
 * reject (a string holding a NUL), so every encoded value decodes.
 */
#include <string.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "codec.h"
#include "capture_fmt.h"
#include "err.h"

#define OFF_MAGIC   0
#define OFF_VERSION 4
#define OFF_FLAGS   5
#define OFF_FE	    6
#define OFF_RES1    7
#define OFF_SIG	    8
#define OFF_KEY	    24
#define OFF_NS_GEN  40
#define OFF_FN_GEN  48
#define OFF_COST    56
#define OFF_PLEN    64
#define OFF_ERRNO   68
#define OFF_SUM	    72
#define OFF_FRESH   80

static const uint8_t magic[4] = {'T', 'X', 'C', 0x01};

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t checksum(const uint8_t *buf, size_t len)
{
	static const uint8_t zero[8];
	XXH3_state_t st;

	XXH3_64bits_reset(&st);
	XXH3_64bits_update(&st, buf, OFF_SUM);
	XXH3_64bits_update(&st, zero, sizeof(zero));
	XXH3_64bits_update(&st, buf + OFF_SUM + 8, len - OFF_SUM - 8);
	return XXH3_64bits_digest(&st);
}

static int nparams_of(const struct txc_sig *sig)
{
	if (sig->nparams < 0)
		return 0;
	return sig->nparams > TXC_MAX_PARAMS ? TXC_MAX_PARAMS : sig->nparams;
}

/* Buffer outs and the captured output of out fd / out stream each have an
 * entry; a capture is always present and stored as a blob. */
static int has_entry(const struct txc_param *p)
{
	return sig_param_is_out(p) || sig_param_is_capture(p);
}

#define FLAG_ERRNO  0x01
#define FLAG_NOOUTS 0x02 /* outs_if failed: no buffer out is stored */

static int is_str_ret(enum txc_ret r)
{
	return sig_ret_is_string(r);
}

/* Buffer outs whose entry records the capacity the real call was given. */
static int has_cap(const struct txc_param *p)
{
	return p->kind == TXC_K_OUT_STRING || p->kind == TXC_K_OUT_BYTES;
}

/* Adds the size of one length-prefixed blob to *TOTAL. Returns 0 when it
 * cannot be stored: over 32 bits, or data missing behind a length. */
static int add_blob(uint64_t *total, const void *data, uint64_t len)
{
	if (len > UINT32_MAX || (!data && len))
		return 0;
	*total += 4 + len;
	return 1;
}

static uint64_t payload_size(const struct txc_sig *sig, const struct txc_result *res)
{
	uint64_t n = 0;

	if (sig->ret == TXC_R_SCALAR) {
		n += 8;
	} else if (is_str_ret(sig->ret)) {
		n += 1;
		if (res->ret_str && !add_blob(&n, res->ret_str, res->ret_len))
			return UINT64_MAX;
	} else if (sig->ret != TXC_R_VOID) {
		return UINT64_MAX;
	}
	for (int i = 0; i < nparams_of(sig); i++) {
		const struct txc_param *p = &sig->params[i];
		const struct txc_out *o = &res->out[i];

		if (!has_entry(p))
			continue;
		n += 1;
		if (!o->present)
			continue;
		if (sig_kind_is_out_scalar(p->kind) || has_cap(p))
			n += 8;
		if (!sig_kind_is_out_scalar(p->kind) && !add_blob(&n, o->data, o->len))
			return UINT64_MAX;
	}
	return n;
}

size_t codec_size(const struct txc_sig *sig, const struct txc_result *res)
{
	uint64_t n = payload_size(sig, res);

	/* each term is at most 2^32 + 5 and there are at most 17 of them, so
	 * the sum cannot wrap; the 32-bit payload length field is the limit */
	if (n > UINT32_MAX)
		return 0;
	return (size_t)n + TXC_VALUE_HEADER;
}

static int has_nul(const void *data, uint64_t len)
{
	return len && memchr(data, '\0', (size_t)len) != NULL;
}

static uint8_t *put_blob(uint8_t *p, const void *data, uint64_t len)
{
	put_u32(p, (uint32_t)len);
	if (len)
		memcpy(p + 4, data, (size_t)len);
	return p + 4 + len;
}

static void encode_payload(const struct txc_sig *sig, const struct txc_result *res, uint8_t *w)
{
	if (sig->ret == TXC_R_SCALAR) {
		put_u64(w, res->ret);
		w += 8;
	} else if (is_str_ret(sig->ret)) {
		*w++ = res->ret_str == NULL;
		if (res->ret_str)
			w = put_blob(w, res->ret_str, res->ret_len);
	}
	for (int i = 0; i < nparams_of(sig); i++) {
		const struct txc_param *par = &sig->params[i];
		const struct txc_out *o = &res->out[i];

		if (!has_entry(par))
			continue;
		*w++ = o->present ? 1 : 0;
		if (!o->present)
			continue;
		if (sig_kind_is_out_scalar(par->kind)) {
			put_u64(w, o->num);
			w += 8;
			continue;
		}
		if (has_cap(par)) {
			put_u64(w, o->cap);
			w += 8;
		}
		w = put_blob(w, o->data, o->len);
	}
}

/* Strings that decode would reject must not be stored. */
static int strings_ok(const struct txc_sig *sig, const struct txc_result *res)
{
	if (is_str_ret(sig->ret) && res->ret_str && has_nul(res->ret_str, res->ret_len))
		return 0;
	for (int i = 0; i < nparams_of(sig); i++) {
		const struct txc_out *o = &res->out[i];

		if (sig->params[i].kind == TXC_K_OUT_STRING && o->present &&
		    has_nul(o->data, o->len))
			return 0;
	}
	return 1;
}

/* The ret of out bytes[CAP:ret] as a length: negative counts as 0, as on
 * the miss path (result.c). */
static uint64_t ret_as_len(const struct txc_sig *sig, uint64_t ret)
{
	const struct txc_type_info *ti = sig_type_info(sig->ret_type);

	if (ti && ti->is_signed && (int64_t)ret < 0)
		return 0;
	return ret;
}

/* What the signature says about a buffer out's length and capacity. */
static int out_len_ok(const struct txc_sig *sig, const struct txc_param *p,
		      const struct txc_result *res, const struct txc_out *o)
{
	uint64_t want;

	if (p->kind == TXC_K_OUT_STRING && (o->cap == 0 || o->len > o->cap - 1))
		return 0;
	if (o->len > o->cap || (p->size.from == TXC_SZ_LITERAL && o->cap != p->size.literal))
		return 0;
	if (p->kind != TXC_K_OUT_BYTES)
		return 1;
	if (p->len.from == TXC_SZ_NONE)
		return o->len == o->cap;
	if (p->len.from == TXC_SZ_RET) {
		want = ret_as_len(sig, res->ret);
		return o->len == (want < o->cap ? want : o->cap);
	}
	if (p->len.from == TXC_SZ_LITERAL) {
		want = p->len.literal;
		return o->len == (want < o->cap ? want : o->cap);
	}
	if (p->len.from == TXC_SZ_DEREF) { /* [*n]: *n as stored, 0 through NULL */
		const struct txc_out *n = &res->out[p->len.param];
		const struct txc_type_info *ti = sig_type_info(sig->params[p->len.param].type);
		want = !n->present || (ti->is_signed && (int64_t)n->num < 0) ? 0 : n->num;
		return o->len == (want < o->cap ? want : o->cap);
	}
	return 1; /* [CAP:param]: checked at hit time, where the value is known */
}

static int lengths_ok(const struct txc_sig *sig, const struct txc_result *res)
{
	for (int i = 0; i < nparams_of(sig); i++) {
		const struct txc_param *p = &sig->params[i];

#ifndef TXC_MUTANT_NOOUTS /* make mutants: an out entry under bit 1 accepted */
		if (res->outs_dropped && sig_param_is_out(p) && res->out[i].present)
			return 0; /* bit 1 says none is stored */
#endif
		if (has_cap(p) && res->out[i].present && !out_len_ok(sig, p, res, &res->out[i]))
			return 0;
	}
	return 1;
}

int codec_encode(const struct txc_sig *sig, const struct txc_value_meta *meta,
		 const struct txc_result *res, uint8_t *buf, size_t cap, size_t *len)
{
	size_t n = codec_size(sig, res);

	if (n == 0 || cap < n)
		return TXC_ETOOBIG;
	if (!strings_ok(sig, res) || !lengths_ok(sig, res))
		return TXC_EINVAL;
	memset(buf, 0, TXC_VALUE_HEADER);
	memcpy(buf + OFF_MAGIC, magic, sizeof(magic));
	buf[OFF_VERSION] = TXC_VALUE_VERSION;
	if (res->err_set) {
		buf[OFF_FLAGS] = FLAG_ERRNO;
		put_u32(buf + OFF_ERRNO, (uint32_t)res->err);
	}
	if (res->outs_dropped)
		buf[OFF_FLAGS] |= FLAG_NOOUTS;
	buf[OFF_FE] = res->fe_raised;
	memcpy(buf + OFF_SIG, meta->sig.b, 16);
	memcpy(buf + OFF_KEY, meta->key.b, 16);
	put_u64(buf + OFF_NS_GEN, meta->ns_gen);
	put_u64(buf + OFF_FN_GEN, meta->fn_gen);
	put_u64(buf + OFF_COST, meta->cost_ns);
	put_u64(buf + OFF_FRESH, meta->fresh_until);
	put_u32(buf + OFF_PLEN, (uint32_t)(n - TXC_VALUE_HEADER));
	encode_payload(sig, res, buf + TXC_VALUE_HEADER);
	put_u64(buf + OFF_SUM, checksum(buf, n));
	*len = n;
	return 0;
}

struct reader {
	const uint8_t *p;
	size_t left;
};

static int rd_take(struct reader *r, size_t n, const uint8_t **out)
{
	if (n > r->left)
		return 0;
	*out = r->p;
	r->p += n;
	r->left -= n;
	return 1;
}

static int rd_flag(struct reader *r, int *flag)
{
	const uint8_t *b;

	if (!rd_take(r, 1, &b) || *b > 1)
		return 0;
	*flag = *b;
	return 1;
}

static int rd_u64(struct reader *r, uint64_t *v)
{
	const uint8_t *b;

	if (!rd_take(r, 8, &b))
		return 0;
	*v = get_u64(b);
	return 1;
}

static int rd_blob(struct reader *r, int is_string, const void **data, uint64_t *len)
{
	const uint8_t *b;
	uint32_t n;

	if (!rd_take(r, 4, &b))
		return 0;
	n = get_u32(b);
	if (!rd_take(r, n, &b))
		return 0;
	if (is_string && has_nul(b, n))
		return 0;
	*data = b;
	*len = n;
	return 1;
}

static int decode_ret(const struct txc_sig *sig, struct reader *r, struct txc_result *res)
{
	const void *data;
	int is_null;

	if (sig->ret == TXC_R_VOID)
		return 1;
	if (sig->ret == TXC_R_SCALAR)
		return rd_u64(r, &res->ret);
	if (!is_str_ret(sig->ret) || !rd_flag(r, &is_null))
		return 0;
	if (is_null)
		return 1;
	if (!rd_blob(r, 1, &data, &res->ret_len))
		return 0;
	res->ret_str = data;
	return 1;
}

static int decode_payload(const struct txc_sig *sig, struct reader *r, struct txc_result *res,
			  bool outs_dropped)
{
	memset(res, 0, sizeof(*res));
	res->outs_dropped = outs_dropped;
	if (!decode_ret(sig, r, res))
		return 0;
	for (int i = 0; i < nparams_of(sig); i++) {
		const struct txc_param *p = &sig->params[i];
		struct txc_out *o = &res->out[i];
		int present;

		if (!has_entry(p))
			continue;
		if (!rd_flag(r, &present))
			return 0;
		o->present = present;
		if (!present)
			continue;
		if (sig_kind_is_out_scalar(p->kind)) {
			if (!rd_u64(r, &o->num))
				return 0;
			continue;
		}
		if (has_cap(p) && !rd_u64(r, &o->cap))
			return 0;
		if (!rd_blob(r, p->kind == TXC_K_OUT_STRING, &o->data, &o->len))
			return 0;
		if (p->kind == TXC_K_OUT_FD && !capfmt_valid(o->data, (size_t)o->len))
			return 0;
	}
	return r->left == 0 && lengths_ok(sig, res);
}

static int header_ok(const struct txc_digest *sig_digest, const struct txc_digest *key_digest,
		     const uint8_t *buf, size_t len)
{
	if (buf[OFF_FLAGS] & ~(FLAG_ERRNO | FLAG_NOOUTS))
		return 0;
	if (!(buf[OFF_FLAGS] & FLAG_ERRNO) && get_u32(buf + OFF_ERRNO) != 0)
		return 0;
	if (buf[OFF_FE] & ~TXC_FE_ALL || buf[OFF_RES1])
		return 0;
	if (get_u32(buf + OFF_PLEN) != len - TXC_VALUE_HEADER)
		return 0;
	if (get_u64(buf + OFF_SUM) != checksum(buf, len))
		return 0;
	return memcmp(buf + OFF_SIG, sig_digest->b, 16) == 0 &&
	       memcmp(buf + OFF_KEY, key_digest->b, 16) == 0;
}

int codec_decode(const struct txc_sig *sig, const struct txc_digest *sig_digest,
		 const struct txc_digest *key_digest, const uint8_t *buf, size_t len,
		 struct txc_value_meta *meta, struct txc_result *res)
{
	struct reader r;

	if (!buf || len <= OFF_VERSION || memcmp(buf + OFF_MAGIC, magic, sizeof(magic)) != 0)
		return TXC_ECORRUPT;
	/* before the length: an older format's header may be shorter */
	if (buf[OFF_VERSION] != TXC_VALUE_VERSION)
		return TXC_ENOTFOUND; /* another format: not ours to judge */
	if (len < TXC_VALUE_HEADER)
		return TXC_ECORRUPT;
	if (!header_ok(sig_digest, key_digest, buf, len))
		return TXC_ECORRUPT;
	r.p = buf + TXC_VALUE_HEADER;
	r.left = len - TXC_VALUE_HEADER;
	if (!decode_payload(sig, &r, res, (buf[OFF_FLAGS] & FLAG_NOOUTS) != 0))
		return TXC_ECORRUPT;
	res->err_set = (buf[OFF_FLAGS] & FLAG_ERRNO) != 0;
	res->err = (int32_t)get_u32(buf + OFF_ERRNO);
	res->fe_raised = buf[OFF_FE];
	memcpy(meta->sig.b, buf + OFF_SIG, 16);
	memcpy(meta->key.b, buf + OFF_KEY, 16);
	meta->ns_gen = get_u64(buf + OFF_NS_GEN);
	meta->fn_gen = get_u64(buf + OFF_FN_GEN);
	meta->cost_ns = get_u64(buf + OFF_COST);
	meta->fresh_until = get_u64(buf + OFF_FRESH);
	return 0;
}
