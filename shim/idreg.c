/* idreg.c - the identity registry; see idreg.h.
 *
 * The value is lines of identity text, each ended by '\n', written with
 * add (the first) and append (the others): memcached applies each append
 * whole, so concurrent registrations never lose a line. Duplicates (two
 * processes adding the same identity at once) are harmless and skipped.
 */
#include <string.h>

#include "err.h"
#include "idreg.h"

/* Calls FN for each distinct non-empty line of B; stops when FN returns
 * nonzero and returns that. */
typedef int (*line_fn)(void *ctx, const char *line, size_t len);

static int each_line(const struct txc_buf *b, line_fn fn, void *ctx)
{
	const char *p = (const char *)b->data, *end = p + b->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		int rc = len ? fn(ctx, p, len) : 0;
		if (rc)
			return rc;
		p += len + 1;
	}
	return 0;
}

/* A generation value: a decimal counter (incr pads it with spaces). */
static bool parse_gen(const struct txc_buf *b, uint64_t *gen)
{
	uint64_t v = 0;
	size_t i = 0;
	if (!b->data || b->len == 0 || b->len > 20)
		return false;
	for (; i < b->len && b->data[i] >= '0' && b->data[i] <= '9'; i++)
		v = v * 10 + (uint64_t)(b->data[i] - '0');
	if (i == 0 || (i < b->len && b->data[i] != ' '))
		return false;
	*gen = v;
	return true;
}

struct collect {
	struct txc_ident *ids;
	int n;
	const char *want; /* registration: the line looked for */
	size_t want_len;
	bool found;
};

static int collect_line(void *ctx, const char *line, size_t len)
{
	struct collect *c = ctx;
	struct txc_ident id;
	if (c->want && len == c->want_len && memcmp(line, c->want, len) == 0)
		c->found = true;
	if (ident_from_text(&id, line, len) != 0)
		return 1; /* not a line we write: the list cannot be trusted */
	for (int i = 0; i < c->n; i++)
		if (memcmp(&c->ids[i].digest, &id.digest, sizeof(id.digest)) == 0)
			return 0;
	if (c->n == IDREG_MAX)
		return 1; /* full: more distinct identities than we can list */
	c->ids[c->n++] = id;
	return 0;
}

/* Reads the registry into C, and with it (one round trip) the function's
 * generation when GEN_KEY is given: *GEN, *GEN_KNOWN. */
static int read_into(struct txc_store *st, const struct txc_key *key, const struct txc_key *gen_key,
		     struct collect *c, uint64_t *gen, bool *gen_known)
{
	const struct txc_key *keys[2] = {key, gen_key};
	struct txc_buf val[2] = {{0}, {0}};
	int rc = store_mget(st, keys, gen_key ? 2 : 1, val);
	if (rc != 0)
		return rc;
	if (gen_key)
		*gen_known = parse_gen(&val[1], gen);
	int full = val[0].data ? each_line(&val[0], collect_line, c) : 0;
	rc = !val[0].data ? TXC_ENOTFOUND : full || c->n >= IDREG_MAX ? TXC_ETOOBIG : 0;
	/* full, or unreadable: either way not every identity is known */
	store_bufs_free(val, 2);
	return rc;
}

int idreg_read(struct txc_store *st, const struct txc_key_fn *kf, struct txc_ident *ids, int *n)
{
	struct txc_key key;
	struct collect c = {ids, 0, NULL, 0, false};
	key_fn_aux(kf, "ids", &key);
	int rc = read_into(st, &key, NULL, &c, NULL, NULL);
	*n = c.n;
	return rc;
}

int idreg_register(struct txc_store *st, const struct txc_key_fn *kf, const struct txc_ident *id,
		   uint64_t *gen, bool *gen_known)
{
	struct txc_ident ids[IDREG_MAX];
	struct txc_key key, gen_key;
	char line[TXC_IDENT_MAX + 1];
	size_t len = strlen(id->text);
	*gen_known = false;
	memcpy(line, id->text, len);
	line[len] = '\n';
	key_fn_aux(kf, "ids", &key);
	key_gen_fn(kf, &gen_key);
	for (int attempt = 0; attempt < 3; attempt++) {
		struct collect c = {ids, 0, id->text, len, false};
		int rc = read_into(st, &key, &gen_key, &c, gen, gen_known);
		if (rc == TXC_ETOOBIG || (rc == 0 && c.found))
			return 0; /* full (invalidations bump) or listed */
		if (rc == 0)
			rc = store_append(st, &key, line, len + 1);
		if (rc == 0)
			return 0;
		if (rc != TXC_ENOTFOUND)
			return rc;
		/* A multi-key read can report a key of an unreachable server as
		 * absent: ask its server alone before concluding there is none. */
		struct collect alone = {ids, 0, NULL, 0, false};
		rc = read_into(st, &key, NULL, &alone, NULL, NULL);
		if (rc == 0 || rc == TXC_ETOOBIG)
			continue;
		if (rc != TXC_ENOTFOUND)
			return rc;
		/* No registry: kill what a lost one covered, then make it. The bump
		 * comes first, so whoever finds the new registry also reads a
		 * generation that no value of a lost registration carries. */
		rc = store_incr(st, &gen_key, gen);
		*gen_known = rc == 0;
		if (rc != 0 && rc != TXC_ENOTFOUND) /* absent: it restarts at random */
			return rc;
		rc = store_add(st, &key, line, len + 1, 0);
		if (rc == 0)
			return 0;
		if (rc != TXC_EEXIST)
			return rc;
	}
	return TXC_ESERVER;
}
