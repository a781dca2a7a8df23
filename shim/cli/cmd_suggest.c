/* cmd_suggest.c - txcache suggest: a config for the catalogue functions a
 * program imports through a GOT slot the shim patches.
 *
 * It reuses check's view of the program (modscan.h: the modules the loader
 * lists, less those the shim never patches) and the catalogue's entries by
 * name (catscan.h). With --profile it also runs the program once in profile
 * mode (profrun.h) and keeps only the entries whose calls cost more than a
 * round trip each: what a warm rerun would save. The profile also sees
 * modules loaded later (dlopen, dlsym), which the scan cannot. The config
 * takes each entry with `from =`, so the signature and its reasons stay in
 * one place, and starts with verify = 1: the first runs check every hit
 * against a real call.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "catalogue.h"
#include "catscan.h"
#include "cli.h"
#include "modscan.h"
#include "profrun.h"

struct suggest_opts {
	const char *config;    /* -c: servers, namespace and secret_file from it */
	const char *catalogue; /* --catalogue DIR */
	const char *out;       /* -o FILE */
	bool profile;	       /* --profile: run the program, keep what saves time */
	double rtt_us;	       /* --rtt (with --profile); < 0: measured */
};

/* One entry the program can use: the module that imports it (NULL when
 * only the profile saw it called), and what the profile saw. */
struct pick {
	const struct catscan_entry *e;
	const char *importer;
	bool profiled;
	struct profrep_fn pf;
};

static void print_servers(FILE *o, const struct txc_config *cfg)
{
	fprintf(o, "servers   = ");
	for (int i = 0; i < cfg->nservers; i++) {
		const struct txc_server *s = &cfg->servers[i];
		fprintf(o, i ? ", " : "");
		if (s->is_socket)
			fprintf(o, "%s", s->host);
		else
			fprintf(o, "%s:%u", s->host, s->port);
	}
	fputc('\n', o);
}

static void print_cache_section(FILE *o, const struct txc_config *cfg, const char *prog)
{
	fprintf(o, "[cache]\n");
	if (cfg) {
		print_servers(o, cfg);
		fprintf(o, "namespace = %s\n", cfg->ns);
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

static void print_entry(FILE *o, const struct pick *p)
{
	fprintf(o, "\n[function %s]\n", p->e->fn);
	for (const char *d = p->e->doc; *d;) {
		size_t len = strcspn(d, "\n");
		fprintf(o, ";%s%.*s\n", len ? " " : "", (int)len, d);
		d += len + (d[len] == '\n');
	}
	if (p->importer)
		fprintf(o, "; imported by %s\n", p->importer);
	else
		fprintf(o, "; called through a module loaded later (dlopen, dlsym): seen by the "
			   "profile\n");
	if (p->profiled)
		fprintf(o,
			"; profile: %llu calls, %llu keys, %.3f ms; saves %.3f ms on a warm "
			"rerun, %.3f ms within the run\n",
			p->pf.calls, p->pf.keys, p->pf.ns / 1e6, p->pf.save_rerun_ns / 1e6,
			p->pf.save_run_ns / 1e6);
	fprintf(o, "from = %s\n", p->e->cat);
}

static void print_config(FILE *o, const char *prog, const char *dir, const struct txc_config *cfg,
			 const struct pick *p, size_t n, const struct profrep_opts *po)
{
	fprintf(o, "; txcache suggest %s\n; from the catalogue in %s\n", prog, dir);
	if (po)
		fprintf(o,
			"; %zu catalogue function%s worth caching in the profiled run "
			"(round trip %.1f us%s)\n\n",
			n, n == 1 ? "" : "s", po->rtt_us,
			po->assumed ? ", assumed"
			: po->given ? ", --rtt"
				    : ", measured");
	else
		fprintf(o,
			"; %zu catalogue function%s imported through a GOT slot the shim "
			"patches\n\n",
			n, n == 1 ? "" : "s");
	print_cache_section(o, cfg, prog);
	for (size_t i = 0; i < n; i++)
		print_entry(o, &p[i]);
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

static bool picked(const struct pick *p, size_t n, const char *fn)
{
	for (size_t k = 0; k < n; k++)
		if (strcmp(p[k].e->fn, fn) == 0)
			return true;
	return false;
}

/* Whether entry E goes in, by the profile R: it was called with its
 * signature known and each call costs more than a round trip. Says why not
 * on stderr. */
static bool worth_it(const struct catscan_entry *e, const struct profrep *r,
		     const struct profrep_opts *po, struct pick *p, bool imported)
{
	p->profiled = profrep_find(r, po, e->fn, &p->pf);
	if (!p->profiled) {
		if (imported)
			fprintf(stderr,
				"txcache suggest: %s: left out: not called in the "
				"profiled run\n",
				e->fn);
		return false;
	}
	if (p->pf.save_rerun_ns > 0)
		return true;
	fprintf(stderr,
		"txcache suggest: %s: left out: %llu calls of %.3f us on average save nothing "
		"over a round trip of %.1f us\n",
		e->fn, p->pf.calls, p->pf.ns / 1e3 / (double)(p->pf.calls ? p->pf.calls : 1),
		po->rtt_us);
	return false;
}

/* Fills P with the entries S imports through a patched slot (with a
 * profile R: those R found worth caching, imported or not). An entry whose
 * function another library than the catalogue's defines is left out (a
 * crc32 that is not zlib's), said on stderr. Returns how many. */
static size_t pick_entries(const struct modscan *s, const struct catscan *c, struct pick *p,
			   const struct profrep *r, const struct profrep_opts *po)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct catscan_entry *e = &c->e[i];
		struct elfscan_use use;
		const char *def = definer(s, e->fn);
		const struct modscan_module *m = modscan_importer(s, e->fn, "", def, &use);
		if (picked(p, n, e->fn))
			continue;
		/* a library's calls to its own function (zlib's compress2 calling
		 * adler32 through its PLT) are its internals: caching them costs
		 * a lookup per internal call and serves no caller of the program */
		if (!m && def && modscan_importer(s, e->fn, "", NULL, &use)) {
			fprintf(stderr,
				"txcache suggest: %s: left out: only %s's own calls reach it\n",
				e->fn, def);
			continue;
		}
		if (!m && !r)
			continue;
		if (def && !catscan_library_is(e->library, def)) {
			fprintf(stderr,
				"txcache suggest: %s: left out: %s defines it, not %s (the "
				"catalogue's %s)\n",
				e->fn, def, e->library, e->cat);
			continue;
		}
		p[n] = (struct pick){.e = e, .importer = m ? m->path : NULL};
		if (r && !worth_it(e, r, po, &p[n], m != NULL))
			continue;
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
	    {"profile", no_argument, NULL, 'p'},
	    {"rtt", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:o:h", opts, NULL)) != -1) {
		if (c == 'c') {
			o->config = optarg;
		} else if (c == 'C') {
			o->catalogue = optarg;
		} else if (c == 'o') {
			o->out = optarg;
		} else if (c == 'p') {
			o->profile = true;
		} else if (c == 'r') {
			if (profrun_parse_rtt("txcache suggest", optarg, &o->rtt_us) != 0)
				return -1;
		} else if (c == 'h') {
			cli_usage(stdout);
			return -2;
		} else {
			cli_usage(stderr);
			return -1;
		}
	}
	return optind;
}

static int write_out(const struct suggest_opts *o, const char *prog, const char *dir,
		     const struct txc_config *cfg, const struct pick *p, size_t n,
		     const struct profrep_opts *po)
{
	FILE *f = o->out ? fopen(o->out, "we") : stdout;
	if (!f) {
		perror(o->out);
		return EX_CANTCREAT;
	}
	print_config(f, prog, dir, cfg, p, n, po);
	if (o->out ? fclose(f) != 0 : fflush(f) != 0) {
		perror(o->out ? o->out : "stdout");
		return EX_IOERR;
	}
	return EX_OK;
}

/* Runs ARGV in profile mode, its stdout on our stderr (ours carries the
 * config). Returns the program's status; *R the report or NULL. */
static int profile(const struct suggest_opts *o, int argc, char **argv, struct profrep **r,
		   struct profrep_opts *po)
{
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		perror("txcache suggest");
		return EX_OSERR;
	}
	int rc = profile_collect(o->config, o->rtt_us, argc, argv, r, po);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	if (rc != 0)
		fprintf(stderr, "txcache suggest: the profiled run of %s exited with %d\n", argv[0],
			rc);
	return rc;
}

static int suggest(const struct suggest_opts *o, int argc, char **argv,
		   const struct txc_config *cfg, const char *dir, const struct catscan *c)
{
	struct modscan s;
	int rc = modscan_open("txcache suggest", argv[0], &s);
	if (rc != MODSCAN_OK)
		return rc == MODSCAN_NOINPUT ? EX_NOINPUT : rc == MODSCAN_STATIC ? 1 : EX_DATAERR;
	struct profrep *r = NULL;
	struct profrep_opts po = {0};
	if (o->profile && (profile(o, argc, argv, &r, &po), !r)) {
		modscan_close(&s);
		return EX_SOFTWARE;
	}
	struct pick *p = calloc(c->n + 1, sizeof(*p));
	size_t n = p ? pick_entries(&s, c, p, r, &po) : 0;
	if (!p)
		rc = EX_OSERR;
	else if (n > 0)
		rc = write_out(o, s.program, dir, cfg, p, n, r ? &po : NULL);
	else
		fprintf(stderr, "txcache suggest: %s %s none of the catalogue's %zu functions%s\n",
			s.program, r ? "calls" : "imports", c->n,
			r ? " in a way worth caching in the profiled run"
			  : " through a GOT slot the shim patches at start");
	if (p && n == 0)
		rc = 1;
	free(p);
	profrep_free(r);
	modscan_close(&s);
	return rc;
}

int cmd_suggest(int argc, char **argv)
{
	struct suggest_opts o = {.rtt_us = -1};
	int first = parse_opts(argc, argv, &o);
	if (first < 0)
		return first == -2 ? EX_OK : EX_USAGE;
	if (first >= argc || (!o.profile && first + 1 != argc)) {
		fprintf(stderr, "txcache suggest: %s\n",
			o.profile ? "--profile needs -- PROGRAM [ARG...]"
				  : "one PROGRAM (its arguments only with --profile)");
		return EX_USAGE;
	}
	/* profile mode reads the catalogue from the environment: one directory */
	if (o.catalogue && setenv("TXCACHE_CATALOGUE", o.catalogue, 1) != 0)
		return EX_OSERR;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", catalogue_dir());
	struct catscan c;
	if (catscan_read(dir, &c) != 0) {
		fprintf(stderr,
			"txcache suggest: cannot read the catalogue %s (--catalogue DIR or "
			"TXCACHE_CATALOGUE)\n",
			dir);
		return EX_NOINPUT;
	}
	struct txc_config *cfg = NULL;
	int rc = EX_DATAERR;
	if (!o.config || cli_load_config(o.config, &cfg) == 0)
		rc = suggest(&o, argc - first, argv + first, cfg, dir, &c);
	config_free(cfg);
	catscan_free(&c);
	return rc;
}
