/* sigguard.c - trampolines around the host's signal handlers (sigguard.h). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "guard.h"
#include "log.h"
#include "sigguard.h"
#include "wrap.h"

__thread int sigguard_depth __attribute__((tls_model("initial-exec")));
__thread unsigned sigguard_runs __attribute__((tls_model("initial-exec")));
/* The outermost active trampoline in this thread: the address of a token
 * in its frame, the token's value, and whether it runs on the alternate
 * signal stack. */
static __thread uintptr_t g_frame __attribute__((tls_model("initial-exec")));
static __thread uint64_t g_token __attribute__((tls_model("initial-exec")));
static __thread bool g_alt __attribute__((tls_model("initial-exec")));

/* The host's handler for each signal; 0 = none wrapped. */
static void *g_orig[_NSIG];
/* Installed with SA_RESETHAND (or System V signal()): delivery resets the
 * action, so a deferred one would meet SIG_DFL. Never deferred. */
static bool g_oneshot[_NSIG];

extern __sighandler_t sysv_signal(int sig, __sighandler_t h);
extern __sighandler_t bsd_signal(int sig, __sighandler_t h);

/* The stack grows down: a frame above the trampoline's means the handler
 * was left by a longjmp and the thread is back in its code; so does a
 * frame that no longer holds its token (later calls wrote over it: the
 * read hits this thread's stack, which stays mapped). On the alternate
 * stack addresses say nothing about the thread's stack: the handler is
 * left once the thread is off that stack (whose memory the host may since
 * have freed: not read). */
static __attribute__((noinline, no_sanitize_address)) bool handler_left(void)
{
	if (g_alt)
		return !guard_on_altstack();
	if ((uintptr_t)__builtin_frame_address(0) > g_frame)
		return true;
	return *(const volatile uint64_t *)g_frame != g_token;
}

bool sigguard_check(void)
{
	if (handler_left()) {
		sigguard_depth = 0;
		g_frame = 0;
		return false;
	}
	return true;
}

/* The host's handler for SIG, with the thread marked as in a handler from
 * TOK (in the trampoline's frame) on; NULL (nothing marked) when none.
 * errno is untouched. */
static void *enter(int sig, volatile uint64_t *tok)
{
	static __thread uint64_t seq __attribute__((tls_model("initial-exec")));
	uintptr_t frame = (uintptr_t)tok;
	void *h = sig > 0 && sig < _NSIG ? __atomic_load_n(&g_orig[sig], __ATOMIC_ACQUIRE) : NULL;
	/* a trampoline frame above the recorded one: that handler was left
	 * by longjmp and no call has cleared its mark since */
	if (h && sigguard_depth && !g_alt && frame > g_frame)
		sigguard_depth = 0;
	if (h && sigguard_depth == 0) {
		*tok = ++seq ^ ((uint64_t)frame << 16);
		g_token = *tok;
		g_frame = frame;
		g_alt = guard_on_altstack();
	}
	if (h) {
		sigguard_depth++;
		sigguard_runs++;
	}
	return h;
}

static void leave(void)
{
	if (sigguard_depth > 0 && --sigguard_depth == 0)
		g_frame = 0;
}

static void tramp_plain(int sig)
{
	/* the shim is at work: the handler runs when it pauses or ends */
	if (!g_oneshot[sig] && guard_defer(sig, NULL))
		return;
	volatile uint64_t tok = 0;
	void *h = enter(sig, &tok);
	if (h) {
		((void (*)(int))h)(sig);
		leave();
	}
}

static void tramp_info(int sig, siginfo_t *si, void *uc)
{
	if (!g_oneshot[sig] && guard_defer(sig, si))
		return;
	volatile uint64_t tok = 0;
	void *h = enter(sig, &tok);
	if (h) {
		((void (*)(int, siginfo_t *, void *))h)(sig, si, uc);
		leave();
	}
}

static bool is_handler(void *h)
{
	return h != (void *)SIG_DFL && h != (void *)SIG_IGN && h != (void *)SIG_ERR &&
	       h != (void *)SIG_HOLD;
}

/* What the host installed, for a value the kernel (or libc) reports. */
static void *host_view(int sig, void *h)
{
	if ((h == (void *)tramp_plain || h == (void *)tramp_info) && sig > 0 && sig < _NSIG)
		return __atomic_load_n(&g_orig[sig], __ATOMIC_ACQUIRE);
	return h;
}

static int w_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction mine;
	bool info = act && (act->sa_flags & SA_SIGINFO);
	void *h = act ? (info ? (void *)act->sa_sigaction : (void *)act->sa_handler) : NULL;
	void *prev =
	    sig > 0 && sig < _NSIG ? __atomic_load_n(&g_orig[sig], __ATOMIC_ACQUIRE) : NULL;
	if (act && sig > 0 && sig < _NSIG && is_handler(h)) {
		mine = *act;
		if (info)
			mine.sa_sigaction = tramp_info;
		else
			mine.sa_handler = tramp_plain;
		__atomic_store_n(&g_orig[sig], h, __ATOMIC_RELEASE);
		g_oneshot[sig] = act->sa_flags & SA_RESETHAND;
		act = &mine;
	}
	int rc = sigaction(sig, act, old);
	if (rc != 0 && act == &mine)
		__atomic_store_n(&g_orig[sig], prev, __ATOMIC_RELEASE);
	if (rc == 0 && old) {
		if (old->sa_flags & SA_SIGINFO)
			old->sa_sigaction = (void (*)(int, siginfo_t *, void *))host_view(
			    sig, (void *)old->sa_sigaction);
		else
			old->sa_handler = (__sighandler_t)host_view(sig, (void *)old->sa_handler);
	}
	return rc;
}

/* signal() and its variants: the same, through the real function so each
 * keeps its own flags (BSD or System V semantics). */
static __sighandler_t wrap_simple(__sighandler_t (*real)(int, __sighandler_t), int sig,
				  __sighandler_t h)
{
	if (sig <= 0 || sig >= _NSIG || !is_handler((void *)h))
		return (__sighandler_t)host_view(sig, (void *)real(sig, h));
	void *prev = __atomic_load_n(&g_orig[sig], __ATOMIC_ACQUIRE);
	__atomic_store_n(&g_orig[sig], (void *)h, __ATOMIC_RELEASE);
	g_oneshot[sig] = real == sysv_signal; /* System V semantics: SA_RESETHAND */
	__sighandler_t r = real(sig, tramp_plain);
	if (r == SIG_ERR) {
		__atomic_store_n(&g_orig[sig], prev, __ATOMIC_RELEASE);
		return r;
	}
	if (r == tramp_plain || (void *)r == (void *)tramp_info)
		return (__sighandler_t)prev;
	return r;
}

static __sighandler_t w_signal(int sig, __sighandler_t h)
{
	return wrap_simple(signal, sig, h);
}

static __sighandler_t w_sysv_signal(int sig, __sighandler_t h)
{
	return wrap_simple(sysv_signal, sig, h);
}

static __sighandler_t w_bsd_signal(int sig, __sighandler_t h)
{
	return wrap_simple(bsd_signal, sig, h);
}

/* sigset is obsolete, and deprecated in glibc's header; programs still call it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static __sighandler_t w_sigset(int sig, __sighandler_t h)
{
	return wrap_simple(sigset, sig, h);
}

static const struct wrap_fn g_tab[] = {
    {"sigaction", (void *)sigaction, (void *)w_sigaction},
    {"signal", (void *)signal, (void *)w_signal},
    {"sysv_signal", (void *)sysv_signal, (void *)w_sysv_signal},
    {"bsd_signal", (void *)bsd_signal, (void *)w_bsd_signal},
    {"sigset", (void *)sigset, (void *)w_sigset},
};
#pragma GCC diagnostic pop
#define NTAB (sizeof(g_tab) / sizeof(g_tab[0]))

int sigguard_arm(void)
{
	int npatched = 0;
	int rc = wrap_arm(g_tab, NTAB, &npatched);
	log_msg(TXC_LOG_DEBUG, "sigguard: %d signal call sites redirected", npatched);
	return rc;
}
