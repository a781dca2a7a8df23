/* profrun.c - running a program once in profile mode and collecting its
 * report; see profrun.h.
 *
 * The report file is made here, 0600 in a private directory (mkdtemp), and
 * handed to the shim in TXCACHE_PROFILE; the shim only appends to it. The
 * program runs as `txcache run` runs it, in a child, with its own stdout,
 * stderr and exit status.
 */
#include <errno.h>
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
#include "profrun.h"
#include "runchild.h"

#define RTT_ASSUMED_US 6.0 /* a loopback get (shared notes: 5.3-6.6 us) */

/* Used when no config is given and none is at the default place: no
 * function has a known signature; every call is timed. */
static const char builtin_config[] = "[cache]\nservers = 127.0.0.1:11211\n";

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
	char *text = NULL;
	int got = cli_read_text(config, &text);
	snprintf(buf, cap, "%s/profile.ini", dir);
	int n = got == 0 ? profcat_write(text, buf) : -1;
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

/* Fills O->rtt_us / O->assumed: RTT_US when >= 0, else measured against
 * CONFIG's first server (not for the built-in config), else assumed. */
static void pick_rtt(double rtt_us, const char *config, bool builtin, struct profrep_opts *o)
{
	struct txc_config *cfg = NULL;
	o->rtt_us = rtt_us;
	o->assumed = false;
	o->given = rtt_us >= 0;
	if (rtt_us >= 0)
		return;
	if (!builtin && cli_load_config(config, &cfg) == 0 && measure_rtt(cfg, &o->rtt_us) == 0) {
		config_free(cfg);
		return;
	}
	config_free(cfg);
	o->rtt_us = RTT_ASSUMED_US;
	o->assumed = true;
}

int profile_collect(const char *given, double rtt_us, int argc, char **argv, struct profrep **rep,
		    struct profrep_opts *o)
{
	char dir[4096], file[4200], cbuf[4200], pbuf[4200];
	*rep = NULL;
	if (runchild_report("profile", dir, sizeof(dir), file, sizeof(file)) != 0) {
		fprintf(stderr, "txcache profile: cannot make a report file: %s\n",
			strerror(errno));
		return EX_CANTCREAT;
	}
	const char *config = pick_config(given, dir, cbuf, sizeof(cbuf));
	const char *run = config ? with_catalogue(config, dir, pbuf, sizeof(pbuf)) : NULL;
	/* profile mode is never the cache: TXCACHE_DISABLE does not apply to
	 * the program (and is put back for ours) */
	char *disable = getenv("TXCACHE_DISABLE") ? strdup(getenv("TXCACHE_DISABLE")) : NULL;
	unsetenv("TXCACHE_DISABLE");
	int st = run ? runchild_run(run, "TXCACHE_PROFILE", file, argc, argv) : -1;
	if (disable)
		setenv("TXCACHE_DISABLE", disable, 1);
	free(disable);
	int rc = st == -1 ? EX_OSERR : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
	o->program = argv[0];
	if (st != -1)
		pick_rtt(rtt_us, config, config == cbuf, o);
	if (st != -1 && profrep_read(file, rep) != 0) {
		fprintf(stderr, "txcache profile: cannot read the report: %s\n", strerror(errno));
		*rep = NULL;
	}
	unlink(file);
	if (config == cbuf)
		unlink(cbuf);
	if (run == pbuf)
		unlink(pbuf);
	rmdir(dir);
	return rc;
}

int profrun_parse_rtt(const char *cmd, const char *arg, double *us)
{
	char *end;
	errno = 0;
	*us = strtod(arg, &end);
	if (errno || end == arg || *end || !(*us >= 0) || *us > 1e7) {
		fprintf(stderr, "%s: --rtt %s: not a number of microseconds (0 to 10000000)\n", cmd,
			arg);
		return -1;
	}
	return 0;
}
