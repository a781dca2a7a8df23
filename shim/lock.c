/* lock.c - the stampede lock over memcached add/delete; see lock.h. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "err.h"
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

int lock_acquire(struct txc_cache *c, int fn, const struct txc_key *key)
{
	uint32_t ttl = (c->cfg->fns[fn].lock_timeout_ms + 999) / 1000 + 1;
	struct txc_key lk;

	lock_key(key, &lk);
	return store_add(c->store, &lk, "1", 1, ttl);
}

void lock_release(struct txc_cache *c, int fn, const struct txc_key *key)
{
	struct txc_key lk;

	(void)fn;
	lock_key(key, &lk);
	store_delete(c->store, &lk);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
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
