/* profrep.c - reading, adding up and printing a profile; see profrep.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jsonout.h"
#include "prof.h"
#include "profrep.h"

#define TEXT_ROWS 40 /* functions without a signature in the table; JSON has all */

struct row {
	char type; /* 'K': configured (keyed), 'F': without signature */
	const char *name, *lib;
	unsigned long long calls, ns, unkeyed, lost;
	unsigned long long keys, rep_calls; /* K: from the D lines */
	double rep_ns;
};

struct key {
	const char *name, *hex;
	unsigned long long calls, ns;
};

struct profrep {
	char *text;
	struct row *rows;
	size_t nrows;
	struct key *keys;
	size_t nkeys;
	long *pids;
	size_t npids;
};

static unsigned long long num(const char *s)
{
	return strtoull(s, NULL, 10);
}

static void take_line(struct profrep *r, char *line)
{
	char *f[8];
	int n = cli_split_tabs(line, f, 8);
	if (n >= 3 && !strcmp(f[0], "P"))
		r->pids[r->npids++] = atol(f[1]);
	else if (n == 6 && !strcmp(f[0], "F"))
		r->rows[r->nrows++] =
		    (struct row){'F', f[2], f[3], num(f[4]), num(f[5]), 0, 0, 0, 0, 0};
	else if (n == 8 && !strcmp(f[0], "K"))
		r->rows[r->nrows++] = (struct row){'K',	      f[2],	 f[3], num(f[4]), num(f[5]),
						   num(f[6]), num(f[7]), 0,    0,	  0};
	else if (n == 6 && !strcmp(f[0], "D"))
		r->keys[r->nkeys++] = (struct key){f[2], f[3], num(f[4]), num(f[5])};
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	if (x->type != y->type)
		return x->type - y->type;
	int c = strcmp(x->name, y->name);
	/* a configured function is one row whatever its library */
	return c || x->type == 'K' ? c : strcmp(x->lib, y->lib);
}

static int cmp_key(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->hex, y->hex);
}

static int cmp_pid(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

/* Adds up the rows equal by cmp_row; returns the new count. */
static size_t merge_rows(struct row *rows, size_t n)
{
	size_t out = 0;
	qsort(rows, n, sizeof(*rows), cmp_row);
	for (size_t i = 0; i < n; i++) {
		struct row *d = out ? &rows[out - 1] : NULL;
		if (d && cmp_row(d, &rows[i]) == 0) {
			d->calls += rows[i].calls;
			d->ns += rows[i].ns;
			d->unkeyed += rows[i].unkeyed;
			d->lost += rows[i].lost;
		} else {
			rows[out++] = rows[i];
		}
	}
	return out;
}

static size_t merge_keys(struct key *keys, size_t n)
{
	size_t out = 0;
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (size_t i = 0; i < n; i++) {
		struct key *d = out ? &keys[out - 1] : NULL;
		if (d && cmp_key(d, &keys[i]) == 0) {
			d->calls += keys[i].calls;
			d->ns += keys[i].ns;
		} else {
			keys[out++] = keys[i];
		}
	}
	return out;
}

/* The distinct keys and repeated calls of each configured function: a
 * key's first call is a miss, the others would be hits. */
static void count_keys(struct profrep *r)
{
	for (size_t i = 0; i < r->nrows; i++) {
		struct row *w = &r->rows[i];
		for (size_t k = 0; w->type == 'K' && k < r->nkeys; k++) {
			const struct key *y = &r->keys[k];
			if (strcmp(y->name, w->name) != 0 || y->calls == 0)
				continue;
			w->keys++;
			w->rep_calls += y->calls - 1;
			w->rep_ns += (double)y->ns * (double)(y->calls - 1) / (double)y->calls;
		}
	}
}

int profrep_read(const char *path, struct profrep **out)
{
	struct profrep *r = calloc(1, sizeof(*r));
	if (!r || cli_read_text(path, &r->text) != 0) {
		profrep_free(r);
		return -1;
	}
	size_t lines = 1;
	for (const char *p = r->text; *p; p++)
		lines += *p == '\n';
	r->rows = calloc(lines, sizeof(*r->rows));
	r->keys = calloc(lines, sizeof(*r->keys));
	r->pids = calloc(lines, sizeof(*r->pids));
	if (!r->rows || !r->keys || !r->pids) {
		profrep_free(r);
		return -1;
	}
	for (char *save = NULL, *l = strtok_r(r->text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save))
		take_line(r, l);
	r->nrows = merge_rows(r->rows, r->nrows);
	r->nkeys = merge_keys(r->keys, r->nkeys);
	count_keys(r);
	*out = r;
	return 0;
}

int profrep_processes(const struct profrep *r)
{
	int n = 0;
	qsort(r->pids, r->npids, sizeof(*r->pids), cmp_pid);
	for (size_t i = 0; i < r->npids; i++)
		n += i == 0 || r->pids[i] != r->pids[i - 1];
	return n;
}

void profrep_free(struct profrep *r)
{
	if (!r)
		return;
	free(r->text);
	free(r->rows);
	free(r->keys);
	free(r->pids);
	free(r);
}

/* ---- output ---- */

struct view {
	const struct row *w;
	double save_run, save_rerun; /* ns */
};

static double rtt_ns(const struct profrep_opts *o)
{
	return o->rtt_us * 1000.0;
}

/* Savings of one row (profrep.h gives the formulas). */
static void row_savings(const struct row *w, const struct profrep_opts *o, double *run,
			double *rerun)
{
	*rerun = (double)w->ns - (double)w->calls * rtt_ns(o);
	*run = w->rep_ns - (double)w->rep_calls * rtt_ns(o);
}

static int cmp_view(const void *a, const void *b)
{
	const struct view *x = a, *y = b;
	if (x->w->type != y->w->type)
		return x->w->type == 'K' ? -1 : 1;
	double u = x->w->type == 'K' ? x->save_rerun : (double)x->w->ns;
	double v = y->w->type == 'K' ? y->save_rerun : (double)y->w->ns;
	return (u < v) - (u > v);
}

/* The rows in output order, with their savings. NULL without memory. */
static struct view *order(const struct profrep *r, const struct profrep_opts *o)
{
	struct view *v = calloc(r->nrows + 1, sizeof(*v));
	for (size_t i = 0; v && i < r->nrows; i++) {
		const struct row *w = &r->rows[i];
		v[i].w = w;
		row_savings(w, o, &v[i].save_run, &v[i].save_rerun);
	}
	if (v)
		qsort(v, r->nrows, sizeof(*v), cmp_view);
	return v;
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static void print_row(const struct view *v, FILE *out)
{
	const struct row *w = v->w;
	double mean_us = w->calls ? (double)w->ns / (double)w->calls / 1e3 : 0;
	fprintf(out, "%-28s %-22s %9llu %11.3f %11.3f", w->name, base(w->lib), w->calls,
		(double)w->ns / 1e6, mean_us);
	if (w->type == 'F') {
		fprintf(out, "  needs a signature\n");
		return;
	}
	double share = w->calls ? 100.0 * (double)w->rep_calls / (double)w->calls : 0;
	fprintf(out, " %7llu%s %7.1f%% %12.3f %12.3f", w->keys, w->lost ? "+" : " ", share,
		v->save_run / 1e6, v->save_rerun / 1e6);
	if (w->unkeyed)
		fprintf(out, "  (%llu call%s without a key)", w->unkeyed,
			w->unkeyed == 1 ? "" : "s");
	fputc('\n', out);
}

static void print_table(const struct profrep *r, const struct view *v, const struct profrep_opts *o,
			FILE *out)
{
	int nproc = profrep_processes(r);
	fprintf(out, "txcache profile: %s: %d process%s; round trip %.1f us%s\n", o->program, nproc,
		nproc == 1 ? "" : "es", o->rtt_us,
		o->assumed ? " (assumed: no server measured; --rtt sets it)"
		: o->given ? " (--rtt)"
			   : " (measured)");
	fprintf(out, "%-28s %-22s %9s %11s %11s %8s %8s %12s %12s\n", "function", "library",
		"calls", "total ms", "mean us", "keys", "repeat", "save run ms", "rerun ms");
	size_t others = 0;
	for (size_t i = 0; i < r->nrows; i++) {
		if (v[i].w->type == 'F' && others++ >= TEXT_ROWS)
			continue;
		print_row(&v[i], out);
	}
	if (others > TEXT_ROWS)
		fprintf(out, "... %zu more functions without a signature (--json lists all)\n",
			others - TEXT_ROWS);
	for (size_t i = 0; i < r->nrows; i++)
		if (v[i].w->lost)
			fprintf(out,
				"%s: over %d distinct keys in one process; keys counts "
				"only those (+)\n",
				v[i].w->name, PROF_KEYS);
}

static void json_field(FILE *out, const char *name, const char *value)
{
	fprintf(out, "\"%s\":", name);
	cli_json_str(out, value, strlen(value));
}

static void print_json_row(const struct view *v, FILE *out)
{
	const struct row *w = v->w;
	fputc('{', out);
	json_field(out, "function", w->name);
	fputc(',', out);
	json_field(out, "library", w->lib);
	fprintf(out, ",\"calls\":%llu,\"total_ns\":%llu,\"mean_ns\":%.1f,\"signature\":%s",
		w->calls, w->ns, w->calls ? (double)w->ns / (double)w->calls : 0.0,
		w->type == 'K' ? "true" : "false");
	if (w->type == 'K')
		fprintf(out,
			",\"keys\":%llu,\"keys_lost\":%llu,\"unkeyed_calls\":%llu,"
			"\"repeated_calls\":%llu,\"repeated_share\":%.4f,"
			"\"save_run_ns\":%.0f,\"save_rerun_ns\":%.0f",
			w->keys, w->lost, w->unkeyed, w->rep_calls,
			w->calls ? (double)w->rep_calls / (double)w->calls : 0.0, v->save_run,
			v->save_rerun);
	fputc('}', out);
}

static void print_json(const struct profrep *r, const struct view *v, const struct profrep_opts *o,
		       FILE *out)
{
	fputc('{', out);
	json_field(out, "program", o->program);
	fprintf(out, ",\"processes\":%d,\"rtt_us\":%.3f,\"rtt_assumed\":%s,\"functions\":[",
		profrep_processes(r), o->rtt_us, o->assumed ? "true" : "false");
	for (size_t i = 0; i < r->nrows; i++) {
		if (i)
			fputc(',', out);
		print_json_row(&v[i], out);
	}
	fputs("]}\n", out);
}

bool profrep_find(const struct profrep *r, const struct profrep_opts *o, const char *name,
		  struct profrep_fn *f)
{
	bool found = false;
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < r->nrows; i++) {
		const struct row *w = &r->rows[i];
		if (w->type != 'K' || strcmp(w->name, name) != 0)
			continue;
		found = true;
		f->calls += w->calls;
		f->keys += w->keys;
		f->repeated += w->rep_calls;
		f->ns += (double)w->ns;
		double run, rerun;
		row_savings(w, o, &run, &rerun);
		f->save_run_ns += run;
		f->save_rerun_ns += rerun;
	}
	return found;
}

void profrep_print(const struct profrep *r, const struct profrep_opts *o, FILE *out)
{
	struct view *v = order(r, o);
	if (!v) {
		fprintf(stderr, "txcache profile: out of memory\n");
		return;
	}
	if (o->json)
		print_json(r, v, o, out);
	else
		print_table(r, v, o, out);
	free(v);
}
