/* wrap.h - the shim's own wrappers of libc functions, written into the GOT
 * slots of every module the shim patches: the write functions of capture
 * and the signal functions of sigguard.
 *
 * A slot is rewritten only while it leads to the definition the shim itself
 * sees (the wrapper table's REAL, or the next definition after the shim): a
 * slot bound to another library's definition (a wrapper preloaded before
 * the shim) is left alone, and so is a slot already leading to the wrapper.
 * So arming again after a dlopen is harmless.
 */
#ifndef TXC_WRAP_H
#define TXC_WRAP_H

#include <stddef.h>

#define WRAP_MAX 96

/* One wrapped function: its name and address as the shim sees them, and the
 * wrapper's address. */
struct wrap_fn {
	const char *name;
	void *real;
	void *wrapper;
};

/* The table entry of libc's NAME and its wrapper w_NAME. */
#define WRAP_FN(name)                                                                              \
	{                                                                                          \
#name, (void *)name, (void *)w_##name                                              \
	}

/* Points the slots of FNS[0..N) in every loaded module at their wrappers.
 * Returns 0 and *NPATCHED, TXC_EINVAL when N exceeds WRAP_MAX, or the
 * failure of interpose_patch_all(). Not thread-safe against itself: call
 * at start-up or under the dlopen lock (dl_after_load). */
int wrap_arm(const struct wrap_fn *fns, size_t n, int *npatched);

#endif
