/* txcache - the companion command: run a program under the shim, check a config. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "err.h"

struct cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

static int cmd_check(int argc, char **argv);
static int cmd_run(int argc, char **argv);

static const struct cmd commands[] = {
	{"check", cmd_check, "check [-c CONFIG]                 validate a config"},
	{"run", cmd_run, "run [-c CONFIG] -- PROGRAM [ARG...] run PROGRAM with the shim preloaded"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: txcache COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  txcache %s\n", commands[i].usage);
	fprintf(out, "\nThe config is -c CONFIG, else $TXCACHE_CONFIG, else %s.\n", TXC_DEFAULT_PATH);
}

static void report_stderr(void *ctx, const char *path, int line, bool warning, const char *msg)
{
	int *nerr = ctx;
	if (!warning)
		++*nerr;
	if (line > 0)
		fprintf(stderr, "%s:%d: %s%s\n", path, line, warning ? "warning: " : "", msg);
	else
		fprintf(stderr, "%s: %s%s\n", path, warning ? "warning: " : "", msg);
}

/* Parses the options shared by every command. Returns the index of the
 * first operand, or -1 after printing usage. */
static int common_opts(int argc, char **argv, const char **config)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			*config = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(EX_OK);
		default:
			usage(stderr);
			return -1;
		}
	}
	return optind;
}

static const char *config_path(const char *given)
{
	if (given)
		return given;
	const char *env = getenv("TXCACHE_CONFIG");
	return env && *env ? env : TXC_DEFAULT_PATH;
}

/* Loads and validates PATH, printing problems. Returns 0 or EX_DATAERR. */
static int load_config(const char *path, struct txc_config **cfg)
{
	int nerr = 0;
	int rc = config_load(path, cfg, report_stderr, &nerr);
	if (rc != 0) {
		if (nerr == 0)
			fprintf(stderr, "%s: %s\n", path, txc_strerror(rc));
		return EX_DATAERR;
	}
	return 0;
}

static int cmd_check(int argc, char **argv)
{
	const char *given = NULL;
	int first = common_opts(argc, argv, &given);
	if (first < 0)
		return EX_USAGE;
	if (first < argc) {
		fprintf(stderr, "txcache check: checking against a PROGRAM is not supported yet\n");
		return EX_USAGE;
	}
	const char *path = config_path(given);
	struct txc_config *cfg = NULL;
	int rc = load_config(path, &cfg);
	if (rc != 0)
		return rc;
	printf("%s: ok: %d function%s, namespace %s, %d server%s\n", path, cfg->nfns,
	       cfg->nfns == 1 ? "" : "s", cfg->ns, cfg->nservers, cfg->nservers == 1 ? "" : "s");
	config_free(cfg);
	return EX_OK;
}

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

static int cmd_run(int argc, char **argv)
{
	const char *given = NULL;
	int first = common_opts(argc, argv, &given);
	if (first < 0)
		return EX_USAGE;
	if (first >= argc) {
		fprintf(stderr, "txcache run: no PROGRAM given\n");
		return EX_USAGE;
	}
	const char *path = config_path(given);
	struct txc_config *cfg = NULL;
	int rc = load_config(path, &cfg);
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

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EX_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "txcache: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EX_USAGE;
}
