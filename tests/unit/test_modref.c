/* test_modref.c - module instances of addresses (shim/modref.h), against
 * the reloaded plugin of identity.mk. */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "err.h"
#include "modref.h"

static char fixdir[PATH_MAX + 32];

static void find_fixtures(void)
{
	const char *env = getenv("TXCACHE_FIXTURES");
	char exe[PATH_MAX];
	ssize_t n;
	if (env && *env) {
		snprintf(fixdir, sizeof(fixdir), "%s", env);
		return;
	}
	/* build/tests/test_modref -> build/fixtures */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	snprintf(fixdir, sizeof(fixdir), "%s/../fixtures", n > 0 ? exe : "build/tests");
}

static void test_unload(void)
{
	char path[PATH_MAX + 64];
	struct modref ref;
	snprintf(path, sizeof(path), "%s/libidnrel.so", fixdir);
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	void *f = h ? dlsym(h, "idn_rel") : NULL;
	CHECK(f != NULL, "%s loaded", path);
	if (!f)
		return;
	CHECK(modref_of(f, &ref) == 0 && ref.lm != NULL, "a function of a loaded module");
	CHECK(modref_alive(&ref, f), "alive while loaded");
	unsigned long long before = modref_unloads();
	CHECK(dlclose(h) == 0, "dlclose");
	CHECK(modref_unloads() > before, "the unload is counted");
	CHECK(!modref_alive(&ref, f), "gone once unloaded");
}

static void test_not_in_module(void)
{
	int local = 0;
	struct modref ref;
	CHECK(modref_of(&local, &ref) == TXC_ENOTFOUND && ref.lm == NULL, "a stack address");
	CHECK(modref_alive(&ref, &local), "a zeroed modref is never reported gone");
	CHECK(modref_of((void *)printf, &ref) == 0, "libc");
	CHECK(modref_alive(&ref, (void *)printf), "libc stays");
}

int main(void)
{
	find_fixtures();
	printf("# fixtures: %s\n", fixdir);
	test_unload();
	test_not_in_module();
	return check_done();
}
