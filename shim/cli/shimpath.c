/* shimpath.c - the shim next to the txcache command; see shimpath.h. */
#include "shimpath.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "err.h"

/* Relative to the command's directory: build/ (both in one directory),
 * PREFIX/bin -> PREFIX/lib, and PREFIX/bin -> PREFIX/lib/MULTIARCH. The
 * multiarch name is the one of the compiler that built this program, so it
 * always matches its architecture; relative paths keep an install movable. */
static const char *const shim_dirs[] = {
    "",
    "/../lib",
#ifdef TXC_MULTIARCH
    "/../lib/" TXC_MULTIARCH,
#endif
};
/* The development link (build/, make install), then the soname, which is all
 * a runtime install (the Debian package's) needs to hold. */
static const char *const shim_names[] = {"libtxcache.so", "libtxcache.so.0"};

static int from_env(const char *env, char *out, size_t cap)
{
	if ((size_t)snprintf(out, cap, "%s", env) >= cap)
		return TXC_ETOOBIG;
	return access(out, R_OK) == 0 ? 0 : TXC_ENOTFOUND;
}

static int shim_path_search(char *out, size_t cap)
{
	const char *env = getenv("TXCACHE_LIB");
	if (env && *env)
		return from_env(env, out, cap);
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return TXC_ENOTFOUND;
	self[n] = '\0';
	const char *dir = dirname(self);
	for (size_t i = 0; i < sizeof(shim_dirs) / sizeof(shim_dirs[0]); i++) {
		for (size_t j = 0; j < sizeof(shim_names) / sizeof(shim_names[0]); j++) {
			char path[PATH_MAX], real[PATH_MAX];
			snprintf(path, sizeof(path), "%s%s/%s", dir, shim_dirs[i], shim_names[j]);
			if ((size_t)snprintf(out, cap, "%s", path) >= cap)
				return TXC_ETOOBIG;
			if (access(path, R_OK) != 0 || !realpath(path, real))
				continue;
			if ((size_t)snprintf(out, cap, "%s", real) >= cap)
				return TXC_ETOOBIG;
			return 0;
		}
	}
	return TXC_ENOTFOUND;
}

int shim_path_find(char *out, size_t cap)
{
	int saved = errno;
	int rc = shim_path_search(out, cap);
	errno = saved;
	return rc;
}
