/* test_siglang.c - what issue 15 added to the signature language: inout
 * scalars, sizes read through a pointer ("*destLen"), C spellings copied
 * from headers, [types]; and that every old signature keys as before. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "key.h"
#include "result.h"
#include "sig.h"

static struct txc_sig sig;
static char err[256];

static int parse(const char *text)
{
	return sig_parse(text, &sig, err, sizeof(err));
}

/* The canonical text of TEXT, or its error. */
static const char *canon(const char *text)
{
	static char buf[2][512];
	static int n;
	char *b = buf[n++ % 2];
	struct txc_sig s;
	if (sig_parse(text, &s, err, sizeof(err)) != 0)
		return err;
	return sig_canonical(&s, b, sizeof(buf[0])) == 0 ? b : "(too big)";
}

static bool fails_with(const char *text, const char *want)
{
	int rc = parse(text);
	if (rc != TXC_EINVAL || !strstr(err, want)) {
		printf("# '%s': rc %d, err '%s', want '%s'\n", text, rc, err, want);
		return false;
	}
	return true;
}

static bool same_canon(const char *a, const char *b)
{
	char x[512];
	snprintf(x, sizeof(x), "%s", canon(a));
	const char *y = canon(b);
	if (strcmp(x, y) != 0)
		printf("# '%s'\n#  vs '%s'\n", x, y);
	return strcmp(x, y) == 0;
}

static const struct txc_digest g_id = {{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9,
					0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf}};

/* An old signature, parsed and keyed end to end: the key printed by the
 * code before issue 15 (main at 5e35b42) for the same arguments. */
static void test_old_key_pinned(void)
{
	CHECK(parse("ssize_t rd(int fd, out bytes[cap:ret] buf, size_t cap, bytes[n] k, long n, "
		    "out unsigned long *p, string s, ptr x, double d)") == 0,
	      "old signature parses (%s)", err);
	struct txc_key_fn kf;
	CHECK(key_fn_init(&kf, "pin", &sig) == 0, "key_fn_init");
	int fd = 7;
	char buf[4];
	size_t cap = 4;
	unsigned char kb[3] = {1, 2, 3};
	long n = 3;
	unsigned long pv, *p = &pv;
	const char *str = "hello";
	void *x = NULL, *bufp = buf, *kbp = kb;
	double d = 2.5;
	void *av[] = {&fd, &bufp, &cap, &kbp, &n, &p, &str, &x, &d};
	struct txc_arg a[TXC_MAX_PARAMS];
	struct txc_key k;
	key_args_from_ffi(&sig, av, a, NULL);
	key_build(&kf, &g_id, &sig, a, &k);
	CHECK(strcmp(k.text, "pin:rd:73bd23ea03aaa08ac4954ce0076db0eb") == 0,
	      "an old signature keys as before: %s", k.text);
}

#define ZLIB_PLAIN                                                                                 \
	"int compress2(out bytes[*destLen] dest, inout unsigned long *destLen, "                   \
	"bytes[sourceLen] source, unsigned long sourceLen, int level)"
#define ZLIB_COPIED                                                                                \
	"int compress2(out bytes[*destLen] Bytef *dest, inout uLongf *destLen, "                   \
	"bytes[sourceLen] const Bytef *source, uLong sourceLen, int level)"

static void test_inout_and_deref(void)
{
	CHECK(parse(ZLIB_PLAIN) == 0, "compress2 parses (%s)", err);
	const struct txc_param *dest = &sig.params[0], *dl = &sig.params[1];
	CHECK(dl->kind == TXC_K_INOUT_SCALAR && dl->type == TXC_T_ULONG && dl->keyed &&
		  sig_param_is_out(dl) && !sig_param_keyed(dl),
	      "inout: keyed by value on entry, an out, not an input");
	CHECK(dest->kind == TXC_K_OUT_BYTES && dest->size.from == TXC_SZ_DEREF &&
		  dest->size.param == 1 && dest->len.from == TXC_SZ_DEREF && dest->len.param == 1,
	      "out bytes[*destLen] is [*destLen:*destLen]");
	CHECK(same_canon(ZLIB_PLAIN, ZLIB_COPIED), "copied from zlib.h: same canonical text");
	CHECK(strcmp(canon(ZLIB_PLAIN), ZLIB_PLAIN) == 0, "canonical: %s", canon(ZLIB_PLAIN));
	CHECK(same_canon("int f(out bytes[*n:*n] b, inout size_t *n)",
			 "int f(out bytes[*n] b, inout size_t *n)"),
	      "[*n:*n] spelled [*n]");
	CHECK(parse("int f(out bytes[cap:*n] b, size_t cap, out size_t *n)") == 0 &&
		  sig.params[0].size.from == TXC_SZ_PARAM && sig.params[0].len.from == TXC_SZ_DEREF,
	      "LEN after the call through an out (%s)", err);
	CHECK(parse("int f(bytes[*n] b, inout int *n)") == 0, "input bytes[*n] (%s)", err);
	CHECK(parse("int f(out string[*n] s, inout int *n)") == 0, "out string[*n] (%s)", err);
	CHECK(fails_with("int f(out bytes[*n] b, out size_t *n)", "must be inout"),
	      "a CAP is read on entry: out refused");
	CHECK(fails_with("int f(out bytes[*n] b, size_t n)", "inout"), "*n of a by-value");
	CHECK(fails_with("int f(out bytes[*n] b, inout double *n)", "integer"), "*n of a double");
	CHECK(fails_with("int f(out bytes[*m] b, inout int *n)", "no parameter named 'm'"),
	      "*m unknown");
	CHECK(fails_with("int f(inout int x)", "expected '*'"), "inout needs *");
	CHECK(fails_with("int f(inout string s)", "unknown inout type"), "inout string");
	CHECK(fails_with("int f(bytes[n] b, inout int *n)", "passed by value"),
	      "plain [n] of an inout");

	/* pairs that key differently have different canonical texts */
	static const char *const pairs[][2] = {
	    {"int f(out int *n)", "int f(inout int *n)"},
	    {"int f(out bytes[*n] b, inout int *n)", "int f(out bytes[n] b, int n)"},
	    {"int f(out bytes[*n] b, inout int *n)", "int f(out bytes[*n:8] b, inout int *n)"},
	    {"int f(bytes[*n] b, inout int *n)", "int f(bytes[n] b, int n)"},
	    {"int f(inout int *n)", "int f(inout long *n)"},
	};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		CHECK(!same_canon(pairs[i][0], pairs[i][1]), "'%s' != '%s'", pairs[i][0],
		      pairs[i][1]);
	struct txc_sig s;
	char a[512], b[512];
	sig_parse(ZLIB_PLAIN, &s, err, sizeof(err));
	sig_canonical(&s, a, sizeof(a));
	s.params[1].keyed = false;
	CHECK(sig_canonical(&s, b, sizeof(b)) == 0 && strstr(b, "*destLen [ignored]") &&
		  strcmp(a, b) != 0,
	      "ignored inout marked: %s", b);
}

static void test_c_spellings(void)
{
	CHECK(same_canon("int f(string const char *phrase)", "int f(string phrase)"),
	      "string const char *");
	CHECK(same_canon("int f(const char *restrict phrase)", "int f(string phrase)"),
	      "const char * without a kind");
	CHECK(same_canon("int f(char const *phrase)", "int f(string phrase)"), "char const *");
	CHECK(same_canon("int f(out string[cap] char *buf, size_t cap)",
			 "int f(out string[cap] buf, size_t cap)"),
	      "out string[cap] char *");
	CHECK(same_canon("int f(out string[outlen] char *out, size_t outlen)",
			 "int f(out string[outlen] out, size_t outlen)"),
	      "a parameter named out");
	CHECK(parse("int f(string string, bytes[n] bytes, int n, ptr ptr, inout int *inout, "
		    "string file, long ret)") == 0 &&
		  strcmp(sig.params[0].name, "string") == 0 &&
		  strcmp(sig.params[4].name, "inout") == 0 &&
		  strcmp(sig.params[6].name, "ret") == 0,
	      "words of the language as names (%s)", err);
	CHECK(same_canon("int f(out uLongf *destLen)", "int f(out unsigned long *destLen)"),
	      "out uLongf *");
	CHECK(same_canon("int f(out uLongf * __restrict destLen)",
			 "int f(out unsigned long *destLen)"),
	      "__restrict after the star");
	CHECK(same_canon("int f(const volatile int x, unsigned u, signed s, short int si, long int "
			 "l, unsigned long int ul, long long int ll)",
			 "int f(int x, unsigned int u, int s, short si, long l, unsigned long ul, "
			 "long long ll)"),
	      "C's long spellings");
	CHECK(same_canon("uLong f(uInt a, uIntf b, Byte c, charf d, intf e, z_size_t f)",
			 "unsigned long f(unsigned int a, unsigned int b, unsigned char c, char d, "
			 "int e, size_t f)"),
	      "zlib's typedefs");
	static const char *const posix[] = {
	    "off_t",	 "off64_t",   "time_t",	     "uid_t",	   "gid_t",	"pid_t",
	    "mode_t",	 "dev_t",     "ino_t",	     "nlink_t",	   "blksize_t", "blkcnt_t",
	    "socklen_t", "ptrdiff_t", "intptr_t",    "uintptr_t",  "intmax_t",	"uintmax_t",
	    "wchar_t",	 "clock_t",   "suseconds_t", "useconds_t", "z_off_t",
	};
	for (size_t i = 0; i < sizeof(posix) / sizeof(posix[0]); i++) {
		char t[128];
		snprintf(t, sizeof(t), "%s f(%s x, out %s *y)", posix[i], posix[i], posix[i]);
		CHECK(parse(t) == 0 && sig.params[0].kind == TXC_K_SCALAR &&
			  sig_type_info(sig.params[0].type)->size > 0,
		      "%s is a scalar (%s)", posix[i], err);
	}
	CHECK(
	    parse("int f(ptr z_stream *strm, ptr FILE *fp, ptr z_streamp s, ptr struct foo *p)") ==
		0,
	    "ptr with a C type (%s)", err);
	CHECK(parse("int f(bytes[n] const void *p, size_t n)") == 0, "bytes const void *");

	CHECK(fails_with("int f(Bytef *dest)", "needs a kind: 'out Bytef *' or 'inout Bytef *'"),
	      "a bare T * says which kinds fit");
	CHECK(fails_with("int f(char *out)", "'out string[CAP]'"), "char *out needs a kind");
	CHECK(fails_with("int f(void *p)", "use 'ptr'"), "void *");
	CHECK(fails_with("int f(string int *p)", "'string' needs a char *, not 'int *'"),
	      "string int *");
	CHECK(fails_with("int f(string const char p)", "needs a char *"), "string char");
	CHECK(fails_with("int f(bytes[n] int x, int n)", "needs a pointer to the buffer"),
	      "bytes of a scalar");
	CHECK(fails_with("int f(out string[8] unsigned int *p)", "needs a char *"),
	      "out string int *");
	CHECK(fails_with("int f(ptr int x)", "needs a pointer"), "ptr int");
	CHECK(fails_with("int f(int size_t)", "unsupported type"), "typedef after a type");
	CHECK(fails_with("int f(string uLong)", "needs a char *"),
	      "a typedef is a type, not a name");
	CHECK(fails_with("int f(struct foo s)", "struct passed by value"), "struct by value");
	CHECK(fails_with("int f(z_stream s)", "unknown type 'z_stream'"), "unknown typedef");
}

static void test_types(void)
{
	struct txc_sig_types ty = {0};
	CHECK(sig_types_add(&ty, "argon2_type", "int", err, sizeof(err)) == 0, "argon2_type = int");
	CHECK(sig_types_add(&ty, "my_len", "unsigned long int", err, sizeof(err)) == 0, "my_len");
	CHECK(sig_types_add(&ty, "my_len2", "my_len", err, sizeof(err)) == 0, "chained");
	CHECK(sig_types_add(&ty, "sz", "size_t", err, sizeof(err)) == 0, "to a built-in");
	CHECK(sig_types_add(&ty, "out", "int", err, sizeof(err)) == TXC_EINVAL &&
		  strstr(err, "keyword"),
	      "keyword refused: %s", err);
	CHECK(sig_types_add(&ty, "unsigned", "int", err, sizeof(err)) == TXC_EINVAL &&
		  strstr(err, "keyword"),
	      "C word refused");
	CHECK(sig_types_add(&ty, "uLong", "int", err, sizeof(err)) == TXC_EINVAL &&
		  strstr(err, "built-in"),
	      "built-in clash: %s", err);
	CHECK(sig_types_add(&ty, "argon2_type", "long", err, sizeof(err)) == TXC_EINVAL &&
		  strstr(err, "twice"),
	      "duplicate");
	CHECK(sig_types_add(&ty, "t1", "struct foo", err, sizeof(err)) == TXC_EINVAL &&
		  strstr(err, "not a C scalar type"),
	      "unknown target: %s", err);
	CHECK(sig_types_add(&ty, "t2", "char *", err, sizeof(err)) == TXC_EINVAL, "pointer target");
	CHECK(sig_types_add(&ty, "t3", "void", err, sizeof(err)) == TXC_EINVAL, "void target");
	CHECK(sig_types_add(&ty, "t4", "int) x(", err, sizeof(err)) == TXC_EINVAL, "injection");
	CHECK(sig_types_add(&ty, "1x", "int", err, sizeof(err)) == TXC_EINVAL, "bad name");
	CHECK(ty.n == 4, "only the good ones added: %d", ty.n);
	struct txc_sig s;
	char a[256];
	CHECK(sig_parse_types("argon2_type f(argon2_type t, out my_len2 *n, inout sz *z)", &ty, &s,
			      err, sizeof(err)) == 0 &&
		  sig_canonical(&s, a, sizeof(a)) == 0 &&
		  strcmp(a, "int f(int t, out unsigned long *n, inout size_t *z)") == 0,
	      "user types: %s", a);
	CHECK(sig_parse("int f(argon2_type t)", &s, err, sizeof(err)) == TXC_EINVAL,
	      "not known without [types]");
}

/* compress2's shape: dest, destLen in, destLen out. */
static void test_keys_inout(void)
{
	struct txc_sig s;
	struct txc_key_fn kf;
	sig_parse(ZLIB_PLAIN, &s, err, sizeof(err));
	key_fn_init(&kf, "ns", &s);
	unsigned char dst[64], src[8] = "abcdefg";
	unsigned long dl = 64, srcl = 8, *dlp = &dl;
	int level = 6;
	void *dp = dst, *sp = src;
	void *av[] = {&dp, &dlp, &sp, &srcl, &level};
	struct txc_arg a[TXC_MAX_PARAMS];
	struct txc_key k1, k2, k3, k4;
	key_args_from_ffi(&s, av, a, NULL);
	key_build(&kf, &g_id, &s, a, &k1);
	dl = 63;
	key_args_from_ffi(&s, av, a, NULL);
	key_build(&kf, &g_id, &s, a, &k2);
	CHECK(strcmp(k1.text, k2.text) != 0, "*destLen on entry is keyed");
	dlp = NULL;
	key_args_from_ffi(&s, av, a, NULL);
	key_build(&kf, &g_id, &s, a, &k3);
	dl = 0;
	dlp = &dl;
	key_args_from_ffi(&s, av, a, NULL);
	key_build(&kf, &g_id, &s, a, &k4);
	CHECK(strcmp(k3.text, k4.text) != 0 && strcmp(k3.text, k1.text) != 0,
	      "NULL keys apart from 0");
	s.params[1].keyed = false;
	key_fn_init(&kf, "ns", &s);
	dl = 64;
	key_args_from_ffi(&s, av, a, NULL);
	key_build(&kf, &g_id, &s, a, &k1);
	dl = 63;
	key_args_from_ffi(&s, av, a, NULL);
	key_build(&kf, &g_id, &s, a, &k2);
	dlp = NULL;
	key_args_from_ffi(&s, av, a, NULL);
	key_build(&kf, &g_id, &s, a, &k3);
	CHECK(strcmp(k1.text, k2.text) == 0, "ignored: the value is not keyed");
	CHECK(strcmp(k1.text, k3.text) != 0, "ignored: NULL-ness still is");
}

/* A real call of compress2's shape: CAP on entry, LEN after, stored, then
 * served (or not) to callers with other *destLen. */
static void test_result_deref(void)
{
	struct txc_sig s;
	sig_parse(ZLIB_PLAIN, &s, err, sizeof(err));
	s.params[1].keyed = false; /* ignore = destLen: the capacity rules alone */
	unsigned char dst[16] = "HELLO", src[4] = "abc";
	unsigned long dl = 16, srcl = 3, *dlp = &dl;
	int level = 6;
	uint64_t ret = 0; /* libffi's return slot is a whole ffi_arg, even for an int */
	void *dp = dst, *sp = src;
	void *av[] = {&dp, &dlp, &sp, &srcl, &level};
	struct txc_arg a[TXC_MAX_PARAMS];
	key_args_from_ffi(&s, av, a, NULL); /* before the call: *destLen = 16 */
	dl = 5;				    /* the call wrote 5 bytes and said so */
	struct txc_result res;
	CHECK(result_collect(&s, &ret, av, a, &res) == 0 && res.out[0].cap == 16 &&
		  res.out[0].len == 5 && res.out[1].num == 5,
	      "collect: capacity on entry, length after (cap %llu len %llu)",
	      (unsigned long long)res.out[0].cap, (unsigned long long)res.out[0].len);
	uint8_t buf[512];
	size_t len = 0;
	struct txc_value_meta meta = {0};
	CHECK(codec_encode(&s, &meta, &res, buf, sizeof(buf), &len) == 0, "encodes");
	struct txc_result back;
	struct txc_value_meta m2;
	CHECK(codec_decode(&s, &meta.sig, &meta.key, buf, len, &m2, &back) == 0 &&
		  back.out[0].len == 5 && back.out[1].num == 5,
	      "decodes");
	struct txc_result bad = res;
	bad.out[1].num = 4; /* a length that contradicts *destLen */
	CHECK(codec_encode(&s, &meta, &bad, buf, sizeof(buf), &len) == TXC_EINVAL,
	      "length and *destLen must agree");

	unsigned char out[8];
	memset(out, '#', sizeof(out));
	dp = out;
	dl = 4; /* one byte short */
	CHECK(result_outs_fit(&s, av, &back) == TXC_ERANGE, "one byte short: the real call runs");
	dl = 0;
	CHECK(result_outs_fit(&s, av, &back) == TXC_ERANGE, "*destLen = 0: the real call runs");
	dl = 5;
	CHECK(result_outs_fit(&s, av, &back) == 0, "exact capacity: served");
	result_outs_write(&s, av, &back);
	CHECK(memcmp(out, "HELLO", 5) == 0 && out[5] == '#' && dl == 5,
	      "written: 5 bytes, *destLen = 5, nothing past");
	dlp = NULL;
	CHECK(result_outs_fit(&s, av, &back) != 0, "NULL destLen: not served");

	/* a result that filled its capacity may be cut: not for a larger one */
	dlp = &dl;
	dl = 5;
	dp = dst;
	key_args_from_ffi(&s, av, a, NULL);
	dl = 5;
	CHECK(result_collect(&s, &ret, av, a, &res) == 0 && res.out[0].len == 5 &&
		  res.out[0].cap == 5,
	      "collect a full buffer");
	dl = 16;
	CHECK(result_outs_fit(&s, av, &res) == TXC_ERANGE, "filled 5: not served to 16");
}

static int g_nreports, g_report_line[8];

static void record(void *ctx, const char *path, int line, bool warning, const char *msg)
{
	(void)ctx;
	(void)path;
	(void)warning;
	printf("# report %d: %s\n", line, msg);
	if (g_nreports < 8)
		g_report_line[g_nreports] = line;
	g_nreports++;
}

/* [types] anywhere in the file: the signatures are checked once it is read. */
static void test_config_types(void)
{
	struct txc_config *cfg = NULL;
	g_nreports = 0;
	int rc =
	    config_parse_string("[cache]\nservers = /tmp/x.sock\n"
				"[function f]\nsignature = int f(argon2_type t, inout my_len *n)\n"
				"[types]\nargon2_type = int\nmy_len = unsigned long\n",
				"t.ini", &cfg, record, NULL);
	CHECK(rc == 0 && cfg && cfg->nfns == 1 && cfg->fns[0].sig.params[0].type == TXC_T_INT &&
		  cfg->fns[0].sig.params[1].kind == TXC_K_INOUT_SCALAR &&
		  cfg->fns[0].sig.params[1].type == TXC_T_ULONG,
	      "[types] after the function that uses it");
	config_free(cfg);
	cfg = NULL;
	g_nreports = 0;
	rc = config_parse_string(
	    "[cache]\nservers = /tmp/x.sock\n[types]\nsize_t = int\n"
	    "a = b\n[function f]\nsignature = int f(inout int *n)\nignore = n\n",
	    "t.ini", &cfg, record, NULL);
	CHECK(rc != 0 && g_nreports == 2 && g_report_line[0] == 4 && g_report_line[1] == 5,
	      "bad [types] lines reported at their line (%d reports)", g_nreports);
	config_free(cfg);
	cfg = NULL;
	g_nreports = 0;
	rc = config_parse_string("[cache]\nservers = /tmp/x.sock\n[types]\nt = unsigned\n  long\n",
				 "t.ini", &cfg, record, NULL);
	CHECK(rc != 0 && g_nreports == 1 && g_report_line[0] == 5,
	      "a [types] line continued is an error, not a silent 'unsigned'");
	config_free(cfg);
}

int main(void)
{
	test_old_key_pinned();
	test_inout_and_deref();
	test_c_spellings();
	test_types();
	test_keys_inout();
	test_result_deref();
	test_config_types();
	return check_done();
}
