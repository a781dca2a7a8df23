/* bench.c - the timing driver of `make bench` (tests/bench/bench.sh).
 *
 *   bench cases ROUNDS BLOCK CASE...
 *	Runs BLOCK calls of each CASE in turn, ROUNDS times (after one
 *	warm-up block each), and prints per case
 *	"CASE MEDIAN_NS RATIO", where MEDIAN_NS is the median over rounds of
 *	the mean ns per call in a block and RATIO the median over rounds of
 *	(this case / the first case) in the same round: cases interleave, so
 *	machine noise hits them alike.
 *   bench threads T SECONDS CASE
 *	T threads run CASE for SECONDS; prints "threads T OPS_PER_S".
 *	With $BENCH_START (CLOCK_REALTIME ns, e.g. `date +%s%N`) every
 *	thread first makes 100 calls, then waits for that instant, and all
 *	stop SECONDS after it: processes started together run in one window
 *	(the scaling row); a late one counts ops over its own shorter window.
 *   bench worst SECONDS CASE
 *	Times every call of CASE for SECONDS, with a miss of two other
 *	functions every 1000 calls (so counters of several functions wait for
 *	publication); prints "worst MAX_NS CALLS": the slowest call, where a
 *	publication inside a host call shows.
 *   bench worst50 SECONDS
 *	Calls bn_f00 .. bn_f49 (libbench.so) in turn for SECONDS, timing
 *	each call (all hits after a first warm-up pass, so every function has
 *	counters pending at each publication); prints
 *	"worst50 MAX_NS P999_NS MEDIAN_NS CALLS": the slowest call, the
 *	99.9th percentile (the slowest call once the 0.1% that the scheduler
 *	of a loaded machine stretches by milliseconds are left out) and the
 *	median.
 *
 * Cases: fast (pf_fast(42): under the shim a hit or a near hit), bare
 * (pf_bare(42): the same function, never intercepted), miss (pf_fast with a
 * new argument each call), sleep (pf_sleep(1, 1000)), sleepmiss (pf_sleep
 * with a new argument), small / big (pf_sum over 16 bytes / 128 KiB),
 * rawget / rawmget3 / rawset (libmemcached directly, on $BENCH_SERVER
 * "host:port", with a key as long as the shim's key of pf_fast in
 * namespace $BENCH_NS and an 88-byte value, the size of an int result),
 * out (bn_out($BENCH_SIZE, buf, cap): a value of BENCH_SIZE bytes) and
 * rawout (a raw get of a copy of the shim's stored value of out, read
 * under its key $BENCH_SHIMKEY, put under a key of the same length, and
 * copied into the caller's buffer as the shim's hit does).
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmemcached/memcached.h>

int pf_fast(int x);
int pf_bare(int x);
int pf_sleep(int x, int us);
uint64_t pf_sum(const void *p, size_t n);
int bn_out(int n, unsigned char *buf, size_t cap);

/* bn_f00 .. bn_f49, called directly (a call through a pointer the
 * executable took at load time might not go through the rewritten GOT) */
// clang-format off
#define BN_F(i) int bn_f##i(int x);
#define BN_F10(d) BN_F(d##0) BN_F(d##1) BN_F(d##2) BN_F(d##3) BN_F(d##4) \
		  BN_F(d##5) BN_F(d##6) BN_F(d##7) BN_F(d##8) BN_F(d##9)
BN_F10(0) BN_F10(1) BN_F10(2) BN_F10(3) BN_F10(4)
#undef BN_F
#define BN_F(i) case 1##i - 100: return bn_f##i(x);

static int call50(int i, int x)
{
	switch (i) {
	BN_F10(0) BN_F10(1) BN_F10(2) BN_F10(3) BN_F10(4)
	}
	return 0;
}
// clang-format on

#define MAX_CASES  16
#define MAX_ROUNDS 64
#define BIG	   (128 * 1024)
#define VAL_LEN	   88
#define OUT_CAP	   (2 * 1024 * 1024)

static __thread memcached_st *mc;
static __thread int counter;
static char rkey[3][256];
static size_t rklen[3];
static unsigned char *big;
/* per thread: a shared one would be a write every thread makes on every call */
static __thread volatile uint64_t sink;
static unsigned char *outbuf;
static int out_size;
static char outkey[256];
static size_t outklen;

static memcached_st *mc_handle(void)
{
	const char *srv = getenv("BENCH_SERVER");
	char cfg[300];

	if (mc)
		return mc;
	snprintf(cfg, sizeof(cfg), "--SERVER=%s --TCP-NODELAY", srv ? srv : "127.0.0.1:11211");
	mc = memcached(cfg, strlen(cfg));
	if (!mc) {
		fprintf(stderr, "bench: bad server %s\n", cfg);
		exit(2);
	}
	return mc;
}

static void raw_prepare(void)
{
	const char *ns = getenv("BENCH_NS");
	char val[VAL_LEN];

	/* "<ns>:pf_fast:<32 hex>" is the shim's key: same length, other text */
	snprintf(rkey[0], sizeof(rkey[0]), "%s:pf_raw_:%032d", ns ? ns : "bench", 7);
	snprintf(rkey[1], sizeof(rkey[1]), "%s:pf_raw_:gen", ns ? ns : "bench");
	snprintf(rkey[2], sizeof(rkey[2]), "%s:@raw", ns ? ns : "bench");
	memset(val, 'v', sizeof(val));
	for (int i = 0; i < 3; i++) {
		rklen[i] = strlen(rkey[i]);
		if (memcached_set(mc_handle(), rkey[i], rklen[i], val, i ? 12 : sizeof(val), 0,
				  0) != MEMCACHED_SUCCESS) {
			fprintf(stderr, "bench: cannot set %s\n", rkey[i]);
			exit(2);
		}
	}
}

/* The anchor of out: the shim's own stored value (value + header), read
 * with a raw get of the shim's key, stored again under a key of the same
 * length, so both move the same bytes over the wire. */
static void rawout_prepare(void)
{
	const char *sk = getenv("BENCH_SHIMKEY"), *ns = getenv("BENCH_NS");
	size_t len = 0, sklen = sk ? strlen(sk) : 0;
	uint32_t flags;
	memcached_return_t rc;
	char *v = sk ? memcached_get(mc_handle(), sk, sklen, &len, &flags, &rc) : NULL;

	if (!v || sklen >= sizeof(outkey)) {
		fprintf(stderr, "bench: no stored value under BENCH_SHIMKEY=%s\n", sk ? sk : "");
		exit(2);
	}
	snprintf(outkey, sizeof(outkey), "%s:rawout:", ns ? ns : "bench");
	outklen = strlen(outkey);
	while (outklen < sklen)
		outkey[outklen++] = 'r';
	outkey[outklen] = 0;
	if (memcached_set(mc_handle(), outkey, outklen, v, len, 0, 0) != MEMCACHED_SUCCESS) {
		fprintf(stderr, "bench: cannot set %s (%zu bytes)\n", outkey, len);
		exit(2);
	}
	free(v);
}

static void op_rawout(void)
{
	size_t len;
	uint32_t flags;
	memcached_return_t rc;
	char *v = memcached_get(mc_handle(), outkey, outklen, &len, &flags, &rc);

	if (v)
		memcpy(outbuf, v, len < OUT_CAP ? len : OUT_CAP);
	sink += len;
	free(v);
}

static void op_out(void)
{
	sink += (uint64_t)bn_out(out_size, outbuf, OUT_CAP) + outbuf[0];
}

static void op_rawget(void)
{
	size_t len;
	uint32_t flags;
	memcached_return_t rc;
	char *v = memcached_get(mc_handle(), rkey[0], rklen[0], &len, &flags, &rc);

	sink += len;
	free(v);
}

static void op_rawmget3(void)
{
	const char *keys[3] = {rkey[0], rkey[1], rkey[2]};
	memcached_result_st res;
	memcached_return_t rc;

	if (memcached_mget(mc_handle(), keys, rklen, 3) != MEMCACHED_SUCCESS)
		return;
	memcached_result_create(mc, &res);
	while (memcached_fetch_result(mc, &res, &rc)) {
		/* the shim copies each value out: so does the reference */
		size_t len = memcached_result_length(&res);
		char *copy = malloc(len ? len : 1);
		memcpy(copy, memcached_result_value(&res), len);
		sink += len;
		free(copy);
	}
	memcached_result_free(&res);
}

static void op_rawset(void)
{
	static const char val[VAL_LEN];

	memcached_set(mc_handle(), rkey[0], rklen[0], val, sizeof(val), 0, 0);
}

static void op_fast(void)
{
	sink += (uint64_t)pf_fast(42);
}

static void op_bare(void)
{
	sink += (uint64_t)pf_bare(42);
}

static void op_miss(void)
{
	sink += (uint64_t)pf_fast(counter++); /* a new key each call */
}

static void op_sleep(void)
{
	sink += (uint64_t)pf_sleep(1, 1000);
}

static void op_sleepmiss(void)
{
	sink += (uint64_t)pf_sleep(counter++, 1000);
}

static void op_small(void)
{
	sink += pf_sum(big, 16);
}

static void op_big(void)
{
	sink += pf_sum(big, BIG);
}

static const struct {
	const char *name;
	void (*fn)(void);
	int raw;
} cases[] = {
    {"fast", op_fast, 0},
    {"bare", op_bare, 0},
    {"miss", op_miss, 0},
    {"sleep", op_sleep, 0},
    {"sleepmiss", op_sleepmiss, 0},
    {"small", op_small, 0},
    {"big", op_big, 0},
    {"rawget", op_rawget, 1},
    {"rawmget3", op_rawmget3, 1},
    {"rawset", op_rawset, 1},
    {"out", op_out, 0},
    {"rawout", op_rawout, 2},
};

static void prepare(int c)
{
	if (cases[c].raw == 1 && !rklen[0])
		raw_prepare();
	if (cases[c].raw == 2 && !outklen)
		rawout_prepare();
}

static int find_case(const char *name)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(cases[i].name, name) == 0)
			return (int)i;
	fprintf(stderr, "bench: no case %s\n", name);
	exit(2);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double block_ns(void (*fn)(void), long n)
{
	double t0 = now_ns();

	for (long i = 0; i < n; i++)
		fn();
	return (now_ns() - t0) / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int run_cases(int rounds, long block, int ncase, char **names)
{
	static double t[MAX_CASES][MAX_ROUNDS], ratio[MAX_CASES][MAX_ROUNDS];
	int idx[MAX_CASES];

	if (ncase < 1 || ncase > MAX_CASES || rounds < 1 || rounds > MAX_ROUNDS)
		return 2;
	for (int c = 0; c < ncase; c++) {
		idx[c] = find_case(names[c]);
		prepare(idx[c]);
		block_ns(cases[idx[c]].fn, block / 10 + 1); /* warm-up */
	}
	for (int r = 0; r < rounds; r++)
		for (int c = 0; c < ncase; c++)
			t[c][r] = block_ns(cases[idx[c]].fn, block);
	for (int c = 0; c < ncase; c++) {
		for (int r = 0; r < rounds; r++)
			ratio[c][r] = t[c][r] / t[0][r];
		double m = median(t[c], rounds);
		printf("%s %.1f %.4f\n", names[c], m, median(ratio[c], rounds));
	}
	return 0;
}

struct thr {
	void (*fn)(void);
	double seconds;
	long ops;
	double ran_s;
};

static double real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Waits for $BENCH_START (CLOCK_REALTIME ns) if set; returns the
 * CLOCK_MONOTONIC instant the run ends at. */
static double wait_start(double seconds)
{
	const char *st = getenv("BENCH_START");
	double start = st ? strtod(st, NULL) : 0, ahead = st ? start - real_ns() : 0;

	if (ahead > 0) {
		struct timespec ts = {(time_t)(start / 1e9), (long)fmod(start, 1e9)};
		while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) != 0)
			;
		ahead = 0;
	}
	return now_ns() + ahead + seconds * 1e9;
}

static void *thread_main(void *p)
{
	struct thr *th = p;
	double t0, end;

	for (int i = 0; i < 100; i++)
		th->fn(); /* this thread's connection, before the window */
	end = wait_start(th->seconds);
	t0 = now_ns();
	while (now_ns() < end) {
		for (int i = 0; i < 100; i++)
			th->fn();
		th->ops += 100;
	}
	th->ran_s = (now_ns() - t0) / 1e9;
	return NULL;
}

static int run_threads(int n, double seconds, const char *name)
{
	pthread_t tid[64];
	struct thr th[64];
	double total = 0;
	int c = find_case(name);
	void (*fn)(void) = cases[c].fn;

	if (n < 1 || n > 64)
		return 2;
	prepare(c);
	block_ns(fn, 1000);
	for (int i = 0; i < n; i++) {
		th[i] = (struct thr){fn, seconds, 0, 0};
		if (pthread_create(&tid[i], NULL, thread_main, &th[i]) != 0)
			return 2;
	}
	for (int i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		total += th[i].ran_s > 0 ? (double)th[i].ops / th[i].ran_s : 0;
	}
	printf("threads %d %.0f\n", n, total);
	return 0;
}

static int w50_i;

static void op_w50(void)
{
	sink += (uint64_t)call50(w50_i++ % 50, 7);
}

static int run_worst(double seconds, const char *name)
{
	void (*fn)(void) = cases[find_case(name)].fn;
	double worst = 0, end;
	long n = 0;

	block_ns(fn, 1000);
	end = now_ns() + seconds * 1e9;
	while (now_ns() < end) {
		double t0 = now_ns(), d;

		fn();
		d = now_ns() - t0;
		if (d > worst)
			worst = d;
		if (++n % 1000 == 0) {
			op_miss();
			op_small();
		}
	}
	printf("worst %.0f %ld\n", worst, n);
	return 0;
}

static int run_worst50(double seconds)
{
	size_t cap = (size_t)(seconds * 2e6) + 64, n = 0;
	double *t = malloc(cap * sizeof(*t)), med, end;

	if (!t)
		return 2;
	block_ns(op_w50, 100); /* the first 50 miss: the values stored */
	end = now_ns() + seconds * 1e9;
	while (now_ns() < end && n < cap) {
		double t0 = now_ns();

		op_w50();
		t[n++] = now_ns() - t0;
	}
	if (n == 0)
		return 2;
	med = median(t, (int)n); /* sorts t */
	printf("worst50 %.0f %.0f %.0f %zu\n", t[n - 1], t[n - 1 - n / 1000], med, n);
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	counter = (int)(getpid() & 0xffff) << 14; /* runs of one config use new keys */
	big = calloc(1, BIG);
	if (!big)
		return 2;
	for (int i = 0; i < BIG; i++)
		big[i] = (unsigned char)(i * 31);
	outbuf = calloc(1, OUT_CAP);
	out_size = getenv("BENCH_SIZE") ? atoi(getenv("BENCH_SIZE")) : 16;
	if (!outbuf)
		return 2;
	if (argc >= 5 && strcmp(argv[1], "cases") == 0)
		return run_cases(atoi(argv[2]), atol(argv[3]), argc - 4, argv + 4);
	if (argc == 5 && strcmp(argv[1], "threads") == 0)
		return run_threads(atoi(argv[2]), atof(argv[3]), argv[4]);
	if (argc == 4 && strcmp(argv[1], "worst") == 0)
		return run_worst(atof(argv[2]), argv[3]);
	if (argc == 3 && strcmp(argv[1], "worst50") == 0)
		return run_worst50(atof(argv[2]));
	fprintf(stderr, "usage: bench cases ROUNDS BLOCK CASE... | bench threads T SECONDS CASE | "
			"bench worst SECONDS CASE | bench worst50 SECONDS\n");
	return 2;
}
