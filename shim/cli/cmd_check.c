/* cmd_check.c - txcache check: validate a config. */
#include <stdio.h>
#include <sysexits.h>

#include "cli.h"

int cmd_check(int argc, char **argv)
{
	const char *given = NULL;
	int first = cli_common_opts(argc, argv, &given);
	if (first < 0)
		return EX_USAGE;
	if (first < argc) {
		fprintf(stderr, "txcache check: checking against a PROGRAM is not supported yet\n");
		return EX_USAGE;
	}
	const char *path = cli_config_path(given);
	struct txc_config *cfg = NULL;
	int rc = cli_load_config(path, &cfg);
	if (rc != 0)
		return rc;
	printf("%s: ok: %d function%s, namespace %s, %d server%s\n", path, cfg->nfns,
	       cfg->nfns == 1 ? "" : "s", cfg->ns, cfg->nservers, cfg->nservers == 1 ? "" : "s");
	config_free(cfg);
	return EX_OK;
}
