/* test_verify.c - verify = RATE: the rate parser, the config's inheritance
 * ([cache] -> [function]) and sampling at the edges (0, 1, a share). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "err.h"
#include "verify.h"

static void test_rate(void)
{
	static const struct {
		const char *text;
		uint32_t ppm;
	} good[] = {{"0", 0},	      {"1", 1000000},	     {"0.5", 500000}, {".25", 250000},
		    {"1.0", 1000000}, {"1.000000", 1000000}, {"0.000001", 1}, {"0.123456", 123456}};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint32_t ppm = 77;
		CHECK(config_parse_rate(good[i].text, &ppm) == 0 && ppm == good[i].ppm, "rate %s",
		      good[i].text);
	}
	static const char *const bad[] = {"",	 "2",	 "1.5",	      "1.000001", "-0.5", "0.",
					  "0,5", "0.5x", "0.0000001", "one",	  " 1",	  "01"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t ppm = 77;
		CHECK(config_parse_rate(bad[i], &ppm) == TXC_EINVAL && ppm == 77,
		      "rate '%s' rejected", bad[i]);
	}
	uint32_t ppm = 77;
	CHECK(config_parse_rate(NULL, &ppm) == TXC_EINVAL, "NULL rejected");
}

static void test_config(void)
{
	static const char text[] = "[cache]\nservers = /tmp/x.sock\nverify = 0.5\n"
				   "[function f]\nsignature = int f(int x)\n"
				   "[function g]\nsignature = int g(int x)\nverify = 1\n"
				   "[function h]\nsignature = int h(int x)\nverify = 0\n";
	struct txc_config *cfg = NULL;
	int rc = config_parse_string(text, "t.ini", &cfg, NULL, NULL);
	CHECK(rc == 0 && cfg, "config with verify loads");
	if (!cfg)
		return;
	CHECK(cfg->verify_ppm == 500000, "[cache] verify");
	CHECK(cfg->fns[0].verify_ppm == 500000, "a function inherits [cache]'s rate");
	CHECK(cfg->fns[1].verify_ppm == 1000000, "a function's rate wins (1)");
	CHECK(cfg->fns[2].verify_ppm == 0, "a function's rate wins (0)");

	unsetenv("TXCACHE_VERIFY");
	verify_init();
	CHECK(!verify_sample(&cfg->fns[2]), "rate 0 never samples");
	int all = 0, some = 0;
	for (int i = 0; i < 1000; i++) {
		all += verify_sample(&cfg->fns[1]);
		some += verify_sample(&cfg->fns[0]);
	}
	CHECK(all == 1000, "rate 1 samples every hit");
	CHECK(some > 350 && some < 650, "rate 0.5 samples about half (%d of 1000)", some);
	config_free(cfg);

	static const char bad[] = "[cache]\nservers = /tmp/x.sock\nverify = 1.5\n";
	cfg = NULL;
	CHECK(config_parse_string(bad, "t.ini", &cfg, NULL, NULL) == TXC_ECONFIG && !cfg,
	      "verify = 1.5 is an error");
}

static void test_env(void)
{
	struct txc_fn_config fc;
	memset(&fc, 0, sizeof(fc));
	setenv("TXCACHE_VERIFY", "1", 1);
	verify_init();
	CHECK(verify_sample(&fc), "TXCACHE_VERIFY=1 overrides a rate of 0");
	fc.verify_ppm = 1000000;
	setenv("TXCACHE_VERIFY", "0", 1);
	verify_init();
	CHECK(!verify_sample(&fc), "TXCACHE_VERIFY=0 overrides a rate of 1");
	unsetenv("TXCACHE_VERIFY");
}

int main(void)
{
	test_rate();
	test_config();
	test_env();
	return check_done();
}
