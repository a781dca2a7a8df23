/* slowdb.c - see slowdb.h. */
#define _GNU_SOURCE
#include "slowdb.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLOWDB_DEFAULT_FILE	"/tmp/slowdb.txt"
#define SLOWDB_DEFAULT_DELAY_MS 2000

static const char *db_path(void)
{
	const char *p = getenv("SLOWDB_FILE");

	return p && *p ? p : SLOWDB_DEFAULT_FILE;
}

/* The "heavy request": a server far away, a slow query. */
static void db_delay(void)
{
	const char *s = getenv("SLOWDB_DELAY_MS");
	long ms = s && *s ? strtol(s, NULL, 10) : SLOWDB_DEFAULT_DELAY_MS;
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Users and emails are single words: the file format has no quoting. */
static int valid_word(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (isspace((unsigned char)*s))
			return 0;
	return 1;
}

/* Splits LINE (newline removed) into its user and email fields in place.
 * Returns 0, or -1 for a line that is not "USER EMAIL". */
static int split_line(char *line, char **user, char **email)
{
	char *sp;

	line[strcspn(line, "\n")] = '\0';
	sp = strchr(line, ' ');
	if (!sp || sp == line || !sp[1])
		return -1;
	*sp = '\0';
	*user = line;
	*email = sp + 1;
	return 0;
}

int db_get(const char *user, char *email, size_t cap)
{
	char *line = NULL, *u, *e;
	size_t n = 0, len;
	int ret = -1;
	FILE *f;

	db_delay();
	if (!valid_word(user))
		return -1;
	f = fopen(db_path(), "re");
	if (!f)
		return errno == ENOENT ? -1 : -3;
	while (getline(&line, &n, f) != -1) {
		if (split_line(line, &u, &e) != 0 || strcmp(u, user) != 0)
			continue;
		len = strlen(e);
		if (cap > 0)
			snprintf(email, cap, "%s", e);
		ret = len < cap ? (int)len : -2;
		break;
	}
	if (ferror(f))
		ret = -3;
	free(line);
	fclose(f);
	return ret;
}

/* Copies every line of IN to OUT, with USER's line replaced (or appended).
 * Returns 0, or -1 on a read or write error. */
static int rewrite(FILE *in, FILE *out, const char *user, const char *email)
{
	char *line = NULL, *copy, *u, *e;
	size_t n = 0;
	int found = 0, ret = 0;

	while (in && getline(&line, &n, in) != -1) {
		copy = strdup(line);
		if (!copy) {
			ret = -1;
			break;
		}
		if (split_line(copy, &u, &e) == 0 && strcmp(u, user) == 0) {
			if (!found)
				fprintf(out, "%s %s\n", user, email);
			found = 1;
		} else {
			fputs(line, out);
		}
		free(copy);
	}
	if (!found)
		fprintf(out, "%s %s\n", user, email);
	if (in && ferror(in))
		ret = -1;
	free(line);
	return ret;
}

int db_set(const char *user, const char *email)
{
	const char *path = db_path();
	char *tmp = NULL;
	FILE *in, *out;
	int fd, ret;

	if (!valid_word(user) || !valid_word(email)) {
		errno = EINVAL;
		return -1;
	}
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -1;
	fd = mkstemp(tmp);
	if (fd < 0 || !(out = fdopen(fd, "w"))) {
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return -1;
	}
	in = fopen(path, "re");
	ret = (in || errno == ENOENT) ? rewrite(in, out, user, email) : -1;
	if (in)
		fclose(in);
	if (fclose(out) != 0)
		ret = -1;
	if (ret == 0 && rename(tmp, path) != 0)
		ret = -1;
	if (ret != 0)
		unlink(tmp);
	free(tmp);
	return ret;
}
