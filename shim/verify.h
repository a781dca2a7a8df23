/* verify.h - verify mode: on a sampled share of hits, run the real function
 * as well and compare everything a caller can see with the cached result.
 *
 * The rate is "verify = RATE" (0..1) from [cache], overridden per
 * [function], both overridden by TXCACHE_VERIFY=RATE in the environment.
 * Its purpose: trying a new signature with verify = 1 before trusting it. A
 * signature that misses an out-parameter, or a function that depends on
 * hidden state (time, a file, the locale), shows up at once.
 *
 * The flow of a sampled hit, driven by dispatch:
 *   verify_sample()  -> this hit is verified (a cheap per-thread PRNG that
 *                       never touches rand()/random());
 *   verify_keep()    -> deep copy of the decoded cached result (the decoded
 *                       one points into a buffer about to be freed);
 *   verify_inputs()  -> digests of every string and bytes argument;
 *   ... the call runs like a miss: the real function writes into the
 *       caller's buffers, out fd / out stream bytes are captured as they
 *       are written (and so written exactly once: nothing is replayed) ...
 *   verify_finish()  -> compares, counts, logs, and on a mismatch deletes
 *                       the entry; frees what verify_keep() took.
 * The caller always gets the real result.
 *
 * Compared: the return value (a string by content), each out-parameter
 * (content up to what was written), errno, each capture parameter's bytes,
 * and every string/bytes input (a changed one is an out-parameter that the
 * signature declares as an input).
 *
 * A difference is first checked against the entry as it is now (one
 * lookup): when an invalidation replaced or removed it while the real call
 * ran (another thread or process; a near entry past its freshness), the
 * call is not counted either way and the near entry is dropped. Otherwise
 * it is a mismatch: counts "mismatch", logs one warn line
 *   "verify: FN KEY: mismatch: PART[, PART...]; ..."
 * naming each part ("ret", "out NAME", "errno", "output on fd 'NAME'",
 * "output on stream 'NAME'", "input arg 'NAME' was modified"), and appends
 * the same line to the file TXCACHE_VERIFY_LOG names, when set (so that a
 * whole test suite can be checked for mismatches). A match counts
 * "verified" and logs "hit FN KEY (verified)" at info.
 */
#ifndef TXC_VERIFY_H
#define TXC_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "cache.h"
#include "capture.h"
#include "codec.h"
#include "config.h"
#include "stats.h"

/* A cached result kept across the real call, and the input digests. */
struct verify_kept {
	bool kept;	       /* verify_keep() succeeded: run the verification */
	bool near;	       /* set by the caller: the hit came from the near cache */
	struct txc_result res; /* pointers into BLOB */
	void *blob;	       /* malloc'ed copies of ret_str and out data */
	bool has_in[TXC_MAX_PARAMS];
	uint64_t in_digest[TXC_MAX_PARAMS]; /* string (with its NUL) / bytes inputs */
	int caller_errno;		    /* errno before the call: what a hit leaves today */
};

/* Reads TXCACHE_VERIFY once. An invalid value is logged and ignored. */
void verify_init(void);

/* True when this hit of FC is to be verified. Never touches errno. */
bool verify_sample(const struct txc_fn_config *fc);

/* Copies RES (decoded under SIG; its pointers may die after this) into VK
 * and sets VK->kept. Returns 0, or TXC_ENOMEM with VK->kept false (then the
 * hit is served as usual, unverified). */
int verify_keep(struct verify_kept *vk, const struct txc_sig *sig, const struct txc_result *res);

/* Records the digests of every string and bytes argument in ARGS (libffi's
 * avalue) and CALLER_ERRNO. Call just before the real call. */
void verify_inputs(struct verify_kept *vk, const struct txc_sig *sig, void *const *avalue,
		   int caller_errno);

/* What verify_finish() needs of the call. */
struct verify_call {
	struct txc_cache *cache;
	int fn;
	const struct txc_sig *sig;
	struct txc_stats *stats;
	const struct txc_key *key;
	const struct txc_arg *args; /* the key's arguments, taken before the call */
	bool errno_keep;	    /* errno = keep: a hit leaves the caller's errno */
};

/* Compares the real call (RET, AVALUE's out-buffers, CC's captured bytes,
 * REAL_ERRNO) with VK. Counts verified or mismatch; on a mismatch logs the
 * line and deletes the entry (every entry of the function when an input
 * was modified: its key can no longer be computed). Frees VK's copies.
 * Returns 0 on a match, TXC_ECORRUPT on a mismatch. errno is preserved. */
int verify_finish(struct verify_kept *vk, const struct verify_call *vc, void *ret, void **avalue,
		  const struct capture_call *cc, int real_errno);

/* Frees VK's copies without comparing (NULL-safe, idempotent). */
void verify_drop(struct verify_kept *vk);

#endif
