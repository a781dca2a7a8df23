/* cmd_profile.c - txcache profile: runs a program once, without a cache,
 * with the shim in profile mode (prof.h; profrun.h runs it), and prints
 * what caching each function would save (profrep.h): to stdout after the
 * program's own output, or to -o FILE.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "profrep.h"
#include "profrun.h"

struct popts {
	const char *config, *output;
	bool json;
	double rtt_us; /* < 0: measure */
};

static void usage(FILE *out)
{
	fprintf(out, "usage: txcache profile [-c CONFIG] [-o FILE] [--json] [--rtt US] -- PROGRAM "
		     "[ARG...]\n");
}

/* Returns the index of PROGRAM, or -1 after a message (EX_USAGE). */
static int parse(int argc, char **argv, struct popts *o)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"output", required_argument, NULL, 'o'},
	    {"json", no_argument, NULL, 'j'},	      {"rtt", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:o:h", opts, NULL)) != -1) {
		if (c == 'c') {
			o->config = optarg;
		} else if (c == 'o') {
			o->output = optarg;
		} else if (c == 'j') {
			o->json = true;
		} else if (c == 'r') {
			if (profrun_parse_rtt("txcache profile", optarg, &o->rtt_us) != 0)
				return -1;
		} else if (c == 'h') {
			usage(stdout);
			exit(EX_OK);
		} else {
			usage(stderr);
			return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "txcache profile: no PROGRAM given\n");
		usage(stderr);
		return -1;
	}
	return optind;
}

static int report(const struct profrep *r, const struct popts *po, const struct profrep_opts *o)
{
	FILE *out = po->output ? fopen(po->output, "we") : stdout;
	if (!out) {
		fprintf(stderr, "txcache profile: %s: %s\n", po->output, strerror(errno));
		return -1;
	}
	if (profrep_processes(r) == 0)
		fprintf(stderr, "txcache profile: the shim reported nothing: it did not start "
				"(see the txcache: lines above)\n");
	profrep_print(r, o, out);
	int bad = po->output ? fclose(out) != 0 : fflush(out) != 0;
	if (bad)
		fprintf(stderr, "txcache profile: cannot write the report\n");
	return bad ? -1 : 0;
}

int cmd_profile(int argc, char **argv)
{
	struct popts po = {.rtt_us = -1};
	int first = parse(argc, argv, &po);
	if (first < 0)
		return EX_USAGE;
#if !defined(__x86_64__)
	fprintf(stderr, "txcache profile: not supported on this architecture (x86_64 only)\n");
	return EX_UNAVAILABLE;
#endif
	struct profrep *r = NULL;
	struct profrep_opts o = {.json = po.json};
	int rc = profile_collect(po.config, po.rtt_us, argc - first, argv + first, &r, &o);
	if (r && report(r, &po, &o) != 0 && rc == 0)
		rc = EX_IOERR;
	profrep_free(r);
	return rc;
}
