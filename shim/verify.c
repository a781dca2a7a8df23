/* verify.c - verify mode: compare a sampled hit with the real call (see
 * verify.h). */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "err.h"
#include "key.h"
#include "log.h"
#include "near.h"
#include "result.h"
#include "verify.h"

#define PPM 1000000u

static int64_t g_env_ppm = -1; /* TXCACHE_VERIFY; -1 = not set */
static const char *g_log_path; /* TXCACHE_VERIFY_LOG; NULL = none */
static __thread uint64_t prng_state __attribute__((tls_model("initial-exec")));

void verify_init(void)
{
	const char *v = secure_getenv("TXCACHE_VERIFY");
	uint32_t ppm;
	g_env_ppm = -1;
	if (v && *v) {
		if (config_parse_rate(v, &ppm) == 0)
			g_env_ppm = ppm;
		else
			log_msg(TXC_LOG_WARN,
				"TXCACHE_VERIFY: '%.40s' is not a rate from 0 to 1; "
				"ignored",
				v);
	}
	const char *p = secure_getenv("TXCACHE_VERIFY_LOG");
	g_log_path = p && *p ? p : NULL;
}

/* splitmix64: the host's rand()/random() sequence must stay its own. */
static uint64_t prng_next(void)
{
	if (prng_state == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		prng_state = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
			     (uint64_t)(uintptr_t)&prng_state ^ ((uint64_t)getpid() << 16);
	}
	uint64_t z = (prng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

bool verify_sample(const struct txc_fn_config *fc)
{
	uint32_t ppm = g_env_ppm >= 0 ? (uint32_t)g_env_ppm : fc->verify_ppm;
	if (ppm == 0)
		return false;
	if (ppm >= PPM)
		return true;
	return prng_next() % PPM < ppm;
}

/* Bytes of RES that verify_keep() must copy. */
static size_t kept_size(const struct txc_sig *sig, const struct txc_result *res)
{
	size_t n = res->ret_str ? res->ret_len : 0;
	for (int i = 0; i < sig->nparams; i++)
		if (res->out[i].data)
			n += res->out[i].len;
	return n;
}

int verify_keep(struct verify_kept *vk, const struct txc_sig *sig, const struct txc_result *res)
{
	memset(vk, 0, sizeof(*vk));
	char *p = malloc(kept_size(sig, res) + 1);
	if (!p)
		return TXC_ENOMEM;
	vk->blob = p;
	vk->res = *res;
	if (res->ret_str) {
		memcpy(p, res->ret_str, res->ret_len);
		vk->res.ret_str = p;
		p += res->ret_len;
	}
	for (int i = 0; i < sig->nparams; i++) {
		const struct txc_out *o = &res->out[i];
		if (!o->data)
			continue;
		memcpy(p, o->data, o->len);
		vk->res.out[i].data = p;
		p += o->len;
	}
	vk->kept = true;
	return 0;
}

void verify_drop(struct verify_kept *vk)
{
	free(vk->blob);
	vk->blob = NULL;
	vk->kept = false;
}

/* A string is digested with its NUL, so a longer string differs. Ignored
 * strings and bytes have no length here (they are never read): skipped. */
static bool input_digest(const struct txc_param *p, const struct txc_arg *a, uint64_t *out)
{
	if ((p->kind != TXC_K_STRING && p->kind != TXC_K_BYTES) || !a->ptr || !p->keyed)
		return false;
	*out = XXH3_64bits(a->ptr, a->len + (p->kind == TXC_K_STRING ? 1 : 0));
	return true;
}

void verify_inputs(struct verify_kept *vk, const struct txc_sig *sig, void *const *avalue,
		   int caller_errno)
{
	struct txc_arg a[TXC_MAX_PARAMS];
	/* a hit: its lengths were keyed, none negative */
	key_args_from_ffi(sig, avalue, a, NULL);
	for (int i = 0; i < sig->nparams; i++)
		vk->has_in[i] = input_digest(&sig->params[i], &a[i], &vk->in_digest[i]);
	vk->caller_errno = caller_errno;
}

/* A growing ", "-separated list of the parts that differ. */
struct parts {
	char text[640];
	size_t len;
	int n;
	bool input_modified;
};

static void part_add(struct parts *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void part_add(struct parts *ps, const char *fmt, ...)
{
	size_t room = sizeof(ps->text) - ps->len;
	int n = ps->n++ ? snprintf(ps->text + ps->len, room, ", ") : 0;
	if (n > 0 && (size_t)n < room) {
		ps->len += (size_t)n;
		room -= (size_t)n;
	}
	va_list ap;
	va_start(ap, fmt);
	n = vsnprintf(ps->text + ps->len, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		ps->len += (size_t)n < room ? (size_t)n : room - 1;
}

static bool same_out(const struct txc_out *a, const struct txc_out *b, bool scalar)
{
	if (a->present != b->present)
		return false;
	if (!a->present)
		return true;
	if (scalar)
		return a->num == b->num;
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static const char *param_name(const struct txc_param *p, int i, char *buf, size_t cap)
{
	if (p->name[0])
		return p->name;
	snprintf(buf, cap, "#%d", i + 1);
	return buf;
}

static void compare_ret(const struct txc_sig *sig, const struct txc_result *c,
			const struct txc_result *r, struct parts *ps)
{
	if (sig->ret == TXC_R_SCALAR && c->ret != r->ret)
		part_add(ps, "ret (cached 0x%llx, real 0x%llx)", (unsigned long long)c->ret,
			 (unsigned long long)r->ret);
	if (sig->ret == TXC_R_STRING || sig->ret == TXC_R_OWNED_STRING) {
		bool same = (c->ret_str == NULL) == (r->ret_str == NULL) &&
			    c->ret_len == r->ret_len &&
			    (!c->ret_str || memcmp(c->ret_str, r->ret_str, c->ret_len) == 0);
		if (!same)
			part_add(ps, "ret");
	}
}

/* CAP_OK: the captured bytes are comparable (no write failed). */
static void compare_outs(const struct txc_sig *sig, const struct txc_result *c,
			 const struct txc_result *r, bool cap_ok, struct parts *ps)
{
	for (int i = 0; i < sig->nparams; i++) {
		const struct txc_param *p = &sig->params[i];
		char nb[16];
		const char *name = param_name(p, i, nb, sizeof(nb));
		if (sig_param_is_out(p) && !c->outs_dropped &&
		    !same_out(&c->out[i], &r->out[i], sig_kind_is_out_scalar(p->kind)))
			part_add(ps, "out %s", name);
		if (sig_param_is_capture(p) && cap_ok && !same_out(&c->out[i], &r->out[i], false))
			part_add(ps, "output on %s '%s'", p->kind == TXC_K_OUT_FD ? "fd" : "stream",
				 name);
	}
}

static void compare_inputs(const struct txc_sig *sig, const struct verify_kept *vk,
			   void *const *avalue, struct parts *ps)
{
	struct txc_arg a[TXC_MAX_PARAMS];
	key_args_from_ffi(sig, avalue, a, NULL);
	for (int i = 0; i < sig->nparams; i++) {
		const struct txc_param *p = &sig->params[i];
		char nb[16];
		uint64_t d;
		if (vk->has_in[i] && (!input_digest(p, &a[i], &d) || d != vk->in_digest[i])) {
			part_add(ps, "input arg '%s' was modified",
				 param_name(p, i, nb, sizeof(nb)));
			ps->input_modified = true;
		}
	}
}

/* A mismatch may come from an invalidation (another thread or process, or
 * a near entry past its freshness) while the real call ran: then the entry
 * no longer holds what was compared. Costs one lookup, on mismatches only. */
static bool entry_unchanged(const struct verify_kept *vk, const struct verify_call *vc)
{
	struct txc_lookup lk;
	struct txc_value_meta meta;
	struct txc_result res;
	struct parts ps = {.len = 0};
	bool found = cache_lookup(vc->cache, vc->fn, vc->key, &lk) == 0 &&
		     cache_decode(vc->cache, vc->fn, vc->key, &lk, &meta, &res) == 0;
	if (found) {
		compare_ret(vc->sig, &vk->res, &res, &ps);
		compare_outs(vc->sig, &vk->res, &res, true, &ps);
	}
	cache_lookup_free(&lk);
	return found && ps.n == 0;
}

/* Appends LINE to TXCACHE_VERIFY_LOG with one write (O_APPEND: lines of
 * concurrent processes do not interleave). */
static void append_log(const char *line)
{
	if (!g_log_path)
		return;
	int fd = open(g_log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return;
	char buf[1200];
	int n = snprintf(buf, sizeof(buf), "txcache[%ld]: %s\n", (long)getpid(), line);
	if (n > 0 && write(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1) < 0)
		n = 0; /* nothing to do: the warn line went to stderr anyway */
	close(fd);
}

/* The entry lied: remove it. A modified input means the key computed from
 * the arguments may no longer be the entry's: drop every call of FN. */
static void on_mismatch(const struct verify_call *vc, const struct parts *ps)
{
	char line[1100];
	snprintf(line, sizeof(line),
		 "verify: %s %.260s: mismatch: %s; the caller got the real result, the entry is "
		 "deleted",
		 vc->sig->name, vc->key->text, ps->text);
	log_msg(TXC_LOG_WARN, "%s", line);
	append_log(line);
	enum txc_inval_how how;
	int rc = ps->input_modified ? cache_invalidate_fn(vc->cache, vc->fn, &how)
				    : cache_invalidate_call(vc->cache, vc->fn, vc->args, &how);
	if (rc != 0)
		log_msg(TXC_LOG_WARN, "verify: %s: deleting the entry failed (%s)", vc->sig->name,
			txc_strerror(rc));
}

int verify_finish(struct verify_kept *vk, const struct verify_call *vc, void *ret, void **avalue,
		  const struct capture_call *cc, int real_errno)
{
	int saved = errno;
	struct parts ps = {.len = 0};
	struct txc_result real;
	/* An out string left without NUL reads as absent, so it is reported
	 * as differing too; a value stored without outs (outs_if) has none to
	 * compare. */
	if (result_collect(vc->sig, ret, avalue, vc->args, &real) != 0 && !vk->res.outs_dropped)
		part_add(&ps, "an out string without NUL");
	bool cap_ok = capture_fill(cc, &real) != TXC_ESYS;
	compare_ret(vc->sig, &vk->res, &real, &ps);
	compare_outs(vc->sig, &vk->res, &real, cap_ok, &ps);
	compare_inputs(vc->sig, vk, avalue, &ps);
	/* what a hit would have left: the stored errno, or the caller's */
	int hit_errno = vk->res.err_set && !vc->errno_keep ? vk->res.err : vk->caller_errno;
	if (real_errno != hit_errno)
		part_add(&ps, "errno (a hit leaves %d, the real call left %d)", hit_errno,
			 real_errno);
	int rc = 0;
	if (ps.n && !ps.input_modified && !entry_unchanged(vk, vc)) {
		near_forget(vc->fn, &vc->key->digest);
		log_msg(TXC_LOG_INFO,
			"verify: %s %s: invalidated while the real call ran; not compared",
			vc->sig->name, vc->key->text);
	} else if (ps.n) {
		stats_add(vc->stats, TXC_ST_MISMATCH, 1);
		on_mismatch(vc, &ps);
		rc = TXC_ECORRUPT;
	} else {
		stats_add(vc->stats, TXC_ST_VERIFIED, 1);
		/* a hit that the real call confirmed; "(verified)" tells the
		 * tests that count real calls which ones verification made */
		log_msg(TXC_LOG_INFO, "hit %s %s%s (verified)", vc->sig->name, vc->key->text,
			vk->near ? " (near)" : "");
	}
	verify_drop(vk);
	errno = saved;
	return rc;
}
