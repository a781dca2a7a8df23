/* cmd_run.c - txcache run: exec a program with the shim preloaded; and
 * txcache warm: the same with TXCACHE_MODE=recache (mode.h), so that every
 * call the program makes is computed anew and stored. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "shimpath.h"
#include "trustpath.h"

static const char *g_cmd = "run"; /* in messages: run or warm */

/* A config that is not a regular file (a FIFO, /dev/stdin, <(...)) can be
 * read only once: the shim gets the text that was checked, in
 * TXCACHE_CONFIG_TEXT, and TXCACHE_CONFIG names it in messages. One
 * environment string holds at most 128 KiB (MAX_ARG_STRLEN). */
#define TEXT_MAX (128 * 1024 - sizeof("TXCACHE_CONFIG_TEXT="))

/* Reads all of PATH into a malloc'ed NUL-terminated *TEXT. Returns 0,
 * EX_NOINPUT when it cannot be read, or EX_DATAERR when it is too big or
 * holds a NUL byte. */
static int read_config_once(const char *path, char **text)
{
	FILE *fp = fopen(path, "re");
	if (!fp) {
		fprintf(stderr, "txcache %s: %s: %s\n", g_cmd, path, strerror(errno));
		return EX_NOINPUT;
	}
	/* the shim takes this text on trust (TXCACHE_CONFIG_TEXT): a named
	 * FIFO is checked as a config file is (trustpath.h) */
	char why[200];
	if (trust_path_check(path, fileno(fp), why, sizeof(why)) != 0) {
		fprintf(stderr, "%s: %s\n", path, why);
		fclose(fp);
		return EX_DATAERR;
	}
	char *buf = malloc(TEXT_MAX + 1);
	size_t n = buf ? fread(buf, 1, TEXT_MAX + 1, fp) : 0;
	int err = ferror(fp);
	fclose(fp);
	int rc = 0;
	if (!buf || err) {
		fprintf(stderr, "txcache %s: %s: cannot read\n", g_cmd, path);
		rc = EX_NOINPUT;
	} else if (n > TEXT_MAX || memchr(buf, '\0', n)) {
		fprintf(stderr, "txcache %s: %s: over %zu bytes or binary; write it to a file\n",
			g_cmd, path, (size_t)TEXT_MAX);
		rc = EX_DATAERR;
	}
	if (rc != 0) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*text = buf;
	return 0;
}

/* Checks the config at PATH and tells the shim where to find it: by its
 * absolute path for a regular file, else by the text read here. */
static int export_config(const char *path)
{
	struct stat st;
	struct txc_config *cfg = NULL;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		char abs[PATH_MAX];
		int rc = cli_load_config(path, &cfg);
		config_free(cfg);
		if (rc != 0)
			return rc;
		if (!realpath(path, abs) || setenv("TXCACHE_CONFIG", abs, 1) != 0) {
			fprintf(stderr, "txcache %s: %s: %s\n", g_cmd, path, strerror(errno));
			return EX_OSERR;
		}
		unsetenv("TXCACHE_CONFIG_TEXT");
		return 0;
	}
	char *text = NULL;
	int rc = read_config_once(path, &text);
	if (rc == 0)
		rc = cli_parse_config(text, path, &cfg);
	config_free(cfg);
	if (rc == 0 && (setenv("TXCACHE_CONFIG", path, 1) != 0 ||
			setenv("TXCACHE_CONFIG_TEXT", text, 1) != 0)) {
		fprintf(stderr, "txcache %s: %s: %s\n", g_cmd, path, strerror(errno));
		rc = EX_OSERR;
	}
	free(text);
	return rc;
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

static int run_program(int argc, char **argv)
{
	const char *given = NULL;
	g_cmd = argv[0];
	int first = cli_common_opts(argc, argv, &given);
	if (first < 0)
		return EX_USAGE;
	if (first >= argc) {
		fprintf(stderr, "txcache %s: no PROGRAM given\n", argv[0]);
		return EX_USAGE;
	}
	const char *path = cli_config_path(given);
	char shim[PATH_MAX];
	if (shim_path_find(shim, sizeof(shim)) != 0) {
		fprintf(stderr, "txcache %s: cannot find libtxcache.so (set TXCACHE_LIB)\n", g_cmd);
		return EX_UNAVAILABLE;
	}
	int rc = export_config(path);
	if (rc != 0)
		return rc;
	if (set_preload(shim) != 0) {
		fprintf(stderr, "txcache %s: LD_PRELOAD: %s\n", g_cmd, strerror(errno));
		return EX_OSERR;
	}
	execvp(argv[first], argv + first);
	fprintf(stderr, "txcache %s: %s: %s\n", g_cmd, argv[first], strerror(errno));
	return errno == ENOENT ? EX_UNAVAILABLE : EX_OSERR;
}

int cmd_run(int argc, char **argv)
{
	return run_program(argc, argv);
}

int cmd_warm(int argc, char **argv)
{
	/* overrides an inherited TXCACHE_MODE: warming is the point */
	if (setenv("TXCACHE_MODE", "recache", 1) != 0) {
		fprintf(stderr, "txcache warm: TXCACHE_MODE: %s\n", strerror(errno));
		return EX_OSERR;
	}
	return run_program(argc, argv);
}
