/* page.c - libpage.so; see page.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "page.h"

#define API __attribute__((visibility("default")))

static const char *db_path(void)
{
	const char *p = getenv("WEBPAGE_DB");
	return p && *p ? p : "/tmp/webpage.txt";
}

static void slow(void)
{
	const char *d = getenv("WEBPAGE_DELAY_MS");
	long ms = d && *d ? atol(d) : 1000;
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Finds USER's text in the file: copies it into TEXT (CAP bytes). */
static int lookup(const char *user, char *text, size_t cap)
{
	FILE *f = fopen(db_path(), "r");
	char line[1024];
	size_t n = strlen(user);
	int found = 0;
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, user, n) == 0 && line[n] == ' ') {
			line[strcspn(line, "\n")] = '\0';
			snprintf(text, cap, "%s", line + n + 1);
			found = 1;
		}
	}
	fclose(f);
	return found;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

API int page_render(int fd, const char *user)
{
	char text[900], body[2048];
	if (!user || strpbrk(user, " \t\r\n/<>&"))
		user = "";
	int found = *user && lookup(user, text, sizeof(text));
	slow();
	int n = found ? snprintf(body, sizeof(body),
				 "<!doctype html>\n<title>%s</title>\n<h1>%s</h1>\n<p>%s</p>\n",
				 user, user, text)
		      : snprintf(body, sizeof(body), "<!doctype html>\n<h1>no such user</h1>\n");
	if (dprintf(fd, "HTTP/1.0 %s\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n",
		    found ? "200 OK" : "404 Not Found", n) < 0)
		return -1;
	return write_all(fd, body, (size_t)n);
}

API int page_update(const char *user, const char *text)
{
	char tmp[4096], line[1024];
	size_t n;
	if (!user || !*user || strpbrk(user, " \t\r\n/<>&") || !text || strpbrk(text, "\n")) {
		errno = EINVAL;
		return -1;
	}
	n = strlen(user);
	snprintf(tmp, sizeof(tmp), "%s.tmp", db_path());
	FILE *in = fopen(db_path(), "r"), *out = fopen(tmp, "w");
	if (!out) {
		if (in)
			fclose(in);
		return -1;
	}
	while (in && fgets(line, sizeof(line), in))
		if (!(strncmp(line, user, n) == 0 && line[n] == ' '))
			fputs(line, out);
	fprintf(out, "%s %s\n", user, text);
	if (in)
		fclose(in);
	if (fclose(out) != 0 || rename(tmp, db_path()) != 0)
		return -1;
	return 0;
}
