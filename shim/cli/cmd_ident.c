/* cmd_ident.c - which definitions a command-line call's keys are for. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "args.h"
#include "cli.h"
#include "elfscan.h"
#include "err.h"

/* The identity the shim computes for FC's function defined in PATH: the
 * same soname, build-id (or size.mtime) and default (or pinned) version. */
static int ident_from_file(const char *cmd, const char *path, const struct txc_fn_config *fc,
			   struct txc_ident *out)
{
	struct elfscan *e = NULL;
	if (elfscan_open(path, &e) != 0) {
		fprintf(stderr, "txcache %s: --library %s: not an ELF file of this machine\n", cmd,
			path);
		return EX_NOINPUT;
	}
	struct elfscan_use use;
	elfscan_lookup(e, fc->sig.name, fc->version, &use);
	char bid[129], stamp[48] = "";
	elfscan_build_id(e, bid, sizeof(bid));
	const char *so = elfscan_soname(e), *slash = strrchr(path, '/');
	struct stat st;
	if (!bid[0] && stat(path, &st) == 0)
		snprintf(stamp, sizeof(stamp), "%llu.%llu", (unsigned long long)st.st_size,
			 (unsigned long long)st.st_mtime);
	int rc = EX_DATAERR;
	if (!use.defined)
		fprintf(stderr, "txcache %s: --library %s does not define %s%s%s\n", cmd, path,
			fc->sig.name, fc->version[0] ? "@" : "", fc->version);
	else if (ident_make(out, fc->identity,
			    so	    ? so
			    : slash ? slash + 1
				    : path,
			    bid, stamp, use.def_version) == 0)
		rc = 0;
	else
		fprintf(stderr, "txcache %s: --library %s: no build-id and no file stamp\n", cmd,
			path);
	elfscan_close(e);
	return rc;
}

int cli_call_idents(const char *cmd, const char *library, struct cli_call *c)
{
	c->nids = 0;
	if (library) {
		int rc = ident_from_file(cmd, library, &c->cfg->fns[c->fn], &c->ids[0]);
		c->nids = rc == 0;
		return rc;
	}
	int rc = idreg_read(c->cache->store, &c->cache->kf[c->fn], c->ids, &c->nids);
	if (rc == TXC_ETOOBIG)
		fprintf(stderr,
			"txcache %s: %s: the identity registry is full; showing %d of its "
			"definitions\n",
			cmd, c->sig->name, c->nids);
	if (rc == TXC_ENOTFOUND || rc == TXC_ETOOBIG)
		return 0;
	/* delete reads the registry again itself, and falls back to a coarser
	 * invalidation when it cannot (cache.h): an unreachable registry must
	 * not stop it */
	if (rc != 0 && strcmp(cmd, "delete") == 0)
		return 0;
	if (rc != 0) {
		fprintf(stderr, "txcache %s: %s\n", cmd, txc_strerror(rc));
		return cli_exit_of(rc);
	}
	return 0;
}

int cli_call_one(const char *cmd, const struct cli_call *c)
{
	if (c->nids == 1)
		return 0;
	if (c->nids == 0)
		fprintf(stderr,
			"txcache %s: not cached: no definition of %s has stored values (its "
			"identity registry is empty); name one with --library FILE\n",
			cmd, c->sig->name);
	else
		fprintf(stderr,
			"txcache %s: %d definitions of %s have stored values; pick one with "
			"--library FILE (txcache key lists them)\n",
			cmd, c->nids, c->sig->name);
	return c->nids == 0 ? 1 : EX_USAGE;
}
