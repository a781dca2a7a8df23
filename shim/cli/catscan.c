/* catscan.c - the catalogue's entries by name (catscan.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "catscan.h"
#include "err.h"

#define MAX_ENTRIES 4096

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* "[function crc32]" -> "crc32"; "[catalogue]" -> ""; NULL otherwise. */
static const char *section_name(char *line, int *is_catalogue)
{
	size_t n = strlen(line);
	*is_catalogue = 0;
	if (line[0] != '[' || line[n - 1] != ']')
		return NULL;
	line[n - 1] = '\0';
	char *s = trim(line + 1);
	if (strcmp(s, "catalogue") == 0) {
		*is_catalogue = 1;
		return "";
	}
	if (strncmp(s, "function", 8) != 0 || !isspace((unsigned char)s[8]))
		return NULL;
	return trim(s + 8);
}

/* Adds LINE to the entry's comment DOC: the first of its own lines replaces
 * the fallback (the comment above the section); the others follow on new
 * lines. A comment that does not fit is cut at a line. */
static void append_line(char *doc, size_t cap, const char *line, int *own)
{
	size_t n = *own ? strlen(doc) : 0;
	if (n + strlen(line) + 2 > cap)
		return;
	snprintf(doc + n, cap - n, "%s%s", n ? "\n" : "", line);
	*own = 1;
}

static int read_file(const char *dir, const char *file, struct catscan *c)
{
	char path[4096], line[1024], doc[CATSCAN_DOC_MAX] = "", library[CATSCAN_NAME_MAX] = "";
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "txcache: %s: %s\n", path, strerror(errno));
		return 0;
	}
	size_t first = c->n;
	int in_catalogue = 0;
	/* the entry whose own comment (first lines of its section) is still
	 * awaited; a comment above the section is the fallback */
	struct catscan_entry *cur = NULL;
	int cur_own = 0;
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line);
		int is_cat;
		const char *fn;
		if (*s == ';' || *s == '#') {
			if (cur)
				append_line(cur->doc, sizeof(cur->doc), trim(s + 1), &cur_own);
			else if (!doc[0])
				snprintf(doc, sizeof(doc), "%s", trim(s + 1));
		} else if ((fn = section_name(s, &is_cat)) != NULL) {
			in_catalogue = is_cat;
			cur = NULL;
			if (!is_cat && *fn && c->n < MAX_ENTRIES) {
				cur = &c->e[c->n++];
				snprintf(cur->cat, sizeof(cur->cat), "%.*s",
					 (int)(strlen(file) - 4), file);
				snprintf(cur->fn, sizeof(cur->fn), "%s", fn);
				snprintf(cur->doc, sizeof(cur->doc), "%s", doc);
				cur_own = 0;
			}
			doc[0] = '\0';
		} else if (*s) {
			doc[0] = '\0';
			cur = NULL;
			char *eq = strchr(s, '=');
			if (in_catalogue && eq) {
				*eq = '\0';
				if (strcmp(trim(s), "library") == 0)
					snprintf(library, sizeof(library), "%s", trim(eq + 1));
			}
		}
	}
	fclose(f);
	for (size_t i = first; i < c->n; i++)
		snprintf(c->e[i].library, sizeof(c->e[i].library), "%s", library);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* NAME.ini with a NAME that `include =` and `from =` can name */
static int is_ini(const struct dirent *d)
{
	char name[CATSCAN_NAME_MAX];
	size_t n = strlen(d->d_name);
	if (n <= 4 || n - 4 >= sizeof(name) || strcmp(d->d_name + n - 4, ".ini") != 0)
		return 0;
	snprintf(name, sizeof(name), "%.*s", (int)(n - 4), d->d_name);
	return catalogue_name_ok(name);
}

int catscan_read(const char *dir, struct catscan *c)
{
	struct dirent **names;
	c->n = 0;
	c->e = NULL;
	int n = scandir(dir, &names, is_ini, by_name);
	if (n < 0)
		return TXC_ESYS;
	c->e = calloc(MAX_ENTRIES, sizeof(*c->e));
	for (int i = 0; i < n; i++) {
		if (c->e)
			read_file(dir, names[i]->d_name, c);
		free(names[i]);
	}
	free(names);
	return c->e ? 0 : TXC_ENOMEM;
}

void catscan_free(struct catscan *c)
{
	free(c->e);
	c->e = NULL;
	c->n = 0;
}

int catscan_library_is(const char *lib, const char *path)
{
	const char *b = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n = strlen(lib);
	return n == 0 || (strncmp(b, lib, n) == 0 && (b[n] == '\0' || b[n] == '.'));
}
