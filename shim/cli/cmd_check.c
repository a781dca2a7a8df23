/* cmd_check.c - txcache check: validate a config, and with PROGRAM, say
 * which configured functions the shim can intercept in it.
 *
 * The shim rewrites GOT slots (JUMP_SLOT and GLOB_DAT relocations), so a
 * function can be intercepted in PROGRAM when PROGRAM or a library it loads
 * at start has such a slot for it, outside the modules the shim never
 * patches (its own dependencies: libc, the loader, libffi, libmemcached...).
 * The libraries and their order come from the program's own loader in list
 * mode (`ld.so --list`, what ldd runs); their symbols from the files.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "catalogue.h"
#include "checkrun.h"
#include "cli.h"
#include "elfscan.h"
#include "err.h"
#include "shimpath.h"

#define MAX_LIBS 512

extern char **environ;

struct module {
	char path[PATH_MAX];
	struct elfscan *elf;
	bool never_patched;
};

struct modlist {
	struct module *m;
	size_t n;
};

static int add_module(struct modlist *l, const char *path)
{
	char real[PATH_MAX];
	if (l->n == MAX_LIBS || !realpath(path, real))
		return -1;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->m[i].path, real) == 0)
			return 0;
	snprintf(l->m[l->n].path, sizeof(l->m[l->n].path), "%s", real);
	l->n++;
	return 0;
}

/* One line of `ld.so --list`: "\tlibx.so.1 => /path (0x...)" or
 * "\t/path (0x...)". Returns the path in LINE, or NULL. */
static char *listed_path(char *line)
{
	char *arrow = strstr(line, "=> ");
	char *p = arrow ? arrow + 3 : line + strspn(line, " \t");
	if (*p != '/')
		return NULL;
	char *end = strstr(p, " (0x");
	if (end)
		*end = '\0';
	else
		p[strcspn(p, "\n")] = '\0';
	return p;
}

/* The environment without LD_PRELOAD and LD_AUDIT: the list is what the
 * program loads by itself. */
static char **clean_env(void)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 1, sizeof(*env));
	for (size_t i = 0, k = 0; env && i < n; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) && strncmp(environ[i], "LD_AUDIT=", 9))
			env[k++] = environ[i];
	return env;
}

/* Appends the libraries PATH loads at start, in the loader's order. */
static int list_libraries(const char *interp, const char *path, struct modlist *l)
{
	int fds[2];
	char **env = clean_env();
	if (!env || pipe(fds) != 0) {
		free(env);
		return -1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	char *const args[] = {(char *)interp, "--list", (char *)path, NULL};
	pid_t pid;
	int rc = posix_spawn(&pid, interp, &fa, NULL, args, env);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	close(fds[1]);
	FILE *f = rc == 0 ? fdopen(fds[0], "r") : NULL;
	char line[PATH_MAX + 128];
	while (f && fgets(line, sizeof(line), f)) {
		char *p = listed_path(line);
		if (p)
			add_module(l, p);
	}
	f ? fclose(f) : close(fds[0]);
	int st = 0;
	if (rc != 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return 0;
}

/* Marks the shim's own dependency closure: never patched. */
static void mark_never_patched(const char *interp, struct modlist *prog)
{
	char shim[PATH_MAX];
	struct modlist deps = {calloc(MAX_LIBS, sizeof(struct module)), 0};
	if (!deps.m || shim_path_find(shim, sizeof(shim)) != 0 || add_module(&deps, shim) != 0 ||
	    list_libraries(interp, shim, &deps) != 0)
		fprintf(stderr, "txcache check: cannot list libtxcache.so's libraries; "
				"the loader and libc are assumed never patched\n");
	for (size_t i = 0; i < prog->n; i++) {
		const char *b = strrchr(prog->m[i].path, '/') + 1;
		prog->m[i].never_patched =
		    i > 0 && (strncmp(b, "ld-linux", 8) == 0 || strncmp(b, "libc.so", 7) == 0);
		for (size_t j = 0; j < deps.n; j++)
			if (strcmp(prog->m[i].path, deps.m[j].path) == 0)
				prog->m[i].never_patched = true;
	}
	free(deps.m);
}

/* "libfoo", "libfoo.so" or "libfoo.so.1" names the file libfoo.so.1. */
static bool library_matches(const char *want, const char *path)
{
	const char *b = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n = strlen(want);
	return strncmp(b, want, n) == 0 && (b[n] == '\0' || b[n] == '.');
}

/* Prints one function's verdict. Returns 1 when it can be intercepted. */
static int judge(const struct modlist *l, const struct txc_fn_config *fn)
{
	const char *name = fn->sig.name, *ver = fn->version;
	const struct module *def = NULL, *got = NULL, *got_skipped = NULL;
	struct elfscan_use use, def_use = {0}, got_use = {0};
	for (size_t i = 0; i < l->n; i++) {
		if (!l->m[i].elf)
			continue;
		elfscan_lookup(l->m[i].elf, name, ver, &use);
		if (use.defined && !def) {
			def = &l->m[i];
			def_use = use;
		}
		if (use.via_got && !l->m[i].never_patched && !got) {
			got = &l->m[i];
			got_use = use;
		} else if (use.via_got && l->m[i].never_patched && !got_skipped) {
			got_skipped = &l->m[i];
		}
	}
	const char *v = *ver ? ver : got ? got_use.got_version : def ? def_use.def_version : "";
	printf("%s%s%s: ", name, *v ? "@" : "", v);
	if (*fn->library && def && !library_matches(fn->library, def->path)) {
		printf("not interceptable: library = %s, but %s defines it\n", fn->library,
		       def->path);
		return 0;
	}
	if (got) {
		printf("interceptable: imported by %s%s\n", got->path,
		       fn->mode == TXC_MODE_OFF ? " (mode = off: left alone)" : "");
		return 1;
	}
	/* what a module dlopen()ed later imports is patched too: only the
	 * start is known here (`check --run` tells what a run patched) */
	if (got_skipped)
		printf("not seen at start: only %s (never patched) calls it through its GOT; "
		       "may be imported by a library loaded later (dlopen)\n",
		       got_skipped->path);
	else if (def)
		printf("not seen at start: defined in %s (whose own calls are direct), imported "
		       "by nothing loaded at start; may be imported by a library loaded later "
		       "(dlopen)\n",
		       def->path);
	else
		printf("not seen at start: may be imported by a library loaded later (dlopen)\n");
	return 0;
}

/* The shim sees only the namespace it was preloaded into: a module that
 * calls dlmopen may load others it never patches. Says so once. */
static void note_dlmopen(const struct modlist *l)
{
	struct elfscan_use use;
	for (size_t i = 0; i < l->n; i++) {
		if (!l->m[i].elf || l->m[i].never_patched)
			continue;
		elfscan_lookup(l->m[i].elf, "dlmopen", "", &use);
		if (use.via_got) {
			printf("note: %s calls dlmopen: modules in other namespaces are never "
			       "patched, their calls are not cached\n",
			       l->m[i].path);
			return;
		}
	}
}

/* Finds PROG along PATH when it has no slash, as execvp would. */
static int program_path(const char *prog, char *out, size_t cap)
{
	const char *path = getenv("PATH");
	if (strchr(prog, '/') || !path) {
		snprintf(out, cap, "%s", prog);
		return 0;
	}
	for (const char *p = path; *p;) {
		size_t len = strcspn(p, ":");
		snprintf(out, cap, "%.*s/%s", (int)len, p, prog);
		if (access(out, X_OK) == 0)
			return 0;
		p += len + (p[len] == ':');
	}
	return -1;
}

static int check_program(const struct txc_config *cfg, const char *prog)
{
	char path[PATH_MAX];
	struct elfscan *e = NULL;
	int rc = program_path(prog, path, sizeof(path));
	errno = ENOENT;
	if (rc == 0)
		rc = elfscan_open(path, &e);
	if (rc != 0) {
		fprintf(stderr, "txcache check: %s: %s\n", prog,
			rc == TXC_EINVAL ? "not an ELF file of this machine" : strerror(errno));
		return EX_NOINPUT;
	}
	char interp[PATH_MAX];
	const char *in = elfscan_interp(e);
	snprintf(interp, sizeof(interp), "%s", in ? in : "");
	if (!elfscan_is_dynamic(e) || !in) {
		printf("%s: statically linked: nothing can be intercepted\n", path);
		elfscan_close(e);
		return 1;
	}
	struct modlist l = {calloc(MAX_LIBS, sizeof(struct module)), 0};
	if (!l.m || add_module(&l, path) != 0 || list_libraries(interp, path, &l) != 0) {
		fprintf(stderr, "txcache check: %s: its loader %s cannot list its libraries\n",
			path, interp);
		free(l.m);
		elfscan_close(e);
		return EX_DATAERR;
	}
	elfscan_close(e);
	mark_never_patched(interp, &l);
	for (size_t i = 0; i < l.n; i++)
		if (elfscan_open(l.m[i].path, &l.m[i].elf) != 0)
			fprintf(stderr, "txcache check: %s: cannot read it\n", l.m[i].path);
	int ok = 0;
	for (int i = 0; i < cfg->nfns; i++)
		ok += judge(&l, &cfg->fns[i]);
	note_dlmopen(&l);
	printf("%d of %d configured functions can be intercepted in %s%s\n", ok, cfg->nfns, path,
	       ok < cfg->nfns ? " at start (txcache check --run tells what a run redirects)" : "");
	for (size_t i = 0; i < l.n; i++)
		elfscan_close(l.m[i].elf);
	free(l.m);
	return ok > 0 ? EX_OK : 1;
}

/* Prints the start of a warning about parameter I of function F:
 * "PATH:LINE: warning: NAME: WHAT N (param)". */
static void warn_param(const struct txc_config *cfg, const char *path, int f, int i,
		       const char *what)
{
	const struct txc_sig *sig = &cfg->fns[f].sig;
	const char *name = sig->params[i].name;
	fprintf(stderr, "%s:%d: warning: %s: %s %d%s%s%s", path, cfg->fns[f].line, sig->name, what,
		i + 1, name[0] ? " (" : "", name, name[0] ? ")" : "");
}

/* A plain ptr is passed through unkeyed: two calls that differ only there
 * share one result. Say so for each one, with the way out. */
static void warn_plain_ptrs(const struct txc_config *cfg, const char *path)
{
	for (int f = 0; f < cfg->nfns; f++) {
		const struct txc_sig *sig = &cfg->fns[f].sig;
		for (int i = 0; i < sig->nparams; i++)
			if (sig->params[i].kind == TXC_K_PTR) {
				warn_param(cfg, path, f, i, "parameter");
				fprintf(
				    stderr,
				    " is a plain ptr: a pointer that is not keyed must not "
				    "change the result and must not be written by the function "
				    "(a pointer into a library's constant data or code can be a "
				    "symptr)\n");
			}
	}
}

/* A server only this machine reaches: a unix socket, 127.0.0.0/8, or
 * localhost (servers = takes no IPv6 literal). Any other name may resolve
 * anywhere. */
static bool server_is_local(const struct txc_server *s)
{
	struct in_addr a4;
	if (s->is_socket || strcasecmp(s->host, "localhost") == 0)
		return true;
	return inet_pton(AF_INET, s->host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

/* Without secret_file a key is an unkeyed hash of the arguments and a value
 * plain bytes: whoever reaches a remote memcached can list the keys, test
 * guesses of a string argument (a password) at hashing speed, and read the
 * results. Says so for each function keyed by a string, bytes or file
 * argument, when a server is not local. */
static void warn_exposed_args(const struct txc_config *cfg, const char *path)
{
	const struct txc_server *remote = NULL;
	for (int i = 0; i < cfg->nservers && !remote; i++)
		if (!server_is_local(&cfg->servers[i]))
			remote = &cfg->servers[i];
	if (!remote || cfg->secret_file[0])
		return;
	for (int f = 0; f < cfg->nfns; f++) {
		const struct txc_sig *sig = &cfg->fns[f].sig;
		int p = 0;
		while (p < sig->nparams &&
		       !(sig->params[p].keyed && (sig->params[p].kind == TXC_K_STRING ||
						  sig->params[p].kind == TXC_K_BYTES ||
						  sig_kind_is_file(sig->params[p].kind))))
			p++;
		if (p == sig->nparams || cfg->fns[f].mode == TXC_MODE_OFF)
			continue;
		warn_param(cfg, path, f, p, "its string/bytes argument");
		fprintf(stderr,
			" goes to %s, which is not a local socket or loopback, without "
			"secret_file: whoever can reach that memcached can test guesses of it "
			"against the keys and read the results\n",
			remote->host);
	}
}

/* The entries include = and from = took from the catalogue, one a line:
 * a user reads what the config really holds. */
static void show_included(const struct txc_config *cfg, const char *path)
{
	char cat[4096];
	for (int f = 0; f < cfg->nfns; f++) {
		const struct txc_fn_config *fc = &cfg->fns[f];
		if (fc->from[0] && catalogue_path(fc->from, cat, sizeof(cat)) == 0)
			printf("%s:%d: %s: from catalogue %s (%s)\n", path, fc->line, fc->sig.name,
			       fc->from, cat);
	}
}

int cmd_check(int argc, char **argv)
{
	if (checkrun_take_flag(&argc, argv))
		return checkrun(argc, argv);
	const char *given = NULL;
	int first = cli_common_opts(argc, argv, &given);
	if (first < 0)
		return EX_USAGE;
	if (first + 1 < argc) {
		fprintf(stderr, "txcache check: one PROGRAM at most\n");
		return EX_USAGE;
	}
	const char *path = cli_config_path(given);
	struct txc_config *cfg = NULL;
	int rc = cli_load_config(path, &cfg);
	if (rc != 0)
		return rc;
	warn_plain_ptrs(cfg, path);
	warn_exposed_args(cfg, path);
	show_included(cfg, path);
	if (first < argc) {
		rc = check_program(cfg, argv[first]);
	} else {
		printf("%s: ok: %d function%s, namespace %s, %d server%s\n", path, cfg->nfns,
		       cfg->nfns == 1 ? "" : "s", cfg->ns, cfg->nservers,
		       cfg->nservers == 1 ? "" : "s");
	}
	config_free(cfg);
	return rc;
}
