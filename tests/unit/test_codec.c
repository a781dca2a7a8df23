/* test_codec.c - the value codec: round trips, strictness, robustness. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "check.h"
#include "codec.h"
#include "err.h"

static const struct txc_digest SIGD = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};
static const struct txc_digest KEYD = {{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9,
					0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf}};

static void add_param(struct txc_sig *s, const char *name, enum txc_kind kind, enum txc_type type)
{
	struct txc_param *p = &s->params[s->nparams++];

	snprintf(p->name, sizeof(p->name), "%s", name);
	p->kind = kind;
	p->type = type;
	p->keyed = kind == TXC_K_SCALAR || kind == TXC_K_STRING || kind == TXC_K_BYTES;
}

/* string f(int a, out string[cap] s, size_t cap, out bytes[16:a] b, out int *n, ptr p) */
static void sig_all(struct txc_sig *s, enum txc_ret ret)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "f");
	s->ret = ret;
	s->ret_type = ret == TXC_R_SCALAR ? TXC_T_INT : TXC_T_VOID;
	add_param(s, "a", TXC_K_SCALAR, TXC_T_INT);
	add_param(s, "s", TXC_K_OUT_STRING, TXC_T_VOID);
	s->params[1].size = (struct txc_size){TXC_SZ_PARAM, 0, 2};
	add_param(s, "cap", TXC_K_SCALAR, TXC_T_SIZE);
	add_param(s, "b", TXC_K_OUT_BYTES, TXC_T_VOID);
	s->params[3].size = (struct txc_size){TXC_SZ_LITERAL, 16, 0};
	s->params[3].len = (struct txc_size){TXC_SZ_PARAM, 0, 0};
	add_param(s, "n", TXC_K_OUT_SCALAR, TXC_T_INT);
	add_param(s, "p", TXC_K_PTR, TXC_T_VOID);
}

static struct txc_value_meta meta_default(void)
{
	struct txc_value_meta m = {
	    SIGD, KEYD, 7, 0x1122334455667788ull, 123456, 0x1788aabbccddeeffull};
	return m;
}

/* Recomputes the checksum after a deliberate edit, independently of codec.c:
 * XXH3-64 of the whole value with bytes 72..79 zero. */
static void resign(uint8_t *buf, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	uint64_t h;

	memcpy(copy, buf, len);
	memset(copy + 72, 0, 8);
	h = XXH3_64bits(copy, len);
	for (int i = 0; i < 8; i++)
		buf[72 + i] = (uint8_t)(h >> (8 * i));
	free(copy);
}

static void set_plen(uint8_t *buf, size_t len)
{
	uint32_t n = (uint32_t)(len - TXC_VALUE_HEADER);

	for (int i = 0; i < 4; i++)
		buf[64 + i] = (uint8_t)(n >> (8 * i));
}

static int encode(const struct txc_sig *s, const struct txc_result *r, uint8_t *buf, size_t cap,
		  size_t *len)
{
	struct txc_value_meta m = meta_default();
	return codec_encode(s, &m, r, buf, cap, len);
}

static int decode(const struct txc_sig *s, const uint8_t *buf, size_t len, struct txc_result *r)
{
	struct txc_value_meta m;
	return codec_decode(s, &SIGD, &KEYD, buf, len, &m, r);
}

static void test_scalar_void(void)
{
	struct txc_sig s;
	struct txc_result r = {0}, d;
	struct txc_value_meta m;
	uint8_t buf[256];
	size_t len;

	memset(&s, 0, sizeof(s));
	s.ret = TXC_R_SCALAR;
	s.ret_type = TXC_T_LONG;
	r.ret = 0xfffffffffffffffeull;
	CHECK(codec_size(&s, &r) == 96, "scalar return: 88 + 8 bytes");
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == 0 && len == 96, "scalar encodes");
	CHECK(memcmp(buf, "TXC\x01\x05", 5) == 0, "magic and version 5");
	CHECK(codec_decode(&s, &SIGD, &KEYD, buf, len, &m, &d) == 0 && d.ret == r.ret,
	      "scalar round trip");
	CHECK(m.ns_gen == 7 && m.fn_gen == 0x1122334455667788ull && m.cost_ns == 123456 &&
		  m.fresh_until == 0x1788aabbccddeeffull && buf[80] == 0xff && buf[87] == 0x17 &&
		  memcmp(&m.sig, &SIGD, 16) == 0 && memcmp(&m.key, &KEYD, 16) == 0,
	      "meta round trip");

	s.ret = TXC_R_VOID;
	CHECK(codec_size(&s, &r) == 88, "void: header only");
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == 0 && len == 88, "void encodes");
	CHECK(decode(&s, buf, len, &d) == 0, "void round trip");
	CHECK(encode(&s, &r, buf, 87, &len) == TXC_ETOOBIG, "cap 87 < 88: TXC_ETOOBIG");
}

static void test_string_ret(void)
{
	static const char *const vals[] = {NULL, "", "hello world"};
	struct txc_sig s;
	struct txc_result r = {0}, d;
	uint8_t buf[256];
	size_t len;

	sig_all(&s, TXC_R_OWNED_STRING);
	s.nparams = 0;
	for (int i = 0; i < 3; i++) {
		r.ret_str = vals[i];
		r.ret_len = vals[i] ? strlen(vals[i]) : 0;
		CHECK(encode(&s, &r, buf, sizeof(buf), &len) == 0, "string ret %d encodes", i);
		CHECK(len == codec_size(&s, &r), "string ret %d: size matches", i);
		CHECK(decode(&s, buf, len, &d) == 0, "string ret %d decodes", i);
		if (!vals[i]) {
			CHECK(d.ret_str == NULL && d.ret_len == 0, "NULL stays NULL");
		} else {
			CHECK(d.ret_str != NULL && d.ret_len == r.ret_len &&
				  memcmp(d.ret_str, vals[i], d.ret_len) == 0,
			      "\"%s\" round trips (not NULL)", vals[i]);
			CHECK(d.ret_str >= (const char *)buf &&
				  d.ret_str <= (const char *)buf + len,
			      "decoded string points into the buffer");
		}
	}
	r.ret_str = "a\0b";
	r.ret_len = 3;
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == TXC_EINVAL,
	      "a string holding NUL is refused on encode");
}

/* The full signature with every out kind present or absent. */
static void fill_all(struct txc_result *r, int present_mask)
{
	static const uint8_t bytes[16] = {0, 1, 2,  3,	0,  0xff, 0x80, 7,
					  8, 9, 10, 11, 12, 13,	  14,	0};

	memset(r, 0, sizeof(*r));
	r->ret_str = "ret";
	r->ret_len = 3;
	r->out[1] = (struct txc_out){present_mask & 1, 0, "out-string", 10, 64};
	r->out[3] = (struct txc_out){(present_mask & 2) != 0, 0, bytes, 16, 16};
	r->out[4] = (struct txc_out){(present_mask & 4) != 0, (uint64_t)-42, NULL, 0, 0};
	for (int i = 1; i <= 4; i++)
		if (!r->out[i].present)
			r->out[i] = (struct txc_out){0};
}

static void test_outs(void)
{
	struct txc_sig s;
	struct txc_result r, d;
	uint8_t buf[512];
	size_t len;

	sig_all(&s, TXC_R_STRING);
	for (int mask = 0; mask < 8; mask++) {
		int ok = 1;

		fill_all(&r, mask);
		CHECK(encode(&s, &r, buf, sizeof(buf), &len) == 0 && len == codec_size(&s, &r),
		      "outs mask %d encodes", mask);
		CHECK(decode(&s, buf, len, &d) == 0, "outs mask %d decodes", mask);
		for (int i = 0; i < s.nparams; i++) {
			const struct txc_out *a = &r.out[i], *b = &d.out[i];

			ok &= a->present == b->present && a->len == b->len && a->num == b->num &&
			      a->cap == b->cap;
			ok &= !a->len || memcmp(a->data, b->data, a->len) == 0;
			ok &= b->present || b->data == NULL;
		}
		CHECK(ok, "outs mask %d: every out param round trips", mask);
		CHECK(d.ret_len == 3 && memcmp(d.ret_str, "ret", 3) == 0, "ret string with outs");
	}
	/* present but empty differs from absent */
	fill_all(&r, 3);
	r.out[1].len = 0;
	r.out[3].len = 0;
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == 0 && decode(&s, buf, len, &d) == 0 &&
		  d.out[1].present && d.out[1].len == 0 && d.out[3].present && d.out[3].len == 0,
	      "present empty out string/bytes round trip as present");
	fill_all(&r, 1);
	r.out[1].data = "x\0y";
	r.out[1].len = 3;
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == TXC_EINVAL, "out string with NUL refused");
	fill_all(&r, 2);
	r.out[3].data = "x\0y"; /* bytes may hold NUL */
	r.out[3].len = 3;
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == 0 && decode(&s, buf, len, &d) == 0 &&
		  d.out[3].len == 3 && memcmp(d.out[3].data, "x\0y", 3) == 0,
	      "out bytes with NUL round trip");
}

static void test_limits(void)
{
	struct txc_sig s;
	struct txc_result r;
	uint8_t buf[512];
	size_t len, need;

	sig_all(&s, TXC_R_STRING);
	fill_all(&r, 7);
	need = codec_size(&s, &r);
	CHECK(need > 88, "size of the full value");
	CHECK(encode(&s, &r, buf, need - 1, &len) == TXC_ETOOBIG, "cap one short: TXC_ETOOBIG");
	CHECK(encode(&s, &r, buf, need, &len) == 0 && len == need, "exact cap fits");
	r.out[3].len = (uint64_t)UINT32_MAX + 1; /* never read: size is refused first */
	CHECK(codec_size(&s, &r) == 0, "out length over 32 bits: size 0");
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == TXC_ETOOBIG, "and encode refuses it");
	fill_all(&r, 7);
	r.ret_len = (uint64_t)UINT32_MAX + 1;
	CHECK(codec_size(&s, &r) == 0, "ret length over 32 bits: size 0");
	fill_all(&r, 7);
	r.out[1].len = UINT32_MAX;
	r.out[3].len = UINT32_MAX;
	CHECK(codec_size(&s, &r) == 0, "total payload over 32 bits: size 0");
}

/* The small value every strictness test mutates. */
static size_t small_value(struct txc_sig *s, uint8_t *buf, size_t cap)
{
	struct txc_result r;
	size_t len = 0;

	sig_all(s, TXC_R_STRING);
	fill_all(&r, 7);
	r.out[1] = (struct txc_out){1, 0, "hi", 2, 8};
	r.out[3] = (struct txc_out){1, 0, "\x01\x02", 2, 16};
	r.ret_str = "r";
	r.ret_len = 1;
	encode(s, &r, buf, cap, &len);
	return len;
}

static void test_mutations(void)
{
	struct txc_sig s;
	struct txc_result d;
	uint8_t buf[256], m[257];
	size_t len = small_value(&s, buf, sizeof(buf));
	int bad = 0;

	CHECK(len > 88 && decode(&s, buf, len, &d) == 0, "small value decodes (%zu bytes)", len);
	for (size_t bit = 0; bit < len * 8; bit++) {
		memcpy(m, buf, len);
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		int rc = decode(&s, m, len, &d);
		/* another version byte is another format: a quiet miss */
		bad += bit / 8 == 4 ? rc != TXC_ENOTFOUND : rc != TXC_ECORRUPT;
	}
	CHECK(bad == 0, "all %zu single-bit flips rejected (%d accepted)", len * 8, bad);
	bad = 0;
	for (size_t n = 0; n < len; n++) {
		uint8_t *t = malloc(n ? n : 1); /* exact size: ASan sees overreads */

		memcpy(t, buf, n);
		bad += decode(&s, t, n, &d) != TXC_ECORRUPT;
		free(t);
	}
	CHECK(bad == 0, "all %zu truncations rejected", len);
	CHECK(decode(&s, NULL, 0, &d) == TXC_ECORRUPT, "NULL, 0 rejected");
	memcpy(m, buf, len);
	m[len] = 0;
	CHECK(decode(&s, m, len + 1, &d) == TXC_ECORRUPT, "appended byte rejected");
	set_plen(m, len + 1);
	resign(m, len + 1);
	CHECK(decode(&s, m, len + 1, &d) == TXC_ECORRUPT,
	      "appended byte with fixed length and checksum rejected");
	memcpy(m, buf, len);
	resign(m, len);
	CHECK(memcmp(m, buf, len) == 0, "checksum is XXH3-64 with field 72..79 zeroed");
}

/* Edits with a valid checksum: the parser itself must refuse them. */
static void test_structure(void)
{
	struct txc_sig s;
	struct txc_result d;
	struct txc_value_meta mt;
	uint8_t buf[256], m[256];
	size_t len = small_value(&s, buf, sizeof(buf));
	struct txc_digest other = SIGD;
	/* payload: 0 flag, 4 len, 'r' (88..93); 1 flag, 8 cap, 4 len, "hi" (94..108);
	 * 1 flag, 8 cap, 4 len, 2 bytes (109..123); 1 flag, 8 (124..132) */
	static const struct {
		size_t off;
		uint8_t val;
		const char *what;
	} edits[] = {
	    {5, 2, "unknown flag set"},
	    {6, 0x40, "unknown fp flag bit set"},
	    {7, 1, "reserved 7 set"},
	    {70, 1, "errno without its flag"},
	    {88, 2, "ret null flag 2"},
	    {93, 0, "NUL in returned string"},
	    {94, 2, "out present flag 2"},
	    {107, 0, "NUL in out string"},
	    {89, 2, "ret length past the end"},
	    {103, 200, "out length past the end"},
	    {95, 2, "out string longer than its stored capacity"},
	    {95, 0, "out string with capacity 0"},
	    {110, 17, "out bytes[16] with capacity 17"},
	    {110, 1, "out bytes longer than its stored capacity"},
	};

	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		memcpy(m, buf, len);
		m[edits[i].off] = edits[i].val;
		resign(m, len);
		CHECK(decode(&s, m, len, &d) == TXC_ECORRUPT, "%s rejected", edits[i].what);
	}
	memcpy(m, buf, len);
	CHECK(decode(&s, m, len, &d) == 0, "unedited copy decodes");
	other.b[0] ^= 1;
	CHECK(codec_decode(&s, &other, &KEYD, buf, len, &mt, &d) == TXC_ECORRUPT,
	      "wrong sig digest rejected");
	other = KEYD;
	other.b[15] ^= 0x80;
	CHECK(codec_decode(&s, &SIGD, &other, buf, len, &mt, &d) == TXC_ECORRUPT,
	      "wrong key digest rejected");
	s.params[4].kind = TXC_K_OUT_STRING;
	CHECK(decode(&s, buf, len, &d) == TXC_ECORRUPT, "decoding under another signature fails");
}

static uint32_t rnd(uint64_t *st)
{
	*st = *st * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*st >> 33);
}

/* Random buffers and random edits of a valid value, checksums fixed so the
 * parser is reached. Whatever decodes must re-encode to the same bytes. */
static void test_garbage(void)
{
	struct txc_sig s;
	struct txc_result d;
	struct txc_value_meta mt;
	uint8_t buf[256], out[512];
	size_t len = small_value(&s, buf, sizeof(buf)), olen;
	uint64_t st = 12345;
	int rejected = 0, canon_bad = 0, accepted = 0;

	for (int iter = 0; iter < 4000; iter++) {
		size_t n = iter & 1 ? len : rnd(&st) % 200;
		uint8_t *g = malloc(n ? n : 1);

		if (iter & 1) {
			memcpy(g, buf, n);
			for (int k = rnd(&st) % 3; k >= 0; k--)
				g[88 + rnd(&st) % (n - 88)] = (uint8_t)rnd(&st);
		} else {
			for (size_t i = 0; i < n; i++)
				g[i] = (uint8_t)rnd(&st);
			if (n >= 88 && iter % 4 == 0) {
				memcpy(g, buf, 88);
				set_plen(g, n);
			}
		}
		if (n >= 88)
			resign(g, n);
		if (codec_decode(&s, &SIGD, &KEYD, g, n, &mt, &d) == 0) {
			accepted++;
			canon_bad += codec_encode(&s, &mt, &d, out, sizeof(out), &olen) != 0 ||
				     olen != n || memcmp(out, g, n) != 0;
		} else {
			rejected++;
		}
		free(g);
	}
	CHECK(rejected > 2000, "random buffers rejected (%d rejected, %d accepted)", rejected,
	      accepted);
	CHECK(canon_bad == 0, "every accepted buffer re-encodes to the same bytes");
}

/* errno: flags bit 0 and bytes 68..71. */
static void test_errno(void)
{
	struct txc_sig s;
	struct txc_result r = {0}, d;
	uint8_t buf[128], m[128];
	size_t len;

	memset(&s, 0, sizeof(s));
	s.ret = TXC_R_SCALAR;
	s.ret_type = TXC_T_DOUBLE;
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == 0 && buf[5] == 0 &&
		  memcmp(buf + 68, "\0\0\0\0", 4) == 0,
	      "no errno: flag and field zero");
	CHECK(decode(&s, buf, len, &d) == 0 && !d.err_set && d.err == 0, "no errno round trips");
	r.err_set = true;
	r.err = 34;
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == 0 && buf[5] == 1 && buf[68] == 34,
	      "errno 34: flag 1, field 34");
	CHECK(decode(&s, buf, len, &d) == 0 && d.err_set && d.err == 34, "errno round trips");
	CHECK(buf[6] == 0 && d.fe_raised == 0, "no fp flags: byte 6 zero");
	r.fe_raised = 1 | 16; /* inexact, invalid */
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == 0 && buf[6] == 17 &&
		  decode(&s, buf, len, &d) == 0 && d.fe_raised == 17,
	      "fp flags: byte 6, round trip");
	memcpy(m, buf, len);
	m[6] = 0x20; /* no such flag */
	resign(m, len);
	CHECK(decode(&s, m, len, &d) == TXC_ECORRUPT, "unknown fp flag bit rejected");
	r.fe_raised = 0;
	r.err = 0; /* errno = keep: a call may set errno to 0 */
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == 0 && decode(&s, buf, len, &d) == 0 &&
		  d.err_set && d.err == 0,
	      "errno set to 0 round trips as set");
	r.err = -5;
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == 0 && decode(&s, buf, len, &d) == 0 &&
		  d.err == -5,
	      "errno keeps its sign");
	memcpy(m, buf, len);
	m[4] = 1;
	resign(m, len);
	CHECK(decode(&s, m, len, &d) == TXC_ENOTFOUND, "a version 1 value is a miss");
	m[4] = 2;
	resign(m, len);
	CHECK(decode(&s, m, len, &d) == TXC_ENOTFOUND, "a version 2 value is a miss");
	m[4] = 3; /* no fp flags: its hit would not raise them */
	resign(m, len);
	CHECK(decode(&s, m, len, &d) == TXC_ENOTFOUND, "a version 3 value is a miss");
	m[4] = 4; /* no fresh_until: stale = SECONDS could not judge it */
	resign(m, len);
	CHECK(decode(&s, m, len, &d) == TXC_ENOTFOUND, "a version 4 value is a miss");
	CHECK(decode(&s, m, 80, &d) == TXC_ENOTFOUND, "a version 4 value of 80 bytes is a miss");
	m[4] = 6;
	resign(m, len);
	CHECK(decode(&s, m, len, &d) == TXC_ENOTFOUND, "a version 6 value is a miss");
	m[0] = 'X';
	CHECK(decode(&s, m, len, &d) == TXC_ECORRUPT, "bad magic stays corrupt");
}

static int parse_sig(const char *text, struct txc_sig *s)
{
	char err[128];
	int rc = sig_parse(text, s, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "%s: %s\n", text, err);
	return rc;
}

/* Encodes RET with one out bytes of LEN bytes and capacity CAP under S. */
static int enc_bytes(const struct txc_sig *s, uint64_t ret, uint64_t len, uint64_t cap)
{
	static const uint8_t data[64];
	struct txc_result r = {0}, d;
	uint8_t buf[256];
	size_t n;

	r.ret = ret;
	r.out[0] = (struct txc_out){true, 0, data, len, cap};
	int rc = encode(s, &r, buf, sizeof(buf), &n);
	if (rc == 0 && decode(s, buf, n, &d) != 0)
		return -100;
	return rc;
}

/* Point 7: lengths agree with the signature, on encode and on decode. */
static void test_signature_lengths(void)
{
	struct txc_sig s;
	struct txc_result r = {0}, d;
	uint8_t buf[256], m[256];
	size_t len;

	CHECK(parse_sig("ssize_t z(out bytes[cap:ret] d, size_t cap)", &s) == 0, "sig z");
	CHECK(enc_bytes(&s, 5, 5, 16) == 0, "[cap:ret]: 5 bytes of 16, ret 5");
	CHECK(enc_bytes(&s, 5, 4, 16) == TXC_EINVAL, "[cap:ret]: 4 bytes, ret 5 refused");
	CHECK(enc_bytes(&s, 20, 16, 16) == 0, "[cap:ret]: ret 20 clamped to cap 16");
	CHECK(enc_bytes(&s, 20, 15, 16) == TXC_EINVAL, "[cap:ret]: ret 20, 15 bytes refused");
	CHECK(enc_bytes(&s, (uint64_t)-1, 0, 16) == 0, "[cap:ret]: ret -1 holds 0 bytes");
	CHECK(enc_bytes(&s, (uint64_t)-1, 1, 16) == TXC_EINVAL,
	      "[cap:ret]: ret -1, 1 byte refused");
	CHECK(enc_bytes(&s, 17, 17, 16) == TXC_EINVAL, "[cap:ret]: over capacity refused");
	/* an edited ret with a valid checksum: the parser must refuse it */
	r.ret = 5;
	r.out[0] = (struct txc_out){true, 0, "abcde", 5, 16};
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == 0, "z encodes");
	memcpy(m, buf, len);
	m[88] = 4; /* ret 4, 5 bytes stored */
	resign(m, len);
	CHECK(decode(&s, m, len, &d) == TXC_ECORRUPT, "[cap:ret]: ret edited to 4 is corrupt");
	m[88] = 5;
	m[97] = 4; /* capacity 4 < 5 bytes */
	resign(m, len);
	CHECK(decode(&s, m, len, &d) == TXC_ECORRUPT, "[cap:ret]: capacity below length corrupt");

	CHECK(parse_sig("void b(out bytes[8] d)", &s) == 0, "sig b");
	CHECK(enc_bytes(&s, 0, 8, 8) == 0, "[8]: 8 bytes");
	CHECK(enc_bytes(&s, 0, 7, 8) == TXC_EINVAL, "[8]: 7 bytes refused");
	CHECK(enc_bytes(&s, 0, 9, 9) == TXC_EINVAL, "[8]: capacity 9 refused");
	CHECK(parse_sig("void c(out bytes[cap:n] d, size_t cap, size_t n)", &s) == 0, "sig c");
	CHECK(enc_bytes(&s, 0, 3, 8) == 0 && enc_bytes(&s, 0, 8, 8) == 0,
	      "[cap:n]: any length up to cap (checked at hit time)");
	CHECK(enc_bytes(&s, 0, 9, 8) == TXC_EINVAL, "[cap:n]: over capacity refused");
	CHECK(parse_sig("int t(out string[cap] d, size_t cap)", &s) == 0, "sig t");
	r = (struct txc_result){0};
	r.out[0] = (struct txc_out){true, 0, "abc", 3, 4};
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == 0, "string 3 + NUL in 4");
	r.out[0].cap = 3;
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == TXC_EINVAL, "string 3 + NUL in 3 refused");
	r.out[0].cap = UINT64_MAX;
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == 0 && decode(&s, buf, len, &d) == 0 &&
		  d.out[0].cap == UINT64_MAX,
	      "unbounded capacity round trips");
}

/* outs_if: flags bit 1 says no buffer out is stored; an entry present
 * under it is a forgery. */
static void test_outs_dropped(void)
{
	struct txc_sig s;
	struct txc_result r, d;
	uint8_t buf[512], m[512];
	size_t len;

	sig_all(&s, TXC_R_STRING);
	fill_all(&r, 0);
	r.outs_dropped = true;
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == 0 && buf[5] == 2, "outs dropped: bit 1");
	CHECK(decode(&s, buf, len, &d) == 0 && d.outs_dropped && !d.out[1].present &&
		  !d.out[4].present,
	      "outs dropped round trips");
	fill_all(&r, 0);
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == 0 && decode(&s, buf, len, &d) == 0 &&
		  !d.outs_dropped && buf[5] == 0,
	      "outs kept: bit 1 clear");
	fill_all(&r, 4);
	r.outs_dropped = true;
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == TXC_EINVAL,
	      "encode refuses an out present with bit 1");
	fill_all(&r, 5);
	CHECK(encode(&s, &r, buf, sizeof(buf), &len) == 0, "outs present encode");
	memcpy(m, buf, len);
	m[5] |= 2;
	resign(m, len);
	CHECK(decode(&s, m, len, &d) == TXC_ECORRUPT, "bit 1 with an out entry present: corrupt");
	memcpy(m, buf, len);
	m[5] |= 4;
	resign(m, len);
	CHECK(decode(&s, m, len, &d) == TXC_ECORRUPT, "unknown flags bit 2 rejected");
}

int main(void)
{
	test_scalar_void();
	test_string_ret();
	test_outs();
	test_limits();
	test_mutations();
	test_structure();
	test_garbage();
	test_errno();
	test_signature_lengths();
	test_outs_dropped();
	return check_done();
}
