/* closures.h - the libffi closures that stand in for one configured
 * function: one per definition loaded at once (versions, libraries,
 * plugins), made on first use and never freed.
 *
 * Unloaded definitions: a function has at most CLOSURES_MAX closures whose
 * definitions are loaded at once. Once the module of a closure's definition
 * is unloaded (closures_forget_unloaded after each dlclose, and a check on
 * every closures_for), the closure is free: the next new definition (a
 * plugin reloaded at another address, or a rebuilt one at the same address)
 * gets it, with its own identity. The switch is one atomic store; each call
 * reads its target once (closure_target), so a call sees the old definition
 * or the new one, never a mix. Two targets alternate per closure, so only a
 * call still running in an unloaded module's code (a broken program) can
 * meet a target reused twice since. Not seen: a module unloaded by one
 * thread and another mapped at the very same base by a third thread before
 * the check ran; the closure then keeps the first module's identity.
 *
 * Locking: one internal mutex (reset in a fork child: closures are
 * published whole, nclosures last). dladdr (modref_of/modref_alive) is never
 * called under it: a thread in a constructor holds the loader's lock and may
 * wait for it through dlsym.
 */
#ifndef TXC_CLOSURES_H
#define TXC_CLOSURES_H

#include <ffi.h>
#include <stdbool.h>

#include "defid.h"
#include "modref.h"

#define CLOSURES_MAX 8

struct fn_rt; /* the handler's per-function state: never looked into here */

/* What one call of a closure works with: read once per call. DEF is filled
 * by the handler (defid.h); a target is zeroed when its closure moves on. */
struct closure_ud {
	struct fn_rt *fn;
	void *real;
	struct defid def;  /* which library, build and version REAL is */
	struct modref mod; /* the module REAL lay in when bound (lm NULL: none) */
};

struct closure_slot {
	struct closure_ud *ud; /* atomic: the current target */
	struct closure_ud tgt[2];
	void *code;
	ffi_closure *closure;
	bool retired; /* under the lock: the module of ud->real is gone */
};

/* One function's closures. Zero-initialise, then closure_set_init. */
struct closure_set {
	const char *name; /* for log lines */
	ffi_cif *cif;	  /* must outlive the closures */
	struct fn_rt *fn;
	int nclosures; /* atomic: published after the slot is complete */
	struct closure_slot cl[CLOSURES_MAX];
};

typedef void (*closure_handler_fn)(ffi_cif *cif, void *ret, void **args, void *user);

void closure_set_init(struct closure_set *set, const char *name, ffi_cif *cif, struct fn_rt *fn);

/* Registers the N sets (an array that must live for good) and the handler
 * every closure runs; its USER is the closure's slot (see closure_target).
 * Call once, before closures_for. */
void closures_init(closure_handler_fn handler, struct closure_set *const *sets, int n);

/* The code address of SET's closure calling REAL, made on first use; the
 * same REAL gives the same closure while REAL's module stays loaded.
 * NULL when REAL is itself one of the closures (a slot is never wrapped
 * twice) or none can be made (logged at warn). Keeps errno. */
void *closures_for(struct closure_set *set, void *real);

/* The definition the closure at CODE currently calls, or NULL when CODE
 * is not the start of one of the closures. Lock-free (dladdr's wrapper). */
void *closures_real_of(const void *code);

/* Frees the closures whose definition's module is no longer loaded. Cheap
 * when nothing was unloaded since the last look; takes the loader's lock
 * otherwise: never call it from a dl_iterate_phdr callback. Keeps errno. */
void closures_forget_unloaded(void);

/* The current target of the closure whose handler got USER. */
static inline struct closure_ud *closure_target(void *user)
{
	struct closure_slot *slot = user;
	return __atomic_load_n(&slot->ud, __ATOMIC_ACQUIRE);
}

#endif
