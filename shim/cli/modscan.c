/* modscan.c - the modules a program loads at start (modscan.h). */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "modscan.h"
#include "shimpath.h"

#define MAX_LIBS 512

extern char **environ;

static int add_module(struct modscan *l, const char *path)
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
static int list_libraries(const char *interp, const char *path, struct modscan *l)
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
static void mark_never_patched(const char *cmd, const char *interp, struct modscan *prog)
{
	char shim[PATH_MAX];
	struct modscan deps = {.m = calloc(MAX_LIBS, sizeof(struct modscan_module))};
	if (!deps.m || shim_path_find(shim, sizeof(shim)) != 0 || add_module(&deps, shim) != 0 ||
	    list_libraries(interp, shim, &deps) != 0)
		fprintf(stderr,
			"%s: cannot list libtxcache.so's libraries; "
			"the loader and libc are assumed never patched\n",
			cmd);
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

int modscan_open(const char *cmd, const char *prog, struct modscan *s)
{
	struct elfscan *e = NULL;
	memset(s, 0, sizeof(*s));
	int rc = program_path(prog, s->program, sizeof(s->program));
	errno = ENOENT;
	if (rc == 0)
		rc = elfscan_open(s->program, &e);
	if (rc != 0) {
		fprintf(stderr, "%s: %s: %s\n", cmd, prog,
			rc == TXC_EINVAL ? "not an ELF file of this machine" : strerror(errno));
		return MODSCAN_NOINPUT;
	}
	char interp[PATH_MAX];
	const char *in = elfscan_interp(e);
	snprintf(interp, sizeof(interp), "%s", in ? in : "");
	if (!elfscan_is_dynamic(e) || !in) {
		printf("%s: statically linked: nothing can be intercepted\n", s->program);
		elfscan_close(e);
		return MODSCAN_STATIC;
	}
	elfscan_close(e);
	s->m = calloc(MAX_LIBS, sizeof(struct modscan_module));
	if (!s->m || add_module(s, s->program) != 0 || list_libraries(interp, s->program, s) != 0) {
		fprintf(stderr, "%s: %s: its loader %s cannot list its libraries\n", cmd,
			s->program, interp);
		modscan_close(s);
		return MODSCAN_NOLIST;
	}
	mark_never_patched(cmd, interp, s);
	for (size_t i = 0; i < s->n; i++)
		if (elfscan_open(s->m[i].path, &s->m[i].elf) != 0)
			fprintf(stderr, "%s: %s: cannot read it\n", cmd, s->m[i].path);
	return MODSCAN_OK;
}

void modscan_close(struct modscan *s)
{
	for (size_t i = 0; s->m && i < s->n; i++)
		elfscan_close(s->m[i].elf);
	free(s->m);
	s->m = NULL;
	s->n = 0;
}

const struct modscan_module *modscan_importer(const struct modscan *s, const char *name,
					      const char *version, const char *skip,
					      struct elfscan_use *use)
{
	for (size_t i = 0; i < s->n; i++) {
		if (!s->m[i].elf || s->m[i].never_patched || (skip && !strcmp(skip, s->m[i].path)))
			continue;
		elfscan_lookup(s->m[i].elf, name, version, use);
		if (use->via_got)
			return &s->m[i];
	}
	return NULL;
}
