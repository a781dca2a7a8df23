/* fresh.c - freshness decisions; see fresh.h. */
#include <math.h>
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
	return (double)cost_ns * beta * -log(u) >= gap;
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
