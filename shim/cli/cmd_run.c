/* cmd_run.c - txcache run: exec a program with the shim preloaded. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

/* The shim next to this executable (build/ or PREFIX/bin -> PREFIX/lib). */
static int find_shim(char *out, size_t cap)
{
	const char *env = getenv("TXCACHE_LIB");
	if (env && *env) {
		snprintf(out, cap, "%s", env);
		return access(out, R_OK) == 0 ? 0 : -1;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	const char *dir = dirname(self);
	const char *suffixes[] = {"", "/../lib"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(out, cap, "%s%s/libtxcache.so", dir, suffixes[i]);
		char real[PATH_MAX];
		if (access(out, R_OK) == 0 && realpath(out, real)) {
			snprintf(out, cap, "%s", real);
			return 0;
		}
	}
	return -1;
}

static int set_preload(const char *shim)
{
	const char *old = getenv("LD_PRELOAD");
	if (!old || !*old)
		return setenv("LD_PRELOAD", shim, 1);
	size_t len = strlen(old) + strlen(shim) + 2;
	char *v = malloc(len);
	if (!v)
		return -1;
	snprintf(v, len, "%s %s", old, shim);
	int rc = setenv("LD_PRELOAD", v, 1);
	free(v);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	const char *given = NULL;
	int first = cli_common_opts(argc, argv, &given);
	if (first < 0)
		return EX_USAGE;
	if (first >= argc) {
		fprintf(stderr, "txcache run: no PROGRAM given\n");
		return EX_USAGE;
	}
	const char *path = cli_config_path(given);
	struct txc_config *cfg = NULL;
	int rc = cli_load_config(path, &cfg);
	if (rc != 0)
		return rc;
	config_free(cfg);
	char shim[PATH_MAX], abs[PATH_MAX];
	if (find_shim(shim, sizeof(shim)) != 0) {
		fprintf(stderr, "txcache run: cannot find libtxcache.so (set TXCACHE_LIB)\n");
		return EX_UNAVAILABLE;
	}
	if (!realpath(path, abs) || setenv("TXCACHE_CONFIG", abs, 1) != 0 ||
	    set_preload(shim) != 0) {
		fprintf(stderr, "txcache run: %s: %s\n", path, strerror(errno));
		return EX_OSERR;
	}
	execvp(argv[first], argv + first);
	fprintf(stderr, "txcache run: %s: %s\n", argv[first], strerror(errno));
	return errno == ENOENT ? EX_UNAVAILABLE : EX_OSERR;
}
