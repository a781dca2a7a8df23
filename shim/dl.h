/* dl.h - keeping modules loaded later, and pointers fetched by name, cached.
 *
 * dl_arm patches every loaded module like interpose_patch_all, and also
 * points each module's dlopen, dlsym, dlvsym, dlclose, dladdr and dladdr1
 * slots at wrappers of this module (nothing is exported: the shim's own
 * symbol table and other modules' lookups are unchanged):
 *
 *   dlopen  calls the real dlopen, then patches every module that appeared
 *           (the one opened and what it pulled in) before returning. A
 *           bare file name is searched first along the directories the
 *           caller's loader would search and the shim's would not: the
 *           DT_RPATH of the caller and of each module that loaded it up
 *           to the program, or the caller's DT_RUNPATH (RTLD_DI_SERINFO).
 *   dlclose calls the real dlclose, then dl_after_unload's callback.
 *   dlsym, dlvsym  return the closure when the name is a configured
 *           function (its version and library pins respected); any other
 *           lookup, and every RTLD_NEXT lookup, is a tail call of the real
 *           function, so glibc still sees the caller's return address and
 *           RTLD_NEXT keeps meaning "after the caller" (libfaketime...).
 *
 * Patch passes are serialized by one mutex, never held across the real
 * dlopen. A dlopen that finds it taken waits for the holder's next pass
 * (which covers its module); inside a constructor (under the loader's lock,
 * which the holder may be waiting for) it waits 20 ms at most, then returns
 * with its module left to that pass. A module's constructors run inside the
 * real dlopen, before it is patched: calls they make are not cached.
 *
 * Fork: a child re-initializes the mutex (no prepare handler: a constructor
 * may fork inside a dlopen). What it guards is consistent at every instant
 * (slots are single aligned stores; the module list is rebuilt by each
 * pass; the pass counter is written after a pass completes), so the child's
 * next dlopen simply runs a full pass.
 */
#ifndef TXC_DL_H
#define TXC_DL_H

#include <stddef.h>

#include "interpose.h"

/* Copies TARGETS (the strings they point to must live for the rest of the
 * process), patches every loaded module and arms the wrappers. HOOK is
 * asked as in interpose_patch_all, again for modules opened later and for
 * pointers returned by dlsym/dlvsym; it must be thread-safe. Returns 0 and
 * the number of slots written in *NPATCHED, or TXC_EINVAL / TXC_ENOMEM
 * (nothing armed). Call once. */
int dl_arm(const struct interpose_target *targets, size_t n, interpose_hook_fn hook, void *ctx,
	   int *npatched);

/* Registers FN, which maps the start of one of the caller's closures to
 * the definition it stands for (NULL: not a closure). Then dladdr and
 * dladdr1 (also patched) answer an address FN maps for that definition
 * (dli_fname, dli_sname, the extra info), with dli_saddr the address asked
 * when it was the definition's start: &f is the closure, and uncached
 * dladdr(&f) gives dli_saddr == &f. Call before dl_arm. */
void dl_set_unwrap(void *(*fn)(const void *code));

/* Registers FN(CTX) to run after each dlopen that added modules, once they
 * are patched and under the same lock (for other GOT users such as the
 * capture wrappers). One callback; a later call replaces it. */
void dl_after_load(void (*fn)(void *ctx), void *ctx);

/* Registers FN() to run after each dlclose of a patched module returns, and
 * after each patch pass (whose module pins may be the last references): so
 * that what kept state about unloaded modules (dispatch's closures) learns
 * it before this thread can load another module at the same addresses. FN
 * must be cheap when nothing was unloaded and must keep errno and dlerror. */
void dl_after_unload(void (*fn)(void));

/* Registers FN() to run at the start of each outermost dlopen of the host,
 * before the real one: the shim loads what it loads lazily (libmemcached)
 * there, while this thread holds no loader lock. Otherwise a host's
 * constructor that starts a thread and joins it, the thread making the
 * process's first cached call, would deadlock: that dlopen needs the lock
 * the constructor's thread holds. */
void dl_before_load(void (*fn)(void));

#endif
