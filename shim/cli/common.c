/* common.c - option parsing, config loading and text files shared by the
 * subcommands. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "version.h"
#include "err.h"

void cli_usage(FILE *out)
{
	fprintf(out, "usage: txcache COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < cli_ncommands; i++)
		fprintf(out, "  txcache %s\n", cli_commands[i].usage);
	fprintf(out, "\nThe config is -c CONFIG, else $TXCACHE_CONFIG, else %s.\n",
		TXC_DEFAULT_PATH);
	fprintf(out, "txcache --version prints the version (%s).\n", TXC_VERSION);
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
int cli_common_opts(int argc, char **argv, const char **config)
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
			cli_usage(stdout);
			exit(EX_OK);
		default:
			cli_usage(stderr);
			return -1;
		}
	}
	return optind;
}

const char *cli_config_path(const char *given)
{
	if (given)
		return given;
	const char *env = getenv("TXCACHE_CONFIG");
	return env && *env ? env : TXC_DEFAULT_PATH;
}

/* Loads and validates PATH, printing problems. Returns 0 or EX_DATAERR. */
int cli_load_config(const char *path, struct txc_config **cfg)
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

/* Validates TEXT, named PATH in messages. Returns 0 or EX_DATAERR. */
int cli_parse_config(const char *text, const char *path, struct txc_config **cfg)
{
	int nerr = 0;
	int rc = config_parse_string(text, path, cfg, report_stderr, &nerr);
	if (rc != 0) {
		if (nerr == 0)
			fprintf(stderr, "%s: %s\n", path, txc_strerror(rc));
		return EX_DATAERR;
	}
	return 0;
}

int cli_read_text(const char *path, char **text)
{
	FILE *fp = fopen(path, "re");
	size_t cap = 0;
	*text = NULL;
	if (!fp)
		return -1;
	ssize_t got = getdelim(text, &cap, '\0', fp);
	int bad = ferror(fp) ? errno : 0;
	fclose(fp);
	if (got < 0 && !bad) { /* empty */
		free(*text);
		*text = strdup("");
	}
	if (bad || !*text) {
		free(*text);
		*text = NULL;
		errno = bad ? bad : ENOMEM;
		return -1;
	}
	return 0;
}

int cli_split_tabs(char *line, char **f, int max)
{
	int n = 0;
	for (char *p = line; p && n < max; n++) {
		f[n] = p;
		p = strchr(p, '\t');
		if (p)
			*p++ = '\0';
	}
	return n;
}
