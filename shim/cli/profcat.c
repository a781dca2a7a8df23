/* profcat.c - the profile config with the catalogue; see profcat.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "catscan.h"
#include "profcat.h"

/* ", NAME" for each catalogue file with an entry (catscan.h: sorted by
 * name) into *LIST (malloc'ed; starts with ", " when not empty). Returns
 * the count (0: no catalogue), or -1. */
static int list_names(char **list)
{
	struct catscan c;
	size_t len = 0;
	int n = 0;
	*list = NULL;
	if (catscan_read(catalogue_dir(), &c) != 0)
		return (*list = calloc(1, 1)) ? 0 : -1;
	/* every name fits: at most "NAME, " per entry */
	*list = calloc(c.n + 1, CATSCAN_NAME_MAX + 2);
	for (size_t i = 0; *list && i < c.n; i++) {
		if (i > 0 && strcmp(c.e[i].cat, c.e[i - 1].cat) == 0)
			continue;
		len += (size_t)sprintf(*list + len, ", %s", c.e[i].cat);
		n++;
	}
	catscan_free(&c);
	return *list ? n : -1;
}

/* The end of the [cache] header line in TEXT, or NULL. */
static const char *cache_line_end(const char *text)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *q = p + strspn(p, " \t");
		if (strncmp(q, "[cache]", 7) == 0)
			return q + strcspn(q, "\n");
	}
	return NULL;
}

/* The end of the include = line of the [cache] section after AT, or NULL. */
static const char *include_end(const char *at)
{
	for (const char *p = strchr(at, '\n'); p; p = strchr(p + 1, '\n')) {
		const char *q = p + 1 + strspn(p + 1, " \t");
		if (*q == '[')
			return NULL;
		if (strncmp(q, "include", 7) == 0 && q[7 + strspn(q + 7, " \t")] == '=')
			return q + strcspn(q, "\n");
	}
	return NULL;
}

int profcat_write(const char *text, const char *out)
{
	char *names = NULL;
	int n = list_names(&names);
	FILE *fp = n >= 0 ? fopen(out, "wx") : NULL;
	if (!fp) {
		free(names);
		return -1;
	}
	const char *cache = n > 0 ? cache_line_end(text) : NULL;
	const char *inc = cache ? include_end(cache) : NULL;
	if (inc) /* the user's include = NAME..., then the others */
		fprintf(fp, "%.*s%s%s", (int)(inc - text), text, names, inc);
	else if (cache)
		fprintf(fp, "%.*s\ninclude = %s%s", (int)(cache - text), text, names + 2, cache);
	else
		fputs(text, fp);
	free(names);
	int bad = ferror(fp);
	if (fclose(fp) != 0 || bad)
		return -1;
	return cache ? n : 0;
}
