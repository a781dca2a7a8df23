/* test_key.c - call keys: determinism, separation, the byte format.
 *
 * The golden keys below pin the "TXK2" key format (and, for the one built
 * through key_fn_init, sig_canonical's text). If one of them changes, every
 * key in every deployed cache changes: a deliberate change of the encoding
 * must bump the magic in key.c and then update the golden strings here.
 */
#include <fenv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include "check.h"
#include "err.h"
#include "key.h"

static void add_param(struct txc_sig *s, const char *name, enum txc_kind kind, enum txc_type type)
{
	struct txc_param *p = &s->params[s->nparams++];

	snprintf(p->name, sizeof(p->name), "%s", name);
	p->kind = kind;
	p->type = type;
	p->keyed = kind == TXC_K_SCALAR || kind == TXC_K_STRING || kind == TXC_K_BYTES;
}

static void sig_init(struct txc_sig *s, const char *name)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->ret = TXC_R_SCALAR;
	s->ret_type = TXC_T_INT;
}

/* The identity digest of the definition (ident.h): fixed here. */
static const struct txc_digest g_id = {{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9,
					0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf}};

/* A key_fn independent of sig_canonical: fixed prefix and sig digest. */
static void kf_fixed(struct txc_key_fn *kf)
{
	memset(kf, 0, sizeof(*kf));
	strcpy(kf->prefix, "ns:f:");
	kf->prefix_len = 5;
	for (int i = 0; i < 16; i++)
		kf->sig_digest.b[i] = (uint8_t)(0x10 + i);
}

static struct txc_key build(const struct txc_key_fn *kf, const struct txc_sig *s,
			    const struct txc_arg *a)
{
	struct txc_key k;

	memset(&k, 0x5a, sizeof(k));
	key_build(kf, &g_id, s, a, &k);
	return k;
}

static int same(const struct txc_key *a, const struct txc_key *b)
{
	return a->len == b->len && strcmp(a->text, b->text) == 0 &&
	       memcmp(&a->digest, &b->digest, 16) == 0;
}

static struct txc_arg str_arg(const char *s)
{
	return (struct txc_arg){0, s, s ? strlen(s) : 0, NULL};
}

static struct txc_arg num_arg(uint64_t v)
{
	return (struct txc_arg){v, NULL, 0, NULL};
}

static void test_golden_and_strings(void)
{
	struct txc_key_fn kf;
	struct txc_sig s;
	struct txc_arg a[2] = {num_arg(42), str_arg("alice")};
	struct txc_key k1, k2;
	char hex[33];

	kf_fixed(&kf);
	sig_init(&s, "f");
	add_param(&s, "id", TXC_K_SCALAR, TXC_T_INT);
	add_param(&s, "user", TXC_K_STRING, TXC_T_VOID);
	k1 = build(&kf, &s, a);
	k2 = build(&kf, &s, a);
	CHECK(same(&k1, &k2), "same inputs, same key");
	CHECK(strcmp(k1.text, "ns:f:db04a2abe2081e61fafa46193e63af06") == 0,
	      "golden key (fixed sig digest): %s", k1.text);
	CHECK(k1.len == strlen(k1.text) && k1.len == 5 + 32, "key length is prefix + 32");
	key_digest_hex(&k1.digest, hex);
	CHECK(strcmp(k1.text + 5, hex) == 0, "key text ends with the hex of its digest");

	a[1] = str_arg(NULL);
	k1 = build(&kf, &s, a);
	a[1] = str_arg("");
	k2 = build(&kf, &s, a);
	CHECK(!same(&k1, &k2), "NULL string and \"\" differ");

	sig_init(&s, "f");
	add_param(&s, "a", TXC_K_STRING, TXC_T_VOID);
	add_param(&s, "b", TXC_K_STRING, TXC_T_VOID);
	a[0] = str_arg("ab");
	a[1] = str_arg("c");
	k1 = build(&kf, &s, a);
	a[0] = str_arg("a");
	a[1] = str_arg("bc");
	k2 = build(&kf, &s, a);
	CHECK(!same(&k1, &k2), "(\"ab\", \"c\") and (\"a\", \"bc\") differ");
	a[0] = str_arg("");
	a[1] = str_arg(NULL);
	k1 = build(&kf, &s, a);
	a[0] = str_arg(NULL);
	a[1] = str_arg("");
	k2 = build(&kf, &s, a);
	CHECK(!same(&k1, &k2), "(\"\", NULL) and (NULL, \"\") differ");
}

static void test_scalars(void)
{
	struct txc_key_fn kf;
	struct txc_sig s1, s2;
	struct txc_arg a[1];
	struct txc_key k1, k2;
	double pz = 0.0, nz = -0.0;
	uint64_t v;

	kf_fixed(&kf); /* same sig digest on purpose: only the type tag differs */
	sig_init(&s1, "f");
	add_param(&s1, "x", TXC_K_SCALAR, TXC_T_INT);
	sig_init(&s2, "f");
	add_param(&s2, "x", TXC_K_SCALAR, TXC_T_LONG);
	a[0] = num_arg(1);
	k1 = build(&kf, &s1, a);
	k2 = build(&kf, &s2, a);
	CHECK(!same(&k1, &k2), "int 1 and long 1 differ");
	s2.params[0].type = TXC_T_FLOAT;
	k2 = build(&kf, &s2, a);
	CHECK(!same(&k1, &k2), "int 1 and float with the same bits differ");

	s1.params[0].type = TXC_T_DOUBLE;
	memcpy(&v, &pz, 8);
	a[0] = num_arg(v);
	k1 = build(&kf, &s1, a);
	memcpy(&v, &nz, 8);
	a[0] = num_arg(v);
	k2 = build(&kf, &s1, a);
	CHECK(!same(&k1, &k2), "double 0.0 and -0.0 differ");
	a[0] = num_arg(2);
	k2 = build(&kf, &s1, a);
	a[0] = num_arg(3);
	k1 = build(&kf, &s1, a);
	CHECK(!same(&k1, &k2), "different values differ");
}

static void test_ignored_and_out(void)
{
	struct txc_key_fn kf;
	struct txc_sig s;
	struct txc_arg a[4];
	struct txc_key k1, k2;
	int x, y;

	kf_fixed(&kf);
	sig_init(&s, "f");
	add_param(&s, "id", TXC_K_SCALAR, TXC_T_INT);
	add_param(&s, "trace", TXC_K_SCALAR, TXC_T_INT);
	s.params[1].keyed = false; /* [ignored] */
	add_param(&s, "ctx", TXC_K_PTR, TXC_T_VOID);
	add_param(&s, "res", TXC_K_OUT_SCALAR, TXC_T_INT);
	a[0] = num_arg(5);
	a[1] = num_arg(1);
	a[2] = (struct txc_arg){0, &x, 0, NULL};
	a[3] = (struct txc_arg){0, &x, 0, NULL};
	k1 = build(&kf, &s, a);
	a[1] = num_arg(999);
	a[2] = (struct txc_arg){77, &y, 5, NULL};
	a[3] = (struct txc_arg){0, &y, 0, NULL};
	k2 = build(&kf, &s, a);
	CHECK(same(&k1, &k2), "ignored param, ptr and out pointer value change nothing");
	a[3].ptr = NULL;
	k2 = build(&kf, &s, a);
	CHECK(!same(&k1, &k2), "out NULL and non-NULL differ");

	s.params[1].keyed = true;
	k2 = build(&kf, &s, a);
	a[1] = num_arg(1);
	k1 = build(&kf, &s, a);
	CHECK(!same(&k1, &k2), "the same param keyed does change the key");
}

static void test_bytes(void)
{
	struct txc_key_fn kf;
	struct txc_sig s;
	struct txc_arg a[1];
	struct txc_key k1, k2;

	kf_fixed(&kf);
	sig_init(&s, "f");
	add_param(&s, "b", TXC_K_BYTES, TXC_T_VOID);
	a[0] = (struct txc_arg){0, NULL, 0, NULL};
	k1 = build(&kf, &s, a);
	a[0] = (struct txc_arg){0, NULL, 12, NULL};
	k2 = build(&kf, &s, a);
	CHECK(same(&k1, &k2), "NULL bytes key the same whatever the length");
	a[0] = (struct txc_arg){0, "", 0, NULL};
	k2 = build(&kf, &s, a);
	CHECK(!same(&k1, &k2), "NULL bytes and empty bytes differ");
	a[0] = (struct txc_arg){0, "a\0b", 3, NULL};
	k1 = build(&kf, &s, a);
	a[0] = (struct txc_arg){0, "a\0c", 3, NULL};
	k2 = build(&kf, &s, a);
	CHECK(!same(&k1, &k2), "bytes after a NUL are keyed");
}

/* Rebuilds the documented byte stream by hand and hashes it in one shot:
 * the streaming path of key.c (args bigger than its buffer) must agree. */
static void test_format(void)
{
	static uint8_t blob[100000];
	size_t sizes[] = {0, 1, 450, 511, 512, 513, 4000, sizeof(blob)};
	struct txc_key_fn kf;
	struct txc_sig s;
	struct txc_arg a[3];
	uint8_t *want = malloc(sizeof(blob) + 64);
	int bad = 0;

	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 7 + 3);
	kf_fixed(&kf);
	sig_init(&s, "f");
	add_param(&s, "n", TXC_K_SCALAR, TXC_T_SHORT);
	add_param(&s, "b", TXC_K_BYTES, TXC_T_VOID);
	add_param(&s, "o", TXC_K_OUT_BYTES, TXC_T_VOID);
	for (size_t t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++) {
		size_t n = 0, len = sizes[t];
		XXH128_canonical_t c;
		struct txc_key k;

		a[0] = num_arg((uint64_t)-3);
		a[1] = (struct txc_arg){0, blob, len, NULL};
		a[2] = (struct txc_arg){0, NULL, 0, NULL};
		key_build(&kf, &g_id, &s, a, &k);
		memcpy(want, "TXK2", 4);
		memcpy(want + 4, kf.sig_digest.b, 16);
		want[20] = 'D';
		want[21] = 16;
		memcpy(want + 22, g_id.b, 16);
		n = 38;
		want[n++] = 3;
		want[n++] = 'I';
		want[n++] = TXC_T_SHORT;
		for (int i = 0; i < 8; i++)
			want[n++] = 0xff - (i == 0 ? 2 : 0);
		want[n++] = 'B';
		for (int i = 0; i < 8; i++)
			want[n++] = (uint8_t)((uint64_t)len >> (8 * i));
		memcpy(want + n, blob, len);
		n += len;
		want[n++] = 'O';
		want[n++] = 0;
		XXH128_canonicalFromHash(&c, XXH3_128bits(want, n));
		bad += memcmp(c.digest, k.digest.b, 16) != 0;
	}
	CHECK(bad == 0, "digest equals XXH3-128 of the documented stream for every size");
	free(want);
}

static int printable_key(const struct txc_key *k)
{
	for (size_t i = 0; i < k->len; i++)
		if (k->text[i] <= ' ' || k->text[i] > '~')
			return 0;
	return k->text[k->len] == '\0';
}

static void test_fn_init(void)
{
	struct txc_key_fn kf, kf2;
	struct txc_sig s;
	struct txc_arg a[1] = {num_arg(7)};
	struct txc_key k, g;
	XXH128_canonical_t c;
	char ns[102], fn[64];

	sig_init(&s, "db_get");
	add_param(&s, "id", TXC_K_SCALAR, TXC_T_INT);
	CHECK(key_fn_init(&kf, "app.v-2_x", &s) == 0, "key_fn_init accepts a valid ns");
	CHECK(strcmp(kf.prefix, "app.v-2_x:db_get:") == 0 && kf.prefix_len == 17, "prefix %s",
	      kf.prefix);
	XXH128_canonicalFromHash(&c, XXH3_128bits("int db_get(int id)", 18));
	CHECK(memcmp(c.digest, kf.sig_digest.b, 16) == 0,
	      "sig digest is XXH3-128 of the canonical text \"int db_get(int id)\"");
	k = build(&kf, &s, a);
	CHECK(strcmp(k.text, "app.v-2_x:db_get:cca2eefb7dbb7a0dc35a9e01f8f29de3") == 0,
	      "golden key through key_fn_init: %s", k.text);
	key_fn_init(&kf2, "app.v-2_x", &s);
	CHECK(memcmp(&kf, &kf2, sizeof(kf)) == 0, "key_fn_init is deterministic");
	s.params[0].keyed = false;
	key_fn_init(&kf2, "app.v-2_x", &s);
	CHECK(memcmp(&kf.sig_digest, &kf2.sig_digest, 16) != 0,
	      "ignoring a param changes the sig digest");
	s.params[0].keyed = true;

	memset(ns, 'n', 100);
	ns[100] = '\0';
	memset(fn, 'F', 63);
	fn[63] = '\0';
	strcpy(s.name, fn);
	CHECK(key_fn_init(&kf, ns, &s) == 0, "100-byte ns and 63-byte name accepted");
	k = build(&kf, &s, a);
	CHECK(k.len == 197 && k.len <= TXC_KEY_MAX && printable_key(&k),
	      "longest key is %zu bytes, printable, no spaces", k.len);
	key_gen_fn(&kf, &g);
	CHECK(g.len == 168 && printable_key(&g) && strncmp(g.text, kf.prefix, kf.prefix_len) == 0 &&
		  strcmp(g.text + kf.prefix_len, "gen") == 0,
	      "function generation key <ns>:<fn>:gen");
	ns[100] = 'n';
	ns[101] = '\0';
	CHECK(key_fn_init(&kf, ns, &s) == TXC_EINVAL, "101-byte ns rejected");
	CHECK(key_gen_ns(ns, &g) == TXC_EINVAL, "101-byte ns rejected by key_gen_ns");

	strcpy(s.name, "db_get");
	static const char *const bad_ns[] = {"", "a b", "a:b", "a/b", "caf\xc3\xa9", "x\n", "@"};
	for (size_t i = 0; i < sizeof(bad_ns) / sizeof(bad_ns[0]); i++)
		CHECK(key_fn_init(&kf, bad_ns[i], &s) == TXC_EINVAL &&
			  key_gen_ns(bad_ns[i], &g) == TXC_EINVAL,
		      "ns #%zu rejected", i);
	CHECK(key_fn_init(&kf, NULL, &s) == TXC_EINVAL, "NULL ns rejected");
	static const char *const bad_fn[] = {"", "a-b", "a.b", "@gen", "a b"};
	for (size_t i = 0; i < sizeof(bad_fn) / sizeof(bad_fn[0]); i++) {
		strcpy(s.name, bad_fn[i]);
		CHECK(key_fn_init(&kf, "ns", &s) == TXC_EINVAL, "fn name \"%s\" rejected",
		      bad_fn[i]);
	}
	CHECK(key_gen_ns("app", &g) == 0 && strcmp(g.text, "app:@gen") == 0 && g.len == 8,
	      "namespace generation key app:@gen");
	key_gen_ns("app", &k);
	CHECK(same(&g, &k), "generation key is deterministic");
}

static void test_ffi(void)
{
	struct txc_key_fn kf;
	struct txc_sig s;
	struct txc_arg a[8], h[8];
	struct txc_key k1, k2;
	int id = -7, outv;
	const char *user = "bob";
	const void *blob = "\x01\x02\x03\x04\x05", *blob2 = "xyz";
	size_t n = 4;
	short neg = -2;
	int *outp = &outv;
	void *ctx = &kf;
	void *avalue[8] = {&id, &user, &blob, &n, &outp, &ctx, &blob2, &neg};

	kf_fixed(&kf);
	sig_init(&s, "f");
	add_param(&s, "id", TXC_K_SCALAR, TXC_T_INT);
	add_param(&s, "user", TXC_K_STRING, TXC_T_VOID);
	add_param(&s, "data", TXC_K_BYTES, TXC_T_VOID);
	s.params[2].size = (struct txc_size){TXC_SZ_PARAM, 0, 3};
	add_param(&s, "n", TXC_K_SCALAR, TXC_T_SIZE);
	add_param(&s, "res", TXC_K_OUT_SCALAR, TXC_T_INT);
	add_param(&s, "ctx", TXC_K_PTR, TXC_T_VOID);
	add_param(&s, "tag", TXC_K_BYTES, TXC_T_VOID);
	s.params[6].size = (struct txc_size){TXC_SZ_PARAM, 0, 7};
	add_param(&s, "neg", TXC_K_SCALAR, TXC_T_SHORT);
	memset(a, 0xee, sizeof(a));
	int bad = -1;
	int neg_rc = key_args_from_ffi(&s, avalue, a, &bad);
	CHECK(neg_rc == TXC_EINVAL && bad == 6,
	      "a negative signed length is reported (the call must run uncached)");
	CHECK(a[0].num == (uint64_t)-7, "int -7 sign-extended");
	CHECK(a[1].ptr == user && a[1].len == 3, "string pointer and strlen");
	CHECK(a[2].ptr == blob && a[2].len == 4, "bytes length from a size_t param");
	CHECK(a[3].num == 4, "size_t value");
	CHECK(a[4].ptr == &outv, "out pointer");
	CHECK(a[5].ptr == &kf, "ptr passed through");
	CHECK(a[6].ptr == blob2 && a[6].len == 0, "negative length param keys as 0 bytes");
	CHECK(a[7].num == (uint64_t)-2, "short -2 sign-extended");
	neg = 3;
	CHECK(key_args_from_ffi(&s, avalue, a, NULL) == 0 && a[6].len == 3,
	      "a length of 0 or more is no error");
	neg = -2;
	key_args_from_ffi(&s, avalue, a, NULL);

	h[0] = num_arg((uint64_t)-7);
	h[1] = str_arg("bob");
	h[2] = (struct txc_arg){0, "\x01\x02\x03\x04", 4, NULL};
	h[3] = num_arg(4);
	h[4] = (struct txc_arg){0, &id, 0, NULL};
	h[5] = (struct txc_arg){0, NULL, 0, NULL};
	h[6] = (struct txc_arg){0, "", 0, NULL};
	h[7] = num_arg((uint64_t)-2);
	k1 = build(&kf, &s, a);
	k2 = build(&kf, &s, h);
	CHECK(same(&k1, &k2), "key from libffi args equals the key from equal hand-made args");

	s.params[2].size = (struct txc_size){TXC_SZ_LITERAL, 5, 0};
	user = NULL;
	outp = NULL;
	key_args_from_ffi(&s, avalue, a, NULL);
	CHECK(a[2].len == 5 && a[1].ptr == NULL && a[1].len == 0 && a[4].ptr == NULL,
	      "literal length, NULL string, NULL out");
	s.params[1].keyed = false;
	user = "not read";
	key_args_from_ffi(&s, avalue, a, NULL);
	CHECK(a[1].ptr == user && a[1].len == 0, "an ignored string is passed but not measured");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prints speed; asserting on time would make the test flaky. */
static void test_speed(void)
{
	struct txc_key_fn kf;
	struct txc_sig s;
	struct txc_arg a[2];
	struct txc_key k;
	uint8_t *big = calloc(1, 128 * 1024);
	unsigned sink = 0;
	double t0, t1;
	int iters = 20000;

	kf_fixed(&kf);
	sig_init(&s, "f");
	add_param(&s, "b", TXC_K_BYTES, TXC_T_VOID);
	a[0] = (struct txc_arg){0, big, 128 * 1024, NULL};
	t0 = now_s();
	for (int i = 0; i < iters; i++) {
		big[0] = (uint8_t)i;
		key_build(&kf, &g_id, &s, a, &k);
		sink += k.digest.b[0];
	}
	t1 = now_s();
	printf("# 128 KiB bytes arg: %.1f GB/s\n", (double)iters * 128 * 1024 / (t1 - t0) / 1e9);

	sig_init(&s, "f");
	add_param(&s, "id", TXC_K_SCALAR, TXC_T_INT);
	add_param(&s, "user", TXC_K_STRING, TXC_T_VOID);
	a[1] = str_arg("alice@example.com");
	iters = 2000000;
	t0 = now_s();
	for (int i = 0; i < iters; i++) {
		a[0] = num_arg((uint64_t)i);
		key_build(&kf, &g_id, &s, a, &k);
		sink += k.digest.b[0];
	}
	t1 = now_s();
	printf("# int + short string: %.0f ns per key\n", (t1 - t0) / iters * 1e9);
	CHECK(sink != 0xffffffffu, "speed loops ran (%u)", sink);
	free(big);
}

/* Two definitions of one function (libA's and libB's calc, exp at two
 * versions) never share a key; a symptr's text keys apart from the same
 * text passed as a string. */
static void test_identity_and_symptr(void)
{
	struct txc_key_fn kf;
	struct txc_sig s, t;
	struct txc_arg a[1] = {num_arg(7)};
	struct txc_digest other = g_id;
	struct txc_key k1, k2;

	kf_fixed(&kf);
	sig_init(&s, "f");
	add_param(&s, "x", TXC_K_SCALAR, TXC_T_INT);
	key_build(&kf, &g_id, &s, a, &k1);
	other.b[15] ^= 1;
	key_build(&kf, &other, &s, a, &k2);
	CHECK(strcmp(k1.text, k2.text) != 0, "another identity, another key");

	sig_init(&s, "f");
	add_param(&s, "p", TXC_K_SYMPTR, TXC_T_VOID);
	s.params[0].keyed = true;
	sig_init(&t, "f");
	add_param(&t, "p", TXC_K_STRING, TXC_T_VOID);
	a[0] = str_arg("libcrypto.so.3:EVP_sha256+0x0");
	key_build(&kf, &g_id, &s, a, &k1);
	key_build(&kf, &g_id, &t, a, &k2);
	CHECK(strcmp(k1.text, k2.text) != 0, "symptr and string key apart ('P' vs 'S')");
	struct txc_key k3;
	a[0] = str_arg("libcrypto.so.3:EVP_sha512+0x0");
	key_build(&kf, &g_id, &s, a, &k3);
	CHECK(strcmp(k1.text, k3.text) != 0, "two symptr places, two keys");
}

/* A float signature's key carries the rounding mode unless it is
 * FE_TONEAREST (whose keys are the golden ones); an integer signature's
 * key never does. */
static void test_rounding_mode(void)
{
	struct txc_key_fn kf;
	struct txc_sig s, t;
	struct txc_arg a[1] = {num_arg(7)};
	struct txc_key near, cur, k[4];

	kf_fixed(&kf);
	sig_init(&s, "f");
	add_param(&s, "x", TXC_K_SCALAR, TXC_T_DOUBLE);
	sig_init(&t, "f");
	add_param(&t, "x", TXC_K_SCALAR, TXC_T_INT);
	for (int i = 0; i < 4; i++)
		key_build_round(&kf, &g_id, &s, a, key_round_modes[i], &k[i]);
	near = build(&kf, &s, a);
	CHECK(strcmp(near.text, k[0].text) == 0, "current mode FE_TONEAREST: the nearest key");
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			CHECK(strcmp(k[i].text, k[j].text) != 0, "modes %d and %d key apart", i, j);
	fesetround(FE_UPWARD);
	cur = build(&kf, &s, a);
	struct txc_key ti = build(&kf, &t, a);
	fesetround(FE_TONEAREST);
	CHECK(strcmp(cur.text, k[1].text) == 0, "key_build reads the current mode");
	CHECK(strcmp(ti.text, build(&kf, &t, a).text) == 0, "an int signature ignores the mode");
	CHECK(key_sig_has_fp(&s) && !key_sig_has_fp(&t), "key_sig_has_fp");
	t.ret = TXC_R_SCALAR;
	t.ret_type = TXC_T_FLOAT;
	CHECK(key_sig_has_fp(&t), "a float return counts");
}

int main(void)
{
	test_golden_and_strings();
	test_rounding_mode();
	test_identity_and_symptr();
	test_scalars();
	test_ignored_and_out();
	test_bytes();
	test_format();
	test_fn_init();
	test_ffi();
	test_speed();
	return check_done();
}
