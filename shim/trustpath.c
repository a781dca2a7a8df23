/* trustpath.c - refuses a file that others could have written or replaced
 * (the contract is in trustpath.h).
 *
 * The path is resolved here component by component, from / down, rather
 * than with realpath(): each directory met on the way (the real ones, and
 * those holding the symlinks followed) is what decides who could have put
 * another file under this name, so each is checked as it is entered. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "trustpath.h"

#define MAX_LINKS 40 /* as the kernel's ELOOP limit */

struct walk {
	char cur[PATH_MAX];	 /* resolved so far: absolute, no symlinks */
	char rest[2 * PATH_MAX]; /* still to resolve, relative to cur */
	char next[PATH_MAX];	 /* scratch: cur plus one component */
	char target[PATH_MAX];	 /* scratch: a symlink's target */
	struct stat last;	 /* what cur is */
	struct stat file;	 /* what the caller opened */
	int links;		 /* symlinks followed */
	uid_t euid;
	char *msg;
	size_t msglen;
};

__attribute__((format(printf, 2, 3))) static int refuse(struct walk *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->msg, w->msglen, fmt, ap);
	va_end(ap);
	return TXC_ECONFIG;
}

static bool is_pipe(const struct stat *st)
{
	return S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode);
}

static bool owner_ok(const struct walk *w, uid_t uid)
{
	return uid == w->euid || uid == 0;
}

/* A directory others can write lets them rename or replace what is in it,
 * unless it is sticky and owned by someone we trust (like /tmp). */
static int check_dir(struct walk *w, const char *dir, const struct stat *st)
{
	if (!owner_ok(w, st->st_uid))
		return refuse(
		    w, "refusing a config under %s, a directory owned by uid %u (not you or root)",
		    dir, (unsigned)st->st_uid);
#ifdef TXC_MUTANT_TRUST_DIR /* make mutants: any directory counts as sticky */
	if (0)
#else
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX))
#endif
		return refuse(w,
			      "refusing a config under %s, a directory others can write (mode "
			      "%04o, not sticky)",
			      dir, (unsigned)(st->st_mode & 07777));
	return 0;
}

/* Takes the next component of w->rest into COMP (empty at the end). */
static int next_component(struct walk *w, char *comp, size_t cap)
{
	char *p = w->rest;
	while (*p == '/')
		p++;
	size_t n = strcspn(p, "/");
	if (n >= cap || n > NAME_MAX)
		return refuse(w, "cannot resolve the config's path: a component is too long");
	memcpy(comp, p, n);
	comp[n] = '\0';
	memmove(w->rest, p + n, strlen(p + n) + 1);
	return 0;
}

/* Follows the symlink LINK (in the directory cur, already checked): its
 * target goes in front of what is left to resolve. */
static int follow(struct walk *w, const char *link, const struct stat *st)
{
	if (!owner_ok(w, st->st_uid))
		return refuse(w,
			      "refusing a config reached through %s, a symlink owned by uid %u "
			      "(not you or root)",
			      link, (unsigned)st->st_uid);
	if (++w->links > MAX_LINKS)
		return refuse(w, "cannot resolve the config's path: too many symlinks");
	char *target = w->target;
	ssize_t n = readlink(link, target, sizeof(w->target) - 1);
	if (n <= 0)
		return refuse(w, "cannot resolve the config's path: %s: %s", link,
			      n < 0 ? strerror(errno) : "empty symlink");
	target[n] = '\0';
	size_t tlen = (size_t)n, rlen = strlen(w->rest);
	if (tlen + 1 + rlen >= sizeof(w->rest))
		return refuse(w, "cannot resolve the config's path: too long");
	memmove(w->rest + tlen + 1, w->rest, rlen + 1);
	memcpy(w->rest, target, tlen);
	w->rest[tlen] = '/';
	if (target[0] == '/')
		snprintf(w->cur, sizeof(w->cur), "/");
	return 0;
}

/* Drops the last component of cur (cur has no symlinks, so ".." is plain). */
static void go_up(struct walk *w)
{
	char *slash = strrchr(w->cur, '/');
	if (slash && slash != w->cur)
		*slash = '\0';
	else
		snprintf(w->cur, sizeof(w->cur), "/");
}

/* Resolves one component COMP: a directory is checked and entered, a
 * symlink followed, anything else must be the last component. */
static int step(struct walk *w, const char *comp, bool *anon)
{
	if (strcmp(comp, ".") == 0)
		return 0;
	if (strcmp(comp, "..") == 0) {
		go_up(w);
		return stat(w->cur, &w->last) == 0 ? 0
						   : refuse(w, "cannot resolve the config's path");
	}
	char *next = w->next;
	int len =
	    snprintf(next, sizeof(w->next), "%s%s%s", w->cur, strcmp(w->cur, "/") ? "/" : "", comp);
	if (len < 0 || (size_t)len >= sizeof(w->next))
		return refuse(w, "cannot resolve the config's path: too long");
	struct stat st;
	if (lstat(next, &st) != 0) {
		/* /dev/stdin on a pipe: /proc/self/fd/0 -> "pipe:[N]" names nothing */
		if (is_pipe(&w->file) && strncmp(w->cur, "/proc/", 6) == 0) {
			*anon = true;
			return 0;
		}
		return refuse(w, "cannot resolve the config's path: %s: %s", next, strerror(errno));
	}
	if (S_ISLNK(st.st_mode))
		return follow(w, next, &st);
	if (S_ISDIR(st.st_mode)) {
		int rc = check_dir(w, next, &st);
		if (rc)
			return rc;
	} else if (w->rest[strspn(w->rest, "/")] != '\0') {
		return refuse(w, "cannot resolve the config's path: %s: not a directory", next);
	}
	memcpy(w->cur, next, (size_t)len + 1);
	w->last = st;
	return 0;
}

static int start_walk(struct walk *w, const char *path)
{
	char *cwd = w->next; /* scratch until the walk starts */
	cwd[0] = '\0';
	if (path[0] != '/' && !getcwd(cwd, sizeof(w->next)))
		return refuse(w, "cannot resolve the config's path: the working directory: %s",
			      strerror(errno));
	int len = snprintf(w->rest, sizeof(w->rest), "%s/%s", cwd, path);
	if (len < 0 || (size_t)len >= sizeof(w->rest))
		return refuse(w, "cannot resolve the config's path: too long");
	snprintf(w->cur, sizeof(w->cur), "/");
	if (lstat("/", &w->last) != 0)
		return refuse(w, "cannot resolve the config's path: /: %s", strerror(errno));
	return check_dir(w, "/", &w->last);
}

/* The file itself, as opened: nobody but its owner (us or root) may write. */
static int check_file(struct walk *w, const struct stat *st)
{
	if (!owner_ok(w, st->st_uid))
		return refuse(w, "refusing a config owned by uid %u (not you or root)",
			      (unsigned)st->st_uid);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return refuse(w, "refusing a config that others can write (mode %04o)",
			      (unsigned)(st->st_mode & 07777));
	return 0;
}

static int walk_path(struct walk *w, const char *path)
{
	bool anon = false;
	int rc = start_walk(w, path);
	while (rc == 0 && !anon) {
		char comp[NAME_MAX + 1];
		rc = next_component(w, comp, sizeof(comp));
		if (rc || !comp[0])
			break;
		rc = step(w, comp, &anon);
	}
	if (rc || anon) /* an anonymous pipe has no directory to check */
		return rc;
	if (w->last.st_dev != w->file.st_dev || w->last.st_ino != w->file.st_ino)
		return refuse(w, "refusing a config that was replaced while it was checked");
	return 0;
}

int trust_path_check(const char *path, int fd, char *msg, size_t msglen)
{
	int saved = errno;
	char scratch[2];
	if (!msg || msglen == 0) {
		msg = scratch;
		msglen = sizeof(scratch);
	}
	msg[0] = '\0';
	struct walk *w = calloc(1, sizeof(*w)); /* 20 KiB: too big for a small thread stack */
	if (!w) {
		snprintf(msg, msglen, "cannot check the config: out of memory");
		errno = saved;
		return TXC_ENOMEM;
	}
	w->euid = geteuid();
	w->msg = msg;
	w->msglen = msglen;
	int rc;
	if (!path || !*path || fstat(fd, &w->file) != 0)
		rc = refuse(w, "cannot check the config: %s",
			    path && *path ? strerror(errno) : "no path");
	else
		rc = check_file(w, &w->file);
	if (rc == 0)
		rc = walk_path(w, path);
	free(w);
	errno = saved;
	return rc;
}
