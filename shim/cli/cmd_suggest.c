/* cmd_suggest.c - txcache suggest: a config for the catalogue functions a
 * program imports through a GOT slot the shim patches.
 *
 * It reuses check's view of the program (modscan.h: the modules the loader
 * lists, less those the shim never patches) and the catalogue's entries by
 * name (catscan.h). The config it prints takes each entry with `from =`,
 * so the signature and its reasons stay in one place, and starts with
 * verify = 1: the first runs check every hit against a real call.
 */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "catalogue.h"
#include "catscan.h"
#include "cli.h"
#include "modscan.h"

struct suggest_opts {
	const char *config;    /* -c: servers, namespace and secret_file from it */
	const char *catalogue; /* --catalogue DIR */
	const char *out;       /* -o FILE */
};

/* One entry the program can use, and the module that imports it. */
struct pick {
	const struct catscan_entry *e;
	const char *importer;
};

static void print_cache_section(FILE *o, const struct txc_config *cfg, const char *prog)
{
	fprintf(o, "[cache]\n");
	if (cfg) {
		fprintf(o, "servers   = ");
		for (int i = 0; i < cfg->nservers; i++) {
			const struct txc_server *s = &cfg->servers[i];
			fprintf(o, i ? ", " : "");
			if (s->is_socket)
				fprintf(o, "%s", s->host);
			else
				fprintf(o, "%s:%u", s->host, s->port);
		}
		fprintf(o, "\nnamespace = %s\n", cfg->ns);
		if (cfg->secret_file[0])
			fprintf(o, "secret_file = %s\n", cfg->secret_file);
	} else {
		char name[PATH_MAX];
		snprintf(name, sizeof(name), "%s", prog);
		fprintf(o, "servers   = 127.0.0.1:11211\nnamespace = %s\n", basename(name));
	}
	fprintf(o, "; every hit is also computed for real and compared: set 0 once\n"
		   "; `txcache stats` shows no mismatch\n"
		   "verify    = 1\n");
}

static void print_config(FILE *o, const char *prog, const char *dir, const struct txc_config *cfg,
			 const struct pick *p, size_t n)
{
	fprintf(o, "; txcache suggest %s\n; from the catalogue in %s\n", prog, dir);
	fprintf(o, "; %zu catalogue function%s imported through a GOT slot the shim patches\n\n", n,
		n == 1 ? "" : "s");
	print_cache_section(o, cfg, prog);
	for (size_t i = 0; i < n; i++) {
		fprintf(o, "\n[function %s]\n", p[i].e->fn);
		for (const char *d = p[i].e->doc; *d;) {
			size_t len = strcspn(d, "\n");
			fprintf(o, ";%s%.*s\n", len ? " " : "", (int)len, d);
			d += len + (d[len] == '\n');
		}
		fprintf(o, "; imported by %s\nfrom = %s\n", p[i].importer, p[i].e->cat);
	}
}

/* The module that defines FN first, in load order, or NULL. */
static const char *definer(const struct modscan *s, const char *fn)
{
	struct elfscan_use use;
	for (size_t i = 0; i < s->n; i++) {
		if (!s->m[i].elf)
			continue;
		elfscan_lookup(s->m[i].elf, fn, "", &use);
		if (use.defined)
			return s->m[i].path;
	}
	return NULL;
}

/* Fills P with the entries S imports through a patched slot; an entry whose
 * function another library than the catalogue's defines is left out (a
 * crc32 that is not zlib's), said on stderr. Returns how many. */
static size_t pick_entries(const struct modscan *s, const struct catscan *c, struct pick *p)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct catscan_entry *e = &c->e[i];
		struct elfscan_use use;
		const struct modscan_module *m = modscan_importer(s, e->fn, "", &use);
		if (!m)
			continue;
		const char *def = definer(s, e->fn);
		if (def && !catscan_library_is(e->library, def)) {
			fprintf(stderr,
				"txcache suggest: %s: left out: %s defines it, not %s (the "
				"catalogue's %s)\n",
				e->fn, def, e->library, e->cat);
			continue;
		}
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			dup = dup || strcmp(p[k].e->fn, e->fn) == 0;
		if (dup)
			continue;
		p[n].e = e;
		p[n].importer = m->path;
		n++;
	}
	return n;
}

static int parse_opts(int argc, char **argv, struct suggest_opts *o)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"catalogue", required_argument, NULL, 'C'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'C':
			o->catalogue = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'h':
			cli_usage(stdout);
			return -2;
		default:
			cli_usage(stderr);
			return -1;
		}
	}
	return optind;
}

static int write_out(const struct suggest_opts *o, const char *prog, const char *dir,
		     const struct txc_config *cfg, const struct pick *p, size_t n)
{
	FILE *f = o->out ? fopen(o->out, "we") : stdout;
	if (!f) {
		perror(o->out);
		return EX_CANTCREAT;
	}
	print_config(f, prog, dir, cfg, p, n);
	if (o->out && fclose(f) != 0) {
		perror(o->out);
		return EX_IOERR;
	}
	return EX_OK;
}

static int suggest(const struct suggest_opts *o, const char *prog, const struct txc_config *cfg)
{
	char dir[PATH_MAX];
	struct catscan c;
	if (o->catalogue)
		snprintf(dir, sizeof(dir), "%s", o->catalogue);
	else
		snprintf(dir, sizeof(dir), "%s", catalogue_dir());
	if (catscan_read(dir, &c) != 0) {
		fprintf(stderr,
			"txcache suggest: cannot read the catalogue %s (--catalogue DIR or "
			"TXCACHE_CATALOGUE)\n",
			dir);
		return EX_NOINPUT;
	}
	struct modscan s;
	int rc = modscan_open("txcache suggest", prog, &s);
	if (rc != MODSCAN_OK) {
		catscan_free(&c);
		return rc == MODSCAN_NOINPUT ? EX_NOINPUT : rc == MODSCAN_STATIC ? 1 : EX_DATAERR;
	}
	struct pick *p = calloc(c.n + 1, sizeof(*p));
	size_t n = p ? pick_entries(&s, &c, p) : 0;
	if (!p)
		rc = EX_OSERR;
	else if (n == 0)
		fprintf(stderr,
			"txcache suggest: %s imports none of the catalogue's %zu functions "
			"through a GOT slot the shim patches at start\n",
			s.program, c.n);
	else
		rc = write_out(o, s.program, dir, cfg, p, n);
	if (p && n == 0)
		rc = 1;
	free(p);
	modscan_close(&s);
	catscan_free(&c);
	return rc;
}

int cmd_suggest(int argc, char **argv)
{
	struct suggest_opts o = {0};
	int first = parse_opts(argc, argv, &o);
	if (first < 0)
		return first == -2 ? EX_OK : EX_USAGE;
	if (first + 1 != argc) {
		fprintf(stderr, "txcache suggest: one PROGRAM\n");
		return EX_USAGE;
	}
	struct txc_config *cfg = NULL;
	if (o.config && cli_load_config(o.config, &cfg) != 0)
		return EX_DATAERR;
	int rc = suggest(&o, argv[first], cfg);
	if (cfg)
		config_free(cfg);
	return rc;
}
