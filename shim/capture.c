/* capture.c - capture frames, replay and arming; see capture.h.
 *
 * The wrappers themselves are in capture_wrap.c. Frames live in a
 * thread-local array; a thread-local pointer to the innermost one is NULL
 * outside any capture, so a wrapper there costs one TLS load.
 * Everything here preserves errno: the host sees what libc reported.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio_ext.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#include "capture_priv.h"
#include "capture_seg.h"
#include "err.h"
#include "log.h"
#include "mode.h"
#include "sigguard.h"

__thread struct capture_frame *capture_top __attribute__((tls_model("initial-exec")));

/* Set while a frame is being changed: a write from a signal handler that
 * interrupts us then marks the frames failed instead of corrupting them. */
static __thread int busy __attribute__((tls_model("initial-exec")));

static bool armed;

/* Set while the parts of one vector write are appended: on a message
 * socket they are one message, so one segment. */
static __thread bool g_joining __attribute__((tls_model("initial-exec")));

/* The thread's frames, innermost last. They live here, not in the dispatch
 * call's stack frame, so that a frame a longjmp left behind is only ever
 * stale, never garbage (see capture.h). On the heap while the thread has
 * any (9 KiB): the shim's static TLS comes out of every thread's stack,
 * and a thread created with PTHREAD_STACK_MIN could not be started. */
#define FRAMES_MAX 32
static __thread struct capture_frame *g_frames __attribute__((tls_model("initial-exec")));
static __thread int g_depth __attribute__((tls_model("initial-exec")));
static __thread uint64_t g_next_token;

#define FOR_FRAMES(fr)                                                                             \
	for (struct capture_frame *fr = capture_top; fr; fr = fr > g_frames ? fr - 1 : NULL)

static void set_top(void);

static uint64_t new_token(void)
{
	if (g_next_token == 0 &&
	    getrandom(&g_next_token, sizeof(g_next_token), GRND_NONBLOCK) != sizeof(g_next_token))
		g_next_token = (uint64_t)(uintptr_t)&g_next_token * 0x9e3779b97f4a7c15u;
	g_next_token = g_next_token * 6364136223846793005u + 1442695040888963407u;
	return g_next_token | 1;
}

/* The call that pushed FR runs while every function it reaches has a lower
 * frame address than its capture_call, which still holds FR's token. The
 * token read may hit stack memory that is no longer that call's: mapped
 * (this thread's stack), and then simply a mismatch. */
static __attribute__((noinline, no_sanitize_address)) bool
frame_alive(const struct capture_frame *fr)
{
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	return fr->owner > here && ((const struct capture_call *)fr->owner)->token == fr->token;
}

/* Drops the frames that a longjmp or an exception left behind, and those
 * owned at or below FLOOR (a new call there means the old one is gone). */
static void prune_dead(uintptr_t floor)
{
	bool dropped = false;
	/* a handler may run on another stack (sigaltstack): addresses say
	 * nothing there, and the frames it sees are the interrupted call's */
	if (sigguard_depth)
		return;
	while (g_depth > 0 &&
	       (g_frames[g_depth - 1].owner <= floor || !frame_alive(&g_frames[g_depth - 1]))) {
		struct capture_frame *fr = &g_frames[--g_depth];
		free(fr->buf);
		free(fr->segs);
		memset(fr, 0, sizeof(*fr));
		dropped = true;
	}
	set_top();
	if (dropped)
		log_msg(TXC_LOG_INFO, "capture: dropped the frames of a call left by longjmp or an "
				      "exception");
}

/* The innermost frame, or none: then the array goes back to the heap. */
static void set_top(void)
{
	capture_top = g_depth ? &g_frames[g_depth - 1] : NULL;
	if (!g_depth && g_frames) {
		free(g_frames);
		g_frames = NULL;
	}
}

void capture_prune(void)
{
	prune_dead(0);
}

struct capture_frame *capture_outer(struct capture_frame *fr)
{
	return fr > g_frames ? fr - 1 : NULL;
}

bool capture_armed(void)
{
	return __atomic_load_n(&armed, __ATOMIC_ACQUIRE);
}

static void fail_all(void)
{
	FOR_FRAMES(fr)
	fr->failed = true;
}

static void frame_append(struct capture_frame *fr, const void *data, size_t n, uint8_t tag)
{
	if (fr->failed || fr->oversize || n == 0)
		return;
	if (fr->is_fd && capseg_note(fr, tag, n, g_joining) != 0) {
		fr->failed = true;
		return;
	}
	if (n > fr->limit - fr->len) {
		free(fr->buf);
		fr->buf = NULL;
		fr->len = fr->cap = 0;
		fr->oversize = true;
		return;
	}
	if (n > fr->cap - fr->len) {
		size_t nc = fr->cap ? fr->cap : 4096;
		while (nc - fr->len < n)
			nc *= 2;
		if (nc > fr->limit)
			nc = fr->limit;
		uint8_t *nb = realloc(fr->buf, nc);
		if (!nb) {
			fr->failed = true; /* cannot keep it: do not store a part */
			return;
		}
		fr->buf = nb;
		fr->cap = nc;
	}
	memcpy(fr->buf + fr->len, data, n);
	fr->len += n;
}

/* How a hit can write what F took for FR: through the same standard stream
 * when F is stdout or stderr over FR's own descriptor, else raw (then F is
 * flushed before raw writes and at the end: see capture.h). */
static uint8_t stream_tag(const struct capture_frame *fr, FILE *f)
{
	if ((f == stdout || f == stderr) && fileno_unlocked(f) == fr->fd)
		return f == stdout ? CAPSEG_STDOUT : CAPSEG_STDERR;
	return CAPSEG_RAW;
}

/* Flushes the streams FR holds dirty; at the end of the call (ALL false)
 * only those a hit replays raw: stdout and stderr over the descriptor keep
 * their buffer, as they would without txcache (a hit fwrites to them). */
static void flush_dirty(struct capture_frame *fr, bool all)
{
	int keep = 0;
	for (int i = 0; i < fr->ndirty; i++) {
		FILE *f = fr->dirty[i];
		if (!all && stream_tag(fr, f) != CAPSEG_RAW)
			fr->dirty[keep++] = f;
		else if (fflush(f) != 0)
			fr->failed = true;
	}
	fr->ndirty = keep;
}

void capture_before_fd(int fd)
{
	if (sigguard_in_handler()) /* a handler's writes are not the call's */
		return;
	int saved = errno;
	prune_dead(0);
	FOR_FRAMES(fr)
	if (capture_frame_has_fd(fr, fd) && fr->ndirty)
		flush_dirty(fr, true);
	errno = saved;
}

void capture_note_fd(int fd, const void *buf, size_t n, ssize_t r)
{
	/* written by a signal handler that interrupted the call: not the
	 * function's output (a hit, when no signal fires, must not have it) */
#ifndef TXC_MUTANT_HANDLER_WRITES /* make mutants: a handler's writes captured */
	if (sigguard_in_handler())
		return;
#endif
	int saved = errno;
	prune_dead(0);
	if (busy) {
		fail_all();
		return;
	}
	busy = 1;
	FOR_FRAMES(fr)
	{
		if (!capture_frame_claims(fr, fd))
			continue;
		if (r < 0 || (size_t)r < n)
			fr->failed = true;
		if (r > 0) {
			frame_append(fr, buf, (size_t)r, CAPSEG_RAW);
			fr->moved += (uint64_t)r;
		}
	}
	busy = 0;
	errno = saved;
}

void capture_note_fdv(int fd, const struct iovec *iov, int cnt, ssize_t r)
{
	size_t total = 0, left = r > 0 ? (size_t)r : 0;
	for (int i = 0; iov && i < cnt; i++) {
		size_t take = iov[i].iov_len < left ? iov[i].iov_len : left;
		total += iov[i].iov_len;
		if (take)
			capture_note_fd(fd, iov[i].iov_base, take, (ssize_t)take);
		g_joining = total > 0;
		left -= take;
	}
	g_joining = false;
	if (r < 0 || (size_t)r < total)
		capture_note_fd(fd, NULL, 1, r < 0 ? -1 : 0); /* marks the frames failed */
}

static bool frame_matches(struct capture_frame *fr, FILE *f, int *fileno_cache)
{
	if (!fr->is_fd)
		return fr->stream == f;
	if (*fileno_cache == -2)
		*fileno_cache = fileno_unlocked(f);
	return capture_frame_claims(fr, *fileno_cache);
}

bool capture_watches(FILE *f)
{
	int fno = -2;
	if (!f)
		return false;
	prune_dead(0);
	FOR_FRAMES(fr)
	if (frame_matches(fr, f, &fno))
		return true;
	return false;
}

static void mark_dirty(struct capture_frame *fr, FILE *f, size_t len)
{
	for (int i = 0; i < fr->ndirty; i++)
		if (fr->dirty[i] == f)
			return;
	/* a stream a hit cannot name, holding output from before the call:
	 * the miss's flush writes that too, a hit's raw replay cannot */
	if (stream_tag(fr, f) == CAPSEG_RAW && __fpending(f) > len) {
		fr->failed = true;
		fr->why = "another stream over the descriptor held earlier output";
	}
	if (fr->ndirty < CAPTURE_DIRTY_MAX)
		fr->dirty[fr->ndirty++] = f;
	else if (fflush(f) != 0) /* no room to remember it: keep the order now */
		fr->failed = true;
}

void capture_note_stream(FILE *f, const void *buf, size_t len, bool failed)
{
	if (sigguard_in_handler()) /* as in capture_note_fd */
		return;
	int saved = errno, fno = -2;
	prune_dead(0);
	if (busy) {
		fail_all();
		return;
	}
	busy = 1;
	FOR_FRAMES(fr)
	{
		if (!frame_matches(fr, f, &fno))
			continue;
		if (failed)
			fr->failed = true;
		if (fr->is_fd)
			mark_dirty(fr, f, len);
		frame_append(fr, buf, len, fr->is_fd ? stream_tag(fr, f) : CAPSEG_RAW);
		fr->streamed += len;
	}
	busy = 0;
	errno = saved;
}

void capture_forget_stream(FILE *f)
{
	prune_dead(0);
	FOR_FRAMES(fr)
	for (int i = 0; i < fr->ndirty; i++)
		if (fr->dirty[i] == f)
			fr->dirty[i--] = fr->dirty[--fr->ndirty];
}

ssize_t capture_write(int fd, const void *buf, size_t n)
{
	capture_before_fd(fd);
	ssize_t r = write(fd, buf, n);
	capture_note_fd(fd, buf, n, r);
	return r;
}

size_t capture_fwrite(const void *p, size_t size, size_t n, FILE *f)
{
	size_t r = fwrite(p, size, n, f);
	capture_note_stream(f, p, r * size, r < n);
	return r;
}

/* ---- the dispatch side ---- */

void capture_begin(struct capture_call *cc, const struct txc_sig *sig, void *const *avalue,
		   size_t limit)
{
	cc->n = 0;
	cc->untracked = false;
	cc->token = new_token();
	prune_dead((uintptr_t)cc);
	cc->base = g_depth;
	for (int i = 0; i < sig->nparams; i++) {
		const struct txc_param *p = &sig->params[i];
		if (!sig_param_is_capture(p))
			continue;
		if (!g_frames)
			g_frames = calloc(FRAMES_MAX, sizeof(*g_frames));
		if (g_depth == FRAMES_MAX || !g_frames) {
			/* nested too deep to track (or no memory): not stored */
			cc->untracked = true;
			continue;
		}
		struct capture_frame *fr = &g_frames[g_depth++];
		memset(fr, 0, sizeof(*fr));
		fr->owner = (uintptr_t)cc;
		fr->token = cc->token;
		fr->param = i;
		fr->limit = limit;
		fr->is_fd = p->kind == TXC_K_OUT_FD;
		if (fr->is_fd) {
			fr->fd = *(const int *)avalue[i];
			capture_fd_start(fr);
		} else {
			fr->stream = *(FILE *const *)avalue[i];
		}
		/* a NULL stream may mean "a default" to the function: unknowable */
		fr->failed = !capture_armed() || (!fr->is_fd && !fr->stream);
		cc->n++;
		capture_top = fr;
	}
}

void capture_end(struct capture_call *cc)
{
	if (cc->n == 0)
		return;
	int saved = errno, own_end = cc->base + cc->n;
	if (g_depth != own_end)
		log_msg(TXC_LOG_INFO, "capture: dropped the frames of a call left by longjmp or an "
				      "exception");
	/* deeper frames are what an inner longjmp left behind */
	for (int d = g_depth - 1; d >= own_end; d--) {
		free(g_frames[d].buf);
		free(g_frames[d].segs);
		memset(&g_frames[d], 0, sizeof(g_frames[d]));
	}
	for (int k = 0; k < cc->n; k++) {
		struct capture_frame *fr = cc->base + k < g_depth ? &g_frames[cc->base + k] : NULL;
		struct capture_out *o = &cc->out[k];
		bool mine = fr && fr->owner == (uintptr_t)cc;
		if (mine) {
			flush_dirty(fr, false);
			if (fr->is_fd)
				capture_fd_finish(fr);
		}
		/* not mine: the frame is gone (param 0 is never used: failed) */
		*o = (struct capture_out){.param = mine ? fr->param : 0,
					  .buf = mine ? fr->buf : NULL,
					  .len = mine ? fr->len : 0,
					  .failed = !mine || fr->failed,
					  .oversize = mine && fr->oversize,
					  .why = mine ? fr->why : NULL};
		if (mine)
			memset(fr, 0, sizeof(*fr)); /* the buffer is CC's now */
	}
	if (g_depth > cc->base)
		g_depth = cc->base;
	set_top();
	errno = saved;
}

void capture_bypass_stream(FILE *f, const char *why)
{
	int saved = errno, fno = -2;
	prune_dead(0);
	FOR_FRAMES(fr)
	if (frame_matches(fr, f, &fno)) {
		fr->failed = true;
		fr->why = why;
	}
	errno = saved;
}

const char *capture_fail_reason(const struct capture_call *cc)
{
	if (cc->untracked)
		return "capturing calls nested too deep";
	for (int i = 0; i < cc->n; i++)
		if (cc->out[i].failed && cc->out[i].why)
			return cc->out[i].why;
	return "a write failed or was short";
}

int capture_fill(const struct capture_call *cc, struct txc_result *res)
{
	int rc = 0;
	if (cc->untracked)
		return TXC_ESYS;
	for (int i = 0; i < cc->n; i++) {
		const struct capture_out *co = &cc->out[i];
		if (co->failed)
			return TXC_ESYS;
		struct txc_out *o = &res->out[co->param];
		if (co->oversize)
			rc = TXC_ETOOBIG;
		o->present = true;
		o->data = co->buf;
		o->len = co->len;
	}
	return rc;
}

void capture_free(struct capture_call *cc)
{
	for (int i = 0; i < cc->n; i++) {
		free(cc->out[i].buf);
		cc->out[i].buf = NULL;
	}
	cc->n = 0;
}

/* ---- arming ---- */

static bool config_needs(const struct txc_config *cfg)
{
	for (int i = 0; i < cfg->nfns; i++) {
		const struct txc_sig *sig = &cfg->fns[i].sig;
		bool cached = cfg->fns[i].ninval == 0 && mode_interposed(cfg->fns[i].mode);
		for (int k = 0; cached && k < sig->nparams; k++)
			if (sig_param_is_capture(&sig->params[k]))
				return true;
	}
	return false;
}

int capture_arm(const struct txc_config *cfg)
{
	if (!config_needs(cfg))
		return 0;
	size_t n;
	const struct wrap_fn *tab = capture_wrappers(&n);
	int npatched = 0;
	int rc = wrap_arm(tab, n, &npatched);
	if (rc == 0)
		__atomic_store_n(&armed, true, __ATOMIC_RELEASE);
	log_msg(TXC_LOG_INFO, "capture: %d write call sites redirected", npatched);
	return rc;
}
