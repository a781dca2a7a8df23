/* dispatch.h - the libffi closures that stand in for configured functions.
 *
 * A closure's handler runs the hit and miss paths (see README, "Design").
 * Every failure inside it ends in a call of the real function: the host
 * program sees the real function's result, errno and out-parameters.
 *
 * Lifetime: dispatch state and closures are never freed; a closure may be
 * called by any thread until the process ends.
 *
 * Unloaded definitions: a function has at most 8 closures whose
 * definitions are loaded at once; the closure of an unloaded definition
 * moves on to the next new one (closures.h says how, and what is not seen).
 */
#ifndef TXC_DISPATCH_H
#define TXC_DISPATCH_H

#include "cache.h"
#include "config.h"
#include "stats.h"

/* Prepares one ffi_cif per configured function. CFG and CACHE must live
 * for the rest of the process; CACHE may be NULL (every call passes
 * through). Returns 0, or TXC_ENOMEM / TXC_EINVAL (libffi refused a
 * signature) with dispatch left unusable. Call once, before any closure. */
int dispatch_init(const struct txc_config *cfg, struct txc_cache *cache);

/* Returns the code address of the closure for function FN calling REAL on
 * a miss, creating it on first use; the same (FN, REAL) gives the same
 * closure as long as REAL's module stays loaded. Returns NULL when REAL is itself one of our
 * closures (so a slot is never wrapped twice), when FN's mode is off (mode.h: never
 * interposed) or when the closure cannot be made (logged). */
void *dispatch_closure_for(int fn, void *real);

/* Frees the closures whose definition's module is no longer loaded (see
 * "Unloaded definitions"). Cheap when nothing was unloaded since the last
 * call (one dl_iterate_phdr); takes the loader's lock otherwise, so never
 * call it from a dl_iterate_phdr callback. Keeps errno. */
void dispatch_forget_unloaded(void);

/* The counters of function FN (never NULL after dispatch_init). */
struct txc_stats *dispatch_stats(int fn);

/* Logs each function's counters at info level. */
void dispatch_log_stats(void);

#endif
