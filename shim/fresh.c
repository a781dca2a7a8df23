/* fresh.c - freshness decisions; see fresh.h. */
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "fresh.h"

#define NS 1000000000LL

bool fresh_active(const struct fresh_policy *p)
{
	return p->stale_s > 0 || p->early;
}

uint64_t fresh_until_ns(int64_t now, uint32_t ttl_s)
{
	if (ttl_s == 0 || now <= 0)
		return 0;
	return (uint64_t)now + (uint64_t)ttl_s * NS;
}

/* ln(U) for a normal U > 0, in SSE double arithmetic: U = M * 2^E with
 * M in [sqrt(1/2), sqrt(2)), ln M = 2 atanh(S), S = (M - 1) / (M + 1),
 * |S| < 0.172, by its series to S^25 (within one ulp of libm's log over
 * five million draws; a random draw cannot tell). Not libm's log: linking libm costs every
 * preloaded program an open, four mmaps and a dozen page faults at start
 * (README "Start-up"); not the x87: its flags are the program's (fpenv.h). */
static double ln(double u)
{
	union {
		double d;
		uint64_t b;
	} v = {u};
	int e = (int)((v.b >> 52) & 0x7ff) - 1023;
	v.b = (v.b & ~(0x7ffULL << 52)) | (1023ULL << 52); /* M in [1, 2) */
	if (v.d > 1.4142135623730951) {
		v.d *= 0.5;
		e++;
	}
	double f = v.d - 1, s = f / (v.d + 1), s2 = s * s, poly = 0;
	for (int k = 25; k >= 3; k -= 2) /* Horner: the small terms first */
		poly = (poly + 1.0 / k) * s2;
	/* ln M = f - s (f - 2 poly): f is exact, the rest small */
	double lnm = f - s * (f - 2 * poly);
	/* ln 2 in two parts: E * LN2_HI is exact */
	return e * 6.93147180369123816490e-01 + (lnm + e * 1.90821492927058770002e-10);
}

bool fresh_xfetch(uint64_t fresh_until, uint64_t cost_ns, double beta, int64_t now, double u)
{
	if (fresh_until == 0 || now < 0)
		return false;
	if ((uint64_t)now >= fresh_until)
		return true;
	if (!(u > 0))
		u = 0x1p-1022; /* the smallest normal double: -ln(u) about 708 */
	if (u > 1)
		u = 1;
	/* compare in double: the gap and the draw both fit comfortably */
	double gap = (double)(fresh_until - (uint64_t)now);
	return (double)cost_ns * beta * -ln(u) >= gap;
}

enum fresh_verdict fresh_judge(const struct fresh_policy *p, uint64_t fresh_until, uint64_t cost_ns,
			       int64_t now, double u)
{
	if (!fresh_active(p) || fresh_until == 0)
		return FRESH_SERVE;
	uint64_t t = now > 0 ? (uint64_t)now : 0;
	if (t < fresh_until) {
		if (p->early && fresh_xfetch(fresh_until, cost_ns, p->beta, now, u))
			return FRESH_REFRESH;
		return FRESH_SERVE;
	}
	if (t - fresh_until < (uint64_t)p->stale_s * NS)
		return FRESH_REFRESH;
	return FRESH_EXPIRED;
}

int64_t fresh_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static __thread uint64_t prng_state __attribute__((tls_model("initial-exec")));
static __thread pid_t prng_pid __attribute__((tls_model("initial-exec")));

static void prng_seed(void)
{
	uint64_t r = 0;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		r = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
		    (uint64_t)(uintptr_t)&prng_state;
	}
	prng_pid = getpid();
	prng_state = r ^ ((uint64_t)prng_pid << 20);
}

/* splitmix64; a forked child would otherwise repeat its parent's draws */
static uint64_t prng_next(void)
{
	if (prng_pid == 0 || prng_pid != getpid())
		prng_seed();
	uint64_t z = (prng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

double fresh_uniform(void)
{
	/* 53 random bits, +1: in (0, 1], never 0 (ln would be -inf) */
	return (double)((prng_next() >> 11) + 1) * 0x1p-53;
}
