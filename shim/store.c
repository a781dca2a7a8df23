/* store.c - libmemcached behind per-thread handles and a shared breaker.
 *
 * The template memcached_st never connects; each thread clones it once.
 * Handles remember the fork generation and pid that created them, so a
 * child detects inherited handles with one relaxed load per operation.
 *
 * Over 500 lines: libmemcached's return codes need full mapping tables, and
 * handles, breakers and fork state are one concern, each op touching all three
 * (SASL's state too: the password until the template takes it, the one probe,
 * and "authentication refused: off"; the SASL mechanics are in mcsasl.c).
 * A pipelined store's reply belongs to the handle too (struct pending).
 */
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "mc.h"
#include "mcio.h"
#include "mcsasl.h"
#include "resolve.h"
#include "store.h"
#include "tslot.h"

#define BACKOFF_MIN_MS	 100
#define BACKOFF_MAX_MS	 5000
#define RETRY_TIMEOUT_S	 1
#define MGET_MAX	 16
#define RESOLVE_RETRY_MS 5000

/* A store sent without waiting for its reply (store_add_nowait): the
 * reply is read from FD before the handle's next operation. */
struct pending {
	int fd;		  /* -1: none */
	unsigned long id; /* the socket's identity (mcfd_socket_id) */
	struct breaker *br;
	uint32_t tag;
	size_t len;
};

struct store_handle {
	memcached_st *mc;
	pid_t pid;
	unsigned gen;
	struct pending pend;
};

/* One per server: a dead server refuses only the keys that live on it. */
struct breaker {
	/* CLOCK_MONOTONIC ns until which calls are refused; 0 = closed. */
	_Atomic int64_t open_until;
	_Atomic uint32_t backoff_ms;
};

struct txc_store {
	memcached_st *tmpl;		/* made on first use, under clone_mu (tmpl_ensure) */
	int tmpl_err;			/* why it could not be made: every later call fails so */
	int64_t resolve_retry_ns;	/* a lookup failed: no new one before (monotonic) */
	bool resolved[TXC_MAX_SERVERS]; /* cfg->servers[i].host is numeric now */
	atomic_bool ready;		/* tmpl is made: store_breaker_open's fast path */
	struct txc_config *cfg;		/* copy for tmpl_ensure: names resolved, no fns */
	unsigned slot;			/* the per-thread handle (tslot.h: no pthread key) */
	uint32_t timeout_ms;
	int nservers;
	struct breaker br[TXC_MAX_SERVERS];
	/* SASL (mcsasl.h): the password until tmpl_ensure hands it over, the
	 * binary protocol, and an authentication that failed: off for good */
	char *sasl_pw;
	bool binary;
	atomic_bool auth_off;
	atomic_bool probed; /* sasl_probe ran (or runs) */
	store_done_fn done; /* store_on_done */
	void *done_ctx;
};

/* What an outcome says about the server's health. */
enum outcome {
	OUT_ANSWER, /* the server replied (even with an error) */
	OUT_FAIL,   /* timeout, refused, broken connection */
	OUT_LOCAL   /* nothing was sent: the handle's own state or memory */
};

struct op {
	struct txc_store *st;
	struct breaker *br;
	struct store_handle *h;
	bool probe;
	int64_t t0;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Held by clones and by fork(): a child never inherits it locked. */
static pthread_mutex_t clone_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static atomic_uint fork_gen;
static atomic_int cur_pid;

static void fork_prepare(void)
{
	pthread_mutex_lock(&clone_mu);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&clone_mu);
}

static void fork_child(void)
{
	pthread_mutex_unlock(&clone_mu);
	atomic_store(&cur_pid, (int)getpid());
	atomic_fetch_add(&fork_gen, 1);
}

static void fork_init(void)
{
	atomic_store(&cur_pid, (int)getpid());
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* Thread exit. getpid() rather than cur_pid: a raw clone() skips atfork,
 * and freeing a parent's handle would send "quit" on the parent's socket. */
static struct txc_store *g_store; /* for handle_destroy's pending reply */

static void pending_finish(struct txc_store *st, struct store_handle *h);
static bool pending_after(struct op *op);

static void handle_destroy(void *p)
{
	struct store_handle *h = p;

	if (h->pid == getpid()) {
		if (h->pend.fd >= 0 && g_store)
			pending_finish(g_store, h);
		MC(free)(h->mc);
	}
	free(h);
}

static int tmpl_setup(memcached_st *mc, const struct txc_config *cfg);

/* Sets the template's SASL user and password: once, wiping the password.
 * A failure is for good, logged once. Called with clone_mu held. */
static int tmpl_sasl(struct txc_store *st)
{
	char msg[160];
	int err;

	if (!st->sasl_pw)
		return TXC_EUNAVAIL; /* handed over to a template that failed */
	err = mcsasl_apply(st->tmpl, st->cfg->sasl_user, &st->sasl_pw, msg, sizeof(msg));
	if (err)
		log_msg(TXC_LOG_ERROR, "memcached SASL for user %s: %s; caching is off",
			st->cfg->sasl_user, msg);
	return err;
}

/* The first authentication failure turns the store off for the process:
 * one line, then every operation is refused before it reaches the network.
 * Retrying would cost a connect and a refused exchange per call, and a
 * wrong password stays wrong. */
static void auth_failed(struct txc_store *st, const char *why)
{
	if (!atomic_exchange(&st->auth_off, true))
		log_msg(TXC_LOG_ERROR,
			"memcached authentication failed for user %s (%s); caching is off",
			st->cfg->sasl_user, why);
}

/* Replaces each host name of st->cfg by its address, on the first
 * operation: a program start never waits on DNS. Each lookup is bounded by
 * timeout_ms. After a failure every operation fails at once for
 * RESOLVE_RETRY_MS, then one tries again; the first failure is logged
 * (error level), later ones at debug. Called with clone_mu held. */
static int resolve_servers(struct txc_store *st)
{
	char addr[sizeof(st->cfg->servers[0].host)];
	int err;

	if (st->resolve_retry_ns && now_ns() < st->resolve_retry_ns)
		return TXC_EUNAVAIL;
	for (int i = 0; i < st->cfg->nservers; i++) {
		struct txc_server *srv = &st->cfg->servers[i];

		if (srv->is_socket || st->resolved[i])
			continue;
		err = resolve_host(srv->host, st->timeout_ms, addr, sizeof(addr));
		if (err == TXC_ENOMEM)
			return err;
		if (err) {
			log_msg(st->resolve_retry_ns ? TXC_LOG_DEBUG : TXC_LOG_ERROR,
				"cannot resolve memcached server %s (%s); calling the real "
				"functions",
				srv->host,
				err == TXC_ETIMEOUT ? "no answer within timeout_ms"
						    : "unknown name or failed lookup");
			st->resolve_retry_ns = now_ns() + (int64_t)RESOLVE_RETRY_MS * 1000000;
			return TXC_EUNAVAIL;
		}
		log_msg(TXC_LOG_DEBUG, "server %s:%u is %s", srv->host, srv->port, addr);
		memcpy(srv->host, addr, sizeof(addr));
		st->resolved[i] = true;
	}
	return 0;
}

/* libmemcached is loaded, and the template made, by the first operation of
 * the process (mc.h: start-up stays free). Called with clone_mu held. */
static int tmpl_ensure(struct txc_store *st)
{
	int err;

	if (st->tmpl || st->tmpl_err)
		return st->tmpl_err;
	err = mc_load();
	if (err)
		return st->tmpl_err = err;
	err = resolve_servers(st);
	if (err)
		return err;
	st->tmpl = MC(create)(NULL);
	if (!st->tmpl)
		return TXC_ENOMEM;
	err = tmpl_setup(st->tmpl, st->cfg);
	if (!err && st->binary)
		err = tmpl_sasl(st);
	if (err) {
		MC(free)(st->tmpl);
		st->tmpl = NULL;
		if (err != TXC_ENOMEM)
			st->tmpl_err = err;
		return err;
	}
	atomic_store_explicit(&st->ready, true, memory_order_release);
	return 0;
}

static int handle_new(struct txc_store *st, unsigned gen, struct store_handle **out)
{
	struct store_handle *h;
	int err;

	pthread_mutex_lock(&clone_mu);
	err = tmpl_ensure(st);
	pthread_mutex_unlock(&clone_mu);
	if (err)
		return err;
	h = malloc(sizeof(*h));
	if (!h)
		return TXC_ENOMEM;
	pthread_mutex_lock(&clone_mu);
	h->mc = MC(clone)(NULL, st->tmpl);
	pthread_mutex_unlock(&clone_mu);
	if (!h->mc) {
		free(h);
		return TXC_ENOMEM;
	}
	h->pid = atomic_load_explicit(&cur_pid, memory_order_relaxed);
	h->gen = gen;
	h->pend.fd = -1;
	if (tslot_set(st->slot, h, handle_destroy) != 0) {
		MC(free)(h->mc);
		free(h);
		return TXC_ENOMEM;
	}
	*out = h;
	return 0;
}

static int handle_get(struct txc_store *st, struct store_handle **out)
{
	struct store_handle *h = tslot_get(st->slot);
	unsigned gen = atomic_load_explicit(&fork_gen, memory_order_relaxed);

	if (h && h->gen == gen) {
		*out = h;
		return 0;
	}
	if (h) {
		if (h->pid == atomic_load_explicit(&cur_pid, memory_order_relaxed)) {
			h->gen = gen;
			*out = h;
			return 0;
		}
		/* Inherited from the parent: its socket is the parent's.
		 * Leak the memcached_st on purpose. */
		tslot_set(st->slot, NULL, NULL);
		free(h);
	}
	return handle_new(st, gen, out);
}

void store_thread_drop(struct txc_store *st)
{
	struct store_handle *h = tslot_get(st->slot);
	if (!h)
		return;
	tslot_set(st->slot, NULL, NULL);
	h->pend.fd = -1;   /* its connection is in an unknown state: no reply to read */
	handle_destroy(h); /* a parent's handle (fork) is left alone, as at thread exit */
}

/* How long a probe may take before another thread may probe again. It only
 * matters when the prober vanished (a fork in the middle of a probe). */
static int64_t probe_lease_ns(const struct txc_store *st)
{
	return ((int64_t)st->timeout_ms * 4 + 1000) * 1000000;
}

/* Returns 0 when the call may go to the network (*PROBE: it is the one
 * probe of an open breaker), or TXC_EUNAVAIL. */
static int breaker_enter(struct txc_store *st, struct breaker *br, bool *probe)
{
	int64_t until = atomic_load_explicit(&br->open_until, memory_order_acquire);
	int64_t now;

	*probe = false;
	if (until == 0)
		return 0;
	now = now_ns();
	if (now < until)
		return TXC_EUNAVAIL;
	if (!atomic_compare_exchange_strong(&br->open_until, &until, now + probe_lease_ns(st)))
		return TXC_EUNAVAIL;
	*probe = true;
	return 0;
}

static void breaker_leave(struct breaker *br, bool probe, enum outcome out)
{
	uint32_t backoff = atomic_load_explicit(&br->backoff_ms, memory_order_relaxed);
	int64_t zero = 0;

	if (probe) {
		if (out == OUT_ANSWER) {
			atomic_store(&br->backoff_ms, BACKOFF_MIN_MS);
			atomic_store(&br->open_until, 0);
			log_msg(TXC_LOG_DEBUG, "memcached is back");
			return;
		}
		/* A local refusal says nothing new: retry after the same interval. */
		if (out == OUT_FAIL) {
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			atomic_store(&br->backoff_ms, backoff);
			/* counted by the fault tests: one line per timeout paid */
			log_msg(TXC_LOG_DEBUG, "probe failed; refusing calls for %u ms", backoff);
		}
		atomic_store(&br->open_until, now_ns() + (int64_t)backoff * 1000000);
	} else if (out == OUT_FAIL) {
		if (atomic_compare_exchange_strong(&br->open_until, &zero,
						   now_ns() + (int64_t)backoff * 1000000))
			log_msg(TXC_LOG_DEBUG, "memcached failed; refusing calls for %u ms",
				backoff);
	}
}

static void sasl_probe(struct txc_store *st);

int store_breaker_open(struct txc_store *st)
{
	int64_t now;

	if (atomic_load_explicit(&st->auth_off, memory_order_relaxed))
		return 1;
	/* Not usable at all (libmemcached did not load, a name did not
	 * resolve): the reason was logged once, by tmpl_ensure. */
	if (!atomic_load_explicit(&st->ready, memory_order_acquire)) {
		int err;

		pthread_mutex_lock(&clone_mu);
		err = tmpl_ensure(st);
		pthread_mutex_unlock(&clone_mu);
		if (err)
			return 1;
	}
	if (!atomic_load_explicit(&st->probed, memory_order_relaxed)) {
		sasl_probe(st);
		if (atomic_load(&st->auth_off))
			return 1;
	}
	now = now_ns();
	/* all of them: with one server down the others still serve their keys */
	for (int i = 0; i < st->nservers; i++) {
		int64_t until = atomic_load_explicit(&st->br[i].open_until, memory_order_acquire);

		if (until == 0 || now >= until)
			return 0;
	}
	return st->nservers > 0;
}

static enum outcome rc_outcome(memcached_return_t rc)
{
	switch (rc) {
	case MEMCACHED_TIMEOUT:
	case MEMCACHED_CONNECTION_FAILURE:
	case MEMCACHED_CONNECTION_BIND_FAILURE:
	case MEMCACHED_HOST_LOOKUP_FAILURE:
	case MEMCACHED_WRITE_FAILURE:
	case MEMCACHED_READ_FAILURE:
	case MEMCACHED_UNKNOWN_READ_FAILURE:
	case MEMCACHED_PARTIAL_READ:
	case MEMCACHED_ERRNO:
	case MEMCACHED_FAIL_UNIX_SOCKET:
	case MEMCACHED_NO_SERVERS:
	case MEMCACHED_SERVER_MARKED_DEAD:
	case MEMCACHED_SOME_ERRORS:
		return OUT_FAIL;
	/* The handle skips a server that failed within RETRY_TIMEOUT: no
	 * network was touched, and tripping again would only extend the
	 * outage after the breaker's probe already found the server back. */
	case MEMCACHED_SERVER_TEMPORARILY_DISABLED:
	case MEMCACHED_MEMORY_ALLOCATION_FAILURE:
		return OUT_LOCAL;
	default:
		return OUT_ANSWER;
	}
}

static int rc_to_err(memcached_return_t rc)
{
	switch (rc) {
	case MEMCACHED_SUCCESS:
	case MEMCACHED_END:
	case MEMCACHED_STORED:
	case MEMCACHED_DELETED:
		return 0;
	case MEMCACHED_NOTFOUND:
		return TXC_ENOTFOUND;
	case MEMCACHED_NOTSTORED:
	case MEMCACHED_DATA_EXISTS:
		return TXC_EEXIST;
	case MEMCACHED_E2BIG:
	case MEMCACHED_KEY_TOO_BIG:
		return TXC_ETOOBIG;
	case MEMCACHED_TIMEOUT:
		return TXC_ETIMEOUT;
	case MEMCACHED_MEMORY_ALLOCATION_FAILURE:
		return TXC_ENOMEM;
	default:
		return rc_outcome(rc) == OUT_ANSWER ? TXC_ESERVER : TXC_EUNAVAIL;
	}
}

/* Whether the connection may still hold replies we did not read. */
static bool rc_desyncs(memcached_return_t rc)
{
	switch (rc) {
	case MEMCACHED_SUCCESS:
	case MEMCACHED_END:
	case MEMCACHED_STORED:
	case MEMCACHED_DELETED:
	case MEMCACHED_NOTFOUND:
	case MEMCACHED_NOTSTORED:
	case MEMCACHED_DATA_EXISTS:
	case MEMCACHED_SERVER_ERROR:
	case MEMCACHED_SERVER_TEMPORARILY_DISABLED:
	case MEMCACHED_CONNECTION_FAILURE:
		return false;
	default:
		return true;
	}
}

/* With SASL, the first thread to get here authenticates with every server
 * once (memcached_version), before its first lookup: a refused password is
 * then logged by the store alone, and the caller passes through quietly
 * (store_breaker_open says 1). libmemcached reports an mget's failed
 * authentication only for its first key, so the operations alone would let
 * the caller log "lookup failed" too. Other failures are left to them. */
static void sasl_probe(struct txc_store *st)
{
	struct store_handle *h;
	memcached_return_t rc;
	bool refused;

	/* no handle yet (a name that did not resolve): probe on a later call */
	if (atomic_load(&st->probed) || handle_get(st, &h) != 0 ||
	    atomic_exchange(&st->probed, true))
		return;
	mcio_begin(st->timeout_ms);
	rc = MC(version)(h->mc);
	refused = mcio_auth_refused();
	mcio_end();
	if (rc_desyncs(rc))
		MC(quit)(h->mc);
	const char *why = mcsasl_refusal(h->mc, st->nservers, refused);
	if (why)
		auth_failed(st, why);
}

/* The breaker of the server KEY lives on (ketama). An mget is charged to
 * its first key's server, even when another key's server failed. */
static int op_begin(struct txc_store *st, const struct txc_key *key, struct op *op)
{
	uint32_t srv = 0;
	int err;

	if (!atomic_load_explicit(&st->probed, memory_order_relaxed))
		sasl_probe(st);
	if (atomic_load_explicit(&st->auth_off, memory_order_relaxed))
		return TXC_EUNAVAIL;
	err = handle_get(st, &op->h);
	if (err)
		return err;
	if (st->nservers > 1)
		srv = MC(generate_hash)(op->h->mc, key->text, key->len);
	op->st = st;
	op->br = &st->br[srv < (uint32_t)st->nservers ? srv : 0];
	op->t0 = now_ns();
	err = breaker_enter(st, op->br, &op->probe);
	if (err)
		return err;
	mcio_begin(st->timeout_ms); /* one deadline: connect, send, receive */
	/* a pending store reply is read by the operation's first read of its
	 * socket, after the operation's request went out: the two waits
	 * overlap (pending_after) */
	if (op->h->pend.fd >= 0)
		mcio_pending_arm(op->h->pend.fd, op->h->pend.id);
	return 0;
}

static int op_end(struct op *op, memcached_return_t rc)
{
	/* Our own connection: quit so the next call starts clean instead of
	 * reading a late reply meant for this one. */
	enum outcome out;
	const char *auth = mcsasl_failure(rc);
	bool in_step = pending_after(op);

	if (!auth && op->st->binary && rc != MEMCACHED_SUCCESS && mcio_auth_refused())
		auth = mcsasl_failure(MEMCACHED_AUTH_FAILURE);

	if (auth) { /* the connection was reset; the breaker learns nothing */
		mcio_end();
		breaker_leave(op->br, op->probe, OUT_LOCAL);
		auth_failed(op->st, auth);
		return TXC_EUNAVAIL;
	}
	/* Ran out of time: whatever libmemcached made of it (a poll that
	 * returned 0 may read as a failed read), it is a timeout. */
	if (mcio_end() && rc != MEMCACHED_SUCCESS) {
		int err = rc_to_err(rc);

		if (err == TXC_ESERVER || err == TXC_EUNAVAIL)
			rc = MEMCACHED_TIMEOUT;
	}
	out = rc_outcome(rc);
	if (rc_desyncs(rc))
		MC(quit)(op->h->mc);
	/* A multi-key mget on a refused server reports only "temporarily
	 * disabled", even the first time: outside a probe it is a failure, or
	 * the breaker would never open and every call would pay for it. In a
	 * probe it counts only when the connect timeout was paid. */
	if (rc == MEMCACHED_SERVER_TEMPORARILY_DISABLED &&
	    (!op->probe || now_ns() - op->t0 >= (int64_t)op->st->timeout_ms * 500000))
		out = OUT_FAIL;
	breaker_leave(op->br, op->probe, out);
	/* a pending reply that was not a storage reply: what followed it is
	 * not this operation's reply either */
	return in_step ? rc_to_err(rc) : TXC_ESERVER;
}

/* Stores VALS[i] for every requested key equal to the result's key that is
 * still empty. Returns SUCCESS, MEMORY_ALLOCATION_FAILURE, or
 * PROTOCOL_ERROR for a reply to a key nobody asked for (a stale reply). */
static memcached_return_t take_result(memcached_result_st *res, const struct txc_key *const *keys,
				      size_t n, struct txc_buf *vals)
{
	const char *k = MC(result_key_value)(res);
	size_t klen = MC(result_key_length)(res);
	size_t len = MC(result_length)(res);

	for (size_t i = 0; i < n; i++) {
		if (vals[i].data || keys[i]->len != klen || memcmp(keys[i]->text, k, klen) != 0)
			continue;
		/* the value's own buffer, not a copy: a large value would
		 * otherwise be allocated, copied and freed twice per hit (and
		 * the two frees trim the heap every time) */
		vals[i].data = len ? (uint8_t *)MC(result_take_value)(res) : malloc(1);
		if (!vals[i].data)
			return MEMCACHED_MEMORY_ALLOCATION_FAILURE;
		vals[i].len = len;
		vals[i].cas = MC(result_cas)(res);
		return MEMCACHED_SUCCESS;
	}
	return MEMCACHED_PROTOCOL_ERROR;
}

static memcached_return_t fetch_all(memcached_st *mc, bool binary,
				    const struct txc_key *const *keys, size_t n,
				    struct txc_buf *vals)
{
	memcached_result_st res;
	memcached_return_t rc, bad = MEMCACHED_SUCCESS;

	if (!MC(result_create)(mc, &res))
		return MEMCACHED_MEMORY_ALLOCATION_FAILURE;
	/* Read to the end even after a bad result, so the connection stays
	 * in step when it can. */
	while (MC(fetch_result)(mc, &res, &rc)) {
		memcached_return_t r = take_result(&res, keys, n, vals);

		if (r != MEMCACHED_SUCCESS && bad == MEMCACHED_SUCCESS)
			bad = r;
	}
	MC(result_free)(&res);
	if (rc != MEMCACHED_END && rc != MEMCACHED_NOTFOUND)
		return rc;
	/* fetch reads an error line ("SERVER_ERROR out of memory writing get
	 * response"), and a wait that gave up, as "not found": only a reply
	 * that ended with END (binary: the NOOP's reply) is one. */
	if (!(binary ? mcio_replies_end_noop() : mcio_replies_end("END\r\n")))
		return MEMCACHED_PROTOCOL_ERROR;
	return bad;
}

int store_mget(struct txc_store *st, const struct txc_key *const *keys, size_t n,
	       struct txc_buf *vals)
{
	const char *ktext[MGET_MAX];
	size_t klen[MGET_MAX];
	memcached_return_t rc;
	struct op op;
	int err;

	for (size_t i = 0; i < n; i++)
		vals[i] = (struct txc_buf){NULL, 0, 0};
	if (n == 0)
		return 0;
	if (n > MGET_MAX)
		return TXC_EINVAL;
	err = op_begin(st, keys[0], &op);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		ktext[i] = keys[i]->text;
		klen[i] = keys[i]->len;
	}
	rc = MC(mget)(op.h->mc, ktext, klen, n);
	if (rc == MEMCACHED_SUCCESS)
		rc = fetch_all(op.h->mc, st->binary, keys, n, vals);
	err = op_end(&op, rc);
	if (err)
		store_bufs_free(vals, n);
	return err;
}

int store_set(struct txc_store *st, const struct txc_key *key, const void *val, size_t len,
	      uint32_t ttl)
{
	struct op op;
	int err = op_begin(st, key, &op);

	if (err)
		return err;
	return op_end(&op, MC(set)(op.h->mc, key->text, key->len, val, len, (time_t)ttl, 0));
}

int store_add(struct txc_store *st, const struct txc_key *key, const void *val, size_t len,
	      uint32_t ttl)
{
	struct op op;
	int err = op_begin(st, key, &op);

	if (err)
		return err;
	return op_end(&op, MC(add)(op.h->mc, key->text, key->len, val, len, (time_t)ttl, 0));
}

int store_cas(struct txc_store *st, const struct txc_key *key, const void *val, size_t len,
	      uint32_t ttl, uint64_t cas)
{
	struct op op;
	int err = op_begin(st, key, &op);

	if (err)
		return err;
	return op_end(&op, MC(cas)(op.h->mc, key->text, key->len, val, len, (time_t)ttl, 0, cas));
}

/* What a storage reply line says; *SYNC false when the connection may
 * hold more than the line (a reply nobody expects). */
static int reply_err(const char *line, bool *sync)
{
	static const char too_big[] = "SERVER_ERROR object too large";

	*sync = true;
	if (strcmp(line, "STORED") == 0)
		return 0;
	if (strcmp(line, "NOT_STORED") == 0 || strcmp(line, "EXISTS") == 0)
		return TXC_EEXIST;
	if (strcmp(line, "NOT_FOUND") == 0)
		return TXC_ENOTFOUND;
	if (strncmp(line, too_big, sizeof(too_big) - 1) == 0)
		return TXC_ETOOBIG;
	*sync = strncmp(line, "SERVER_ERROR ", 13) == 0;
	return TXC_ESERVER;
}

/* Reports H's pending store: ERR from reading its reply LINE (0: read).
 * A reply that did not come, or not as a storage reply, leaves the
 * connection unusable: quit, so the next operation starts on a new one.
 * Returns whether the connection is still in step. */
static bool pending_report(struct txc_store *st, struct store_handle *h, int err, const char *line)
{
	struct pending p = h->pend;
	bool sync = false;

	h->pend.fd = -1;
	if (!err)
		err = reply_err(line, &sync);
	else if (err != TXC_ESERVER)
		breaker_leave(p.br, false, OUT_FAIL);
	if (!sync)
		MC(quit)(h->mc);
	if (st->done)
		st->done(st->done_ctx, p.tag, p.len, err);
	return sync;
}

/* Reads H's pending reply now, outside an operation. */
static void pending_finish(struct txc_store *st, struct store_handle *h)
{
	char line[128];
	int err = mcio_read_line(h->pend.fd, h->pend.id, st->timeout_ms, line, sizeof(line));

	pending_report(st, h, err, line);
}

/* After an operation that had a pending reply armed (op_begin): reports it
 * when the operation's first read took it, else reads it now. Returns
 * false when the connection was out of step (then the operation's own
 * reply is not to be trusted). */
static bool pending_after(struct op *op)
{
	char line[128];
	int err = mcio_pending_taken(line, sizeof(line));

	if (op->h->pend.fd < 0)
		return true;
	if (err == 1) {
		pending_finish(op->st, op->h);
		return true;
	}
	return pending_report(op->st, op->h, err, line);
}

static int store_nowait(struct txc_store *st, const struct txc_key *key, const void *val,
			size_t len, uint32_t ttl, uint64_t cas, uint32_t tag)
{
	struct op op;
	memcached_return_t rc;
	int err = op_begin(st, key, &op);

	if (err)
		return err;
	/* a probe waits: the breaker closes on a real answer only */
	bool pipe = st->done && !st->binary && !op.probe;
	if (pipe)
		mcio_fake_reply("STORED\r\n");
	if (cas)
		rc = MC(cas)(op.h->mc, key->text, key->len, val, len, (time_t)ttl, 0, cas);
	else
		rc = MC(add)(op.h->mc, key->text, key->len, val, len, (time_t)ttl, 0);
	unsigned long id = 0;
	int fd = pipe ? mcio_fake_fd(&id) : -1;
	err = op_end(&op, rc);
	if (fd < 0)
		return err;
	if (err) { /* the real reply is still unread */
		MC(quit)(op.h->mc);
		return err;
	}
	op.h->pend = (struct pending){fd, id, op.br, tag, len};
	return TXC_EPENDING;
}

int store_add_nowait(struct txc_store *st, const struct txc_key *key, const void *val, size_t len,
		     uint32_t ttl, uint32_t tag)
{
	return store_nowait(st, key, val, len, ttl, 0, tag);
}

int store_cas_nowait(struct txc_store *st, const struct txc_key *key, const void *val, size_t len,
		     uint32_t ttl, uint64_t cas, uint32_t tag)
{
	return cas ? store_nowait(st, key, val, len, ttl, cas, tag) : TXC_EINVAL;
}

void store_on_done(struct txc_store *st, store_done_fn fn, void *ctx)
{
	st->done = fn;
	st->done_ctx = ctx;
}

void store_drain(struct txc_store *st)
{
	struct store_handle *h = tslot_get(st->slot);

	if (h && h->pend.fd >= 0 && h->pid == getpid())
		pending_finish(st, h);
}

int store_append(struct txc_store *st, const struct txc_key *key, const void *val, size_t len)
{
	struct op op;
	int err = op_begin(st, key, &op);

	if (err)
		return err;
	err = op_end(&op, MC(append)(op.h->mc, key->text, key->len, val, len, 0, 0));
	return err == TXC_EEXIST ? TXC_ENOTFOUND : err;
}

int store_delete(struct txc_store *st, const struct txc_key *key)
{
	struct op op;
	int err = op_begin(st, key, &op);

	if (err)
		return err;
	err = op_end(&op, MC(delete)(op.h->mc, key->text, key->len, 0));
	return err == TXC_ENOTFOUND ? 0 : err;
}

int store_incr(struct txc_store *st, const struct txc_key *key, uint64_t *newval)
{
	struct op op;
	uint64_t v = 0;
	int err = op_begin(st, key, &op);

	if (err)
		return err;
	err = op_end(&op, MC(increment)(op.h->mc, key->text, key->len, 1, &v));
	if (!err)
		*newval = v;
	return err;
}

int store_incr_by(struct txc_store *st, const struct txc_key *key, uint64_t delta, uint64_t *newval)
{
	uint64_t v = 0;
	int err = 0;

	/* the ASCII incr takes 64 bits, libmemcached's offset only 32 */
	do {
		struct op op;
		uint32_t step = delta > UINT32_MAX ? UINT32_MAX : (uint32_t)delta;

		err = op_begin(st, key, &op);
		if (!err)
			err = op_end(&op, MC(increment)(op.h->mc, key->text, key->len, step, &v));
		delta -= step;
	} while (!err && delta > 0);
	if (!err)
		*newval = v;
	return err;
}

int store_flush_all(struct txc_store *st, uint32_t timeout_ms)
{
	struct store_handle *h;
	memcached_return_t rc;
	const char *auth;
	int err;

	if (!atomic_load_explicit(&st->probed, memory_order_relaxed))
		sasl_probe(st);
	if (atomic_load_explicit(&st->auth_off, memory_order_relaxed))
		return TXC_EUNAVAIL;
	err = handle_get(st, &h);
	if (err)
		return err;
	/* no breaker: one command-line call, which reports what it got */
	mcio_begin(timeout_ms > st->timeout_ms ? timeout_ms : st->timeout_ms);
	rc = MC(flush)(h->mc, 0);
	mcio_end();
	auth = mcsasl_failure(rc);
	if (!auth && rc != MEMCACHED_SUCCESS && mcio_auth_refused())
		auth = mcsasl_failure(MEMCACHED_AUTH_FAILURE);
	if (auth) {
		auth_failed(st, auth);
		return TXC_EUNAVAIL;
	}
	if (rc_desyncs(rc))
		MC(quit)(h->mc);
	return rc_to_err(rc);
}

void store_bufs_free(struct txc_buf *vals, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(vals[i].data);
		vals[i].data = NULL;
		vals[i].len = 0;
		vals[i].cas = 0;
	}
}

/* SRV's host is numeric by now (resolve_servers). */
static int add_server(memcached_st *mc, const struct txc_server *srv)
{
	memcached_return_t rc;

	if (srv->is_socket)
		rc = MC(server_add_unix_socket)(mc, srv->host);
	else
		rc = MC(server_add)(mc, srv->host, (in_port_t)srv->port);
	if (rc == MEMCACHED_MEMORY_ALLOCATION_FAILURE)
		return TXC_ENOMEM;
	return rc == MEMCACHED_SUCCESS ? 0 : TXC_ECONFIG;
}

static int tmpl_setup(memcached_st *mc, const struct txc_config *cfg)
{
	const struct {
		memcached_behavior_t b;
		uint64_t v;
	} set[] = {
	    {MEMCACHED_BEHAVIOR_TCP_NODELAY, 1},
	    {MEMCACHED_BEHAVIOR_POLL_TIMEOUT, cfg->timeout_ms},
	    {MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, cfg->timeout_ms},
	    {MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, RETRY_TIMEOUT_S},
	    {MEMCACHED_BEHAVIOR_BUFFER_REQUESTS, 0},
	    {MEMCACHED_BEHAVIOR_NOREPLY, 0},
	    {MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 0},
	    {MEMCACHED_BEHAVIOR_VERIFY_KEY, 0},
	    /* "gets" instead of "get": the same round trip, plus the CAS unique
	     * the miss path stores against (cache.h) */
	    {MEMCACHED_BEHAVIOR_SUPPORT_CAS, 1},
	};
	int err;

	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		if (MC(behavior_set)(mc, set[i].b, set[i].v) != MEMCACHED_SUCCESS)
			return TXC_ECONFIG;
	for (int i = 0; i < cfg->nservers; i++) {
		err = add_server(mc, &cfg->servers[i]);
		if (err)
			return err;
	}
	/* Never RANDOM: it calls srandom() and changes the host's random(). */
	if (cfg->nservers > 1 &&
	    MC(behavior_set)(mc, MEMCACHED_BEHAVIOR_DISTRIBUTION,
			     MEMCACHED_DISTRIBUTION_CONSISTENT) != MEMCACHED_SUCCESS)
		return TXC_ECONFIG;
	return 0;
}

/* Copies what tmpl_setup reads: host names are resolved on first use
 * (resolve_servers), never at start-up. */
static int cfg_copy(const struct txc_config *cfg, struct txc_config **out)
{
	struct txc_config *c = malloc(sizeof(*c));

	*out = c;
	if (!c)
		return TXC_ENOMEM;
	*c = *cfg;
	c->nfns = 0;
	c->fns = NULL;
	return 0;
}

/* Reads the SASL password file. An unusable file turns caching off for
 * good, with one line; the store still opens, so the host runs uncached
 * (as when libmemcached cannot be loaded). Returns 0 or TXC_ENOMEM. */
static int sasl_load(struct txc_store *st)
{
	char msg[160];
	int err = mcsasl_load(st->cfg->sasl_password_file, &st->sasl_pw, msg, sizeof(msg));

	if (err == TXC_ECONFIG) {
		log_msg(TXC_LOG_ERROR, "sasl_password_file %s: %s; caching is off",
			st->cfg->sasl_password_file, msg);
		st->tmpl_err = TXC_EUNAVAIL;
		err = 0;
	}
	return err;
}

int store_open(const struct txc_config *cfg, struct txc_store **out)
{
	struct txc_store *st;
	int err;

	*out = NULL;
	if (cfg->nservers < 1 || cfg->nservers > TXC_MAX_SERVERS || cfg->timeout_ms == 0)
		return TXC_ECONFIG;
	pthread_once(&fork_once, fork_init);
	st = calloc(1, sizeof(*st));
	if (!st)
		return TXC_ENOMEM;
	st->timeout_ms = cfg->timeout_ms;
	st->nservers = cfg->nservers;
	for (int i = 0; i < TXC_MAX_SERVERS; i++) {
		atomic_init(&st->br[i].open_until, 0);
		atomic_init(&st->br[i].backoff_ms, BACKOFF_MIN_MS);
	}
	err = cfg_copy(cfg, &st->cfg);
	st->slot = tslot_new();
	st->binary = cfg->sasl_user[0] != '\0';
	atomic_init(&st->auth_off, false);
	atomic_init(&st->probed, !st->binary); /* ASCII: nothing to probe */
	if (!err && st->binary)
		err = sasl_load(st);
	if (err) {
		free(st->cfg);
		free(st);
		return err;
	}
	g_store = st;
	*out = st;
	return 0;
}

/* Other threads' handles stay in their slots, freed when they exit (a
 * handle never points back at the store). */
void store_close(struct txc_store *st)
{
	struct store_handle *h;

	if (!st)
		return;
	h = tslot_get(st->slot);
	if (h) {
		tslot_set(st->slot, NULL, NULL);
		handle_destroy(h);
	}
	if (g_store == st)
		g_store = NULL;
	if (st->tmpl)
		MC(free)(st->tmpl);
	mcsasl_wipe(&st->sasl_pw);
	free(st->cfg);
	free(st);
}
