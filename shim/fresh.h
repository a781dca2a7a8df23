/* fresh.h - is a cached value fresh, stale, or due for an early
 * recomputation? Stale-while-revalidate ("stale = SECONDS") and
 * probabilistic early refresh ("refresh = early", XFetch: Vattani et al.,
 * Optimal Probabilistic Cache Stampede Prevention, VLDB 2015).
 *
 * Every value records its fresh-until time (codec.h): the store's wall
 * clock plus the function's ttl. Wall clock (CLOCK_REALTIME nanoseconds
 * since the epoch) because a value is read by other processes and other
 * machines; a reader whose clock is behind the writer's sees the value
 * fresher than it is, one ahead sees it stale earlier. Both only move when
 * a recomputation happens, never what a hit returns.
 *
 * The decisions are pure: the time and the random draw are passed in, so
 * that each is unit-testable (tests/unit/test_fresh.c). fresh_now_ns() and
 * fresh_uniform() supply them on the hit path.
 */
#ifndef TXC_FRESH_H
#define TXC_FRESH_H

#include <stdbool.h>
#include <stdint.h>

/* A function's policy, from its config. */
struct fresh_policy {
	uint32_t stale_s; /* seconds past fresh-until a value is still served */
	bool early;	  /* refresh = early: XFetch before fresh-until */
	double beta;	  /* XFetch's beta (> 0): larger recomputes earlier */
};

enum fresh_verdict {
	FRESH_SERVE,   /* serve the value */
	FRESH_REFRESH, /* recompute if this caller wins the lock, else serve */
	FRESH_EXPIRED  /* past fresh-until + stale: a miss */
};

/* True when P changes anything: stale > 0 or refresh = early. Without it
 * fresh_judge() always serves (memcached's ttl alone decides, as before). */
bool fresh_active(const struct fresh_policy *p);

/* The fresh-until time of a value stored at NOW (ns) with TTL_S seconds:
 * 0, "never stale", when TTL_S is 0 or NOW is not positive. */
uint64_t fresh_until_ns(int64_t now, uint32_t ttl_s);

/* XFetch's draw: true when NOW - COST_NS * BETA * ln(U) >= FRESH_UNTIL,
 * i.e. recompute now. U is uniform in (0, 1] (0 counts as the smallest
 * positive double). FRESH_UNTIL 0 never fires. */
bool fresh_xfetch(uint64_t fresh_until, uint64_t cost_ns, double beta, int64_t now, double u);

/* What a hit does with a value whose fresh-until is FRESH_UNTIL and whose
 * real call took COST_NS, at NOW with draw U:
 *   inactive policy, or FRESH_UNTIL 0          FRESH_SERVE
 *   NOW < FRESH_UNTIL                          FRESH_SERVE, or FRESH_REFRESH
 *                                              when early and the draw fires
 *   FRESH_UNTIL <= NOW < FRESH_UNTIL + stale   FRESH_REFRESH
 *   later                                      FRESH_EXPIRED */
enum fresh_verdict fresh_judge(const struct fresh_policy *p, uint64_t fresh_until, uint64_t cost_ns,
			       int64_t now, double u);

/* CLOCK_REALTIME now, in nanoseconds since the epoch. */
int64_t fresh_now_ns(void);

/* A uniform draw in (0, 1] from a per-thread splitmix64 (reseeded in a
 * forked child): the host's rand()/random() sequence stays its own. */
double fresh_uniform(void);

#endif
