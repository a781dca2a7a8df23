/* cmd_stats.c - txcache stats: the counters every process published.
 *
 * The shim adds its counts to "<ns>:<fn>:st:<counter>" keys (publish.h):
 * at exit and every stats_interval seconds. The numbers here are therefore
 * the sum over every process and machine sharing the cache, up to the
 * last publication of each. The mode column is the mode of the last
 * process that published the function ("-": none did yet).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "args.h"
#include "cli.h"
#include "err.h"
#include "jsonout.h"
#include "publish.h"

static int read_fn(struct txc_cache *c, int fn, uint64_t v[TXC_ST_COUNT_])
{
	for (int k0 = 0; k0 < TXC_ST_COUNT_; k0 += 4) {
		struct txc_key keys[4];
		const struct txc_key *kp[4];
		struct txc_buf vals[4] = {{0}};
		int n = TXC_ST_COUNT_ - k0 < 4 ? TXC_ST_COUNT_ - k0 : 4;
		for (int i = 0; i < n; i++) {
			publish_counter_key(&c->kf[fn], k0 + i, &keys[i]);
			kp[i] = &keys[i];
		}
		int err = store_mget(c->store, kp, (size_t)n, vals);
		if (err != 0)
			return err;
		for (int i = 0; i < n; i++) {
			char text[24] = "0";
			if (vals[i].data && vals[i].len < sizeof(text)) {
				memcpy(text, vals[i].data, vals[i].len);
				text[vals[i].len] = '\0';
			}
			v[k0 + i] = strtoull(text, NULL, 10);
		}
		store_bufs_free(vals, (size_t)n);
	}
	return 0;
}

#define MODE_MAX 16 /* "readonly" and the NUL, with room */

/* The published mode of FN into MODE ("-" when absent or garbled). */
static int read_mode(struct txc_cache *c, int fn, char mode[MODE_MAX])
{
	struct txc_key key;
	const struct txc_key *kp = &key;
	struct txc_buf val = {0};
	enum txc_mode m;
	publish_mode_key(&c->kf[fn], &key);
	int err = store_mget(c->store, &kp, 1, &val);
	if (err != 0)
		return err;
	snprintf(mode, MODE_MAX, "-");
	if (val.data && val.len < MODE_MAX) {
		memcpy(mode, val.data, val.len);
		mode[val.len] = '\0';
		if (config_parse_mode(mode, &m) != 0)
			snprintf(mode, MODE_MAX, "-");
	}
	store_bufs_free(&val, 1);
	return 0;
}

static void print_json(const struct txc_config *cfg, uint64_t (*v)[TXC_ST_COUNT_],
		       char (*modes)[MODE_MAX])
{
	printf("{\"namespace\":");
	cli_json_str(stdout, cfg->ns, strlen(cfg->ns));
	printf(",\"functions\":{");
	for (int f = 0; f < cfg->nfns; f++) {
		printf("%s", f ? "," : "");
		cli_json_str(stdout, cfg->fns[f].sig.name, strlen(cfg->fns[f].sig.name));
		printf(":{");
		for (int k = 0; k < TXC_ST_COUNT_; k++)
			printf("%s\"%s\":%" PRIu64, k ? "," : "", publish_counter_name(k), v[f][k]);
		printf("}");
	}
	/* apart from the counters: a function's object holds numbers only, as
	 * readers of the counters expect */
	printf("},\"modes\":{");
	for (int f = 0; f < cfg->nfns; f++) {
		printf("%s", f ? "," : "");
		cli_json_str(stdout, cfg->fns[f].sig.name, strlen(cfg->fns[f].sig.name));
		printf(":");
		if (strcmp(modes[f], "-") == 0)
			printf("null");
		else
			cli_json_str(stdout, modes[f], strlen(modes[f]));
	}
	printf("}}\n");
}

static void print_table(const struct txc_config *cfg, uint64_t (*v)[TXC_ST_COUNT_],
			char (*modes)[MODE_MAX])
{
	/* mode last: scripts that read the columns by number keep working */
	printf("%-24s %10s %10s %10s %8s %12s %12s %14s %10s %8s %s\n", "function", "hits",
	       "misses", "stores", "errors", "bytes_in", "bytes_out", "saved_s", "verified",
	       "mismatch", "mode");
	for (int f = 0; f < cfg->nfns; f++) {
		const uint64_t *s = v[f];
		printf("%-24s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %8" PRIu64 " %12" PRIu64
		       " %12" PRIu64 " %14.3f %10" PRIu64 " %8" PRIu64 " %s\n",
		       cfg->fns[f].sig.name, s[TXC_ST_HITS], s[TXC_ST_MISSES], s[TXC_ST_STORES],
		       s[TXC_ST_ERRORS], s[TXC_ST_BYTES_IN], s[TXC_ST_BYTES_OUT],
		       (double)s[TXC_ST_SAVED_NS] / 1e6, s[TXC_ST_VERIFIED], s[TXC_ST_MISMATCH],
		       modes[f]);
	}
}

int cmd_stats(int argc, char **argv)
{
	struct cli_opts o;
	struct txc_config *cfg;
	struct txc_cache *c = NULL;
	int first = cli_opts_parse(argc, argv, CLI_OPT_JSON, &o);
	if (first < 0 || first < argc) {
		if (first >= 0)
			fprintf(stderr, "txcache stats: no operands expected\n");
		return EX_USAGE;
	}
	int rc = cli_load_config(cli_config_path(o.config), &cfg);
	if (rc != 0)
		return rc;
	size_t nf = cfg->nfns ? (size_t)cfg->nfns : 1;
	uint64_t(*v)[TXC_ST_COUNT_] = calloc(nf, sizeof(*v));
	char(*modes)[MODE_MAX] = calloc(nf, sizeof(*modes));
	int err = v && modes ? cache_open(cfg, &c) : TXC_ENOMEM;
	for (int f = 0; err == 0 && f < cfg->nfns; f++) {
		err = read_fn(c, f, v[f]);
		if (err == 0)
			err = read_mode(c, f, modes[f]);
	}
	if (err != 0) {
		fprintf(stderr, "txcache stats: %s\n", txc_strerror(err));
		rc = cli_exit_of(err);
	} else if (o.flags & CLI_OPT_JSON) {
		print_json(cfg, v, modes);
	} else {
		print_table(cfg, v, modes);
	}
	free(v);
	free(modes);
	cache_close(c);
	config_free(cfg);
	return rc;
}
