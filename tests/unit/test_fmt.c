/* test_fmt.c - txc_fmt writes and returns exactly what snprintf does, for
 * every capacity, on the directives it handles and on those it hands on. */
#include <limits.h>
#include <string.h>

#include "check.h"
#include "fmt.h"

#define SAME(fmt, ...)                                                                             \
	do {                                                                                       \
		int bad = -1;                                                                      \
		for (size_t cap = 0; cap <= 48 && bad < 0; cap++) {                                \
			char a[64], b[64];                                                         \
			memset(a, 'x', sizeof(a));                                                 \
			memset(b, 'x', sizeof(b));                                                 \
			int ra = txc_fmt(a, cap, fmt, __VA_ARGS__);                                \
			int rb = snprintf(b, cap, fmt, __VA_ARGS__);                               \
			if (ra != rb || memcmp(a, b, sizeof(a)) != 0)                              \
				bad = (int)cap;                                                    \
		}                                                                                  \
		CHECK(bad < 0,                                                                     \
		      "txc_fmt(\"%s\") equals snprintf at every capacity (first "                  \
		      "difference at cap %d)",                                                     \
		      fmt, bad);                                                                   \
	} while (0)

int main(void)
{
	SAME("%s", "plain");
	SAME("parameter %d (%s): %s", 3, "buf", "out bytes[cap:ret]");
	SAME("%.*s(", 5, "app_fn01");
	SAME("%.*s|%.*s", -1, "negative precision", 0, "zero");
	SAME("%d %d %d", 0, INT_MIN, INT_MAX);
	SAME("%u %llu", UINT_MAX, ULLONG_MAX);
	SAME("100%% of %s", "it");
	SAME("byte 0x%02x in %s", 7u, "a line"); /* handed to vsnprintf */
	SAME("%s%s", "", "");
	return check_done();
}
