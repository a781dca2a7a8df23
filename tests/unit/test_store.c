/* test_store.c - store.c against real memcached servers started here.
 *
 * Starts memcached on a unix socket (or uses TXCACHE_TEST_SOCKET) and on a
 * free TCP port, and kills exactly the pids it started, also when a check
 * fails. Fault injection: a listener that never answers, a closed port.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "err.h"
#include "store.h"

static pid_t started[4];
static int nstarted;
static pid_t main_pid;
static char tmpdir[64];
static char sock_path[128];

static void cleanup(void)
{
	char path[256];

	if (getpid() != main_pid)
		return;
	for (int i = 0; i < nstarted; i++) {
		kill(started[i], SIGKILL);
		waitpid(started[i], NULL, 0);
	}
	nstarted = 0;
	if (tmpdir[0]) {
		snprintf(path, sizeof(path), "%s/mc.sock", tmpdir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/mc.pid", tmpdir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/tcp.pid", tmpdir);
		unlink(path);
		rmdir(tmpdir);
	}
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Connects to a unix PATH, or to 127.0.0.1:PORT when PATH is NULL. */
static int connect_to(const char *path, unsigned port)
{
	int fd;

	if (path) {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return fd;
	} else {
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};

		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			return fd;
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Polls until the server answers "version", up to 5 s. */
static int wait_ready(const char *path, unsigned port)
{
	double end = now_ms() + 5000;
	char buf[64];

	while (now_ms() < end) {
		int fd = connect_to(path, port);

		if (fd >= 0) {
			struct pollfd p = {.fd = fd, .events = POLLIN};
			ssize_t n = 0;

			if (write(fd, "version\r\n", 9) == 9 && poll(&p, 1, 200) == 1)
				n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n > 7 && memcmp(buf, "VERSION", 7) == 0)
				return 0;
		}
		sleep_ms(5);
	}
	return -1;
}

static pid_t start_memcached(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid > 0)
		started[nstarted++] = pid;
	return pid;
}

/* A free TCP port on 127.0.0.1 (bound to port 0, then released). */
static unsigned free_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port = 0;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* A listener that never accepts nor answers; *PORT gets its port. */
static int mute_listener(unsigned *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 4) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

static void key_of(struct txc_key *k, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(k->text, sizeof(k->text), "tst%d:", (int)main_pid);

	va_start(ap, fmt);
	vsnprintf(k->text + n, sizeof(k->text) - n, fmt, ap);
	va_end(ap);
	k->len = strlen(k->text);
	memset(&k->digest, 0, sizeof(k->digest));
}

static struct txc_store *open_one(const char *host, unsigned port, uint32_t timeout_ms, int *err)
{
	struct txc_config *cfg = calloc(1, sizeof(*cfg));
	struct txc_store *st = NULL;

	if (!cfg) {
		*err = TXC_ENOMEM;
		return NULL;
	}
	cfg->nservers = 1;
	snprintf(cfg->servers[0].host, sizeof(cfg->servers[0].host), "%s", host);
	cfg->servers[0].port = port;
	cfg->servers[0].is_socket = host[0] == '/';
	cfg->timeout_ms = timeout_ms;
	*err = store_open(cfg, &st);
	free(cfg);
	return st;
}

/* Sets K to V then reads it back; returns 1 when the value came back. */
static int set_get(struct txc_store *st, const struct txc_key *k, const char *v)
{
	const struct txc_key *keys[1] = {k};
	struct txc_buf val;
	size_t len = strlen(v);
	int ok;

	if (store_set(st, k, v, len, 0) != 0 || store_mget(st, keys, 1, &val) != 0)
		return 0;
	ok = val.data && val.len == len && memcmp(val.data, v, len) == 0;
	store_bufs_free(&val, 1);
	return ok;
}

static void test_basic(struct txc_store *st)
{
	struct txc_key a, b, x, c;
	const struct txc_key *k3[3] = {&a, &x, &b};
	const struct txc_key *k1[1] = {&x};
	struct txc_buf v[3];
	uint64_t nv = 0;

	key_of(&a, "a");
	key_of(&b, "b");
	key_of(&x, "absent");
	key_of(&c, "counter");
	CHECK(store_set(st, &a, "alpha", 5, 0) == 0, "set a");
	CHECK(store_set(st, &b, "beta!", 5, 60) == 0, "set b with a ttl");
	CHECK(store_mget(st, k3, 1, v) == 0 && v[0].len == 5 && !memcmp(v[0].data, "alpha", 5),
	      "mget of one key");
	store_bufs_free(v, 1);
	CHECK(store_mget(st, k1, 1, v) == 0 && v[0].data == NULL, "mget of an absent key: NULL");
	CHECK(store_mget(st, k3, 2, v) == 0 && v[0].data && v[1].data == NULL,
	      "mget of two keys, one absent");
	store_bufs_free(v, 2);
	CHECK(store_mget(st, k3, 3, v) == 0 && v[0].len == 5 && !memcmp(v[0].data, "alpha", 5) &&
		  v[1].data == NULL && v[2].len == 5 && !memcmp(v[2].data, "beta!", 5),
	      "mget of three keys matches values to keys");
	store_bufs_free(v, 3);
	CHECK(v[0].data == NULL && v[2].data == NULL, "store_bufs_free clears the pointers");

	CHECK(store_add(st, &a, "zzz", 3, 0) == TXC_EEXIST, "add of an existing key: EEXIST");
	CHECK(store_delete(st, &x) == 0, "delete of an absent key is success");
	CHECK(store_add(st, &x, "new", 3, 0) == 0, "add of an absent key");
	CHECK(set_get(st, &a, "alpha"), "add did not overwrite");

	store_delete(st, &c);
	CHECK(store_incr(st, &c, &nv) == TXC_ENOTFOUND, "incr of an absent key: ENOTFOUND");
	CHECK(store_set(st, &c, "41", 2, 0) == 0, "set counter");
	CHECK(store_incr(st, &c, &nv) == 0 && nv == 42, "incr gives 42 (got %llu)",
	      (unsigned long long)nv);
	CHECK(store_delete(st, &x) == 0 && store_mget(st, k1, 1, v) == 0 && v[0].data == NULL,
	      "delete removes the key");
}

/* Reads K; returns its CAS unique (0 when absent or on failure). */
static uint64_t cas_of(struct txc_store *st, const struct txc_key *k)
{
	const struct txc_key *keys[1] = {k};
	struct txc_buf v;
	uint64_t cas;

	if (store_mget(st, keys, 1, &v) != 0)
		return 0;
	cas = v.data ? v.cas : 0;
	store_bufs_free(&v, 1);
	return cas;
}

/* The miss path's leases (cache.h): a cas against what a lookup saw fails
 * once anything wrote the key since, even the same bytes. */
static void test_cas(struct txc_store *st)
{
	struct txc_key k, g, x;
	const struct txc_key *k3[3] = {&k, &g, &x};
	struct txc_buf v[3];
	uint64_t c1, c2;

	key_of(&k, "cas-k");
	key_of(&g, "cas-g");
	key_of(&x, "cas-absent");
	store_delete(st, &x);
	CHECK(store_set(st, &k, "one", 3, 0) == 0 && store_set(st, &g, "7", 1, 0) == 0, "set two");
	CHECK(store_mget(st, k3, 3, v) == 0 && v[0].cas != 0 && v[1].cas != 0 &&
		  v[0].cas != v[1].cas && v[2].data == NULL && v[2].cas == 0,
	      "one mget gives each key's CAS, 0 for the absent one");
	c1 = v[0].cas;
	store_bufs_free(v, 3);
	CHECK(v[0].cas == 0, "store_bufs_free clears the CAS");
	CHECK(store_cas(st, &k, "two", 3, 0, c1) == 0, "cas with the CAS just read stores");
	CHECK(set_get(st, &g, "7"), "the other key is untouched");
	CHECK(store_cas(st, &k, "three", 5, 0, c1) == TXC_EEXIST, "cas with a used CAS: EEXIST");
	c2 = cas_of(st, &k);
	CHECK(c2 != 0 && c2 != c1, "the store changed the CAS");
	CHECK(store_set(st, &k, "two", 3, 0) == 0, "an invalidation rewrites the same bytes");
	CHECK(store_cas(st, &k, "old", 3, 0, c2) == TXC_EEXIST,
	      "cas after any write in between: EEXIST");
	CHECK(set_get(st, &k, "two"), "and nothing was stored");
	c2 = cas_of(st, &k);
	CHECK(store_delete(st, &k) == 0 && store_cas(st, &k, "old", 3, 0, c2) == TXC_ENOTFOUND,
	      "cas of a deleted key: ENOTFOUND");
	CHECK(cas_of(st, &k) == 0, "and it stays absent");
	CHECK(store_add(st, &x, "a", 1, 0) == 0 && store_add(st, &x, "b", 1, 0) == TXC_EEXIST,
	      "add stores once, then EEXIST");
}

static void test_values(struct txc_store *st)
{
	static const uint8_t bin1[] = {0, 1, 0, 255, '\r', '\n', 0};
	static const uint8_t bin2[] = {'E', 'N', 'D', '\r', '\n', 0};
	size_t big_len = 1536 * 1024;
	uint8_t *big = calloc(1, big_len);
	struct txc_key k[3];
	const struct txc_key *kp[3] = {&k[0], &k[1], &k[2]};
	struct txc_buf v[3];

	for (int i = 0; i < 3; i++)
		key_of(&k[i], "bin%d", i);
	CHECK(store_set(st, &k[0], bin1, sizeof(bin1), 0) == 0, "set a value with NUL bytes");
	CHECK(store_set(st, &k[1], "", 0, 0) == 0, "set an empty value");
	CHECK(store_set(st, &k[2], bin2, sizeof(bin2), 0) == 0, "set a value with END\\r\\n");
	CHECK(store_mget(st, kp, 3, v) == 0, "mget of binary values");
	CHECK(v[0].len == sizeof(bin1) && v[0].data && !memcmp(v[0].data, bin1, sizeof(bin1)),
	      "binary value 1 intact");
	CHECK(v[1].data != NULL && v[1].len == 0, "empty value is present with length 0");
	CHECK(v[2].len == sizeof(bin2) && v[2].data && !memcmp(v[2].data, bin2, sizeof(bin2)),
	      "binary value 2 intact");
	store_bufs_free(v, 3);

	CHECK(big && store_set(st, &k[0], big, big_len, 0) == TXC_ETOOBIG, "1.5 MB value: ETOOBIG");
	CHECK(set_get(st, &k[1], "after-big"), "the connection works after ETOOBIG");
	CHECK(!store_breaker_open(st), "ETOOBIG does not open the breaker");
	free(big);
}

struct thr_arg {
	struct txc_store *st;
	int id;
	int bad;
};

static void *thr_main(void *p)
{
	struct thr_arg *a = p;
	struct txc_key k;
	char v[64];

	for (int i = 0; i < 2000; i++) {
		key_of(&k, "thr%d:%d", a->id, i);
		snprintf(v, sizeof(v), "value-%d-%d-%x", a->id, i, i * 2654435761u);
		if (!set_get(a->st, &k, v))
			a->bad++;
	}
	return NULL;
}

static void test_threads(struct txc_store *st)
{
	pthread_t t[8];
	struct thr_arg a[8];
	int bad = 0, started_ok = 1;

	for (int i = 0; i < 8; i++) {
		a[i] = (struct thr_arg){st, i, 0};
		if (pthread_create(&t[i], NULL, thr_main, &a[i]) != 0)
			started_ok = 0, t[i] = 0;
	}
	for (int i = 0; i < 8; i++) {
		if (t[i])
			pthread_join(t[i], NULL);
		bad += a[i].bad;
	}
	CHECK(started_ok, "8 threads started");
	CHECK(bad == 0, "8 threads x 2000 set/get, every value right (%d bad)", bad);
}

/* Runs N set/get pairs of keys named TAG; returns the number of wrong ones. */
static int churn(struct txc_store *st, const char *tag, int n)
{
	struct txc_key k;
	char v[64];
	int bad = 0;

	for (int i = 0; i < n; i++) {
		key_of(&k, "%s:%d", tag, i % 50);
		snprintf(v, sizeof(v), "%s-%d", tag, i);
		if (!set_get(st, &k, v))
			bad++;
	}
	return bad;
}

static void test_fork(struct txc_store *st)
{
	int status = -1, bad;
	pid_t pid;

	CHECK(churn(st, "parent", 10) == 0, "parent connected");
	pid = fork();
	if (pid == 0) {
		int cbad = churn(st, "child", 1000);

		store_close(st);
		_exit(cbad == 0 ? 0 : 1);
	}
	bad = churn(st, "parent", 1000);
	if (pid > 0)
		waitpid(pid, &status, 0);
	CHECK(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "child's ops on its own connection all right");
	CHECK(bad == 0, "parent's ops during the child all right (%d bad)", bad);

	/* A child that only closes must not quit the parent's connection. */
	pid = fork();
	if (pid == 0) {
		store_close(st);
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	CHECK(churn(st, "parent2", 200) == 0, "parent's ops after a child closed the store");
}

/* A reply that arrives after its request timed out must not be taken as
 * the answer to the next request. Needs our own memcached to stop. */
static void test_late_reply(pid_t mc)
{
	int err, status;
	struct txc_store *st = open_one(sock_path, 0, 50, &err);
	struct txc_key k1, k2;
	const struct txc_key *kp1[1] = {&k1}, *kp2[1] = {&k2};
	struct txc_buf v = {NULL, 0, 0};
	double deadline;

	if (!st) {
		CHECK(0, "store for the late-reply test (err %d)", err);
		return;
	}
	key_of(&k1, "late1");
	key_of(&k2, "late2");
	CHECK(store_set(st, &k1, "one", 3, 0) == 0 && store_set(st, &k2, "two", 3, 0) == 0,
	      "late reply: keys set");
	/* Wait until it is really stopped: kill() returns before that. */
	kill(mc, SIGSTOP);
	waitpid(mc, &status, WUNTRACED);
	err = store_mget(st, kp1, 1, &v);
	kill(mc, SIGCONT);
	waitpid(mc, &status, WCONTINUED);
	CHECK(err == TXC_ETIMEOUT && v.data == NULL, "stopped server: ETIMEOUT (err %d)", err);
	deadline = now_ms() + 2000;
	while (store_breaker_open(st) && now_ms() < deadline)
		sleep_ms(5);
	err = store_mget(st, kp2, 1, &v);
	CHECK(err == 0 && v.data && v.len == 3 && !memcmp(v.data, "two", 3),
	      "next request gets its own reply, not the late one (err %d, %.*s)", err,
	      v.data ? (int)v.len : 0, v.data ? (const char *)v.data : "");
	store_bufs_free(&v, 1);
	store_close(st);
}

static void test_mute_server(void)
{
	unsigned port = 0;
	int lfd = mute_listener(&port), err;
	struct txc_store *st = open_one("127.0.0.1", port, 50, &err);
	struct txc_key k;
	const struct txc_key *kp[1] = {&k};
	struct txc_buf v;
	double t0, dt, deadline;

	CHECK(lfd >= 0 && st, "store on a listener that never answers");
	if (!st) {
		if (lfd >= 0)
			close(lfd);
		return;
	}
	key_of(&k, "mute");
	t0 = now_ms();
	err = store_mget(st, kp, 1, &v);
	dt = now_ms() - t0;
	CHECK(err == TXC_ETIMEOUT || err == TXC_EUNAVAIL, "silent server: timeout (err %d)", err);
	CHECK(dt < 1000, "silent server: bounded (%.1f ms with timeout_ms=50)", dt);
	CHECK(v.data == NULL, "failed mget leaves values NULL");
	CHECK(store_breaker_open(st), "breaker open after the timeout");
	t0 = now_ms();
	err = store_set(st, &k, "x", 1, 0);
	dt = now_ms() - t0;
	CHECK(err == TXC_EUNAVAIL && dt < 20, "breaker open: EUNAVAIL at once (%.3f ms)", dt);
	CHECK(store_incr(st, &k, &(uint64_t){0}) == TXC_EUNAVAIL, "breaker open: incr refused");

	deadline = now_ms() + 1000;
	while (store_breaker_open(st) && now_ms() < deadline)
		sleep_ms(5);
	CHECK(!store_breaker_open(st), "breaker lets a probe through after its interval");
	t0 = now_ms();
	err = store_set(st, &k, "x", 1, 0);
	dt = now_ms() - t0;
	CHECK((err == TXC_ETIMEOUT || err == TXC_EUNAVAIL) && dt < 1000,
	      "failed probe bounded (err %d, %.1f ms)", err, dt);
	CHECK(store_breaker_open(st), "failed probe reopens the breaker");
	store_close(st);
	close(lfd);
}

/* A closed port fails fast; then memcached starts there and the store
 * recovers through the breaker's probe. Leaves that memcached running. */
static void test_closed_then_tcp(unsigned port)
{
	char pbuf[16], pidf[128];
	char *argv[] = {"memcached", "-u", "root", "-l", "127.0.0.1", "-p", pbuf, "-P", pidf, NULL};
	struct txc_store *st, *st2;
	struct txc_key k;
	double t0, dt, deadline;
	int err;

	st = open_one("127.0.0.1", port, 200, &err);
	CHECK(st != NULL, "store on a closed port opens (no connect yet)");
	if (!st)
		return;
	key_of(&k, "tcp");
	t0 = now_ms();
	err = store_set(st, &k, "v", 1, 0);
	dt = now_ms() - t0;
	CHECK(err == TXC_EUNAVAIL && dt < 1000, "closed port: EUNAVAIL (err %d, %.1f ms)", err, dt);
	CHECK(store_breaker_open(st), "closed port opens the breaker");

	snprintf(pbuf, sizeof(pbuf), "%u", port);
	snprintf(pidf, sizeof(pidf), "%s/tcp.pid", tmpdir);
	CHECK(start_memcached(argv) > 0 && wait_ready(NULL, port) == 0, "TCP memcached on %u",
	      port);
	t0 = now_ms();
	deadline = t0 + 5000;
	while ((err = store_set(st, &k, "v", 1, 0)) != 0 && now_ms() < deadline)
		sleep_ms(10);
	CHECK(err == 0, "recovers after the server comes up (%.0f ms)", now_ms() - t0);
	CHECK(!store_breaker_open(st), "successful probe closes the breaker");
	CHECK(set_get(st, &k, "over tcp"), "set/get over TCP");
	store_close(st);

	/* Host names are resolved on the first operation, never at open. */
	st2 = open_one("localhost", port, 200, &err);
	CHECK(st2 && set_get(st2, &k, "via localhost"), "host name resolved to loopback");
	store_close(st2);
	st2 = open_one("no-such-host.invalid", port, 200, &err);
	CHECK(st2 != NULL && err == 0, "unresolvable host: open does no lookup (err %d)", err);
	if (!st2)
		return;
	t0 = now_ms();
	err = store_set(st2, &k, "v", 1, 0);
	dt = now_ms() - t0;
	CHECK(err == TXC_EUNAVAIL, "unresolvable host: EUNAVAIL (err %d, %.1f ms)", err, dt);
	CHECK(store_breaker_open(st2), "unresolvable host: the store says it is unusable");
	store_close(st2);
}

/* A server that answers every request one byte per 100 ms: a 45-byte
 * reply. Stops after one connection or 60 bytes. */
static void *drip_serve(void *arg)
{
	static const char reply[] = "VALUE k 0 20\r\n01234567890123456789\r\nEND\r\n";
	int lfd = *(int *)arg, fd;
	char buf[512];

	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	if (read(fd, buf, sizeof(buf)) > 0)
		for (size_t i = 0; i < sizeof(reply) - 1; i++)
			if (write(fd, reply + i, 1) != 1 || (sleep_ms(100), 0))
				break;
	close(fd);
	return NULL;
}

/* timeout_ms bounds the operation, not each wait (old behaviour: 4.5 s). */
static void test_drip_server(void)
{
	unsigned port = 0;
	int lfd = mute_listener(&port), err;
	struct txc_store *st = open_one("127.0.0.1", port, 200, &err);
	struct txc_key k;
	const struct txc_key *kp[1] = {&k};
	struct txc_buf v = {NULL, 0, 0};
	pthread_t th;
	double t0, dt;

	CHECK(lfd >= 0 && st, "store on a dripping server");
	if (lfd < 0 || !st || pthread_create(&th, NULL, drip_serve, &lfd) != 0) {
		store_close(st);
		if (lfd >= 0)
			close(lfd);
		return;
	}
	key_of(&k, "drip");
	t0 = now_ms();
	err = store_mget(st, kp, 1, &v);
	dt = now_ms() - t0;
	CHECK(err == TXC_ETIMEOUT && v.data == NULL, "drip: ETIMEOUT (err %d)", err);
	CHECK(dt < 2000, "drip: one deadline for the operation (%.0f ms, timeout_ms=200)", dt);
	CHECK(store_breaker_open(st), "drip: a missed deadline opens the breaker");
	store_close(st);
	shutdown(lfd, SHUT_RDWR);
	pthread_join(th, NULL);
	close(lfd);
}

static void test_two_servers(unsigned port)
{
	struct txc_config *cfg = calloc(1, sizeof(*cfg));
	struct txc_store *st = NULL;
	struct txc_key k;
	char v[32];
	int bad = 0;

	if (!cfg)
		return;
	cfg->nservers = 2;
	snprintf(cfg->servers[0].host, sizeof(cfg->servers[0].host), "%s", sock_path);
	cfg->servers[0].is_socket = 1;
	snprintf(cfg->servers[1].host, sizeof(cfg->servers[1].host), "127.0.0.1");
	cfg->servers[1].port = port;
	cfg->timeout_ms = 500;
	CHECK(store_open(cfg, &st) == 0, "store on two servers (consistent hashing)");
	free(cfg);
	for (int i = 0; st && i < 100; i++) {
		key_of(&k, "two:%d", i);
		snprintf(v, sizeof(v), "v%d", i);
		bad += !set_get(st, &k, v);
	}
	CHECK(st && bad == 0, "100 keys over two servers (%d bad)", bad);
	store_close(st);
}

static int start_unix(void)
{
	char pidf[128];
	char *argv[] = {"memcached", "-u", "root", "-s", sock_path, "-P", pidf, NULL};
	const char *env = getenv("TXCACHE_TEST_SOCKET");

	if (env && env[0]) {
		snprintf(sock_path, sizeof(sock_path), "%s", env);
		return wait_ready(sock_path, 0);
	}
	snprintf(sock_path, sizeof(sock_path), "%s/mc.sock", tmpdir);
	snprintf(pidf, sizeof(pidf), "%s/mc.pid", tmpdir);
	if (start_memcached(argv) <= 0)
		return -1;
	return wait_ready(sock_path, 0);
}

int main(void)
{
	struct txc_store *st;
	unsigned port;
	int err;

	main_pid = getpid();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/txc-store-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return check_done();
	}
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	CHECK(start_unix() == 0, "memcached on a unix socket answers");
	st = open_one(sock_path, 0, 1000, &err);
	CHECK(st != NULL && err == 0, "store_open on the unix socket");
	if (st) {
		test_basic(st);
		test_cas(st);
		test_values(st);
		test_threads(st);
		test_fork(st);
		store_close(st);
	}
	if (nstarted == 1)
		test_late_reply(started[0]);
	test_mute_server();
	test_drip_server();
	port = free_port();
	CHECK(port != 0, "found a free port");
	test_closed_then_tcp(port);
	test_two_servers(port);
	store_close(NULL);
	return check_done();
}
