/* publish.h - the shim's per-function counters, published to memcached so
 * that `txcache stats` can add up every process sharing the cache.
 *
 * Counter C of function F in namespace NS lives in the key "NS:F:st:C" as a
 * decimal number. Each publication adds, with one incr per counter that
 * changed, what this process counted since its previous publication. The
 * real-call time saved is published in microseconds ("saved_us"), the
 * remainder carried to the next publication.
 *
 * The mode a function ran with (mode.h; TXCACHE_MODE included) goes to
 * "NS:F:st:mode" as its name, with one set, once per process, with the
 * function's first counters: the key shows the mode of the last process
 * that used the function. A readonly process publishes too: counters are
 * not cached data. A function in mode off is never called through the
 * shim, so it publishes nothing.
 *
 * Publication is cheap for the host: from a cached call at most every
 * stats_interval seconds (one coarse clock read per call otherwise), and
 * once at exit; never a thread, never a round trip per call. A failed
 * publication keeps the deltas for the next one. A forked child starts from
 * the counters it inherited, so nothing is counted twice.
 */
#ifndef TXC_PUBLISH_H
#define TXC_PUBLISH_H

#include "cache.h"
#include "stats.h"

/* From the closure handler, under the re-entry guard. CFG and C must live
 * for the rest of the process. Publishes when stats_interval seconds have
 * passed since the previous publication (never when it is 0). */
void publish_tick(const struct txc_config *cfg, struct txc_cache *c);

/* From the library destructor: publishes what is left, when a cached call
 * was ever made in this process. */
void publish_exit(void);

/* The published name of counter K ("hits", ..., "saved_us"). */
const char *publish_counter_name(enum txc_stat k);

/* Writes the counter key "<ns>:<fn>:st:<name>" of K for KF into *OUT. */
void publish_counter_key(const struct txc_key_fn *kf, enum txc_stat k, struct txc_key *out);

/* Writes the mode key "<ns>:<fn>:st:mode" for KF into *OUT. */
void publish_mode_key(const struct txc_key_fn *kf, struct txc_key *out);

#endif
