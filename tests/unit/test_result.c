/* test_result.c - when a stored out-buffer may be served (result.h): the
 * capacity it was filled with against the caller's, and LEN parameters. */
#include <string.h>

#include "check.h"
#include "err.h"
#include "result.h"

static struct txc_sig sig;

static void parse(const char *text, const char *ignore)
{
	char err[128];
	if (sig_parse(text, &sig, err, sizeof(err)) != 0)
		printf("# %s: %s\n", text, err);
	int i = sig_find_param(&sig, ignore);
	if (i >= 0)
		sig.params[i].keyed = false;
}

/* size_t f(int name, out string[len] buf, size_t len), ignore = len:
 * stored LEN bytes of string with capacity CAP and return value RET,
 * served to a caller whose buffer holds CALLER bytes? */
static int fits_string(uint64_t len, uint64_t cap, uint64_t ret, size_t caller)
{
	static char buf[512];
	int name = 0;
	void *bufp = buf;
	void *args[3] = {&name, &bufp, &caller};
	struct txc_result res = {0};

	parse("size_t f(int name, out string[len] buf, size_t len)", "len");
	res.ret = ret;
	res.out[1] = (struct txc_out){true, 0, "/bin:/usr/bin", len, cap};
	return result_outs_fit(&sig, args, &res);
}

static void test_cut(void)
{
	CHECK(fits_string(4, 5, 14, 5) == 0, "filled 5: served to 5");
	CHECK(fits_string(4, 5, 14, 256) == TXC_ERANGE, "filled 5: not served to 256");
	CHECK(fits_string(4, 5, 4, 256) == TXC_ERANGE, "filled 5, small ret: still refused");
	CHECK(fits_string(13, 256, 14, 14) == 0, "whole result: served to an exact buffer");
	CHECK(fits_string(13, 256, 14, 13) == TXC_ERANGE, "whole result: not to one byte short");
	CHECK(fits_string(13, 256, 14, 400) == 0, "whole result: served to a larger buffer");
	CHECK(fits_string(13, 14, 14, 400) == TXC_ERANGE, "exactly filled 14: not to 400");
	CHECK(fits_string(3, 10, 12, 20) == TXC_ERANGE, "ret 12 >= capacity 10: may be cut");
	CHECK(fits_string(3, 10, 12, 10) == 0, "... served to the same capacity");
	CHECK(fits_string(3, 10, 9, 20) == 0, "ret 9 < capacity 10, room left: served");
	CHECK(fits_string(3, UINT64_MAX, 3, 20) == 0, "unbounded (txcache set): served");
}

/* int g(out bytes[cap:n] d, size_t cap, size_t n) with IGNORE: stored LEN
 * bytes with capacity SCAP; the caller's CAP and N. */
static int fits_len(const char *ignore, uint64_t len, uint64_t scap, size_t cap, size_t n)
{
	static char buf[64];
	void *bufp = buf;
	void *args[3] = {&bufp, &cap, &n};
	struct txc_result res = {0};

	parse("int g(out bytes[cap:n] d, size_t cap, size_t n)", ignore);
	res.out[0] = (struct txc_out){true, 0, "abcdefgh", len, scap};
	return result_outs_fit(&sig, args, &res);
}

static void test_len_param(void)
{
	CHECK(fits_len("", 3, 8, 8, 3) == 0, "[cap:n]: 3 bytes for n = 3");
	CHECK(fits_len("", 2, 8, 8, 3) == TXC_ECORRUPT,
	      "[cap:n]: 2 bytes for n = 3 (keyed) corrupt");
	CHECK(fits_len("cap", 3, 8, 4, 3) == 0, "[cap:n], cap ignored: 3 bytes fit 4");
	CHECK(fits_len("cap", 3, 8, 2, 3) == TXC_ERANGE, "[cap:n], cap ignored: not into 2");
	CHECK(fits_len("n", 3, 8, 8, 5) == TXC_ERANGE, "[cap:n], n ignored: another n runs");
	CHECK(fits_len("cap", 4, 4, 8, 6) == TXC_ERANGE, "[cap:n]: cut at 4 of n = 6: not to 8");
}

/* outs_if failed: the value holds no outs; a hit fits any buffers and
 * writes none, whatever the caller passed (NULL-ness is in the key). */
static void test_outs_dropped(void)
{
	char buf[8];
	long n = 42;
	memset(buf, 'C', sizeof(buf));
	void *bufp = buf, *np = &n;
	size_t cap = sizeof(buf);
	int user = 0;
	void *args[4] = {&user, &bufp, &cap, &np};
	struct txc_result res = {0};
	parse("int f(int user, out string[cap] buf, size_t cap, out long *n)", "");
	res.outs_dropped = true;
	CHECK(result_outs_fit(&sig, args, &res) == 0, "outs dropped: fits with pointers given");
	result_outs_write(&sig, args, &res);
	CHECK(memcmp(buf, "CCCCCCCC", 8) == 0 && n == 42, "outs dropped: nothing written");
	res.outs_dropped = false;
	CHECK(result_outs_fit(&sig, args, &res) == TXC_ECORRUPT,
	      "outs kept but absent for a non-NULL pointer: corrupt");
}

int main(void)
{
	test_cut();
	test_len_param();
	test_outs_dropped();
	return check_done();
}
