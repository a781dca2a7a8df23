/* test_sig.c - the signature parser and its canonical text. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "err.h"
#include "sig.h"

static struct txc_sig sig;
static char err[256];

static int parse(const char *text)
{
	return sig_parse(text, &sig, err, sizeof(err));
}

/* Parses TEXT expecting success and returns its canonical text. */
static const char *canon(const char *text)
{
	static char buf[512];
	static char e[256];
	struct txc_sig s;
	if (sig_parse(text, &s, e, sizeof(e)) != 0)
		return e;
	if (sig_canonical(&s, buf, sizeof(buf)) != 0)
		return "(too big)";
	return buf;
}

/* True when TEXT fails to parse with an error containing WANT. */
static bool fails_with(const char *text, const char *want)
{
	int rc = parse(text);
	if (rc != TXC_EINVAL || !strstr(err, want)) {
		printf("# '%s': rc %d, err '%s', want '%s'\n", text, rc, err, want);
		return false;
	}
	return strchr(err, '\n') == NULL;
}

static void test_scalars(void)
{
	static const struct {
		const char *text;
		enum txc_type t;
	} cases[] = {
	    {"char", TXC_T_CHAR},
	    {"signed char", TXC_T_SCHAR},
	    {"char signed", TXC_T_SCHAR},
	    {"unsigned char", TXC_T_UCHAR},
	    {"short", TXC_T_SHORT},
	    {"short int", TXC_T_SHORT},
	    {"signed short int", TXC_T_SHORT},
	    {"unsigned short", TXC_T_USHORT},
	    {"unsigned short int", TXC_T_USHORT},
	    {"int", TXC_T_INT},
	    {"signed", TXC_T_INT},
	    {"signed int", TXC_T_INT},
	    {"unsigned", TXC_T_UINT},
	    {"unsigned int", TXC_T_UINT},
	    {"long", TXC_T_LONG},
	    {"long int", TXC_T_LONG},
	    {"signed long", TXC_T_LONG},
	    {"unsigned long", TXC_T_ULONG},
	    {"long unsigned int", TXC_T_ULONG},
	    {"long long", TXC_T_LLONG},
	    {"long long int", TXC_T_LLONG},
	    {"unsigned long long", TXC_T_ULLONG},
	    {"unsigned long long int", TXC_T_ULLONG},
	    {"size_t", TXC_T_SIZE},
	    {"ssize_t", TXC_T_SSIZE},
	    {"int8_t", TXC_T_I8},
	    {"uint8_t", TXC_T_U8},
	    {"int16_t", TXC_T_I16},
	    {"uint16_t", TXC_T_U16},
	    {"int32_t", TXC_T_I32},
	    {"uint32_t", TXC_T_U32},
	    {"int64_t", TXC_T_I64},
	    {"uint64_t", TXC_T_U64},
	    {"bool", TXC_T_BOOL},
	    {"_Bool", TXC_T_BOOL},
	    {"float", TXC_T_FLOAT},
	    {"double", TXC_T_DOUBLE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text), "%s f(%s a, %s)", cases[i].text, cases[i].text,
			 cases[i].text);
		int rc = parse(text);
		CHECK(rc == 0 && sig.ret == TXC_R_SCALAR && sig.ret_type == cases[i].t &&
			  sig.nparams == 2 && sig.params[0].kind == TXC_K_SCALAR &&
			  sig.params[0].type == cases[i].t && sig.params[1].type == cases[i].t &&
			  sig.params[0].keyed && strcmp(sig.params[0].name, "a") == 0 &&
			  sig.params[1].name[0] == '\0',
		      "scalar '%s' (%s)", cases[i].text, rc ? err : "ok");
		/* out T * of every scalar */
		snprintf(text, sizeof(text), "void f(out %s *p)", cases[i].text);
		rc = parse(text);
		CHECK(rc == 0 && sig.params[0].kind == TXC_K_OUT_SCALAR &&
			  sig.params[0].type == cases[i].t && !sig.params[0].keyed,
		      "out %s * (%s)", cases[i].text, rc ? err : "ok");
	}
}

static void test_kinds(void)
{
	CHECK(parse("int db_get(string user, out string[cap] email, size_t cap)") == 0, "example");
	CHECK(strcmp(sig.name, "db_get") == 0 && sig.nparams == 3, "example name/count");
	CHECK(sig.ret == TXC_R_SCALAR && sig.ret_type == TXC_T_INT, "example ret");
	CHECK(sig.params[0].kind == TXC_K_STRING && sig.params[0].keyed, "string keyed");
	CHECK(sig.params[1].kind == TXC_K_OUT_STRING && !sig.params[1].keyed &&
		  sig.params[1].size.from == TXC_SZ_PARAM && sig.params[1].size.param == 2,
	      "out string cap refers forward to param 3");
	CHECK(sig.params[2].kind == TXC_K_SCALAR && sig.params[2].type == TXC_T_SIZE, "size_t cap");
	CHECK(sig_find_param(&sig, "email") == 1 && sig_find_param(&sig, "nope") == -1 &&
		  sig_find_param(&sig, "") == -1,
	      "sig_find_param");

	CHECK(parse("void put(bytes[n] data, size_t n, bytes[16] iv, ptr ctx)") == 0, "bytes/ptr");
	CHECK(sig.ret == TXC_R_VOID && sig.ret_type == TXC_T_VOID, "void return");
	CHECK(sig.params[0].kind == TXC_K_BYTES && sig.params[0].keyed &&
		  sig.params[0].size.from == TXC_SZ_PARAM && sig.params[0].size.param == 1,
	      "bytes[n]");
	CHECK(sig.params[2].size.from == TXC_SZ_LITERAL && sig.params[2].size.literal == 16,
	      "bytes[16]");
	CHECK(sig.params[3].kind == TXC_K_PTR && !sig.params[3].keyed &&
		  !sig_param_keyed(&sig.params[3]),
	      "ptr never keyed");

	CHECK(parse("int pbkdf(symptr md, int n)") == 0 && sig.params[0].kind == TXC_K_SYMPTR &&
		  sig.params[0].keyed && sig_param_keyed(&sig.params[0]),
	      "symptr is keyed");
	CHECK(parse("int f(int symptr)") == 0 && strcmp(sig.params[0].name, "symptr") == 0,
	      "a word of the language is a name where a name is expected");

	CHECK(parse("ssize_t rd(int fd, out bytes[cap:ret] buf, size_t cap)") == 0,
	      "out bytes ret");
	CHECK(sig.params[1].kind == TXC_K_OUT_BYTES && sig.params[1].size.param == 2 &&
		  sig.params[1].len.from == TXC_SZ_RET && sig_param_is_out(&sig.params[1]),
	      "out bytes[cap:ret]");
	CHECK(parse("int g(out bytes[64:n] buf, out size_t *n)") != 0, "LEN must be by value");
	CHECK(parse("int g(out bytes[64:n] buf, unsigned n)") == 0 &&
		  sig.params[0].size.from == TXC_SZ_LITERAL && sig.params[0].size.literal == 64 &&
		  sig.params[0].len.from == TXC_SZ_PARAM && sig.params[0].len.param == 1,
	      "out bytes[64:n]");
	CHECK(parse("int g(out bytes[64:8] buf)") == 0 && sig.params[0].len.literal == 8,
	      "out bytes[64:8]");
	CHECK(parse("int g(out bytes[c] buf, long c)") == 0 &&
		  sig.params[0].len.from == TXC_SZ_NONE,
	      "out bytes[c]");

	CHECK(parse("string name(int id)") == 0 && sig.ret == TXC_R_STRING &&
		  sig.ret_type == TXC_T_VOID,
	      "string return");
	CHECK(parse("owned string name(int id)") == 0 && sig.ret == TXC_R_OWNED_STRING,
	      "owned string return");
	CHECK(parse("static string name(int id)") == 0 && sig.ret == TXC_R_STATIC_STRING,
	      "static string return");
	CHECK(parse("static name(int id)") == TXC_EINVAL, "static without string refused");
	CHECK(strcmp(canon("static  string strerror(int e)"), "static string strerror(int e)") == 0,
	      "static string canonical text");
	CHECK(parse("int f(void)") == 0 && sig.nparams == 0, "(void)");
	CHECK(parse("int f()") == 0 && sig.nparams == 0, "()");
	CHECK(parse("  int\tf ( void ) ") == 0 && sig.nparams == 0, "spaces around (void)");
	CHECK(parse("int f(out string [ cap ] email,size_t cap)") == 0 &&
		  strcmp(sig.params[0].name, "email") == 0,
	      "whitespace tolerant brackets");
	CHECK(parse("int f(out int*p)") == 0 && strcmp(sig.params[0].name, "p") == 0, "out int*p");
	CHECK(parse("int f(out int * p)") == 0 && strcmp(sig.params[0].name, "p") == 0,
	      "out int * p");
	CHECK(parse("int f(out int*)") == 0 && sig.params[0].name[0] == '\0', "unnamed out int*");
	CHECK(parse("int f(bytes[len]d,int len)") == 0 && strcmp(sig.params[0].name, "d") == 0,
	      "no space after ]");

	char buf[512];
	strcpy(buf, "int f(");
	for (int i = 0; i < TXC_MAX_PARAMS; i++)
		strcat(buf, i ? ", int" : "int");
	strcat(buf, ")");
	CHECK(parse(buf) == 0 && sig.nparams == TXC_MAX_PARAMS, "16 params");
	buf[strlen(buf) - 1] = '\0';
	strcat(buf, ", int)");
	CHECK(fails_with(buf, "too many parameters"), "17 params");

	char name[80];
	memset(name, 'a', 63);
	name[63] = '\0';
	snprintf(buf, sizeof(buf), "int %s(int %s)", name, name);
	CHECK(parse(buf) == 0 && strlen(sig.name) == 63, "63-byte names");
	snprintf(buf, sizeof(buf), "int %sa(int x)", name);
	CHECK(fails_with(buf, "longer than 63"), "64-byte function name");
	snprintf(buf, sizeof(buf), "int f(int %sa)", name);
	CHECK(fails_with(buf, "longer than 63"), "64-byte parameter name");
}

static void test_errors(void)
{
	CHECK(fails_with("int db_get(string user, strng email)",
			 "parameter 2 (email): unknown type 'strng'"),
	      "unknown type names the parameter");
	CHECK(fails_with("int f(bytes[n] d)", "bytes[n]: no parameter named 'n'"), "no such n");
	CHECK(fails_with("int f(int a) x", "trailing text after ')'"), "trailing text");
	CHECK(fails_with("", "empty signature"), "empty");
	CHECK(fails_with("   ", "empty signature"), "blank");
	CHECK(fails_with("ptr f(int a)", "returned ptr"), "returned ptr");
	CHECK(fails_with("void *f(int a)", "cannot be cached"), "returned void *");
	CHECK(parse("int f(const char *s)") == 0 && sig.params[0].kind == TXC_K_STRING,
	      "const char * without a kind is a string");
	CHECK(fails_with("int f(char *s)", "use 'string'"), "char *");
	CHECK(fails_with("int f(int *p)", "out int *"), "int * hints out");
	CHECK(fails_with("char *f(int a)", "use 'string'"), "char * return");
	CHECK(fails_with("int f(void x)", "void is only allowed as a return type"), "void param");
	CHECK(fails_with("int f(int a, void)", "void is only allowed"), "void second");
	CHECK(fails_with("int f(void *p)", "use 'ptr'"), "void * param");
	CHECK(fails_with("int f(int void)", "'void' cannot be a parameter name"),
	      "C word reserved");
	CHECK(fails_with("int f(int a, long a)", "duplicate parameter name 'a'"), "duplicate");
	CHECK(fails_with("int f(bytes[d] d)", "'d' must be an integer"), "self size");
	CHECK(fails_with("int f(bytes[n] d, double n)", "must be an integer"), "float size");
	CHECK(fails_with("int f(bytes[n] d, bool n)", "must be an integer"), "bool size");
	CHECK(fails_with("int f(bytes[n] d, string n)", "must be an integer"), "string size");
	CHECK(fails_with("int f(bytes[ret] d)", "'ret' can only be the LEN"), "ret as bytes len");
	CHECK(fails_with("int f(out string[ret] d)", "'ret' can only be the LEN"), "ret as cap");
	CHECK(fails_with("int f(out bytes[ret:ret] d)", "'ret' can only be the LEN"),
	      "ret as out cap");
	CHECK(fails_with("double f(out bytes[8:ret] d)", "returns an integer"), "ret double");
	CHECK(fails_with("bool f(out bytes[8:ret] d)", "returns an integer"), "ret bool");
	CHECK(fails_with("string f(out bytes[8:ret] d)", "returns an integer"), "ret string");
	CHECK(fails_with("int f(out string[0] d)", "capacity of 0"), "cap 0");
	CHECK(fails_with("int f(bytes[99999999999999999999] d)", "too large"), "huge literal");
	CHECK(fails_with("int f(bytes[12ab] d)", "bad number"), "bad number");
	CHECK(fails_with("int f(bytes d)", "expected '['"), "bytes without size");
	CHECK(fails_with("int f(bytes[n d, int n)", "expected ']'"), "unclosed bracket");
	CHECK(fails_with("int f(bytes[] d)", "expected a size"), "empty size");
	CHECK(fails_with("int f(string[4:n] d, int n)", "expected ','"), "string with size");
	CHECK(fails_with("int f(bytes[4:2] d)", "expected ']'"), "LEN on in bytes");
	CHECK(fails_with("int f(out float p)", "expected '*'"), "out scalar without *");
	CHECK(fails_with("int f(out ptr p)", "unknown out type"), "out ptr");
	CHECK(fails_with("int f(int a", "expected ',' or ')'"), "unclosed paren");
	CHECK(fails_with("int f(int a b)", "expected ',' or ')'"), "two names");
	CHECK(fails_with("int f(int a,)", "parameter 2: expected a type"), "trailing comma");
	CHECK(fails_with("int (int a)", "expected the function name"), "no function name");
	CHECK(fails_with("int f int a", "expected '('"), "no paren");
	CHECK(fails_with("strng f(int a)", "unknown return type 'strng'"), "bad return");
	CHECK(fails_with("owned int f(int a)", "'owned' must be followed by 'string'"),
	      "owned int");
	CHECK(fails_with("bytes f(int a)", "only allowed for parameters"), "bytes return");
	CHECK(fails_with("long double f(int a)", "unsupported type 'long double'"), "long double");
	CHECK(fails_with("int f(signed unsigned x)", "unsupported type"), "signed unsigned");
	CHECK(fails_with("int f(long long long x)", "unsupported type"), "long long long");
	CHECK(fails_with("int f(short long x)", "unsupported type"), "short long");
	CHECK(fails_with("int f(int $)", "'$'"), "bad character");
	CHECK(fails_with("int f(int \x01)", "byte 0x01"), "control byte");
	CHECK(fails_with("int f(int a; int b)", "expected ',' or ')'"), "semicolon");
	CHECK(fails_with("int 1f(int a)", "expected the function name"), "digit name");

	char small[8];
	CHECK(sig_parse("int f(strng x)", &sig, small, sizeof(small)) == TXC_EINVAL &&
		  strlen(small) == sizeof(small) - 1,
	      "error truncated to errcap");
	CHECK(sig_parse("int f(strng x)", &sig, NULL, 0) == TXC_EINVAL, "errcap 0");
	CHECK(sig_parse(NULL, &sig, err, sizeof(err)) == TXC_EINVAL, "NULL text");
}

static void test_canonical(void)
{
	CHECK(strcmp(canon("int db_get(string user, out string[cap] email, size_t cap)"),
		     "int db_get(string user, out string[cap] email, size_t cap)") == 0,
	      "canonical example");
	CHECK(strcmp(
		  canon(" long   unsigned int f ( out bytes [ c : ret ]b , long int c,"
			"out int*p, bytes[4], ptr, _Bool) "),
		  "unsigned long f(out bytes[c:ret] b, long c, out int *p, bytes[4], ptr, bool)") ==
		  0,
	      "canonical normalises: %s",
	      canon(" long unsigned int f ( out bytes [ c : ret ]b , long int c,out int*p, "
		    "bytes[4], ptr, _Bool) "));
	CHECK(strcmp(canon("int f(symptr  md, ptr c)"), "int f(symptr md, ptr c)") == 0,
	      "canonical symptr differs from ptr");
	CHECK(strcmp(canon("void f(void)"), "void f(void)") == 0, "canonical void");
	CHECK(strcmp(canon("owned string f()"), "owned string f(void)") == 0, "canonical owned");
	CHECK(strcmp(canon("string f(signed char c)"), "string f(signed char c)") == 0,
	      "canonical string");

	struct txc_sig s;
	char a[600], b[600];
	CHECK(sig_parse("int db_get(string user, out string[cap] email, size_t cap)", &s, err,
			sizeof(err)) == 0,
	      "parse for ignore");
	sig_canonical(&s, a, sizeof(a));
	s.params[2].keyed = false;
	CHECK(
	    sig_canonical(&s, b, sizeof(b)) == 0 &&
		strcmp(b, "int db_get(string user, out string[cap] email, size_t cap [ignored])") ==
		    0,
	    "ignored param marked: %s", b);
	CHECK(strcmp(a, b) != 0, "ignore changes canonical");

	/* Pairs that key differently must differ. */
	static const char *const pairs[][2] = {
	    {"int f(int a)", "int f(long a)"},
	    {"int f(int a)", "int f(unsigned a)"},
	    {"int f(char a)", "int f(signed char a)"},
	    {"int f(int a)", "long f(int a)"},
	    {"string f(int a)", "owned string f(int a)"},
	    {"void f(int a)", "int f(int a)"},
	    {"int f(string a)", "int f(bytes[4] a)"},
	    {"int f(bytes[4] a)", "int f(bytes[5] a)"},
	    {"int f(bytes[n] a, int n)", "int f(bytes[m] a, int n, int m)"},
	    {"int f(out bytes[8] a)", "int f(out bytes[8:ret] a)"},
	    {"int f(out bytes[8] a)", "int f(out string[8] a)"},
	    {"int f(ptr a)", "int f(string a)"},
	    {"int f(int a, int b)", "int f(int b, int a)"},
	    {"int f(int a)", "int g(int a)"},
	    {"int f(out int *a)", "int f(out long *a)"},
	};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		snprintf(a, sizeof(a), "%s", canon(pairs[i][0]));
		snprintf(b, sizeof(b), "%s", canon(pairs[i][1]));
		CHECK(strcmp(a, b) != 0, "'%s' != '%s'", a, b);
	}
	/* Same keying spelled differently: same text. */
	snprintf(a, sizeof(a), "%s", canon("unsigned long long int f(long int x)"));
	snprintf(b, sizeof(b), "%s", canon("unsigned long long f(long x)"));
	CHECK(strcmp(a, b) == 0, "spellings normalise to the same text");

	char tiny[10];
	CHECK(sig_parse("int f(int a)", &s, err, sizeof(err)) == 0 &&
		  sig_canonical(&s, tiny, sizeof(tiny)) == TXC_ETOOBIG && tiny[0] == '\0',
	      "canonical ETOOBIG");
	CHECK(sig_canonical(&s, tiny, 0) == TXC_ETOOBIG, "canonical cap 0");
	CHECK(sig_canonical(&s, a, 13) == 0 && strcmp(a, "int f(int a)") == 0, "exact fit");
}

/* Every prefix, and every single-byte corruption, of valid signatures must
 * parse or fail cleanly. Prefixes are copied to the heap exactly so ASan
 * sees any read past the NUL. */
static void test_robustness(void)
{
	static const char *const texts[] = {
	    "int db_get(string user, out string[cap] email, size_t cap)",
	    "ssize_t rd(int fd, out bytes[cap:ret] buf, size_t cap, bytes[n] k, long n)",
	    "owned string f(out unsigned long long *p, ptr x, bytes[16] iv, void)",
	    "unsigned short int g ( void )",
	};
	static const char junk[] = "()[],:* \t\x01\xff"
				   "a0_";
	int bad = 0, total = 0;
	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		size_t n = strlen(texts[t]);
		for (size_t k = 0; k <= n; k++) {
			char *p = malloc(k + 1);
			memcpy(p, texts[t], k);
			p[k] = '\0';
			int rc = sig_parse(p, &sig, err, sizeof(err));
			bad += !(rc == 0 || (rc == TXC_EINVAL && err[0]));
			total++;
			for (size_t j = 0; k == n && j < n; j++) {
				for (size_t c = 0; c < sizeof(junk) - 1; c++) {
					char save = p[j];
					p[j] = junk[c];
					rc = sig_parse(p, &sig, err, sizeof(err));
					bad += !(rc == 0 || (rc == TXC_EINVAL && err[0]));
					total++;
					if (rc == 0) {
						char out[1024];
						bad += sig_canonical(&sig, out, sizeof(out)) != 0;
					}
					p[j] = save;
				}
			}
			free(p);
		}
	}
	CHECK(bad == 0, "%d mutated signatures: every failure has a message", total);

	/* Long input is refused, not scanned forever. */
	size_t big = 100000;
	char *p = malloc(big + 1);
	memset(p, ' ', big);
	p[big] = '\0';
	CHECK(parse(p) == TXC_EINVAL && strstr(err, "longer than"), "huge text refused");
	free(p);
}

int main(void)
{
	test_scalars();
	test_kinds();
	test_errors();
	test_canonical();
	test_robustness();
	return check_done();
}
