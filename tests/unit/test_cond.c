/* test_cond.c - the cache_if / outs_if condition language: parsing at the
 * edges of every domain, and evaluation (precedence, errno, out scalars). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "cond.h"
#include "err.h"

static struct txc_sig sig;
static struct txc_cond cond;
static char why[256];

static void use_sig(const char *text)
{
	char err[256];
	if (sig_parse(text, &sig, err, sizeof(err)) != 0)
		printf("# bad test signature %s: %s\n", text, err);
}

static bool parses(const char *text)
{
	return cond_parse(text, &sig, &cond, why, sizeof(why)) == 0 && cond.set;
}

/* True when TEXT is refused with a reason containing WANT. */
static bool refused(const char *text, const char *want)
{
	int rc = cond_parse(text, &sig, &cond, why, sizeof(why));
	if (rc == 0 || strstr(why, want) == NULL) {
		printf("# '%s': rc %d, reason '%s'\n", text, rc, why);
		return false;
	}
	return rc == TXC_EINVAL && !cond.set;
}

/* Evaluates TEXT (which must parse) on a result returning RET, with errno ERR. */
static bool holds_ret(const char *text, uint64_t ret, int err)
{
	struct txc_result res;
	memset(&res, 0, sizeof(res));
	res.ret = ret;
	res.err_set = err != 0;
	res.err = err;
	if (!parses(text)) {
		printf("# '%s' does not parse: %s\n", text, why);
		return false;
	}
	return cond_holds(&cond, &res);
}

static void test_size_t(void)
{
	use_sig("size_t z(ptr c, size_t n)");
	CHECK(parses("ret < 18446744073709551000"), "size_t: decimal near 2^64");
	CHECK(parses("ret < 0xffffffffffffff00"), "size_t: hex near 2^64");
	CHECK(parses("ret == 18446744073709551615") && cond.terms[0].lit == UINT64_MAX,
	      "size_t: 2^64-1 is in the domain");
	CHECK(refused("ret == 18446744073709551616", "18446744073709551616 is out of range for "
						     "size_t (ret)"),
	      "size_t: 2^64 is one past the domain");
	CHECK(refused("ret == 0x10000000000000000", "out of range for size_t"),
	      "size_t: 2^64 in hex");
	CHECK(refused("ret > -1", "-1 is out of range for size_t"), "size_t: no negatives");
	CHECK(parses("ret > -0"), "size_t: -0 is 0");
	CHECK(holds_ret("ret < 18446744073709551000", 1000, 0), "size_t: small result holds");
	CHECK(!holds_ret("ret < 18446744073709551000", UINT64_MAX - 10, 0),
	      "size_t: an error code near 2^64 fails");
	CHECK(holds_ret("ret >= 9223372036854775808", (uint64_t)1 << 63, 0) &&
		  !holds_ret("ret >= 9223372036854775808", ((uint64_t)1 << 63) - 1, 0),
	      "size_t: 2^63 compared unsigned, exactly");
	/* 2^53 + 1 is not a double: a comparison through double would say equal */
	CHECK(!holds_ret("ret == 9007199254740993", 9007199254740992ull, 0),
	      "size_t: exact above 2^53");
}

static void test_signed(void)
{
	use_sig("long long f(int a)");
	CHECK(parses("ret >= -9223372036854775808") && cond.terms[0].lit == (uint64_t)INT64_MIN,
	      "int64: -2^63 is in the domain");
	CHECK(parses("ret <= 9223372036854775807"), "int64: 2^63-1");
	CHECK(refused("ret <= 9223372036854775808", "out of range for long long"),
	      "int64: 2^63 is one past");
	CHECK(refused("ret <= -9223372036854775809", "out of range for long long"),
	      "int64: -2^63-1 is one past");
	CHECK(refused("ret < 0xffffffffffffffff", "out of range for long long"),
	      "int64: hex is a value, not a bit pattern");
	CHECK(holds_ret("ret < 0", (uint64_t)INT64_MIN, 0) && !holds_ret("ret < 0", 5, 0),
	      "int64: compared signed");
	use_sig("short s(int a)");
	CHECK(parses("ret > -32768") && refused("ret > -32769", "-32769 is out of range for short"),
	      "short: -2^15 in, one past out");
	CHECK(refused("ret > 32768", "out of range for short"), "short: 2^15 out");
	CHECK(holds_ret("ret < -1", (uint64_t)(int64_t)-2, 0), "short: sign-extended value");
	use_sig("unsigned char u(int a)");
	CHECK(parses("ret == 0xff") && refused("ret == 256", "out of range for unsigned char"),
	      "uchar: 255 in, 256 out");
	use_sig("bool b(int a)");
	CHECK(parses("ret == 1") && refused("ret == 2", "out of range for bool"), "bool: 0..1");
	use_sig("int i(int a)");
	CHECK(refused("ret > 1.5", "1.5 is not an integer (ret is int)"), "int: no float literal");
	CHECK(refused("ret == NULL", "NULL needs a string return"), "int: no NULL");
}

static void test_float(void)
{
	use_sig("double d(double x)");
	double nan_v = NAN, half = 0.5, big = 1e300;
	uint64_t nanb, halfb, bigb;
	memcpy(&nanb, &nan_v, 8);
	memcpy(&halfb, &half, 8);
	memcpy(&bigb, &big, 8);
	CHECK(holds_ret("ret > 0.25", halfb, 0) && !holds_ret("ret < 0.25", halfb, 0),
	      "double: compared as double");
	CHECK(holds_ret("ret != 0", nanb, 0) && !holds_ret("ret == 0", nanb, 0) &&
		  !holds_ret("ret >= 0", nanb, 0) && !holds_ret("ret < 0", nanb, 0),
	      "double: NaN satisfies only !=");
	CHECK(holds_ret("ret > 0x10", bigb, 0), "double: hex integer literal");
	CHECK(refused("ret > 1e999", "out of range for double"), "double: beyond DBL_MAX");
	CHECK(holds_ret("ret < 100000000000000000000", bigb, 0) == false &&
		  holds_ret("ret > 100000000000000000000", bigb, 0),
	      "double: a decimal integer beyond 64 bits is a double");
	CHECK(refused("ret > 0x10000000000000000", "out of range for double"),
	      "double: hex beyond 64 bits refused");
	CHECK(refused("ret > nan", "not a number"), "double: nan is no literal");
	use_sig("float f(float x)");
	CHECK(parses("ret < 3.4e38") && refused("ret < 1e39", "1e39 is out of range for float"),
	      "float: FLT_MAX bounds the literal");
	float fh = 0.1f;
	uint32_t fb;
	memcpy(&fb, &fh, 4);
	CHECK(holds_ret("ret > 0.1", fb, 0), "float: widened to double, as C compares");
}

static void test_logic(void)
{
	use_sig("int f(int a)");
	/* and binds tighter: true or (false and false) */
	CHECK(holds_ret("ret == 1 or ret == 2 and ret == 3", 1, 0), "and binds tighter than or");
	CHECK(!holds_ret("(ret == 1 or ret == 2) and ret == 3", 1, 0), "parentheses group");
	CHECK(holds_ret("ret > 0 and (ret < 10 or ret == 100)", 100, 0), "nested group");
	CHECK(holds_ret("((((ret == 7))))", 7, 0), "redundant parentheses");
	CHECK(refused("ret == 1 and", "expected ret, errno"), "dangling and");
	CHECK(refused("(ret == 1", "expected ')'"), "unclosed parenthesis");
	CHECK(refused("ret == 1)", "expected 'and', 'or' or the end"), "stray )");
	CHECK(refused("ret == 1 && ret == 2", "expected 'and', 'or'"), "C operators are not words");
	CHECK(refused("(((((((((ret == 1)))))))))", "nested deeper than 8"), "depth bound");
	char many[512] = "ret == 0";
	for (int i = 1; i < 16; i++)
		strcat(many, " or ret == 0");
	CHECK(parses(many) && cond.nterms == 16, "16 comparisons");
	strcat(many, " or ret == 0");
	CHECK(refused(many, "more than 16 comparisons"), "17 comparisons");
	CHECK(refused("", "expected ret"), "empty condition");
	CHECK(refused("ret >", "expected a value"), "no value");
	CHECK(refused("retx > 1", "expected ret, errno"), "ret must be a whole word");
}

static void test_errno_outs(void)
{
	use_sig("int f(int a, out long *n, out string[8] s)");
	CHECK(holds_ret("errno == 0", 0, 0) && !holds_ret("errno == 0", 0, 2),
	      "errno: 0 when the call set none");
	CHECK(holds_ret("ret == -1 and errno == 2", (uint64_t)-1, 2), "errno and ret");
	CHECK(refused("errno == 2147483648", "out of range for int (errno)"), "errno is an int");
	struct txc_result res;
	memset(&res, 0, sizeof(res));
	res.out[1].present = true;
	res.out[1].num = (uint64_t)(int64_t)-5;
	CHECK(parses("*n < 0") && cond_holds(&cond, &res), "out scalar: read signed");
	CHECK(parses("*n >= 0 or ret == 0") && cond_holds(&cond, &res), "out scalar or ret");
	res.out[1].present = false;
	CHECK(parses("*n < 0") && !cond_holds(&cond, &res) && parses("*n != 0") &&
		  !cond_holds(&cond, &res),
	      "out scalar: a NULL pointer fails every comparison");
	CHECK(refused("*s == 0", "'*s': only out scalar"), "out string is not comparable");
	CHECK(refused("*nope == 0", "no parameter named 'nope'"), "unknown name");
	CHECK(refused("*a == 0", "only out scalar"), "an input is not an out");
	use_sig("string g(int a)");
	memset(&res, 0, sizeof(res));
	CHECK(parses("ret != NULL") && !cond_holds(&cond, &res), "string: NULL fails != NULL");
	res.ret_str = "x";
	CHECK(cond_holds(&cond, &res), "string: non-NULL holds != NULL");
	CHECK(refused("ret == 0", "only be compared with NULL"), "string: no numbers");
	CHECK(refused("ret < NULL", "only works with == and !="), "string: NULL with <");
	use_sig("void v(int a)");
	CHECK(refused("ret == 0", "returns void"), "void: no ret");
	CHECK(parses("errno == 0"), "void: errno is fine");
	struct txc_cond unset = {.set = false};
	CHECK(cond_holds(&unset, &res), "an unset condition always holds");
}

int main(void)
{
	test_size_t();
	test_signed();
	test_float();
	test_logic();
	test_errno_outs();
	return check_done();
}
