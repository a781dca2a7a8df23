/* cmd_get.c - txcache get and txcache set: one call's cached result. */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "args.h"
#include "cli.h"
#include "err.h"

/* Reads C's value. Returns 0 with *LK filled (free it), 1 when there is no
 * valid value (absent, stale or corrupt), or a sysexits code. */
static int fetch(const char *cmd, struct cli_call *c, struct txc_lookup *lk,
		 struct txc_value_meta *meta, struct txc_result *res)
{
	int err = cache_lookup(c->cache, c->fn, &c->key, lk);
	if (err != 0) {
		fprintf(stderr, "txcache %s: %s\n", cmd, txc_strerror(err));
		return cli_exit_of(err);
	}
	err = cache_decode(c->cache, c->fn, &c->key, lk, meta, res);
	if (err == TXC_ECORRUPT)
		fprintf(stderr, "txcache %s: %s: the value failed verification\n", cmd,
			c->key.text);
	return err == 0 ? 0 : 1;
}

int cmd_get(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_call c;
	int first = cli_opts_parse(argc, argv, CLI_OPT_JSON, &o);
	if (first < 0)
		return EX_USAGE;
	int rc = cli_call_open("get", &o, argc - first, argv + first, &c);
	if (rc == 0)
		rc = cli_call_one("get", &c);
	if (rc == 0) {
		struct txc_lookup lk;
		struct txc_value_meta meta;
		struct txc_result res;
		rc = fetch("get", &c, &lk, &meta, &res);
		if (rc == 0)
			cli_result_print(stdout, &c, &res, &meta, o.flags & CLI_OPT_JSON);
		else if (rc == 1)
			fprintf(stderr, "txcache get: not cached: %s\n", c.key.text);
		cache_lookup_free(&lk);
	}
	cli_call_close(&c);
	return rc;
}

/* Stores RES for C under the current generations (created when absent). */
static int store(struct cli_call *c, bool replace, const struct txc_result *res)
{
	struct txc_lookup lk;
	struct txc_value_meta meta;
	struct txc_result old;
	int rc = fetch("set", c, &lk, &meta, &old);
	if (rc == 1 && replace)
		fprintf(stderr, "txcache set: --replace: not cached: %s\n", c->key.text);
	if (rc > 1 || (rc == 1 && replace)) {
		cache_lookup_free(&lk);
		return rc;
	}
	int err = cache_ensure_gens(c->cache, c->fn, &lk);
	cache_lookup_free(&lk);
	/* listed before it is stored, so that every invalidation reaches it */
	bool known = false;
	uint64_t gen = 0;
	if (err == 0)
		err =
		    idreg_register(c->cache->store, &c->cache->kf[c->fn], &c->ids[0], &gen, &known);
	if (known)
		lk.fn_gen = gen;
	memset(&meta, 0, sizeof(meta));
	meta.ns_gen = lk.ns_gen;
	meta.fn_gen = lk.fn_gen;
	size_t len = 0;
	if (err == 0)
		err = cache_store(c->cache, c->fn, &c->key, &meta, res, &len);
	if (err != 0) {
		fprintf(stderr, "txcache set: %s: %s\n", c->key.text, txc_strerror(err));
		return err == TXC_ETOOBIG ? EX_DATAERR : cli_exit_of(err);
	}
	return 0;
}

int cmd_set(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_call c;
	int first = cli_opts_parse(argc, argv, CLI_OPT_REPLACE, &o);
	if (first < 0)
		return EX_USAGE;
	int sep = first;
	while (sep < argc && strcmp(argv[sep], "--") != 0)
		sep++;
	if (sep == argc) {
		fprintf(stderr, "txcache set: no '-- RESULT...' given\n");
		return EX_USAGE;
	}
	int rc = cli_call_open("set", &o, sep - first, argv + first, &c);
	struct txc_result res;
	if (rc == 0)
		rc = cli_call_one("set", &c);
	if (rc == 0)
		rc = cli_result_parse(&c, argc - sep - 1, argv + sep + 1, &res);
	if (rc == 0)
		rc = store(&c, o.flags & CLI_OPT_REPLACE, &res);
	cli_call_close(&c);
	return rc;
}
