/* redir.c - per-module tallies of the call sites each patch pass wrote;
 * see redir.h. Static tables only: a pass may run at load time, where
 * malloc may be a configured function. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "redir.h"

#define MAX_PASS_MODS 256
#define MAX_ENTRIES   1024
#define MAX_DLSYM_FNS 4096

struct tally {
	int mod; /* index into g_mods */
	int fn;
	int count;
};

struct pass_mod {
	const char *name; /* in g_arena */
	int count;
};

static const struct txc_config *g_cfg;
static int g_nfns;
static char g_report[PATH_MAX]; /* "" when TXCACHE_REPORT is unset */
static char g_exe[PATH_MAX];
static int g_report_failed; /* log_once */
static pid_t g_reported_pid;

/* This pass's tallies (under the caller's patch lock). */
static struct pass_mod g_mods[MAX_PASS_MODS];
static struct tally g_tally[MAX_ENTRIES];
static int g_nmods, g_ntally, g_lost;
static char g_arena[32 * 1024];
static size_t g_arena_used;

static unsigned char g_dlsym_seen[MAX_DLSYM_FNS]; /* atomic: pid low bits + 1 */

void redir_init(const struct txc_config *cfg)
{
	g_cfg = cfg;
	g_nfns = cfg ? cfg->nfns : 0;
	const char *r = secure_getenv("TXCACHE_REPORT");
	if (r && *r)
		snprintf(g_report, sizeof(g_report), "%s", r);
	/* only the report and the info/debug lines name the program: a
	 * readlink of /proc is a path walk that every start need not pay */
	g_exe[0] = '\0';
	if (!g_report[0] && !log_enabled(TXC_LOG_INFO))
		return;
	ssize_t len = readlink("/proc/self/exe", g_exe, sizeof(g_exe) - 1);
	g_exe[len > 0 ? len : 0] = '\0';
}

void redir_pass_begin(void)
{
	g_nmods = g_ntally = g_lost = 0;
	g_arena_used = 0;
}

/* The index of MODULE in this pass's list, added when new; -1 when full. */
static int mod_index(const char *module)
{
	for (int i = g_nmods - 1; i >= 0; i--)
		if (strcmp(g_mods[i].name, module) == 0)
			return i;
	size_t len = strlen(module) + 1;
	if (g_nmods == MAX_PASS_MODS || len > sizeof(g_arena) - g_arena_used)
		return -1;
	char *copy = g_arena + g_arena_used;
	memcpy(copy, module, len);
	g_arena_used += len;
	g_mods[g_nmods] = (struct pass_mod){copy, 0};
	return g_nmods++;
}

void redir_slot(const char *module, int fn)
{
	int m = mod_index(module ? module : "");
	if (m < 0 || fn < 0 || fn >= g_nfns) {
		g_lost++;
		return;
	}
	g_mods[m].count++;
	for (int i = g_ntally - 1; i >= 0; i--)
		if (g_tally[i].mod == m && g_tally[i].fn == fn) {
			g_tally[i].count++;
			return;
		}
	if (g_ntally == MAX_ENTRIES) {
		g_lost++;
		return;
	}
	g_tally[g_ntally++] = (struct tally){m, fn, 1};
}

/* Copies S into OUT (CAP bytes) with tabs and newlines as '?'. */
static const char *field(const char *s, char *out, size_t cap)
{
	size_t i = 0;
	for (; s[i] && i + 1 < cap; i++)
		out[i] = (s[i] == '\t' || s[i] == '\n') ? '?' : s[i];
	out[i] = '\0';
	return out;
}

/* Opens the report for append: an existing regular file. -1 when unset,
 * or after logging once why it cannot be. */
static int report_open(void)
{
	if (!g_report[0])
		return -1;
	int fd = open(g_report, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		return fd;
	log_once(&g_report_failed, TXC_LOG_WARN,
		 "TXCACHE_REPORT %s: not an existing regular file (%s); no report written",
		 g_report, fd < 0 ? strerror(errno) : "not a regular file");
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Writes LINE (LEN bytes as snprintf counted them into CAP): a truncated
 * line is left out whole. A failed write changes nothing else. */
static void report_line(int fd, const char *line, int len, size_t cap)
{
	if (len > 0 && (size_t)len < cap && write(fd, line, (size_t)len) < 0)
		(void)0;
}

/* "P PID EXE", once per process (a forked child writes its own). */
static void report_process(int fd)
{
	char line[PATH_MAX + 64], exe[PATH_MAX];
	pid_t pid = getpid();
	if (pid == g_reported_pid)
		return;
	g_reported_pid = pid;
	int len =
	    snprintf(line, sizeof(line), "P\t%d\t%s\n", (int)pid, field(g_exe, exe, sizeof(exe)));
	report_line(fd, line, len, sizeof(line));
}

static void report_pass(bool later)
{
	int fd = report_open();
	if (fd < 0)
		return;
	report_process(fd);
	char line[PATH_MAX + 512], fn[256], mod[PATH_MAX];
	for (int i = 0; i < g_ntally; i++) {
		const struct tally *t = &g_tally[i];
		int len = snprintf(line, sizeof(line), "R\t%d\t%s\t%d\t%s\t%s\n", (int)getpid(),
				   later ? "later" : "start", t->count,
				   field(g_cfg->fns[t->fn].sig.name, fn, sizeof(fn)),
				   field(g_mods[t->mod].name, mod, sizeof(mod)));
		report_line(fd, line, len, sizeof(line));
	}
	close(fd);
}

void redir_pass_end(bool later)
{
	int level = later ? TXC_LOG_INFO : TXC_LOG_DEBUG;
	for (int i = 0; i < g_nmods && log_enabled(level); i++) {
		const char *name = g_mods[i].name[0] ? g_mods[i].name : g_exe;
		log_msg(level, "redirected %d call site%s in %s (%s)", g_mods[i].count,
			g_mods[i].count == 1 ? "" : "s", name, later ? "loaded later" : "at start");
	}
	if (g_lost)
		log_msg(level, "redirected %d more call sites (not itemized)", g_lost);
	report_pass(later);
}

void redir_dlsym(int fn, const void *ra)
{
	if (!g_report[0] || fn < 0 || fn >= g_nfns || fn >= MAX_DLSYM_FNS)
		return;
	unsigned char mark = (unsigned char)(getpid() % 255 + 1);
	if (__atomic_exchange_n(&g_dlsym_seen[fn], mark, __ATOMIC_ACQ_REL) == mark)
		return;
	Dl_info info;
	struct link_map *lm = NULL;
	/* the main program's link map has the name "" (its dli_fname is argv[0]) */
	const char *from =
	    dladdr1(ra, &info, (void **)&lm, RTLD_DL_LINKMAP) && lm && lm->l_name ? lm->l_name : "";
	int fd = report_open();
	if (fd < 0)
		return;
	report_process(fd);
	char line[PATH_MAX + 512], name[256], mod[PATH_MAX];
	int len = snprintf(line, sizeof(line), "S\t%d\t%s\t%s\n", (int)getpid(),
			   field(g_cfg->fns[fn].sig.name, name, sizeof(name)),
			   field(from, mod, sizeof(mod)));
	report_line(fd, line, len, sizeof(line));
	close(fd);
}
