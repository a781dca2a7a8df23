/* cmd_profile.c - txcache profile: runs a program once, without a cache,
 * with the shim in profile mode (prof.h), and prints what caching each
 * function would save (profrep.h).
 *
 * The report file is made here, 0600 in a private directory (mkdtemp), and
 * handed to the shim in TXCACHE_PROFILE; the shim only appends to it. The
 * program runs as `txcache run` runs it, in a child, with its own stdout,
 * stderr and exit status (ours); the report goes to stdout after it, or to
 * -o FILE.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mcraw.h"
#include "profcat.h"
#include "profrep.h"

#define RTT_ASSUMED_US 6.0 /* a loopback get (shared notes: 5.3-6.6 us) */

/* Used when no config is given and none is at the default place: no
 * function has a known signature; every call is timed. */
static const char builtin_config[] = "[cache]\nservers = 127.0.0.1:11211\n";

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
	char *end;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:o:h", opts, NULL)) != -1) {
		if (c == 'c') {
			o->config = optarg;
		} else if (c == 'o') {
			o->output = optarg;
		} else if (c == 'j') {
			o->json = true;
		} else if (c == 'r') {
			errno = 0;
			o->rtt_us = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->rtt_us >= 0) ||
			    o->rtt_us > 1e7) {
				fprintf(stderr,
					"txcache profile: --rtt %s: not a number of "
					"microseconds (0 to 10000000)\n",
					optarg);
				return -1;
			}
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

/* DIR (mkdtemp, 0700) with an empty DIR/report (0600). 0 or -1. */
static int make_dir(char *dir, size_t dcap, char *file, size_t fcap)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, dcap, "%s/txcache-profile.XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(file, fcap, "%s/report", dir);
	mode_t old = umask(077);
	FILE *fp = fopen(file, "wx");
	umask(old);
	if (fp && fclose(fp) == 0)
		return 0;
	unlink(file);
	rmdir(dir);
	return -1;
}

/* The config to run with: the one given, else the default one when it
 * exists, else the built-in one written to DIR/config. NULL on failure. */
static const char *pick_config(const char *given, const char *dir, char *buf, size_t cap)
{
	const char *path = cli_config_path(given);
	if (given || access(path, F_OK) == 0)
		return path;
	snprintf(buf, cap, "%s/config", dir);
	FILE *fp = fopen(buf, "wx");
	if (!fp || fputs(builtin_config, fp) < 0 || fclose(fp) != 0)
		return NULL;
	return buf;
}

/* The config CONFIG with every catalogue file included (profcat.h),
 * written to DIR/profile.ini: its path in BUF, or CONFIG itself when the
 * catalogue is empty or missing. NULL (after a message) on failure. */
static const char *with_catalogue(const char *config, const char *dir, char *buf, size_t cap)
{
	FILE *fp = fopen(config, "re");
	char *text = NULL;
	size_t tcap = 0;
	ssize_t got = fp ? getdelim(&text, &tcap, '\0', fp) : -1;
	if (fp)
		fclose(fp);
	snprintf(buf, cap, "%s/profile.ini", dir);
	int n = got >= 0 ? profcat_write(text, buf) : -1;
	free(text);
	if (n < 0) {
		fprintf(stderr, "txcache profile: %s: %s\n", got < 0 ? config : buf,
			strerror(errno));
		unlink(buf);
		return NULL;
	}
	if (n > 0)
		return buf;
	unlink(buf);
	return config;
}

/* Runs `txcache run -c CONFIG -- ARGV...` with TXCACHE_PROFILE=REPORT in
 * a child; returns its wait status, or -1. */
static int run_child(const char *config, const char *report, int argc, char **argv)
{
	char **av = calloc((size_t)argc + 5, sizeof(*av));
	if (!av)
		return -1;
	av[0] = "run";
	av[1] = "-c";
	av[2] = (char *)config;
	av[3] = "--";
	memcpy(av + 4, argv, (size_t)argc * sizeof(*av));
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		if (setenv("TXCACHE_PROFILE", report, 1) != 0)
			_exit(EX_OSERR);
		unsetenv("TXCACHE_DISABLE"); /* profile mode is never the cache */
		_exit(cmd_run(argc + 4, av));
	}
	free(av);
	/* as system(3): a ^C is for the program; the report still follows */
	struct sigaction ign = {.sa_handler = SIG_IGN}, oint, oquit;
	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGQUIT, &ign, &oquit);
	int st = 0;
	while (pid > 0 && waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			st = -1;
			break;
		}
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGQUIT, &oquit, NULL);
	return pid > 0 ? st : -1;
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The median of 21 "version" round trips to CFG's first server, in *US.
 * 0, or -1 when it does not answer. */
static int measure_rtt(const struct txc_config *cfg, double *us)
{
	double t[21];
	char line[256];
	FILE *f = cfg->nservers > 0 ? mcraw_open(&cfg->servers[0], 300) : NULL;
	if (!f)
		return -1;
	int n = 0;
	for (; n < 21; n++) {
		double t0 = now_us();
		if (mcraw_send(f, "version") != 0 || mcraw_line(f, line, sizeof(line)) < 0 ||
		    strncmp(line, "VERSION", 7) != 0)
			break;
		t[n] = now_us() - t0;
	}
	fclose(f);
	if (n < 21)
		return -1;
	qsort(t, 21, sizeof(*t), cmp_double);
	*us = t[10];
	return 0;
}

/* Fills O->rtt_us / O->assumed: --rtt, else measured, else assumed. */
static void pick_rtt(const struct popts *po, const char *config, bool builtin,
		     struct profrep_opts *o)
{
	struct txc_config *cfg = NULL;
	o->rtt_us = po->rtt_us;
	o->assumed = false;
	if (po->rtt_us >= 0)
		return;
	if (!builtin && cli_load_config(config, &cfg) == 0 && measure_rtt(cfg, &o->rtt_us) == 0) {
		config_free(cfg);
		return;
	}
	config_free(cfg);
	o->rtt_us = RTT_ASSUMED_US;
	o->assumed = true;
}

static int report(const char *file, const struct popts *po, struct profrep_opts *o)
{
	struct profrep *r = NULL;
	if (profrep_read(file, &r) != 0) {
		fprintf(stderr, "txcache profile: cannot read the report: %s\n", strerror(errno));
		return -1;
	}
	FILE *out = po->output ? fopen(po->output, "we") : stdout;
	if (!out) {
		fprintf(stderr, "txcache profile: %s: %s\n", po->output, strerror(errno));
		profrep_free(r);
		return -1;
	}
	if (profrep_processes(r) == 0)
		fprintf(stderr, "txcache profile: the shim reported nothing: it did not start "
				"(see the txcache: lines above)\n");
	profrep_print(r, o, out);
	int bad = po->output ? fclose(out) != 0 : fflush(out) != 0;
	if (bad)
		fprintf(stderr, "txcache profile: cannot write the report\n");
	profrep_free(r);
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
	char dir[4096], file[4200], cbuf[4200], pbuf[4200];
	if (make_dir(dir, sizeof(dir), file, sizeof(file)) != 0) {
		fprintf(stderr, "txcache profile: cannot make a report file: %s\n",
			strerror(errno));
		return EX_CANTCREAT;
	}
	const char *config = pick_config(po.config, dir, cbuf, sizeof(cbuf));
	const char *run = config ? with_catalogue(config, dir, pbuf, sizeof(pbuf)) : NULL;
	int st = run ? run_child(run, file, argc - first, argv + first) : -1;
	int rc = st == -1 ? EX_OSERR : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
	struct profrep_opts o = {.json = po.json, .program = argv[first]};
	pick_rtt(&po, config, config == cbuf, &o);
	if (st != -1 && report(file, &po, &o) != 0 && rc == 0)
		rc = EX_IOERR;
	unlink(file);
	if (config == cbuf)
		unlink(cbuf);
	if (run == pbuf)
		unlink(pbuf);
	rmdir(dir);
	return rc;
}
