/* cmd_key.c - txcache key and txcache delete: one call's key. */
#include <stdio.h>
#include <sysexits.h>

#include "args.h"
#include "cli.h"
#include "err.h"
#include "world.h"

int cmd_key(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_call c;
	int first = cli_opts_parse(argc, argv, 0, &o);
	if (first < 0)
		return EX_USAGE;
	int rc = cli_call_open("key", &o, argc - first, argv + first, &c);
	if (rc == 0 && c.nids == 0)
		rc = cli_call_one("key", &c);
	/* one definition: the key alone; several: each key and its definition */
	for (int i = 0; rc == 0 && i < c.nids; i++)
		if (c.nids == 1)
			printf("%s\n", c.keys[i].text);
		else
			printf("%s %s\n", c.keys[i].text, c.ids[i].text);
	cli_call_close(&c);
	return rc;
}

int cmd_delete(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_call c;
	int first = cli_opts_parse(argc, argv, 0, &o);
	if (first < 0)
		return EX_USAGE;
	int rc = cli_call_open("delete", &o, argc - first, argv + first, &c);
	if (rc == 0) {
		enum txc_inval_how how;
		int err = cache_invalidate_call(c.cache, c.fn, c.args, &how);
		const char *what = c.nids ? c.key.text : "the call's key or its identity registry";
		bool world = world_used(&c.cfg->fns[c.fn]);
		if (err == 0 && how == TXC_INV_FN && world)
			fprintf(stderr,
				"txcache delete: %s is keyed by the world (key_env, key_cwd or a "
				"file): invalidated every call of it\n",
				c.cfg->fns[c.fn].sig.name);
		else if (err == 0 && how != TXC_INV_CALL)
			fprintf(stderr,
				"txcache delete: %s unreachable; invalidated every call of %s\n",
				what, how == TXC_INV_FN ? c.cfg->fns[c.fn].sig.name : c.cfg->ns);
		if (err != 0) {
			fprintf(stderr, "txcache delete: %s: %s\n", what, txc_strerror(err));
			rc = cli_exit_of(err);
		}
	}
	cli_call_close(&c);
	return rc;
}
