/* profcat.c - the profile config with the catalogue; see profcat.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "profcat.h"

/* ", NAME" for each catalogue file, in directory order, into *LIST
 * (malloc'ed; starts with ", " when not empty). Returns the count, or -1. */
static int list_names(char **list)
{
	size_t len = 0, cap = 256;
	int n = 0;
	*list = calloc(1, cap);
	DIR *d = opendir(catalogue_dir());
	if (!*list || !d) {
		if (d)
			closedir(d);
		return *list ? 0 : -1;
	}
	for (struct dirent *e = readdir(d); e; e = readdir(d)) {
		size_t l = strlen(e->d_name);
		char name[64];
		if (l < 5 || l - 4 >= sizeof(name) || strcmp(e->d_name + l - 4, ".ini") != 0)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(l - 4), e->d_name);
		if (!catalogue_name_ok(name))
			continue;
		if (len + l + 3 > cap) {
			char *grown = realloc(*list, cap = 2 * cap + l);
			if (!grown)
				break;
			*list = grown;
		}
		len += (size_t)sprintf(*list + len, ", %s", name);
		n++;
	}
	closedir(d);
	return n;
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
