/* test_idreg.c - the identity registry (shim/idreg.h) against the real
 * memcached of the test run (TXCACHE_TEST_SOCKET, set by tests/run.sh):
 * one line per identity, a full or unreadable registry means "bump", the
 * creator bumps the generation, and one call's deletion reaches every
 * registered identity. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "check.h"
#include "err.h"
#include "idreg.h"

static struct txc_cache *open_cache(const char *sock)
{
	char text[512];
	struct txc_config *cfg = NULL;
	struct txc_cache *c = NULL;
	snprintf(text, sizeof(text),
		 "[cache]\nservers = %s\nnamespace = idreg%ld\n[function f]\nsignature = int "
		 "f(int x)\n",
		 sock, (long)time(NULL) ^ (long)getpid());
	if (config_parse_string(text, "t.ini", &cfg, NULL, NULL) != 0 || cache_open(cfg, &c) != 0)
		return NULL;
	return c;
}

static uint64_t gen_of(struct txc_cache *c)
{
	struct txc_lookup lk;
	struct txc_key k;
	memset(&k, 0, sizeof(k));
	key_fn_aux(&c->kf[0], "zz", &k);
	if (cache_lookup(c, 0, &k, &lk) != 0)
		return 0;
	cache_lookup_free(&lk);
	return lk.fn_gen;
}

static void test_registry(struct txc_cache *c)
{
	struct txc_ident ids[IDREG_MAX], a, b;
	int n = -1;
	bool known = false;
	uint64_t g = 0;
	struct txc_store *st = c->store;
	const struct txc_key_fn *kf = &c->kf[0];
	struct txc_lookup lk = {0};
	CHECK(cache_ensure_gens(c, 0, &lk) == 0, "generations made");
	uint64_t g0 = gen_of(c);
	CHECK(idreg_read(st, kf, ids, &n) == TXC_ENOTFOUND, "no registry yet");
	ident_make(&a, TXC_ID_BUILD_ID, "libA.so", "aa", NULL, "");
	ident_make(&b, TXC_ID_SONAME, "libB.so", NULL, NULL, "V2");
	CHECK(idreg_register(st, kf, &a, &g, &known) == 0 && known && g != g0 && gen_of(c) == g,
	      "the creator bumps the generation");
	CHECK(idreg_register(st, kf, &a, &g, &known) == 0 && known && gen_of(c) == g,
	      "listed: nothing to do, the generation read with it");
	CHECK(idreg_register(st, kf, &b, &g, &known) == 0 && gen_of(c) == g, "a second identity");
	CHECK(idreg_read(st, kf, ids, &n) == 0 && n == 2 && !strcmp(ids[0].text, a.text) &&
		  !strcmp(ids[1].text, b.text),
	      "two lines, in order (%d)", n);
	for (int i = 0; i < IDREG_MAX; i++) {
		char so[32];
		snprintf(so, sizeof(so), "lib%d.so", i);
		ident_make(&b, TXC_ID_SONAME, so, NULL, NULL, "");
		idreg_register(st, kf, &b, &g, &known);
	}
	CHECK(idreg_read(st, kf, ids, &n) == TXC_ETOOBIG && n == IDREG_MAX, "full at %d",
	      IDREG_MAX);
	uint64_t before = gen_of(c);
	struct txc_arg arg = {7, NULL, 0, NULL};
	enum txc_inval_how how;
	CHECK(cache_invalidate_call(c, 0, &arg, &how) == 0 && how == TXC_INV_FN &&
		  gen_of(c) != before,
	      "a full registry: invalidating one call bumps the generation");
}

static void test_unreadable(struct txc_cache *c)
{
	struct txc_ident ids[IDREG_MAX];
	struct txc_key k;
	int n;
	key_fn_aux(&c->kf[0], "ids", &k);
	char big[400];
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	CHECK(store_set(c->store, &k, big, sizeof(big), 0) == 0 &&
		  idreg_read(c->store, &c->kf[0], ids, &n) == TXC_ETOOBIG,
	      "a line no identity can be: not trusted");
}

int main(void)
{
	const char *sock = getenv("TXCACHE_TEST_SOCKET");
	if (!sock || !*sock) {
		printf("# TXCACHE_TEST_SOCKET unset: run through tests/run.sh\n");
		CHECK(0, "a memcached to test against");
		return check_done();
	}
	struct txc_cache *c = open_cache(sock);
	CHECK(c != NULL, "cache on %s", sock);
	if (c) {
		test_registry(c);
		test_unreadable(c);
	}
	return check_done();
}
