/* cmd_flush.c - txcache flush: invalidate a namespace or some functions.
 *
 * Invalidation bumps generation counters (see cache.h): every other key on
 * the server, of other namespaces or of other programs, is left alone. A
 * function's generation that cannot be bumped falls back to the
 * namespace's, as every invalidation does (cache_invalidate_fn).
 * Only --all-server sends memcached's flush_all, to every configured server:
 * with SASL through the store (libmemcached authenticates; memcached -S
 * refuses mcraw's ASCII), else over mcraw, one server at a time.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "args.h"
#include "cli.h"
#include "err.h"
#include "mcraw.h"

static int flush_servers_sasl(const struct txc_config *cfg)
{
	struct txc_cache *c;
	int err = cache_open(cfg, &c);
	if (err == 0)
		err = store_flush_all(c->store, cfg->timeout_ms < 1000 ? 1000 : cfg->timeout_ms);
	cache_close(c);
	if (err != 0) {
		fprintf(stderr, "txcache flush: flush_all failed (%s)\n", txc_strerror(err));
		return cli_exit_of(err);
	}
	for (int i = 0; i < cfg->nservers; i++) {
		char name[300];
		mcraw_name(&cfg->servers[i], name, sizeof(name));
		printf("flushed the whole server %s\n", name);
	}
	return EX_OK;
}

static int flush_servers(const struct txc_config *cfg)
{
	if (cfg->sasl_user[0])
		return flush_servers_sasl(cfg);
	int rc = EX_OK;
	for (int i = 0; i < cfg->nservers; i++) {
		char name[300], line[128];
		mcraw_name(&cfg->servers[i], name, sizeof(name));
		FILE *f =
		    mcraw_open(&cfg->servers[i], cfg->timeout_ms < 1000 ? 1000 : cfg->timeout_ms);
		int ok = f && mcraw_send(f, "flush_all") == 0 &&
			 mcraw_line(f, line, sizeof(line)) >= 0 && !strcmp(line, "OK");
		if (f)
			fclose(f);
		if (ok) {
			printf("flushed the whole server %s\n", name);
		} else {
			fprintf(stderr, "txcache flush: %s: flush_all failed\n", name);
			rc = EX_UNAVAILABLE;
		}
	}
	return rc;
}

/* Bumps the generation of each function named in NAMES, or of the
 * namespace when there are none. */
static int bump(const struct txc_config *cfg, int n, char **names)
{
	struct txc_cache *c;
	int err = cache_open(cfg, &c);
	for (int i = 0; err == 0 && i < n; i++) {
		if (config_find_fn(cfg, names[i]) < 0) {
			fprintf(stderr, "txcache flush: no function '%s' in %s\n", names[i],
				cfg->path);
			cache_close(c);
			return EX_USAGE;
		}
	}
	for (int i = 0; err == 0 && i < (n ? n : 1); i++) {
		int fn = n ? config_find_fn(cfg, names[i]) : -1;
		enum txc_inval_how how;
		err = cache_invalidate_fn(c, fn, &how);
		if (err == 0 && how == TXC_INV_FN)
			printf("flushed %s:%s\n", cfg->ns, names[i]);
		else if (err == 0 && n)
			printf("flushed namespace %s (%s:%s unreachable)\n", cfg->ns, cfg->ns,
			       names[i]);
		else if (err == 0)
			printf("flushed namespace %s\n", cfg->ns);
	}
	cache_close(c);
	if (err != 0) {
		fprintf(stderr, "txcache flush: %s\n", txc_strerror(err));
		return cli_exit_of(err);
	}
	return EX_OK;
}

int cmd_flush(int argc, char **argv)
{
	struct cli_opts o;
	struct txc_config *cfg;
	int first = cli_opts_parse(argc, argv, CLI_OPT_ALL, &o);
	if (first < 0)
		return EX_USAGE;
	if ((o.flags & CLI_OPT_ALL) && first < argc) {
		fprintf(stderr, "txcache flush: --all-server takes no FUNCTION\n");
		return EX_USAGE;
	}
	int rc = cli_load_config(cli_config_path(o.config), &cfg);
	if (rc != 0)
		return rc;
	if (o.flags & CLI_OPT_ALL)
		rc = flush_servers(cfg);
	else
		rc = bump(cfg, argc - first, argv + first);
	config_free(cfg);
	return rc;
}
