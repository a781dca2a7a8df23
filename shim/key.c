/* key.c - memcached keys of calls.
 *
 * The byte stream fed to XXH3-128 (format "TXK2"; changing anything below
 * changes every key, so bump the magic and the golden keys in
 * tests/unit/test_key.c together):
 *
 *   "TXK2"                 4 bytes magic
 *   sig digest             16 bytes, XXH3-128 of sig_canonical(), canonical
 *   'D', 16, identity      the tag, the length and the 16 bytes of the
 *                          definition's identity digest (ident.h): which
 *                          library, build and symbol version answered
 *   nparams                1 byte
 *   then for each parameter i in order, one element:
 *     keyed SCALAR         'I' (integer, bool) or 'F' (float, double),
 *                          1 byte enum txc_type, 8 bytes LE portable value
 *     keyed STRING         'N' when NULL; else 'S', 8 bytes LE length, bytes
 *     keyed BYTES          'N' when the pointer is NULL (whatever LEN says);
 *                          else 'B', 8 bytes LE length, bytes
 *     keyed SYMPTR         'N' when NULL; else 'P', 8 bytes LE length, the
 *                          text symptr.h makes of where it points
 *     keyed file           'N' when NULL; else 'L' (file) or 'H'
 *                          (file:content), 8 bytes LE length, the path,
 *                          then the state (filekey.h): 'U' unknown; the
 *                          errno's byte ('M', 'D', 'A', 'P', 'Z', 'L'); or 'T'
 *                          and 8 bytes LE each of dev, ino, size, mtime s,
 *                          mtime ns, ctime s, ctime ns (file), or of size
 *                          and the 16 bytes of the content hash (content)
 *     keyed inout T *      'N' when NULL; else 'W', 1 byte enum txc_type,
 *                          8 bytes LE portable value it points to on entry
 *     out kinds            'O', 1 byte: 1 for a non-NULL pointer, 0 for NULL
 *                          (an ignored inout T * too)
 *     anything else        'X' (ptr, ignored, out fd, out stream): holds
 *                          the position; a descriptor or stream is never
 *                          keyed, whatever its number or NULL-ness
 *   then the world (world.h), only as configured: for each key_env name,
 *   'E', 1 byte length, the name, then 'N' (unset) or 'V', 8 bytes LE
 *   length, the value; for key_cwd, 'C', 8 bytes LE length, the directory
 *   then, only when the signature has a float or double parameter or
 *   return and the rounding mode is not FE_TONEAREST (keys in the default
 *   mode are unchanged): 'R', 1 byte: 1 FE_UPWARD, 2 FE_DOWNWARD,
 *   3 FE_TOWARDZERO, 4 another mode. libm results depend on it.
 *
 * Every element is self-delimiting (its tag fixes its width or is followed
 * by its length), and the sig digest fixes which kind each position has, so
 * the stream decodes uniquely: two different argument tuples never produce
 * the same bytes. A per-parameter index would add nothing.
 *
 * With a PRF key (secret_file) the stream goes to BLAKE2b-128 keyed with it,
 * after one byte of length and the key's prefix "<ns>:<fn>:": the same
 * arguments in two namespaces give unrelated digests.
 *
 * Small calls are encoded into a stack buffer and hashed in one shot; the
 * streaming state is set up only when an argument does not fit, and big
 * blobs go straight to XXH3 without a copy. XXH3 gives the same digest for
 * the same bytes however they are split, so both paths agree.
 */
#include <fenv.h>
#include <string.h>

#include <sodium.h>
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "err.h"
#include "fpenv.h"
#include "key.h"

#define KEY_NS_MAX    100
#define KEY_FN_MAX    63
#define KEY_HEX	      32
#define KEY_CANON_MAX 8192
#define KENC_BUF      512

/* XXH3_state_t carries 64-byte aligned members, so the compiler aligns it
 * wherever this struct lives, including the stack. With a PRF key
 * (secret_file) the same stream goes to keyed BLAKE2b instead. */
struct kenc {
	size_t n;
	int streaming;
	const uint8_t *prf; /* NULL: XXH3-128 */
	const char *pre;    /* with PRF: "<ns>:<fn>:", hashed first */
	size_t pre_len;
	uint8_t buf[KENC_BUF];
	union {
		XXH3_state_t x;
		crypto_generichash_state b;
	} st;
};

static void enc_update(struct kenc *e, const void *p, size_t len)
{
	if (e->prf)
		crypto_generichash_update(&e->st.b, p, len);
	else
		XXH3_128bits_update(&e->st.x, p, len);
}

static void enc_flush(struct kenc *e)
{
	if (!e->streaming) {
		if (e->prf) {
			/* the namespace and function too: equal arguments in two
			 * namespaces must not show as equal digests */
			uint8_t n = (uint8_t)e->pre_len;
			crypto_generichash_init(&e->st.b, e->prf, TXC_PRF_KEY, 16);
			crypto_generichash_update(&e->st.b, &n, 1);
			crypto_generichash_update(&e->st.b, (const uint8_t *)e->pre, e->pre_len);
		} else
			XXH3_128bits_reset(&e->st.x);
		e->streaming = 1;
	}
	if (e->n)
		enc_update(e, e->buf, e->n);
	e->n = 0;
}

/* Reserves NEED (at most 16) bytes in the buffer for the caller to fill. */
static inline uint8_t *enc_room(struct kenc *e, size_t need)
{
	uint8_t *p;

	if (KENC_BUF - e->n < need)
		enc_flush(e);
	p = e->buf + e->n;
	e->n += need;
	return p;
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void enc_blob(struct kenc *e, const void *p, size_t len)
{
	if (len > KENC_BUF - e->n) {
		enc_flush(e);
		if (len >= KENC_BUF) {
			enc_update(e, p, len);
			return;
		}
	}
	if (len)
		memcpy(e->buf + e->n, p, len);
	e->n += len;
}

static void digest_from_hash(XXH128_hash_t h, struct txc_digest *d)
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, h);
	memcpy(d->b, c.digest, sizeof(d->b));
}

static void enc_done(struct kenc *e, struct txc_digest *d)
{
	if (e->prf) {
		enc_flush(e);
		crypto_generichash_final(&e->st.b, d->b, sizeof(d->b));
	} else if (e->streaming) {
		enc_flush(e);
		digest_from_hash(XXH3_128bits_digest(&e->st.x), d);
	} else {
		digest_from_hash(XXH3_128bits(e->buf, e->n), d);
	}
}

static void enc_u64s(struct kenc *e, const uint64_t *v, int n)
{
	for (int i = 0; i < n; i++)
		put_le64(enc_room(e, 8), v[i]);
}

/* A file parameter's path and state: the path went out as a string. */
static void enc_file(struct kenc *e, const struct txc_filekey *fk)
{
	if (!fk || fk->cls != FILEKEY_PRESENT) {
		*enc_room(e, 1) = fk ? fk->cls : 'U';
		return;
	}
	*enc_room(e, 1) = 'T';
	if (fk->content) {
		enc_u64s(e, &fk->size, 1);
		enc_blob(e, fk->hash, sizeof(fk->hash));
		return;
	}
	uint64_t v[7] = {fk->dev,      fk->ino,
			 fk->size,     (uint64_t)fk->mtime_s,
			 fk->mtime_ns, (uint64_t)fk->ctime_s,
			 fk->ctime_ns};
	enc_u64s(e, v, 7);
}

static void enc_world(struct kenc *e, const struct txc_key_world *w)
{
	for (int i = 0; i < w->nenv; i++) {
		size_t n = strnlen(w->env_name[i], 255);
		uint8_t *p = enc_room(e, 2);
		p[0] = 'E';
		p[1] = (uint8_t)n;
		enc_blob(e, w->env_name[i], n);
		const char *v = w->env_val[i];
		*enc_room(e, 1) = v ? 'V' : 'N';
		if (v) {
			size_t vl = strlen(v);
			put_le64(enc_room(e, 8), vl);
			enc_blob(e, v, vl);
		}
	}
	if (w->cwd) {
		*enc_room(e, 1) = 'C';
		put_le64(enc_room(e, 8), w->cwd_len);
		enc_blob(e, w->cwd, w->cwd_len);
	}
}

static void enc_param(struct kenc *e, const struct txc_param *p, const struct txc_arg *a)
{
	uint8_t *w;

	if (p->kind == TXC_K_INOUT_SCALAR && p->keyed && a->ptr) {
		w = enc_room(e, 10);
		w[0] = 'W';
		w[1] = (uint8_t)p->type;
		put_le64(w + 2, a->num);
	} else if (p->kind == TXC_K_INOUT_SCALAR && p->keyed) {
		*enc_room(e, 1) = 'N';
	} else if (sig_param_is_out(p)) {
		w = enc_room(e, 2);
		w[0] = 'O';
		w[1] = a->ptr != NULL;
	} else if (!sig_param_keyed(p)) {
		*enc_room(e, 1) = 'X';
	} else if (p->kind == TXC_K_SCALAR) {
		const struct txc_type_info *ti = sig_type_info(p->type);

		w = enc_room(e, 10);
		w[0] = ti && ti->is_float ? 'F' : 'I';
		w[1] = (uint8_t)p->type;
		put_le64(w + 2, a->num);
	} else if (!a->ptr) {
		*enc_room(e, 1) = 'N';
	} else {
		static const char tags[] = {[TXC_K_STRING] = 'S',
					    [TXC_K_BYTES] = 'B',
					    [TXC_K_SYMPTR] = 'P',
					    [TXC_K_FILE] = 'L',
					    [TXC_K_FILE_CONTENT] = 'H'};
		w = enc_room(e, 9);
		w[0] = (uint8_t)tags[p->kind];
		put_le64(w + 1, a->len);
		enc_blob(e, a->ptr, (size_t)a->len);
		if (sig_kind_is_file(p->kind))
			enc_file(e, a->file);
	}
}

static int nparams_of(const struct txc_sig *sig)
{
	if (sig->nparams < 0)
		return 0;
	return sig->nparams > TXC_MAX_PARAMS ? TXC_MAX_PARAMS : sig->nparams;
}

static int valid_chars(const char *s, size_t max, const char *extra)
{
	size_t n = strnlen(s, max + 1);

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || (extra && strchr(extra, c))))
			return 0;
	}
	return 1;
}

static int valid_ns(const char *ns)
{
	return ns && valid_chars(ns, KEY_NS_MAX, ".-");
}

/* Two hex digits per byte, from a table built at compile time: this runs
 * on every call, and a nibble loop costs more than the rest of the key. */
#define HEXD(n) ((n) < 10 ? '0' + (n) : 'a' - 10 + (n))
#define HEX2(b)                                                                                    \
	{                                                                                          \
		HEXD((b) >> 4), HEXD((b)&15)                                                       \
	}
#define HEX_ROW(r)                                                                                 \
	HEX2(r + 0), HEX2(r + 1), HEX2(r + 2), HEX2(r + 3), HEX2(r + 4), HEX2(r + 5), HEX2(r + 6), \
	    HEX2(r + 7), HEX2(r + 8), HEX2(r + 9), HEX2(r + 10), HEX2(r + 11), HEX2(r + 12),       \
	    HEX2(r + 13), HEX2(r + 14), HEX2(r + 15)

static const char hex_pairs[256][2] = {HEX_ROW(0x00), HEX_ROW(0x10), HEX_ROW(0x20), HEX_ROW(0x30),
				       HEX_ROW(0x40), HEX_ROW(0x50), HEX_ROW(0x60), HEX_ROW(0x70),
				       HEX_ROW(0x80), HEX_ROW(0x90), HEX_ROW(0xa0), HEX_ROW(0xb0),
				       HEX_ROW(0xc0), HEX_ROW(0xd0), HEX_ROW(0xe0), HEX_ROW(0xf0)};

void key_digest_hex(const struct txc_digest *d, char hex[33])
{
	char out[33];

	/* a local buffer: stores into HEX could alias D and force reloads */
	for (int i = 0; i < 16; i++)
		memcpy(out + 2 * i, hex_pairs[d->b[i]], 2);
	out[32] = '\0';
	memcpy(hex, out, 33);
}

int key_fn_init(struct txc_key_fn *kf, const char *ns, const struct txc_sig *sig)
{
	char canon[KEY_CANON_MAX];
	size_t nl, fl;

	memset(kf, 0, sizeof(*kf));
	if (!valid_ns(ns) || !valid_chars(sig->name, KEY_FN_MAX, NULL))
		return TXC_EINVAL;
	if (sig_canonical(sig, canon, sizeof(canon)) != 0)
		return TXC_EINVAL;
	digest_from_hash(XXH3_128bits(canon, strlen(canon)), &kf->sig_digest);
	nl = strlen(ns);
	fl = strlen(sig->name);
	memcpy(kf->prefix, ns, nl);
	kf->prefix[nl] = ':';
	memcpy(kf->prefix + nl + 1, sig->name, fl);
	kf->prefix[nl + 1 + fl] = ':';
	kf->prefix_len = nl + fl + 2;
	kf->prefix[kf->prefix_len] = '\0';
	return 0;
}

void key_fn_set_prf(struct txc_key_fn *kf, const uint8_t *prf)
{
	kf->prf = prf;
}

/* A BYTES length from a literal, an integer parameter or what an inout
 * integer points to (0 through NULL). A negative signed length is no
 * length: 0, with *NEGATIVE set. */
static uint64_t bytes_len(const struct txc_sig *sig, const struct txc_size *sz, void *const *avalue,
			  bool *negative)
{
	const struct txc_param *ref;
	const struct txc_type_info *ti;
	const void *at;

	if (sz->from == TXC_SZ_LITERAL)
		return sz->literal;
	if ((sz->from != TXC_SZ_PARAM && sz->from != TXC_SZ_DEREF) || sz->param < 0 ||
	    sz->param >= nparams_of(sig))
		return 0;
	ref = &sig->params[sz->param];
	ti = sig_type_info(ref->type);
	if (sz->from == TXC_SZ_PARAM && ref->kind != TXC_K_SCALAR)
		return 0;
	at = sz->from == TXC_SZ_DEREF ? *(const void *const *)avalue[sz->param] : avalue[sz->param];
	if (!at || !ti || ti->is_float || ti->size == 0)
		return 0;
	uint64_t v = sig_scalar_load(ref->type, at);
	if (ti->is_signed && (int64_t)v < 0) {
		*negative = true;
		return 0;
	}
	return v;
}

int key_args_from_ffi(const struct txc_sig *sig, void *const *avalue, struct txc_arg *args,
		      int *bad)
{
	int n = nparams_of(sig), rc = 0;

	for (int i = 0; i < n; i++) {
		const struct txc_param *p = &sig->params[i];
		struct txc_arg *a = &args[i];
		bool negative = false;

		a->num = 0;
		a->ptr = NULL;
		a->len = 0;
		a->file = NULL;
		switch (p->kind) {
		case TXC_K_SCALAR:
			a->num = sig_scalar_load(p->type, avalue[i]);
			break;
		case TXC_K_STRING:
		case TXC_K_FILE:
		case TXC_K_FILE_CONTENT:
			a->ptr = *(const char *const *)avalue[i];
			/* an ignored string is not read: it may not be one */
			a->len = a->ptr && p->keyed ? strlen(a->ptr) : 0;
			break;
		case TXC_K_BYTES:
			a->ptr = *(const void *const *)avalue[i];
			a->len =
			    a->ptr && p->keyed ? bytes_len(sig, &p->size, avalue, &negative) : 0;
			break;
		case TXC_K_OUT_FD: /* an int: never read as a pointer */
			a->num = (uint64_t)(int64_t) * (const int *)avalue[i];
			break;
		case TXC_K_INOUT_SCALAR: /* the value on entry: the key's, and a CAP's */
			a->ptr = *(void *const *)avalue[i];
			a->num = a->ptr ? sig_scalar_load(p->type, a->ptr) : 0;
			break;
		default:
			a->ptr = *(void *const *)avalue[i];
			break;
		}
		if (negative && rc == 0) {
			rc = TXC_EINVAL;
			if (bad)
				*bad = i;
		}
	}
	return rc;
}

static void key_finish(const char *prefix, size_t prefix_len, const struct txc_digest *d,
		       struct txc_key *out)
{
	memcpy(out->text, prefix, prefix_len);
	key_digest_hex(d, out->text + prefix_len);
	out->len = prefix_len + KEY_HEX;
	out->digest = *d;
}

const int key_round_modes[4] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};

bool key_sig_has_fp(const struct txc_sig *sig)
{
	const struct txc_type_info *ti;
	for (int i = 0; i < sig->nparams; i++) {
		ti = sig_type_info(sig->params[i].type);
		if (sig->params[i].kind == TXC_K_SCALAR && ti && ti->is_float)
			return true;
	}
	ti = sig->ret == TXC_R_SCALAR ? sig_type_info(sig->ret_type) : NULL;
	return ti && ti->is_float;
}

/* The 'R' element's byte for rounding mode MODE; 0: none (FE_TONEAREST). */
static uint8_t round_tag(int mode)
{
	switch (mode) {
	case FE_TONEAREST:
		return 0;
	case FE_UPWARD:
		return 1;
	case FE_DOWNWARD:
		return 2;
	case FE_TOWARDZERO:
		return 3;
	default:
		return 4;
	}
}

static int build(const struct txc_key_fn *kf, const struct txc_digest *ident,
		 const struct txc_sig *sig, const struct txc_arg *args,
		 const struct txc_key_world *world, int mode, struct txc_key *out);

int key_build(const struct txc_key_fn *kf, const struct txc_digest *ident,
	      const struct txc_sig *sig, const struct txc_arg *args, struct txc_key *out)
{
	return build(kf, ident, sig, args, NULL, fpenv_round(), out);
}

int key_build_world(const struct txc_key_fn *kf, const struct txc_digest *ident,
		    const struct txc_sig *sig, const struct txc_arg *args,
		    const struct txc_key_world *w, struct txc_key *out)
{
	return build(kf, ident, sig, args, w, fpenv_round(), out);
}

int key_build_round(const struct txc_key_fn *kf, const struct txc_digest *ident,
		    const struct txc_sig *sig, const struct txc_arg *args, int mode,
		    struct txc_key *out)
{
	return build(kf, ident, sig, args, NULL, mode, out);
}

static int build(const struct txc_key_fn *kf, const struct txc_digest *ident,
		 const struct txc_sig *sig, const struct txc_arg *args,
		 const struct txc_key_world *world, int mode, struct txc_key *out)
{
	struct kenc e;
	struct txc_digest d;
	int n = nparams_of(sig);

	e.streaming = 0;
	e.prf = kf->prf;
	e.pre = kf->prefix;
	e.pre_len = kf->prefix_len;
	e.n = 39;
	memcpy(e.buf, "TXK2", 4);
	memcpy(e.buf + 4, kf->sig_digest.b, 16);
	e.buf[20] = 'D';
	e.buf[21] = 16;
	memcpy(e.buf + 22, ident->b, 16);
	e.buf[38] = (uint8_t)n;
	for (int i = 0; i < n; i++)
#ifdef TXC_MUTANT_KEY_ARG /* make mutants: the second argument left out of the key */
		if (i != 1)
#endif
			enc_param(&e, &sig->params[i], &args[i]);
	if (world)
		enc_world(&e, world);
	uint8_t rt = round_tag(mode);
	if (rt && key_sig_has_fp(sig)) {
		uint8_t *w = enc_room(&e, 2);
		w[0] = 'R';
		w[1] = rt;
	}
	enc_done(&e, &d);
	key_finish(kf->prefix, kf->prefix_len, &d, out);
	return 0;
}

/* Generation keys hold a counter, not a call: their digest only needs to be
 * deterministic, and hashing the text gives that. */
static void key_text_only(const char *text, size_t len, struct txc_key *out)
{
	memcpy(out->text, text, len);
	out->text[len] = '\0';
	out->len = len;
	digest_from_hash(XXH3_128bits(text, len), &out->digest);
}

void key_fn_aux(const struct txc_key_fn *kf, const char *suffix, struct txc_key *out)
{
	char buf[TXC_KEY_MAX + 1];
	size_t n = kf->prefix_len, sl = strnlen(suffix, 8);

	memcpy(buf, kf->prefix, n);
	memcpy(buf + n, suffix, sl);
	key_text_only(buf, n + sl, out);
}

void key_gen_fn(const struct txc_key_fn *kf, struct txc_key *out)
{
	key_fn_aux(kf, "gen", out);
}

int key_gen_ns(const char *ns, struct txc_key *out)
{
	char buf[TXC_KEY_MAX + 1];
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!valid_ns(ns))
		return TXC_EINVAL;
	n = strlen(ns);
	memcpy(buf, ns, n);
	memcpy(buf + n, ":@gen", 5);
	key_text_only(buf, n + 5, out);
	return 0;
}
