/* config_include.c - catalogue entries in a config: `include = NAME, ...` in
 * [cache] and `from = NAME` in a [function] section (catalogue.h).
 *
 * Runs after the user's file is read and before anything is validated, on
 * raw values: an entry's keys fill only the keys the user's section left
 * out, so the user's own keys win, and the merged section is then checked
 * like any other (it inherits [cache] as a written one would). Each
 * catalogue file is read once, as a config without [cache], with the
 * config's trust rules. What cannot be had (an unknown catalogue, a file
 * that does not parse, a function the file does not have) is one warning at
 * the line that asked for it, and the function is left out: the rest of the
 * config works, and the host program runs as it would without the entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "config_priv.h"
#include "err.h"

#define CATS_MAX 32 /* distinct catalogue files one config may name */

struct cat {
	char name[TXC_NAME_MAX];
	char path[4096];
	char why[640]; /* the first problem of a file that failed */
	int rc;	       /* config_read_catalogue's */
	struct loader sub;
};

struct incl {
	struct loader *ld;
	struct cat *cats; /* CATS_MAX */
	int ncats;
};

/* The sub-load's report: keeps the first error as "PATH:LINE: msg". */
static void keep_first(void *ctx, const char *path, int line, bool warning, const char *msg)
{
	struct cat *c = ctx;
	if (warning || c->why[0])
		return;
	if (line > 0)
		snprintf(c->why, sizeof(c->why), "%s:%d: %s", path, line, msg);
	else
		snprintf(c->why, sizeof(c->why), "%s: %s", path, msg);
}

/* The catalogue NAME, read on first use. Returns it, or NULL after a warning
 * at LINE saying what KEY asked for and what is skipped (WHAT). */
static struct cat *get_cat(struct incl *in, const char *name, int line, const char *key,
			   const char *what)
{
	for (int i = 0; i < in->ncats; i++)
		if (strcmp(in->cats[i].name, name) == 0) {
			struct cat *c = &in->cats[i];
			if (c->rc == 0)
				return c;
			cfg_note(in->ld, line, true, "%s = %s: %s; %s skipped", key, name, c->why,
				 what);
			return NULL;
		}
	char path[4096];
	int rc = catalogue_path(name, path, sizeof(path));
	if (rc != 0 || in->ncats == CATS_MAX) {
		cfg_note(in->ld, line, true, "%s = %s: %s; %s skipped", key, name,
			 in->ncats == CATS_MAX ? "more than 32 catalogue files"
			 : rc == TXC_EINVAL    ? "not a catalogue name ([A-Za-z0-9_.+-], no '/')"
					       : "path too long",
			 what);
		return NULL;
	}
	struct cat *c = &in->cats[in->ncats++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	memcpy(c->path, path, sizeof(path));
	c->rc = config_read_catalogue(&c->sub, c->path, keep_first, c);
	if (c->rc != 0 && !c->why[0])
		snprintf(c->why, sizeof(c->why), "%.500s: %s", c->path, txc_strerror(c->rc));
	if (c->rc == TXC_ENOMEM)
		in->ld->oom = true;
	if (c->rc != 0) {
		cfg_note(in->ld, line, true, "%s = %s: %s; %s skipped", key, name, c->why, what);
		return NULL;
	}
	return c;
}

/* Fills function FI's unset keys from entry CI of C, as if written at LINE. */
static void merge(struct incl *in, int fi, const struct cat *c, int ci, int line)
{
	struct loader *ld = in->ld;
	struct raw *dst = ld->raw[fi].k;
	const struct raw *src = c->sub.raw[ci].k;
	for (int k = 0; k < FK_COUNT; k++) {
		const char *v = src[k].val;
		if (k == FK_LIBRARY && !v)
			v = c->sub.cat[CATK_LIBRARY].val; /* the file's default */
		if (k == FK_FROM || dst[k].val || !v)
			continue;
		if (!(dst[k].val = strdup(v))) {
			ld->oom = true;
			return;
		}
		dst[k].line = line;
		if (k == FK_SIGNATURE)
			ld->raw[fi].sig_from_catalogue = true;
	}
	snprintf(ld->cfg->fns[fi].from, sizeof(ld->cfg->fns[fi].from), "%s", c->name);
}

/* Every entry of catalogue NAME, asked for on LINE. */
static void include_one(struct incl *in, const char *name, int line)
{
	struct cat *c = get_cat(in, name, line, "include", "its functions are");
	for (int ci = 0; c && ci < c->sub.cfg->nfns && !in->ld->oom; ci++) {
		struct loader *ld = in->ld;
		const char *fname = c->sub.cfg->fns[ci].sig.name;
		int fi = config_find_fn(ld->cfg, fname);
		if (fi >= 0 && ld->raw[fi].k[FK_FROM].val)
			continue; /* the user's from = chooses */
		if (fi >= 0 && ld->cfg->fns[fi].from[0]) {
			if (strcmp(ld->cfg->fns[fi].from, name) != 0)
				cfg_note(ld, line, true,
					 "include = %s: %s is also in %s, included first; this "
					 "entry is skipped",
					 name, fname, ld->cfg->fns[fi].from);
			continue;
		}
		if (fi < 0 && (fi = config_add_fn(ld, fname, line)) < 0)
			continue;
		merge(in, fi, c, ci, line);
	}
}

static void include_all(struct incl *in)
{
	const struct raw *r = &in->ld->cache[CK_INCLUDE];
	const char *p = r->val;
	while (p && *p && !in->ld->oom) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, " \t,");
		if (n == 0)
			break;
		char name[TXC_NAME_MAX];
		snprintf(name, sizeof(name), "%.*s", n < sizeof(name) ? (int)n : 63, p);
		if (n < sizeof(name))
			include_one(in, name, r->line);
		else
			cfg_note(in->ld, r->line, true,
				 "include = %s...: not a catalogue name (longer than 63 bytes); "
				 "skipped",
				 name);
		p += n;
	}
}

/* from = NAME of function FI. Returns false when FI must be left out. */
static bool from_one(struct incl *in, int fi)
{
	struct loader *ld = in->ld;
	const struct raw *r = &ld->raw[fi].k[FK_FROM];
	const char *fname = ld->cfg->fns[fi].sig.name;
	char what[TXC_NAME_MAX + 4];
	snprintf(what, sizeof(what), "%s is", fname);
	struct cat *c = get_cat(in, r->val, r->line, "from", what);
	if (!c)
		return false;
	int ci = config_find_fn(c->sub.cfg, fname);
	if (ci < 0) {
		cfg_note(ld, r->line, true, "from = %s: no [function %s] in %s; %s skipped", r->val,
			 fname, c->path, what);
		return false;
	}
	merge(in, fi, c, ci, r->line);
	return true;
}

/* Removes function FI from the loader (its raw values too). */
static void drop_fn(struct loader *ld, int fi)
{
	for (int k = 0; k < FK_COUNT; k++)
		free(ld->raw[fi].k[k].val);
	int rest = ld->cfg->nfns - fi - 1;
	memmove(&ld->cfg->fns[fi], &ld->cfg->fns[fi + 1], sizeof(ld->cfg->fns[0]) * (size_t)rest);
	memmove(&ld->raw[fi], &ld->raw[fi + 1], sizeof(ld->raw[0]) * (size_t)rest);
	ld->cfg->nfns--;
}

void config_include_all(struct loader *ld)
{
	bool any = ld->cache[CK_INCLUDE].val != NULL;
	for (int i = 0; i < ld->cfg->nfns && !any; i++)
		any = ld->raw[i].k[FK_FROM].val != NULL;
	if (!any)
		return;
	struct incl in = {ld, calloc(CATS_MAX, sizeof(struct cat)), 0};
	if (!in.cats) {
		ld->oom = true;
		return;
	}
	int nown = ld->cfg->nfns; /* include = adds after the user's own */
	include_all(&in);
	for (int fi = nown - 1; fi >= 0 && !ld->oom; fi--)
		if (ld->raw[fi].k[FK_FROM].val && !from_one(&in, fi))
			drop_fn(ld, fi);
	for (int i = 0; i < in.ncats; i++)
		config_sub_free(&in.cats[i].sub);
	free(in.cats);
}
