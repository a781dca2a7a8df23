/* test_fresh.c - the freshness decisions of fresh.h: fresh, stale, expired,
 * and XFetch's early draw, with the time and the draw passed in. */
#include <math.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fresh.h"

#define S 1000000000LL

static const int64_t T0 = 1800000000LL * S; /* a wall-clock time, 2027 */

static void test_until(void)
{
	CHECK(fresh_until_ns(T0, 0) == 0, "ttl 0: never stale");
	CHECK(fresh_until_ns(0, 60) == 0, "no clock: never stale");
	CHECK(fresh_until_ns(T0, 60) == (uint64_t)(T0 + 60 * S), "fresh until now + ttl");
	CHECK(fresh_until_ns(T0, 2592000) == (uint64_t)(T0 + 2592000 * S), "30 days fit");
}

static void test_judge(void)
{
	struct fresh_policy off = {0, false, 1.0}, st = {30, false, 1.0};
	uint64_t until = (uint64_t)(T0 + 10 * S);

	CHECK(!fresh_active(&off) && fresh_active(&st), "stale 30 is a policy, nothing is not");
	CHECK(fresh_judge(&off, until, S, T0 + 100 * S, 0.5) == FRESH_SERVE,
	      "no policy: served whatever its age (memcached's ttl decides)");
	CHECK(fresh_judge(&st, 0, S, T0 + 100 * S, 0.5) == FRESH_SERVE,
	      "fresh_until 0 (ttl 0) is never stale");
	CHECK(fresh_judge(&st, until, S, T0, 0.5) == FRESH_SERVE, "before fresh-until: served");
	CHECK(fresh_judge(&st, until, S, T0 + 10 * S - 1, 1e-300) == FRESH_SERVE,
	      "without early, no draw recomputes a fresh value");
	CHECK(fresh_judge(&st, until, S, T0 + 10 * S, 0.5) == FRESH_REFRESH,
	      "at fresh-until: stale, refresh");
	CHECK(fresh_judge(&st, until, S, T0 + 39 * S, 0.5) == FRESH_REFRESH,
	      "29 s past fresh-until, stale 30: refresh");
	CHECK(fresh_judge(&st, until, S, T0 + 40 * S - 1, 0.5) == FRESH_REFRESH,
	      "1 ns before the end of stale: refresh");
	CHECK(fresh_judge(&st, until, S, T0 + 40 * S, 0.5) == FRESH_EXPIRED,
	      "at fresh-until + stale: expired");
	CHECK(fresh_judge(&st, until, S, -5, 0.5) == FRESH_SERVE, "a clock before 1970: fresh");
	struct fresh_policy early0 = {0, true, 1.0};
	CHECK(fresh_judge(&early0, until, S, T0 + 10 * S, 0.5) == FRESH_EXPIRED,
	      "early without stale: past fresh-until is expired");
}

static void test_xfetch(void)
{
	uint64_t until = (uint64_t)(T0 + 10 * S);
	/* cost 1 s, beta 1: fires when -ln(u) >= gap in seconds */
	CHECK(!fresh_xfetch(until, S, 1.0, T0, 0.5), "gap 10 s, -ln(0.5) = 0.69 s: no");
	CHECK(fresh_xfetch(until, S, 1.0, T0, exp(-10.5)), "-ln(u) = 10.5 s >= 10 s: yes");
	CHECK(!fresh_xfetch(until, S, 1.0, T0, exp(-9.5)), "-ln(u) = 9.5 s < 10 s: no");
	CHECK(fresh_xfetch(until, S, 20.0, T0, 0.5), "beta 20: 13.9 s >= 10 s: yes");
	CHECK(!fresh_xfetch(until, 0, 1e6, T0, 1e-300), "cost 0 never fires early");
	CHECK(fresh_xfetch(until, 0, 1.0, T0 + 10 * S, 1.0), "at fresh-until it always fires");
	CHECK(!fresh_xfetch(0, S, 1e6, T0, 1e-300), "fresh_until 0 never fires");
	CHECK(fresh_xfetch(until, S, 1.0, T0, 0.0), "u 0 counts as the smallest double");
	CHECK(!fresh_xfetch(until, S, 1.0, T0, 1.0), "u 1: -ln(1) = 0 never fires early");
	struct fresh_policy e = {30, true, 1.0};
	CHECK(fresh_judge(&e, until, S, T0, exp(-10.5)) == FRESH_REFRESH,
	      "early: a draw that fires refreshes a fresh value");
	CHECK(fresh_judge(&e, until, S, T0, 0.5) == FRESH_SERVE,
	      "early: a draw that does not serves it");
}

/* Over many draws, XFetch fires with probability exp(-gap / (cost beta)). */
static void test_xfetch_rate(void)
{
	uint64_t until = (uint64_t)(T0 + 10 * S);
	int fired = 0, n = 20000;
	for (int i = 0; i < n; i++)
		fired += fresh_xfetch(until, S, 10.0, T0, fresh_uniform());
	/* exp(-1) = 0.368; 20000 draws: sd about 0.0034 */
	double rate = (double)fired / n;
	CHECK(rate > 0.34 && rate < 0.40, "fires at exp(-gap / (cost beta)) (%.3f)", rate);
	double lo = 1, hi = 0;
	for (int i = 0; i < n; i++) {
		double u = fresh_uniform();
		lo = u < lo ? u : lo;
		hi = u > hi ? u : hi;
	}
	CHECK(lo > 0 && hi <= 1 && lo < 0.001 && hi > 0.999, "draws in (0, 1] (%g..%g)", lo, hi);
}

/* A forked child draws its own numbers, not its parent's next ones. */
static void test_fork(void)
{
	int fds[2];
	double mine, childs = -1;
	fresh_uniform();
	if (pipe(fds) != 0) {
		CHECK(0, "pipe");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		double u = fresh_uniform();
		_exit(write(fds[1], &u, sizeof(u)) == sizeof(u) ? 0 : 1);
	}
	mine = fresh_uniform();
	ssize_t n = read(fds[0], &childs, sizeof(childs));
	waitpid(pid, NULL, 0);
	close(fds[0]);
	close(fds[1]);
	CHECK(n == sizeof(childs) && childs != mine, "a child's draw is not its parent's");
}

/* The early-refresh draw's logarithm (fresh.c's own, not libm's): at
 * u = 1/2 and a cost of 1 s, -ln u s = 693147180.56 ns decides. */
static void test_xfetch_ln(void)
{
	uint64_t until = 10 * (uint64_t)S;
	CHECK(fresh_xfetch(until, (uint64_t)S, 1.0, (int64_t)until - 693147180, 0.5),
	      "ln: a gap of 693147180 ns refreshes at u = 1/2");
	CHECK(!fresh_xfetch(until, (uint64_t)S, 1.0, (int64_t)until - 693147181, 0.5),
	      "ln: a gap of 693147181 ns does not");
	CHECK(fresh_xfetch(until, (uint64_t)S, 1.0, (int64_t)until - 2302585092, 0.1) &&
		  !fresh_xfetch(until, (uint64_t)S, 1.0, (int64_t)until - 2302585094, 0.1),
	      "ln: -ln 0.1 s = 2302585093 ns decides at u = 0.1");
	CHECK(fresh_xfetch(until, 1, 1.0, (int64_t)until - 690, 1e-300) &&
		  !fresh_xfetch(until, 1, 1.0, (int64_t)until - 691, 1e-300),
	      "ln: -ln 1e-300 = 690.78");
}

int main(void)
{
	test_xfetch_ln();
	test_until();
	test_judge();
	test_xfetch();
	test_xfetch_rate();
	test_fork();
	return check_done();
}
