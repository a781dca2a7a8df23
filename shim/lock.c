/* lock.c - the stampede lock over memcached add/delete; see lock.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "guard.h"
#include "lock.h"

#define POLL_MIN_MS 1
#define POLL_MAX_MS 20

/* "<key>:lock": at most 197 + 5 bytes, within memcached's 250. */
static void lock_key(const struct txc_key *key, struct txc_key *out)
{
	memcpy(out->text, key->text, key->len);
	memcpy(out->text + key->len, ":lock", 6);
	out->len = key->len + 5;
	out->digest = key->digest;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Unique per acquisition across processes: random, else time and pid. */
static uint64_t new_token(void)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint64_t)now_ns() * 6364136223846793005u ^ (uint64_t)getpid();
	return r;
}

static size_t token_text(uint64_t token, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%016" PRIx64, token);
}

int lock_acquire(struct txc_cache *c, int fn, const struct txc_key *key, struct txc_lock *held)
{
	struct txc_key lk;
	char text[24];
	int rc;

	held->held = false;
	held->ttl_s = (c->cfg->fns[fn].lock_timeout_ms + 999) / 1000 + 1;
	held->token = new_token();
	held->sent_ns = now_ns();
	lock_key(key, &lk);
	rc = store_add(c->store, &lk, text, token_text(held->token, text, sizeof(text)),
		       held->ttl_s);
	held->held = rc == 0;
	return rc;
}

/* Whether the lock may have expired by the end of a release begun now:
 * memcached may expire it up to a second early (whole-second clock). */
static bool may_have_expired(const struct txc_cache *c, const struct txc_lock *held)
{
	int64_t life = ((int64_t)held->ttl_s - 1) * 1000000000;
	int64_t release = (int64_t)c->cfg->timeout_ms * 2 * 1000000; /* gets + delete */

	return now_ns() - held->sent_ns + release >= life;
}

void lock_release(struct txc_cache *c, int fn, const struct txc_key *key, struct txc_lock *held)
{
	const struct txc_key *keys[1];
	struct txc_buf cur;
	struct txc_key lk;
	char text[24];
	size_t n;
	bool mine;

	(void)fn;
	if (!held->held)
		return;
	held->held = false;
	if (may_have_expired(c, held))
		return; /* it expires by itself; it may be another's by now */
	lock_key(key, &lk);
	keys[0] = &lk;
	if (store_mget(c->store, keys, 1, &cur) != 0)
		return;
	n = token_text(held->token, text, sizeof(text));
	mine = cur.data && cur.len == n && memcmp(cur.data, text, n) == 0;
	store_bufs_free(&cur, 1);
	if (mine)
		store_delete(c->store, &lk);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Holds nothing while it sleeps: the host's handlers deferred by the guard
 * (a timeout's siglongjmp) run now rather than after lock_timeout_ms. */
static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	uintptr_t owner = guard_pause();

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	guard_resume(owner);
}

/* One poll: 0 with a verified value in *LK, TXC_EEXIST while the lock is
 * still held, TXC_ENOTFOUND when it is gone, or a store failure code. */
static int poll_once(struct txc_cache *c, int fn, const struct txc_key *key, struct txc_lookup *lk)
{
	const struct txc_key *keys[1];
	struct txc_value_meta meta;
	struct txc_result res;
	struct txc_buf held;
	struct txc_key lkey;
	int rc = cache_lookup(c, fn, key, lk);

	if (rc != 0)
		return rc;
	if (cache_decode(c, fn, key, lk, &meta, &res) == 0)
		return 0;
	cache_lookup_free(lk);
	lock_key(key, &lkey);
	keys[0] = &lkey;
	rc = store_mget(c->store, keys, 1, &held);
	if (rc != 0)
		return rc;
	rc = held.data ? TXC_EEXIST : TXC_ENOTFOUND;
	store_bufs_free(&held, 1);
	return rc;
}

int lock_wait(struct txc_cache *c, int fn, const struct txc_key *key, uint32_t timeout_ms,
	      struct txc_lookup *lk)
{
	int64_t deadline = now_ms() + timeout_ms, left;
	int64_t pause = POLL_MIN_MS;
	int saved = errno, rc;

	memset(lk, 0, sizeof(*lk));
	for (;;) {
		left = deadline - now_ms();
		if (left <= 0) {
			rc = TXC_ETIMEOUT;
			break;
		}
		sleep_ms(pause < left ? pause : left);
		rc = poll_once(c, fn, key, lk);
		if (rc != TXC_EEXIST)
			break;
		pause = pause * 2 > POLL_MAX_MS ? POLL_MAX_MS : pause * 2;
	}
	errno = saved;
	return rc;
}
