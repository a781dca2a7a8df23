/* cmd_ls.c - txcache ls: the cached calls of a namespace.
 *
 * memcached's "lru_crawler metadump all" lists every key of a server with
 * its expiry and size; the keys of this namespace that name a configured
 * function and end in a call digest are read back and verified, so each is
 * shown as "live" (a hit for the shim) or "stale" (an old generation, or a
 * value that does not verify).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "err.h"
#include "mcraw.h"

struct ls_ctx {
	const struct txc_config *cfg;
	struct txc_cache *cache;
	int only_fn; /* -1: every function */
	long count;
};

/* Decodes the %XX escapes of metadump keys in place. */
static void url_decode(char *s)
{
	char *w = s;
	for (; *s; s++) {
		unsigned v;
		if (s[0] == '%' && s[1] && s[2] && sscanf(s + 1, "%2x", &v) == 1) {
			*w++ = (char)v;
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static int digest_of(const char *hex, struct txc_digest *d)
{
	if (strlen(hex) != 32 || strspn(hex, "0123456789abcdef") != 32)
		return -1;
	for (int i = 0; i < 16; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		d->b[i] = (uint8_t)v;
	}
	return 0;
}

static const char *state_of(struct ls_ctx *x, int fn, const struct txc_key *key)
{
	struct txc_lookup lk;
	struct txc_value_meta meta;
	struct txc_result res;
	if (cache_lookup(x->cache, fn, key, &lk) != 0)
		return "unknown";
	int err = cache_decode(x->cache, fn, key, &lk, &meta, &res);
	bool absent = lk.value.data == NULL;
	cache_lookup_free(&lk);
	return err == 0 ? "live" : absent ? "gone" : "stale";
}

/* One metadump line: "key=K exp=E la=.. cas=.. fetch=.. cls=.. size=S". */
static void one_line(struct ls_ctx *x, char *line)
{
	char kbuf[TXC_KEY_MAX * 3 + 1];
	long long exp = -1;
	unsigned long size = 0;
	char *p;
	if (sscanf(line, "key=%750s exp=%lld", kbuf, &exp) < 1)
		return;
	if ((p = strstr(line, " size=")))
		size = strtoul(p + 6, NULL, 10);
	url_decode(kbuf);
	size_t nl = strlen(x->cfg->ns);
	char *colon = strrchr(kbuf, ':');
	if (strncmp(kbuf, x->cfg->ns, nl) || kbuf[nl] != ':' || !colon || colon <= kbuf + nl)
		return;
	struct txc_key key;
	*colon = '\0';
	int fn = config_find_fn(x->cfg, kbuf + nl + 1);
	if (fn < 0 || (x->only_fn >= 0 && fn != x->only_fn) || digest_of(colon + 1, &key.digest))
		return;
	*colon = ':';
	key.len = strlen(kbuf);
	if (key.len > TXC_KEY_MAX)
		return;
	memcpy(key.text, kbuf, key.len + 1);
	char ttl[32] = "never";
	if (exp >= 0)
		snprintf(ttl, sizeof(ttl), "%llds", exp - (long long)time(NULL));
	printf("%-6s %8lu %10s %s\n", state_of(x, fn, &key), size, ttl, key.text);
	x->count++;
}

/* Dumps one server. Returns 0 or -1. */
static int dump(struct ls_ctx *x, const struct txc_server *srv)
{
	char line[4096];
	for (int attempt = 0; attempt < 50; attempt++) {
		FILE *f = mcraw_open(srv, 5000);
		if (!f || mcraw_send(f, "lru_crawler metadump all") != 0) {
			if (f)
				fclose(f);
			return -1;
		}
		int n, busy = 0;
		while ((n = mcraw_line(f, line, sizeof(line))) >= 0) {
			if (!strcmp(line, "END"))
				break;
			if (!strncmp(line, "BUSY", 4) || !strncmp(line, "ERROR", 5)) {
				busy = 1; /* another crawl is running: try again */
				break;
			}
			one_line(x, line);
		}
		fclose(f);
		if (!busy)
			return n >= 0 ? 0 : -1;
		usleep(100 * 1000);
	}
	return -1;
}

int cmd_ls(int argc, char **argv)
{
	struct cli_opts o;
	struct txc_config *cfg;
	int first = cli_opts_parse(argc, argv, 0, &o);
	if (first < 0 || argc - first > 1)
		return EX_USAGE;
	int rc = cli_load_config(cli_config_path(o.config), &cfg);
	if (rc != 0)
		return rc;
	struct ls_ctx x = {.cfg = cfg, .only_fn = -1};
	if (first < argc && (x.only_fn = config_find_fn(cfg, argv[first])) < 0) {
		fprintf(stderr, "txcache ls: no function '%s' in %s\n", argv[first], cfg->path);
		rc = EX_USAGE;
	}
	if (rc == 0 && cfg->sasl_user[0]) { /* memcached -S refuses ASCII commands */
		fprintf(stderr, "txcache ls: not available with SASL (sasl_user): memcached's "
				"lru_crawler metadump is ASCII only; use txcache get KEY\n");
		rc = EX_UNAVAILABLE;
	}
	int err = rc == 0 ? cache_open(cfg, &x.cache) : 0;
	if (err != 0) {
		fprintf(stderr, "txcache ls: %s\n", txc_strerror(err));
		rc = cli_exit_of(err);
	}
	for (int i = 0; rc == 0 && i < cfg->nservers; i++) {
		if (dump(&x, &cfg->servers[i]) != 0) {
			char name[300];
			mcraw_name(&cfg->servers[i], name, sizeof(name));
			fprintf(stderr, "txcache ls: %s: lru_crawler metadump failed\n", name);
			rc = EX_UNAVAILABLE;
		}
	}
	cache_close(x.cache);
	config_free(cfg);
	return rc;
}
