/* wrap.c - arming the shim's own wrappers; see wrap.h. */
#include "wrap.h"
#include "err.h"
#include "interpose.h"

struct arming {
	const struct wrap_fn *fns;
	void *next[WRAP_MAX]; /* dlsym(RTLD_NEXT) of each: another view of "real" */
};

static void *arm_hook(void *ctx, int fn, void *real)
{
	const struct arming *a = ctx;
	const struct wrap_fn *w = &a->fns[fn];
	if (real == w->wrapper || (real != w->real && real != a->next[fn]))
		return NULL; /* already ours, or bound to another definition */
	return w->wrapper;
}

int wrap_arm(const struct wrap_fn *fns, size_t n, int *npatched)
{
	struct interpose_target t[WRAP_MAX];
	struct arming a = {.fns = fns};
	*npatched = 0;
	if (n > WRAP_MAX)
		return TXC_EINVAL;
	for (size_t i = 0; i < n; i++) {
		t[i] = (struct interpose_target){.name = fns[i].name};
		if (interpose_resolve(&t[i], &a.next[i]) != 0)
			a.next[i] = NULL;
	}
	return interpose_patch_all(t, n, arm_hook, &a, npatched);
}
