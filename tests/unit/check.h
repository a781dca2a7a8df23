/* check.h - a tiny TAP producer for the C unit tests.
 *
 * CHECK(cond, name...) prints "ok N - name" or "not ok N - name" with the
 * file and line of a failure. check_done() prints the plan and returns the
 * exit status (1 when anything failed). tests/run.sh counts the TAP lines.
 */
#ifndef TXC_CHECK_H
#define TXC_CHECK_H

#include <stdio.h>

static int check_n, check_failed;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		++check_n;                                                                         \
		if (cond) {                                                                        \
			printf("ok %d - ", check_n);                                               \
		} else {                                                                           \
			++check_failed;                                                            \
			printf("not ok %d - %s:%d: (%s) ", check_n, __FILE__, __LINE__, #cond);    \
		}                                                                                  \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		fflush(stdout);                                                                    \
	} while (0)

static inline int check_done(void)
{
	printf("1..%d\n", check_n);
	return check_failed ? 1 : 0;
}

#endif
