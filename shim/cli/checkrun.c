/* checkrun.c - txcache check --run; see checkrun.h.
 *
 * Why a run: what `check PROGRAM` reads from the files is only the start.
 * A module dlopen()ed later (python3's extension modules, perl's XS
 * modules) is patched by the shim as it is loaded; only a run shows it.
 * The shim appends what it patched to the file TXCACHE_REPORT names (it
 * never creates it: this command makes it, 0600, in a private directory).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "checkrun.h"
#include "runchild.h"
#include "cli.h"

int checkrun_take_flag(int *argc, char **argv)
{
	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0 || argv[i][0] != '-')
			return 0;
		if (strcmp(argv[i], "--run") == 0) {
			memmove(&argv[i], &argv[i + 1], (size_t)(*argc - i) * sizeof(*argv));
			--*argc;
			return 1;
		}
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0)
			i++;
	}
	return 0;
}

/* One line of the report, split at tabs: F[0] is its type (P, R or S). */
struct rec {
	char *f[6];
	int nf;
};

struct report {
	struct rec *r;
	size_t n;
	char *text;
};

static int read_report(const char *path, struct report *rep)
{
	/* the whole file: the shim writes no NUL byte */
	if (cli_read_text(path, &rep->text) != 0)
		return -1;
	size_t len = strlen(rep->text);
	rep->r = calloc(len / 2 + 1, sizeof(*rep->r)); /* a line has 2 bytes or more */
	if (!rep->r)
		return -1;
	for (char *save = NULL, *line = strtok_r(rep->text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct rec *r = &rep->r[rep->n++];
		r->nf = cli_split_tabs(line, r->f, 6);
	}
	return 0;
}

static bool is(const struct rec *r, const char *type, int nf)
{
	return strcmp(r->f[0], type) == 0 && r->nf == nf;
}

/* R lines of process PID for the same module, loaded at the same time. */
static bool same_module(const struct rec *r, const struct rec *a, const char *pid)
{
	return is(r, "R", 6) && !strcmp(r->f[1], pid) && !strcmp(r->f[5], a->f[5]) &&
	       !strcmp(r->f[2], a->f[2]);
}

/* Prints the modules process PID (whose program is EXE) redirected: one
 * line per module, with each function's count. */
static void print_modules(const struct report *rep, const char *pid, const char *exe)
{
	for (size_t i = 0; i < rep->n; i++) {
		const struct rec *a = &rep->r[i];
		bool first = true;
		if (!is(a, "R", 6) || strcmp(a->f[1], pid) != 0)
			continue;
		for (size_t j = 0; j < i && first; j++)
			first = !same_module(&rep->r[j], a, pid);
		if (!first)
			continue;
		int total = 0;
		for (size_t j = i; j < rep->n; j++)
			if (same_module(&rep->r[j], a, pid))
				total += atoi(rep->r[j].f[3]);
		fprintf(stderr,
			"txcache check:   %s (%s): %d call site%s:", *a->f[5] ? a->f[5] : exe,
			strcmp(a->f[2], "later") == 0 ? "loaded later" : "at start", total,
			total == 1 ? "" : "s");
		for (size_t j = i; j < rep->n; j++)
			if (same_module(&rep->r[j], a, pid))
				fprintf(stderr, " %s %s", rep->r[j].f[4], rep->r[j].f[3]);
		fputc('\n', stderr);
	}
	for (size_t i = 0; i < rep->n; i++)
		if (is(&rep->r[i], "S", 4) && strcmp(rep->r[i].f[1], pid) == 0)
			fprintf(stderr,
				"txcache check:   %s: its dlsym got %s (the cached closure)\n",
				*rep->r[i].f[3] ? rep->r[i].f[3] : exe, rep->r[i].f[2]);
}

static bool redirected(const struct report *rep, const char *fn)
{
	for (size_t i = 0; i < rep->n; i++)
		if ((is(&rep->r[i], "R", 6) && strcmp(rep->r[i].f[4], fn) == 0) ||
		    (is(&rep->r[i], "S", 4) && strcmp(rep->r[i].f[2], fn) == 0))
			return true;
	return false;
}

static void print_report(const struct report *rep, const struct txc_config *cfg)
{
	int nproc = 0, ok = 0;
	for (size_t i = 0; i < rep->n; i++) {
		bool again = false; /* two threads of one process may both write it */
		for (size_t j = 0; j < i && !again && is(&rep->r[i], "P", 3); j++)
			again = is(&rep->r[j], "P", 3) && !strcmp(rep->r[j].f[1], rep->r[i].f[1]);
		if (!is(&rep->r[i], "P", 3) || again)
			continue;
		nproc++;
		fprintf(stderr, "txcache check: process %s (%s):\n", rep->r[i].f[1],
			rep->r[i].f[2]);
		print_modules(rep, rep->r[i].f[1], rep->r[i].f[2]);
	}
	if (nproc == 0) {
		fprintf(stderr, "txcache check: the shim reported nothing: it did not start (see "
				"the txcache: lines above, or log = info)\n");
		return;
	}
	for (int f = 0; f < cfg->nfns; f++) {
		const struct txc_fn_config *fn = &cfg->fns[f];
		if (redirected(rep, fn->sig.name)) {
			ok++;
			continue;
		}
		fprintf(stderr, "txcache check: never redirected: %s%s\n", fn->sig.name,
			fn->mode == TXC_MODE_OFF ? " (mode = off: left alone)" : "");
	}
	fprintf(stderr, "txcache check: %d of %d configured functions redirected in %d process%s\n",
		ok, cfg->nfns, nproc, nproc == 1 ? "" : "es");
}

int checkrun(int argc, char **argv)
{
	const char *given = NULL;
	int first = cli_common_opts(argc, argv, &given);
	if (first < 0)
		return EX_USAGE;
	if (first >= argc) {
		fprintf(stderr, "txcache check --run: no PROGRAM given\n");
		return EX_USAGE;
	}
	const char *path = cli_config_path(given);
	struct txc_config *cfg = NULL;
	int rc = cli_load_config(path, &cfg);
	if (rc != 0)
		return rc;
	char dir[4096], file[4200];
	if (runchild_report("check", dir, sizeof(dir), file, sizeof(file)) != 0) {
		fprintf(stderr, "txcache check --run: cannot make a report file: %s\n",
			strerror(errno));
		config_free(cfg);
		return EX_CANTCREAT;
	}
	int st = runchild_run(path, "TXCACHE_REPORT", file, argc - first, argv + first);
	struct report rep = {0};
	if (st == -1)
		rc = EX_OSERR;
	else if (WIFSIGNALED(st))
		rc = 128 + WTERMSIG(st);
	else
		rc = WEXITSTATUS(st);
	if (st != -1 && read_report(file, &rep) == 0)
		print_report(&rep, cfg);
	free(rep.text);
	free(rep.r);
	unlink(file);
	rmdir(dir);
	config_free(cfg);
	return rc;
}
