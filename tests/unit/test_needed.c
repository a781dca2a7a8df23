/* test_needed.c - a library's DT_NEEDED closure read from the files. */
#include <string.h>

#include "check.h"
#include "err.h"
#include "needed.h"

struct seen {
	char names[64][128];
	int n;
};

static void add(const char *name, void *ctx)
{
	struct seen *s = ctx;
	if (s->n < 64)
		strncpy(s->names[s->n++], name, 127);
}

static int has(const struct seen *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return 1;
	return 0;
}

int main(void)
{
	struct seen s = {0};
	CHECK(needed_closure("libmemcached.so.11", add, &s) == 0, "libmemcached found by soname");
	CHECK(s.n > 0 && strcmp(s.names[0], "libmemcached.so.11") == 0, "the library itself first");
	CHECK(has(&s, "libstdc++.so.6") && has(&s, "libhashkit.so.2"), "direct DT_NEEDED entries");
	CHECK(has(&s, "libgcc_s.so.1") && has(&s, "libm.so.6"), "needed by what it needs");
	int dup = 0;
	for (int i = 0; i < s.n; i++)
		for (int j = i + 1; j < s.n; j++)
			dup += strcmp(s.names[i], s.names[j]) == 0;
	CHECK(dup == 0, "each name once");

	struct seen p = {0};
	CHECK(needed_closure("/nonexistent/dir/libnope.so.1", add, &p) == TXC_ENOTFOUND,
	      "a missing library: TXC_ENOTFOUND");
	CHECK(p.n == 1 && strcmp(p.names[0], "libnope.so.1") == 0, "its base name still reported");
	CHECK(needed_closure(NULL, add, &p) == TXC_EINVAL, "NULL: TXC_EINVAL");
	return check_done();
}
