/* test_callargs.c - arguments given by hand (txcache key, the C API):
 * which integers fit a parameter's type, and a bytes length that its LEN
 * parameter cannot count. Such a value names no real call, so it must be
 * refused rather than converted into the key of another call. */
#include <stdint.h>
#include <string.h>

#include "callargs.h"
#include "check.h"
#include "err.h"

static void test_int_fits(void)
{
	CHECK(callargs_int_fits(TXC_T_LONG, INT64_MAX, false), "INT64_MAX fits long");
	CHECK(!callargs_int_fits(TXC_T_LONG, (uint64_t)INT64_MAX + 1, false),
	      "2^63 does not fit long");
	CHECK(!callargs_int_fits(TXC_T_LONG, UINT64_MAX, false), "2^64-1 does not fit long");
	CHECK(callargs_int_fits(TXC_T_LONG, (uint64_t)INT64_MIN, true), "INT64_MIN fits long");
	CHECK(callargs_int_fits(TXC_T_U64, UINT64_MAX, false), "2^64-1 fits uint64_t");
	CHECK(!callargs_int_fits(TXC_T_U64, (uint64_t)-1, true), "-1 does not fit uint64_t");
	CHECK(callargs_int_fits(TXC_T_U64, 0, true), "-0 fits uint64_t");
	CHECK(callargs_int_fits(TXC_T_I8, (uint64_t)-128, true), "-128 fits int8_t");
	CHECK(!callargs_int_fits(TXC_T_I8, (uint64_t)-129, true), "-129 does not fit int8_t");
	CHECK(callargs_int_fits(TXC_T_I8, 127, false), "127 fits int8_t");
	CHECK(!callargs_int_fits(TXC_T_I8, 128, false), "128 does not fit int8_t");
	CHECK(callargs_int_fits(TXC_T_U8, 255, false), "255 fits uint8_t");
	CHECK(!callargs_int_fits(TXC_T_U8, 256, false), "256 does not fit uint8_t");
	CHECK(!callargs_int_fits(TXC_T_U32, 1ULL << 32, false), "2^32 does not fit uint32_t");
	CHECK(callargs_int_fits(TXC_T_INT, (uint64_t)(int64_t)INT32_MIN, true), "INT_MIN fits");
	CHECK(!callargs_int_fits(TXC_T_INT, (uint64_t)((int64_t)INT32_MIN - 1), true),
	      "INT_MIN-1 does not fit int");
	CHECK(callargs_int_fits(TXC_T_BOOL, 1, false) && !callargs_int_fits(TXC_T_BOOL, 2, false),
	      "bool holds 0 and 1 only");
	CHECK(!callargs_int_fits(TXC_T_DOUBLE, 1, false), "a double is not an integer type");
}

/* callargs_finish of SIG with one bytes argument of N bytes (parameter 0). */
static int finish_bytes(const char *sigtext, size_t n, struct txc_arg *args)
{
	static uint8_t data[70000];
	struct txc_sig sig;
	char err[128];
	if (sig_parse(sigtext, &sig, err, sizeof(err)) != 0)
		return 1; /* not an error code: the CHECKs then fail */
	memset(args, 0, sizeof(*args) * TXC_MAX_PARAMS);
	args[0].ptr = data;
	args[0].len = n;
	return callargs_finish(&sig, args);
}

static void test_bytes_len(void)
{
	struct txc_arg a[TXC_MAX_PARAMS];
	const char *u8 = "int f(bytes[n] b, uint8_t n)";
	CHECK(finish_bytes(u8, 255, a) == 0 && a[1].num == 255, "255 bytes: n = 255");
	CHECK(finish_bytes(u8, 256, a) == TXC_EINVAL, "256 bytes do not fit a uint8_t n");
	CHECK(finish_bytes(u8, 300, a) == TXC_EINVAL, "300 bytes do not fit a uint8_t n");
	const char *i8 = "int f(bytes[n] b, int8_t n)";
	CHECK(finish_bytes(i8, 127, a) == 0 && a[1].num == 127, "127 bytes: int8_t n = 127");
	CHECK(finish_bytes(i8, 128, a) == TXC_EINVAL, "128 bytes do not fit an int8_t n");
	const char *u16 = "int f(bytes[n] b, unsigned short n)";
	CHECK(finish_bytes(u16, 65535, a) == 0, "65535 bytes fit an unsigned short n");
	CHECK(finish_bytes(u16, 65536, a) == TXC_EINVAL, "65536 bytes do not");
	CHECK(finish_bytes("int f(bytes[n] b, size_t n)", 65536, a) == 0 && a[1].num == 65536,
	      "size_t n takes any length");
}

int main(void)
{
	test_int_fits();
	test_bytes_len();
	return check_done();
}
